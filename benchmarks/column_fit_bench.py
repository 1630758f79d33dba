"""The column fitter's cost on the GUI thread: ``ColumnFitter.fit`` with Qt's ``sizeHintForColumn`` against the
widths from the row painter's texts (ui/row_widths.py), alternated (A, B, A, B …) in one window, load printed.

Opens a pods list in the real main window (offscreen, 1280x800, usage figures shown), scrolls to a few places and
times ``fit()`` as the GUI thread's CPU time: ``qt`` (the fast path off), ``ours`` (cached cell widths) and
``ours cold`` (the cell widths dropped before each fit: a screen of rows never seen). Usage::

    python benchmarks/column_fit_bench.py [--pods 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # the bench's own helpers

from kube9_desktop.sim.process import SimProcess


def _fit_cpu_ms(win: Any, variant: str, fits: int) -> float:
    """The median GUI-thread CPU of ``fits`` fits with ``variant``."""
    from kube9_desktop.ui.row_widths import RowWidths

    RowWidths.enabled = variant != "qt"
    widths = win.tree.row_painter.widths
    times = []
    for _ in range(fits):
        if variant == "ours cold":
            widths._cells.clear()  # a screen of rows never seen (the options per font and icon stay)
        c0 = time.thread_time()
        win.column_fit.fit()
        times.append((time.thread_time() - c0) * 1000)
    RowWidths.enabled = True
    return statistics.median(times)


async def measure(sim: SimProcess, rounds: int) -> dict[str, list[float]]:
    from kube9_desktop.headless import load_tree
    from kube9_desktop.model import render

    out: dict[str, list[float]] = {"qt": [], "ours": [], "ours cold": []}
    async with in_process.window_on(sim) as win:
        path = "Namespaces/default/Workloads/Pods"
        await load_tree(win.model, 0, [path], expand_view=win.expand_node)
        pods = win.model.find(path)
        win.expand_node(pods)
        await win.model.wait_idle()
        header = win.tree.header()
        for _ in range(300):  # the usage figures (their columns shown)
            if win.model.usage is not None and not header.isSectionHidden(render.COL_CPU):
                break
            await asyncio.sleep(0.1)
        win.usage.timer.stop()
        await asyncio.sleep(0.3)
        win.column_fit.stop()  # fits only here
        shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
        print(f"{len(shown)} columns shown, viewport {win.tree.viewport().height()} px, rows "
              f"{win.tree.viewport().height() // max(1, win.tree.sizeHintForRow(0))}; usage "
              f"{win.model.usage is not None}", flush=True)
        places = [pods.children[i] for i in (0, 40, 200) if i < len(pods.children)]
        for i in range(rounds):
            win.tree.scrollTo(win._view_index(win.model.index_of(places[i % len(places)])))
            await asyncio.sleep(0.05)
            variants = ["qt", "ours", "ours cold"]
            for v in variants if i % 2 == 0 else variants[::-1]:
                out[v].append(_fit_cpu_ms(win, v, 10))
            print(f"round {i}: " + ", ".join(f"{v} {out[v][-1]:.2f} ms" for v in out)
                  + f"; load {os.getloadavg()[0]:.2f}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args(argv)
    sim = SimProcess.start("--pods", str(args.pods + 7), "--namespaces", "2", "--nodes", "5", timeout=300)
    qt = in_process.Qt()
    try:
        out = qt.run(measure(sim, args.rounds))
    finally:
        qt.close()
        sim.stop()
    for v, ms in out.items():
        print(f"{v:>10}: fit() GUI cpu median {statistics.median(ms):.2f} ms, min {min(ms):.2f}, max {max(ms):.2f} "
              f"(medians of 10 fits x {len(ms)} rounds); load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
