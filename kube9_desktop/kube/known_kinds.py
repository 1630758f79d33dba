"""The kinds one context serves: discovery (:mod:`.discovery`) joined with the built-in table (:mod:`.kinds`).

The table keeps supplying titles, categories, icons and status rules; a served resource it does not know becomes a
:func:`~kube9_desktop.kube.kinds.discovered_kind` (listable, under its API group); a built-in the server does not
serve is left out; a built-in served at another version (CronJobs as ``batch/v1beta1`` on v1.19) gets that version.
Cached per context for the cluster TTL, like cluster-scoped lists; concurrent askers share one discovery.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kube9_desktop.kube.discovery import ApiResource, discover
from kube9_desktop.kube.kinds import BUILTIN_KINDS, Kind, builtin_for, discovered_kind, shadowed

Fetch = Callable[[str, str], Awaitable[Any]]


def join(resources: list[ApiResource]) -> list[Kind]:
    """Built-ins the server serves (at its version) in table order, then the kinds the table does not know."""
    served: dict[tuple[str, str], ApiResource] = {}
    for r in resources:
        served.setdefault((r.group, r.plural), r)
    out: list[Kind] = []
    for k in BUILTIN_KINDS:
        found = served.get((k.group, k.plural))
        if found is not None:
            out.append(k if found.version == k.version else dataclasses.replace(k, version=found.version))
    for (group, plural), r in served.items():
        if builtin_for(group, plural) is None and not shadowed(group, plural):
            out.append(discovered_kind(group, r.version, plural, r.kind, r.namespaced, r.short_names))
    return out


class KnownKinds:
    """Per-context discovery results.

    Args:
        ttl: Seconds a context's result is reused (the cluster TTL).
    """

    def __init__(self, ttl: Callable[[], float]) -> None:
        self._ttl = ttl
        self._kinds: dict[str, tuple[list[Kind], dict[str, Kind], float, str]] = {}
        self._inflight: dict[str, asyncio.Future[list[Kind]]] = {}

    def peek(self, context: str) -> list[Kind] | None:
        """The context's kinds if discovered and fresh, else ``None`` (no I/O)."""
        got = self._kinds.get(context)
        if got is None or time.monotonic() - got[2] >= self._ttl():
            return None
        return got[0]

    def lookup(self, context: str, key: str) -> Kind | None:
        """A discovered kind by key (even when stale: a list already in the tree still names it)."""
        got = self._kinds.get(context)
        return got[1].get(key) if got is not None else None

    def mode(self, context: str) -> str:
        """``aggregated``, ``classic`` or ``""`` (not discovered)."""
        got = self._kinds.get(context)
        return got[3] if got is not None else ""

    async def get(self, context: str, fetch: Fetch) -> list[Kind]:
        """The context's kinds, discovered once per TTL; raises KubeError."""
        fresh = self.peek(context)
        if fresh is not None:
            return fresh
        flight = self._inflight.get(context)
        if flight is None:
            flight = asyncio.ensure_future(self._discover(context, fetch))
            self._inflight[context] = flight
            flight.add_done_callback(lambda f: self._inflight.pop(context, None) if
                                     self._inflight.get(context) is f else None)
        return await asyncio.shield(flight)

    async def _discover(self, context: str, fetch: Fetch) -> list[Kind]:
        resources, mode = await discover(fetch)
        kinds = join(resources)
        self._kinds[context] = (kinds, {k.key: k for k in kinds}, time.monotonic(), mode)
        return kinds

    def expire(self, context: str | None = None) -> None:
        """Make one context's result (or all) stale: discovered again when next asked for (Refresh), while
        :meth:`lookup` still names the kinds of lists already in the tree (a Refresh re-lists them meanwhile)."""
        for ctx in ([context] if context is not None else list(self._kinds)):
            got = self._kinds.get(ctx)
            if got is not None:
                self._kinds[ctx] = (got[0], got[1], float("-inf"), got[3])

    def forget(self, context: str | None = None) -> None:
        """Drop one context's result (Refresh, a changed kubeconfig) or all."""
        if context is None:
            self._kinds.clear()
        else:
            self._kinds.pop(context, None)
