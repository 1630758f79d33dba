"""Every-kind benchmark (issue 19): quick-open latency per keystroke, reveal-in-tree, discovery's cost.

1. ``quick_open``: per-keystroke search time (p50/p95) over 50,000 object names, typing real pod names of the sim
   one letter at a time (and a few with a typo, which take the subsequence path). Names are the sim's shapes
   (``deployment-hash-suffix``); the index is :class:`~kube9_desktop.model.quick_index.QuickIndex`. Goal p95 <= 16 ms.
2. ``reveal``: revealing a pod of a namespace not opened yet (``model.reveal_path``: opens Namespaces, the
   namespace, Workloads, Pods as a view would, waits for each) in a fresh model whose top level is loaded.
   Goal <= 300 ms.
3. ``discovery``: the cold top level (nodes, namespaces, cluster resources listed by a fresh service) with and
   without API discovery (classic, the v1.19 worst case: a document per group version; then aggregated) started
   alongside: the top level's own time, discovery off its critical path and at low priority (two documents in
   flight). The tree itself discovers only when a namespace or a discovered folder opens; this measures what
   running it at once would cost. Goal: with <= 1.2 x without.
4. ``server_search``: quick open's names-only server search (``kube/name_search.py``) against listing the same
   kinds as Tables.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import string
import time
from collections.abc import Callable
from typing import Any

GOALS = {"quick_open_p95_ms": 16.0, "reveal_ms": 300.0, "discovery_ratio": 1.2}
#: Runs of each discovery measurement (at least): the cold top level takes 17-47 ms from run to run on a quiet
#: machine, so the medians of 5 runs each put the ratio anywhere in 1.0-1.25 by chance (three rounds of 5 in a row:
#: 1.04, 1.01, 1.24) while 40 alternated runs each agree within 6 % (docs/performance.md, "Goals 1, discovery,
#: port-forward: this session"). A run pair takes ~0.2 s.
DISCOVERY_RUNS = 20


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def quick_open_bench(names_total: int = 50_000, words: int = 20) -> dict[str, Any]:
    """Per-keystroke search times over ``names_total`` names."""
    from kube9_desktop.model.quick_index import Entry, QuickIndex
    from kube9_desktop.sim.gen.base import APP_NAMES

    rng = random.Random(7)
    alnum = string.ascii_lowercase + string.digits
    names = []
    for i in range(names_total):
        app = APP_NAMES[i % len(APP_NAMES)]
        names.append(f"{app}-{''.join(rng.choices(alnum, k=10))}-{''.join(rng.choices(alnum, k=5))}")
    index = QuickIndex(Entry(n, f"team-{i % 40}", "pods", ("Namespaces", f"team-{i % 40}", "Workloads", "Pods", n))
                       for i, n in enumerate(names))
    index.search("warm-up")
    times: list[float] = []
    found = 0
    for w in range(words):
        target = names[rng.randrange(len(names))]
        typed = target if w % 4 else target[:4] + target[5:]  # every fourth with a letter skipped
        hit = False
        for k in range(1, len(typed) + 1):
            t0 = time.perf_counter()
            res = index.search(typed[:k])
            times.append((time.perf_counter() - t0) * 1000)
            hit = hit or any(e.name == target for e in res[:3])
        found += hit
    return {"names": names_total, "keystrokes": len(times), "p50_ms": round(_pct(times, 50), 2),
            "p95_ms": round(_pct(times, 95), 2), "max_ms": round(max(times), 2), "found_in_top3": found,
            "words": words}


def reveal_bench(qt: Any, sim: Any, make_service: Callable[..., Any], make_model: Callable[[Any], Any],
                 runs: int) -> dict[str, Any]:
    """Reveal a pod of an unopened namespace in a fresh model (top level loaded first), ``runs`` times."""
    pods = [p for p in sim.request("GET", "/api/v1/namespaces/team-b/pods")["items"]]
    name = pods[len(pods) // 2]["metadata"]["name"]
    times: list[float] = []
    for _ in range(runs):
        svc = make_service(sim, "api")
        model = make_model(svc)

        async def go(model: Any = model) -> float:
            model.set_context("sim-admin", user=False)
            await model.wait_idle()
            t0 = time.perf_counter()
            node = await model.reveal_path(f"Namespaces/team-b/Workloads/Pods/{name}")
            assert node is not None and node.row is not None and node.row.name == name
            return (time.perf_counter() - t0) * 1000

        try:
            times.append(qt.run(go()))
        finally:
            qt.run(model.shutdown())
            qt.run(svc.aclose())
    return {"pod": name, "runs": runs, "ms_median": round(statistics.median(times), 1),
            "ms_max": round(max(times), 1)}


def discovery_bench(qt: Any, sim: Any, make_service: Callable[..., Any], runs: int,
                    mode: str = "classic") -> dict[str, Any]:
    """Cold top-level lists by a fresh service, without and with discovery started alongside (alternated).

    ``with_ms`` is the top level's own time while discovery runs beside it (what discovery costs the cold load:
    the lists compete with its requests for connections and workers); ``discovery_ms`` is when discovery itself
    was done, and ``both_ms`` when both were (the figure this measured before discovery went off the critical
    path, kept for comparison).
    """
    from kube9_desktop.kube.rows import ListRef
    from kube9_desktop.model.children import TOP_LIST_KINDS

    sim.set_discovery(mode)

    async def top(svc: Any, with_discovery: bool) -> tuple[float, float, float]:
        t0 = time.perf_counter()
        found: list[float] = []
        disc = None
        if with_discovery:
            async def discover() -> None:
                await svc.discover("sim-admin")
                found.append((time.perf_counter() - t0) * 1000)

            disc = asyncio.ensure_future(discover())
        await asyncio.gather(*(svc.list_all(ListRef("sim-admin", k)) for k in TOP_LIST_KINDS))
        lists_ms = (time.perf_counter() - t0) * 1000
        if disc is not None:
            await disc
        both_ms = (time.perf_counter() - t0) * 1000
        return lists_ms, (found[0] if found else 0.0), both_ms

    res: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    try:
        for i in range(runs + 1):
            for flag in ((False, True) if i % 2 == 0 else (True, False)):
                svc = make_service(sim, "api")
                try:
                    got = qt.run(top(svc, flag))
                finally:
                    qt.run(svc.aclose())
                if i:  # the first round warms disk caches and imports
                    res[flag].append(got)
    finally:
        sim.set_discovery("classic")
    without = statistics.median(r[0] for r in res[False])
    with_ = statistics.median(r[0] for r in res[True])
    return {"without_ms": round(without, 1), "with_ms": round(with_, 1), "ratio": round(with_ / without, 3),
            "discovery_ms": round(statistics.median(r[1] for r in res[True]), 1),
            "both_ms": round(statistics.median(r[2] for r in res[True]), 1),
            "both_ratio": round(statistics.median(r[2] for r in res[True]) / without, 3),
            "runs": runs, "discovery": mode}


def server_search_bench(qt: Any, sim: Any, make_service: Callable[..., Any]) -> dict[str, Any]:
    """Quick open's server search over the sim: the names-only catalogue of the searched kinds (requests, bytes,
    time to complete) against listing the same kinds as Tables (what quick open did before), and one exact-name
    lookup."""
    from kube9_desktop.commands.navigate import searched_kinds
    from kube9_desktop.kube.name_search import NameCatalogue
    from kube9_desktop.kube.rows import ListRef

    pods = sim.request("GET", "/api/v1/pods?limit=1")
    total = int((pods.get("metadata") or {}).get("remainingItemCount") or 0) + 1

    async def names() -> dict[str, Any]:
        svc = make_service(sim, "api")
        try:
            kinds = await searched_kinds(svc, "sim-admin")
            cat = NameCatalogue(svc, "sim-admin", kinds)
            t0 = time.perf_counter()
            await cat.fill(lambda _k, _n: None)
            fill_ms = (time.perf_counter() - t0) * 1000
            fresh = NameCatalogue(svc, "sim-admin", kinds)
            t1 = time.perf_counter()
            await fresh.exact("no-such-name-x", lambda _k, _n: None)
            exact_ms = (time.perf_counter() - t1) * 1000
            return {"kinds": len(kinds), "requests": cat.requests, "kb": round(cat.bytes / 1024),
                    "fill_ms": round(fill_ms, 1), "exact_ms": round(exact_ms, 1), "exact_requests": fresh.requests}
        finally:
            await svc.aclose()

    async def tables() -> dict[str, Any]:
        svc = make_service(sim, "api")
        try:
            kinds = await searched_kinds(svc, "sim-admin")
            t0 = time.perf_counter()
            await asyncio.gather(*(svc.list_all(ListRef("sim-admin", k.key)) for k in kinds))
            return {"ms": round((time.perf_counter() - t0) * 1000, 1), "requests": svc.stats("sim-admin").requests}
        finally:
            await svc.aclose()

    return {"pods": total, "names_only": qt.run(names()), "tables": qt.run(tables())}


def run(qt: Any, start_sim: Callable[..., Any], make_service: Callable[..., Any],
        make_model: Callable[[Any], Any], smoke: bool = False, runs: int = 5) -> dict[str, Any]:
    """All the measurements."""
    res: dict[str, Any] = {}
    log("kinds: quick open over 50,000 names")
    res["quick_open"] = quick_open_bench(5_000 if smoke else 50_000, 4 if smoke else 20)
    sim = start_sim("--pods", "300" if smoke else "2000", "--namespaces", "12", "--nodes", "5")
    try:
        log("kinds: reveal a pod in an unopened namespace")
        res["reveal"] = reveal_bench(qt, sim, make_service, make_model, 1 if smoke else runs)
        log("kinds: cold top level with and without discovery (classic, then aggregated)")
        d_runs = 1 if smoke else max(runs, DISCOVERY_RUNS)
        res["discovery"] = discovery_bench(qt, sim, make_service, d_runs)
        res["discovery_aggregated"] = discovery_bench(qt, sim, make_service, d_runs, "aggregated")
        log("kinds: quick open's server search")
        res["server_search"] = server_search_bench(qt, sim, make_service)
    finally:
        sim.stop()
    return res


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals, met or not."""
    out: list[dict[str, Any]] = []
    q = res.get("quick_open")
    if q:
        out.append({"target": f"quick open per keystroke over {q['names']} names, p95 ms", "value": q["p95_ms"],
                    "goal": f"<= {GOALS['quick_open_p95_ms']:.0f} ms",
                    "met": q["p95_ms"] <= GOALS["quick_open_p95_ms"]})
    r = res.get("reveal")
    if r:
        out.append({"target": "reveal a pod in an unopened namespace, ms", "value": r["ms_median"],
                    "goal": f"<= {GOALS['reveal_ms']:.0f} ms", "met": r["ms_median"] <= GOALS["reveal_ms"]})
    d = res.get("discovery")
    if d:
        # The tree itself defers discovery to the first namespace or discovered folder opened (its cold top level
        # makes no discovery request); this is the cost were discovery run alongside.
        out.append({"target": "cold top level with/without classic discovery run alongside (off its critical "
                              "path; the tree defers it anyway)",
                    "value": d["ratio"],
                    "goal": f"<= {GOALS['discovery_ratio']}", "met": d["ratio"] <= GOALS["discovery_ratio"]})
    return out


def markdown_lines(res: dict[str, Any]) -> list[str]:
    """Rows for the bench summary table."""
    lines = []
    q = res.get("quick_open")
    if q:
        lines.append(f"| Quick open, {q['names']} names, per keystroke p50 / p95 ({q['keystrokes']} keys) | "
                     f"{q['p50_ms']} / {q['p95_ms']} ms | |")
    r = res.get("reveal")
    if r:
        lines.append(f"| Reveal a pod in an unopened namespace | {r['ms_median']:.0f} ms | |")
    d = res.get("discovery")
    if d:
        lines.append(f"| Cold top level without / with discovery ({d['discovery']}) alongside | "
                     f"{d['without_ms']:.0f} / {d['with_ms']:.0f} ms = {d['ratio']} "
                     f"(n={d['runs']}; discovery done at {d['discovery_ms']:.0f} ms) | |")
    a = res.get("discovery_aggregated")
    if a:
        lines.append(f"| Cold top level without / with discovery (aggregated) alongside | {a['without_ms']:.0f} / "
                     f"{a['with_ms']:.0f} ms = {a['ratio']} (n={a['runs']}; discovery done at "
                     f"{a['discovery_ms']:.0f} ms) | |")
    q2 = res.get("server_search")
    if q2:
        n, t = q2["names_only"], q2["tables"]
        lines.append(f"| Quick open's server search, {q2['pods']} pods: names of {n['kinds']} kinds | "
                     f"{n['fill_ms']:.0f} ms, {n['requests']} requests, {n['kb']} KB (as Tables: {t['ms']:.0f} ms); "
                     f"exact lookup {n['exact_ms']:.0f} ms | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/kinds_bench.py [--smoke] [--runs N]``: these measurements alone, with the goals."""
    import argparse
    import json
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import in_process
    import tree_load

    ap = argparse.ArgumentParser(description="Every-kind benchmark (part of make bench)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    ap.add_argument("--runs", type=int, default=5, help="runs of the reveal and discovery measurements")
    args = ap.parse_args(argv)
    qt = in_process.Qt()
    try:
        res = run(qt, tree_load.start_sim, in_process.make_service, in_process.make_model, smoke=args.smoke,
                  runs=1 if args.smoke else args.runs)
    finally:
        qt.close()
    print(json.dumps(res, indent=1))
    for t in targets(res):
        print(f"{t['target']}: {t['value']} (goal {t['goal']}): {'met' if t['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
