"""The tree-load benchmark's report: its goals met or not (:func:`targets`, with window_stall's and big_cluster's),
the Markdown summary (``benchmarks/results/summary.md``, pasted into the README's Performance section) and the
plots, from the results ``tree_load.py`` measured (``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

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


def print_results(res: dict[str, Any], goals: list[dict[str, Any]], indent: int = 2) -> None:
    """A bench script's output: its results as JSON, then one line per goal, met or not (with its note, if any)."""
    import json

    print(json.dumps(res, indent=indent))
    for t in goals:
        note = f" [{t['note']}]" if t.get("note") else ""
        print(f"{'met' if t['met'] else 'NOT met':8} {t['target']}: {t['value']} (goal {t['goal']}){note}")


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
