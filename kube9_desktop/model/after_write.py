"""The tree after a write (Qt-free): deleted rows turn Terminating at once, touched lists are brought up to date.

Lists a watch keeps current get the change from the watch (0.1 s later at most); every other loaded list showing
an affected kind is reloaded in place (rows reconciled, so selection and expansion survive). The window's command
bridge and the actions benchmark both use these, so the benchmark measures what a user sees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol

from kube9_desktop.kube.kinds import AFFECTS
from kube9_desktop.kube.rows import Severity
from kube9_desktop.model.live import LiveUpdates
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode

TERMINATING = "Terminating"


class TreeLike(Protocol):
    """What these functions need of the model (``ClusterTreeModel`` has it)."""

    @property
    def live(self) -> LiveUpdates:
        """The live watches."""
        ...

    def context_node(self) -> TreeNode | None:
        """The context shown."""
        ...

    def changed(self, node: TreeNode) -> None:
        """Announce that ``node``'s own row changed."""
        ...

    def reload_node(self, node: TreeNode, *, user: bool = True, demand: bool = True) -> None:
        """Reload one node in place."""
        ...


def affected_kinds(kind_key: str) -> set[str]:
    """``kind_key`` and the kinds its controllers change."""
    return {kind_key, *AFFECTS.get(kind_key, ())}


def object_nodes(model: TreeLike, context: str, objects: Iterable[tuple[str, str | None, str]]) -> list[TreeNode]:
    """The rows showing ``(kind key, namespace, name)`` objects in ``context`` (a pod can be shown twice: under
    Pods and under its Deployment)."""
    wanted = set(objects)
    root = model.context_node()
    if root is None or root.context != context or not wanted:
        return []
    return [n for n in root.walk() if n.type is NodeType.OBJECT and n.kind is not None and n.row is not None
            and (n.kind.key, n.row.namespace, n.row.name) in wanted]


def mark_terminating(model: TreeLike, context: str, objects: Iterable[tuple[str, str | None, str]]) -> int:
    """Show the rows of deleted objects as Terminating now; returns how many rows changed."""
    nodes = object_nodes(model, context, objects)
    for node in nodes:
        assert node.row is not None
        node.row = dataclasses.replace(node.row, status=TERMINATING, severity=Severity.UNKNOWN)
        model.changed(node)
    return len(nodes)


def reloading_in_place(node: TreeNode) -> bool:
    """``node`` is a list whose rows are shown while a reload of it is in flight: that reload may have been sent
    before the write now being followed, so it must be restarted (``reload_node`` does), not left to land."""
    return node.state is LoadState.LOADING and node.type is NodeType.LIST and any(
        c.type is NodeType.OBJECT for c in node.children)


def reload_affected(model: TreeLike, context: str, kinds: Iterable[str], namespaces: Iterable[str | None]) -> int:
    """Reload, in place, the loaded lists of ``kinds`` in ``namespaces`` (``None``: cluster-scoped or all) that
    no healthy watch keeps current; returns how many were reloaded.

    A list already reloading is reloaded again: its request may predate the write (the second delete of a
    multi-delete while the first's reload is in flight), and its answer would put a Terminating row back to
    Running. ``reload_node`` discards that request's rows and starts a new one.
    """
    root = model.context_node()
    if root is None or root.context != context:
        return 0
    kinds = set(kinds)
    spaces = set(namespaces)
    reloaded = 0
    for n in root.walk():
        ref = n.ref
        if ref is None or n.type not in (NodeType.LIST, NodeType.OBJECT) or not (
                n.state is LoadState.LOADED or reloading_in_place(n)):
            continue
        if ref.kind not in kinds:
            continue
        if None not in spaces and ref.namespace is not None and ref.namespace not in spaces:
            continue
        if model.live.healthy(n):
            continue
        model.reload_node(n, user=False, demand=n.expanded)
        reloaded += 1
    return reloaded
