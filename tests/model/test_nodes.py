"""Tree nodes (kube9_desktop.model.nodes)."""

from __future__ import annotations

import gc

from kube9_desktop.model.nodes import NO_CHILDREN, NodeType, TreeNode


def test_nodes_without_children_share_one_list_that_adding_children_never_changes() -> None:
    a, b = TreeNode(NodeType.OBJECT, "a"), TreeNode(NodeType.OBJECT, "b")
    assert a.children is b.children is NO_CHILDREN
    kid = TreeNode(NodeType.NOTE, "kid")
    a.add_children([kid])
    assert a.children == [kid] and kid.parent is a and kid.position() == 0
    assert b.children == [] and NO_CHILDREN == [], "the shared list stays empty"
    b.add_children([TreeNode(NodeType.NOTE, "other")], at=0)
    assert a.children is not b.children and len(a.children) == len(b.children) == 1


def test_a_childless_node_costs_the_collector_one_object_less() -> None:
    gc.collect()
    before = len(gc.get_objects())
    nodes = [TreeNode(NodeType.OBJECT, f"p{i}") for i in range(1_000)]
    grown = len(gc.get_objects()) - before
    assert grown < 1_500, f"{grown} tracked objects for {len(nodes)} nodes: each has a list of its own again?"
