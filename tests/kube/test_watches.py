"""Watches against the sim: rows, bookmarks and 410, events parsed off the event loop, their own client."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from kube9_desktop.kube import watches
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.fetch import ApiBackend
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.sim.process import SimProcess

ADMIN = "sim-admin"


async def test_watch_streams_rows_and_gone(sim: SimProcess, kubeconfig: Kubeconfig) -> None:
    backend = ApiBackend(kubeconfig, KubeOptions())
    ref = ListRef(ADMIN, "pods")
    try:
        pages = [p async for p in backend.list_pages(ref, KINDS["pods"])]
        rv = pages[-1].resource_version
        sim.set_churn(50)
        events = []
        async with asyncio.timeout(10):
            async for ev in backend.watch(ref, KINDS["pods"], rv):
                events.append(ev)
                if sum(e.row is not None for e in events) >= 3:
                    break
        sim.set_churn(0)
        assert {e.type for e in events} <= {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"}
        assert all(e.row is not None and e.row.kind == "pods" for e in events if e.type != "BOOKMARK")
        assert all(e.row is None for e in events if e.type == "BOOKMARK")
        assert int(events[-1].resource_version) > int(rv)
        sim.compact()
        with pytest.raises(KubeError) as ei:
            async with asyncio.timeout(10):
                async for _ in backend.watch(ref, KINDS["pods"], "1"):
                    pass
        assert ei.value.kind is ErrorKind.GONE
    finally:
        await backend.aclose()


async def test_watch_events_are_parsed_off_the_event_loop(kubeconfig: Kubeconfig,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    parsers: list[str] = []
    real_loads = watches.orjson.loads

    def loads(data: Any) -> Any:
        parsers.append(threading.current_thread().name)
        return real_loads(data)

    monkeypatch.setattr(watches.orjson, "loads", loads)
    backend = ApiBackend(kubeconfig, KubeOptions())
    ref = ListRef(ADMIN, "pods")
    try:
        # From resourceVersion 0 the server starts with an ADDED event per pod: events without changing the
        # shared sim's pods (other tests count them).
        rows = 0
        async with asyncio.timeout(10), contextlib.aclosing(backend.watch(ref, KINDS["pods"], "0")) as events:
            async for ev in events:
                rows += ev.row is not None
                if rows >= 5:
                    break
        seen = list(parsers)
    finally:
        await backend.aclose()
    assert len(seen) >= 5 and threading.current_thread().name not in seen, seen


async def test_watches_have_a_client_of_their_own_that_shares_nothing_with_the_lists(kubeconfig: Kubeconfig) -> None:
    """A watch holds its connection for minutes: its pool is not the list pool, and dropping the context closes it."""
    backend = ApiBackend(kubeconfig, KubeOptions(workers=2))
    ref = ListRef(ADMIN, "pods")
    try:
        async with asyncio.timeout(10), contextlib.aclosing(backend.watch(ref, KINDS["pods"], "0")) as events:
            async for ev in events:
                if ev.row is not None:
                    break
        list_client = await backend.run(ADMIN, lambda: backend.client(ADMIN))
        watch_client = await backend.run(ADMIN, lambda: backend.watch_client(ADMIN))
        assert watch_client is not list_client
        assert watch_client.options.workers == watches.WATCH_POOL_SIZE
        backend.drop_context(ADMIN)  # closes it: the context's next watch gets a new one
        assert await backend.run(ADMIN, lambda: backend.watch_client(ADMIN)) is not watch_client
    finally:
        await backend.aclose()
