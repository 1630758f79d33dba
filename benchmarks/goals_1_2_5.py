#!/usr/bin/env python3
"""Issue 15 goals 1, 2 and 5 alone (a few minutes instead of the whole ``make bench``), through the same functions
``make bench`` / ``make bench-full`` call: ``tree_load.cold_load`` (goal 1: cold depth-2 top level, API vs kubectl,
2,000 pods and with ``--10k`` also 10,000), ``startup_bench.run`` (goal 2: first paint, top level loaded in the
window, whole ``--print-tree`` processes, ``--run help``) and ``tree_load.parallel_vs_sequential`` (goal 5).

``python benchmarks/goals_1_2_5.py [--runs 5] [--10k]`` prints the JSON and one met / NOT met line per target.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process
import report
import startup_bench
import tree_load
from summary_table import tag


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--10k", dest="ten_k", action="store_true", help="goal 1 at 10,000 pods too")
    args = ap.parse_args(argv)
    res: dict = {"machine": tree_load.machine_info(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "bytecode": tree_load.precompile()}
    qt = in_process.Qt()
    try:
        sim = tree_load.start_sim("--pods", "2000", "--namespaces", "12", "--nodes", "5")
        try:
            res["cold_load"] = {"2000": tree_load.cold_load(sim, args.runs)}
            res["startup"] = startup_bench.run(sim.kubeconfig, runs=3)
        finally:
            sim.stop()
        if args.ten_k:
            sim = tree_load.start_sim("--pods", "10000", "--namespaces", "12", "--nodes", "5")
            try:
                res["cold_load"]["10000"] = tree_load.cold_load(sim, args.runs)
            finally:
                sim.stop()
        sim = tree_load.start_sim("--pods", "2000", "--namespaces", "12", "--nodes", "5", "--latency-ms", "20")
        try:
            res["parallel_vs_sequential"] = tree_load.parallel_vs_sequential(qt, sim, max(args.runs, 9))
        finally:
            sim.stop()
    finally:
        qt.close()
    res["targets"] = tag(report.targets(res), 15) + tag(startup_bench.targets(res["startup"]), 15)
    res["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report.print_results(res, res["targets"], indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
