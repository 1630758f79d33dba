"""The garbage-collection policy and its asyncio driver (kube9_desktop.gc_policy), without Qt."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kube9_desktop
from kube9_desktop import gc_policy
from kube9_desktop.gc_policy import (
    BUSY_INTERVAL_MS,
    IDLE_INTERVAL_MS,
    POURING_HOLD_S,
    POURING_MIN,
    QUIET_TICKS,
    GcPolicy,
    LoopGcDriver,
    oldest_generation_size,
)


class Cycle:
    """Garbage only the cycle collector frees."""

    def __init__(self) -> None:
        self.me = self


def test_oldest_generation_size_counts_what_get_objects_lists() -> None:
    # Listed in one C call (no thread switch while the list exists), it is still the generation's size.
    gc.collect()
    kept = [[i] for i in range(2_000)]  # containers: tracked, and moved to the oldest generation by a collection
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # no automatic collection moves objects between the two counts
    try:
        listed = len(gc.get_objects(2))
        assert oldest_generation_size() == listed
    finally:
        if was:
            gc.enable()
    assert listed >= len(kept)


@contextlib.contextmanager
def _hand_checked_policy(freeze_at: int | None = None) -> Iterator[tuple[GcPolicy, list[int]]]:
    """A GcPolicy whose checks the test makes by hand, small thresholds, and the list of full collections seen."""
    full: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    threshold = gc.get_threshold()
    policy = GcPolicy(interval_ms=60_000, freeze_at=freeze_at)
    gc.callbacks.append(on_gc)
    gc.set_threshold(50, 2, 2)
    try:
        yield policy, full
    finally:
        gc.callbacks.remove(on_gc)
        gc.set_threshold(*threshold)
        policy.stop()


def test_a_full_collection_runs_only_once_the_old_heap_grew_by_a_quarter() -> None:
    """A full collection walks every tracked object: with a big tree loaded it freezes the window for 100+ ms, so
    the policy keeps CPython's rule and skips it while the oldest generation has not grown by a quarter."""
    big = [[i] for i in range(200_000)]  # a big, stable heap (a loaded tree)
    gc.collect()
    with _hand_checked_policy() as (policy, full):

        def churn(keep: list[list[int]] | None = None, rounds: int = 300) -> None:
            for i in range(rounds):
                for _ in range(60):
                    x: list[object] = []
                    x.append(x)  # garbage only the cycle collector frees
                    if keep is not None:
                        keep.append([i])  # survivors that reach the oldest generation
                policy.check()

        churn()
        assert not full, "no full collection while the old heap stays the same size"
        grown: list[list[int]] = []
        churn(grown, rounds=1200)  # 72,000 more long-lived objects: over a quarter of 200,000
        assert full, "a full collection once the old heap grew by more than a quarter"
        del big, grown


def test_the_old_heap_is_counted_from_a_freeze() -> None:
    """The service freezes what exists at start-up (after the collector started): the quarter is then counted from
    what is left, so cyclic garbage is not kept until the heap has grown past its size before the freeze."""
    startup = [[i] for i in range(200_000)]
    gc.collect()
    with _hand_checked_policy() as (policy, full):
        try:
            gc.freeze()
            kept: list[list[int]] = []
            for i in range(400):
                for _ in range(60):
                    kept.append([i])  # 24,000 new long-lived objects: far over a quarter of what is left unfrozen
                policy.check()
            assert full, "a full collection although the old heap is still smaller than before the freeze"
            del startup, kept
        finally:
            gc.unfreeze()  # the rest of the session's tests see the heap as before


def test_a_big_old_heap_is_frozen_once_instead_of_walked_again() -> None:
    """Issue 15 goal 6: with 150,000 pods loaded a full collection walked ~600,000 objects (250 ms of CPU). Past
    ``freeze_at`` objects in the oldest generation they are frozen, without a walk: later full collections walk
    only what came after, and cyclic garbage made after the freeze is still collected."""
    with _hand_checked_policy(freeze_at=20_000) as (policy, full):
        try:
            kept = [[i] for i in range(30_000)]  # a big list's rows: they survive
            for _ in range(200):
                [Cycle() for _ in range(60)]
                policy.check()
            assert policy.frozen >= 30_000, "the survivors were frozen"
            assert len(gc.get_objects(2)) < 20_000, "the oldest generation holds only what came after the freeze"
            assert not full, "frozen without a full collection (walking them was the stall)"
            for _ in range(30):
                [Cycle() for _ in range(60)]
                policy.check()
            garbage = [Cycle() for _ in range(100)]
            del garbage
            assert gc.collect(2) >= 100, "cycles made after the freeze are still garbage the collector finds"
            del kept
        finally:
            gc.unfreeze()


@pytest.mark.parametrize("freeze_young", [False, True], ids=["young-collected", "young-frozen"])
def test_a_middle_collection_due_while_rows_pour_in_freezes_them_instead_of_walking_them(
        freeze_young: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 pods arriving made middle collections of 20-50 ms: their survivors (the new rows) were walked again.
    While objects pour in, a due middle collection is a young one and a freeze (with ``FREEZE_YOUNG_WHILE_POURING``,
    the app's setting, any due collection is a freeze alone: not even the young generation is walked); once they
    stop, a steady churn below the pour's rate is collected as before, middle collections and the cyclic garbage
    made since included."""
    monkeypatch.setattr(gc_policy, "FREEZE_YOUNG_WHILE_POURING", freeze_young)  # read at every check
    page = 6_500  # objects a page brings, with no time between the checks: far over POURING_RATE
    seen: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    threshold = gc.get_threshold()
    gc.collect()
    policy = GcPolicy(interval_ms=60_000)  # checked by hand
    gc.callbacks.append(on_gc)
    gc.set_threshold(500, 2, 1000)
    rows: list[list[int]] = []
    try:
        for _ in range(6):  # pages of rows, a check after each
            rows.extend([i] for i in range(page))
            policy.check()
        if freeze_young:
            assert not seen, "no collection at all walked the rows while they poured in"
        else:
            assert 0 in seen and 1 not in seen and 2 not in seen, "no middle or full collection walked the rows"
        assert policy.frozen >= 4 * page, "the rows were frozen"
        assert gc.get_freeze_count() >= 4 * page
        seen.clear()
        # The load is over (its last pages still count as pouring meanwhile). A wait for the policy's own clock to
        # pass a point, not for another thread: nothing to poll.
        time.sleep(POURING_HOLD_S)
        # A churn of cyclic garbage, more objects a check than POURING_MIN (a list's page could be that many) but
        # at under POURING_RATE a second: each batch, then at least its share of a second before the check (a
        # slower machine only lowers the rate), so the policy must tell it from a pour by its rate.
        churn, pause = POURING_MIN + 400, 0.1
        assert churn / pause < gc_policy.POURING_RATE
        for _ in range(10):
            [Cycle() for _ in range(churn)]
            time.sleep(pause)
            policy.check()
        assert 1 in seen, "middle collections again once the rows stopped pouring in"
        garbage = [Cycle() for _ in range(100)]
        del garbage
        assert gc.collect(1) >= 100, "cycles made after the freeze are still collected"
    finally:
        gc.callbacks.remove(on_gc)
        gc.set_threshold(*threshold)
        policy.stop()
        rows.clear()
        gc.unfreeze()


def test_a_big_list_pouring_in_is_frozen_young_instead_of_walked(service_factory: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20 goal 3 (the switch ``FREEZE_YOUNG_WHILE_POURING``, on in the app: docs/performance.md, "Goal 3,
    tenth stop"): while a 10,000-pod namespace poured into the window, each young collection walked the page's new
    rows (~1.5 ms of the GUI thread's CPU each, ~26 ms a window) and found no cyclic garbage in ~250 of them. With
    the switch on, a collection due while a list pours in is a freeze alone; once the load is over, collections run
    again and still find the cycles made since.

    A real load from the sim, on a plain asyncio loop with the headless modes' driver (``--print-tree``'s)."""
    monkeypatch.setattr(gc_policy, "FREEZE_YOUNG_WHILE_POURING", True)  # the app's setting, whatever a test left
    from kube9_desktop.headless import load_tree
    from kube9_desktop.model.nodes import NodeType
    from kube9_desktop.model.tree_core import PlainTree
    from kube9_desktop.sim.process import SimProcess

    started: list[tuple[int, bool]] = []  # every collection: its generation, and whether the policy saw a pour
    pods_path = "Namespaces/default/Workloads/Pods"
    loop = asyncio.new_event_loop()
    was = gc.isenabled()
    with SimProcess.start("--pods", "10007", "--namespaces", "2", "--nodes", "5", "--churn", "0") as big:
        service = service_factory(kubeconfig=big.kubeconfig)  # tunes the thresholds as the app does
        # Freezing as the app runs it, ticked every BUSY_INTERVAL_MS from the start: a 10,000-pod load is over in
        # ~0.3-0.6 s, and the adaptive driver's first tick comes only after its idle interval (250 ms).
        collector = LoopGcDriver(loop, interval_ms=BUSY_INTERVAL_MS)
        policy = collector._policy

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started.append((info["generation"], time.perf_counter() < policy._pouring_until))

        async def scenario() -> int:
            tree = PlainTree()
            tree.set_service(service)
            tree.set_context("sim-admin", user=False)
            await load_tree(tree, 1, [pods_path])
            pods = tree.find(pods_path)
            assert pods is not None
            rows = sum(1 for c in pods.children if c.type is NodeType.OBJECT)
            frozen = collector.frozen
            assert frozen >= rows, "the rows were frozen as they poured in"
            assert not [g for g, pouring in started if pouring], \
                "no collection walked the young generation while the rows poured in"
            # The load is over once the hold after the last check that saw it pour has passed (the check after
            # the last page can come after load_tree returns): a wait for the policy's own clock, not for another
            # thread. Cycles made from then on are collected by the driver's own ticks; cycles made during the
            # hold would be frozen (the window's young collections found none there: docs/performance.md).
            while time.perf_counter() < policy._pouring_until:
                await asyncio.sleep(POURING_HOLD_S)
            died: list[int] = []

            class Witness(Cycle):
                def __del__(self) -> None:
                    died.append(1)

            for _ in range(20):
                # 300 cycles every 20 ms at most: 15,000 objects a second, half POURING_RATE: no pour
                [Witness() for _ in range(300)]
                await asyncio.sleep(0.02)
            deadline = loop.time() + 30
            kept: list[list[int]] = []
            while len(died) < 6_000 and loop.time() < deadline:
                # What a window allocates meanwhile and keeps: the young generation fills (objects freed at once
                # take their count back), so its collections come as they do in the app.
                kept.extend([] for _ in range(500))
                await asyncio.sleep(0.05)
            assert len(died) == 6_000, "cycles made after the load are still collected"
            await tree.shutdown()
            return rows

        gc.callbacks.append(on_gc)
        try:
            assert loop.run_until_complete(scenario()) >= 10_000
        finally:
            gc.callbacks.remove(on_gc)
            collector.stop()
            loop.close()
            gc.unfreeze()  # the rest of the session's tests see the heap as before
            if not was:
                gc.disable()


def test_loop_driver_collects_on_the_loops_thread_and_gives_collection_back() -> None:
    """The headless modes run on a plain asyncio loop: collections happen there, between its callbacks, and never
    in the thread that allocated (here the test's main thread)."""
    died_in: list[str] = []

    class Witness(Cycle):
        def __del__(self) -> None:
            died_in.append(threading.current_thread().name)

    was = gc.isenabled()
    gc.enable()  # on before, so that stop() giving it back is seen
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, name="gc-loop", daemon=True)
    collector = LoopGcDriver(loop, freeze_at=None)  # before the loop runs, as app.py creates it
    try:
        assert not gc.isenabled(), "automatic collection is off while the driver runs"
        runner.start()
        for _ in range(gc.get_threshold()[0] + 100):
            Witness()  # garbage at once: only a collection frees it
        deadline = time.monotonic() + 30
        while not died_in and time.monotonic() < deadline:
            time.sleep(0.01)
        assert died_in, "the driver's ticks collected the cycles"
        stopped = threading.Event()

        def stop() -> None:
            collector.stop()
            stopped.set()

        loop.call_soon_threadsafe(stop)  # stopped on the loop's thread, as app.py does
        assert stopped.wait(30)
        assert gc.isenabled(), "stop() gives collection back as it was"
        assert set(died_in) == {"gc-loop"}, "every cycle was collected on the loop's thread"
    finally:
        if runner.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            runner.join(30)
        collector.stop()  # again (harmless) in case the test failed before: collection must not stay off
        loop.close()
        if not was:
            gc.disable()


def test_loop_driver_ticks_often_while_objects_pour_in_and_idles_after_quiet_ticks() -> None:
    """Ticked only every 250 ms, a big load lets the young generation grow to hundreds of thousands of objects
    between two collections; the loop driver goes busy while objects pour in, idle again once they stop."""
    loop = asyncio.new_event_loop()

    def next_tick_in(collector: LoopGcDriver, since: float, until: float) -> float:
        """The delay the pending tick was scheduled with, by a tick between ``since`` and ``until``."""
        handle = collector._handle
        assert handle is not None and not handle.cancelled()
        assert since - 1e-6 <= handle.when() - collector.interval() / 1000 <= until + 1e-6
        return collector.interval()

    async def scenario() -> None:
        collector = LoopGcDriver(freeze_at=None)  # on the running loop
        keep: list[list[int]] = []
        try:
            assert collector.interval() == IDLE_INTERVAL_MS
            deadline = loop.time() + 30
            while collector.interval() != BUSY_INTERVAL_MS:  # the loop's own ticks notice the allocation
                assert loop.time() < deadline, "never went busy while objects poured in"
                keep.extend([i] for i in range(gc.get_threshold()[0]))
                await asyncio.sleep(0.005)
            keep.clear()
            # Back to idle once allocation stops, after QUIET_TICKS quiet ticks: made here, in one callback, so the
            # loop's own ticks cannot come in between, each right after a young collection (nothing new to see).
            for _ in range(QUIET_TICKS - 1):
                gc.collect(0)
                since = loop.time()
                collector._tick()
                assert next_tick_in(collector, since, loop.time()) == BUSY_INTERVAL_MS, "a next page may come"
            gc.collect(0)
            since = loop.time()
            collector._tick()
            assert next_tick_in(collector, since, loop.time()) == IDLE_INTERVAL_MS
        finally:
            collector.stop()
        assert collector._handle is None, "stop() cancelled the next tick"

    was = gc.isenabled()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
        if not was:
            gc.disable()


def test_importing_the_policy_imports_no_qt() -> None:
    """The headless modes import it to skip PySide6 and qasync (half of a --print-tree process's time)."""
    qt = ("PySide6", "shiboken6", "qasync")
    code = (
        "import sys\n"
        "import kube9_desktop.gc_policy as p\n"
        f"print(p.__file__, sorted(m for m in {qt!r} if m in sys.modules))\n"
        "import kube9_desktop.ui.gc_driver\n"  # the Qt adapter does import Qt: the check can see it
        f"print(sorted(m for m in {qt!r} if m in sys.modules))\n"
    )
    root = Path(kube9_desktop.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    policy_line, adapter_line = done.stdout.splitlines()
    assert policy_line == f"{root / 'kube9_desktop' / 'gc_policy.py'} []"
    assert "PySide6" in adapter_line
