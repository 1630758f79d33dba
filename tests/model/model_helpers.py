"""Helpers the model tests share (imported by name: pytest puts this folder on ``sys.path``, as for
``tests/reliability/reliability_helpers.py``; CI's clean clone has no repository root there for ``tests.``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tree_helpers import make_model as make_model  # shared with tests/reliability

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


async def until(pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``pred`` every 50 ms while the loop runs, until it holds or ``timeout`` passes; whether it held."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(0.05)
    return pred()
