"""What the main window's tree shows against a running kube9-sim (:mod:`kube9_desktop.ui.window_rows`): expansion
kept across a refresh, message rows spanning the row, long lists growing as they scroll (one repaint each)."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from kube9_desktop.model import render
from kube9_desktop.ui.main_window import MainWindow


def test_refresh_keeps_expansion_and_selection(window: MainWindow, open_in_window: Any, run: Any, sim: Any) -> None:
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    assert window.tree.isExpanded(window.model.index_of(pods))
    target = pods.children[3]
    window.tree.setCurrentIndex(window.model.index_of(target))
    victim = pods.children[0].row.name  # type: ignore[union-attr]
    sim.remove_pod("team-a", victim)
    window.refresh()
    run(window.model.wait_idle())
    assert window.tree.isExpanded(window.model.index_of(pods))
    assert window.model.node(window.tree.currentIndex()) is target
    assert victim not in [c.row.name for c in pods.children if c.row is not None]


def test_message_rows_span_the_whole_row(window: MainWindow, open_in_window: Any, run: Any) -> None:
    """An error or a note is a message, not an object: it spans the row, so it is read in full rather than cut at
    the Name column. Spans survive a context switch (a model reset) and the filter (the view has another model
    while it is on)."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    open_in_window("Nodes")
    open_in_window("Namespaces")

    def spanned() -> dict[str, bool]:
        out = {}
        for path in ("Nodes", "Namespaces"):
            node = window.model.find(path)
            assert node is not None
            for child in node.children:
                idx = window._view_index(window.model.index_of(child))
                if idx.isValid():
                    out[child.label] = window.tree.isFirstColumnSpanned(idx.row(), idx.parent())
        return out

    def check() -> None:
        rows = spanned()
        messages = [label for label in rows if label.startswith(("You cannot list nodes", "Partial list"))]
        assert len(messages) == 2, rows
        assert all(rows[m] for m in messages) and not rows["team-a"], rows

    check()
    note = window.model.find("Namespaces").children[0]  # type: ignore[union-attr]
    window.tree.setCurrentIndex(window.model.index_of(note))
    assert window.details.title.text() == "Note"  # selected, a note shows in full in the details pane
    window.context_box.setCurrentText("sim-admin")
    run(window.model.wait_idle())
    window.context_box.setCurrentText("sim-viewer")
    check()
    window.filter_box.setText("team")  # the filter shows objects only; cleared, the view has the tree's model again
    window.filter_box.setText("")
    check()


def test_a_long_list_shows_more_at_the_end_and_all_when_filtering(window: MainWindow, open_in_window: Any,
                                                                  run: Any) -> None:
    """Long lists are shown a window at a time (views ask the model for every shown row on each layout);
    scrolling to the end shows the next rows, and the filter searches every row."""
    window.resize(900, 300)  # a short view: the list's end is off screen until scrolled to
    open_in_window("Namespaces/team-a/Workloads")
    pods = window.model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None
    assert window.model.rowCount(window.model.index_of(pods)) == 0  # counted, never opened: views see no rows
    window.model.show_step = 5  # a small window, as the default one is for a list of thousands
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    run(asyncio.sleep(0.2))
    index = window.model.index_of(pods)
    total = len(pods.children)
    assert total > 12 and window.model.rowCount(index) == 5
    assert window.model.data(index) == f"Pods ({total})"
    assert window.model.data(index.siblingAtColumn(render.COL_STATUS)) == "first 5 shown"
    assert not window.model.index_of(pods.children[-1]).isValid()
    window.tree.scrollTo(window.model.index_of(pods.children[4]))  # the last shown row comes into view
    run(asyncio.sleep(0.2))
    assert window.model.rowCount(index) == 10  # one more window, not everything
    last_hidden = pods.children[-1].row.name  # type: ignore[union-attr]
    window.filter_box.setText(last_hidden)
    assert window.model.rowCount(index) == total and pods.hidden_rows == 0
    source = window.proxy.mapToSource(window.proxy.index(0, 0, window.proxy.mapFromSource(index)))
    assert window.model.node(source) is pods.children[-1]


class _PaintCounter(QObject):
    """Counts the paint events a widget receives."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_a_label_change_then_rows_shown_cost_one_repaint(window: MainWindow, open_in_window: Any,
                                                         run: Any, qtbot: Any) -> None:
    """A list's label changes (its count), then views are told of more of its rows, as when a page arrives: the
    tree repaints once, not twice.

    The label's repaint was asked for first, so Qt laid the tree out inside that paint, and the layout asked for a
    second full repaint (20-30 ms each with the window full of rows): the window now lays out before it paints."""
    window.resize(900, 300)  # the shown rows' end stays off screen (it would show more rows by itself)
    window.model.show_step = 5
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    index = window.model.index_of(pods)
    assert window.model.rowCount(index) == 5 and pods.hidden_rows > 5
    run(window.model.wait_idle())
    qtbot.wait(300)  # everything shown is painted
    # ... and the columns fitted (a fit waits longer while anything loads; its new widths repaint)
    qtbot.waitUntil(lambda: not window.column_fit.pending, timeout=5000)
    counter = _PaintCounter(window.tree.viewport())
    window.model.dataChanged.emit(index, index)
    window.model.show_more(pods, 5)
    qtbot.wait(300)
    assert window.model.rowCount(index) == 10
    assert counter.paints == 1
