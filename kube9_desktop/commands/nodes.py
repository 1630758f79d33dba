"""Commands on nodes: cordon, uncordon, drain (evictions through the Eviction API, honouring disruption budgets)."""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.commands.common import failed, kubectl
from kube9_desktop.commands.registry import Access, Invocation, Result, Selection, Target, command
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import KINDS

NODES = frozenset({"nodes"})
MIRROR = "kubernetes.io/config.mirror"
#: First pause before an eviction refused by a disruption budget is tried again; doubles up to MAX_BACKOFF.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 5.0


def _cordon_line(targets: list[Target], on: bool) -> str:
    return kubectl("cordon" if on else "uncordon", *[t.name for t in targets],
                   context=targets[0].context if targets else None)


async def _cordon(inv: Invocation, on: bool) -> Result:
    patch = {"spec": {"unschedulable": True if on else None}}
    problems = []
    for t in inv.targets:
        try:
            await inv.service.writes.patch(inv.context, t.kind, None, t.name, patch)
        except KubeError as err:
            problems.append(failed(t, err))
    verb = "cordon" if on else "uncordon"
    line = _cordon_line(inv.targets, on)
    if problems:
        return Result.failure("\n".join([f"Could not {verb}:", *problems]), kubectl=line)
    names = ", ".join(t.name for t in inv.targets)
    return Result.success(f"{verb.capitalize()}ed {names}: " + ("no new pods are scheduled there." if on else
                                                                "new pods may be scheduled there again."),
                          kubectl=line)


@command("cordon", "Cordon", kinds=NODES, selection=Selection.MULTI, icon="cordon", menu="Node",
         needs=Access("patch"), kubectl=lambda ts, _a: _cordon_line(ts, True),
         help="Mark nodes unschedulable (running pods stay).")
async def cordon(inv: Invocation) -> Result:
    """``spec.unschedulable: true``."""
    return await _cordon(inv, True)


@command("uncordon", "Uncordon", kinds=NODES, selection=Selection.MULTI, icon="uncordon", menu="Node",
         needs=Access("patch"), kubectl=lambda ts, _a: _cordon_line(ts, False),
         help="Let the scheduler place pods on nodes again.")
async def uncordon(inv: Invocation) -> Result:
    """``spec.unschedulable`` removed."""
    return await _cordon(inv, False)


# -- drain -----------------------------------------------------------------------------------------------------------
def _drain_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="also evict pods no controller manages (they are not recreated anywhere)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="give up on pods not evicted and gone after this long (default 120)")
    p.add_argument("--grace-period", type=int, default=None, metavar="N", help="seconds each pod gets to stop")


@dataclass
class DrainPlan:
    """Which pods on a node a drain evicts, and which it leaves and why."""

    evict: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (namespace/name, why)
    unmanaged: list[str] = field(default_factory=list)


def plan_drain(pods: list[dict[str, Any]], force: bool) -> DrainPlan:
    """kubectl drain's filters: DaemonSet pods and mirror pods stay; pods already going are not asked again;
    pods no controller manages need ``--force``."""
    plan = DrainPlan()
    for p in pods:
        md = p.get("metadata") or {}
        key = f"{md.get('namespace')}/{md.get('name')}"
        owners = md.get("ownerReferences") or []
        controller = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
        if MIRROR in (md.get("annotations") or {}):
            plan.skipped.append((key, "mirror pod (managed by the kubelet)"))
        elif controller is not None and controller.get("kind") == "DaemonSet":
            plan.skipped.append((key, "DaemonSet pod"))
        elif md.get("deletionTimestamp"):
            plan.skipped.append((key, "already terminating"))
        elif controller is None and not force:
            plan.unmanaged.append(key)
        else:
            plan.evict.append(p)
    return plan


def drain_line(targets: list[Target], args: argparse.Namespace) -> str:
    """``kubectl drain NODE --ignore-daemonsets --delete-emptydir-data --timeout=120s --context c``."""
    t = targets[0]
    flags = ["--ignore-daemonsets", "--delete-emptydir-data", f"--timeout={args.timeout:g}s"]
    if args.force:
        flags.append("--force")
    if args.grace_period is not None:
        flags.append(f"--grace-period={args.grace_period}")
    return kubectl("drain", t.name, *flags, context=t.context)


@command("drain", "Drain…", kinds=NODES, destructive=True, icon="drain", menu="Node", params=_drain_params,
         needs=Access("create", resource="pods", subresource="eviction"), kubectl=drain_line,
         help="Cordon a node and evict its pods (DaemonSet and mirror pods stay; disruption budgets honoured).")
async def drain(inv: Invocation) -> Result:
    """Cordon, then evict every pod concurrently; a 429 from a disruption budget is retried with backoff and
    reported per pod; cancelling (the window's progress dialog) stops the retries."""
    t = inv.target
    line = drain_line(inv.targets, inv.args)
    writes = inv.service.writes
    await writes.patch(inv.context, t.kind, None, t.name, {"spec": {"unschedulable": True}})
    inv.ui.tell(f"node/{t.name} cordoned")
    pods = await writes.objects(inv.context, KINDS["pods"], None, field_selector=f"spec.nodeName={t.name}")
    plan = plan_drain(pods, inv.args.force)
    if plan.unmanaged:
        return Result.failure(
            f"Not drained: {len(plan.unmanaged)} pods on {t.name} are managed by no controller, so nothing would "
            "recreate them: " + ", ".join(plan.unmanaged) + ". Add --force to evict them anyway.", kubectl=line)
    for key, why in plan.skipped:
        if why != "already terminating":
            inv.ui.tell(f"skipping {key}: {why}")
    deadline = time.monotonic() + inv.args.timeout
    results = await asyncio.gather(*(_evict_one(inv, p, deadline) for p in plan.evict))
    blocked = [r for r in results if r]
    if blocked:
        return Result.failure(f"Drain of {t.name} incomplete: {len(blocked)} of {len(results)} pods not evicted "
                              "(the node stays cordoned):\n" + "\n".join(blocked), kubectl=line)
    left = await _wait_gone(inv, plan.evict, deadline)
    if left:
        # kubectl drain fails here too ("error when waiting for pod ... to terminate"): the pods are still on the
        # node, so it is not drained yet, whatever the evictions said.
        return Result.failure(f"Drain of {t.name} incomplete: {len(left)} of {len(results)} evicted pods still "
                              f"terminating after {inv.args.timeout:g} s (the node stays cordoned):\n"
                              + "\n".join(left), kubectl=line)
    return Result.success(f"Drained {t.name}: {len(results)} pods evicted, {len(plan.skipped)} left in place.",
                          kubectl=line)


async def _evict_one(inv: Invocation, pod: dict[str, Any], deadline: float) -> str:
    """Evict one pod, retrying while a disruption budget forbids it; returns "" or why it was not evicted."""
    from kube9_desktop.kube.writes import evict_blocked, status_causes  # the writes' module: with the first write

    md = pod["metadata"]
    ns, name = md["namespace"], md["name"]
    key = f"{ns}/{name}"
    backoff = FIRST_BACKOFF
    while True:
        try:
            await inv.service.writes.evict(inv.context, ns, name, grace_period=inv.args.grace_period)
            inv.ui.tell(f"pod/{name} evicted ({ns})")
            return ""
        except KubeError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                inv.ui.tell(f"pod/{name} already gone ({ns})")
                return ""
            if not evict_blocked(err):
                inv.ui.tell(f"pod/{name} ({ns}) not evicted: {err.one_line()}")
                return f"{key}: {err.one_line()}"
            why = "; ".join(c.get("message", "") for c in status_causes(err)) or err.message
            # The server's Retry-After (newer servers suggest 10 s) is a floor: asking sooner is only refused again.
            pause = max(backoff, err.retry_after or 0.0)
            if time.monotonic() + pause > deadline:
                inv.ui.tell(f"pod/{name} ({ns}) still blocked by its disruption budget; giving up")
                return f"{key}: blocked by its disruption budget ({why})"
            inv.ui.tell(f"pod/{name} ({ns}) blocked by its disruption budget ({why}); retrying in {pause:g} s")
            await asyncio.sleep(pause)
            backoff = min(backoff * 2, MAX_BACKOFF)


async def _wait_gone(inv: Invocation, pods: list[dict[str, Any]], deadline: float) -> list[str]:
    """Wait (bounded by the deadline) until the evicted pods are gone, as kubectl drain does; returns the pods
    (``namespace/name``) still there at the deadline."""
    waiting = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["metadata"].get("uid") for p in pods}
    kind = KINDS["pods"]
    while waiting and time.monotonic() < deadline:
        for (ns, name), uid in list(waiting.items()):
            try:
                now = await inv.service.writes.get(inv.context, kind, ns, name)
                if (now.get("metadata") or {}).get("uid") != uid:
                    del waiting[(ns, name)]
            except KubeError as err:
                if err.kind is ErrorKind.NOT_FOUND:
                    del waiting[(ns, name)]
        if waiting:
            await asyncio.sleep(0.5)
    return [f"{ns}/{name}" for ns, name in waiting]



