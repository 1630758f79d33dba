"""``add-namespace``: let a user who may not list namespaces reach one by naming it.

Where the server refuses to list namespaces, the tree's Namespaces list shows the context's default namespace and
the ones added here, under a row "Add a namespace…" (which runs this command). The name is checked with a cheap
request first (:mod:`kube9_desktop.kube.namespace_check`), then remembered for the context in the settings (the
same setting as Settings → Accessible namespaces) through the ``remember-namespace`` view: the window saves it
and lists the namespaces again; headless ``--run`` saves it to the settings file it uses.
"""

from __future__ import annotations

import argparse

from kube9_desktop.commands.registry import Invocation, Result, Selection, command
from kube9_desktop.kube.namespace_check import check_namespace


def _params(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default="", help="the namespace (for example team-a)")


@command("add-namespace", "Add a namespace…", selection=Selection.NONE, menu="View", params=_params,
         help="Show a namespace you may use when you may not list namespaces; it is checked first, then "
              "remembered for the context: add-namespace team-a.")
async def add_namespace(inv: Invocation) -> Result:
    """Check a namespace and add it to the context's Namespaces list (the window asks for the name)."""
    name = str(inv.args.name or "").strip()
    if not name:
        if inv.ui.open_view("add-namespace", inv.context):
            return Result.success()
        return Result.failure("add-namespace needs the namespace's name: add-namespace team-a", exit_code=2)
    ok, note = await check_namespace(inv.service, inv.context, name)
    if not ok:
        return Result.failure(note, exit_code=2 if "not a namespace name" in note else 1)
    if inv.ui.open_view("remember-namespace", (inv.context, name)):
        return Result.success(f"Added namespace {name} to {inv.context} ({note}).")
    return Result.success(f"Namespace {name} can be used in {inv.context} ({note}); not remembered (headless runs "
                          "keep no settings).")
