"""The tree as a view shows it (issue 14 items 24, 26): expand arrows, message rows, pod readiness colours.

The model is shown in the app's own ``ClusterTreeView`` and the view's pixels or answers are inspected: what is
checked is what a user sees, not only what the model says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from kube9_desktop.headless import load_tree
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.ui.tree_view import ClusterTreeView


@pytest.fixture
def shown(qtbot: Any, service_factory: Any, run: Any) -> Iterator[tuple[ClusterTreeModel, ClusterTreeView]]:
    model = ClusterTreeModel()
    view = ClusterTreeView()
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.setColumnWidth(0, 500)
    model.set_service(service_factory())
    model.set_context("sim-admin", user=False)
    run(model.wait_idle())
    yield model, view
    run(model.shutdown())


def open_view(model: ClusterTreeModel, view: ClusterTreeView, run: Any, path: str) -> TreeNode:
    """Open ``path`` as a user would: the view expands each row (fetchMore, then the model hears of it)."""

    def expand(n: TreeNode) -> None:
        view.expand(model.index_of(n))
        model.set_expanded(n, True)

    run(load_tree(model, 0, [path], expand_view=expand))
    node = model.find(path)
    assert node is not None, path
    expand(node)
    run(model.wait_idle())
    return node


def has_arrow(view: ClusterTreeView, model: ClusterTreeModel, node: TreeNode) -> bool:
    """Whether the view draws an expand arrow left of ``node``'s row (dark pixels in its branch area)."""
    view.viewport().repaint()
    rect = view.visualRect(model.index_of(node))
    assert rect.isValid()
    img: QImage = view.viewport().grab().toImage()
    dark = 0
    for x in range(max(0, rect.x() - view.indentation()), rect.x()):
        for y in range(rect.top(), rect.bottom()):
            if QColor(img.pixel(x, y)).lightness() < 128:
                dark += 1
    return dark > 3


def test_an_empty_list_has_no_expand_arrow_after_refresh(shown: Any, run: Any, qtbot: Any) -> None:
    """Item 26: "DaemonSets (0)" kept an expand arrow after Refresh. The view reads whether a row has children
    during a layout; one made while the list was reloading saw "loading, may have children", and the list's last
    change was announced while it still said so."""
    model, view = shown
    workloads = open_view(model, view, run, "Namespaces/team-a/Workloads")
    empty = [n for n in workloads.children if n.type is NodeType.LIST and n.count == 0]
    full = [n for n in workloads.children if n.type is NodeType.LIST and n.count]
    assert empty and full, [n.display_label for n in workloads.children]
    assert not has_arrow(view, model, empty[0]) and has_arrow(view, model, full[0])
    model.refresh()
    qtbot.waitUntil(lambda: empty[0].state is LoadState.LOADING, timeout=5000)
    view.doItemsLayout()  # a layout while it reloads (any removal elsewhere in the tree makes one)
    assert has_arrow(view, model, empty[0])  # "may have children" while loading
    run(model.wait_idle())
    assert empty[0].state is LoadState.LOADED and empty[0].count == 0
    assert not has_arrow(view, model, empty[0]), empty[0].display_label


def test_a_running_pod_that_is_not_ready_is_a_warning(shown: Any, run: Any, sim: Any) -> None:
    """Item 26: a Running pod whose readiness probe fails ("0/1") gets no traffic: yellow, not green."""
    from kube9_desktop.kube.rows import Severity
    from kube9_desktop.model import render

    model, _view = shown
    pods = sim.request("GET", "/api/v1/pods")["items"]
    unready = [p for p in pods if p["status"]["phase"] == "Running"
               and not all(c.get("ready") for c in p["status"].get("containerStatuses", []))
               and all("running" in c.get("state", {}) for c in p["status"].get("containerStatuses", []))]
    ready = [p for p in pods if p["status"]["phase"] == "Running"
             and all(c.get("ready") for c in p["status"].get("containerStatuses", []))]
    assert unready and ready
    target = unready[0]["metadata"]
    ok = next(p["metadata"] for p in ready if p["metadata"]["namespace"] == target["namespace"])
    listed = open_view(model, _view, run, f"Namespaces/{target['namespace']}/Workloads/Pods")
    by_name = {c.row.name: c for c in listed.children if c.row is not None}

    def status_colour(node: TreeNode) -> QColor:
        brush = model.data(model.index_of(node, render.COL_STATUS), Qt.ItemDataRole.ForegroundRole)
        return brush.color()

    bad, good = by_name[target["name"]], by_name[ok["name"]]
    assert model.data(model.index_of(bad, render.COL_STATUS)) == "Running"
    assert model.data(model.index_of(bad, render.COL_READY)) == "0/1"
    assert status_colour(bad) == render.SEVERITY_COLOURS[Severity.WARN]
    assert status_colour(good) == render.SEVERITY_COLOURS[Severity.OK]
