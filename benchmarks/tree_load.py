#!/usr/bin/env python3
"""Tree-load benchmark: the API backend against kubectl spawning, on kube9-sim, through the real tree model.

Run ``make bench`` (``--quick``, the default, < 2 min on 2 cores), ``make bench-full`` (``--full``: also 10,000 and
50,000 pods, peak RSS) or ``--smoke`` (tiny sizes, one run: only checks that the script works).

Every measurement alternates the two backends run by run so machine noise hits both alike. What is measured:

1. ``cold_load``: a cold depth-2 tree (``kube9-desktop --print-tree --depth 2``, a fresh process each run: nodes,
   namespaces, cluster resources listed), ``load_ms`` from the footer (first fetch → last row inserted).
2. ``namespace_open``: opening one namespace holding N pods, in-process (``ClusterTreeModel`` + ``KubeService`` on a
   qasync loop, as the app runs): time to the first and to the last pod row inserted under its Pods node.
3. ``cached_reload``: the same loads again within the TTL in a fresh model on the same service: requests made
   (sim ``/simz/stats`` and client counters) and time.
4. ``session``: a scripted browsing session through the model (see :func:`session`): cache hits/misses, requests,
   TCP connections opened (sim) vs kubectl processes spawned.
5. ``max_loop_lag_ms``: the longest event-loop stall during each load (``LoopLagMonitor``).
6. ``peak_rss``: peak RSS of a ``--print-tree`` process holding 50,000 pods (``--full`` only).
7. ``parallel_vs_sequential``: the top level with ``--latency-ms 20``, with the normal worker pool vs one worker,
   each context prepared as its load starts (as the window does when it shows a context).
8. ``actions``: time from a command to the tree showing its result (scale 3→5 until 5 pod rows, delete until the row
   is gone), the API path against ``kubectl`` + the kubectl-backed tree, alternated (``benchmarks/actions.py``).
9. ``exec``: keystroke-to-echo in the shell tab (p50/p95 over 500 keys) and port-forward throughput and first byte
   against ``kubectl port-forward`` on the same sim (``benchmarks/exec_bench.py``).
11. ``health``: the cluster overview of 10,000 pods (time, requests, lists per kind) against the same facts from
   kubectl commands, and the fleet of 50 contexts with 10 dead: time to the last live row
   (``benchmarks/health_bench.py``).
12. ``kinds``: quick open per keystroke over 50,000 names (p95), revealing a pod in an unopened namespace, and the
   cold top level with discovery alongside vs without (``benchmarks/kinds_bench.py``).

Results go to ``benchmarks/results/latest.json``; with matplotlib installed (the ``bench`` extra) also
``benchmarks/results/load_vs_size.png`` and ``session_requests.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from in_process import (  # noqa: E402  (benchmarks/ is on sys.path: this script's directory)
    Qt,
    collapse,
    expand,
    load_top,
    make_model,
    make_service,
    open_namespace,
    open_namespace_in_window,
    requests_of,
)
from report import big_cluster_targets, markdown, plots, targets, window_stall_targets  # noqa: E402

from kube9_desktop.sim.process import SimProcess  # noqa: E402

FOOTER = re.compile(r"^# rows=(\d+) load_ms=([\d.]+) requests=(\d+) cache_hits=(\d+) cache_misses=(\d+) "
                    r"connections=(\d+) max_loop_lag_ms=([\d.]+)")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def summary(values: list[float]) -> dict[str, Any]:
    """median/min/max/n (and the raw values) of a list of numbers."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "n": len(values), "values": [round(v, 2) for v in values]}


def env() -> dict[str, str]:
    e = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return e


def machine_info() -> dict[str, Any]:
    kubectl = shutil.which("kubectl")
    kv = ""
    if kubectl:
        try:
            out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                                 timeout=20).stdout
            kv = json.loads(out).get("clientVersion", {}).get("gitVersion", "")
        except (OSError, ValueError, subprocess.SubprocessError):
            kv = "?"
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine(), "kubectl": kv, "loadavg_at_start": [round(x, 2) for x in load]}


def precompile() -> dict[str, Any]:
    """Byte-compile the package under test, as ``pip install`` does for an installed app.

    The bench runs the checkout from source (``PYTHONPATH``), and this machine sets ``PYTHONDONTWRITEBYTECODE=1``:
    no ``.pyc`` was ever written, so every process measured compiled each of kube9's ~190 modules it imports
    from source again (a third of the CPU to the window's first paint). An installed kube9 (wheel, or any run
    without that variable) loads them compiled. Reading existing ``.pyc`` files works with the variable set.
    """
    import compileall

    t = time.perf_counter()
    ok = compileall.compile_dir(str(ROOT / "kube9_desktop"), quiet=1)
    return {"precompiled": bool(ok), "seconds": round(time.perf_counter() - t, 2),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", "")}


def start_sim(*args: str) -> SimProcess:
    log(f"starting kube9-sim {' '.join(args)}")
    return SimProcess.start(*args, timeout=180)


# ------------------------------------------------------------------------------------------------ print-tree runs


def print_tree(sim: SimProcess, backend: str, depth: int = 2, expand: tuple[str, ...] = (),
               context: str = "sim-admin") -> dict[str, float]:
    """One ``kube9-desktop --print-tree`` process; returns its footer (and the process's peak RSS in MB)."""
    cmd = [sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context", context,
           "--backend", backend, "--print-tree", "--depth", str(depth)]
    for p in expand:
        cmd += ["--expand", p]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=600)
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = proc.stdout.strip().splitlines()
    m = FOOTER.match(lines[-1]) if lines else None
    if proc.returncode != 0 or m is None:
        raise RuntimeError(f"print-tree ({backend}) failed: rc={proc.returncode} {proc.stderr.strip()[-400:]}")
    keys = ["rows", "load_ms", "requests", "cache_hits", "cache_misses", "connections", "max_loop_lag_ms"]
    out = {k: float(v) for k, v in zip(keys, m.groups(), strict=True)}
    # ru_maxrss of children is the max over all children so far: only meaningful when it grew.
    out["peak_rss_mb"] = rss_kb / 1024 if rss_kb > before else float("nan")
    return out


def cold_load(sim: SimProcess, runs: int) -> dict[str, Any]:
    """Cold depth-2 loads, alternating api / kubectl; one warm-up run each is discarded (first-run disk caches)."""
    for b in ("api", "kubectl"):
        print_tree(sim, b)
    res: dict[str, list[dict[str, float]]] = {"api": [], "kubectl": []}
    for i in range(runs):
        order = ("api", "kubectl") if i % 2 == 0 else ("kubectl", "api")
        for b in order:
            res[b].append(print_tree(sim, b))
    api = summary([r["load_ms"] for r in res["api"]])
    kubectl = summary([r["load_ms"] for r in res["kubectl"]])
    ratio = api["median"] / kubectl["median"] if kubectl["median"] else None
    return {
        "api": {"load_ms": api, "requests": res["api"][0]["requests"],
                "connections": summary([r["connections"] for r in res["api"]]),
                "max_loop_lag_ms": summary([r["max_loop_lag_ms"] for r in res["api"]])},
        "kubectl": {"load_ms": kubectl, "processes": res["kubectl"][0]["requests"],
                    "max_loop_lag_ms": summary([r["max_loop_lag_ms"] for r in res["kubectl"]])},
        "ratio_api_over_kubectl": round(ratio, 4) if ratio is not None else None,
    }


# ------------------------------------------------------------------------------------------------ namespace open


async def namespace_case(sim: SimProcess, backend: str, ns: str) -> dict[str, Any]:
    """Cold namespace open, then the same loads again within the TTL in a fresh model on the same service."""
    svc = make_service(sim, backend)
    try:
        model = make_model(svc)
        top = await load_top(model)
        cold = await open_namespace(model, ns)
        # (3) Within the TTL (pods: 5 s): a fresh tree on the same service, e.g. a second window or a kubeconfig
        # reload. Everything must come from the cache.
        sim.reset_stats()
        before = requests_of(svc)
        again = make_model(svc)
        top2 = await load_top(again)
        warm = await open_namespace(again, ns)
        made = requests_of(svc) - before
        sim_requests = sim.stats()["requests"]
        await model.shutdown()
        await again.shutdown()
        return {"cold": {**cold, "top_load_ms": top["load_ms"]},
                "cached": {**warm, "top_load_ms": top2["load_ms"], "top_max_loop_lag_ms": top2["max_loop_lag_ms"],
                           "requests": made, "sim_requests": sim_requests}}
    finally:
        await svc.aclose()


def namespace_open(qt: Qt, sim: SimProcess, runs: int) -> dict[str, Any]:
    pods_in_ns = max(0, sim.stats()["pods"])
    out: dict[str, Any] = {"api": [], "kubectl": []}
    for i in range(runs):
        for b in (("api", "kubectl") if i % 2 == 0 else ("kubectl", "api")):
            out[b].append(qt.run(namespace_case(sim, b, "default")))
    res: dict[str, Any] = {"pods_in_namespace_approx": pods_in_ns}
    for b, rs in out.items():
        res[b] = {
            "rows": rs[0]["cold"]["rows"],
            "first_row_ms": summary([r["cold"]["first_row_ms"] for r in rs]),
            "last_row_ms": summary([r["cold"]["last_row_ms"] for r in rs]),
            "all_lists_ms": summary([r["cold"]["all_lists_ms"] for r in rs]),
            "max_loop_lag_ms": summary([r["cold"]["max_loop_lag_ms"] for r in rs]),
            "cached": {
                "requests": max(r["cached"]["requests"] for r in rs),
                "sim_requests": max(r["cached"]["sim_requests"] for r in rs),
                "top_load_ms": summary([r["cached"]["top_load_ms"] for r in rs]),
                "top_max_loop_lag_ms": summary([r["cached"]["top_max_loop_lag_ms"] for r in rs]),
                "first_row_ms": summary([r["cached"]["first_row_ms"] for r in rs]),
                "last_row_ms": summary([r["cached"]["last_row_ms"] for r in rs]),
                "max_loop_lag_ms": summary([r["cached"]["max_loop_lag_ms"] for r in rs]),
            },
        }
    # In the window (API backend): what the user sees, view layouts and painting included.
    win = [qt.run(open_namespace_in_window(sim, "default")) for _ in range(runs)]
    res["api"]["window"] = {"rows": win[0]["rows"],
                            **{k: summary([w[k] for w in win]) for k in ("first_row_ms", "last_row_ms",
                                                                           "max_loop_lag_ms")}}
    return res


# ------------------------------------------------------------------------------------------------ session


SESSION_NAMESPACES = ("team-a", "team-b", "team-c")


async def session(sim: SimProcess, backend: str) -> dict[str, Any]:
    """The scripted browsing session, through the model exactly as the window drives it.

    Open context sim-admin; expand Nodes and Namespaces; open 3 namespaces and their Pods and Deployments; collapse
    and re-open them; switch to sim-cert and back; press Refresh once; re-open the same lists.

    The hit rate counts the user's lookups: every list the user opens (re-opening a loaded list, or showing a kept
    context again, looks it up through the cache and re-fetches it once its TTL has passed). Lists fetched ahead of
    demand (folder counts, and closed lists kept current on Refresh) are prefetches, not lookups; their requests
    are still in ``requests`` and in the sim's counters.
    """
    from kube9_desktop.model.lag import LoopLagMonitor

    svc = make_service(sim, backend)
    contexts = ("sim-admin", "sim-cert")
    steps: list[dict[str, Any]] = []
    try:
        model = make_model(svc)
        monitor = LoopLagMonitor()
        monitor.start()
        sim.reset_stats()
        t_start = time.perf_counter()

        async def step(name: str, fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
            r0, c0 = requests_of(svc, contexts), svc.cache_stats()
            t0 = time.perf_counter()
            await fn()
            await model.wait_idle()
            c1 = svc.cache_stats()
            steps.append({"step": name, "ms": round((time.perf_counter() - t0) * 1000, 1),
                          "requests": requests_of(svc, contexts) - r0, "cache_hits": c1.hits - c0.hits,
                          "cache_misses": c1.misses - c0.misses})

        async def open_ctx(name: str) -> None:
            model.set_context(name, user=False)
            await model.wait_idle()

        async def expand_top() -> None:
            for p in ("Nodes", "Namespaces"):
                await expand(model, p)

        async def open_lists() -> None:
            for ns in SESSION_NAMESPACES:
                await expand(model, f"Namespaces/{ns}")
                await expand(model, f"Namespaces/{ns}/Workloads")
                for kind in ("Pods", "Deployments"):
                    await expand(model, f"Namespaces/{ns}/Workloads/{kind}")

        async def collapse_and_reopen() -> None:
            for ns in SESSION_NAMESPACES:
                for kind in ("Pods", "Deployments"):
                    collapse(model, f"Namespaces/{ns}/Workloads/{kind}")
                collapse(model, f"Namespaces/{ns}/Workloads")
                collapse(model, f"Namespaces/{ns}")
            await open_lists()

        async def refresh() -> None:
            model.refresh("sim-admin")
            await model.wait_idle()

        await step("open context", lambda: open_ctx("sim-admin"))
        await step("expand Nodes and Namespaces", expand_top)
        await step("open Pods and Deployments in 3 namespaces", open_lists)
        await step("collapse and re-open them", collapse_and_reopen)
        await step("switch to sim-cert", lambda: open_ctx("sim-cert"))
        await step("switch back to sim-admin", lambda: open_ctx("sim-admin"))
        await step("press Refresh", refresh)
        await step("re-open", collapse_and_reopen)
        elapsed = (time.perf_counter() - t_start) * 1000
        await monitor.stop()
        sim_stats = sim.stats()
        cache = svc.cache_stats()
        await model.shutdown()
        out: dict[str, Any] = {
            "hit_rate": round(cache.hit_rate, 4),
            "cache_hits": cache.hits, "cache_joins": cache.joins, "cache_misses": cache.misses,
            "cache_prefetches": cache.prefetches,
            "requests": requests_of(svc, contexts),
            "sim_requests": sim_stats["requests"],
            "ms": round(elapsed, 1),
            "max_loop_lag_ms": round(monitor.max_lag_ms, 1),
            "steps": steps,
        }
        if backend == "api":
            # The sim counts every TCP connection it accepts, including the one its own /simz/stats request
            # (sent after the session) opened.
            out["tcp_connections_sim"] = max(0, sim_stats["connections"] - 1)
            out["tcp_connections_per_context"] = {c: svc.stats(c).connections for c in contexts}
            # The pool's real size: the worker threads plus the readers beside the tree (client_auth.SIDE_READERS).
            # A burst's requests sent from one thread (send_many) and the workers' own can be out together, so a
            # session may hold a few more than ``workers``; more than the pool's size would mean connections
            # discarded and reopened (a TLS handshake each).
            from kube9_desktop.kube.client_auth import SIDE_READERS

            out["pool_size"] = svc.options.workers + SIDE_READERS
        else:
            out["kubectl_processes"] = requests_of(svc, contexts)
        return out
    finally:
        await svc.aclose()


# ------------------------------------------------------------------------------------------------ parallel


async def top_level(sim: SimProcess, workers: int) -> float:
    svc = make_service(sim, "api", workers=workers)
    try:
        model = make_model(svc)
        # As the window shows a context: its client and connections are prepared as its load starts (no lead).
        svc.prepare("sim-admin")
        r = await load_top(model)
        await model.shutdown()
        return r["load_ms"]
    finally:
        await svc.aclose()


def parallel_vs_sequential(qt: Qt, sim: SimProcess, runs: int) -> dict[str, Any]:
    """Goal 5: the top level with the normal worker pool vs one worker, ``runs`` alternated pairs.

    A pair takes ~0.2 s, so callers ask for 9 or more: a parallel load is ~30 ms, and one run in five waiting for a
    core on a loaded machine moved the median of five by a third.
    """
    from kube9_desktop.kube.backend import KubeOptions

    workers = KubeOptions().workers
    par: list[float] = []
    seq: list[float] = []
    qt.run(top_level(sim, workers))  # warm-up (imports, first-use costs)
    for i in range(runs):
        for w in ((workers, 1) if i % 2 == 0 else (1, workers)):
            (par if w == workers else seq).append(qt.run(top_level(sim, w)))
    p, s = summary(par), summary(seq)
    return {"latency_ms": 20, "parallel_workers": workers, "parallel_ms": p, "sequential_ms": s,
            "ratio": round(p["median"] / s["median"], 4) if s["median"] else None,
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="2,000 pods; namespaces of 2,000 and 10,000 pods (default)")
    mode.add_argument("--full", action="store_true", help="also 10,000 and 50,000 pods cluster-wide, peak RSS")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, one run: checks the script works")
    ap.add_argument("--runs", type=int, default=None, help="runs per backend (default 5, smoke 1)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = ap.parse_args(argv)
    name = "full" if args.full else "smoke" if args.smoke else "quick"
    runs = args.runs or (1 if args.smoke else 5)
    args.out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    res: dict[str, Any] = {"mode": name, "runs": runs, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                           "machine": machine_info(), "command": f"python benchmarks/tree_load.py --{name}",
                           "bytecode": precompile()}
    cluster_sizes = [50] if args.smoke else [2000, 10000, 50000] if args.full else [2000]
    ns_sizes = [50] if args.smoke else [2000, 10000]
    qt = Qt()

    # (4) first: the session (cache hit rate, connections) and (1) cold loads share the 12-namespace cluster.
    res["cold_load"] = {}
    for n in cluster_sizes:
        sim = start_sim("--pods", str(n), "--namespaces", "12", "--nodes", "5")
        try:
            if n == cluster_sizes[0]:
                log("browsing session, api and kubectl")
                res["session"] = {b: qt.run(session(sim, b)) for b in ("api", "kubectl")}
            log(f"cold depth-2 load, {n} pods, {runs} runs per backend")
            res["cold_load"][str(n)] = cold_load(sim, runs)
            if n == cluster_sizes[0] and not args.smoke:
                import startup_bench

                log("cold start: window shown, whole --print-tree processes, --run help")
                res["startup"] = startup_bench.run(sim.kubeconfig, runs=runs if args.full else 3)
            if n == 50000:
                log("50,000 pods: every namespace opened in one --print-tree process (peak RSS, loop stalls)")
                # The sim's 12 namespaces: default, kube-system, team-a … team-j.
                names = ["default", "kube-system", *(f"team-{c}" for c in "abcdefghij")]
                paths = tuple(f"Namespaces/{ns}" for ns in names)
                r = print_tree(sim, "api", depth=2, expand=paths)
                res["pods_50000"] = {"rows": r["rows"], "load_ms": r["load_ms"], "requests": r["requests"],
                                     "max_loop_lag_ms": r["max_loop_lag_ms"],
                                     "peak_rss_mb": round(r["peak_rss_mb"], 1),
                                     "loadavg": round(os.getloadavg()[0], 2)}
        finally:
            sim.stop()

    # (2) + (3) + (5): one namespace holding N pods (a 2-namespace sim puts all pods but the system ones in
    # "default").
    res["namespace_open"] = {}
    for n in ns_sizes:
        # kubectl needs ~3 s (2,000) and ~12 s (10,000 pods) per open: fewer runs keep --quick under 2 minutes.
        n_runs = runs if args.smoke else max(1, runs // 2)
        sim = start_sim("--pods", str(n + 7), "--namespaces", "2", "--nodes", "5")
        try:
            log(f"open a namespace of {n} pods, {n_runs} runs per backend")
            res["namespace_open"][str(n)] = namespace_open(qt, sim, n_runs)
        finally:
            sim.stop()

    if args.full:
        # Issue 15 goal 3: the window opening 10,000 pods with 0, 1 and 2 processes spinning beside it.
        import window_stall

        log("window stall, 10,000 pods, 0/1/2 busy neighbours, 3 windows each")
        res["window_stall"] = window_stall.run(10000, 3, [0, 1, 2], qt)
        for m in res["window_stall"]["modes"]:
            log(f"  {m['busy']} busy: worst {m['worst_ms']:.0f} ms; load average {m['loadavg_before']:.2f}, CPUs "
                f"{100 * m['cpu_busy_before']:.0f}% busy in the second before (waited {m['quiet_wait_s']:.0f} s)")
        # Issue 15 goal 6: the largest supported cluster in the window, in a fresh process (its own peak RSS).
        import big_cluster

        log("150,000 pods / 5,000 nodes: the sim's cost, then top level, Nodes, the biggest namespace, all pods")
        res["big_cluster"] = big_cluster.run()

    # (7) parallel vs sequential with a remote-like 20 ms per request.
    sim = start_sim("--pods", "50" if args.smoke else "2000", "--namespaces", "12", "--nodes", "5",
                    "--latency-ms", "20")
    try:
        log("parallel vs sequential top level, 20 ms latency")
        res["parallel_vs_sequential"] = parallel_vs_sequential(qt, sim, runs if args.smoke else max(runs, 9))
    finally:
        sim.stop()

    # (8) actions: command → tree showing the result (scale 3→5, delete), API path vs kubectl (benchmarks/actions.py).
    import actions  # benchmarks/ is on sys.path when this script runs

    sim = start_sim("--pods", "60" if args.smoke else "400", "--namespaces", "4", "--nodes", "3")
    try:
        log(f"actions: scale and delete, command to tree, {runs} runs per path")
        res["actions"] = actions.run_actions(qt.run, sim, runs)
    finally:
        sim.stop()

    # (9) exec and port-forward: keystroke to echo, forward throughput and first byte (benchmarks/exec_bench.py).
    import exec_bench

    sim = start_sim("--pods", "60", "--namespaces", "3", "--nodes", "2")
    try:
        from kube9_desktop.kube.kubeconfig import load_kubeconfig
        from kube9_desktop.kube.service import KubeService

        service = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
        try:
            res["exec"] = exec_bench.run_exec_bench(service, sim, smoke=args.smoke)
        finally:
            qt.run(service.aclose())
    finally:
        sim.stop()

    # (10) logs: --tail 1000 against kubectl, a followed tab at 5,000 lines/s (stall), 100,000 lines held (RSS).
    import logs_bench

    log("logs: tail 1000 vs kubectl, a followed tab at 5,000 lines/s, 100,000 lines held")
    res["logs"] = logs_bench.run(qt, smoke=args.smoke, runs=3 if args.smoke else runs)

    # (11) health: the overview of a 10,000-pod cluster vs kubectl, the fleet of 50 contexts
    # (benchmarks/health_bench.py).
    import health_bench

    log("health: overview and fleet")
    res["health"] = health_bench.run_health_bench(start_sim, smoke=args.smoke, runs=1 if args.smoke else 3)

    # (12) every kind: quick open per keystroke over 50,000 names, reveal in an unopened namespace, discovery's
    # cost on the cold top level (benchmarks/kinds_bench.py).
    import kinds_bench

    res["kinds"] = kinds_bench.run(qt, start_sim, make_service, make_model, smoke=args.smoke,
                                   runs=1 if args.smoke else runs)

    qt.close()
    import startup_bench
    from summary_table import tag

    # The guide's issue numbers: 10 actions, 11 logs, 12 exec, 13 health, 14 kinds, 15 performance (this script's own).
    res["targets"] = (
        tag(targets(res), 15) + tag(actions.targets(res.get("actions", {})), 10)
        + tag(exec_bench.targets(res.get("exec", {})), 12) + tag(health_bench.targets(res.get("health", {})), 13)
        + tag(startup_bench.targets(res.get("startup", {})), 15)
        + tag(window_stall_targets(res.get("window_stall", {})), 15)
        + tag(big_cluster_targets(res.get("big_cluster", {})), 15)
        + tag(kinds_bench.targets(res.get("kinds", {})), 14)
    )
    res["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["seconds"] = round(time.perf_counter() - t_all, 1)
    import goal_plots

    res["plots"] = plots(res, args.out) + goal_plots.plot(res, args.out)
    path = args.out / "latest.json"
    path.write_text(json.dumps(res, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(res))
    import summary_table

    print(summary_table.render(res))
    print(f"wrote {path} in {res['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
