"""The cluster tree's rows painted a whole row per Python call, with cached texts and icons.

Qt paints a tree row cell by cell: for each of the ~7 columns shown it asks the model for 7 roles (``multiData``,
a call into Python per cell) and the style draws the cell (``CE_ItemViewItem``: under the window's style sheet a
rule lookup, a ``QTextLayout`` for the text, its elision, the icon drawn from its engine, the background). A paint
of the tree's ~26 rows cost 10-11 ms of the GUI thread on a quiet machine, two thirds of it in that drawing, and
it was the longest turn of the loop while a 10,000-pod namespace opened (docs/performance.md, "Goal 3, fifth
stop"). :class:`RowPainter` looks the row's node up once, takes the texts, colours and icons from
:mod:`~kube9_desktop.model.render` (the functions the model's ``data()`` answers from), and draws:

* the row's background once with the style (``PE_PanelItemViewRow`` / ``PE_PanelItemViewItem``: alternating
  colours, selection and hover as the style sheet and the style say), and the branch indicators with Qt's
  ``drawBranches``;
* each cell's icon from a pixmap made once per icon and mode (the selected mode's tint included), and its text
  as a ``QStaticText`` made once per text, width and font, elided as the view says (the middle, for names);
* the cell geometry (padding, icon and text rectangles, the text margin) as the style computes it, asked once per
  cell size.

Anything it does not reproduce is left to Qt's own painting: a right-to-left layout, a disabled view, rows of
varying heights, another model or delegate. Caches are dropped when the font, style or palette changes
(:meth:`RowPainter.forget`) and kept bounded.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFont,
    QFontMetrics,
    QIcon,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
    QStaticText,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
)

from kube9_desktop.model import render
from kube9_desktop.model.nodes import TreeNode
from kube9_desktop.model.proxy import TreeProxy
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.ui.menus import MESSAGE_ROWS
from kube9_desktop.ui.row_widths import RowWidths

if TYPE_CHECKING:
    from kube9_desktop.ui.tree_view import ClusterTreeView

#: Entries a cache holds before it is emptied (texts: a few screens of cells; the rows on screen fill it again).
CACHE_LIMIT = 4000

_S = QStyle.StateFlag
_SELECTED, _HAS_FOCUS = _S.State_Selected, _S.State_HasFocus
_F = QStyleOptionViewItem.ViewItemFeature
_ALTERNATE, _HAS_DISPLAY, _HAS_DECORATION = _F.Alternate, _F.HasDisplay, _F.HasDecoration
_NO_FEATURES = _F.None_
#: What QTreeView gives the branch area's background call (the style sheet then draws the item's hover there).
_BRANCH_FEATURES = _F.HasDecoration | _F.IsDecoratedRootColumn | _F.IsDecorationForRootColumn
_PE_ROW, _PE_ITEM = QStyle.PrimitiveElement.PE_PanelItemViewRow, QStyle.PrimitiveElement.PE_PanelItemViewItem
_SE = QStyle.SubElement
_PE_BRANCH = QStyle.PrimitiveElement.PE_IndicatorBranch
#: The row's own tree flags QTreeView gives its rows (open, has children, has siblings below).
_TREE_FLAGS = (_S.State_Open | _S.State_Children | _S.State_Sibling).value
_ITEM, _SIBLING = _S.State_Item.value, _S.State_Sibling.value
_CELL_FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class _Layout:
    """Where a cell of a given size has its icon, text and focus frame (relative to the cell's top left)."""

    __slots__ = ("clip", "focus", "icon", "text_height", "text_top", "text_width", "text_x")

    def __init__(self, icon: QRect, text: QRect, margin: int, focus: QRect, width: int) -> None:
        self.icon = icon
        self.text_x = text.x() + margin
        self.text_width = max(0, text.width() - 2 * margin)
        self.text_top = text.y()
        self.text_height = text.height()
        self.focus = focus
        # Qt clips a cell's drawing to the cell: only needed when the icon or text would cross its edge.
        self.clip = icon.right() >= width or self.text_x + self.text_width > width


class _Frame:
    """What one paint of the viewport needs for every row: worked out once, in :meth:`RowPainter.begin`."""

    model: ClusterTreeModel
    proxy: TreeProxy | None
    #: (logical column, x in the viewport, width) of the columns the paint crosses, left to right.
    columns: list[tuple[int, int, int]]
    tree_x: int | None  # the Name column's x (the tree's branches are drawn in it), if the paint crosses it
    tree_width: int
    span_end: int  # the right end of the last column (a spanned row reaches it)
    hover_y: int | None  # the mouse's y in the viewport while it hovers it
    current: tuple[int, int, int] | None  # the current index's row, internalId and column
    focus: bool  # whether the view has the keyboard
    selected: set[tuple[int, int]]  # (row, internalId) of selected rows
    sel: QItemSelectionModel | None  # asked row by row when the selection is large
    offset: int  # the view's vertical offset (which rows are the alternate ones)
    indent: int
    outer: int  # 1 when top-level rows have branches too (rootIsDecorated)
    branch_flags: QStyle.StateFlag
    per_pixel: bool
    style: QStyle
    opt: QStyleOptionViewItem | None
    palette: QPalette
    text_pen: QColor
    selected_pen: QColor

    def __init__(self) -> None:
        self.opt = None

    def node_of(self, index: QModelIndex | QPersistentModelIndex) -> tuple[TreeNode, str | None]:
        """The node a row of the view shows, and the count the filter's proxy puts in its name (``None``: none)."""
        if self.proxy is not None:
            return self.model.node(self.proxy.mapToSource(index)), self.proxy.count_text(index)
        return self.model.node(index), None


class RowPainter:
    """Paints :class:`~kube9_desktop.ui.tree_view.ClusterTreeView`'s rows (see the module docstring).

    Args:
        view: The view whose rows it paints.
    """

    #: Whether rows are painted here (False: Qt paints every row, cell by cell; benchmarks compare the two). Set on
    #: the class for every view, on an instance for one.
    enabled = True

    def __init__(self, view: ClusterTreeView) -> None:
        self.view = view
        self._frame: _Frame | None = None
        self._plain: dict[tuple[str, int], QStaticText] = {}  # (text, font style): the text whole
        self._texts: dict[tuple[str, int, int], QStaticText] = {}  # (text, width, font style): elided
        self._option = QTextOption()  # as Qt's delegate lays a cell's text out: one line, the view's direction
        self._option.setTextDirection(Qt.LayoutDirection.LeftToRight)
        self._option.setWrapMode(QTextOption.WrapMode.NoWrap)
        self._pixmaps: dict[tuple[int, int], QPixmap] = {}
        self._layouts: dict[tuple[int, int, bool], _Layout] = {}
        self._fonts: dict[int, QFont] = {}
        self._branch_pixmaps: dict[tuple[int, bool, int, int], QPixmap | None] = {}
        self._dpr = 1.0
        #: Rows painted here since the view was made (tests and benchmarks).
        self.rows = 0
        #: The column fitter's widths from the same texts (:mod:`~kube9_desktop.ui.row_widths`).
        self.widths = RowWidths(view, self)

    def forget(self) -> None:
        """Drop every cache (the font, style or palette changed)."""
        self._plain.clear()
        self._texts.clear()
        self._pixmaps.clear()
        self._layouts.clear()
        self._fonts.clear()
        self._branch_pixmaps.clear()
        self.widths.forget()

    # ------------------------------------------------------------------ one paint

    def begin(self, area: QRect) -> None:
        """A paint of ``area`` of the viewport starts: work out what every row needs (or leave it all to Qt)."""
        self._frame = None
        view = self.view
        if not self.enabled or not view.uniformRowHeights() or not view.isEnabled() or view.wordWrap() \
                or view.isRightToLeft() or type(view.itemDelegate()) is not QStyledItemDelegate:
            return
        model = view.model()
        f = _Frame()
        if isinstance(model, ClusterTreeModel):
            f.model, f.proxy = model, None
        elif isinstance(model, TreeProxy) and isinstance(model.sourceModel(), ClusterTreeModel):
            f.model, f.proxy = cast(ClusterTreeModel, model.sourceModel()), model
        else:
            return
        dpr = view.devicePixelRatioF()
        if dpr != self._dpr:  # another screen: pixmaps are made for its pixel ratio
            self._dpr = dpr
            self._pixmaps.clear()
            self._branch_pixmaps.clear()
        header = view.header()
        left, right = area.left(), area.right()
        f.columns = []
        f.tree_x = None
        leading: int | None = None  # the first column shown
        end = 0
        for visual in range(header.count()):
            col = header.logicalIndex(visual)
            if header.isSectionHidden(col):
                continue
            x, w = header.sectionViewportPosition(col), header.sectionSize(col)
            end = max(end, x + w)
            if leading is None:
                leading = col
            if col == render.COL_NAME:
                f.tree_x, f.tree_width = x, w
            if w > 0 and x <= right and x + w > left:
                f.columns.append((col, x, w))
        if leading != render.COL_NAME:
            return  # columns moved before Name: the branch area is not at the row's left (Qt's paint handles it)
        f.span_end = end
        viewport = view.viewport()
        f.hover_y = None
        if viewport.testAttribute(Qt.WidgetAttribute.WA_Hover) and viewport.underMouse():
            f.hover_y = viewport.mapFromGlobal(QCursor.pos()).y()
        current = view.currentIndex()
        f.current = (current.row(), current.internalId(), current.column()) if current.isValid() else None
        f.focus = view.hasFocus()
        f.offset = view.verticalOffset()
        f.indent = view.indentation()
        f.outer = 1 if view.rootIsDecorated() else 0
        f.sel, f.selected = None, set()
        sel = view.selectionModel()
        if sel is not None:
            # The selected rows as (row, internalId), which tells rows apart for the model (a node's key) and the
            # proxy (its parent's mapping) alike: QItemSelectionModel.isSelected() asks the model for parent()
            # twice a row. A large selection is asked the usual way.
            for rng in sel.selection().toList():
                if len(f.selected) + rng.height() > 512:
                    f.sel = sel
                    break
                first = rng.topLeft()
                for r in range(rng.top(), rng.bottom() + 1):
                    f.selected.add((r, first.sibling(r, first.column()).internalId()))
        f.style = view.style()
        f.per_pixel = view.verticalScrollMode() is QAbstractItemView.ScrollMode.ScrollPerPixel
        f.branch_flags = _S.State_Enabled
        if f.focus:
            f.branch_flags |= _HAS_FOCUS
        if view.window().isActiveWindow():
            f.branch_flags |= _S.State_Active
        self._frame = f

    def end(self) -> None:
        """The paint is over."""
        self._frame = None

    # ------------------------------------------------------------------ one row

    def draw_row(self, painter: QPainter, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> bool:
        """Paint the row of ``index`` (its first column) in ``option.rect``; False: Qt has to paint it."""
        f = self._frame
        if f is None:
            return False
        view = self.view
        if f.opt is None:
            self._start(f, option)
            # Texts are laid out in the view's font, and Qt's delegate draws in it: the viewport's (the painter's)
            # stays another after a setFont() on the view alone (the style sheet gives the viewport its own).
            font = self._font(render.FONT_PLAIN)
            if painter.font() != font:
                painter.setFont(font)
        opt = f.opt
        assert opt is not None
        node, name = f.node_of(index)
        rect = option.rect
        y, h = rect.y(), rect.height()
        row = index.row()
        key = (row, index.internalId())
        selected = key in f.selected if f.sel is None else f.sel.isSelected(index)
        if f.hover_y is not None and y <= f.hover_y < y + h:
            # The row under the mouse: Qt's own paint. The style sheet's hover background reaches into the branch
            # area through calls that are not the documented ones (PE_PanelItemViewRow with State_MouseOver draws no
            # hover here); one row of Qt's painting keeps its look exactly.
            return False
        spanned = node.type in MESSAGE_ROWS and view.isFirstColumnSpanned(row, index.parent())

        # The background as QTreeView.drawRow asks the style for it, one call per part of the row instead of per
        # cell: the branch area with the row's whole state (selection and hover reach into it), the cells' row
        # background (alternating colours) without the selection, then the cells' selection.
        state = option.state
        columns = f.columns
        if not columns:
            return True
        features = _ALTERNATE if ((y + f.offset) // h) & 1 else _NO_FEATURES
        level = node.depth() + f.outer
        indent = f.indent * level
        row_left = cells_left = columns[0][1]
        if f.tree_x == row_left:
            if indent:
                opt.rect = QRect(row_left, y, min(indent, f.tree_width), h)
                opt.state = state | _SELECTED if selected else state
                opt.features = features | _BRANCH_FEATURES
                f.style.drawPrimitive(_PE_ROW, opt, painter, view)
            cells_left += indent
        opt.rect = QRect(cells_left, y, f.span_end - cells_left, h)
        opt.state = state
        opt.features = features
        f.style.drawPrimitive(_PE_ROW, opt, painter, view)
        if selected:
            state |= _SELECTED
        if selected:
            opt.state = state
            f.style.drawPrimitive(_PE_ITEM, opt, painter, view)

        font_style = render.font_style(node)
        if font_style != render.FONT_PLAIN:
            painter.save()
            painter.setFont(self._font(font_style))
        focus = f.current if f.focus and f.current is not None and f.current[:2] == key else None
        usage = f.model.usage
        for col, x, w in columns:
            if spanned:
                if col != render.COL_NAME:
                    continue
                w = f.span_end - x
            if col == render.COL_NAME:
                if indent and f.indent:
                    branches = QRect(x, y, indent, h)
                    if indent > w:
                        painter.save()
                        painter.setClipRect(QRect(x, y, w, h))
                        self._branches(painter, branches, index, node, level - f.outer, state)
                        painter.restore()
                    else:
                        self._branches(painter, branches, index, node, level - f.outer, state)
                x, w = x + indent, w - indent
                if w <= 0:
                    continue
                text = name if name is not None else render.cell_text(node, col)
                icon: QIcon | None = render.node_icon(node)
                colour = render.foreground(node, col)
            elif col >= render.COL_CPU:
                text = render.usage_value(usage, node, col, "text") or ""
                icon = None
                colour = render.usage_value(usage, node, col, "colour")
            else:
                text = render.cell_text(node, col)
                icon = render.status_icon(node) if col == render.COL_STATUS else None
                colour = render.foreground(node, col)
            self._cell(painter, x, y, w, h, text, icon, colour, selected, font_style,
                       focus is not None and focus[2] == col)
        if font_style != render.FONT_PLAIN:
            painter.restore()
        self.rows += 1
        return True

    def warm(self) -> int:
        """Lay out the texts of the rows on screen now, for the paint that will show them.

        A first paint of new rows lays every text on screen out once (~3-4 ms of its turn, a third of it); the
        window puts a paint off for a loop turn after a layout (``MainWindow.event``), and calls this in between, so
        the paint finds its texts laid out. Only what :meth:`draw_row` would lay out is (same texts, widths, fonts);
        a row this leaves out is laid out by the paint as before.

        Returns:
            How many of the rows on screen were visited (0: the painter is not in charge of the view's rows).
        """
        view = self.view
        viewport = view.viewport()
        self.begin(viewport.rect())
        f, self._frame = self._frame, None
        if f is None or not f.columns:
            return 0
        bottom = viewport.height()
        index = view.indexAt(QPoint(0, 0))
        rows = 0
        while index.isValid() and rows < 200:  # the rows on screen (a bound for a very tall window)
            rect = view.visualRect(index)
            if rect.top() >= bottom:
                break
            rows += 1
            h = rect.height()
            node, name = f.node_of(index)
            if node.type not in MESSAGE_ROWS:  # (a spanned note's width is the row's: left to the paint)
                font_style = render.font_style(node)
                indent = f.indent * (node.depth() + f.outer) if f.tree_x == f.columns[0][1] else 0
                usage = f.model.usage
                for col, _x, w in f.columns:
                    if col == render.COL_NAME:
                        w -= indent
                        text = name if name is not None else render.cell_text(node, col)
                        icon: QIcon | None = render.node_icon(node)
                    elif col >= render.COL_CPU:
                        text, icon = render.usage_value(usage, node, col, "text") or "", None
                    else:
                        text = render.cell_text(node, col)
                        icon = render.status_icon(node) if col == render.COL_STATUS else None
                    if w > 0 and text:
                        lay = self._layout(w, h, icon is not None)
                        if lay.text_width > 0:
                            self._text(text, lay.text_width, font_style)
            index = view.indexBelow(index)
        return rows

    def _start(self, f: _Frame, option: QStyleOptionViewItem) -> None:
        """The first row of a paint: the style option and pens every row of it uses."""
        f.opt = QStyleOptionViewItem(option)
        f.opt.showDecorationSelected = True  # QTreeView's rows are selected whole (SelectRows)
        palette: QPalette = option.palette
        group = QPalette.ColorGroup.Active if option.state & _S.State_Active else QPalette.ColorGroup.Inactive
        f.palette = QPalette(palette)  # a copy: the option is Qt's, gone after the paint
        f.text_pen = palette.color(group, QPalette.ColorRole.Text)
        f.selected_pen = palette.color(group, QPalette.ColorRole.HighlightedText)

    def _branches(self, painter: QPainter, rect: QRect, index: QModelIndex | QPersistentModelIndex, node: TreeNode,
                  level: int, state: QStyle.StateFlag) -> None:
        """The branch indicators (expand arrows; lines where the style draws them) left of the Name cell, as Qt's
        ``QTreeView.drawBranches`` draws them: one ``PE_IndicatorBranch`` a level, the innermost with the row's own
        open/children/sibling flags, each outer one saying whether that ancestor has siblings below it. Qt's own
        asks the model for each ancestor's parent and row count (~8 calls into Python a pod row); the nodes know.
        Through the filter's proxy (rows hidden, other counts) Qt's own draws them."""
        f = self._frame
        assert f is not None and f.opt is not None
        if f.proxy is not None:
            self.view.drawBranches(painter, rect, index)
            return
        # Flags as ints: a Python enum operation costs about a microsecond, and there are ~6 levels a pod row.
        indent = f.indent
        extra = f.branch_flags.value
        if state & _SELECTED:
            extra |= _SELECTED.value
        sibling = extra | _SIBLING
        alt = bool(f.opt.features & _ALTERNATE)
        x, y, h = rect.x() + rect.width() - indent, rect.y(), rect.height()
        if f.per_pixel:  # Qt's: dotted lines stay in step while scrolling by pixels (drawn, not from the cache)
            origin = painter.brushOrigin()
            painter.setBrushOrigin(QPoint(0, f.offset))
        if level >= 1 - f.outer:
            self._branch(painter, x, y, indent, h, _ITEM | extra | (state.value & _TREE_FLAGS), alt)
        current = node.parent
        for _ in range(level - (1 - f.outer)):
            x -= indent
            parent = current.parent if current is not None else None
            more = current is not None and parent is not None \
                and current.position() < min(len(parent.children), parent.shown) - 1
            self._branch(painter, x, y, indent, h, sibling if more else extra, alt)
            current = parent
        if f.per_pixel:
            painter.setBrushOrigin(origin)

    def _branch(self, painter: QPainter, x: int, y: int, w: int, h: int, state: int, alt: bool) -> None:
        """One level's branch indicator: the style's drawing of it, kept as a pixmap per state and size (most levels
        draw nothing in most styles, and are skipped)."""
        f = self._frame
        assert f is not None and f.opt is not None
        if f.per_pixel:
            f.opt.rect, f.opt.state = QRect(x, y, w, h), _S(state)
            f.style.drawPrimitive(_PE_BRANCH, f.opt, painter, self.view)
            return
        key = (state, alt, w, h)
        pixmap = self._branch_pixmaps.get(key, False)  # None: seen, nothing to draw
        if pixmap is False:
            if len(self._branch_pixmaps) > CACHE_LIMIT:
                self._branch_pixmaps.clear()
            pixmap = self._branch_pixmaps[key] = self._render_branch(_S(state), w, h)
        if isinstance(pixmap, QPixmap):
            painter.drawPixmap(x, y, pixmap)

    def _render_branch(self, state: QStyle.StateFlag, w: int, h: int) -> QPixmap | None:
        """The style's branch indicator for ``state`` in a ``w`` x ``h`` pixmap (``None``: it draws nothing)."""
        f = self._frame
        assert f is not None and f.opt is not None
        opt, view = QStyleOptionViewItem(f.opt), self.view
        dpr = view.devicePixelRatioF()
        pixmap = QPixmap(QSize(math.ceil(w * dpr), math.ceil(h * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        opt.rect, opt.state = QRect(0, 0, w, h), state
        p = QPainter(pixmap)
        try:
            f.style.drawPrimitive(_PE_BRANCH, opt, p, view)
        finally:
            p.end()
        image = pixmap.toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        blank = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
        blank.fill(0)
        return None if image == blank else pixmap

    def _cell(self, painter: QPainter, x: int, y: int, w: int, h: int, text: str, icon: QIcon | None,
              colour: QColor | None, selected: bool, font_style: int, focus: bool) -> None:
        """One cell's icon, text and focus frame (its background is the row's)."""
        lay = self._layout(w, h, icon is not None)
        if lay.clip:
            painter.save()
            painter.setClipRect(QRect(x, y, w, h))
        if icon is not None and not icon.isNull():
            pixmap = self._pixmap(icon, lay.icon.size(), selected)
            painter.drawPixmap(QPoint(x + lay.icon.x(), y + lay.icon.y()), pixmap)
        if text and lay.text_width > 0:
            f = self._frame
            assert f is not None
            static = self._text(text, lay.text_width, font_style)
            painter.setPen(f.selected_pen if selected else (colour if colour is not None else f.text_pen))
            if "\n" in text:  # Qt shows a multi-line text's lines (rare: a message); keep its layout
                painter.drawText(QRect(x + lay.text_x, y + lay.text_top, lay.text_width, lay.text_height),
                                 int(_CELL_FLAGS), static.text())
            else:
                top = y + lay.text_top + (lay.text_height - static.size().height()) / 2
                painter.drawStaticText(QPointF(x + lay.text_x, top), static)
        if focus:
            self._focus(painter, x, y, lay, selected)
        if lay.clip:
            painter.restore()

    def _focus(self, painter: QPainter, x: int, y: int, lay: _Layout, selected: bool) -> None:
        """The current cell's focus frame while the view has the keyboard, as the style draws it (the window's
        style sheet says none)."""
        f = self._frame
        assert f is not None and f.opt is not None
        o = QStyleOptionFocusRect()
        o.initFrom(self.view)
        o.rect = lay.focus.translated(x, y)
        o.state = f.opt.state | _S.State_KeyboardFocusChange | _S.State_Item | _HAS_FOCUS
        o.backgroundColor = f.palette.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Window)
        f.style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, o, painter, self.view)

    # ------------------------------------------------------------------ caches

    def _layout(self, w: int, h: int, has_icon: bool) -> _Layout:
        """The style's geometry of a ``w`` x ``h`` cell (its padding, the icon's place, the text's)."""
        key = (w, h, has_icon)
        lay = self._layouts.get(key)
        if lay is None:
            if len(self._layouts) > CACHE_LIMIT:
                self._layouts.clear()
            view, style = self.view, self.view.style()
            opt = QStyleOptionViewItem()
            view.initViewItemOption(opt)
            opt.rect = QRect(0, 0, w, h)
            opt.text = "Xg"
            opt.features = _HAS_DISPLAY | _HAS_DECORATION if has_icon else _HAS_DISPLAY
            if not view.iconSize().isValid():
                extent = style.pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
                opt.decorationSize = QSize(extent, extent)
            icon = style.subElementRect(_SE.SE_ItemViewItemDecoration, opt, view) if has_icon else QRect()
            text = style.subElementRect(_SE.SE_ItemViewItemText, opt, view)
            focus = style.subElementRect(_SE.SE_ItemViewItemFocusRect, opt, view)
            margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
            lay = self._layouts[key] = _Layout(icon, text, margin, focus, w)
        return lay

    def elided(self, text: str, width: int, font_style: int = render.FONT_PLAIN) -> str:
        """What a cell ``width`` pixels wide (its text's room) shows of ``text``."""
        return self._text(text, width, font_style).text()

    def _font(self, style: int) -> QFont:
        font = self._fonts.get(style)
        if font is None:
            font = QFont(self.view.font())
            if style == render.FONT_LINK:
                font.setUnderline(True)
            elif style == render.FONT_ITALIC:
                font.setItalic(True)
            self._fonts[style] = font
        return font

    def laid_out(self, text: str, font_style: int) -> QStaticText | None:
        """``text`` laid out whole in ``font_style``'s font if a paint laid it out (its size is the text's natural
        width, as Qt's delegate measures it; the column fitter's widths come from it), else ``None``. A text with
        line breaks is drawn otherwise: ``None``."""
        return None if "\n" in text else self._plain.get((text, font_style))

    def _text(self, text: str, width: int, font_style: int) -> QStaticText:
        """``text`` elided to ``width`` as the view elides (the middle, for names), laid out once.

        A text that fits is laid out once for every width it fits (the column fitter changes widths); Qt elides a
        line whose natural width exceeds the room, and a static text's width is that natural width, so the one
        layout also says whether to elide (no separate measuring pass for the texts that fit: a cell's first paint
        costs one layout, as Qt's does)."""
        static = self._plain.get((text, font_style))
        if static is None:
            if len(self._plain) > CACHE_LIMIT:
                self._plain.clear()
            static = self._plain[(text, font_style)] = self._static(text, font_style)
        if static.size().width() <= width or "\n" in text:
            return static
        key = (text, width, font_style)
        elided = self._texts.get(key)
        if elided is None:
            if len(self._texts) > CACHE_LIMIT:
                self._texts.clear()
            metrics = QFontMetrics(self._font(font_style))
            elided = self._texts[key] = self._static(metrics.elidedText(text, self.view.textElideMode(), width),
                                                     font_style)
        return elided

    def _static(self, text: str, font_style: int) -> QStaticText:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.setTextOption(self._option)
        static.prepare(font=self._font(font_style))
        return static

    def _pixmap(self, icon: QIcon, size: QSize, selected: bool) -> QPixmap:
        """``icon`` at ``size`` in the normal or selected mode (Qt tints a selected icon with the highlight)."""
        key = (icon.cacheKey(), size.width() * 2 + selected)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            if len(self._pixmaps) > CACHE_LIMIT:
                self._pixmaps.clear()
            mode = QIcon.Mode.Selected if selected else QIcon.Mode.Normal
            pixmap = icon.pixmap(size, self.view.devicePixelRatioF(), mode, QIcon.State.Off)
            self._pixmaps[key] = pixmap
        return pixmap
