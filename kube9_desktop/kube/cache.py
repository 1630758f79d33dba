"""The app's one list cache: a cachetools ``TLRUCache`` keyed by :class:`~kube9_desktop.kube.rows.ListRef`.

The key holds context, kind, namespace and selectors, so contexts and namespaces never mix. Each entry's
lifetime
comes from its kind's TTL class, read from the options at insert time:

* ``cluster`` (default 30 s) — nodes, namespaces and cluster-scoped objects change rarely and are the most
  expensive lists in big clusters; serving them 30 s stale is the better trade.
* ``stable`` (15 s) — deployments, services, statefulsets, daemonsets, configmaps change on deploys; a user
  notices
  those within seconds anyway, and Refresh / watches cover the rest.
* ``volatile`` (5 s) — pods, replicasets and jobs churn constantly; keep them only long enough to absorb the
  burst
  of repeated expansions a browsing user makes.
* ``never`` (0) — events (and logs, metrics) are streams, not state: a cached copy is always misleading, so
  they
  are never stored.

The LRU bound (``cache_max_entries``) caps memory when many namespaces are browsed. Changing TTLs in settings
applies
at once: entries are re-timed against the new TTLs. A later "watch keeps it fresh" feature marks an entry with
:meth:`ListCache.keep_fresh` so it does not expire while its watch is healthy.

The cache is used from the event loop thread only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import TLRUCache

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kinds import Kind, TtlClass
from kube9_desktop.kube.rows import ListRef, Row


@dataclass
class CachedList:
    """A complete list as stored.

    Attributes:
        ref: What was listed.
        kind: The kind key.
        ttl_class: The kind's TTL class.
        rows: All rows of the list.
        resource_version: The list's resourceVersion (a watch can resume from it).
        stored_at: ``time.monotonic()`` when stored or last touched.
        fresh: True while something (a healthy watch) keeps the entry current; it then never expires.
    """

    ref: ListRef
    kind: str
    ttl_class: TtlClass
    rows: list[Row]
    resource_version: str = ""
    stored_at: float = field(default_factory=time.monotonic)
    fresh: bool = False

    @property
    def age(self) -> float:
        """Seconds since stored (or last touched)."""
        return time.monotonic() - self.stored_at


@dataclass(frozen=True)
class CacheStats:
    """Cache counters.

    Attributes:
        hits: Lookups answered without a request of their own: served from the cache, or joined to the same
            list already being fetched (``joins`` counts those).
        misses: Lookups that found nothing (or an expired entry) and so made a request.
        evictions: Entries removed by expiry or by the LRU bound (not by invalidation).
        entries: Entries currently stored.
        hit_rate: ``hits / (hits + misses)``, 0.0 before any lookup.
        joins: The hits that joined an in-flight fetch (no request, no cached copy).
        prefetches: Lists fetched ahead of demand (counts shown before a folder is opened, warm-up, keeping
            unopened lists current on Refresh). They are not lookups, so they are neither hits nor misses; the
            requests they make are in the per-context request counts.
    """

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    hit_rate: float = 0.0
    joins: int = 0
    prefetches: int = 0


class _CountingTLRU(TLRUCache):
    """TLRUCache that reports LRU evictions and expiries to a callback."""

    def __init__(
        self, maxsize: int, ttu: Callable[[Any, Any, float], float], on_evict: Callable[[int], None]
    ):
        super().__init__(maxsize, ttu, timer=time.monotonic)
        self._on_evict = on_evict
        self._in_popitem = False

    def popitem(self) -> tuple[Any, Any]:
        self._in_popitem = True
        try:
            item = super().popitem()
        finally:
            self._in_popitem = False
        self._on_evict(1)
        return item

    def expire(self, time: float | None = None) -> Any:
        expired = super().expire(time)
        if expired:
            self._on_evict(len(expired))
        return expired


class ListCache:
    """Complete lists by ListRef, with per-kind-class TTLs, LRU bound, invalidation and statistics.

    Args:
        options: Supplies ``ttls`` and ``cache_max_entries``.
    """

    def __init__(self, options: KubeOptions | None = None) -> None:
        self._options = options or KubeOptions()
        self._hits = 0
        self._misses = 0
        self._joins = 0
        self._prefetches = 0
        self._evictions = 0
        # context -> [hits, misses, joins]: the status bar shows the context on screen's own rate.
        self._by_context: dict[str, list[int]] = {}
        self._cache = self._new_cache()

    def _new_cache(self) -> _CountingTLRU:
        return _CountingTLRU(max(1, int(self._options.cache_max_entries)), self._ttu, self._count_evictions)

    def _count_evictions(self, n: int) -> None:
        self._evictions += n

    def ttl(self, ttl_class: TtlClass) -> float:
        """The current TTL in seconds of a TTL class (0: never cached)."""
        if ttl_class is TtlClass.NEVER:
            return 0.0
        return float(self._options.ttls.get(ttl_class, 0.0) or 0.0)

    def _ttu(self, _key: Any, value: CachedList, now: float) -> float:
        if value.fresh:
            return math.inf
        return value.stored_at + self.ttl(value.ttl_class)

    def get(self, ref: ListRef, *, count: bool = True) -> CachedList | None:
        """The cached list for ``ref`` if present and within its kind's current TTL.

        Counts a hit or a miss unless ``count`` is False (the caller then reports the outcome with
        :meth:`record`, e.g. because a miss may still be answered by a fetch already in flight).
        """
        self._cache.expire()
        entry: CachedList | None = self._cache.get(ref)
        if entry is not None and not entry.fresh and entry.age >= self.ttl(entry.ttl_class):
            # TTLs may have been lowered since the entry was stored.
            self._cache.pop(ref, None)
            self._evictions += 1
            entry = None
        if count:
            self.record("hit" if entry is not None else "miss", ref.context)
        return entry

    def record(self, outcome: str, context: str | None = None) -> None:
        """Count one lookup: ``hit`` (cached), ``join`` (joined an in-flight fetch: a hit that made no request)
        or ``miss`` (made a request); or ``prefetch``, a fetch ahead of demand (not a lookup). With ``context``,
        the lookup also counts into that context's own figures (:meth:`stats` with a context)."""
        if outcome == "prefetch":
            self._prefetches += 1
            return
        mine = self._by_context.setdefault(context, [0, 0, 0]) if context is not None else None
        if outcome == "miss":
            self._misses += 1
            if mine is not None:
                mine[1] += 1
        else:
            self._hits += 1
            if mine is not None:
                mine[0] += 1
            if outcome == "join":
                self._joins += 1
                if mine is not None:
                    mine[2] += 1

    def peek(self, ref: ListRef) -> CachedList | None:
        """Like :meth:`get` without counting or re-ordering (for diagnostics and prefetch decisions)."""
        if ref not in self._cache:
            return None
        entry: CachedList | None = self._cache.get(ref)
        if entry is not None and not entry.fresh and entry.age >= self.ttl(entry.ttl_class):
            return None
        return entry

    def put(self, ref: ListRef, kind: Kind, rows: list[Row], resource_version: str = "") -> bool:
        """Store a complete list; returns False when the kind's TTL is 0 (never cached)."""
        if self.ttl(kind.ttl) <= 0:
            self._cache.pop(ref, None)
            return False
        self._cache[ref] = CachedList(
            ref=ref, kind=kind.key, ttl_class=kind.ttl, rows=list(rows), resource_version=resource_version
        )
        return True

    def invalidate(
        self, context: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> int:
        """Drop entries matching every given filter (no filter: everything); returns how many were dropped."""
        doomed = [
            ref
            for ref in list(self._cache.keys())
            if (context is None or ref.context == context)
            and (kind is None or ref.kind == kind)
            and (namespace is None or ref.namespace == namespace)
        ]
        for ref in doomed:
            self._cache.pop(ref, None)
        return len(doomed)

    def touch(self, ref: ListRef, rows: list[Row] | None = None, resource_version: str | None = None) -> bool:
        """Restart an entry's TTL (optionally replacing its rows); returns False if there is no entry."""
        entry: CachedList | None = self._cache.get(ref)
        if entry is None:
            return False
        if rows is not None:
            entry.rows = list(rows)
        if resource_version is not None:
            entry.resource_version = resource_version
        entry.stored_at = time.monotonic()
        self._cache[ref] = entry  # re-insert so the TLRU recomputes the expiry
        return True

    def keep_fresh(self, ref: ListRef, fresh: bool = True) -> bool:
        """Mark an entry as kept current by a healthy watch (never expires) or release it (TTL restarts)."""
        entry: CachedList | None = self._cache.get(ref)
        if entry is None:
            return False
        entry.fresh = fresh
        entry.stored_at = time.monotonic()
        self._cache[ref] = entry
        return True

    def set_options(self, options: KubeOptions) -> None:
        """Apply new TTLs / size at once: every entry is re-timed against the new TTLs."""
        self._options = options
        old = self._cache
        self._cache = self._new_cache()
        for ref in list(old.keys()):
            entry = old.get(ref)
            if entry is not None and (entry.fresh or entry.age < self.ttl(entry.ttl_class)):
                self._cache[ref] = entry

    def clear(self) -> None:
        """Drop everything."""
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)

    def stats(self, context: str | None = None) -> CacheStats:
        """Current counters: of every context, or of ``context`` alone (its lookups and its entries)."""
        self._cache.expire()
        if context is not None:
            hits, misses, joins = self._by_context.get(context, (0, 0, 0))
            return CacheStats(hits=hits, misses=misses, joins=joins,
                              entries=sum(1 for ref in self._cache if ref.context == context),
                              hit_rate=hits / (hits + misses) if hits + misses else 0.0)
        total = self._hits + self._misses
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            entries=len(self._cache),
            hit_rate=self._hits / total if total else 0.0,
            joins=self._joins,
            prefetches=self._prefetches,
        )
