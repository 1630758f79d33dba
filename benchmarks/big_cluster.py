#!/usr/bin/env python3
"""The largest cluster Kubernetes supports (150,000 pods, 5,000 nodes) in the window: issue 15 goal 6.

kube9-sim serves the cluster (what that costs it is measured: start time, resident memory), then a fresh process
opens the real main window (offscreen, 1280x800, API backend) and opens, as a user does: the top level, Nodes,
Namespaces, the biggest namespace's Workloads → Pods, and ``All namespaces`` → Pods (every pod of the cluster) where
the tree has that folder. Per list: the time to its first and to its last row, and the longest event-loop stall
while it loads (the view's layouts and paints included); for the process: its peak resident memory. A fresh
process, so the peak is this session's alone. Part of ``make bench-full``; alone::

    python benchmarks/big_cluster.py [--pods 150000 --nodes 5000 --namespaces 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: Goal 6 of issue 15.
RSS_MB_MAX = 500.0
STALL_MS_MAX = 100.0
FIRST_ROW_MS_MAX = 200.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _proc_mb(pid: int, field: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` (peak) of a process, MB (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# ------------------------------------------------------------------------------------------------ in the child


async def _open(model: Any, expand: Any, path: str, settle: float = 0.3) -> dict[str, Any]:
    """Open the row at ``path`` in the view; time to its first and last child row, the worst stall meanwhile."""
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.model.nodes import LoadState, NodeType

    node = model.find(path)
    if node is None:
        return {"path": path, "missing": True}
    marks: dict[str, float] = {}

    def inserted(parent: Any, first: int, last: int) -> None:
        if model.node(parent) is node and any(c.type is not NodeType.LOADING for c in node.children):
            marks.setdefault("first", time.monotonic())

    model.rowsInserted.connect(inserted)
    monitor = LoopLagMonitor()
    monitor.start()
    await asyncio.sleep(0.02)
    monitor.reset()
    rss0 = _rss_mb()
    t0 = time.monotonic()
    if node.state is LoadState.LOADED and any(c.type is not NodeType.LOADING for c in node.children):
        marks["first"] = t0  # its rows are there already (a folder filled when its parent opened): shown at once
    expand(node)
    await model.wait_idle()
    while node.state is LoadState.LOADING and time.monotonic() - t0 < 600:
        await asyncio.sleep(0.01)
    t1 = time.monotonic()
    if node.children and "first" not in marks and node.children[0].type is not NodeType.LOADING:
        marks["first"] = t1  # the rows were there before the view asked (a list loaded for its count)
    await asyncio.sleep(settle)  # the view's last layout and paint
    await monitor.stop()
    model.rowsInserted.disconnect(inserted)
    last = node.loaded_at if node.loaded_at >= t0 else t1
    # A list that ends without rows says why (its first page failed: an error row); one whose later page failed
    # keeps the rows that came and says so in its note (a partial count is not the list's).
    errors = [c.error.one_line() for c in node.children if c.error is not None][:1]
    return {"path": path, "rows": sum(1 for c in node.children if c.type is NodeType.OBJECT),
            "state": node.state.name, **({"error": errors[0]} if errors else {}),
            **({"partial": node.note} if node.partial else {}),
            "count": node.count, "first_row_ms": round((marks.get("first", t1) - t0) * 1000, 1),
            "last_row_ms": round((last - t0) * 1000, 1), "max_stall_ms": round(monitor.max_lag_ms, 1),
            "max_stall_cpu_ms": round(monitor.max_cpu_ms, 1), "rss_mb_after": round(_rss_mb(), 1),
            "rss_mb_before": round(rss0, 1)}


async def _session(kubeconfig: str, namespace: str) -> dict[str, Any]:
    import tempfile

    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.model.nodes import NodeType
    from kube9_desktop.ui.main_window import MainWindow

    def service() -> KubeService:
        return KubeService(load_kubeconfig(kubeconfig), KubeOptions(), backend="api", kubeconfig_path=kubeconfig)

    steps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # A first window, top level only, then closed: the first window a process opens pays first-use costs
        # (the data layer's imports, fonts, styles) that the cold-start goal measures, not this one.
        warm = MainWindow(SettingsStore(QSettings(str(Path(tmp) / "w.ini"), QSettings.Format.IniFormat)))
        svc = service()
        warm.show()
        warm.attach_service(svc, context="sim-admin")
        await warm.model.wait_idle()
        await warm.shutdown()
        warm.close()
        warm.deleteLater()
        await svc.aclose()
        await asyncio.sleep(0.2)
        svc = service()
        win = MainWindow(SettingsStore(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)))
        try:
            win.resize(1280, 800)
            win.show()
            model = win.model
            monitor = LoopLagMonitor()
            monitor.start()
            await asyncio.sleep(0.02)
            monitor.reset()
            t0 = time.monotonic()
            win.attach_service(svc, context="sim-admin")

            def top_rows() -> int:
                root = model.context_node()
                return 0 if root is None else sum(1 for c in root.children if c.type is not NodeType.LOADING)

            while not top_rows() and time.monotonic() - t0 < 120:
                await asyncio.sleep(0.002)
            first = time.monotonic()
            await model.wait_idle()
            done = time.monotonic()
            await asyncio.sleep(0.3)
            await monitor.stop()
            steps.append({"path": "(top level)", "rows": top_rows(), "first_row_ms": round((first - t0) * 1000, 1),
                          "last_row_ms": round((done - t0) * 1000, 1), "max_stall_ms": round(monitor.max_lag_ms, 1),
                          "max_stall_cpu_ms": round(monitor.max_cpu_ms, 1), "rss_mb_after": round(_rss_mb(), 1)})
            for path in ("Nodes", "Namespaces", f"Namespaces/{namespace}", f"Namespaces/{namespace}/Workloads",
                         f"Namespaces/{namespace}/Workloads/Pods", "All namespaces", "All namespaces/Pods"):
                r = await _open(model, win.expand_node, path)
                if not r.get("missing"):
                    steps.append(r)
        finally:
            await win.shutdown()
            win.close()
            win.deleteLater()
            await svc.aclose()
    return {"steps": steps, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def child(kubeconfig: str, namespace: str) -> dict[str, Any]:
    """In this process: the window session (run by :func:`run` in a fresh process)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import in_process

    qt = in_process.Qt()
    qt.app.setQuitOnLastWindowClosed(False)  # the warm-up window closes before the measured one opens
    try:
        return dict(qt.run(_session(kubeconfig, namespace), timeout=1800))
    finally:
        qt.close()


# ------------------------------------------------------------------------------------------------ the parent


def biggest_namespace(sim: Any) -> tuple[str, int]:
    """The namespace with the most pods (``limit=1`` lists: the server's ``remainingItemCount``)."""
    best = ("default", -1)
    for item in sim.request("GET", "/api/v1/namespaces", timeout=60)["items"]:
        ns = item["metadata"]["name"]
        page = sim.request("GET", f"/api/v1/namespaces/{ns}/pods?limit=1", timeout=60)
        n = len(page.get("items") or []) + int((page.get("metadata") or {}).get("remainingItemCount") or 0)
        if n > best[1]:
            best = (ns, n)
    return best


def run(pods: int = 150_000, nodes: int = 5_000, namespaces: int = 12) -> dict[str, Any]:
    """Start the sim (timed), run the window session in a fresh process, return every figure."""
    from kube9_desktop.sim.process import SimProcess

    t0 = time.monotonic()
    sim = SimProcess.start("--pods", str(pods), "--nodes", str(nodes), "--namespaces", str(namespaces), timeout=900)
    start_s = time.monotonic() - t0
    try:
        sim_rss_ready = _proc_mb(sim.pid, "VmRSS")
        ns, in_ns = biggest_namespace(sim)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
        load = [round(os.getloadavg()[0], 2)]
        proc = subprocess.run([sys.executable, __file__, "--child", sim.kubeconfig, ns], capture_output=True,
                              text=True, env=env, timeout=3600)
        load.append(round(os.getloadavg()[0], 2))
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"big-cluster session failed: rc={proc.returncode} {proc.stderr.strip()[-600:]}")
        res = json.loads(line[len("RESULT "):])
        sim_peak = _proc_mb(sim.pid, "VmHWM")
    finally:
        sim.stop()
    return {"pods": pods, "nodes": nodes, "namespaces": namespaces, "biggest_namespace": ns,
            "pods_in_biggest_namespace": in_ns,
            "sim": {"start_s": round(start_s, 1), "rss_mb_ready": sim_rss_ready, "peak_rss_mb": sim_peak},
            "loadavg_window_session": load,
            **res}


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Goal 6: peak RSS, the worst stall, the slowest first row over every list opened."""
    if not res or not res.get("steps"):
        return []
    size = f"{res['pods']:,} pods / {res['nodes']:,} nodes"
    worst = max(res["steps"], key=lambda s: s["max_stall_ms"])
    stall = worst["max_stall_ms"]
    cpu = f", CPU part {worst['max_stall_cpu_ms']:.0f} ms" if "max_stall_cpu_ms" in worst else ""
    first = max(res["steps"], key=lambda s: s["first_row_ms"])
    return [
        {"target": f"{size}: window peak RSS MB", "value": res["peak_rss_mb"], "goal": f"< {RSS_MB_MAX:.0f} MB",
         "met": res["peak_rss_mb"] < RSS_MB_MAX},
        {"target": f"{size}: longest stall ms (top level, Nodes, biggest namespace, all pods; {worst['path']}{cpu})",
         "value": stall,
         "goal": f"<= {STALL_MS_MAX:.0f} ms", "met": stall <= STALL_MS_MAX},
        {"target": f"{size}: slowest first row of a list ms ({first['path']})", "value": first["first_row_ms"],
         "goal": f"<= {FIRST_ROW_MS_MAX:.0f} ms", "met": first["first_row_ms"] <= FIRST_ROW_MS_MAX},
    ]


def markdown_lines(res: dict[str, Any]) -> list[str]:
    """Rows for the bench's Markdown summary."""
    if not res or not res.get("steps"):
        return []
    sim = res["sim"]
    out = [f"| {res['pods']:,} pods / {res['nodes']:,} nodes: kube9-sim start, RSS ready / peak | "
           f"{sim['start_s']:.0f} s, {sim['rss_mb_ready']:.0f} / {sim['peak_rss_mb']:.0f} MB | |",
           f"| … window: peak RSS | {res['peak_rss_mb']:.0f} MB | |"]
    for s in res["steps"]:
        # The CPU part: the GUI thread's own work within one stall (the rest is waiting for a core on a busy box).
        cpu = f" (CPU {s['max_stall_cpu_ms']:.0f} ms)" if "max_stall_cpu_ms" in s else ""
        out.append(f"| … open {s['path']}: first / last row, longest stall | {s['first_row_ms']:.0f} / "
                   f"{s['last_row_ms']:.0f} ms, {s['max_stall_ms']:.0f} ms{cpu} ({s['rows']:,} rows) | |")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print("RESULT " + json.dumps(child(argv[1], argv[2])), flush=True)
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=150_000)
    p.add_argument("--nodes", type=int, default=5_000)
    p.add_argument("--namespaces", type=int, default=12)
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    res = run(args.pods, args.nodes, args.namespaces)
    print(json.dumps(res, indent=2))
    print("\n".join(markdown_lines(res)))
    for t in targets(res):
        print(f"{t['target']}: {t['value']} (goal {t['goal']}): {'met' if t['met'] else 'NOT met'}")
    print(f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
