"""Commands ``overview`` (one cluster's health), ``fleet`` (every context side by side) and ``diagnose`` (why is
this pod or workload failing?).

In the window each opens a page (views ``overview``, ``fleet``, ``diagnose``); headless ``--run`` prints what the
page shows. The work is in the Qt-free :mod:`kube9_desktop.kube.overview`, :mod:`~kube9_desktop.kube.fleet` and
:mod:`~kube9_desktop.kube.diagnose`, imported when a command runs: the families are imported before the window's first
paint (its menus and shortcuts come from the registry), and these modules (the rules, the overview's decoders, the
kubeconfig reader of the fleet) took ~20 ms of CPU there.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from kube9_desktop.commands.registry import Access, Invocation, Result, Selection, command
from kube9_desktop.kube.diagnosable import KINDS as DIAGNOSABLE
from kube9_desktop.kube.errors import KubeError

if TYPE_CHECKING:
    from kube9_desktop.kube import diagnose as dx


@command("overview", "Cluster overview", selection=Selection.NONE, menu="Inspect",
         help="One page for the cluster: version and latency, nodes, failing pods, workloads short of replicas, "
              "restarts, warnings of the last hour, CPU/memory capacity vs requests vs usage, unbound claims.")
async def overview(inv: Invocation) -> Result:
    """Open the overview page, or print it."""
    if inv.ui.open_view("overview", {"context": inv.context}):
        return Result.success()
    from kube9_desktop.kube import overview as ov
    from kube9_desktop.kube.overview_text import format_text

    try:
        page = await asyncio.to_thread(ov.gather, inv.service, inv.context)
    except KubeError as err:
        return Result.failure(f"overview of {inv.context}: {err.message}")
    return Result.success(format_text(page), data=page)


def _fleet_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--contexts", default="", help="comma-separated contexts (default: every context)")


@command("fleet", "All clusters", selection=Selection.NONE, menu="Inspect", params=_fleet_params,
         help="Every context of the kubeconfig probed in parallel: reachable, version, nodes, failing pods, "
              "warnings, latency, credential problems.")
async def fleet(inv: Invocation) -> Result:
    """Open the fleet page, or print the table."""
    names = [c for c in inv.args.contexts.split(",") if c] or inv.service.kubeconfig.names()
    if inv.ui.open_view("fleet", {"contexts": names}):
        return Result.success()
    from kube9_desktop.kube import fleet as fl

    rows = await fl.probe_all(inv.service.kubeconfig, names, inv.service.options)
    return Result.success(fl.format_text(rows), data=rows)


@command("diagnose", "Why is it failing?", kinds=DIAGNOSABLE, menu="Inspect", needs=Access("get"), shortcut="W",
         help="Explain in plain words why a pod or workload is failing, with the evidence (status, events, the "
              "previous log, metrics) and what to check next.")
async def diagnose(inv: Invocation) -> Result:
    """Open the diagnosis page, or print it."""
    t = inv.target
    spec = {"context": t.context, "kind": t.kind.key, "namespace": t.namespace or "", "name": t.name}
    if inv.ui.open_view("diagnose", spec):
        return Result.success()
    try:
        d = await asyncio.to_thread(run_diagnosis, inv.service, t.context, t.kind.key, t.namespace or "", t.name)
    except KubeError as err:
        return Result.failure(f"diagnose {t.describe()}: {err.message}")
    from kube9_desktop.kube.diagnose import format_text

    return Result.success(format_text(d), data=d)


def run_diagnosis(service: object, context: str, kind: str, namespace: str, name: str) -> dx.Diagnosis:
    """Gather the facts and run the rules (blocking: call in a worker); raises KubeError."""
    from kube9_desktop.kube import diagnose as dx
    from kube9_desktop.kube import overview as ov
    from kube9_desktop.kube.diagnose.facts import gather as gather_facts

    client = ov.api_client(service, context)
    return dx.diagnose(gather_facts(client, kind, namespace, name))
