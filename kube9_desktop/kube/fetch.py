"""The ``api`` backend: async lists of Rows, objects and watches over pooled per-context clients.

Blocking client calls run in a bounded ``ThreadPoolExecutor`` per context (``options.workers`` threads, the
same
as the connection pool size) via ``loop.run_in_executor``, which works the same under plain asyncio and
qasync.
Each worker does the request, reads the raw bytes, parses them with orjson and builds the Rows, so the event
loop
(the GUI thread under qasync) only receives finished pages.

Lists ask for the server-side Table (the same columns kubectl prints, without downloading whole objects), page
with
``limit``/``continue`` and request the next page while the current one is being shown. A 410 on a continue
token
resumes from the token the server offers, or restarts the list and skips rows already delivered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import orjson

from kube9_desktop.kube.backend import ContextStats, KubeOptions, watch_silence_limit
from kube9_desktop.kube.client import (
    JSON,
    TABLE_ACCEPT,
    ContextClient,
    RequestInfo,
    make_client,
    transform_exception,
)
from kube9_desktop.kube.convert import row_from_object, row_from_table, rows_from_list, tree_columns
from kube9_desktop.kube.errors import WATCH_SILENT, ErrorKind, KubeError
from kube9_desktop.kube.exec_plugin import PluginProcesses
from kube9_desktop.kube.kinds import KINDS, Kind, kind_from_crd
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.rows import Column, ListRef, Page, Row, WatchEvent

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows asked for in a list's first page (later pages use ``options.page_size``). The server's cost, the bytes and
#: the parse all grow with the page: on a 10,000-pod namespace a 500-row Table page took ~25 ms to serve and 5–20 ms
#: to parse, a 100-row page ~8 ms and ~1 ms, so the first rows show that much sooner. The next page is requested as
#: soon as the first arrives, so the whole list costs one extra round trip at most.
FIRST_PAGE_LIMIT = 100

#: The version shown for a server whose ``/version`` answer is not a version (the rest of it may work).
UNKNOWN_VERSION = "version unknown"

#: Connection pool size of the per-context watch client (one connection per concurrent watch).
WATCH_POOL_SIZE = 64


def list_info(kind: Kind, namespace: str | None, verb: str = "list") -> RequestInfo:
    """The RequestInfo for listing ``kind`` (used to word errors)."""
    return RequestInfo(
        verb=verb,
        resource=kind.plural,
        group=kind.group,
        version=kind.version,
        namespace=namespace if kind.namespaced else None,
        namespaced=kind.namespaced,
    )


def watch_silent_error(ref: ListRef, kind: Kind, timeout_s: int, silence: float) -> KubeError:
    """The error for a watch that went silent (see :data:`~kube9_desktop.kube.errors.WATCH_SILENT`)."""
    where = f" in namespace {ref.namespace}" if ref.namespace and kind.namespaced else ""
    return KubeError(
        ErrorKind.TIMEOUT,
        "Watch went silent",
        f"The watch of {kind.plural}{where} sent nothing for {silence:.0f} s although the server was asked to end "
        f"it within {timeout_s} s: the connection is open, but no updates arrive.",
        "kube9 lists it again and re-opens the watch; a proxy or load balancer between you and the API server "
        "may be holding the stream.",
        reason=WATCH_SILENT,
        context=ref.context,
    )


def list_query(ref: ListRef, limit: int | None, cont: str | None) -> list[tuple[str, Any]]:
    """Query parameters of one list page request."""
    q: list[tuple[str, Any]] = [("includeObject", "Metadata")]
    if limit:
        q.append(("limit", int(limit)))
    if cont:
        q.append(("continue", cont))
    if ref.label_selector:
        q.append(("labelSelector", ref.label_selector))
    if ref.field_selector:
        q.append(("fieldSelector", ref.field_selector))
    return q


class _PageResult:
    __slots__ = ("cont", "remaining", "resource_version", "rows")

    def __init__(self, rows: list[Row], resource_version: str, cont: str | None, remaining: int | None) -> None:
        self.rows = rows
        self.resource_version = resource_version
        self.cont = cont
        self.remaining = remaining


#: API groups whose resources moved between versions across supported Kubernetes releases: writes ask discovery
#: which version a cluster serves before the first write (lists learn it from a 404 instead).
MOVED_GROUPS = frozenset({"batch", "networking.k8s.io", "policy", "autoscaling"})


class ApiBackend:
    """Lists, objects and watches through the official client's pooled connections (backend name ``api``).

    Args:
        kubeconfig: The merged kubeconfig.
        options: Page size, timeouts, workers, retries.
    """

    name = "api"

    def __init__(self, kubeconfig: Kubeconfig, options: KubeOptions, use_table: bool = True) -> None:
        self.kubeconfig = kubeconfig
        self.options = options
        #: Ask for server-side Tables (False: plain JSON lists, as from a server without Table support).
        self.use_table = use_table
        self._clients: dict[str, ContextClient] = {}
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._client_locks: dict[str, threading.Lock] = {}
        self._dropped: dict[str, ContextStats] = {}
        self._client_errors: dict[str, tuple[KubeError, float]] = {}
        # Client builds started ahead of the first request (:meth:`prepare`), kept until the context is dropped.
        self._preparing: dict[str, Future[None]] = {}
        self._want_spares: dict[str, int] = {}  # connections prepare() asked for, opened with the client
        self._spare_jobs: dict[str, list[threading.Thread]] = {}  # the threads opening them
        # (context, group, plural) → the API version the cluster actually serves, learned from discovery after
        # a 404 (e.g. CronJobs are batch/v1beta1 before Kubernetes 1.21, Ingresses networking.k8s.io/v1beta1
        # before 1.19); None when discovery found no other version.
        self._served: dict[tuple[str, str, str], str | None] = {}
        # Watches get their own client (and so their own connection pool) per context: a long-lived stream
        # holds its connection for minutes, and sharing the list pool would leave user lists waiting for one.
        self._watch_clients: dict[str, ContextClient] = {}
        self._watch_threads: set[threading.Thread] = set()
        # The exec credential plugins this backend runs: killed (process groups and all) when it closes, and none
        # started after, so quitting never waits for a hung plugin's timeout, nor runs one.
        self._plugins = PluginProcesses()

    # -- plumbing --------------------------------------------------------------------------------------------

    def _executor(self, context: str) -> ThreadPoolExecutor:
        with self._lock:
            return self._executor_locked(context)

    def _executor_locked(self, context: str) -> ThreadPoolExecutor:
        ex = self._executors.get(context)
        if ex is None:
            ex = ThreadPoolExecutor(
                max_workers=max(1, self.options.workers), thread_name_prefix=f"kube9-{context[:20]}"
            )
            self._executors[context] = ex
        return ex

    def client(self, context: str) -> ContextClient:
        """The context's client, created on first use (blocking: may run an exec plugin); raises KubeError."""
        with self._lock:
            c = self._clients.get(context)
            if c is not None:
                return c
            lock = self._client_locks.setdefault(context, threading.Lock())
        waiting_since = time.monotonic()
        with lock:  # one construction per context even when many workers start at once
            with self._lock:
                c = self._clients.get(context)
                failed = self._client_errors.get(context)
            if c is not None:
                return c
            if failed is not None and failed[1] >= waiting_since:
                # The attempt we queued behind just failed (e.g. a hanging exec plugin): share its error
                # instead of running the plugin again for every parallel list of this context.
                raise failed[0]
            try:
                c = make_client(self.kubeconfig, context, self.options, plugins=self._plugins)
            except KubeError as err:
                with self._lock:
                    self._client_errors[context] = (err, time.monotonic())
                raise
            with self._lock:
                want = self._want_spares.pop(context, 0)
            # Taken before the client is published: a request that comes next waits for these connections
            # rather than open its own.
            spares = c.take_spares(min(want, max(1, self.options.workers))) if want else []
            with self._lock:
                self._clients[context] = c
                self._client_errors.pop(context, None)
                if spares:
                    # Threads of their own, not the workers: requests queued for a worker may be waiting for them.
                    threads = [threading.Thread(target=c.connect_spare, args=(sp,), name=f"kube9-connect-{i}",
                                                daemon=True) for i, sp in enumerate(spares)]
                    self._spare_jobs[context] = threads
                    for t in threads:
                        t.start()
            return c

    def prepare(self, context: str, connections: int = 0) -> None:
        """Get ready for ``context``'s first load without a request: build its client in a worker thread
        (kubeconfig parsing, TLS context, CA and client-certificate loading: ~5 ms of CPU, 15-20 ms on a loaded
        machine) and open ``connections`` pooled connections beside it (each a TCP connect and a TLS handshake,
        2-3 ms of CPU here and as much on the server; they were most of a cold top level's time). Requests made
        meanwhile wait for those connections rather than open more. A failure is left for the first request to
        meet again.

        Args:
            context: The context.
            connections: Connections to open (at most the pool's size): the requests the first load makes at
                once.
        """

        def build() -> None:
            try:
                self.client(context)
            except KubeError as err:
                log.debug("preparing %s failed: %s", context, err.one_line())

        with self._lock:
            if context in self._clients or context in self._preparing:
                return
            if connections:
                self._want_spares[context] = connections
            self._preparing[context] = self._executor_locked(context).submit(build)

    async def _run(self, context: str, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(context), fn)

    async def run(self, context: str, fn: Callable[[], T]) -> T:
        """Run blocking ``fn`` on the context's worker threads (writes and reviews share the list workers)."""
        return await self._run(context, fn)

    def served_kind(self, context: str, kind: Kind) -> Kind:
        """``kind`` at the version ``context`` serves (blocking: discovery the first time for groups whose
        resource may be served at another version, e.g. CronJobs as batch/v1beta1 before Kubernetes 1.21)."""
        key = (context, kind.group, kind.plural)
        if kind.group and key not in self._served and kind.group in MOVED_GROUPS:
            self._discover_version(context, kind)
            if self._served.get(key) is not None:
                # Another version exists; keep the kind's own if the server serves it too.
                self._served[key] = self._own_or_other(context, kind, self._served[key])
        return self._effective(context, kind)

    def _own_or_other(self, context: str, kind: Kind, other: str | None) -> str | None:
        client = self.client(context)
        try:
            doc = client.get_json(f"/apis/{segment(kind.group)}/{segment(kind.version)}",
                                  info=RequestInfo(verb="get", resource=kind.group, version=kind.version))
        except KubeError:
            return other
        if any(r.get("name") == kind.plural for r in (doc or {}).get("resources") or []):
            return kind.version
        return other

    # -- lists -----------------------------------------------------------------------------------------------

    def _fetch_page(self, ref: ListRef, kind: Kind, cont: str | None, limit: int | None) -> _PageResult:
        client = self.client(ref.context)
        started = time.perf_counter()
        info = list_info(kind, ref.namespace)
        accept = TABLE_ACCEPT if self.use_table else JSON
        query = list_query(ref, limit, cont)
        if not self.use_table:
            query = [q for q in query if q[0] != "includeObject"]
        resp = client.request(kind.list_path(ref.namespace), query, accept, info)
        try:
            body = orjson.loads(resp.body)
        except orjson.JSONDecodeError as exc:
            raise transform_exception(exc, context=ref.context, server=client.server) from None
        if not isinstance(body, dict):
            raise KubeError(
                ErrorKind.PROTOCOL,
                "Bad response",
                f"Unexpected list response from {client.server}.",
                context=ref.context,
            )
        rows = rows_from_list(kind, body)
        meta = body.get("metadata") or {}
        client.record_latency((time.perf_counter() - started) * 1000.0)
        return _PageResult(
            rows,
            meta.get("resourceVersion") or "",
            meta.get("continue") or None,
            meta.get("remainingItemCount"),
        )

    def _effective(self, context: str, kind: Kind) -> Kind:
        """``kind`` with the API version this context is known to serve (no I/O)."""
        version = self._served.get((context, kind.group, kind.plural))
        return dataclasses.replace(kind, version=version) if version and version != kind.version else kind

    def _discover_version(self, context: str, kind: Kind) -> str | None:
        """Find another served version of ``kind``'s group that has its resource (blocking; worker thread)."""
        key = (context, kind.group, kind.plural)
        if key in self._served:
            return self._served[key]
        found: str | None = None
        client = self.client(context)
        try:
            group = client.get_json(f"/apis/{segment(kind.group)}", info=RequestInfo(verb="get", resource=kind.group))
            versions = [v.get("version") for v in (group or {}).get("versions") or []]
            preferred = ((group or {}).get("preferredVersion") or {}).get("version")
            ordered = [preferred, *versions] if preferred else versions
            for version in dict.fromkeys(v for v in ordered if v and v != kind.version):
                doc = client.get_json(f"/apis/{segment(kind.group)}/{segment(version)}",
                                      info=RequestInfo(verb="get", resource=kind.group, version=version))
                if any(r.get("name") == kind.plural for r in (doc or {}).get("resources") or []):
                    found = version
                    break
        except KubeError as err:
            log.debug("discovery of %s in %s failed: %s", kind.kubectl_resource, context, err.one_line())
            return None  # not remembered: a transient failure may pass
        self._served[key] = found
        return found

    async def list_pages(self, ref: ListRef, kind: Kind) -> AsyncIterator[Page]:
        """Stream the list ``ref`` page by page; the next page is requested while this one is consumed.

        Raises:
            KubeError: On any failure (a 410 on a continue token is handled transparently).
        """
        loop = asyncio.get_running_loop()
        ex = self._executor(ref.context)
        limit = self.options.page_size
        kind = self._effective(ref.context, kind)
        rediscovered = not kind.group  # only grouped APIs change versions across Kubernetes releases
        seen: set[str] | None = None  # uids already delivered, kept only after a restart
        delivered: set[str] = set()

        def fetch(cont: str | None) -> asyncio.Future[_PageResult]:
            lim = limit if cont or not limit else min(limit, FIRST_PAGE_LIMIT)
            return loop.run_in_executor(ex, self._fetch_page, ref, kind, cont, lim)

        cont: str | None = None
        fut = fetch(None)
        try:
            while True:
                try:
                    result = await fut
                except KubeError as err:
                    if err.kind is ErrorKind.NOT_FOUND and cont is None and not delivered and not rediscovered:
                        # The kinds table names the current API version; older clusters serve another one.
                        rediscovered = True
                        version = await loop.run_in_executor(ex, self._discover_version, ref.context, kind)
                        if version is None:
                            raise
                        kind = dataclasses.replace(kind, version=version)
                        fut = fetch(None)
                        continue
                    if err.kind is not ErrorKind.GONE or cont is None:
                        raise
                    offered = ((err.details or {}).get("metadata") or {}).get("continue")
                    if offered:
                        log.debug("list %s: continue token expired, resuming from the offered token", ref)
                        cont = offered
                    else:
                        log.debug("list %s: continue token expired, restarting the list", ref)
                        cont = None
                        seen = set(delivered)
                    fut = fetch(cont)
                    continue
                cont = result.cont
                if cont:
                    fut = fetch(cont)  # request the next page before handing this one out
                rows = result.rows
                if seen is not None:
                    rows = [r for r in rows if r.uid not in seen]
                if seen is not None or cont:
                    delivered.update(r.uid for r in rows)
                yield Page(
                    rows=rows,
                    resource_version=result.resource_version,
                    remaining=result.remaining,
                    last=not cont,
                )
                if not cont:
                    return
        finally:
            if not fut.done():
                # An abandoned prefetched page: cancel it, or at least consume its outcome so asyncio does
                # not log "exception was never retrieved".
                fut.cancel()
                fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    # -- single requests -------------------------------------------------------------------------------------

    async def get_object(self, context: str, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """One object as a plain dict (orjson, no model classes); raises KubeError."""
        kind = self._effective(context, kind)
        info = RequestInfo(
            verb="get",
            resource=kind.plural,
            group=kind.group,
            version=kind.version,
            namespace=namespace if kind.namespaced else None,
            name=name,
            namespaced=kind.namespaced,
        )

        def job() -> dict[str, Any]:
            data = self.client(context).get_json(
                kind.object_path(name, namespace if kind.namespaced else None), info=info
            )
            return data if isinstance(data, dict) else {}

        return await self._run(context, job)

    async def server_version(self, context: str) -> str:
        """The server's ``gitVersion`` (:data:`UNKNOWN_VERSION` when the answer is not one); raises KubeError."""

        def job() -> str:
            resp = self.client(context).request("/version", info=RequestInfo(verb="get", resource="version"))
            try:
                data = orjson.loads(resp.body)
            except orjson.JSONDecodeError:
                data = None
            version = data.get("gitVersion") if isinstance(data, dict) else None
            if not isinstance(version, str):
                # Lists may still work (a proxy mangling only /version, a half-broken aggregator): the tree is
                # shown and the version noted as unknown, instead of one error hiding the whole cluster.
                log.warning("context %s: /version answered %d bytes that are not a version", context,
                            len(resp.body))
                return UNKNOWN_VERSION
            return version

        return await self._run(context, job)

    async def custom_kinds(self, context: str) -> list[Kind]:
        """Kinds defined by the cluster's CRDs (plain JSON list, mapped with ``kind_from_crd``)."""
        crd_kind = KINDS["customresourcedefinitions"]

        def job() -> list[Kind]:
            data = self.client(context).get_json(crd_kind.list_path(), info=list_info(crd_kind, None))
            out = []
            for item in (data or {}).get("items") or []:
                k = kind_from_crd(item)
                if k is not None:
                    out.append(k)
            return sorted(out, key=lambda k: k.key)

        return await self._run(context, job)

    # -- watch -----------------------------------------------------------------------------------------------

    async def watch(self, ref: ListRef, kind: Kind, resource_version: str) -> AsyncIterator[WatchEvent]:
        """Stream watch events for ``ref`` from ``resource_version`` (Table rows, bookmarks on).

        The stream ends when the server closes it (``timeoutSeconds``); the caller re-watches from the last
        event's resource version. A dedicated thread reads the stream so long watches never occupy list
        workers.

        Raises:
            KubeError: ``GONE`` when the resource version is too old (410), or any request failure.
        """
        loop = asyncio.get_running_loop()
        kind = self._effective(ref.context, kind)
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
        timeout_s = max(1, round(self.options.watch_timeout))
        silence = watch_silence_limit(timeout_s)
        streaming = threading.Event()

        def reader() -> None:
            try:
                client = self._watch_client(ref.context)
                q = list_query(ref, None, None)
                q += [
                    ("watch", "true"),
                    ("resourceVersion", resource_version),
                    ("allowWatchBookmarks", "true"),
                    ("timeoutSeconds", timeout_s),
                ]
                raw = client.open(
                    kind.list_path(ref.namespace),
                    q,
                    TABLE_ACCEPT,
                    read_timeout=silence,
                )
                holder["raw"] = raw
                if stop.is_set():  # the consumer left while the request was starting
                    raw.release_conn()
                    put(("end", None))
                    return
                if raw.status >= 300:
                    body = raw.data
                    raw.release_conn()
                    from kube9_desktop.kube.status_errors import error_from_status

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
                server = self._clients[ref.context].server if ref.context in self._clients else ""
                err = transform_exception(exc, context=ref.context, server=server, options=self.options)
                if streaming.is_set() and err.kind is ErrorKind.TIMEOUT:
                    err = watch_silent_error(ref, kind, timeout_s, silence)
                put(("error", err))

        def run_reader() -> None:
            try:
                reader()
            finally:
                with self._lock:
                    self._watch_threads.discard(threading.current_thread())

        thread = threading.Thread(target=run_reader, name=f"kube9-watch-{ref.kind}", daemon=True)
        with self._lock:
            self._watch_threads.add(thread)
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
                    c = self._clients.get(ref.context)
                    raise transform_exception(payload, context=ref.context, server=c.server if c else "",
                                              options=self.options) from None
                event = payload
                etype = event.get("type", "")
                obj = event.get("object") or {}
                if etype == "ERROR":
                    from kube9_desktop.kube.status_errors import error_from_status, kubectl_kubeconfig

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

    def _watch_client(self, context: str) -> ContextClient:
        """The context's watch client (blocking on first use: may run an exec plugin); raises KubeError."""
        with self._lock:
            c = self._watch_clients.get(context)
        if c is not None:
            return c
        # Same exec credential as the list client: a login plugin runs once per context, not once per client.
        shared = self.client(context).exec_auth
        c = make_client(self.kubeconfig, context, dataclasses.replace(self.options, workers=WATCH_POOL_SIZE),
                        shared, self._plugins)
        with self._lock:
            other = self._watch_clients.setdefault(context, c)
        if other is not c:
            c.close()
        return other

    def watch_threads(self) -> int:
        """How many watch reader threads are still running (they end shortly after their watch is closed)."""
        with self._lock:
            return sum(1 for t in self._watch_threads if t.is_alive())

    # -- lifecycle -------------------------------------------------------------------------------------------

    def stats(self, context: str) -> ContextStats:
        """Counters for ``context`` (zeros before its first request)."""
        with self._lock:
            c = self._clients.get(context)
            wc = self._watch_clients.get(context)
        if c is None:
            return self._dropped.get(context, ContextStats())
        stats = c.stats()
        if wc is not None:  # watches hold their own pool's connections open: they count as open too
            stats.open_connections += wc.stats().open_connections
        return stats

    def set_options(self, options: KubeOptions) -> None:
        """Apply new options; a new worker count takes effect for new contexts / after drop_context."""
        self.options = options
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.set_options(options)

    def drop_context(self, context: str) -> None:
        """Close the context's client and worker threads."""
        with self._lock:
            c = self._clients.pop(context, None)
            wc = self._watch_clients.pop(context, None)
            ex = self._executors.pop(context, None)
            self._client_errors.pop(context, None)
            self._preparing.pop(context, None)
            self._spare_jobs.pop(context, None)
            self._want_spares.pop(context, None)
            for key in [k for k in self._served if k[0] == context]:
                del self._served[key]
        for client in (c, wc):
            if client is not None:
                client.close()
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """Close every client and worker pool; stop running exec plugins and start no more."""
        self._plugins.close()
        with self._lock:
            contexts = set(self._clients) | set(self._executors) | set(self._watch_clients)
        for ctx in contexts:
            self.drop_context(ctx)
