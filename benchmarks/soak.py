"""Soak test: repeated expand / refresh / context-switch cycles against a churning kube9-sim.

The app side (MainWindow, tree model, KubeService, qasync loop, offscreen Qt) runs in this process; kube9-sim runs
as a child process so the numbers below are the app's own. After a warm-up cycle the process's RSS, thread count,
open sockets and file descriptors are sampled (psutil), again every ``--sample`` seconds and at the end, and the
growth is reported. Target: RSS growth under 10 %, threads and sockets flat.

    python benchmarks/soak.py                 # 10 minutes
    python benchmarks/soak.py --minutes 2 --out /tmp/soak.json
    python benchmarks/soak.py --minutes 2 --trace    # also: where Python memory grew (tracemalloc, slower)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

CONTEXTS = ("sim-admin", "sim-cert", "sim-viewer")
PATHS = {
    "sim-admin": ["Namespaces/team-a/Workloads/Pods", "Namespaces/team-b/Workloads/Deployments", "Nodes/node-1"],
    "sim-cert": ["Namespaces/team-b/Workloads/Pods", "Namespaces/team-a/Config/ConfigMaps"],
    "sim-viewer": ["Namespaces/team-a/Workloads/Pods", "Namespaces/team-a/Network/Services"],
}


def sample(proc: psutil.Process) -> dict[str, Any]:
    """RSS, threads, sockets and fds of this process (after a full collection)."""
    gc.collect()
    return {
        "t": round(time.monotonic(), 1),
        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
        "threads": proc.num_threads(),
        "py_threads": threading.active_count(),
        "sockets": len(proc.net_connections(kind="inet")),
        "fds": proc.num_fds() if hasattr(proc, "num_fds") else None,
    }


async def cycle(win: Any, n: int) -> dict[str, int]:
    """One round: switch to every context, expand its paths, refresh three times quickly, select a pod."""
    from kube9_desktop.headless import load_tree
    from kube9_desktop.model.nodes import NodeType

    done = {"switches": 0, "refreshes": 0, "selections": 0}
    if n % 5 == 4:
        # Now and then drop a context's tree, cache and client, like a kubeconfig reload does (at the start of a
        # cycle, so every cycle ends with the same contexts loaded and samples compare like with like).
        win.context_box.setCurrentText("sim-admin")
        win.model.forget_context("sim-cert")
        win.service.drop_context("sim-cert")
    for ctx in CONTEXTS:
        win.context_box.setCurrentText(ctx)
        done["switches"] += 1
        await asyncio.wait_for(load_tree(win.model, 2, PATHS[ctx]), 120)
        for _ in range(3):
            win.refresh()
            done["refreshes"] += 1
        await asyncio.wait_for(win.model.wait_idle(), 120)
        pods = win.model.find(PATHS[ctx][0])
        rows = [c for c in (pods.children if pods is not None else []) if c.type is NodeType.OBJECT]
        if rows:
            win.tree.setCurrentIndex(win.model.index_of(rows[n % len(rows)]))
            await win.wait_details()
            done["selections"] += 1
        await asyncio.sleep(0.05)
    return done


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.sim.process import SimProcess
    from kube9_desktop.ui.main_window import MainWindow

    loop = asyncio.get_event_loop()
    sim = await loop.run_in_executor(None, lambda: SimProcess.start(
        "--pods", str(args.pods), "--namespaces", "12", "--nodes", "5", "--churn", str(args.churn)))
    proc = psutil.Process()
    settings_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"kube9-soak-{os.getpid()}"
    settings_dir.mkdir(parents=True, exist_ok=True)
    svc = KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(page_size=500), kubeconfig_path=sim.kubeconfig)
    win = MainWindow(SettingsStore(QSettings(str(settings_dir / "settings.ini"), QSettings.Format.IniFormat)))
    win.show()
    totals = {"cycles": 0, "switches": 0, "refreshes": 0, "selections": 0}
    samples: list[dict[str, Any]] = []
    try:
        win.attach_service(svc, context="sim-admin")
        for n in range(2):  # warm-up: imports, caches, pools, watches reach their steady size
            await cycle(win, n)
        start = sample(proc)
        samples.append(start)
        first_snapshot = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        print(f"start  {json.dumps(start)}", flush=True)
        deadline = time.monotonic() + args.minutes * 60
        next_sample = time.monotonic() + args.sample
        n = 2
        while time.monotonic() < deadline:
            for k, v in (await cycle(win, n)).items():
                totals[k] += v
            totals["cycles"] += 1
            n += 1
            if time.monotonic() >= next_sample:
                s = sample(proc)
                samples.append(s)
                print(f"sample {json.dumps(s)} cycles={totals['cycles']}", flush=True)
                next_sample += args.sample
        await win.model.wait_idle()
        end = sample(proc)
        samples.append(end)
        print(f"end    {json.dumps(end)}", flush=True)
        if first_snapshot is not None:
            _print_growth(first_snapshot, tracemalloc.take_snapshot())
    finally:
        await win.shutdown()
        await svc.aclose()
        win.close()
        await loop.run_in_executor(None, sim.stop)
    growth = (end["rss_mb"] - start["rss_mb"]) / start["rss_mb"] * 100
    return {
        "minutes": args.minutes,
        "pods": args.pods,
        "churn_per_s": args.churn,
        **totals,
        "start": start,
        "end": end,
        "rss_growth_pct": round(growth, 1),
        "threads_delta": end["threads"] - start["threads"],
        "sockets_delta": end["sockets"] - start["sockets"],
        "fds_delta": (end["fds"] - start["fds"]) if end["fds"] is not None and start["fds"] is not None else None,
        "samples": samples,
        "target_met": growth < 10 and end["threads"] <= start["threads"] and end["sockets"] <= start["sockets"],
    }


def _print_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = 15) -> None:
    """Where Python-allocated memory grew between two snapshots, by allocating line (``--trace``)."""
    diff = after.compare_to(before, "lineno")
    print(f"python heap: {sum(s.size for s in after.statistics('filename')) / 2**20:.1f} MB traced; "
          f"largest growth by line:", flush=True)
    for stat in diff[:top]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback[0]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print (and optionally write) the report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    p.add_argument("--pods", type=int, default=2000, help="pods in the sim (default 2000)")
    p.add_argument("--churn", type=float, default=20.0, help="pod changes per second in the sim (default 20)")
    p.add_argument("--sample", type=float, default=30.0, help="seconds between samples (default 30)")
    p.add_argument("--out", help="write the report as JSON to this file")
    p.add_argument("--trace", action="store_true", help="trace Python allocations and print where memory grew")
    args = p.parse_args(argv)
    if args.trace:
        tracemalloc.start()

    from kube9_desktop.memory import limit_malloc_arenas

    limit_malloc_arenas()  # as the app does at start-up
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
    report = _run(app, args)
    summary = {k: v for k, v in report.items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


def _run(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result: dict[str, Any] = loop.run_until_complete(soak(args))
    return result


if __name__ == "__main__":
    sys.exit(main())
