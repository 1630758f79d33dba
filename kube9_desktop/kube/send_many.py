"""Several GETs of one context in flight together from one thread (:func:`request_many`), for the burst of a
context's first requests (:mod:`.burst`).

The client's own request path (:meth:`.ContextClient.request`) makes one request per call, with its re-authentication
and retries; this sends many at once on the client's pooled connections with a selector and reads the answers as
they come, and hands whatever needs those (a 401, a 429, a 5xx, a connection that failed) back to it.
"""

from __future__ import annotations

import selectors
import time
from collections.abc import Iterator, Sequence
from typing import Any

from kube9_desktop.kube.client import USER_AGENT, ContextClient, url_query
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.pool import has_idle
from kube9_desktop.kube.responses import Response
from kube9_desktop.kube.status_errors import RequestInfo, deadline_error, error_from_status

#: How often :func:`request_many` looks for a connection that was being opened (seconds).
_OPENING_POLL_S = 0.002


def request_many(
    client: ContextClient, requests: Sequence[tuple[str, Sequence[tuple[str, Any]], str, RequestInfo | None]],
    width: int | None = None,
) -> Iterator[tuple[int, Response | KubeError]]:
    """GET several paths at once through ``client`` from one thread: each sent on a pooled connection of its own (no
    more at once than the context has worker threads; a connection whose answer is read takes the next request),
    the answers read as they arrive; yields (index, the 2xx Response or the KubeError it ended in) in the order they
    came. ``width``: at most this many at once (default: as many as the context has worker threads).

    The requests are in flight at the server together, as from as many worker threads, without a thread each on
    this side (a thread wake-up and a GIL hand-off per request: most of a cold top level's own time, see
    docs/performance.md). Only the first attempt is made this way: an error status is mapped as
    :meth:`.ContextClient.request` maps it, and a request that failed, was refused for its credentials (401) or is
    worth a retry (429, 5xx) is made again by :meth:`.ContextClient.request` (its re-authentication and retries),
    in this thread. A pool behind a proxy, or a single request, goes through :meth:`.ContextClient.request` alone.
    """
    if len(requests) < 2 or not _can_multiplex(client):
        for i, (path, query, accept, info) in enumerate(requests):
            yield i, _one(client, path, query, accept, info)
        return
    client._sync_exec()
    transport = client._transport
    authorization = transport.authorization()
    pool = transport.pool_manager.connection_from_url(client.server)
    connect, read = client._timeout()
    waiting = list(range(len(requests)))[::-1]  # popped from the end: in the order given
    # As many at once as the worker threads would (or fewer: the workers may need connections of the pool meanwhile).
    width = min(len(requests), max(1, width or client.options.workers))
    again: list[int] = []  # made again by request() at the end
    sel = selectors.DefaultSelector()

    def put_back(conn: Any, broken: bool) -> None:
        if broken:
            conn.close()  # its slot goes back empty; the pool opens a new connection there when needed
        pool._put_conn(conn)

    def top_up() -> None:
        """Send waiting requests on connections from the pool: the first one whatever it takes (nothing is in
        flight to read meanwhile), more while an idle connection is at hand, up to ``width`` at once."""
        while waiting and not client._closed and len(sel.get_map()) < width and (not sel.get_map() or has_idle(pool)):
            send(None)

    def send(conn: Any | None) -> None:
        """Send the next waiting request (on ``conn``, else on a connection from the pool); none once the client is
        closed (the app is closing: what waits is left to request(), which sends nothing then)."""
        while waiting and not client._closed:
            i = waiting.pop()
            path, query, accept, _ = requests[i]
            headers = {"Accept": accept, "User-Agent": USER_AGENT}
            if authorization:
                headers["authorization"] = authorization
            try:
                if conn is None:
                    conn = pool._get_conn()
                conn.timeout = connect
                with client._stats.lock:
                    client._stats.requests += 1
                conn.request("GET", path + ("?" + url_query(query) if query else ""), headers=headers,
                             preload_content=False, decode_content=False)
                conn.timeout = read
                sel.register(conn.sock, selectors.EVENT_READ, (i, conn))
                return
            except Exception:  # refused, reset, timed out: request() makes it again and says what happened
                if conn is not None:
                    put_back(conn, True)
                    conn = None
                again.append(i)
        if conn is not None:
            put_back(conn, False)

    try:
        with client.deadline() as deadline:
            top_up()
            quiet_until = time.monotonic() + read
            while sel.get_map():
                # While connections are still being opened (prepare's spares) and requests wait for them,
                # look again every few ms: an answer is not held up behind the next connection's handshake.
                opening = bool(waiting) and getattr(getattr(pool, "warming", None), "pending", 0) > 0
                ready = sel.select(_OPENING_POLL_S if opening else max(0.0, quiet_until - time.monotonic()))
                if not ready:
                    if time.monotonic() >= quiet_until:
                        break  # the read timeout passed: what is left is made again by request()
                    top_up()
                    continue
                quiet_until = time.monotonic() + read
                for key, _ in ready:
                    i, conn = key.data
                    sel.unregister(key.fileobj)
                    try:
                        raw = conn.getresponse()
                        data = client._read_body(raw, requests[i][3])
                    except Exception:  # too large, dropped, timed out
                        put_back(conn, True)
                        again.append(i)
                        top_up()
                        continue
                    if deadline.fired:  # the deadline shut the socket: what arrived so far is not the answer
                        put_back(conn, True)
                        again.append(i)
                        continue
                    with client._stats.lock:
                        client._stats.bytes_received += len(data)
                    # Read to its end: the connection takes the next request (one the server closed has no
                    # socket now and connects again when it sends).
                    send(conn)
                    top_up()
                    if 200 <= raw.status < 300:
                        yield i, Response(raw.status, raw.headers, data)
                        continue
                    err = error_from_status(raw.status, data, raw.headers, context=client.context,
                                            server=client.server, info=requests[i][3],
                                            exec_command=client.exec_command, kubeconfig=client.kubectl_kubeconfig)
                    if err.kind in (ErrorKind.UNAUTHORIZED, ErrorKind.THROTTLED, ErrorKind.SERVER):
                        again.append(i)  # re-authentication or retries: request() makes it again
                    else:  # a 403 or 404 is the answer: not asked twice
                        client._count_error()
                        yield i, client._finish(err)
            for key in list(sel.get_map().values()):  # not answered in time
                i, conn = key.data
                sel.unregister(key.fileobj)
                put_back(conn, True)
                again.append(i)
            again.extend(waiting)
            waiting.clear()
            if deadline.fired:
                for i in sorted(again):
                    yield i, deadline_error(client.server, deadline.seconds, client.context, requests[i][3])
                return
    finally:
        for key in list(sel.get_map().values()):  # the caller stopped early: nothing half-read goes back
            put_back(key.data[1], True)
        sel.close()
    for i in sorted(again):
        path, query, accept, info = requests[i]
        yield i, _one(client, path, query, accept, info)


def _can_multiplex(client: ContextClient) -> bool:
    """Whether requests may share a thread: a direct connection (not through a proxy)."""
    try:
        pool = client._transport.pool_manager.connection_from_url(client.server)
    except Exception:
        return False
    return getattr(pool, "proxy", None) is None


def _one(client: ContextClient, path: str, query: Sequence[tuple[str, Any]], accept: str,
         info: RequestInfo | None) -> Response | KubeError:
    try:
        return client.request(path, query, accept, info)
    except KubeError as err:
        return err
