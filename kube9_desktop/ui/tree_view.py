"""The cluster tree's view: a QTreeView that lays out before the window paints, so an insert costs one repaint."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QStyleOptionViewItem, QTreeView, QWidget

from kube9_desktop.kube.gui_gate import GATE
from kube9_desktop.ui.row_paint import RowPainter


class ClusterTreeView(QTreeView):
    """The QTreeView of the main window: lays out before the window paints (:meth:`lay_out_now`) and paints a row
    in one Python call (:mod:`~kube9_desktop.ui.row_paint`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clusterTree")
        # Uniform heights let the view skip measuring every row: 10,000-row inserts stay smooth.
        self.setUniformRowHeights(True)
        # Pods sit five levels deep: 16 px a level (Qt's default is 20) leaves their names 20 px more.
        self.setIndentation(16)
        # Generated names differ at their end (api-6mcr8fz25n-4x7qk, api-6mcr8fz25n-7b2lp): eliding the middle keeps
        # the part that tells them apart. Set on the view, not by a delegate, so painting stays in C++.
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        #: Layouts done so far (:meth:`lay_out_now` tells whether it did one).
        self.layouts = 0
        #: Paints the rows (``row_painter.enabled = False`` leaves them to Qt, cell by cell).
        self.row_painter = RowPainter(self)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.row_painter.begin(event.rect())
        try:
            super().paintEvent(event)
        finally:
            self.row_painter.end()

    def drawRow(self, painter: QPainter, option: QStyleOptionViewItem,
                index: QModelIndex | QPersistentModelIndex) -> None:
        if not self.row_painter.draw_row(painter, option, index):
            super().drawRow(painter, option, index)

    def changeEvent(self, event: QEvent) -> None:
        # Cached texts are laid out in the font, icons tinted with the palette, cells measured by the style.
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.PaletteChange):
            self.row_painter.forget()
        super().changeEvent(event)

    def doItemsLayout(self) -> None:
        self.layouts += 1
        with GATE.held():  # Python answers index()/hasChildren() for every shown row: workers step aside
            super().doItemsLayout()

    def lay_out_now(self) -> bool:
        """Do a pending layout now; the window calls this just before it paints.

        Rows inserted make the view post a layout for a later loop turn, but a paint already asked for (a count
        that changed) can come first. The view then lays out inside that paint, and the layout's own request to
        repaint everything makes a second full repaint right after the first: two 20-30 ms paints back to back
        for every insert a view sees. Laid out just before the paint, one paint shows it all.

        Returns:
            Whether a layout was done (one was pending).
        """
        before = self.layouts
        self.executeDelayedItemsLayout()
        return self.layouts != before
