"""What the window's usage read leaves for the cyclic garbage collector: tracked objects and collections, A/B.

The usage columns' read of a namespace (``UsagePanel._read``: the pods' metrics through ``MetricsTracker.poll``, the
pods' requests and limits through ``pod_specs``, the book through ``UsageBook.build``) runs in a worker after a big
list has loaded; the GUI thread's collector then walks what it created and what it keeps. This runs the same read
against a sim, without Qt's window, and for each round prints:

- ``tracked after it``: the objects the collector still tracks after all that (everything before the read frozen),
  and how many the policy froze meanwhile;
- ``collections``: the collections made while it ran and 0.5 s after (the read in a worker thread, the app's
  collector policy, ``gc_policy.LoopGcDriver``, on this thread's loop), then one young collection (the next one,
  whatever makes it due, walks what the read left young), per generation with their wall and CPU time
  (``gc.callbacks``) and the objects they walked.

Each round is a first read (a new tracker; the pods' specs read too) and the poll repeating it 15 s later (the
sample before kept, the specs cached). The process's first read is left out. ``--ab LEVER`` alternates rounds
without and with one of :data:`LEVERS`. Usage::

    python benchmarks/usage_gc.py --pods 10000 --rounds 6 [--ab LEVER]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # the bench's own helpers
from levers import Levers

from kube9_desktop.sim.process import SimProcess

#: Levers alternated by --ab: name -> function switching it on (True) or off (False).
LEVERS = Levers()
lever = LEVERS.register


@lever("containers")
def _containers(on: bool) -> None:
    """The window's samples without each pod's per-container usage (usage_panel.CONTAINERS False)."""
    from kube9_desktop.ui import usage_panel

    usage_panel.CONTAINERS = not on


_build: Any = None


@dataclass(frozen=True, slots=True)
class _SlottedCells:
    """The book's cells as they were before: one slotted object a row, always tracked."""

    cpu: str
    memory: str
    cpu_level: int = 0
    memory_level: int = 0

    def __iter__(self) -> Any:  # read as the tuple is (the window's cells unpack it)
        return iter((self.cpu, self.memory, self.cpu_level, self.memory_level))

    def __getitem__(self, i: int) -> Any:
        return (self.cpu, self.memory, self.cpu_level, self.memory_level)[i]


def _build_before(cls: Any, context: str, got: Any, allocatable: Any, resources: Any) -> Any:
    """``UsageBook.build`` before the book's cells were shared tuples on the sample's keys."""
    from sys import intern

    from kube9_desktop.kube import metrics
    from kube9_desktop.kube.gui_gate import checkpoint
    from kube9_desktop.kube.metrics import ZERO, Unavailable, Usage, level, pod_percent_bases, usage_cells
    from kube9_desktop.model.usage import owners

    def cells(cpu: str, memory: str, cp: float | None, mp: float | None) -> _SlottedCells:
        return _SlottedCells(intern(cpu), intern(memory), level(cp), level(mp))

    if isinstance(got, Unavailable):
        return cls(context, unavailable=got)
    book = cls(context, at=got.at)
    for name, u in got.nodes.items():
        a = allocatable.get(name, ZERO)
        book.nodes[name] = cells(*usage_cells(u, a.cpu, a.memory))
    sums: dict[tuple[str, str], Any] = {}
    asked: dict[tuple[str, str], Any] = {}
    every = metrics.STEP_EVERY
    for i, ((ns, name), u) in enumerate(got.pods.items()):
        if i % every == 0:
            checkpoint()
        u = Usage(u.real, u.imag)  # a sample's pod usage is a number now (Sample.pods)
        res = resources.get((ns, name))
        cpu_of, mem_of = pod_percent_bases(res) if res is not None else (0.0, 0.0)
        book.pods[(ns, name)] = cells(*usage_cells(u, cpu_of, mem_of))
        for owner in owners(name):
            key = (ns, owner)
            sums[key] = sums.get(key, ZERO) + u
            before = asked.get(key, ZERO)
            asked[key] = (before + Usage(res.cpu_request, res.memory_request)
                          if before is not None and res is not None else None)
    for key, u in sums.items():
        base = asked.get(key)
        book.workloads[key] = cells(*usage_cells(u, base.cpu if base else 0, base.memory if base else 0))
    return book


@lever("book")
def _book(on: bool) -> None:
    """The book's cells shared plain tuples (untracked by the collector's first look), on the sample's keys."""
    global _build
    from kube9_desktop.model.usage import UsageBook

    if _build is None:
        _build = UsageBook.__dict__["build"]
    UsageBook.build = _build if on else classmethod(_build_before)  # type: ignore[method-assign,assignment]


@lever("both")
def _both(on: bool) -> None:
    """containers and book."""
    _containers(on)
    _book(on)


@lever("all")
def _all(on: bool) -> None:
    """containers, book and keys."""
    _both(on)
    _keys(on)


@lever("keys")
def _keys(on: bool) -> None:
    """A poll reuses the last sample's pod keys (metrics.REUSE_KEYS)."""
    from kube9_desktop.kube import metrics

    metrics.REUSE_KEYS = on


class Collections:
    """Each collection's generation and wall time, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.done: list[tuple[int, float]] = []
        #: Each collection's objects in the generations it walks, when it started (what ``gc.get_count`` says).
        self.sizes: list[int] = []
        #: Each collection's CPU time (the collecting thread's), ms: what the load moves less than wall time.
        self.cpu: list[float] = []
        self._t0 = self._c0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.sizes.append(sum(map(len, map(gc.get_objects, range(info["generation"] + 1)))))
            self._t0, self._c0 = time.perf_counter(), time.thread_time()  # after the count: not part of it
        else:
            self.done.append((info["generation"], (time.perf_counter() - self._t0) * 1000))
            self.cpu.append((time.thread_time() - self._c0) * 1000)

    def summary(self) -> str:
        per: dict[int, list[float]] = defaultdict(list)
        for g, ms in self.done:
            per[g].append(ms)
        return ", ".join(f"gen{g} ×{len(v)} {sum(v):.1f} ms (longest {max(v):.1f})" for g, v in sorted(per.items())) \
            + f"; cpu {sum(self.cpu):.1f} ms (longest {max(self.cpu, default=0):.1f}); objects walked " \
            f"{sum(self.sizes)} (most {max(self.sizes, default=0)})"


#: Seconds the collector policy still runs after the read.
AFTER_S = 0.5
#: Print the kept objects' types (--types).
TYPES = False


def tracked() -> int:
    return sum(map(len, map(gc.get_objects, (0, 1, 2))))


def one_read(panel: Any, service: Any, ns: str, first: bool) -> dict[str, Any]:
    """One read as the window's usage panel makes it (in a worker, the app's collector policy on this thread's
    loop); what it kept tracked and the collections it made."""
    from kube9_desktop.gc_policy import LoopGcDriver
    from kube9_desktop.ui import usage_panel
    from kube9_desktop.ui.usage_panel import UsagePanel

    if first:
        panel._res.clear()
        panel._alloc.clear()
        panel.trackers.clear()  # a new tracker: no sample before
    for t in panel.trackers.values():
        if t.latest is not None:
            t.latest.at = 0.0  # due again; the last sample is the one before, as every 15 s in the app
        t.containers = usage_panel.CONTAINERS
    panel.book = None  # the last round's book goes first (in the app the new one replaces it)
    gc.collect()
    gc.freeze()  # what exists before the read
    counts = Collections()

    async def run() -> tuple[Any, float, int]:
        driver = LoopGcDriver()
        gc.callbacks.append(counts)
        try:
            t0 = time.perf_counter()
            book = await asyncio.to_thread(UsagePanel._read, panel, service, "sim-admin", [ns], frozenset({ns}))
            wall = (time.perf_counter() - t0) * 1000
            await asyncio.sleep(AFTER_S)  # the collections the driver makes next
            # What the read left in the young generation is walked by the next young collection, whatever makes
            # it due (a poll whose new objects replace as many freed ones makes none itself): that one, now.
            gc.collect(0)
        finally:
            gc.callbacks.remove(counts)
            driver._stopped = True  # stop ticking without the driver's own full collection
            if driver._handle is not None:
                driver._handle.cancel()
        return book, wall, driver.frozen

    c0 = time.process_time()
    book, wall, frozen = asyncio.run(run())
    cpu = (time.process_time() - c0) * 1000
    gc.disable()
    panel.book = book  # kept, as the model keeps it
    kept = tracked()
    if TYPES:
        from collections import Counter
        kinds = Counter(type(o).__name__ for g in (0, 1, 2) for o in gc.get_objects(g))
        print("   kept by type:", kinds.most_common(8), "pods in the book:", len(book.pods))
    gc.unfreeze()
    return {"kept": kept, "frozen": frozen, "cpu_ms": cpu, "wall_ms": wall,
            "collections": counts.summary(), "gc_ms": sum(ms for _, ms in counts.done),
            "gc_max_ms": max((ms for _, ms in counts.done), default=0.0), "n_gc": len(counts.done),
            "gc_cpu_ms": sum(counts.cpu), "gc_cpu_max_ms": max(counts.cpu, default=0.0),
            "walked": sum(counts.sizes)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=6, help="rounds per variant (default 6)")
    p.add_argument("--ab", default=None, help=f"a lever to alternate with none: {', '.join(LEVERS)}")
    p.add_argument("--types", action="store_true", help="print the kept objects' types")
    args = p.parse_args(argv)
    global TYPES
    TYPES = args.types
    from kube9_desktop.gc_policy import tune_gc

    sim = SimProcess.start("--pods", str(args.pods + 7), "--namespaces", "2", "--nodes", "5", timeout=300)
    service = in_process.make_service(sim, "api")
    tune_gc()
    gc.disable()
    panel = SimpleNamespace(trackers={}, _alloc={}, _res={}, book=None)
    rows: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    try:
        one_read(panel, service, "default", True)  # first-use costs (imports, the connection), left out
        variants: list[str | None] = [None, args.ab] if args.ab else [None]
        for i in range(args.rounds):
            for v in variants if i % 2 == 0 else variants[::-1]:
                if args.ab:
                    LEVERS[args.ab](v is not None)
                for first in (True, False):
                    r = one_read(panel, service, "default", first)
                    rows[(v, first)].append(r)  # type: ignore[index]
                    name = f"with {v}" if v else "without"
                    print(f"{name:>14} {'first' if first else 'again'}: {r['kept']} tracked after it ("
                          f"{r['frozen']} frozen by the policy meanwhile); read {r['wall_ms']:.0f} ms, process cpu "
                          f"{r['cpu_ms']:.0f} ms; collections (0.5 s on) {r['collections']}; "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        sim.stop()
    for (v, first), rs in rows.items():  # type: ignore[misc]
        name = f"with {v}" if v else "without"

        def med(key: str, rs: list[dict[str, Any]] = rs) -> float:
            return statistics.median(r[key] for r in rs)

        print(f"{name:>14} {'first' if first else 'again'}: median {med('kept'):.0f} tracked after it, "
              f"{med('frozen'):.0f} frozen; read {med('wall_ms'):.0f} ms, cpu {med('cpu_ms'):.0f} ms; collections "
              f"median {med('n_gc'):.0f}, {med('gc_ms'):.1f} ms (longest {med('gc_max_ms'):.1f}, worst "
              f"{max(r['gc_max_ms'] for r in rs):.1f}), cpu {med('gc_cpu_ms'):.1f} ms (longest "
              f"{med('gc_cpu_max_ms'):.1f}, worst {max(r['gc_cpu_max_ms'] for r in rs):.1f}); objects walked "
              f"{med('walked'):.0f}; load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
