"""The column fitter's widths from the row painter's texts (kube9_desktop/ui/row_widths.py): the widths Qt's
``sizeHintForColumn`` gives, for every row kind, scrolled anywhere, through the filter and after a font change; Qt
measures whenever the row painter does not paint."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFont

from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.tree_view import ClusterTreeView


def shown_columns(tree: ClusterTreeView) -> tuple[int, ...]:
    header = tree.header()
    return tuple(c for c in range(header.count()) if not header.isSectionHidden(c))


def assert_qts_widths(tree: ClusterTreeView, qtbot: Any) -> dict[int, int]:
    """The row painter's widths of every shown column are Qt's (worked out here, not by Qt): from the style's
    measuring (nothing painted yet), then from the texts a paint laid out."""
    cols = shown_columns(tree)
    painter, widths = tree.row_painter, tree.row_painter.widths
    seen: list[tuple[dict[int, int] | None, dict[int, int]]] = []

    def measured(painted: bool) -> bool:
        painter.forget()
        if painted:
            tree.viewport().repaint()
        qt = {c: tree.sizeHintForColumn(c) for c in cols}
        before, reused = widths.measures, widths.reused
        seen.append((widths.measure(cols), qt))
        assert widths.measures == before + 1, "Qt measured"
        return widths.reused > reused

    assert not measured(False)
    assert seen[-1][0] == seen[-1][1]
    # The window may hold a paint for a loop turn after a layout, and rows may move after the view's model changed:
    # painted again until the rows measured are rows painted.
    qtbot.waitUntil(lambda: measured(True), timeout=5000)
    ours, qt = seen[-1]
    assert ours == qt
    return qt


def test_widths_are_qts_for_every_row_kind(open_in_window: Any, window: MainWindow, qtbot: Any) -> None:
    """Pods five levels deep with their status icons, colours and usage figures, a long list's row with its count,
    nodes, the filter's "(n of m)" counts, the top and the end of the tree, and a larger font."""
    window.model.show_step = 40
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree, header = window.tree, window.tree.header()
    qtbot.waitUntil(lambda: window.model.usage is not None and not header.isSectionHidden(render.COL_CPU),
                    timeout=30000)
    window.usage.timer.stop()  # no new figures between Qt's measuring and ours
    assert pods.hidden_rows  # the list's row says "first 40 shown"
    tree.scrollTo(window._view_index(window.model.index_of(pods.children[3])))
    qt = assert_qts_widths(tree, qtbot)
    name_cell = tree.itemDelegate().sizeHint(_option(tree), window._view_index(window.model.index_of(pods.children[3])))
    assert qt[render.COL_NAME] >= name_cell.width() + 5 * tree.indentation()  # the depth is in Name's width
    assert qt[render.COL_CPU] > 0 and qt[render.COL_STATUS] > 0

    open_in_window("Nodes")
    tree.scrollTo(window._view_index(window.model.index_of(window.model.find("Nodes"))))
    assert_qts_widths(tree, qtbot)
    tree.verticalScrollBar().setValue(tree.verticalScrollBar().maximum())  # the end: the last screenful and one
    assert_qts_widths(tree, qtbot)
    tree.verticalScrollBar().setValue(0)
    assert_qts_widths(tree, qtbot)

    window.filter_box.setText("-")  # through the proxy: lists say "(n of m)"
    qtbot.waitUntil(lambda: tree.model() is window.proxy, timeout=5000)
    assert_qts_widths(tree, qtbot)
    window.filter_box.clear()
    qtbot.waitUntil(lambda: tree.model() is window.model, timeout=5000)

    before = assert_qts_widths(tree, qtbot)
    font = QFont(tree.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    tree.setFont(font)
    after = assert_qts_widths(tree, qtbot)
    assert after[render.COL_NAME] > before[render.COL_NAME]


def _option(tree: ClusterTreeView) -> Any:
    from PySide6.QtWidgets import QStyleOptionViewItem

    opt = QStyleOptionViewItem()
    tree.initViewItemOption(opt)
    return opt


def test_note_rows_in_italics(open_in_window: Any, window: MainWindow, run: Any, qtbot: Any) -> None:
    """A note row spans the row (Qt skips it); unspanned, its italic text is measured in italics."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    namespaces = open_in_window("Namespaces")
    note = namespaces.children[0]
    assert note.type is NodeType.NOTE
    tree = window.tree
    idx = window._view_index(window.model.index_of(note))
    assert tree.isFirstColumnSpanned(idx.row(), idx.parent())
    spanned = assert_qts_widths(tree, qtbot)
    tree.setFirstColumnSpanned(idx.row(), idx.parent(), False)
    unspanned = assert_qts_widths(tree, qtbot)
    assert unspanned[render.COL_NAME] > spanned[render.COL_NAME]  # the note's long text counts now


def test_qt_measures_when_the_painter_is_off(open_in_window: Any, window: MainWindow) -> None:
    """The row painter switched off (or right-to-left): the fitter asks Qt, and gets the same widths."""
    open_in_window("Namespaces/team-a/Workloads/Pods")
    tree, fitter = window.tree, window.column_fit
    widths = tree.row_painter.widths
    fitter.fit()
    sizes = [tree.header().sectionSize(c) for c in shown_columns(tree)]
    measures = widths.measures
    assert measures > 0
    tree.row_painter.enabled = False
    try:
        assert widths.measure(shown_columns(tree)) is None
        fitter.fit()
        assert widths.measures == measures
        assert [tree.header().sectionSize(c) for c in shown_columns(tree)] == sizes
    finally:
        tree.row_painter.enabled = True
    tree.setLayoutDirection(tree.layoutDirection().RightToLeft)
    assert widths.measure(shown_columns(tree)) is None
