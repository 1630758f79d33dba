"""One table of every goal the bench measures (issues 10-15), met or not, with the machine and its load.

Every bench module reports its goals in one shape, a list of dicts::

    {"target": "what is measured", "value": 0.04, "goal": "<= 0.05", "met": True, "issue": 15}

(``issue``, the guide's issue number, is added by :func:`tag` where the module does not set it). ``tree_load.py``
gathers them into ``res["targets"]`` and prints :func:`render` at the end of ``make bench`` / ``make bench-full``.
"""

from __future__ import annotations

from typing import Any


def tag(targets: list[dict[str, Any]], issue: int) -> list[dict[str, Any]]:
    """``targets`` with ``issue`` set where they have none."""
    return [{"issue": issue, **t} for t in targets]


def render(res: dict[str, Any]) -> str:
    """The summary: machine, load average at start and end, then one row per goal."""
    m = res.get("machine", {})
    start = m.get("loadavg_at_start", ["?"])
    end = res.get("load_average_at_end", ["?"])
    rows = res.get("targets", [])
    met = sum(1 for t in rows if t.get("met"))
    head = [f"{res.get('command', 'bench')}: {m.get('cpus', '?')} CPUs, {m.get('platform', '?')}, "
            f"Python {m.get('python', '?')}, kubectl {m.get('kubectl', '?')}",
            f"load average (1 min) at start {start[0]}, at end {end[0]}; {met} of {len(rows)} goals met",
            ""]
    table = [("issue", "goal", "measured", "target", "met")]
    for t in sorted(rows, key=lambda t: t.get("issue", 0)):
        value = t.get("value")
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        table.append((str(t.get("issue", "")), str(t["target"]), shown, str(t["goal"]),
                      "met" if t.get("met") else "NOT met"))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(head + lines)
