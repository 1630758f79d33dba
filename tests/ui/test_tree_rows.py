"""Rows of the main window's tree as the user reads them (issue 14 items 24, 26)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics

from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.main_window import MainWindow


def reads_whole(window: MainWindow, node: TreeNode) -> bool:
    """Whether ``node``'s row shows its whole text: icon and text fit the width the view gives the row."""
    idx = window.model.index_of(node)
    view_idx = window._view_index(idx)
    tree = window.tree
    rect = tree.visualRect(view_idx)
    text = window.model.data(idx)
    # Qt's item delegate: a margin, the icon, a margin, the text, a margin (Fusion: 3 px + 3 px + 4 px).
    needed = QFontMetrics(tree.font()).horizontalAdvance(text) + tree.iconSize().width() + 12
    right = min(rect.right(), tree.viewport().width())
    return right - rect.left() >= needed


def test_message_rows_read_whole_at_the_default_size(open_in_window: Any,
                                                     window: MainWindow, run: Any, qtbot: Any) -> None:
    """Item 24: an error row was cut at the Name column, and the "Partial list" note before its point (what is
    shown). Each reads whole in the default window; why a list is partial is in its tooltip and details."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    open_in_window("Nodes")
    namespaces = open_in_window("Namespaces")
    open_in_window("Namespaces/team-a/Config/Secrets")
    messages = [n for n in window.model.context_node().walk()  # type: ignore[union-attr]
                if n.type in (NodeType.ERROR, NodeType.NOTE) and window._view_index(
                    window.model.index_of(n)).isValid() and n.parent is not None and n.parent.expanded]
    assert len(messages) >= 3, [m.label for m in messages]
    window.tree.viewport().repaint()
    cut = [m.label for m in messages if not reads_whole(window, m)]
    assert not cut, cut
    note = namespaces.children[0]
    assert note.type is NodeType.NOTE and "default namespace" in note.label
    tip = window.model.data(window.model.index_of(note), Qt.ItemDataRole.ToolTipRole)
    assert "cannot list namespaces" in tip
    window.tree.setCurrentIndex(window.model.index_of(note))
    form = window.details.form
    fields = {form.itemAt(i, form.ItemRole.LabelRole).widget().text(): form.itemAt(i, form.ItemRole.FieldRole)
              .widget().text() for i in range(form.rowCount())}
    assert "cannot list namespaces" in fields["<b>Why</b>"], fields


def shown_children(window: MainWindow, node: TreeNode) -> list[TreeNode]:
    """``node``'s children in the order the view shows them."""
    view_model = window.tree.model()
    parent = window._view_index(window.model.index_of(node))
    return [window.model.node(window.source_index(view_model.index(r, 0, parent)))
            for r in range(view_model.rowCount(parent))]


def click_header(window: MainWindow, qtbot: Any, column: int) -> None:
    header = window.tree.header()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def test_header_click_sorts_each_list_and_folders_keep_their_order(open_in_window: Any,
                                                                   window: MainWindow, run: Any, qtbot: Any,
                                                                  sim: Any) -> None:
    """Item 26: clicking a column header sorts the rows of every list by it (again: descending, a third time: the
    server's order); folders, lists and the context's rows keep their order."""
    from kube9_desktop.model import render

    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    workloads = pods.parent
    assert workloads is not None
    root = window.model.context_node()
    assert root is not None
    server_order = [c.row.name for c in pods.children if c.row is not None]
    folders = [c.label for c in workloads.children]
    top = [c.label for c in root.children]

    click_header(window, qtbot, render.COL_NAME)
    assert window.tree.model() is window.proxy and window.tree.isExpanded(
        window._view_index(window.model.index_of(pods)))
    names = [n.row.name for n in shown_children(window, pods) if n.row is not None]
    assert names == sorted(server_order, key=str.casefold) and names != server_order[::-1]
    assert [n.label for n in shown_children(window, workloads)] == folders
    assert [n.label for n in shown_children(window, root)] == top
    header = window.tree.header()
    assert header.isSortIndicatorShown() and header.sortIndicatorOrder() is Qt.SortOrder.AscendingOrder

    click_header(window, qtbot, render.COL_NAME)
    assert [n.row.name for n in shown_children(window, pods) if n.row is not None] == sorted(
        server_order, key=str.casefold, reverse=True)
    assert [n.label for n in shown_children(window, workloads)] == folders  # not reversed
    assert [n.label for n in shown_children(window, root)] == top

    click_header(window, qtbot, render.COL_RESTARTS)
    restarts = [int(n.row.restarts.split()[0] or 0) for n in shown_children(window, pods) if n.row is not None]
    assert restarts == sorted(restarts) and len(set(restarts)) > 1

    click_header(window, qtbot, render.COL_RESTARTS)
    click_header(window, qtbot, render.COL_RESTARTS)  # third click: the server's order, the model itself
    assert window.tree.model() is window.model and not header.isSortIndicatorShown()
    assert [n.row.name for n in shown_children(window, pods) if n.row is not None] == server_order
    assert window.tree.isExpanded(window.model.index_of(pods))


def test_filtering_lists_say_how_many_of_their_rows_match(open_in_window: Any, window: MainWindow, run: Any) -> None:
    """Item 26: while filtering, a list says "Pods (3 of 4)": its matching rows of all."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    names = [c.row.name for c in pods.children if c.row is not None]
    prefix = names[0].rsplit("-", 2)[0]  # a deployment's pods share its name
    matching = [n for n in names if prefix in n]
    assert 1 <= len(matching) < len(names)
    window.filter_box.setText(prefix)
    idx = window._view_index(window.model.index_of(pods))
    assert idx.isValid()
    want = f"Pods ({len(matching)} of {len(names)})"
    assert window.proxy.data(idx) == want
    window.tree.viewport().grab()  # painted through multiData: the same text
    from PySide6.QtCore import QModelRoleData

    rd = QModelRoleData(Qt.ItemDataRole.DisplayRole)
    window.proxy.multiData(idx, rd)
    assert rd.data() == want
    window.filter_box.clear()
    assert window.model.data(window.model.index_of(pods)) == f"Pods ({len(names)})"


def test_details_clear_when_their_row_is_filtered_away_or_removed(open_in_window: Any,
                                                                  window: MainWindow, run: Any, sim: Any) -> None:
    """Item 26: the details pane shows the selected row only while the view shows that row."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    objects = [c for c in pods.children if c.row is not None]
    target = objects[1]
    assert target.row is not None

    def select(node: TreeNode) -> None:
        window.tree.setCurrentIndex(window._view_index(window.model.index_of(node)))
        run(window.wait_details())
        assert window.details.title.text().startswith("Pod "), window.details.title.text()

    select(target)
    window.filter_box.setText("no-row-is-called-this")
    assert window.details.title.text().startswith("Select a resource")
    window.filter_box.clear()
    select(target)
    window.filter_box.setText(target.row.name)  # still shown: the details stay
    assert window.details.title.text().startswith("Pod ")
    window.filter_box.clear()
    assert window.details.title.text().startswith("Pod ")

    sim.request("DELETE", f"/api/v1/namespaces/team-a/pods/{target.row.name}?gracePeriodSeconds=0")
    window.refresh()
    run(window.model.wait_idle())
    assert target.row.name not in [c.row.name for c in pods.children if c.row is not None]
    assert window.details.title.text().startswith("Select a resource")  # not the neighbour Qt made current

    select(objects[3])
    root = window.model.context_node()
    assert root is not None
    window.model.reload_node(root, user=True)  # a context reloads from scratch: the row goes with its ancestors
    assert window.details.title.text().startswith("Select a resource")
    run(window.model.wait_idle())


def test_reveal_and_select_opens_the_path_and_shows_its_details(window: MainWindow, run: Any, sim: Any) -> None:
    """The "reveal a path and select" API (for quick open and drill-downs): each row on the path is expanded in
    the view, the last is selected and its details shown."""
    name = sorted(i["metadata"]["name"] for i in sim.request("GET", "/api/v1/namespaces/team-b/pods")["items"])[-1]
    node = run(window.modes.reveal_and_select(f"Namespaces/team-b/Workloads/Pods/{name}"), 30)
    assert node is not None and node.row is not None and node.row.name == name
    idx = window.tree.currentIndex()
    assert window.model.node(window.source_index(idx)) is node
    parent = idx.parent()
    while parent.isValid():
        assert window.tree.isExpanded(parent)
        parent = parent.parent()
    run(window.wait_details())
    assert window.details.title.text() == f"Pod {name}"
    assert run(window.modes.reveal_and_select("Namespaces/team-b/Workloads/Pods/no-such-pod"), 30) is None
