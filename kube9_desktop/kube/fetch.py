"""The ``api`` backend: async lists of Rows, objects and watches over pooled per-context clients.

Blocking client calls run in a bounded ``ThreadPoolExecutor`` per context (``options.workers`` threads, the same as
the connection pool size) via ``loop.run_in_executor``, which works the same under plain asyncio and qasync. Each
worker does the request, reads the raw bytes, parses them with orjson and builds the Rows, so the event loop (the
GUI thread under qasync) only receives finished pages.

Lists ask for the server-side Table (the same columns kubectl prints, without downloading whole objects), page with
``limit``/``continue`` and request the next page while the current one is being shown. A 410 on a continue token
(the snapshot the pages come from was compacted away) starts the list over, as client-go's pager does, and marks the
first page of the new list ``restarted``: the token a current server offers with the 410 would continue an
*inconsistent* list, whose rows before the resume point stay as they were at the old snapshot while the watch that
follows starts after it (a pod deleted meanwhile stayed in the tree for good, its replacement never appeared). Should
the new list expire too (a very busy cluster), the rest comes in one unpaged request. Watches are :mod:`.watches`'
job (their own clients and reader threads); this module owns the list clients and workers.
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

from kube9_desktop.kube.backend import ContextStats, KubeOptions
from kube9_desktop.kube.burst import Bursts
from kube9_desktop.kube.client import (
    JSON,
    TABLE_ACCEPT,
    ContextClient,
    RequestInfo,
    Response,
    make_client,
)
from kube9_desktop.kube.convert import rows_from_list
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.exec_plugin import PluginProcesses
from kube9_desktop.kube.gui_gate import GATE, checkpoint
from kube9_desktop.kube.kinds import KINDS, Kind, kind_from_crd
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.list_request import list_info, list_query
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.pool import expect_requests
from kube9_desktop.kube.rows import ListRef, Page, Row, WatchEvent
from kube9_desktop.kube.watches import WatchStreams

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows asked for in a list's first page (later pages use ``options.page_size``). The server's cost, the bytes and
#: the parse all grow with the page: on a 10,000-pod namespace a 500-row Table page took ~25 ms to serve and 5–20 ms
#: to parse, a 100-row page ~8 ms and ~1 ms, so the first rows show that much sooner. The next page is requested as
#: soon as the first arrives, so the whole list costs one extra round trip at most.
FIRST_PAGE_LIMIT = 100

#: The version shown for a server whose ``/version`` answer is not a version (the rest of it may work).
UNKNOWN_VERSION = "version unknown"

#: How long a burst opened by :meth:`ApiBackend.send_together` waits for its first request before it is dropped.
UNUSED_BURST_S = 0.05

VERSION_INFO = RequestInfo(verb="get", resource="version")

#: A prepared context's first requests are expected within this many seconds (what ``prepare`` starts ahead
#: waits for them that long).
PREPARED_WITHIN_S = 5.0


def start_workers(executor: ThreadPoolExecutor) -> None:
    """Start all of ``executor``'s worker threads now, from one of them (not the GUI thread).

    ``ThreadPoolExecutor`` starts a thread when a job is queued and it believes none is idle, and its idle count is
    a semaphore released once per finished job: after ``prepare``'s one job it believed a thread idle for the
    first request, and the top level's six requests ran on 1-5 threads (counted at load 12), the last ones queued
    behind the first. Threads started here wait for jobs; the burst then runs on as many threads as it has
    requests, each without its start-up (a thread start and a GIL wait: 1-5 ms each on a loaded machine).
    """
    # CPython's own way to add a thread (since 3.2), under the lock ``submit`` holds for it (since 3.9): called
    # without it, a submit from the loop meanwhile counted the same threads and started one too many.
    adjust = getattr(executor, "_adjust_thread_count", None)
    lock = getattr(executor, "_shutdown_lock", None)
    if adjust is None or lock is None:
        return
    for _ in range(executor._max_workers):
        with lock:
            if getattr(executor, "_shutdown", False):
                return  # the context was dropped meanwhile
            try:
                adjust()
            except RuntimeError:  # no new threads at interpreter shutdown: the requests start their own, or none
                return


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
        self.bursts = Bursts(self.client)  # requests a context makes at once, sent together
        # (context, group, plural) → the API version the cluster actually serves, learned from discovery after
        # a 404 (e.g. CronJobs are batch/v1beta1 before Kubernetes 1.21, Ingresses networking.k8s.io/v1beta1
        # before 1.19); None when discovery found no other version.
        self._served: dict[tuple[str, str, str], str | None] = {}
        # Watches get their own client (and so their own connection pool) per context: a long-lived stream
        # holds its connection for minutes, and sharing the list pool would leave user lists waiting for one.
        # The exec credential plugins this backend runs: killed (process groups and all) when it closes, and none
        # started after, so quitting never waits for a hung plugin's timeout, nor runs one.
        self._plugins = PluginProcesses()
        self._watches = WatchStreams(kubeconfig, options, self._plugins, self.client, self._server_of)

    # -- plumbing --------------------------------------------------------------------------------------------

    def _server_of(self, context: str) -> str:
        """The server of ``context``'s list client, "" before it exists (no I/O)."""
        with self._lock:
            c = self._clients.get(context)
        return c.server if c is not None else ""

    def _executor(self, context: str) -> ThreadPoolExecutor:
        with self._lock:
            return self._executor_locked(context)

    def _executor_locked(self, context: str) -> ThreadPoolExecutor:
        ex = self._executors.get(context)
        if ex is None:
            ex = ThreadPoolExecutor(
                # At the GUI thread's priority: at nice +5 a worker holding the GIL was put off by the busy
                # machine's other processes, and the window waited for it (docs/performance.md, goal 3).
                max_workers=max(1, self.options.workers), thread_name_prefix=f"kube9-{context[:20]}",
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
            # Threads of their own, not the workers: requests queued for a worker may be waiting for them.
            threads = [threading.Thread(target=c.connect_spare, args=(sp,), name=f"kube9-connect-{i}",
                                        daemon=True) for i, sp in enumerate(spares)]
            with self._lock:
                self._clients[context] = c
                self._client_errors.pop(context, None)
                if threads:
                    self._spare_jobs[context] = threads
            # Started outside the lock: each start waits for its thread to run, which on a busy machine (the GUI
            # thread importing, the sim on the other core) took up to 130 ms for the six, and the loop, asking
            # for the context's executor meanwhile, waited for that lock all along (traced: the top level's
            # requests queued 170 ms after its first).
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
            # The client and its connections first, the other worker threads after: each thread start is a GIL
            # hand-off (up to a switch interval while the GUI thread imports the model), and the handshakes are
            # the long part (traced in docs/performance.md).
            try:
                self.client(context)
            except KubeError as err:
                log.debug("preparing %s failed: %s", context, err.one_line())
            expect_requests(PREPARED_WITHIN_S)  # the deadlines' thread, not started by the first request then
            start_workers(executor)

        with self._lock:
            if context in self._clients or context in self._preparing:
                return
            if connections:
                self._want_spares[context] = connections
                if connections > 1:
                    self.bursts.start(context, connections)
            executor = self._executor_locked(context)
            self._preparing[context] = executor.submit(build)

    def send_together(self, context: str, expect: int) -> None:
        """The next ``expect`` list requests of ``context`` that start a list go out together from one thread (a
        :class:`.Burst`, as the top level's do), unless a burst is already open.

        Opening a namespace lists its ~28 kinds for their counts: on eight worker threads that was eight threads
        waking, each sending, reading and parsing a small answer, all asking for the GIL beside the GUI thread. The
        server still gets them all at once (as many at a time as the context has workers).
        """
        if expect >= 2:
            # Half the pool's connections: the workers go on meanwhile (the opened list's next pages, discovery, the
            # usage columns) and a context keeps to its pool's size.
            self.bursts.start(context, expect, unused_for=UNUSED_BURST_S, width=max(1, self.options.workers // 2))

    def _accept(self) -> str:
        return TABLE_ACCEPT if self.use_table else JSON

    def _list_query(self, ref: ListRef, limit: int | None) -> list[tuple[str, Any]]:
        query = list_query(ref, limit, None)
        return query if self.use_table else [q for q in query if q[0] != "includeObject"]

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
        checkpoint()  # each step of a page's work lets a paint of the window go first (kube.gui_gate)
        resp = client.request(kind.list_path(ref.namespace), query, accept, info)
        return self._page_from(ref, kind, client, resp, started)

    def _page_from(self, ref: ListRef, kind: Kind, client: ContextClient, resp: Response,
                   started: float) -> _PageResult:
        """A list page from its 2xx response (parsed, rows made, latency recorded); raises KubeError."""
        with GATE.lane():  # the parse and the rows made from it, one worker at a time (kube.gui_gate)
            body = client.parse(resp)
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
        delivered = False  # a page was handed out (a 404 then is not a version question)
        restarts = 0  # times the list started over after its continue token expired
        restarted = False  # the next page handed out is the first of a list started over

        def fetch(cont: str | None) -> asyncio.Future[_PageResult]:
            lim = limit if cont or not limit else min(limit, FIRST_PAGE_LIMIT)
            burst = None if cont else self.bursts.get(ref.context)
            if burst is not None:
                k, started = kind, time.perf_counter()
                return burst.add(
                    loop, k.list_path(ref.namespace), self._list_query(ref, lim), self._accept(),
                    list_info(k, ref.namespace), lambda client, resp: self._page_from(ref, k, client, resp, started))
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
                    # Not the token the 410 may offer: it continues an inconsistent list (see the module doc).
                    restarts += 1
                    restarted = restarted or delivered
                    if restarts > 1:
                        limit = 0  # expired again: the whole list in one request cannot expire
                    log.info("list %s: continue token expired, starting the list over%s", ref,
                             " in one request" if restarts > 1 else "")
                    cont = None
                    fut = fetch(None)
                    continue
                cont = result.cont
                if cont:
                    fut = fetch(cont)  # request the next page before handing this one out
                page = Page(
                    rows=result.rows,
                    resource_version=result.resource_version,
                    remaining=result.remaining,
                    last=not cont,
                    restarted=restarted,
                )
                delivered, restarted = True, False
                yield page
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
            return version_of(self.client(context).request("/version", info=VERSION_INFO))

        def version_of(resp: Response) -> str:
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

        burst = self.bursts.get(context)
        if burst is not None:
            return await burst.add(asyncio.get_running_loop(), "/version", [], JSON, VERSION_INFO,
                                   lambda client, resp: version_of(resp))
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
        """Stream watch events for ``ref`` from ``resource_version`` (see :meth:`.WatchStreams.watch`).

        Raises:
            KubeError: ``GONE`` when the resource version is too old (410), or any request failure.
        """
        async for event in self._watches.watch(ref, self._effective(ref.context, kind), resource_version):
            yield event

    def watch_client(self, context: str) -> ContextClient:
        """The context's watch client (blocking on first use: may run an exec plugin); raises KubeError.

        Its pool is sized for long-lived streams (watches, log follows)."""
        return self._watches.client(context)

    def watch_threads(self) -> int:
        """How many watch reader threads are still running (they end shortly after their watch is closed)."""
        return self._watches.threads()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def stats(self, context: str) -> ContextStats:
        """Counters for ``context`` (zeros before its first request)."""
        with self._lock:
            c = self._clients.get(context)
        wc = self._watches.existing(context)
        if c is None:
            return self._dropped.get(context, ContextStats())
        stats = c.stats()
        if wc is not None:  # watches hold their own pool's connections open: they count as open too
            stats.open_connections += wc.stats().open_connections
        return stats

    def set_options(self, options: KubeOptions) -> None:
        """Apply new options; a new worker count takes effect for new contexts / after drop_context."""
        self.options = options
        self._watches.options = options
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.set_options(options)

    def drop_context(self, context: str) -> None:
        """Close the context's client and worker threads."""
        with self._lock:
            c = self._clients.pop(context, None)
            ex = self._executors.pop(context, None)
            self._client_errors.pop(context, None)
            self._preparing.pop(context, None)
            self._spare_jobs.pop(context, None)
            self._want_spares.pop(context, None)
            for key in [k for k in self._served if k[0] == context]:
                del self._served[key]
        self.bursts.forget(context)
        wc = self._watches.drop(context)
        for client in (c, wc):
            if client is not None:
                client.close()
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """Close every client and worker pool; stop running exec plugins and start no more."""
        self._plugins.close()
        with self._lock:
            contexts = set(self._clients) | set(self._executors)
        contexts |= self._watches.contexts()
        for ctx in contexts:
            self.drop_context(ctx)
