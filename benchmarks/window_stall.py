"""How long the main window stalls while a big namespace opens: many windows, one number each.

``tree_load.py`` opens the namespace in the window twice; this opens it ``--windows`` times in one process (the
first window a process opens pays first-use costs and is left out) and prints the distribution of the longest
loop stall, with the median times to the first and the last row. Usage::

    python benchmarks/window_stall.py --pods 10000 --windows 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tree_load  # the bench's own helpers

from kube9_desktop.sim.process import SimProcess


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000, help="pods in the namespace opened (default 10,000)")
    p.add_argument("--windows", type=int, default=8, help="windows measured (default 8)")
    args = p.parse_args(argv)
    sim = SimProcess.start("--pods", str(args.pods + 7), "--namespaces", "2", "--nodes", "5", timeout=180)
    try:
        qt = tree_load.Qt()
        lags, firsts, lasts = [], [], []
        for i in range(args.windows + 1):
            r = qt.run(tree_load.open_namespace_in_window(sim, "default"))
            if i == 0:
                continue  # first-use costs (fonts, icons, styles)
            lags.append(r["max_loop_lag_ms"])
            firsts.append(r["first_row_ms"])
            lasts.append(r["last_row_ms"])
        qt.close()
    finally:
        sim.stop()
    print(f"{args.pods:,} pods, {len(lags)} windows: longest stall median {statistics.median(lags):.0f} ms, "
          f"worst {max(lags):.0f} ms (all: {', '.join(str(round(x)) for x in sorted(lags))}); "
          f"first row {statistics.median(firsts):.0f} ms, last row {statistics.median(lasts):.0f} ms (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
