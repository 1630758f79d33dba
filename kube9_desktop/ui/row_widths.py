"""The widths the column fitter wants, worked out from the row painter's texts instead of Qt's per-cell measuring.

``QTreeView.sizeHintForColumn`` asks the delegate's ``sizeHint`` for every row it measures: each call goes into
Python (``multiData``, 7 roles) and lays the text out again. The fitter asked it for each fitted column and for Name,
~180 cells, 8-14 ms of the GUI thread a fit (docs/performance.md, "Goal 3: the column fitter's widths from the row
painter's texts"). :class:`RowWidths` visits the same rows (Qt's choice for ``resizeContentsPrecision() == 0``: the
rows on screen, or the last screenful and one when the view's end is on screen; spanned rows skipped), takes each
cell's text, icon and font from :mod:`~kube9_desktop.model.render` as the row painter does, and keeps a width per
(text, font, icon): the style's ``sizeFromContents(CT_ItemViewItem)`` of an empty cell with the option the
delegate's ``initStyleOption`` would fill in, plus the text's natural width from the row painter's layout of it (or
the style's measure of the whole cell for a text not painted yet). Name adds the row's indentation, as Qt's does
for the tree's column.

Whenever the row painter is not in charge (switched off, another model or delegate, right-to-left, another
precision), :meth:`RowWidths.measure` answers ``None`` and the caller asks Qt.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QModelIndex, QPoint, QSize
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QTextLayout
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from kube9_desktop.model import render
from kube9_desktop.model.proxy import TreeProxy
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.ui.menus import MESSAGE_ROWS

if TYPE_CHECKING:
    from kube9_desktop.ui.row_paint import RowPainter
    from kube9_desktop.ui.tree_view import ClusterTreeView

#: Cell widths kept before the cache is emptied (a few screens of cells; the rows on screen fill it again).
CACHE_LIMIT = 8000

_F = QStyleOptionViewItem.ViewItemFeature
_HAS_DISPLAY, _HAS_DECORATION = _F.HasDisplay, _F.HasDecoration
_S = QStyle.StateFlag
_CT_ITEM = QStyle.ContentsType.CT_ItemViewItem
_NO_SIZE = QSize()
#: A text measured both ways when a cell option is made (see :meth:`RowWidths._option`).
_SAMPLE = "Wg 0.9 ·"


class RowWidths:
    """Column widths of the rows :meth:`QTreeView.sizeHintForColumn` measures, from cached per-cell widths.

    Args:
        view: The tree.
        painter: Its row painter (whether it is on, its fonts).
    """

    #: Whether widths are worked out here (False: the fitter asks Qt; benchmarks compare the two). Set on the class
    #: for every view, on an instance for one.
    enabled = True

    def __init__(self, view: ClusterTreeView, painter: RowPainter) -> None:
        self.view = view
        self.painter = painter
        #: (text or None, font style, icon cache key or 0) -> the delegate's size hint width for such a cell.
        self._cells: dict[tuple[str | None, int, int], int] = {}
        #: (font style, icon cache key or 0, has a text) -> the cell's option but for its text.
        self._options: dict[tuple[int, int, bool], _CellOption] = {}
        self._base: QStyleOptionViewItem | None = None
        self._base_key: tuple[object, ...] | None = None
        #: Fits answered here, and cells measured from a paint's text layout (tests and benchmarks).
        self.measures = 0
        self.reused = 0

    def forget(self) -> None:
        """Drop the cached widths (the font, style or palette changed)."""
        self._cells.clear()
        self._options.clear()
        self._base = None
        self._base_key = None

    def measure(self, columns: tuple[int, ...]) -> dict[int, int] | None:
        """The widths ``sizeHintForColumn`` gives for ``columns`` (Name's with the rows' indentation), or ``None``
        when Qt has to measure (the row painter is not in charge, or nothing is shown)."""
        view = self.view
        if not self.enabled or not self.painter.enabled or not view.uniformRowHeights() or not view.isEnabled() \
                or view.wordWrap() or view.isRightToLeft() or type(view.itemDelegate()) is not QStyledItemDelegate:
            return None
        header = view.header()
        if header.resizeContentsPrecision() != 0 or header.logicalIndex(0) != render.COL_NAME \
                or view.treePosition() > 0:
            return None
        if any(view.itemDelegateForColumn(c) is not None for c in columns):
            return None
        model = view.model()
        proxy: TreeProxy | None
        if isinstance(model, ClusterTreeModel):
            source, proxy = model, None
        elif isinstance(model, TreeProxy) and isinstance(model.sourceModel(), ClusterTreeModel):
            source, proxy = cast(ClusterTreeModel, model.sourceModel()), model
        else:
            return None
        rows = self._rows()
        if rows is None:
            return None
        self._prepare()
        self.measures += 1
        widths = dict.fromkeys(columns, 0)
        indent = view.indentation()
        outer = 1 if view.rootIsDecorated() else 0
        usage = source.usage
        cells = self._cells
        for index in rows:
            node = source.node(proxy.mapToSource(index) if proxy is not None else index)
            if node.type in MESSAGE_ROWS and view.isFirstColumnSpanned(index.row(), index.parent()):
                continue  # Qt has no size hint for a spanned row
            style = render.font_style(node)
            for col in columns:
                text: str | None
                icon: QIcon | None = None
                font = style
                if col == render.COL_NAME:
                    text = proxy.count_text(index) if proxy is not None else None
                    if text is None:
                        text = render.cell_text(node, col)
                    icon = render.node_icon(node)
                elif col >= render.COL_CPU:
                    text = render.usage_value(usage, node, col, "text") or ""
                    font = render.FONT_PLAIN  # the model gives the usage cells no font of their own
                else:
                    text = render.cell_text(node, col)
                    if col == render.COL_STATUS:
                        icon = render.status_icon(node)
                key = (text, font, icon.cacheKey() if icon is not None and not icon.isNull() else 0)
                w = cells.get(key)
                if w is None:
                    w = self._cell(key, icon)
                if col == render.COL_NAME:
                    w += indent * (node.depth() + outer)
                if w > widths[col]:
                    widths[col] = w
        return widths

    def _rows(self) -> list[QModelIndex] | None:
        """The rows Qt's ``sizeHintForColumn`` measures when the precision is 0 (column 0 indexes of the view's
        model): the rows from the first on screen to the first reaching below the viewport; when that is the last
        row, the last screenful of rows and one more. ``None``: nothing is shown."""
        view = self.view
        header = view.header()
        first = view.indexAt(QPoint(header.sectionViewportPosition(render.COL_NAME), 0))
        if not first.isValid() or first.column() != render.COL_NAME:
            return None
        rect = view.visualRect(first)
        height, offset = rect.height(), -rect.y()
        if height <= 0 or offset < 0:
            return None
        screen = view.viewport().height()
        rows = [first]
        current = first
        at_end = False
        for _ in range((screen + offset) // height):
            below = view.indexBelow(current)
            if not below.isValid():
                at_end = True
                break
            rows.append(below)
            current = below
        else:
            at_end = not view.indexBelow(current).isValid()
        if at_end:
            # Qt: start = max(0, end - 1), then up a row at a time while the viewport's height is not used up.
            up = 1 + (-(-screen // height) if screen > 0 else 0)
            above: list[QModelIndex] = []
            top = first
            while len(rows) + len(above) - 1 < up:
                top = view.indexAbove(top)
                if not top.isValid():
                    break
                above.append(top)
            above.reverse()
            rows = (above + rows)[-(up + 1):]
        return rows

    def _prepare(self) -> None:
        """The option a delegate's size hint starts from (``initViewItemOption``); the cached widths go when it
        says another font, icon size or state."""
        view = self.view
        base = QStyleOptionViewItem()
        view.initViewItemOption(base)
        key = (base.font.key(), base.decorationSize.width(), base.decorationSize.height(), base.state.value,
               base.features.value, view.style())
        if key != self._base_key:
            self.forget()
            self._base_key = key
        self._base = base

    def _cell(self, key: tuple[str | None, int, int], icon: QIcon | None) -> int:
        """The width Qt's ``QStyledItemDelegate.sizeHint`` gives a cell with ``key``'s text, font and icon.

        The style's size of an empty cell with that font and icon, plus the text's natural width from the layout
        the row painter made to draw it (Qt's delegate lays the text out again: a ``QTextLayout``, ~16 us a cell);
        a text it has not drawn is measured by the style with the option ``initStyleOption`` would fill in."""
        text, font_style, icon_key = key
        if len(self._cells) > CACHE_LIMIT:
            self._cells.clear()
        cell = self._options.get((font_style, icon_key, text is not None))
        if cell is None:
            cell = self._option(font_style, icon if icon_key else None, text is not None)
        empty = cell.empty
        static = self.painter.laid_out(text, font_style) if text and empty is not None else None
        if static is not None and empty is not None:
            width = empty + math.ceil(static.size().width())
            self.reused += 1
        else:
            opt = cell.option
            if text is not None:
                opt.text = text.replace("\n", "\u2028")  # as the delegate's displayText(): lines, not one line
            width = self.view.style().sizeFromContents(_CT_ITEM, opt, _NO_SIZE, self.view).width()
        self._cells[key] = width
        return width

    def _option(self, font_style: int, icon: QIcon | None, display: bool) -> _CellOption:
        """A cell's option as the delegate's ``initStyleOption`` makes it, but for the text: ``font_style``'s font
        (the model's font resolved against the view's), ``icon`` at the size the delegate clamps it to."""
        base = self._base
        assert base is not None
        opt = QStyleOptionViewItem(base)
        font = self.painter._font(font_style)
        if font_style != render.FONT_PLAIN:
            opt.font = QFont(font)
            opt.fontMetrics = QFontMetrics(font)
        if display:
            opt.features |= _HAS_DISPLAY
        if icon is not None:
            opt.features |= _HAS_DECORATION
            opt.icon = icon
            state = base.state
            mode = QIcon.Mode.Disabled if not state & _S.State_Enabled else \
                QIcon.Mode.Selected if state & _S.State_Selected else QIcon.Mode.Normal
            actual = icon.actualSize(base.decorationSize, mode,
                                     QIcon.State.On if state & _S.State_Open else QIcon.State.Off)
            opt.decorationSize = QSize(min(base.decorationSize.width(), actual.width()),
                                       min(base.decorationSize.height(), actual.height()))
        cell = _CellOption(opt)
        if display:
            # A cell's width is the empty cell's plus its text's (rounded up) — unless the style sheet makes it
            # otherwise (a min-width): checked once here on a sample text, else the style measures every text.
            style, view = self.view.style(), self.view
            opt.text = ""
            empty = style.sizeFromContents(_CT_ITEM, opt, _NO_SIZE, view).width()
            opt.text = _SAMPLE
            sample = style.sizeFromContents(_CT_ITEM, opt, _NO_SIZE, view).width()
            layout = QTextLayout(_SAMPLE, font)
            layout.beginLayout()
            line = layout.createLine()
            line.setLineWidth(1e7)
            natural = math.ceil(line.naturalTextWidth())
            layout.endLayout()
            cell.empty = empty if sample == empty + natural else None
        if len(self._options) > CACHE_LIMIT:
            self._options.clear()
        self._options[(font_style, icon.cacheKey() if icon is not None else 0, display)] = cell
        return cell


class _CellOption:
    """A cell's style option but for its text, and the width of such a cell with no text (``None``: the style's
    widths are not an empty cell's plus the text's)."""

    __slots__ = ("empty", "option")

    def __init__(self, option: QStyleOptionViewItem) -> None:
        self.option = option
        self.empty: int | None = None
