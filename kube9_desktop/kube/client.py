"""The context client: requests through one pooled, authenticated transport per context.

:class:`ContextClient` (built and authenticated by :class:`~kube9_desktop.kube.client_auth.AuthenticatedApi`)
makes every request of one kubeconfig context. Every request carries a (connect, read) timeout; responses are read
raw (``_preload_content=False``) and parsed with orjson by the calling worker thread.

Requests: :meth:`ContextClient.request` / :meth:`ContextClient.get_json` are the retried GETs that lists, gets and
discovery use. :meth:`ContextClient.send` is the generic one-shot request (any method, path, query, body, headers,
content type, timeout) for writes (PUT/PATCH/POST/DELETE): never retried except a 401 answered by
re-authentication, since the request was refused before anything was written. :meth:`ContextClient.stream` opens
a request whose body is read as it arrives (watches, log follows) and returns a :class:`Stream` with ``iter`` /
``close``.

The client is split into one module per job, and ``kubernetes`` / ``urllib3`` are imported by those modules only:
:mod:`.client_auth` builds the transport (:mod:`.transport` reads the kubeconfig; :mod:`.library_client` alone
imports ``kubernetes``, for the users that need its loader) and this module alone sends requests through it;
:mod:`.pool` alone builds and extends urllib3's pools (connection counting, the shared TLS context);
:mod:`.status_errors` alone maps their exceptions and ``Status`` bodies into
:class:`~kube9_desktop.kube.errors.KubeError`; :mod:`.exec_plugin` runs exec credential plugins (no HTTP library).
No exception of either library leaves them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import urllib3

from kube9_desktop.kube.backend import ContextStats, KubeOptions
from kube9_desktop.kube.client_auth import AuthenticatedApi, ConnectSettings
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.exec_plugin import ExecAuth, ExecCredential, PluginProcesses
from kube9_desktop.kube.gui_gate import GATE, checkpoint
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.pool import (
    Deadline,
    connect_spare,
    request_deadline,
    shutdown_connection,
    speaks_tls,
    take_spares,
)
from kube9_desktop.kube.responses import ERROR_BODY_LIMIT, Response, Stream
from kube9_desktop.kube.server_url import looks_like_tls_port, note_assumed_scheme, wrong_scheme_error
from kube9_desktop.kube.status_errors import (
    RequestInfo,
    deadline_error,
    error_from_status,
    redact,
    too_large_error,
    transform_exception,
)

__all__ = [
    "JSON",
    "TABLE_ACCEPT",
    "ConnectSettings",
    "ContextClient",
    "ExecAuth",
    "ExecCredential",
    "RequestInfo",
    "Response",
    "Stream",
    "error_from_status",
    "make_client",
    "redact",
    "transform_exception",
]

log = logging.getLogger(__name__)

#: Longest ``Retry-After`` (seconds) waited out by an automatic retry; a server asking for more gets an error that
#: says when to come back.
MAX_RETRY_AFTER = 5.0

#: The ``User-Agent`` of every request.
USER_AGENT = "kube9-desktop"

JSON = "application/json"
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


class ContextClient(AuthenticatedApi):
    """One pooled, authenticated client for one kubeconfig context; thread-safe.

    Built and authenticated by :class:`~kube9_desktop.kube.client_auth.AuthenticatedApi` (same arguments); this
    class makes the requests.
    """

    # -- requests --------------------------------------------------------------------------------------------

    def stats(self) -> ContextStats:
        """A snapshot of this context's counters."""
        return self._stats.snapshot()

    def record_latency(self, ms: float) -> None:
        """Record the latency of one list page request."""
        with self._stats.lock:
            self._stats.latencies.append(ms)

    def take_spares(self, count: int) -> list[tuple[Any, Any]]:
        """Up to ``count`` connections to open ahead of the first requests (see :func:`.pool.take_spares`); each
        is opened with :meth:`connect_spare`, in parallel, and the requests that come meanwhile wait for them."""
        try:
            pool = self._transport.pool_manager.connection_from_url(self.server)
        except Exception:  # a URL urllib3 refuses: the first request reports it
            return []
        return [(pool, conn) for conn in take_spares(pool, count, self.options.connect_timeout)]

    def connect_spare(self, spare: tuple[Any, Any]) -> bool:
        """Open one connection from :meth:`take_spares` (TCP and TLS handshake, no request); blocking."""
        pool, conn = spare
        return connect_spare(pool, conn, self.options.connect_timeout)


    def _timeout(self, read: float | None = None) -> tuple[float, float]:
        return (self.options.connect_timeout, read if read is not None else self.options.read_timeout)

    def open(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        read_timeout: float | None = None,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Start a request and return the raw urllib3 response unread; raises on failure (library exceptions).

        The low-level call under :meth:`request`, :meth:`send` and :meth:`stream` (prefer those: they map every
        failure to a KubeError). The caller must read and ``release_conn()`` the response. Status errors are not
        raised here.

        Args:
            path: The URL path (already percent-encoded), e.g. ``/api/v1/namespaces/a/pods``.
            query: Query parameters, encoded here.
            accept: The ``Accept`` header.
            read_timeout: Seconds to wait for each read (default: the options' read timeout).
            method: The HTTP method.
            body: The request body, sent as it is.
            headers: More request headers (``Content-Type`` among them when there is a body).
        """
        self._sync_exec()
        transport = self._transport
        all_headers = {"Accept": accept, **(headers or {}), "User-Agent": USER_AGENT}
        authorization = transport.authorization()
        if authorization:
            all_headers["authorization"] = authorization
        url = transport.host + path
        if query:
            url += "?" + url_query(query)
        with self._stats.lock:
            self._stats.requests += 1
        connect, read = self._timeout(read_timeout)
        # Straight to the pool: the kubernetes ApiClient's REST layer re-encodes bodies by content type (a JSON
        # patch that is not a list becomes a strategic merge patch; bytes with a JSON content type fail). Every verb
        # authenticates alike, with the transport's current header.
        return transport.pool_manager.request(
            method,
            url,
            body=body,
            headers=all_headers,
            timeout=urllib3.Timeout(connect=connect, read=read),
            preload_content=False,
        )

    def _attempt(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, Any]],
        accept: str,
        info: RequestInfo | None,
        read_timeout: float | None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response | KubeError:
        """One request with its body read: the 2xx Response, or the KubeError it ended in (not raised).

        The whole exchange runs under the options' request deadline, and a body larger than the options' maximum
        response size is refused unread.
        """
        opts = self.options
        with self.deadline() as deadline:
            try:
                raw = self.open(path, query, accept, read_timeout, method=method, body=body, headers=headers)
                try:
                    data = self._read_body(raw, info)
                finally:
                    raw.release_conn()
                with self._stats.lock:
                    self._stats.bytes_received += len(data)
                status = raw.status
                if 200 <= status < 300:
                    return Response(status, raw.headers, data)
                return error_from_status(
                    status,
                    data,
                    raw.headers,
                    context=self.context,
                    server=self.server,
                    info=info,
                    exec_command=self.exec_command,
                    kubeconfig=self.kubectl_kubeconfig,
                )
            except KubeError as err:
                return err
            except Exception as exc:
                if deadline.fired:
                    return deadline_error(self.server, deadline.seconds, self.context, info)
                return transform_exception(
                    exc,
                    context=self.context,
                    server=self.server,
                    info=info,
                    options=opts,
                    exec_command=self.exec_command,
                    read_timeout=read_timeout,
                    kubeconfig=self.kubectl_kubeconfig,
                )

    def _read_body(self, raw: Any, info: RequestInfo | None) -> bytes:
        """The response body, at most ``options.max_response_bytes``; raises KubeError ``too_large``."""
        limit = self.options.max_response_bytes
        length = raw.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        if size is None or size <= limit:
            data: bytes = raw.read(limit + 1)
            if len(data) <= limit:
                return data
        # The rest is not read: the connection cannot be reused.
        raw.close()
        raise too_large_error(self.server, limit, self.context, info, size)

    def _finish(self, err: KubeError) -> KubeError:
        """The error as the user should read it, knowing this client's server address.

        An ``http://`` server that drops plain-HTTP requests (or answers Go's "HTTP request to an HTTPS server")
        and completes a TLS handshake is a kubeconfig problem, said on the first request instead of after a
        tree's worth of "connection closed"; a server address written without a scheme is named as such.
        """
        if self._closed:  # closing: a probe (a TLS handshake) would only keep the exit waiting
            return err
        if looks_like_tls_port(self.server, err):
            if self._speaks_tls is None:
                parts = urlsplit(self.server)
                self._speaks_tls = speaks_tls(parts.hostname or "", parts.port or 80, self.options.connect_timeout)
            if self._speaks_tls:
                return wrong_scheme_error(self.server, bool(self._assumed_scheme), self.context)
        return note_assumed_scheme(err, self._assumed_scheme)

    def _renew_after_401(self, err: KubeError, seen: ExecCredential | None, reauthed: bool) -> bool:
        """Whether a 401 was answered with a new credential worth one more try; raises the plugin's KubeError."""
        if err.kind is not ErrorKind.UNAUTHORIZED or reauthed or self.auth not in ("exec", "oidc", "token-file"):
            return False
        try:
            return self._reauthenticate(seen)
        except KubeError as auth_err:
            self._count_error()
            raise auth_err from None

    def request(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        info: RequestInfo | None = None,
        read_timeout: float | None = None,
    ) -> Response:
        """GET ``path`` with retries; returns the 2xx response with its body read; raises KubeError.

        429 is retried after ``Retry-After`` (when it asks for at most :data:`MAX_RETRY_AFTER` seconds) and 5xx /
        dropped connections with exponential backoff and jitter, up to ``options.retries`` times; a 401 triggers
        one re-authentication and one retry.
        """
        attempt = 0
        reauthed = False
        while True:
            if self._closed:  # the app is closing: a new request would only keep its exit waiting
                raise KubeError(ErrorKind.UNKNOWN, "Closing",
                                f"The request for {path} (context {self.context}) was not sent: kube9 is closing.",
                                context=self.context)
            self._sync_exec()
            seen = self._cred
            result = self._attempt("GET", path, query, accept, info, read_timeout)
            if isinstance(result, Response):
                return result
            err = result
            if self._renew_after_401(err, seen, reauthed):
                reauthed = True
                continue
            err = self._finish(err)
            retry = err.kind in (ErrorKind.THROTTLED, ErrorKind.SERVER) or (
                err.kind in (ErrorKind.UNREACHABLE, ErrorKind.PROTOCOL) and err.reason in ("reset", "truncated")
            )
            if err.retry_after is not None and err.retry_after > MAX_RETRY_AFTER:
                # Waiting an hour in a worker thread would keep the list "loading" all that time: the error says
                # when the server wants to be asked again, and the user decides.
                retry = False
            if retry and attempt < self.options.retries and not self._closed:
                attempt += 1
                if err.retry_after is not None:
                    delay = err.retry_after
                else:
                    delay = min(0.2 * 2 ** (attempt - 1), 5.0) * (0.5 + random.random())
                log.debug("context %s: %s %s, retry %d in %.2fs", self.context, path, err.kind, attempt, delay)
                time.sleep(delay)
                continue
            self._count_error()
            raise err

    def request_many(
        self, requests: Sequence[tuple[str, Sequence[tuple[str, Any]], str, RequestInfo | None]],
        width: int | None = None,
    ) -> Iterator[tuple[int, Response | KubeError]]:
        """GET several paths at once from one thread (see :func:`.send_many.request_many`)."""
        from kube9_desktop.kube.send_many import request_many  # it builds on this module

        return request_many(self, requests, width)

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, Any]] = (),
        body: bytes | str | Mapping[str, Any] | Sequence[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        accept: str = JSON,
        timeout: float | None = None,
        info: RequestInfo | None = None,
    ) -> Response:
        """One request of any verb (the way writes are made: PUT, PATCH, POST, DELETE); raises KubeError.

        Never retried blindly: a write that failed may have been applied. The one exception is a 401 that a
        re-authentication answers with a new credential (the server refused the request before acting on it).

        Args:
            method: ``GET``, ``PUT``, ``PATCH``, ``POST``, ``DELETE`` ...
            path: The URL path (percent-encoded by the caller).
            query: Query parameters (``dryRun``, ``fieldManager`` ...).
            body: Bytes or text sent as they are, or a mapping/list serialised as JSON.
            headers: More request headers.
            content_type: The body's type (``application/merge-patch+json``, ``application/apply-patch+yaml``
                ...); ``application/json`` when there is a body and none is given.
            accept: The ``Accept`` header.
            timeout: Seconds to wait for the answer (default: the options' read timeout).
            info: What the request is for, so an error can say it ("You cannot patch deployments ...").

        Returns:
            The 2xx response with its body read.
        """
        data: bytes | None
        if body is None or isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = orjson.dumps(body)
        all_headers = dict(headers or {})
        if data is not None:
            all_headers.setdefault("Content-Type", content_type or JSON)
        reauthed = False
        while True:
            self._sync_exec()
            seen = self._cred
            result = self._attempt(method.upper(), path, query, accept, info, timeout, data, all_headers)
            if isinstance(result, Response):
                return result
            if self._renew_after_401(result, seen, reauthed):
                reauthed = True
                continue
            self._count_error()
            raise self._finish(result)

    def stream(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        *,
        method: str = "GET",
        accept: str = JSON,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        info: RequestInfo | None = None,
    ) -> Stream:
        """Open a request whose body is read as it arrives (watches, log follows); raises KubeError.

        An error status is raised here (its body read, bounded). The returned :class:`Stream` must be closed by
        its owner (closing also ends a read blocked in another thread).

        Args:
            path: The URL path (percent-encoded by the caller).
            query: Query parameters (``watch=1``, ``follow=true`` ...).
            method: The HTTP method.
            accept: The ``Accept`` header.
            headers: More request headers.
            timeout: Seconds each read may wait for data (default: the options' read timeout).
            info: What the request is for (error wording).
        """
        reauthed = False
        while True:
            self._sync_exec()
            seen = self._cred
            err: KubeError
            try:
                raw = self.open(path, query, accept, timeout, method=method, headers=headers)
            except Exception as exc:
                err = transform_exception(exc, context=self.context, server=self.server, info=info,
                                          options=self.options, exec_command=self.exec_command)
            else:
                if 200 <= raw.status < 300:
                    return Stream(raw, self)
                try:
                    data = raw.read(ERROR_BODY_LIMIT)
                except Exception:  # the status says enough
                    data = b""
                finally:
                    raw.release_conn()
                err = error_from_status(raw.status, data, raw.headers, context=self.context, server=self.server,
                                        info=info, exec_command=self.exec_command,
                                        kubeconfig=self.kubectl_kubeconfig)
            if self._renew_after_401(err, seen, reauthed):
                reauthed = True
                continue
            self._count_error()
            raise self._finish(err)

    def _count_error(self) -> None:
        with self._stats.lock:
            self._stats.errors += 1

    def get_json(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        info: RequestInfo | None = None,
    ) -> Any:
        """GET and parse with orjson (in the calling worker thread, see :meth:`parse`); raises KubeError."""
        return self.parse(self.request(path, query, accept, info))

    def parse(self, resp: Response) -> Any:
        """``resp``'s JSON body (worker threads); raises KubeError.

        The parse takes the workers' lane and steps aside while the window paints (kube.gui_gate): orjson holds the
        GIL throughout, 6-7 ms for a page of 500 whole pods (the usage columns' requests and limits).
        """
        with GATE.lane():
            checkpoint()
            try:
                return orjson.loads(resp.body)
            except orjson.JSONDecodeError as exc:
                raise transform_exception(exc, context=self.context, server=self.server) from None

    def set_options(self, options: KubeOptions) -> None:
        """New timeouts/retries apply to the next request (pool size applies to new clients)."""
        self.options = options

    @contextmanager
    def deadline(self) -> Iterator[Deadline]:
        """The request deadline (see :func:`.pool.request_deadline`) of the requests the block makes, ended at once
        when the client closes: a request sent just as the app closed waited out its read timeout, and the app's
        exit with it."""
        with request_deadline(self.options.request_deadline) as d:
            with self._deadlines_lock:
                self._deadlines.add(d)
                closed = self._closed
            try:
                if closed:
                    d.expire()
                yield d
            finally:
                with self._deadlines_lock:
                    self._deadlines.discard(d)

    def close(self) -> None:
        """Close the pooled connections of this client (and of clients retired by re-authentication), and end its
        requests in flight."""
        with self._deadlines_lock:
            self._closed = True
            running = list(self._deadlines)
        for d in running:
            d.expire()
        with self._lock:
            for transport in [*self._retired, self._transport]:
                try:
                    transport.close()
                except Exception:  # closing must never fail the caller
                    log.debug("closing client for %s failed", self.context, exc_info=True)
            self._retired.clear()
        # The pools close idle connections only. A worker blocked reading from a server that never answers would
        # keep its thread (and the app's exit) waiting for the read timeout: shut those sockets down, so the read
        # ends now and the thread finishes.
        with self._stats.lock:
            conns = list(self._stats.live)
        for conn in conns:
            shutdown_connection(conn)


def url_query(query: Sequence[tuple[str, Any]]) -> str:
    """The query string of ``query``, encoded as the ``kubernetes`` client encodes it (booleans as ``true`` /
    ``false``, values percent-encoded, ``/`` kept)."""
    parts = []
    for key, value in query:
        if isinstance(value, bool):
            value = str(value).lower()
        parts.append(f"{key}={quote(str(value))}")
    return "&".join(parts)


def make_client(kubeconfig: Kubeconfig, context: str, options: KubeOptions,
                exec_auth: ExecAuth | None = None, plugins: PluginProcesses | None = None) -> ContextClient:
    """Create a :class:`ContextClient` (sharing ``exec_auth`` when given, its exec plugins run under
    ``plugins``), converting any failure into a KubeError."""
    try:
        return ContextClient(kubeconfig, context, options, exec_auth, plugins)
    except KubeError:
        raise
    except Exception as exc:
        raise transform_exception(exc, context=context, server="", options=options) from None
