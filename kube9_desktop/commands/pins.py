"""Pins: keep objects and namespaces at hand in a "Pinned" group at the top of the tree, per context.

``pin`` and ``unpin`` act on the selected rows (any kind: a namespace row pins the namespace). Pins live in the
window's settings (``tree/pins``), so they are the window's: headless runs never change the user's settings and say
so. ``reveal`` selects an object in its own place in the tree (from a pinned row, a drill-down, "All namespaces").
"""

from __future__ import annotations

from kube9_desktop.commands.registry import Invocation, Result, Selection, Target, command
from kube9_desktop.model import pins
from kube9_desktop.model.children import tree_path


def pin_of(target: Target) -> pins.Pin:
    """The pin standing for ``target``."""
    return pins.Pin(target.kind.key, target.namespace, target.name)


def _is_pinned(target: Target) -> bool:
    return pins.pinned(target.context, target.kind.key, target.namespace, target.name)


def _pin_targets(inv: Invocation, pinned: bool) -> Result:
    if not inv.ui.open_view("pins", (pinned, list(inv.targets))):
        return Result.failure("Pins are kept by the window, in your settings; headless runs do not change them.")
    return Result.success()


@command("pin", "Pin to top", selection=Selection.MULTI, menu="View", when=lambda t: not _is_pinned(t),
         help="Show the object (or namespace) in the Pinned group at the top of the tree, in this context.")
async def pin(inv: Invocation) -> Result:
    """Pin the targets."""
    return _pin_targets(inv, True)


@command("unpin", "Unpin", selection=Selection.MULTI, menu="View", when=_is_pinned,
         help="Remove the object from the Pinned group at the top of the tree.")
async def unpin(inv: Invocation) -> Result:
    """Unpin the targets."""
    return _pin_targets(inv, False)


@command("reveal", "Show in its place", selection=Selection.SINGLE, menu="View",
         help="Select the object where it lives in the tree (its namespace's list), from a pinned or related row.")
async def reveal(inv: Invocation) -> Result:
    """Select the target in its own place; headless, print that place's tree path."""
    t = inv.target
    path = "/".join(tree_path(t.kind, t.namespace, t.name))
    if inv.ui.open_view("reveal", path):
        return Result.success()
    return Result.success(path)
