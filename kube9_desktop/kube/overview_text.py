"""The cluster overview as plain text (``--run overview``), the way the window's page reads (Qt-free)."""

from __future__ import annotations

import time

from kube9_desktop.kube.events import age
from kube9_desktop.kube.metrics import Unavailable, format_cpu, format_memory, percent
from kube9_desktop.kube.overview import Capacity, Overview

__all__ = ["capacity_lines", "format_text"]


def _bar(value: float, total: float, width: int = 20) -> str:
    if total <= 0:
        return "[" + " " * width + "]"
    n = max(0, min(width, round(value / total * width)))
    return "[" + "#" * n + "." * (width - n) + "]"


def capacity_lines(cap: Capacity, metrics: Unavailable | None) -> list[str]:
    """CPU and memory: allocatable vs requests vs usage, with bars."""
    lines = []
    for label, a, r, u, fmt in (
        ("CPU", cap.allocatable.cpu, cap.requests.cpu, cap.usage.cpu if cap.usage else None, format_cpu),
        ("Memory", cap.allocatable.memory, cap.requests.memory, cap.usage.memory if cap.usage else None,
         format_memory),
    ):
        rp = percent(r, a)
        line = f"  {label:<7} allocatable {fmt(a)}  requested {fmt(r)}"
        line += f" ({rp:.0f}%)" if rp is not None else ""
        if u is not None:
            up = percent(u, a)
            line += f"  used {fmt(u)}" + (f" ({up:.0f}%)" if up is not None else "") + f"  used {_bar(u, a)}"
        else:
            line += f"  requested {_bar(r, a)}"
        lines.append(line)
    if metrics is not None:
        lines.append(f"  usage: metrics unavailable — {metrics.reason}")
    return lines


def format_text(ov: Overview, now: float | None = None) -> str:
    """The overview as plain text (``--run overview``)."""
    t = time.time() if now is None else now
    lat = f", latency {ov.latency_ms:.0f} ms" if ov.latency_ms is not None else ""
    out = [f"Cluster {ov.context}: Kubernetes {ov.version or '?'}{lat}"]
    out.append(f"Nodes: {ov.nodes_ready}/{ov.nodes_total} ready, {len(ov.cordoned)} cordoned, "
               f"{len(ov.pressure)} under pressure")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.not_ready + ov.cordoned + ov.pressure]
    phases = ", ".join(f"{k} {v}" for k, v in ov.phases.items())
    out.append(f"Pods: {ov.pods_total} ({phases})")
    out.append(f"Failing pods: {len(ov.failing)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.failing]
    out.append(f"Workloads not at desired replicas: {len(ov.workloads)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.workloads]
    out.append("Restarts (top 10):")
    out += [f"  {e.ref.address()}  {e.status}" for e in ov.restarts]
    out.append(f"Warning events (last hour): {len(ov.warnings)}")
    out += [f"  {age(t - w.last_seen)} ago  {w.object_namespace}/{w.object}  {w.reason}: {w.message}"
            for w in ov.warnings[:20]]
    if len(ov.warnings) > 20:
        out.append(f"  … and {len(ov.warnings) - 20} more")
    out.append("Capacity:")
    out += capacity_lines(ov.capacity, ov.metrics)
    out.append(f"PersistentVolumeClaims not Bound: {len(ov.pvcs)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.pvcs]
    for kind, why in sorted(ov.problems.items()):
        out.append(f"! {kind}: {why}")
    return "\n".join(out)
