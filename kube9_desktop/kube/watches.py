"""Watches of the ``api`` backend: a stream per watch, read by a thread of its own, on a client of their own.

A watch holds its connection for minutes, so each context's watches get their own :class:`ContextClient` (and so
their own connection pool, :data:`WATCH_POOL_SIZE` connections) sharing the list client's exec credential: user
lists never wait for a connection a watch holds. Each stream is read by a dedicated thread (never a list worker)
that parses the events with orjson and hands them to the event loop; the rows are built on the loop's side from the
Table the server sends (bookmarks on, a short ``timeoutSeconds``: silence past it is a watch that stopped
delivering with its connection still open).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from kube9_desktop.kube.backend import KubeOptions, WatchDeadline
from kube9_desktop.kube.client import TABLE_ACCEPT, ContextClient, make_client, transform_exception
from kube9_desktop.kube.convert import row_from_object, row_from_table, tree_columns
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.exec_plugin import PluginProcesses
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.list_request import list_info, list_query
from kube9_desktop.kube.rows import Column, ListRef, WatchEvent
from kube9_desktop.kube.status_errors import error_from_status, kubectl_kubeconfig

log = logging.getLogger(__name__)

#: Connection pool size of the per-context watch client (one connection per concurrent watch).
WATCH_POOL_SIZE = 64


def watch_silent_error(ref: ListRef, kind: Kind, deadline: WatchDeadline) -> KubeError:
    """The error for a watch that went silent (see :data:`~kube9_desktop.kube.errors.WATCH_SILENT`)."""
    where = f" in namespace {ref.namespace}" if ref.namespace and kind.namespaced else ""
    return deadline.silent_error(f"{kind.plural}{where}", ref.context)


class WatchStreams:
    """The watches of one :class:`~kube9_desktop.kube.fetch.ApiBackend`: per-context watch clients and threads.

    Args:
        kubeconfig: The merged kubeconfig.
        options: Timeouts, retries (the pool size is :data:`WATCH_POOL_SIZE`).
        plugins: The backend's running exec plugins.
        list_client: The context's list client (blocking on first use); its exec credential is shared.
        server_of: The server address of a context whose list client exists ("" otherwise), for error wording.
    """

    def __init__(self, kubeconfig: Kubeconfig, options: KubeOptions, plugins: PluginProcesses,
                 list_client: Callable[[str], ContextClient], server_of: Callable[[str], str]) -> None:
        self.kubeconfig = kubeconfig
        self.options = options
        self._plugins = plugins
        self._list_client = list_client
        self._server_of = server_of
        self._lock = threading.Lock()
        self._clients: dict[str, ContextClient] = {}
        self._threads: set[threading.Thread] = set()

    # -- watch -----------------------------------------------------------------------------------------------

    async def watch(self, ref: ListRef, kind: Kind, resource_version: str) -> AsyncIterator[WatchEvent]:
        """Stream watch events for ``ref`` from ``resource_version`` (Table rows, bookmarks on).

        The stream ends when the server closes it (``timeoutSeconds``); the caller re-watches from the last
        event's resource version. A dedicated thread reads the stream so long watches never occupy list
        workers.

        Raises:
            KubeError: ``GONE`` when the resource version is too old (410), or any request failure.

        ``kind`` is at the version the context serves (the backend's ``served_kind``).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        holder: dict[str, Any] = {}

        def put(item: tuple[str, Any]) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody will read this stream again
                stop.set()

        # A short timeoutSeconds with bookmarks: a healthy server ends the stream by then, so silence past it
        # (plus a margin) is a watch that stopped delivering with its connection still open.
        deadline = WatchDeadline.of(self.options)
        streaming = threading.Event()

        def reader() -> None:
            try:
                client = self.client(ref.context)
                q = list_query(ref, None, None)
                q += [("watch", "true"), ("resourceVersion", resource_version), *deadline.query()]
                raw = client.open(
                    kind.list_path(ref.namespace),
                    q,
                    TABLE_ACCEPT,
                    read_timeout=deadline.silence,
                )
                holder["raw"] = raw
                if stop.is_set():  # the consumer left while the request was starting
                    raw.release_conn()
                    put(("end", None))
                    return
                if raw.status >= 300:
                    body = raw.data
                    raw.release_conn()
                    put(
                        (
                            "error",
                            error_from_status(
                                raw.status,
                                body,
                                raw.headers,
                                context=ref.context,
                                server=client.server,
                                info=list_info(kind, ref.namespace, "watch"),
                                kubeconfig=client.kubectl_kubeconfig,
                            ),
                        )
                    )
                    return
                def parsed(line: bytes) -> bool:
                    # Parsed here, off the event loop, like list pages; a malformed line ends the stream.
                    try:
                        event = orjson.loads(line)
                        if not isinstance(event, dict):
                            raise ValueError("a watch event is not a JSON object")
                    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
                        put(("malformed", exc))
                        return False
                    put(("event", event))
                    return True

                buf = b""
                streaming.set()
                for chunk in raw.stream(64 * 1024, decode_content=True):
                    if stop.is_set():
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip() and not parsed(line):
                            raw.close()  # the rest of this stream is not to be trusted: never reuse it
                            raw.release_conn()
                            return
                if buf.strip() and not stop.is_set() and not parsed(buf):
                    raw.close()
                    raw.release_conn()
                    return
                raw.release_conn()
                put(("end", None))
            except Exception as exc:
                if stop.is_set():
                    put(("end", None))
                    return
                server = self._server_of(ref.context)
                err = transform_exception(exc, context=ref.context, server=server, options=self.options)
                if streaming.is_set() and err.kind is ErrorKind.TIMEOUT:
                    err = watch_silent_error(ref, kind, deadline)
                put(("error", err))

        def run_reader() -> None:
            try:
                reader()
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run_reader, name=f"kube9-watch-{ref.kind}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        columns: list[str] = []
        shown: tuple[Column, ...] = ()
        try:
            while True:
                what, payload = await queue.get()
                if what == "end":
                    return
                if what == "error":
                    raise payload
                if what == "malformed":
                    # A malformed watch line is a protocol error the user can read, like a malformed list.
                    raise transform_exception(payload, context=ref.context, server=self._server_of(ref.context),
                                              options=self.options) from None
                event = payload
                etype = event.get("type", "")
                obj = event.get("object") or {}
                if etype == "ERROR":
                    code = int(obj.get("code") or 500)
                    raise error_from_status(
                        code,
                        orjson.dumps(obj),
                        None,
                        context=ref.context,
                        server="",
                        info=list_info(kind, ref.namespace, "watch"),
                        kubeconfig=kubectl_kubeconfig(self.kubeconfig, ref.context),
                    )
                if obj.get("kind") == "Table":
                    if obj.get("columnDefinitions"):
                        columns = [c.get("name", "") for c in obj["columnDefinitions"]]
                        shown = tree_columns(kind, obj["columnDefinitions"])
                    rows = obj.get("rows") or []
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or ""
                    if etype == "BOOKMARK" or not rows:
                        if not rv and rows:
                            rv = ((rows[0].get("object") or {}).get("metadata") or {}).get("resourceVersion", "")
                        yield WatchEvent(type=etype, row=None, resource_version=rv)
                        continue
                    for r in rows:
                        row = row_from_table(kind, columns, r, shown)
                        yield WatchEvent(type=etype, row=row, resource_version=row.resource_version or rv)
                else:
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or ""
                    if etype == "BOOKMARK":
                        yield WatchEvent(type=etype, row=None, resource_version=rv)
                    else:
                        yield WatchEvent(type=etype, row=row_from_object(kind, obj), resource_version=rv)
        finally:
            stop.set()
            raw = holder.get("raw")
            if raw is not None:
                try:
                    raw.shutdown() if hasattr(raw, "shutdown") else raw.close()
                except RuntimeError:
                    pass  # the stream already ended and its connection went back to the pool: nothing to stop
                except Exception:
                    log.debug("closing watch stream failed", exc_info=True)

    def client(self, context: str) -> ContextClient:
        """The context's watch client (blocking on first use: may run an exec plugin); raises KubeError."""
        with self._lock:
            c = self._clients.get(context)
        if c is not None:
            return c
        # Same exec credential as the list client: a login plugin runs once per context, not once per client.
        shared = self._list_client(context).exec_auth
        c = make_client(self.kubeconfig, context, dataclasses.replace(self.options, workers=WATCH_POOL_SIZE),
                        shared, self._plugins)
        with self._lock:
            other = self._clients.setdefault(context, c)
        if other is not c:
            c.close()
        return other

    def threads(self) -> int:
        """How many watch reader threads are still running (they end shortly after their watch is closed)."""
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive())

    def existing(self, context: str) -> ContextClient | None:
        """The context's watch client if one was made (no I/O)."""
        with self._lock:
            return self._clients.get(context)

    def contexts(self) -> set[str]:
        """The contexts that have a watch client."""
        with self._lock:
            return set(self._clients)

    def drop(self, context: str) -> ContextClient | None:
        """Forget the context's watch client and return it, for the caller to close."""
        with self._lock:
            return self._clients.pop(context, None)
