"""The one object the UI talks to: lists through the cache, in-flight de-duplication, prefetch, errors as
values.

:class:`KubeService` hides which backend (``api`` or ``kubectl``) does the work. A list is an async generator
of
:class:`~kube9_desktop.kube.rows.Page`: a cache hit is one page with every row and no request; a miss streams
the
backend's pages and stores the complete list when the last page arrived. Asking for a list that is already
being
fetched joins that fetch (the late consumer first gets the pages already received, then the rest), so a
double-click or a prefetch racing a user expansion makes one request.

Everything fails with :class:`~kube9_desktop.kube.errors.KubeError`; nothing else escapes to the UI.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from kube9_desktop.gc_policy import tune_gc
from kube9_desktop.kube.backend import Backend, ContextStats, KubeOptions
from kube9_desktop.kube.cache import CacheStats, ListCache
from kube9_desktop.kube.discovery import info as discovery_info
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.in_flight import InFlight
from kube9_desktop.kube.kinds import CLUSTER_RESOURCE_KINDS, KINDS, Kind, TtlClass
from kube9_desktop.kube.known_kinds import KnownKinds
from kube9_desktop.kube.kubeconfig import ContextInfo, Kubeconfig
from kube9_desktop.kube.names import check_namespace, check_object_ref
from kube9_desktop.kube.rows import ListRef, Page, Row, WatchEvent

if TYPE_CHECKING:
    from kube9_desktop.kube.fetch import ApiBackend

log = logging.getLogger(__name__)

BACKENDS = ("api", "kubectl")

#: The lists of a context's top level (loaded with the server version when the context opens).
TOP_LEVEL_KINDS = ("nodes", "namespaces", *CLUSTER_RESOURCE_KINDS)

#: Prefetch lists allowed in flight at once (low priority: leaves the workers to what the user asked for).
PREFETCH_CONCURRENCY = 2
#: Discovery documents in flight at once (the same reason; aggregated discovery is two requests anyway).
DISCOVERY_CONCURRENCY = 2
#: Longest a discovery waits for the lists the user is waiting for before it starts (seconds).
DISCOVERY_YIELD_S = 1.0


class KubeService:
    """Cached, de-duplicated access to every context of a kubeconfig.

    Args:
        kubeconfig: The merged kubeconfig.
        options: Data-layer options (defaults if omitted).
        backend: ``api`` (default) or ``kubectl``.
        kubeconfig_path: The explicit kubeconfig file, passed to kubectl by the kubectl backend.
    """

    def __init__(
        self,
        kubeconfig: Kubeconfig,
        options: KubeOptions | None = None,
        backend: str = "api",
        kubeconfig_path: str | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.options = options or KubeOptions()
        self.kubeconfig_path = kubeconfig_path
        tune_gc()
        self._cache = ListCache(self.options)
        self._backends: dict[str, Backend] = {}
        self._inflight: dict[ListRef, InFlight] = {}
        self._stale_flights: set[InFlight] = set()  # invalidated, still running for whoever follows them
        self._custom: dict[str, dict[str, Kind]] = {}
        #: What each context serves (discovery joined with the built-in table), cached like cluster lists.
        self._known = KnownKinds(lambda: self._cache.ttl(TtlClass.CLUSTER))
        # context → (server version, monotonic time fetched): cached like cluster-scoped lists, dropped on Refresh.
        self._versions: dict[str, tuple[str, float]] = {}
        self._prefetch_tasks: set[asyncio.Task[None]] = set()
        self._prefetch_sem: asyncio.Semaphore | None = None
        self._user_active = 0  # lists the UI is currently waiting for (not served from the cache)
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        self.backend_name = backend
        # Imported here: both modules build on this one.
        from kube9_desktop.kube.access import AccessReviews
        from kube9_desktop.kube.writes import Writes

        #: Writes (PUT/PATCH/apply/POST/DELETE/scale/evict); always through the API, whichever backend lists.
        self.writes = Writes(self)
        #: SelfSubjectAccessReview answers, cached per context for 60 s (the command registry's AccessChecker).
        self.access = AccessReviews(self)

    # -- backends --------------------------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The active backend (created on first use)."""
        b = self._backends.get(self.backend_name)
        if b is None:
            if self.backend_name == "kubectl":
                from kube9_desktop.kube.kubectl import KubectlBackend

                b = KubectlBackend(self.kubeconfig_path, self.kubeconfig, self.options)
            else:
                b = self._new_api_backend()
            self._backends[self.backend_name] = b
        return b

    def _new_api_backend(self) -> ApiBackend:
        # Imported on first use: the API backend brings the ``kubernetes`` package (~0.25 s to import), which
        # ``--run help``, the kubectl backend's lists and the window's first paint do not need.
        from kube9_desktop.kube.fetch import ApiBackend

        return ApiBackend(self.kubeconfig, self.options)

    @property
    def api_backend(self) -> ApiBackend:
        """The API backend: the active one, or one kept beside the kubectl backend for writes and reviews."""
        b = self._backends.get("api")
        if b is None:
            b = self._new_api_backend()
            self._backends["api"] = b
        return b  # type: ignore[return-value]  # the "api" key only ever holds an ApiBackend

    def set_backend(self, name: str) -> None:
        """Switch between ``api`` and ``kubectl``; cached lists are dropped so the next lists use the new
        one."""
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r}")
        if name != self.backend_name:
            self.backend_name = name
            self._cache.invalidate()
            self._versions.clear()

    # -- contexts and kinds ----------------------------------------------------------------------------------

    def contexts(self) -> builtins.list[ContextInfo]:
        """Every usable context of the kubeconfig."""
        return list(self.kubeconfig.contexts)

    def set_kubeconfig(self, kubeconfig: Kubeconfig) -> None:
        """Use a reloaded kubeconfig: contexts that disappeared or whose cluster/user entries changed are dropped
        (clients closed, cache cleared); unchanged contexts keep their pooled clients and cached lists."""
        old = self.kubeconfig
        for name in old.names():
            try:
                same = name in kubeconfig.names() and old.config_for(name) == kubeconfig.config_for(name)
            except KubeError:
                same = False
            if not same:
                self.drop_context(name)
        self.kubeconfig = kubeconfig
        for b in self._backends.values():
            b.kubeconfig = kubeconfig  # type: ignore[attr-defined]

    def kind(self, context: str, key: str) -> Kind:
        """A built-in kind, or a custom kind discovered for ``context``; raises KubeError NOT_FOUND."""
        k = self._known.lookup(context, key) or KINDS.get(key) or self._custom.get(context, {}).get(key)
        if k is None:
            raise KubeError(
                ErrorKind.NOT_FOUND,
                "Unknown kind",
                f"The kind {key!r} is not known for context {context}.",
                hint="Refresh the context to rediscover custom resources.",
                context=context,
            )
        return k

    def known_kinds(self, context: str) -> builtins.list[Kind]:
        """The kinds ``context`` serves as far as known now (no I/O): discovered ones once :meth:`discover` ran,
        else the built-in table and the custom kinds seen so far (the command registry's address parser)."""
        found = self._known.peek(context)
        if found is not None:
            return found
        return [*KINDS.values(), *self._custom.get(context, {}).values()]

    def discovered(self, context: str) -> builtins.list[Kind] | None:
        """The kinds discovery found for ``context`` if fresh, else ``None`` (no I/O)."""
        return self._known.peek(context)

    def discovery_mode(self, context: str) -> str:
        """How ``context``'s kinds were found: ``aggregated``, ``classic`` or ``""``."""
        return self._known.mode(context)

    async def discover(self, context: str) -> builtins.list[Kind]:
        """Every kind ``context`` serves (API discovery joined with the built-in table, cached per context for the
        cluster TTL; concurrent callers share one discovery); raises KubeError."""
        self._check_context(context)
        api = self.api_backend
        # Low priority, like prefetches: the classic documents (one per group version, ~25 on a v1.19 server) would
        # otherwise take every worker while lists the user is waiting for queue behind them. And off the critical
        # path: discovery starts once the lists the user waits for are in (a context's top level, a namespace's
        # Pods), or after DISCOVERY_YIELD_S however long they take.
        slots = asyncio.Semaphore(DISCOVERY_CONCURRENCY)
        gate: asyncio.Future[None] | None = None

        async def after_user_lists() -> None:
            # A turn of the loop first: lists asked for in the same turn (a namespace opening) start theirs.
            await asyncio.sleep(0.02)
            for _ in range(int(DISCOVERY_YIELD_S / 0.02)):
                if not self._user_active:
                    return
                await asyncio.sleep(0.02)

        async def fetch(path: str, accept: str) -> Any:
            nonlocal gate
            if gate is None:  # one wait for every document of this discovery (/api and /apis start together)
                gate = asyncio.ensure_future(after_user_lists())
            await asyncio.shield(gate)
            async with slots:
                return await api.run(context, lambda: api.client(context).get_json(path, accept=accept,
                                                                                   info=discovery_info(path)))

        return await self._known.get(context, fetch)

    async def _resolve(self, context: str, key: str) -> Kind:
        if key in KINDS or key in self._custom.get(context, {}) or self._known.lookup(context, key):
            return self.kind(context, key)
        if "." in key and context not in self._custom:
            await self.custom_kinds(context)
        return self.kind(context, key)

    def _check_context(self, context: str) -> None:
        self.kubeconfig.context(context)  # raises KubeError KUBECONFIG for a missing/broken context

    # -- lists -----------------------------------------------------------------------------------------------

    async def list(self, ref: ListRef, *, demand: bool = True) -> AsyncIterator[Page]:
        """Stream the list ``ref``: from the cache (one page, no request) or from the backend page by page.

        Args:
            ref: What to list.
            demand: False for lists fetched ahead of the user opening them (folder counts, warm-up); those are
                not cache lookups and do not count as hits or misses (see :class:`CacheStats`).

        Raises:
            KubeError: On any failure, including a missing context or a failing exec plugin.
        """
        check_namespace(ref.namespace, ref.context)  # never a request with a name no server would give
        # Counted here, deterministically: a cached copy is a hit, joining the same list already in flight is a
        # hit that made no request (a "join"), anything else is a miss that starts the one request.
        cached = self._cache.get(ref, count=False)
        if cached is not None:
            if demand:
                self._cache.record("hit", ref.context)
            yield Page(
                rows=list(cached.rows), resource_version=cached.resource_version, last=True, from_cache=True
            )
            return
        if demand:
            self._cache.record("join" if ref in self._inflight else "miss", ref.context)
        elif ref not in self._inflight:
            self._cache.record("prefetch")
        flight = self._start(ref)
        self._user_active += 1
        try:
            async for page in flight.follow():
                yield page
        finally:
            self._user_active -= 1

    def _start(self, ref: ListRef) -> InFlight:
        flight = self._inflight.get(ref)
        if flight is None:
            flight = InFlight(ref)
            self._inflight[ref] = flight
            flight.task = asyncio.create_task(self._fetch(flight), name=f"kube9-list-{ref.kind}")
        return flight

    async def _fetch(self, flight: InFlight) -> None:
        ref = flight.ref
        rows: builtins.list[Row] = []
        rv = ""
        backend = self.backend
        try:
            self._check_context(ref.context)
            kind = await self._resolve(ref.context, ref.kind)
            async for page in backend.list_pages(ref, kind):
                if page.restarted:
                    rows = []  # the list started over: the earlier pages are superseded
                rows.extend(page.rows)
                rv = page.resource_version or rv
                flight.pages.append(page)
                flight.publish()
            if backend is self.backend and not flight.stale:  # not switched nor invalidated meanwhile
                self._cache.put(ref, kind, rows, rv)
        except KubeError as err:
            if not err.context:
                err.context = ref.context
            flight.error = err.detached()
        except asyncio.CancelledError:
            flight.error = KubeError(
                ErrorKind.UNKNOWN, "Cancelled", "The list was cancelled.", context=ref.context
            )
            raise
        except Exception as exc:  # a bug must still reach the UI as an error row, not a crash
            log.exception("list %s failed", ref)
            flight.error = KubeError(
                ErrorKind.UNKNOWN, "Unexpected error", f"{type(exc).__name__}: {exc}", context=ref.context
            )
        finally:
            flight.done = True
            if self._inflight.get(ref) is flight:
                del self._inflight[ref]
            self._stale_flights.discard(flight)
            flight.publish()

    async def list_all(self, ref: ListRef, *, demand: bool = True) -> builtins.list[Row]:
        """The whole list ``ref`` as one list of rows; raises KubeError."""
        rows: builtins.list[Row] = []
        async for page in self.list(ref, demand=demand):
            if page.restarted:
                rows = []
            rows.extend(page.rows)
        return rows

    # -- watches ---------------------------------------------------------------------------------------------

    async def relist(self, ref: ListRef) -> tuple[builtins.list[Row], str]:
        """Fetch ``ref`` from the server, bypassing the cached copy (which the result then replaces).

        Used after a watch lost its position (410): the cached rows and resourceVersion are known to be stale.

        Returns:
            The rows and the list's resourceVersion (a new watch starts from it).

        Raises:
            KubeError: On any failure.
        """
        check_namespace(ref.namespace, ref.context)
        rows: builtins.list[Row] = []
        rv = ""
        async for page in self._start(ref).follow():
            if page.restarted:
                rows = []
            rows.extend(page.rows)
            rv = page.resource_version or rv
        return rows, rv

    async def watch(self, ref: ListRef, resource_version: str) -> AsyncGenerator[WatchEvent, None]:
        """Stream watch events of ``ref`` from ``resource_version`` (Table rows, bookmarks on).

        The stream ends when the server ends it (``timeoutSeconds``); the caller re-watches from the last event.

        Raises:
            KubeError: ``GONE`` when the position is too old (410), ``KUBECTL`` on the kubectl backend, or any
                request failure.
        """
        self._check_context(ref.context)
        check_namespace(ref.namespace, ref.context)
        kind = await self._resolve(ref.context, ref.kind)
        gen = self.backend.watch(ref, kind, resource_version)
        try:
            async for event in gen:
                yield event
        except KubeError as err:
            if not err.context:
                err.context = ref.context
            raise
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:  # a bug must still reach the caller as a KubeError
            log.exception("watch %s failed", ref)
            raise KubeError(
                ErrorKind.UNKNOWN, "Unexpected error", f"{type(exc).__name__}: {exc}", context=ref.context
            ) from exc
        finally:
            # Close the backend's stream now (it stops its reader thread), not whenever it is collected.
            aclose = getattr(gen, "aclose", None)
            if aclose is not None:
                await aclose()

    def watch_threads(self) -> int:
        """Watch reader threads still running (0 once every watch has been closed)."""
        api = self._backends.get("api")
        return api.watch_threads() if api is not None else 0  # type: ignore[attr-defined]

    # -- single requests -------------------------------------------------------------------------------------

    async def get(self, context: str, kind_key: str, namespace: str | None, name: str) -> dict[str, Any]:
        """One object as a plain dict (not cached: the details view wants it current); raises KubeError."""
        self._check_context(context)
        kind = await self._resolve(context, kind_key)
        # The name and namespace came from the server: one that no API server accepts is refused, not requested.
        check_object_ref(kind.kind, namespace if kind.namespaced else None, name, context)
        return await self.backend.get_object(context, kind, namespace, name)

    async def version(self, context: str) -> str:
        """The server version (``v1.19.0``), cached for the cluster TTL (Refresh drops it); raises KubeError."""
        self._check_context(context)
        cached = self._versions.get(context)
        if cached is not None and time.monotonic() - cached[1] < self._cache.ttl(TtlClass.CLUSTER):
            return cached[0]
        backend = self.backend
        version = await backend.server_version(context)
        if backend is self.backend:
            self._versions[context] = (version, time.monotonic())
        return version

    async def custom_kinds(self, context: str) -> builtins.list[Kind]:
        """The custom kinds defined by the context's CRDs (remembered for :meth:`kind`); raises KubeError."""
        self._check_context(context)
        kinds = await self.backend.custom_kinds(context)
        self._custom[context] = {k.key: k for k in kinds}
        return kinds

    # -- cache -----------------------------------------------------------------------------------------------

    def invalidate(
        self, context: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> None:
        """Drop cached lists (all, one context, or one kind / namespace) — on Refresh and after mutations.

        A matching list in flight is detached too: a request started before a write may answer with the state
        before it, so later requests start their own instead of joining it, and its answer is not cached (two
        deletes in a row: the second's reload joined the first's and a deleted pod showed Running again).
        """
        self._cache.invalidate(context, kind, namespace)
        for ref, flight in list(self._inflight.items()):
            if ((context is None or ref.context == context) and (kind is None or ref.kind == kind)
                    and (namespace is None or ref.namespace == namespace)):
                flight.stale = True
                del self._inflight[ref]
                self._stale_flights.add(flight)
        if kind is None and namespace is None:
            if context is None:
                self._versions.clear()
            else:
                self._versions.pop(context, None)
            # Stale, not forgotten: the lists being re-listed still resolve their discovered kinds (an APIService
            # list said "refresh failed: Unknown kind" after every Refresh).
            self._known.expire(context)

    def cache_stats(self, context: str | None = None) -> CacheStats:
        """Cache hits, misses, evictions, entries and hit rate: of every context, or of ``context`` alone."""
        return self._cache.stats(context)

    @property
    def cache(self) -> ListCache:
        """The list cache (a later watch feature marks entries fresh through it)."""
        return self._cache

    def set_options(self, options: KubeOptions) -> None:
        """Apply new TTLs, page size and timeouts at once."""
        self.options = options
        self._cache.set_options(options)
        for b in self._backends.values():
            b.set_options(options)

    def stats(self, context: str) -> ContextStats:
        """Request/connection/latency counters of ``context`` for the active backend."""
        return self.backend.stats(context)

    # -- prefetch --------------------------------------------------------------------------------------------

    def prefetch(self, refs: Iterable[ListRef]) -> None:
        """Warm the cache for ``refs`` in the background, at most two lists at a time; errors go to the
        log."""
        if self._prefetch_sem is None:
            self._prefetch_sem = asyncio.Semaphore(PREFETCH_CONCURRENCY)
        for ref in refs:
            if self._cache.peek(ref) is not None or ref in self._inflight:
                continue
            task = asyncio.create_task(self._prefetch_one(ref), name=f"kube9-prefetch-{ref.kind}")
            self._prefetch_tasks.add(task)
            task.add_done_callback(self._prefetch_tasks.discard)

    async def _prefetch_one(self, ref: ListRef) -> None:
        assert self._prefetch_sem is not None
        async with self._prefetch_sem:
            # Each list has at most one request in flight, so two prefetch lists occupy at most two workers.
            # Also hold back while the user's own lists already fill the rest of the pool (bounded, so a
            # forgotten consumer cannot stall warm-up forever).
            await asyncio.sleep(0)
            for _ in range(100):
                if self._user_active < max(1, self.options.workers - PREFETCH_CONCURRENCY):
                    break
                await asyncio.sleep(0.05)
            if self._cache.peek(ref) is not None:
                return
            try:
                if ref not in self._inflight:
                    self._cache.record("prefetch")
                flight = self._start(ref)
                async for _page in flight.follow():
                    pass
            except KubeError as err:
                log.debug("prefetch %s failed: %s", ref, err.one_line())
            except Exception:
                log.debug("prefetch %s failed", ref, exc_info=True)

    def prepare(self, context: str) -> None:
        """Get ready to load ``context`` without a request: the API backend builds its client and opens the
        connections the top level's first load uses at once (the version and its lists) in worker threads (see
        :meth:`.ApiBackend.prepare`), so the window or the model being set up meanwhile overlaps them. Unknown
        contexts are ignored (the load itself says what is wrong)."""
        if context in self.kubeconfig.names() and self.backend_name == "api":
            self.api_backend.prepare(context, connections=len(TOP_LEVEL_KINDS) + 1)

    def expect_lists(self, context: str, count: int) -> None:
        """``count`` lists of ``context`` are about to be fetched at once (a namespace's counts): the API backend
        sends their first requests together (:meth:`.ApiBackend.send_together`)."""
        if self.backend_name == "api" and count > 1:
            self.api_backend.send_together(context, count)

    def warm(self, context: str) -> None:
        """Prefetch the context's top level: nodes, namespaces and the cluster-scoped kinds."""
        self.prefetch(ListRef(context=context, kind=k) for k in TOP_LEVEL_KINDS)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def drop_context(self, context: str) -> None:
        """Forget a context: its cached lists, custom kinds, access answers, clients and worker threads."""
        self._cache.invalidate(context=context)
        forget = getattr(self.access, "forget", None)  # (tests may put another checker in its place)
        if forget is not None:
            forget(context)  # the answers were the old credentials'
        self._custom.pop(context, None)
        self._known.forget(context)
        self._versions.pop(context, None)
        for b in self._backends.values():
            b.drop_context(context)

    async def aclose(self) -> None:
        """Cancel prefetches and in-flight lists, close every backend."""
        close = getattr(self.access, "close", None)  # (tests may put another checker in its place)
        if close is not None:
            close()
        tasks = [*self._prefetch_tasks, *(f.task for f in [*self._inflight.values(), *self._stale_flights]
                                          if f.task is not None)]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for b in self._backends.values():
            await b.aclose()
        self._backends.clear()
        # Released now rather than whenever a collection finds the closed service's reference cycles: a big
        # cluster's cached rows are hundreds of thousands of objects for the collector to walk.
        self._cache.clear()
