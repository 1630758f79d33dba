"""The Qt-free tree core (:mod:`kube9_desktop.model.tree_core`) against a running kube9-sim: the headless tree
(``PlainTree``, what ``--print-tree`` and ``--run`` use, without Qt) loads exactly what the window's model loads,
row for row and shown window for shown window."""

from __future__ import annotations

from typing import Any

from model_helpers import make_model, open_path

from kube9_desktop.headless import format_tree, load_tree
from kube9_desktop.model.nodes import LoadState, TreeNode
from kube9_desktop.model.tree_core import PlainTree, TreeCore

PATHS = ("Namespaces/team-a/Workloads/Pods", "Namespaces/team-b/Workloads/Deployments")


def _shape(root: TreeNode) -> list[tuple[str, str, int, bool, bool]]:
    """Every node's label, state, shown window, whether it was revealed and whether it is open."""
    return [(n.display_label, n.state.name, n.shown, n.revealed, n.expanded) for n in root.walk()]


def _plain(service: Any, step: int) -> PlainTree:
    tree = PlainTree()
    tree.show_step = step
    tree.set_service(service)
    tree.set_context("sim-admin", user=True)
    return tree


def test_the_headless_tree_is_the_window_models_tree(service_factory: Any, run: Any) -> None:
    """Same sim, same pages, same shown-window size: the plain tree and the Qt model end with the same rows, the same
    load states and the same shown windows (a list loaded only for its count keeps its rows hidden in both)."""
    model = make_model(service_factory(page_size=10))
    model.show_step = 10
    plain = _plain(service_factory(page_size=10), 10)
    open_path(model, run, *PATHS, depth=2)
    run(load_tree(plain, 2, list(PATHS)))
    qt_root, plain_root = model.context_node(), plain.context_node()
    assert qt_root is not None and plain_root is not None
    assert qt_root.state is LoadState.LOADED and plain_root.state is LoadState.LOADED
    pods = plain.find(PATHS[0])
    assert pods is not None and len(pods.children) > 10 and pods.shown < len(pods.children)  # a window in use
    assert format_tree(plain_root) == format_tree(qt_root)
    assert _shape(plain_root) == _shape(qt_root)
    run(plain.shutdown())
    run(model.shutdown())
    assert plain.context_node() is None and not plain.loader.contexts


def test_the_window_model_is_a_tree_core_whose_hooks_tell_views(service_factory: Any, run: Any) -> None:
    """The Qt model announces what the core changes (its hooks); the plain tree announces nothing and never holds
    a change open (``changing`` stays false)."""
    model = make_model(service_factory())
    inserted: list[int] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append(last - first + 1))
    plain = _plain(service_factory(), PlainTree.show_step)
    assert isinstance(model, TreeCore)
    run(load_tree(plain, 1, []))
    open_path(model, run, depth=1)
    assert inserted and not plain.changing
    assert format_tree(plain.context_node()) == format_tree(model.context_node())  # type: ignore[arg-type]
    run(plain.shutdown())
    run(model.shutdown())
