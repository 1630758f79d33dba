"""Logs benchmarks (called by ``tree_load.py``; ``python benchmarks/logs_bench.py [--smoke]`` runs them alone;
``--untrack-ab ROUNDS`` alternates the follow measurement with held lines tracked / untracked by the GC).

1. Time to the first line and to 1,000 lines of ``--tail 1000``: a new log session on the window's service (its
   own connection, as a new tab pays for) against ``kubectl logs --tail 1000`` (a process), alternated run by run;
   the goal is a ratio of at most 0.3 at 1,000 lines.
2. The window's longest event-loop stall while a followed log tab receives 5,000 lines/s for 10 s (goal <= 50 ms).
3. RSS growth of the process while that tab holds 100,000 lines (goal <= 80 MB).
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kube9_desktop.sim.process import SimProcess

GOALS = {"tail_ratio_max": 0.3, "stall_ms_max": 50.0, "rss_mb_max": 80.0}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _pod(sim: SimProcess) -> str:
    items = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
    return str(next(p["metadata"]["name"] for p in items if len(p["spec"]["containers"]) == 1
                    and "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})))


def _ours(sim: SimProcess, pod: str) -> tuple[float, float, int]:
    """(first line ms, 1,000 lines ms, lines) for a new log client + session, as a new log tab pays."""
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kinds import KINDS
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.log_session import LogSession, log_client
    from kube9_desktop.kube.pod_logs import LogOptions
    from kube9_desktop.kube.service import KubeService

    # The window's service and its stream client exist before a log tab opens (the tree was loaded through the
    # service, and its live watches run on that client): the tab pays for its session - a connection of its own,
    # the request, reading and splitting the lines - not for reading the kubeconfig or building a client again.
    # kubectl pays its process start, as its users do.
    svc = KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(), backend="api", kubeconfig_path=sim.kubeconfig)
    client = log_client(svc, "sim-admin")
    t0 = time.perf_counter()
    s = LogSession(client, "team-a", KINDS["pods"], pod, LogOptions(tail=1000))
    s.start()
    first = None
    n = 0
    while n < 1000 and time.perf_counter() - t0 < 30:
        got = s.drain().lines
        if got and first is None:
            first = time.perf_counter()
        n += len(got)
        if n < 1000:
            time.sleep(0.0005)
    done = time.perf_counter()
    s.close()
    client.close()
    return ((first or done) - t0) * 1000, (done - t0) * 1000, n


def _kubectl(sim: SimProcess, pod: str) -> tuple[float, float, int]:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is needed as the baseline"
    t0 = time.perf_counter()
    p = subprocess.Popen([kubectl, "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "logs", "-n", "team-a",
                          pod, "--tail", "1000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdout is not None
    head = p.stdout.read(1)
    first = time.perf_counter()
    rest = p.stdout.read()
    p.wait()
    done = time.perf_counter()
    return (first - t0) * 1000, (done - t0) * 1000, (head + rest).count(b"\n")


def tail_vs_kubectl(sim: SimProcess, runs: int) -> dict[str, Any]:
    """Alternated runs of ours and kubectl's ``--tail 1000``."""
    pod = _pod(sim)
    ours: list[tuple[float, float, int]] = []
    theirs: list[tuple[float, float, int]] = []
    for _ in range(runs):
        ours.append(_ours(sim, pod))
        theirs.append(_kubectl(sim, pod))
    med = statistics.median
    o1, o2 = med(x[0] for x in ours), med(x[1] for x in ours)
    k1, k2 = med(x[0] for x in theirs), med(x[1] for x in theirs)
    return {"runs": runs, "pod": pod, "lines": ours[-1][2], "kubectl_lines": theirs[-1][2],
            "api_first_line_ms": round(o1, 1), "api_1000_lines_ms": round(o2, 1),
            "kubectl_first_line_ms": round(k1, 1), "kubectl_1000_lines_ms": round(k2, 1),
            "ratio_first_line": round(o1 / k1, 3), "ratio_1000_lines": round(o2 / k2, 3)}


async def follow_in_window(sim: SimProcess, rate: int, seconds: float, hold: int) -> dict[str, Any]:
    """A followed log tab receiving ``rate`` lines/s: the loop's longest stall over ``seconds``, then the RSS
    growth once the tab holds ``hold`` lines."""
    import gc

    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.log_session import LogSpec
    from kube9_desktop.kube.pod_logs import LogOptions
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.ui.logs_view import LogsView

    pod = _pod(sim)
    # The same loop with no log tab, for scale: on a shared, loaded machine the idle loop stalls too.
    idle = LoopLagMonitor()
    idle.start()
    await asyncio.sleep(0.05)
    idle.reset()
    await asyncio.sleep(min(seconds, 3.0))
    await idle.stop()
    svc = KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(), backend="api", kubeconfig_path=sim.kubeconfig)
    gc.collect()
    rss0 = _rss_mb()
    sim.set_log_rate(rate, "team-a", pod)
    view = LogsView(svc, LogSpec("sim-admin", "team-a", "pods", pod, LogOptions(follow=True, tail=0)),
                    max_lines=hold)
    view.resize(1200, 500)
    view.show()
    try:
        while view.lines_received == 0:
            await asyncio.sleep(0.01)
        monitor = LoopLagMonitor()
        monitor.start()
        await asyncio.sleep(0.05)
        monitor.reset()
        start_lines = view.lines_received
        await asyncio.sleep(seconds)
        await monitor.stop()
        got = view.lines_received - start_lines
        deadline = time.monotonic() + 60
        while view.shown_count < hold and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        gc.collect()
        rss1 = _rss_mb()
        held = len(view.model)
    finally:
        view.close_streams()
        sim.set_log_rate(0.5, "team-a", pod)
        view.deleteLater()
        await svc.aclose()
    return {"rate_lines_per_s": rate, "seconds": seconds, "lines_received": got,
            "received_per_s": round(got / seconds), "max_loop_lag_ms": round(monitor.max_lag_ms, 1),
            "max_loop_cpu_ms": round(monitor.max_cpu_ms, 1),
            "idle_max_loop_lag_ms": round(idle.max_lag_ms, 1),
            "lines_held": held, "rss_growth_mb": round(rss1 - rss0, 1)}


def run(qt: Any, smoke: bool = False, runs: int = 5) -> dict[str, Any]:
    """Every logs measurement on a sim of their own; ``qt`` is in_process's Qt (app + qasync loop)."""
    sim = SimProcess.start("--pods", "200", "--namespaces", "3", "--nodes", "3")
    try:
        # The pod's log must hold 1,000 lines: 40 s of history at the default rate is not enough, so write fast
        # for a moment first.
        pod = _pod(sim)
        sim.set_log_rate(2000, "team-a", pod)
        time.sleep(0.6)
        sim.set_log_rate(0.5, "team-a", pod)
        res: dict[str, Any] = {"tail_1000": tail_vs_kubectl(sim, 1 if smoke else runs)}
        res["follow_5000_per_s"] = qt.run(follow_in_window(sim, 5000, 2.0 if smoke else 10.0,
                                                           5_000 if smoke else 100_000))
    finally:
        sim.stop()
    return res


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The logs goals as ``report.targets`` rows."""
    out: list[dict[str, Any]] = []
    t = res.get("tail_1000")
    if t:
        out.append({"target": "logs --tail 1000: api/kubectl time ratio (1,000 lines)", "value": t["ratio_1000_lines"],
                    "goal": "<= 0.3", "met": t["ratio_1000_lines"] <= GOALS["tail_ratio_max"]})
    f = res.get("follow_5000_per_s")
    if f:
        out.append({"target": "followed log tab at 5,000 lines/s: max loop stall ms", "value": f["max_loop_lag_ms"],
                    "goal": "<= 50 ms", "met": f["max_loop_lag_ms"] <= GOALS["stall_ms_max"],
                    "note": f"idle loop {f['idle_max_loop_lag_ms']} ms on this machine; the GUI thread's own CPU in "
                            f"the longest sample {f.get('max_loop_cpu_ms', '?')} ms"})
        out.append({"target": f"log tab holding {f['lines_held']:,} lines: RSS growth MB", "value": f["rss_growth_mb"],
                    "goal": "<= 80 MB", "met": f["rss_growth_mb"] <= GOALS["rss_mb_max"]})
    return out


def untrack_ab(qt: Any, rounds: int, seconds: float = 10.0) -> None:
    """Followed tab at 5,000 lines/s with held lines left tracked by the garbage collector (before) and untracked
    (after, what the readers do), alternated on one sim; prints the load average with every number."""
    import kube9_desktop.kube.pod_logs as pod_logs

    untrack = pod_logs._UNTRACK
    sim = SimProcess.start("--pods", "200", "--namespaces", "3", "--nodes", "3")
    try:
        for r in range(rounds):
            for label, fn in (("before (lines tracked)", None), ("after (lines untracked)", untrack)):
                pod_logs._UNTRACK = fn
                f = qt.run(follow_in_window(sim, 5000, seconds, 100_000))
                print(f"round {r + 1} {label:24} load {os.getloadavg()[0]:5.2f}: max stall "
                      f"{f['max_loop_lag_ms']:6.1f} ms, GUI thread CPU in a sample {f['max_loop_cpu_ms']:5.1f} ms, "
                      f"idle loop {f['idle_max_loop_lag_ms']:5.1f} ms, {f['received_per_s']} lines/s, "
                      f"RSS +{f['rss_growth_mb']} MB", flush=True)
    finally:
        pod_logs._UNTRACK = untrack
        sim.stop()


def main() -> int:

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import report
    from in_process import Qt

    qt = Qt()
    if "--untrack-ab" in sys.argv:
        try:
            untrack_ab(qt, int(sys.argv[sys.argv.index("--untrack-ab") + 1]))
        finally:
            qt.close()
        return 0
    try:
        res = run(qt, smoke="--smoke" in sys.argv, runs=3)
    finally:
        qt.close()
    report.print_results(res, targets(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
