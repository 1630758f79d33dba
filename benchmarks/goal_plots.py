"""Pictures of the bench's goals (``make bench`` / ``make bench-full``), where one reads faster than the table.

* ``goals.png``: every goal with a numeric limit, as measured / limit on a log scale (left of 1 is better for an
  upper limit; an at-least goal is turned round so that left is better too), green met, red not met.
* ``stalls.png`` (``--full``): the window's longest stall opening 10,000 pods with 0, 1 and 2 busy neighbours, and
  per list of the 150,000-pod cluster its first row and longest stall, each against its goal.

matplotlib is the ``bench`` extra's; without it there are no pictures (the table says it all anyway).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_LIMIT = re.compile(r"^\s*(<=|<|>=|>)\s*([\d.,]+)")


def ratio(goal: str, value: Any) -> float | None:
    """measured / limit, oriented so that < 1 means within the goal; None for a goal without a numeric limit."""
    m = _LIMIT.match(str(goal))
    if m is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    limit = float(m.group(2).replace(",", ""))
    if limit <= 0 or value <= 0:
        return None
    return value / limit if m.group(1).startswith("<") else limit / value


def plot(res: dict[str, Any], outdir: Path) -> list[str]:
    """Write the pictures; returns the file names written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made: list[str] = []
    rows = [(t, ratio(t["goal"], t["value"])) for t in res.get("targets", [])]
    rows = [(t, r) for t, r in rows if r is not None]
    if rows:
        rows.sort(key=lambda x: (x[0].get("issue", 0), x[0]["target"]))
        fig, ax = plt.subplots(figsize=(10, 0.28 * len(rows) + 1.4))
        labels = [f"#{t.get('issue', '')} {t['target'][:70]}" for t, _ in rows]
        values = [r for _, r in rows]
        colours = ["#2e9d4c" if t.get("met") else "#d62728" for t, _ in rows]
        ax.barh(range(len(rows)), values, color=colours)
        ax.axvline(1.0, color="#333", lw=1)
        ax.set_xscale("log")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("measured / goal's limit (log; left of the line is within the goal)")
        m = res.get("machine", {})
        met = sum(1 for t in res.get("targets", []) if t.get("met"))
        ax.set_title(f"{met} of {len(res.get('targets', []))} goals met — {m.get('cpus', '?')} CPUs, load average "
                     f"{m.get('loadavg_at_start', ['?'])[0]} at start, {res.get('load_average_at_end', ['?'])[0]} "
                     f"at end", fontsize=9)
        fig.tight_layout()
        fig.savefig(outdir / "goals.png", dpi=100)
        plt.close(fig)
        made.append("goals.png")
    ws, big = res.get("window_stall", {}), res.get("big_cluster", {})
    panels = [p for p in (("stall", ws.get("modes")), ("big", big.get("steps"))) if p[1]]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.2), squeeze=False)
        for ax, (what, data) in zip(axes[0], panels, strict=True):
            if what == "stall":
                import window_stall

                xs = [f"{m['busy']} busy" for m in data]
                ax.bar(xs, [m["median_ms"] for m in data], color="#6baed6", label="median window")
                ax.scatter(xs, [m["worst_ms"] for m in data], color="#d62728", zorder=3, label="worst window")
                ax.scatter(xs, [window_stall.WORST_MS_MAX[m["busy"]] for m in data], marker="_", s=900,
                           color="#333", zorder=4, label="goal (worst)")
                ax.set_ylabel("longest loop stall, ms")
                loads = ", ".join(f"{m['loadavg_before']:.1f}" for m in data if "loadavg_before" in m)
                ax.set_title(f"Opening {ws.get('pods', 0):,} pods in the window, busy neighbours"
                             + (f" (load average before: {loads})" if loads else ""), fontsize=9)
            else:
                import big_cluster

                xs = [s["path"].replace("Namespaces/", "").replace("/Workloads/", "/…/") for s in data]
                pos = range(len(xs))
                ax.bar([p - 0.2 for p in pos], [s["first_row_ms"] for s in data], width=0.4, color="#1f77b4",
                       label="first row")
                ax.bar([p + 0.2 for p in pos], [s["max_stall_ms"] for s in data], width=0.4, color="#ff7f0e",
                       label="longest stall")
                ax.axhline(big_cluster.FIRST_ROW_MS_MAX, color="#1f77b4", ls="--", lw=1)
                ax.axhline(big_cluster.STALL_MS_MAX, color="#ff7f0e", ls="--", lw=1)
                ax.set_xticks(list(pos))
                ax.set_xticklabels(xs, rotation=30, ha="right", fontsize=7)
                ax.set_yscale("log")
                ax.set_ylabel("ms (log; dashed: goals)")
                ax.set_title(f"{big.get('pods', 0):,} pods / {big.get('nodes', 0):,} nodes: peak RSS "
                             f"{big.get('peak_rss_mb', 0):.0f} MB (goal < {big_cluster.RSS_MB_MAX:.0f})", fontsize=9)
            ax.grid(True, axis="y", alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(outdir / "stalls.png", dpi=100)
        plt.close(fig)
        made.append("stalls.png")
    return made
