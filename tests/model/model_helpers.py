"""Helpers the model tests share (imported by name: pytest puts this folder on ``sys.path``, as for
``tests/reliability/reliability_helpers.py``; CI's clean clone has no repository root there for ``tests.``)."""

from __future__ import annotations

from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel


def child_names(node: TreeNode | None) -> list[str]:
    """The names of ``node``'s object rows, sorted."""
    assert node is not None
    return sorted(c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None)


def open_path(model: ClusterTreeModel, run: Any, *paths: str, depth: int = 1, timeout: float = 30) -> None:
    """Load the tree to ``depth`` and along ``paths``, as ``--print-tree --expand`` does."""
    run(load_tree(model, depth, list(paths)), timeout)


def make_model(service: Any, context: str = "sim-admin", failures: list[Any] | None = None) -> ClusterTreeModel:
    """A model showing ``context`` (loading starts at once); failures are appended as (error, user)."""
    model = ClusterTreeModel()
    if failures is not None:
        model.load_failed.connect(lambda e, user: failures.append((e, user)))
    model.set_service(service)
    model.set_context(context, user=True)
    return model
