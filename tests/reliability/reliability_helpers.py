"""Helpers shared by the fault-matrix tests (imported as a plain module: tests/ has no packages)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml
from tree_helpers import make_model as make_model  # shared with tests/model

from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess


def sim_config(sim: SimProcess) -> dict[str, Any]:
    """A deep copy of the sim's kubeconfig dict."""
    with open(sim.kubeconfig, encoding="utf-8") as f:
        return copy.deepcopy(yaml.safe_load(f))


def error_rows(node: TreeNode | None) -> list[TreeNode]:
    """The ERROR children of ``node``."""
    assert node is not None
    return [c for c in node.children if c.type is NodeType.ERROR]


def context_error(model: ClusterTreeModel) -> TreeNode:
    """The one error row a context-fatal failure leaves under the context root."""
    root = model.context_node()
    assert root is not None
    assert root.state is LoadState.FAILED, [c.label for c in root.children]
    rows = error_rows(root)
    assert len(rows) == 1 and len(root.children) == 1, [c.label for c in root.children]
    assert rows[0].error is not None
    return rows[0]


def object_names(node: TreeNode | None) -> list[str]:
    """Names of the object rows under ``node``."""
    assert node is not None
    return sorted(c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None)


def assert_healthy(model: ClusterTreeModel, run: Callable[..., Any], context: str) -> None:
    """Switch ``model`` to ``context`` and check that it loads its nodes and namespaces."""
    from kube9_desktop.headless import load_tree

    model.set_context(context, user=True)
    run(load_tree(model, 2, []), 30)
    root = model.context_node()
    assert root is not None and root.state is LoadState.LOADED, [c.label for c in root.children]
    assert object_names(model.find("Nodes")), "a healthy context still loads its nodes"
    assert object_names(model.find("Namespaces"))


