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


def test_branches_are_the_walk_less_the_plain_object_rows() -> None:
    """``branches()`` is what looks for lists, messages or loads need: the walk without a list's thousands of
    childless, never-loaded object rows (a whole walk of 10,000 pods was ~5 ms of the GUI thread, several times a
    turn while a namespace loaded), in the walk's order."""
    from kube9_desktop.model.nodes import LoadState

    root = TreeNode(NodeType.CONTEXT, "ctx")
    pods = TreeNode(NodeType.LIST, "Pods")
    prefetch = TreeNode(NodeType.LIST, "Services")
    prefetch.state = LoadState.LOADING  # loading for its count: no children yet
    root.add_children([pods, prefetch])
    rows = [TreeNode(NodeType.OBJECT, f"p{i}") for i in range(1_000)]
    pods.add_children(rows)
    opened = rows[10]  # a pod opened to its containers
    opened.add_children([TreeNode(NodeType.OBJECT, "main")])
    opened.state = LoadState.LOADED
    loading = rows[20]  # a pod whose containers are being read
    loading.state = LoadState.LOADING
    note = TreeNode(NodeType.NOTE, "first 500 shown")
    pods.add_children([note])
    want = [n for n in root.walk()
            if not (n.type is NodeType.OBJECT and not n.children and n.state is LoadState.UNLOADED)]
    got = root.branches()
    assert got == want
    assert opened in got and loading in got and note in got and prefetch in got
    assert rows[0] not in got and opened.children[0] not in got and len(got) == 6
