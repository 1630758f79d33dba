"""What the GUI thread's young collections find while a 10,000-pod namespace pours into the window, and what
freezing the young generation instead of walking it (lever ``pourfreeze``) leaves frozen.

Opens the namespace in the real main window ``--windows`` times in one process (as ``window_stall.py`` does; the
first window pays first-use costs and is left out of the figures) with ``gc.callbacks`` on every collection the
app's collector policy (``gc_policy.GcPolicy``, on the GUI thread) makes, and prints for each window:

- ``young while pouring``: the young collections made while the policy counted the load as pouring (what
  ``pourfreeze`` turns into a freeze): how many, the objects they walked (the young generation at the start) and
  found (``collected``: cyclic garbage), their GUI CPU;
- the same for the young collections outside the pour and for the middle and full ones;
- ``freezes``: the policy's freezes (young ones: without a young collection before, so while pouring);
- after the window is closed (and 1 s of the loop): ``gc.get_freeze_count()`` and the process's RSS.

At the end the frozen generation is unfrozen and collected once: what that finds is cyclic garbage that was kept
because it was frozen (with and without the lever: run the script once each, alternated by process, since a freeze
lasts for the process). ``--census`` prints the types of what the young collections while pouring found (with
``gc.DEBUG_SAVEALL`` for those collections only: the objects are freed by a later collection instead). Usage::

    python benchmarks/pour_gc.py --pods 10000 --windows 7 [--lever on] [--census]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # the bench's own helpers

from kube9_desktop.sim.process import SimProcess


class Collections:
    """``gc.callbacks`` entry: every collection's generation, whether the policy was pouring, objects walked and
    found, GUI CPU."""

    def __init__(self, policy: Any, census: bool) -> None:
        self.policy = policy
        self.census = census
        self.types: Counter[str] = Counter()
        self.done: list[tuple[int, bool, int, int, float]] = []  # gen, pouring, walked, found, cpu ms
        #: The young collections outside a pour: (when, perf_counter s; objects walked; their rate, objects/s).
        self.others: list[tuple[float, int, float]] = []
        self._start: tuple[bool, int, float] | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        gen = info["generation"]
        if phase == "start":
            pouring = time.perf_counter() < self.policy._pouring_until
            walked = sum(map(len, map(gc.get_objects, range(gen + 1))))  # outside the collection's CPU below
            if self.census and pouring and gen == 0:
                gc.set_debug(gc.DEBUG_SAVEALL)  # what it finds goes to gc.garbage, to be counted by type
            if gen == 0 and not pouring:
                now = time.perf_counter()
                self.others.append((now, walked, walked / max(now - self.policy._young_since, 1e-6)))
            self._start = (pouring, walked, time.thread_time())
        elif self._start is not None:
            pouring, walked, c0 = self._start
            self._start = None
            self.done.append((gen, pouring, walked, info["collected"], (time.thread_time() - c0) * 1000))
            if gc.get_debug() & gc.DEBUG_SAVEALL:
                gc.set_debug(0)
                self.types.update(type(o).__qualname__ for o in gc.garbage)
                gc.garbage.clear()  # still cycles: a later collection frees them

    def summary(self, gen: int, pouring: bool | None = None) -> str:
        rs = [r for r in self.done if r[0] == gen and (pouring is None or r[1] == pouring)]
        found = [r[3] for r in rs]
        return (f"{len(rs)}, walked {sum(r[2] for r in rs)}, found {sum(found)} (most {max(found, default=0)}), "
                f"cpu {sum(r[4] for r in rs):.1f} ms")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--windows", type=int, default=7, help="windows measured (default 7; one more is left out)")
    p.add_argument("--lever", choices=("on", "off"), default="off", help="gc_policy.FREEZE_YOUNG_WHILE_POURING "
                   "after the first window (default off; the app's is on since 3 Dec)")
    p.add_argument("--reload", action="store_true", help="one window: the namespace opened, then the context "
                   "reloaded (its tree cleared), --windows times (as the app lives: one window)")
    p.add_argument("--rate", type=int, default=None, help="gc_policy.POURING_RATE after the first window "
                   "(objects a second; default the app's: 30,000 since 3 Dec, 100,000 before)")
    p.add_argument("--busy", type=int, default=0, choices=(0, 1, 2), help="spinning processes meanwhile")
    p.add_argument("--census", action="store_true", help="the types of what the pour's young collections found")
    args = p.parse_args(argv)
    from kube9_desktop import gc_policy

    sim = SimProcess.start("--pods", str(args.pods + 7), "--namespaces", "2", "--nodes", "5", timeout=300)
    qt = in_process.Qt()
    policy = qt.collector._policy
    freezes: list[tuple[bool, int]] = []  # (young: no collection in its check before it, young objects)
    freeze, check = policy._freeze, policy.check
    counts = Collections(policy, args.census)

    def counted_freeze() -> None:
        freezes.append((n_done == len(counts.done), gc.get_count()[0]))
        freeze()

    def counted_check() -> int:
        nonlocal n_done
        n_done = len(counts.done)
        return check()

    n_done = 0
    policy._freeze = counted_freeze  # type: ignore[method-assign]
    policy.check = counted_check  # type: ignore[method-assign]
    spinners = in_process.Spinners(args.busy)
    try:
        spinners.start()
        qt.run(in_process.open_namespace_in_window(sim, "default"))  # first-use costs, left out
        qt.run(asyncio.sleep(1.0))
        gc_policy.FREEZE_YOUNG_WHILE_POURING = args.lever == "on"
        if args.rate is not None:
            gc_policy.POURING_RATE = args.rate
        gc.callbacks.append(counts)
        gc.collect()
        frozen0, rss0, blocks0 = gc.get_freeze_count(), in_process.rss_mb(), sys.getallocatedblocks()
        print(f"pourfreeze {args.lever}: after the first window frozen {frozen0}, RSS {rss0:.1f} MB; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)

        async def opened(win: Any) -> float:
            """The namespace opened in ``win`` and dropped again (the context reloaded: its tree cleared)."""
            r = await in_process.open_namespace(win.model, "default", win.expand_node, settle=0.2)
            win.model.reload_node(win.model.context_node(), user=False)
            await win.model.wait_idle()
            return float(r["max_loop_lag_ms"])

        async def one(win: Any) -> None:
            """The namespace opened in ``win`` and dropped again."""
            counts.done.clear()
            counts.others.clear()
            freezes.clear()
            t0 = time.perf_counter()
            lag = await opened(win)
            await asyncio.sleep(1.0)  # the window's deferred deletes, the usage read's end
            report(lag, t0, "reload")

        def report(lag: float, t0: float, what: str) -> None:
            gc.collect()  # what is not frozen: only what a freeze kept is left of the window
            young = sum(1 for y, _ in freezes if y)
            print(f"  {what}: stall {lag:.1f} ms; young while pouring "
                  f"{counts.summary(0, True)}; young otherwise {counts.summary(0, False)}; middle "
                  f"{counts.summary(1)}; full {counts.summary(2)}; freezes {len(freezes)} ({young} young "
                  f"ones, {sum(n for y, n in freezes if y)} objects in them); then frozen "
                  f"{gc.get_freeze_count()} (+{gc.get_freeze_count() - frozen0}), RSS {in_process.rss_mb():.1f} MB, "
                  f"blocks {sys.getallocatedblocks() - blocks0:+}; load {os.getloadavg()[0]:.2f}", flush=True)
            print(f"    young ones outside the pour (ms from the open, objects, objects/s): "
                  f"{[(round((t - t0) * 1000), n, round(r)) for t, n, r in counts.others]}", flush=True)

        async def reloads() -> None:
            async with in_process.window_on(sim) as win:
                for _ in range(args.windows):
                    await one(win)

        if args.reload:
            qt.run(reloads())
        else:
            for _ in range(args.windows):  # a qt.run each: closing a window ends the loop's run
                counts.done.clear()
                counts.others.clear()
                freezes.clear()
                t0 = time.perf_counter()
                lag = qt.run(in_process.open_namespace_in_window(sim, "default"))["max_loop_lag_ms"]
                qt.run(asyncio.sleep(1.0))  # the window's deferred deletes, the usage read's end
                report(lag, t0, "window")
        gc.callbacks.remove(counts)
        if args.census:
            print("  found by the pour's young collections, by type:", counts.types.most_common(25))
        gc.collect()
        frozen1, blocks1 = gc.get_freeze_count(), sys.getallocatedblocks()
        gc.unfreeze()
        if args.census:
            gc.set_debug(gc.DEBUG_SAVEALL)
        found = gc.collect()
        if args.census:
            gc.set_debug(0)
            kept = Counter(type(o).__qualname__ for o in gc.garbage)
            print("  kept frozen, found once unfrozen, by type:", kept.most_common(30))
            shapes = Counter(f"{type(o).__qualname__}({', '.join(type(x).__qualname__ for x in o)[:120]})"
                             for o in gc.garbage if type(o) in (tuple, list))
            print("  their tuples and lists by the types they hold:", shapes.most_common(12))
            pairs = [o for o in gc.garbage if type(o) is tuple and len(o) == 2
                     and all(type(x) is str for x in o)]
            held = Counter()
            for t in pairs[::max(1, len(pairs) // 50)]:
                for r in gc.get_referrers(t):
                    if r is not gc.garbage and r is not pairs:
                        held[f"{type(r).__qualname__} of {len(r) if hasattr(r, '__len__') else '?'}"] += 1
            print("  what holds a sample of the (str, str) ones:", held.most_common(8))
            sys.stdout.flush()
            gc.garbage.clear()
        print(f"pourfreeze {args.lever}: {args.windows} {'reloads' if args.reload else 'windows'}: frozen "
              f"{frozen0} -> {frozen1} "
              f"(+{frozen1 - frozen0}); RSS {rss0:.1f} -> {in_process.rss_mb():.1f} MB; memory blocks "
              f"{blocks1 - blocks0:+}; unfrozen and collected once: {found} objects found (cyclic garbage kept "
              f"frozen), {blocks1 - sys.getallocatedblocks()} memory blocks freed; load {os.getloadavg()[0]:.2f}",
              flush=True)
    finally:
        spinners.stop()
        qt.close()
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
