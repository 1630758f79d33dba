"""The tree's rows as the row painter draws them (kube9_desktop/ui/row_paint.py): the pixels Qt's own cell-by-cell
painting makes, the status colours, the selection, middle-elided names, and new text after a change."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPalette

from kube9_desktop.kube.rows import Severity
from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.tree_view import ClusterTreeView


def grab(view: ClusterTreeView, ours: bool) -> QImage:
    """The viewport painted by the row painter (``ours``) or by Qt, cell by cell."""
    view.row_painter.enabled = ours
    try:
        view.viewport().repaint()
        return view.viewport().grab().toImage()
    finally:
        view.row_painter.enabled = True


def differing(a: QImage, b: QImage) -> int:
    """How many pixels of two same-sized images differ."""
    assert a.size() == b.size()
    return sum(1 for y in range(a.height()) for x in range(a.width()) if a.pixel(x, y) != b.pixel(x, y))


def assert_same_as_qt(view: ClusterTreeView) -> None:
    before = view.row_painter.rows
    ours = grab(view, True)
    assert view.row_painter.rows > before + 10  # the rows really were ours
    qt = grab(view, False)
    # Same font, style and machine: the same pixels (a text drawn at another sub-pixel position would show here).
    diff = differing(ours, qt)
    assert diff <= ours.width() * ours.height() // 1000, diff


def row_rect(window: MainWindow, node: TreeNode) -> QRect:
    idx = window._view_index(window.model.index_of(node))
    rect = window.tree.visualRect(idx)
    return QRect(0, rect.y(), window.tree.viewport().width(), rect.height())


def colour_pixels(img: QImage, rect: QRect, colour: QColor, tolerance: int = 12) -> int:
    """Pixels in ``rect`` within ``tolerance`` of ``colour`` on each channel (text is anti-aliased)."""
    n = 0
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            c = QColor(img.pixel(x, y))
            if abs(c.red() - colour.red()) <= tolerance and abs(c.green() - colour.green()) <= tolerance \
                    and abs(c.blue() - colour.blue()) <= tolerance:
                n += 1
    return n


def test_rows_are_painted_as_qt_paints_them(open_in_window: Any, window: MainWindow, run: Any,
                                            qtbot: Any) -> None:
    """The window's tree (its style sheet: padding, hover and selection rules) with a selected, focused row, then
    through the filter's proxy, then a plain view on the same model (the platform style, no style sheet): the
    row painter's pixels are Qt's."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    pod = pods.children[3]
    tree.setCurrentIndex(window._view_index(window.model.index_of(pod)))
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus, timeout=5000)
    assert_same_as_qt(tree)

    window.filter_box.setText("-")  # most pods match; lists say "(n of m)"
    qtbot.waitUntil(lambda: tree.model() is window.proxy, timeout=5000)
    assert_same_as_qt(tree)
    window.filter_box.clear()

    plain = ClusterTreeView()
    qtbot.addWidget(plain)
    plain.setModel(window.model)
    plain.resize(900, 600)
    plain.show()
    plain.expandRecursively(window.model.index_of(pods.parent.parent), 3)  # type: ignore[union-attr]
    plain.setAlternatingRowColors(True)
    plain.setColumnWidth(0, 330)
    plain.setCurrentIndex(window.model.index_of(pods.children[1]))
    assert_same_as_qt(plain)


def test_status_colours_and_the_selected_row(open_in_window: Any, window: MainWindow) -> None:
    """A running pod's Status is drawn in the OK colour and a failing one's in the error colour; the selected row
    is filled with the highlight and its text in the highlighted-text colour."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    shown = [p for p in pods.children[:20] if p.row is not None]
    ok = next(p for p in shown if p.severity is Severity.OK)
    tree.scrollTo(window._view_index(window.model.index_of(ok)))
    img = grab(tree, True)
    header = tree.header()
    status = row_rect(window, ok)
    status.setLeft(header.sectionViewportPosition(render.COL_STATUS))
    status.setWidth(header.sectionSize(render.COL_STATUS))
    assert colour_pixels(img, status, render.SEVERITY_COLOURS[Severity.OK]) > 10
    assert colour_pixels(img, status, render.SEVERITY_COLOURS[Severity.ERROR]) == 0

    tree.setCurrentIndex(window._view_index(window.model.index_of(ok)))
    img = grab(tree, True)
    rect = row_rect(window, ok)
    highlight = tree.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    # The row is highlighted across (the branch area too), and its status text is no longer green.
    assert colour_pixels(img, rect, highlight, 2) > rect.width() * rect.height() // 2
    status.moveTop(rect.top())
    assert colour_pixels(img, status, render.SEVERITY_COLOURS[Severity.OK]) == 0


def test_names_elide_in_the_middle(open_in_window: Any, window: MainWindow) -> None:
    """A pod name too long for its cell keeps its start and its distinguishing end, an ellipsis between."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    pod = next(p for p in pods.children if p.row is not None)
    name = render.cell_text(pod, render.COL_NAME)
    width = QFontMetrics(window.tree.font()).horizontalAdvance(name) * 2 // 3
    shown = window.tree.row_painter.elided(name, width)
    assert "…" in shown and shown.startswith(name[:3]) and shown.endswith(name[-3:]), shown
    assert window.tree.row_painter.elided(name, width * 2) == name


def test_a_changed_row_shows_its_new_text(open_in_window: Any, window: MainWindow) -> None:
    """Texts are cached by their content: a row whose text changed is painted with the new one."""
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    rect = row_rect(window, pods)
    before = grab(tree, True).copy(rect)
    pods.note = "live updates paused"
    idx = window.model.index_of(pods)
    window.model.dataChanged.emit(idx, idx)
    after = grab(tree, True).copy(rect)
    assert differing(before, after) > 20
    # Right-to-left text, and a bidi control shown as text (text.show_bidi): laid out as Qt's delegate lays it out.
    pods.note = "עדכונים חיים מושהים"
    label, pods.label = pods.label, "Pods \u202eשלום"
    window.model.dataChanged.emit(idx, idx)
    assert "⟨U+202E⟩" in render.cell_text(pods, render.COL_NAME)
    assert_same_as_qt(tree)
    pods.note, pods.label = "", label
    window.model.dataChanged.emit(idx, idx)
    assert differing(before, grab(tree, True).copy(rect)) == 0


def test_message_rows_span_the_row(open_in_window: Any, window: MainWindow, run: Any) -> None:
    """A note row (the viewer may not list namespaces) is drawn across the columns, italic, in one cell."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    namespaces = open_in_window("Namespaces")
    note = namespaces.children[0]
    assert note.type is NodeType.NOTE
    assert render.font_style(note) == render.FONT_ITALIC
    idx = window._view_index(window.model.index_of(note))
    assert window.tree.isFirstColumnSpanned(idx.row(), idx.parent())
    assert_same_as_qt(window.tree)
    assert window.model.data(window.model.index_of(note), Qt.ItemDataRole.FontRole).italic()


def test_usage_figures_and_a_long_lists_count_read_whole(open_in_window: Any, window: MainWindow,
                                                         qtbot: Any) -> None:
    """In the default window with the details pane open (a little wider), the pods' CPU and Memory figures are not
    elided ("36…2%": Name gives up to a third of the view first), and a long list's row says how many of its
    rows are shown in its Status cell, not at the end of its name where the Name column cut it."""
    window.model.show_step = 5
    window.splitter.setSizes([705, 575])  # the narrowest tree that shows usage: its columns want more than 3/5
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree, header = window.tree, window.tree.header()
    qtbot.waitUntil(lambda: window.model.usage is not None and not header.isSectionHidden(render.COL_CPU),
                    timeout=30000)
    window.usage.timer.stop()  # no new figures (wider, maybe) between the fit and the check
    tree.viewport().update()
    qtbot.waitUntil(lambda: window.column_fit.fits > 0 and not window.column_fit.pending, timeout=5000)
    fits = window.column_fit.fits
    tree.viewport().repaint()  # painted with the figures: fitted to them
    qtbot.waitUntil(lambda: window.column_fit.fits > fits and not window.column_fit.pending, timeout=5000)
    index = window.model.index_of(pods)
    assert window.model.data(index) == f"Pods ({len(pods.children)})"
    assert pods.hidden_rows  # the rows shown grow as the list's end scrolls into view
    assert window.model.data(index.siblingAtColumn(render.COL_STATUS)) == f"first {pods.shown} shown"
    figures = [window.model.data(window.model.index_of(p, render.COL_CPU)) for p in pods.children[:5]]
    assert any(figures), figures
    widths = {col: (header.sectionSize(col), tree.sizeHintForColumn(col)) for col in range(header.count())
              if not header.isSectionHidden(col)}
    for col in (render.COL_STATUS, *render.USAGE_COLUMNS):
        assert widths[col][0] >= widths[col][1], widths


# Moving the mouse onto the offscreen window raises it, which the offscreen plugin says it cannot do.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_the_hovered_row(open_in_window: Any, window: MainWindow, qtbot: Any) -> None:
    """The row under the mouse is drawn with the style sheet's hover background (the alternate rows' colour: a
    plain row changes, an alternate one looks the same), as Qt draws it (the painter leaves that row to Qt)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    changed = []
    for pod in pods.children[2:4]:  # one plain row, one alternate
        rect = row_rect(window, pod)
        before = grab(tree, True).copy(rect)
        QTest.mouseMove(tree.viewport(), QPoint(rect.center().x(), rect.center().y()))
        qtbot.waitUntil(tree.viewport().underMouse, timeout=5000)
        assert_same_as_qt(tree)
        changed.append(differing(before, grab(tree, True).copy(rect)) > rect.width())
    assert sorted(changed) == [False, True], changed


def test_rows_in_the_views_own_font(open_in_window: Any, window: MainWindow, qtbot: Any) -> None:
    """After a setFont() on the view alone (its viewport keeps the style sheet's font), the rows are drawn in the
    view's font, as Qt's delegate draws them."""
    from PySide6.QtGui import QFont

    open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    font = QFont(tree.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    tree.setFont(font)
    assert tree.viewport().font() != font
    qtbot.waitUntil(lambda: not window.column_fit.pending, timeout=5000)
    assert_same_as_qt(tree)


def test_the_texts_on_screen_are_laid_out_before_the_paint(open_in_window: Any, window: MainWindow,
                                                           qtbot: Any) -> None:
    """Between a layout and the paint put off after it, the window lays out the texts of the rows on screen
    (RowPainter.warm): the paint then lays out no text of its own, and its pixels are those of a paint that laid
    them out itself."""
    open_in_window("Namespaces/team-a/Workloads/Pods")
    tree = window.tree
    painter = tree.row_painter
    painter.forget()
    cold = grab(tree, True)  # every text laid out by the paint
    painter.forget()
    rows = painter.warm()
    laid = len(painter._plain) + len(painter._texts)
    assert rows > 10 and laid > rows  # several cells a row
    warm = grab(tree, True)
    assert len(painter._plain) + len(painter._texts) == laid  # the paint found every text laid out
    assert differing(cold, warm) == 0

    # The window does it after a layout, in the turn before the paint it puts off.
    calls: list[int] = []
    real = painter.warm
    painter.warm = lambda: calls.append(real()) or calls[-1]  # type: ignore[method-assign]
    painter.forget()
    tree.doItemsLayout()
    tree.viewport().update()
    qtbot.waitUntil(lambda: bool(calls), timeout=5000)
    assert calls[0] == rows
