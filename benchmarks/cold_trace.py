#!/usr/bin/env python3
"""Where a cold top-level load's time goes (issue 15 goal 1): a timeline of one load, phase by phase.

In-process, as ``in_process.load_top`` measures it (a fresh ``KubeService`` and ``ClusterTreeModel`` on the qasync
loop, the context's top level to depth 2), with timestamps (ms after the first fetch, ``first_load_at``) for:
the client build, each connection's TCP connect and TLS handshake, each request (sent → body read), each list's
row conversion, each page handed to the loop (the worker's result reaching the coroutine), each model insert, and
the last row in. Instrumented by wrapping the library calls here (the code measured is unchanged).

``python benchmarks/cold_trace.py [--runs 5] [--prepare [--lead S]] [--latency-ms 0] [--pods 2000]`` starts its own
sim; ``--kubeconfig FILE`` uses a running one. ``--prepare`` calls ``KubeService.prepare`` (the client and the top
level's connections) ``--lead`` seconds before the load (default 0.3, as ``--print-tree`` does while it sets the
model up; 0: at once, as the window does when it shows a context).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

EVENTS: list[tuple[float, str, str, float]] = []  # (start monotonic, thread, what, duration s)
_lock = threading.Lock()


def note(start: float, what: str, end: float | None = None) -> None:
    with _lock:
        EVENTS.append((start, threading.current_thread().name, what, (end or start) - start))


def wrap(owner: Any, name: str, label: Any) -> None:
    """Time every call of ``owner.name`` (label: a string or a function of the call's arguments)."""
    fn = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            note(t, label(*args, **kwargs) if callable(label) else label, time.monotonic())

    setattr(owner, name, timed)


def instrument() -> None:
    import urllib3.connection

    from kube9_desktop.kube import client as client_mod
    from kube9_desktop.kube import fetch as fetch_mod
    from kube9_desktop.kube import service as service_mod
    from kube9_desktop.model import loader as loader_mod

    conn = urllib3.connection.HTTPSConnection
    wrap(conn, "_new_conn", "tcp connect")
    orig_connect = conn.connect

    def connect(self: Any) -> None:
        t = time.monotonic()
        orig_connect(self)
        note(t, "connect (tcp + tls handshake)", time.monotonic())

    conn.connect = connect  # type: ignore[method-assign]
    wrap(client_mod, "make_client", "client build")
    fetch_mod.make_client = client_mod.make_client  # fetch imported the name
    wrap(client_mod.ContextClient, "_attempt", lambda self, method, path, *a, **k: f"request {path}")
    wrap(fetch_mod, "rows_from_list", lambda kind, body: f"rows {kind.key} ({len(body.get('rows') or [])})")
    wrap(loader_mod.TreeLoader, "replace_children", lambda self, node, nodes: f"replace children of {node.label}")

    orig_fetch = service_mod.KubeService._fetch

    async def _fetch(self: Any, flight: Any) -> None:
        orig_publish = flight.publish

        def publish() -> None:
            note(time.monotonic(), f"page to loop {flight.ref.kind}")
            orig_publish()

        flight.publish = publish
        await orig_fetch(self, flight)

    service_mod.KubeService._fetch = _fetch  # type: ignore[method-assign]


async def one(sim_kubeconfig: str, prepare: bool, context: str = "sim-admin", lead: float = 0.3) -> dict[str, Any]:
    import in_process

    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.tree_model import ClusterTreeModel

    svc = KubeService(load_kubeconfig(sim_kubeconfig), KubeOptions(), backend="api", kubeconfig_path=sim_kubeconfig)
    try:
        model = ClusterTreeModel()
        model.set_service(svc)
        EVENTS.clear()
        if prepare:
            svc.prepare(context)
            if lead:
                await asyncio.sleep(lead)  # what start-up does meanwhile (imports, the model, the window)
                EVENTS.clear()
        cpu0 = time.process_time()
        r = await in_process.load_top(model, context)
        cpu = (time.process_time() - cpu0) * 1000
        t0 = model.first_load_at or 0.0
        timeline = sorted((s - t0, th, what, d) for s, th, what, d in EVENTS)
        await model.shutdown()
        return {"load_ms": r["load_ms"], "cpu_ms": cpu, "timeline": timeline,
                "last_ms": ((model.last_insert_at or t0) - t0) * 1000}
    finally:
        await svc.aclose()


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import in_process
    import tree_load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--lead", type=float, default=0.3,
                    help="--prepare: seconds between prepare and the load (0: at once, as the window does)")
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--kubeconfig")
    ap.add_argument("--quiet", action="store_true", help="only the per-phase summary")
    ap.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (s) for the runs")
    args = ap.parse_args(argv)
    sim = None
    kubeconfig = args.kubeconfig
    if kubeconfig is None:
        sim = tree_load.start_sim("--pods", str(args.pods), "--namespaces", "12", "--nodes", "5",
                                  "--latency-ms", str(args.latency_ms))
        kubeconfig = sim.kubeconfig
    qt = in_process.Qt()
    instrument()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    try:
        qt.run(one(kubeconfig, args.prepare, lead=args.lead))  # warm-up: imports, first-use costs
        totals: dict[str, list[float]] = defaultdict(list)
        loads = []
        for i in range(args.runs):
            r = qt.run(one(kubeconfig, args.prepare, lead=args.lead))
            loads.append(r["load_ms"])
            per: dict[str, float] = defaultdict(float)
            if not args.quiet:
                print(f"--- run {i + 1}: load_ms={r['load_ms']:.1f} (process CPU {r['cpu_ms']:.1f} ms)")
            for at, th, what, d in r["timeline"]:
                if not args.quiet:
                    print(f"  {at * 1000:7.1f} ms  {d * 1000:6.1f} ms  {th[:22]:22} {what}")
                per[what.split(" /")[0].split(" (")[0]] += d * 1000
            for k, v in per.items():
                totals[k].append(v)
        print(f"load_ms median {statistics.median(loads):.1f} (min {min(loads):.1f}, max {max(loads):.1f}, "
              f"n={len(loads)}), load average {os.getloadavg()[0]:.2f}")
        for k, v in sorted(totals.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"  {k:40} summed per run: median {statistics.median(v):6.1f} ms")
    finally:
        qt.close()
        if sim is not None:
            sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
