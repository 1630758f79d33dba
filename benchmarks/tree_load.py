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
import asyncio
import contextlib
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
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kube9_desktop.sim.process import SimProcess  # noqa: E402

FOOTER = re.compile(r"^# rows=(\d+) load_ms=([\d.]+) requests=(\d+) cache_hits=(\d+) cache_misses=(\d+) "
                    r"connections=(\d+) max_loop_lag_ms=([\d.]+)")
TARGETS = {
    # Round 2 (issue 15): twenty times kubectl and < 15 ms on the sim; top level in parallel <= 0.25 of one worker;
    # 50,000 pods < 200 MB and no stall over 50 ms.
    "cold_ratio_max": 0.05,
    "cold_api_ms_max": 15.0,
    "cached_ms_max": 5.0,
    "ns10k_first_row_ms_max": 150.0,
    "ns10k_last_row_ms_max": 1500.0,
    "ns10k_stall_ms_max": 50.0,
    # Strict counting: a Refresh re-lists what is open, and those are misses (issue 9 restated the goal as >= 0.75;
    # the kube9 plan asked > 0.60). 28/36 = 0.78 is the most this scripted session can reach.
    "session_hit_rate_min": 0.75,
    "parallel_ratio_max": 0.25,
    "pods50k_stall_ms_max": 50.0,
    "pods50k_rss_mb_max": 200.0,
}


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


# ------------------------------------------------------------------------------------------------ in-process model


class Qt:
    """One QApplication and qasync loop for every in-process measurement, set up as the app sets itself up: malloc
    arenas capped, garbage collected on the GUI thread only (a collection in a worker would hold the GIL, and so
    the window, for as long as it takes)."""

    def __init__(self) -> None:
        import qasync
        from PySide6.QtWidgets import QApplication

        from kube9_desktop.kube.gui_gate import hand_over_quickly
        from kube9_desktop.memory import limit_malloc_arenas, stop_source_caching
        from kube9_desktop.ui.gc_driver import GcDriver

        limit_malloc_arenas()
        self.app = QApplication.instance() or QApplication([])
        stop_source_caching()
        hand_over_quickly()
        self.collector = GcDriver(parent=self.app)
        self.loop = qasync.QEventLoop(self.app)
        asyncio.set_event_loop(self.loop)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 600) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def close(self) -> None:
        """Stop the loop's worker threads (qasync's default executor) before Qt goes away."""
        self.collector.stop()
        self.loop.close()
        asyncio.set_event_loop(None)


def make_service(sim: SimProcess, backend: str, **options: Any) -> Any:
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    return KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(**options), backend=backend,
                       kubeconfig_path=sim.kubeconfig)


def make_model(svc: Any) -> Any:
    from kube9_desktop.model.tree_model import ClusterTreeModel

    model = ClusterTreeModel()
    model.set_service(svc)
    return model


async def expand(model: Any, path: str) -> bool:
    """Expand the node at ``path`` like the view does (``fetchMore`` when it can); False if there is no such node."""
    node = model.find(path)
    if node is None:
        return False
    model.expand(node)
    await model.wait_idle()
    return True


def collapse(model: Any, path: str) -> None:
    """Collapse the node at ``path`` like the view does (its rows stay loaded)."""
    node = model.find(path)
    if node is not None:
        model.set_expanded(node, False)


def requests_of(svc: Any, contexts: tuple[str, ...] = ("sim-admin",)) -> int:
    return sum(svc.stats(c).requests for c in contexts)


async def open_namespace(model: Any, ns: str, open_row: Callable[[Any], None] | None = None,
                         settle: float = 0.0) -> dict[str, float]:
    """Open ``Namespaces/ns`` and its Workloads/Pods as a user does, Pods as soon as its row is there (while its
    list loads): times to the first pod row views are told of and to the last pod row in the tree, and the worst
    loop stall.

    Args:
        model: The tree model, its context loaded.
        ns: The namespace.
        open_row: Opens one row: a view's expand (default: what a view does, on the model alone).
        settle: Seconds the stall is still watched after the last row (a view's last layout and paint).
    """
    from kube9_desktop.kube.kinds import KINDS
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.model.nodes import NodeType

    expand = open_row or (lambda node: model.expand(node))
    pods_path = f"Namespaces/{ns}/Workloads/Pods"
    marks: dict[str, float] = {}

    def inserted(parent: Any, first: int, last: int) -> None:
        p = model.node(parent)
        if p.type is NodeType.LIST and p.kind is KINDS["pods"] and p.namespace == ns and first < len(p.children) \
                and p.children[first].type is NodeType.OBJECT:
            marks.setdefault("first", time.monotonic())

    def find(path: str) -> Any:
        node = model.find(path)
        assert node is not None, f"no {path} in the tree"
        return node

    model.rowsInserted.connect(inserted)
    monitor = LoopLagMonitor()
    monitor.start()
    await asyncio.sleep(0.02)
    monitor.reset()
    t0 = time.monotonic()
    for path in ("Namespaces", f"Namespaces/{ns}"):
        expand(find(path))
    while model.find(pods_path) is None and time.monotonic() - t0 < 30:
        await asyncio.sleep(0.001)
    for path in (f"Namespaces/{ns}/Workloads", pods_path):
        expand(find(path))
    await model.wait_idle()
    t1 = time.monotonic()
    await asyncio.sleep(settle)
    await monitor.stop()
    model.rowsInserted.disconnect(inserted)
    pods = find(pods_path)
    n = sum(1 for c in pods.children if c.type is NodeType.OBJECT)
    # loaded_at: when the list's last page went into the tree (monotonic clock)
    last = pods.loaded_at if pods.loaded_at >= t0 else t1
    return {"first_row_ms": (marks.get("first", t1) - t0) * 1000, "last_row_ms": (last - t0) * 1000,
            "all_lists_ms": (t1 - t0) * 1000, "rows": n, "max_loop_lag_ms": monitor.max_lag_ms}


async def load_top(model: Any, context: str = "sim-admin") -> dict[str, float]:
    """The model's top-level (depth 2) load of ``context``: load_ms as print-tree measures it, worst loop stall."""
    from kube9_desktop.model.lag import LoopLagMonitor

    monitor = LoopLagMonitor()
    monitor.start()
    await asyncio.sleep(0.02)
    monitor.reset()
    model.reset_timing()
    model.set_context(context, user=False)
    await model.wait_idle()
    await monitor.stop()
    ms = 0.0
    if model.first_load_at is not None and model.last_insert_at is not None:
        ms = (model.last_insert_at - model.first_load_at) * 1000
    return {"load_ms": ms, "max_loop_lag_ms": monitor.max_lag_ms}


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


@contextlib.asynccontextmanager
async def window_on(sim: SimProcess) -> AsyncIterator[Any]:
    """The real main window (offscreen, 1280x800) on ``sim``'s admin context with its top level loaded, and fresh
    settings; shut down and closed afterwards."""
    import tempfile

    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.ui.main_window import MainWindow

    svc = make_service(sim, "api")
    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(SettingsStore(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)))
        try:
            win.resize(1280, 800)
            win.show()
            win.attach_service(svc, context="sim-admin")
            await win.model.wait_idle()
            yield win
        finally:
            await win.shutdown()
            win.close()
            win.deleteLater()
            await svc.aclose()


async def open_namespace_in_window(sim: SimProcess, ns: str) -> dict[str, float]:
    """The same namespace opened in the real main window (offscreen, 1280x800), with its Pods list expanded while
    it loads, as a user who opens it at once: the view's layouts and painting are in the loop stall."""
    async with window_on(sim) as win:
        return await open_namespace(win.model, ns, win.expand_node, settle=0.2)


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
            out["pool_size"] = svc.options.workers
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


# ------------------------------------------------------------------------------------------------ report


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, value: Any, ok: bool | None, goal: str) -> None:
        out.append({"target": name, "value": value, "goal": goal, "met": ok})

    for size, cold in res.get("cold_load", {}).items():  # goal 1: 2,000 pods (bench), also 10,000 (bench-full)
        if size not in ("2000", "10000"):
            continue
        r, a = cold["ratio_api_over_kubectl"], cold["api"]["load_ms"]["median"]
        add(f"cold depth-2 load api/kubectl ratio ({int(size):,} pods)", r,
            r is not None and r <= TARGETS["cold_ratio_max"], "<= 0.05")
        add(f"cold depth-2 load api median ms ({int(size):,} pods)", a, a < TARGETS["cold_api_ms_max"], "< 15 ms")
    ns = res.get("namespace_open", {})
    any_ns = next(iter(ns.values()), None)
    if any_ns:
        c = any_ns["api"]["cached"]
        add("cached reload requests", c["requests"] + c["sim_requests"], c["requests"] + c["sim_requests"] == 0, "0")
        v = c["top_load_ms"]["median"]
        add("cached reload (top level) ms", v, v < TARGETS["cached_ms_max"], "< 5 ms")
    big = ns.get("10000")
    if big:
        a = big["api"]
        add("10,000-pod namespace first row ms", a["first_row_ms"]["median"],
            a["first_row_ms"]["median"] <= TARGETS["ns10k_first_row_ms_max"], "<= 150 ms")
        add("10,000-pod namespace last row ms", a["last_row_ms"]["median"],
            a["last_row_ms"]["median"] <= TARGETS["ns10k_last_row_ms_max"], "<= 1500 ms")
        add("10,000-pod namespace max loop stall ms (model, no view)", a["max_loop_lag_ms"]["max"],
            a["max_loop_lag_ms"]["max"] <= TARGETS["ns10k_stall_ms_max"], "<= 50 ms")
        w = a.get("window")
        if w:
            add("10,000-pod namespace max loop stall ms (in the window, Pods open)", w["max_loop_lag_ms"]["max"],
                w["max_loop_lag_ms"]["max"] <= TARGETS["ns10k_stall_ms_max"], "<= 50 ms")
    s = res.get("session", {}).get("api")
    if s:
        add("session cache hit rate", s["hit_rate"], s["hit_rate"] >= TARGETS["session_hit_rate_min"], ">= 0.75")
        per = max(s["tcp_connections_per_context"].values())
        add("session TCP connections per context", per, per <= s["pool_size"], f"<= pool size {s['pool_size']}")
    if res.get("logs"):
        import logs_bench

        out.extend({"issue": 11, **t} for t in logs_bench.targets(res["logs"]))
    p = res.get("parallel_vs_sequential")
    if p and p["ratio"] is not None:
        add("parallel/sequential top level at 20 ms latency", p["ratio"], p["ratio"] <= TARGETS["parallel_ratio_max"],
            "<= 0.25")
    big = res.get("pods_50000")
    if big:
        add("50,000 pods max loop stall ms", big["max_loop_lag_ms"],
            big["max_loop_lag_ms"] <= TARGETS["pods50k_stall_ms_max"], "<= 50 ms")
        add("50,000 pods peak RSS MB", big["peak_rss_mb"], big["peak_rss_mb"] < TARGETS["pods50k_rss_mb_max"],
            "< 200 MB")
    return out


def window_stall_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    if not res:
        return []
    import window_stall

    return window_stall.targets(res)


def big_cluster_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    if not res:
        return []
    import big_cluster

    return big_cluster.targets(res)


def markdown(res: dict[str, Any]) -> str:
    """A small Markdown table of the headline numbers (pasted into the README's Performance section)."""
    m = res["machine"]
    lines = [f"`{res['command']}` — {m['cpus']} CPUs, Python {m['python']}, kubectl {m['kubectl']}, "
             f"load average at start {m['loadavg_at_start'][0]}, {res['started']}", "",
             "| Measurement | API backend | kubectl backend |", "|---|---|---|"]

    def ms(s: dict[str, Any]) -> str:
        return f"{s['median']:.0f} ms ({s['min']:.0f}–{s['max']:.0f}, n={s['n']})"

    for n, c in res.get("cold_load", {}).items():
        lines.append(f"| Cold depth-2 tree, {int(n):,} pods | {ms(c['api']['load_ms'])} | "
                     f"{ms(c['kubectl']['load_ms'])} |")
        lines.append(f"| … ratio api/kubectl | {c['ratio_api_over_kubectl']:.3f} | |")
    for n, c in res.get("namespace_open", {}).items():
        for what in ("first_row_ms", "last_row_ms"):
            label = "first row" if what == "first_row_ms" else "last row"
            lines.append(f"| Open a {int(n):,}-pod namespace: {label} | {ms(c['api'][what])} | "
                         f"{ms(c['kubectl'][what])} |")
        lines.append(f"| … longest loop stall (model, no view) | {c['api']['max_loop_lag_ms']['max']:.0f} ms | "
                     f"{c['kubectl']['max_loop_lag_ms']['max']:.0f} ms |")
        w = c["api"].get("window")
        if w:
            lines.append(f"| … in the window, Pods open: last row, longest stall | {ms(w['last_row_ms'])}, "
                         f"{w['max_loop_lag_ms']['max']:.0f} ms | |")
        lines.append(f"| … again within TTL: requests, top level | {c['api']['cached']['requests']}, "
                     f"{c['api']['cached']['top_load_ms']['median']:.1f} ms | {c['kubectl']['cached']['requests']}, "
                     f"{c['kubectl']['cached']['top_load_ms']['median']:.1f} ms |")
    s = res.get("session", {})
    if s:
        a, k = s["api"], s["kubectl"]
        lines.append(f"| Browsing session: cache hit rate | {a['hit_rate']:.0%} ({a['cache_hits']} hits, "
                     f"{a['cache_misses']} misses) | {k['hit_rate']:.0%} |")
        lines.append(f"| … requests / TCP connections / processes | {a['requests']} requests, "
                     f"{a['tcp_connections_sim']} TCP connections | {k['kubectl_processes']} kubectl processes |")
        lines.append(f"| … session time, longest loop stall | {a['ms']:.0f} ms, {a['max_loop_lag_ms']:.0f} ms | "
                     f"{k['ms']:.0f} ms, {k['max_loop_lag_ms']:.0f} ms |")
    p = res.get("parallel_vs_sequential")
    if p:
        lines.append(f"| Top level at 20 ms latency: parallel / sequential | {ms(p['parallel_ms'])} / "
                     f"{ms(p['sequential_ms'])} = {p['ratio']:.2f} | |")
    act = res.get("actions", {})
    for case in ("scale", "delete"):
        a = act.get(case)
        if a and a["api_ms"]["n"] and a["kubectl_ms"]["n"]:
            what = "Scale 3→5 until 5 pod rows" if case == "scale" else "Delete a pod until its row is gone"
            lines.append(f"| {what} (command → tree) | {ms(a['api_ms'])} | {ms(a['kubectl_ms'])} |")
            lines.append(f"| … ratio api/kubectl | {a['ratio_api_over_kubectl']} | |")
    import exec_bench

    lines += exec_bench.markdown_lines(res.get("exec", {}))
    import health_bench

    lines += health_bench.markdown_lines(res.get("health", {}))
    import startup_bench

    lines += startup_bench.markdown_lines(res.get("startup", {}))
    import kinds_bench

    lines += kinds_bench.markdown_lines(res.get("kinds", {}))
    big = res.get("pods_50000")
    if big:
        lines.append(f"| 50,000 pods opened: peak RSS, longest stall | {big['peak_rss_mb']:.0f} MB, "
                     f"{big['max_loop_lag_ms']:.0f} ms | |")
    import big_cluster

    lines += big_cluster.markdown_lines(res.get("big_cluster", {}))
    for m in res.get("window_stall", {}).get("modes", []):
        lines.append(f"| Window opening {res['window_stall']['pods']:,} pods, {m['busy']} busy neighbour(s): "
                     f"longest stall median / worst | {m['median_ms']:.0f} / {m['worst_ms']:.0f} ms (load average "
                     f"{m['loadavg_before']:.2f}, CPUs {100 * m.get('cpu_busy_before', 0):.0f}% busy before) | |")
    lines += ["", "| Target | Measured | Goal | Met |", "|---|---|---|---|"]
    for t in res.get("targets", []):
        lines.append(f"| {t['target']} | {t['value']} | {t['goal']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def plots(res: dict[str, Any], outdir: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed (pip install -e '.[bench]'): no plots")
        return []
    made = []
    panels = [("cold_load", "load_ms", "pods in the cluster", "cold depth-2 tree load, ms"),
              ("namespace_open", "last_row_ms", "pods in the opened namespace", "namespace open, last row, ms")]
    panels = [p for p in panels if res.get(p[0])]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
        for ax, (key, metric, xlabel, ylabel) in zip(axes[0], panels, strict=True):
            data = res[key]
            sizes = sorted(int(k) for k in data)
            for b, colour in (("api", "#1f77b4"), ("kubectl", "#d62728")):
                stats = [data[str(n)][b][metric] for n in sizes]
                med = [st["median"] for st in stats]
                lo = [st["median"] - st["min"] for st in stats]
                hi = [st["max"] - st["median"] for st in stats]
                ax.errorbar(sizes, med, yerr=[lo, hi], marker="o", capsize=4, label=f"{b} backend", color=colour)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(sizes)
            ax.set_xticklabels([f"{n:,}" for n in sizes])
            ax.minorticks_off()
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"{ylabel} (median, min–max)")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.suptitle("kube9-desktop: load time vs size, API backend vs kubectl (log scale)")
        fig.tight_layout()
        path = outdir / "load_vs_size.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    sess = res.get("session", {})
    if sess.get("api") and sess.get("kubectl"):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        labels = ["api: HTTP requests", "api: TCP connections", "kubectl: processes"]
        values = [sess["api"]["requests"], sess["api"]["tcp_connections_sim"], sess["kubectl"]["kubectl_processes"]]
        bars = ax.barh(labels, values, color=["#1f77b4", "#6baed6", "#d62728"])
        ax.bar_label(bars, padding=3)
        ax.set_xlabel("count over the whole browsing session")
        ax.set_title(f"Browsing session (cache hit rate api {sess['api']['hit_rate']:.0%})")
        fig.tight_layout()
        path = outdir / "session_requests.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    return made


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
