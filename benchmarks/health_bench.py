"""Health benchmark: the cluster overview of a 10,000-pod cluster and the fleet of 50 contexts.

Called by ``benchmarks/tree_load.py`` (``make bench``); also runs alone: ``python benchmarks/health_bench.py
[--smoke]``.

- ``overview``: ``kube/overview.gather`` on a 10,000-pod sim (cold: a new service and client each run): time to
  the finished page and the requests it made (the sim counts them per path: at most one list per kind, paged),
  against assembling the same facts with kubectl (``version``, ``get nodes/pods/deployments,statefulsets,
  daemonsets/pvc/events -o json``, ``top nodes``), one command after the other as a script would. Goals: <= 500 ms,
  <= 1 list per kind; the ratio is reported.
- ``fleet``: ``kube/fleet.probe_all`` over the sim's ``fleet-001`` … ``fleet-050`` contexts (10 point at a dead
  port, 6 at a port that never answers, 4 lack their exec plugin): time to the last live row (goal <= 1 s, not
  waiting for the dead or the slow) and to the last row at all.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GOALS = {"overview_ms": 500.0, "lists_per_kind": 1, "fleet_last_live_ms": 1000.0}
LIST_PATHS = ("/api/v1/nodes", "/api/v1/pods", "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets",
              "/apis/apps/v1/daemonsets", "/api/v1/persistentvolumeclaims", "/api/v1/events")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _kubectl_facts(kubeconfig: str) -> float:
    """The overview's facts with kubectl commands, in sequence; seconds."""
    kc = ["kubectl", "--kubeconfig", kubeconfig, "--context", "sim-admin"]
    cmds = [["version", "-o", "json"], ["get", "nodes", "-o", "json"], ["get", "pods", "-A", "-o", "json"],
            ["get", "deployments,statefulsets,daemonsets", "-A", "-o", "json"], ["get", "pvc", "-A", "-o", "json"],
            ["get", "events", "-A", "--field-selector", "type=Warning", "-o", "json"], ["top", "nodes"]]
    t0 = time.perf_counter()
    for c in cmds:
        subprocess.run(kc + c, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - t0


def overview_bench(sim: Any, runs: int) -> dict[str, Any]:
    """Cold overviews against kubectl, alternated."""
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.overview import gather
    from kube9_desktop.kube.service import KubeService

    ours: list[float] = []
    theirs: list[float] = []
    per_path: dict[str, float] = {}
    pages: dict[str, int] = {}
    requests = 0
    pods = 0
    for _ in range(runs):
        svc = KubeService(load_kubeconfig(sim.kubeconfig))
        try:
            sim.reset_stats()
            t0 = time.perf_counter()
            ov = gather(svc, "sim-admin")
            ours.append((time.perf_counter() - t0) * 1000)
            by_path = sim.stats()["by_path"]
            pages = {p: by_path.get(p, 0) for p in LIST_PATHS}
            # A list of N objects takes ceil(N / limit) pages: more pages than that would be a second list.
            kinds = dict(zip(LIST_PATHS, ("nodes", "pods", "deployments", "statefulsets", "daemonsets",
                                          "persistentvolumeclaims", "events"), strict=True))
            per_path = {p: round(n / max(1, -(-ov.counts.get(kinds[p], 0) // ov.page_size)), 2)
                        for p, n in pages.items()}
            requests, pods = ov.requests, ov.pods_total
        finally:
            asyncio.run(svc.aclose())
        if shutil.which("kubectl"):
            theirs.append(_kubectl_facts(sim.kubeconfig) * 1000)
    med = statistics.median(ours)
    k = statistics.median(theirs) if theirs else None
    return {"pods": pods, "runs": runs, "ms_median": round(med, 1), "ms_all": [round(x, 1) for x in ours],
            "requests": requests, "pages_per_kind": pages, "lists_per_kind": per_path,
            "max_lists_per_kind": max(per_path.values()),
            "kubectl_ms_median": round(k, 1) if k is not None else None,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "ratio_over_kubectl": round(med / k, 3) if k else None}


def fleet_bench(sim: Any, runs: int) -> dict[str, Any]:
    """Probe fleet-001 … fleet-050; time to the last live row and to the last row."""
    from kube9_desktop.kube.fleet import FleetRow, probe_all
    from kube9_desktop.kube.kubeconfig import load_kubeconfig

    kc = load_kubeconfig(sim.kubeconfig)
    names = [n for n in kc.names() if n.startswith("fleet-")]
    live_ms: list[float] = []
    all_ms: list[float] = []
    live = dead = 0
    for _ in range(runs):
        seen: list[tuple[float, FleetRow]] = []
        t0 = time.perf_counter()

        def arrived(r: FleetRow, seen: list[tuple[float, FleetRow]] = seen, t0: float = t0) -> None:
            seen.append((time.perf_counter() - t0, r))

        rows = asyncio.run(probe_all(kc, names, on_row=arrived))
        live = sum(r.reachable for r in rows)
        dead = sum("refused" in r.problem for r in rows)
        live_ms.append(max(t for t, r in seen if r.reachable) * 1000)
        all_ms.append(max(t for t, _ in seen) * 1000)
    return {"contexts": len(names), "live": live, "dead": dead, "runs": runs,
            "last_live_row_ms_median": round(statistics.median(live_ms), 1),
            "last_row_ms_median": round(statistics.median(all_ms), 1)}


def run_health_bench(start_sim: Any, smoke: bool = False, runs: int = 3) -> dict[str, Any]:
    """Both measurements, each on its own sim (``start_sim(*args)`` → SimProcess)."""
    res: dict[str, Any] = {}
    pods = "300" if smoke else "10000"
    sim = start_sim("--pods", pods, "--namespaces", "12", "--nodes", "5")
    try:
        log(f"overview of {pods} pods vs kubectl, {runs} runs")
        res["overview"] = overview_bench(sim, 1 if smoke else runs)
    finally:
        sim.stop()
    # Smoke: 10 contexts (2 dead, 1 never answering) keep the smoke run short.
    sim = start_sim("--pods", "200", "--namespaces", "4", "--nodes", "3", "--contexts", "10" if smoke else "50")
    try:
        log("fleet of the fleet-NNN contexts (every 5th dead, every 7th never answering, every 11th no plugin)")
        res["fleet"] = fleet_bench(sim, 1 if smoke else runs)
    finally:
        sim.stop()
    return res


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals, met or not."""
    out: list[dict[str, Any]] = []
    o = res.get("overview")
    if o:
        out.append({"target": f"overview of {o['pods']} pods, ms", "value": o["ms_median"],
                    "goal": f"<= {GOALS['overview_ms']:.0f} ms", "met": o["ms_median"] <= GOALS["overview_ms"]})
        out.append({"target": "overview: lists per kind", "value": o["max_lists_per_kind"],
                    "goal": "<= 1", "met": o["max_lists_per_kind"] <= GOALS["lists_per_kind"]})
    f = res.get("fleet")
    if f:
        out.append({"target": f"fleet of {f['contexts']} contexts: last live row, ms",
                    "value": f["last_live_row_ms_median"], "goal": f"<= {GOALS['fleet_last_live_ms']:.0f} ms",
                    "met": f["last_live_row_ms_median"] <= GOALS["fleet_last_live_ms"]})
    return out


def markdown_lines(res: dict[str, Any]) -> list[str]:
    """Rows for the bench summary table."""
    lines = []
    o = res.get("overview")
    if o:
        k = f"{o['kubectl_ms_median']:.0f} ms (7 commands)" if o["kubectl_ms_median"] else "kubectl unavailable"
        lines.append(f"| Cluster overview, {o['pods']} pods ({o['requests']} requests) | {o['ms_median']:.0f} ms | "
                     f"{k} |")
        if o["ratio_over_kubectl"] is not None:
            lines.append(f"| … ratio api/kubectl | {o['ratio_over_kubectl']} | |")
    f = res.get("fleet")
    if f:
        lines.append(f"| Fleet of {f['contexts']} contexts ({f['dead']} dead): last live row / last row | "
                     f"{f['last_live_row_ms_median']:.0f} ms / {f['last_row_ms_median']:.0f} ms | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    import argparse

    from kube9_desktop.sim.process import SimProcess

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="300 pods, one run")
    args = ap.parse_args(argv)
    res = run_health_bench(lambda *a: SimProcess.start(*a, timeout=300), smoke=args.smoke)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import report

    report.print_results(res, targets(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
