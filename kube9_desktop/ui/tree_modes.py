"""What the main window's tree view shows: the cluster model, or the proxy while filtering or sorting; header
clicks that sort; and the details pane following its row.

The view shows the model itself while neither filter nor sort is on (the proxy costs Python calls per row, see
:mod:`kube9_desktop.model.proxy`). Switching keeps what is expanded and what is selected. The details pane shows the
current row and is cleared when that row leaves the view: filtered away, removed (deleted, its list reloaded
without it), or gone with its parent; Qt would otherwise move the current row to a neighbour and show that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QModelIndex, QObject, Qt

from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.menus import MESSAGE_ROWS

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow


class TreeModes(QObject):
    """Filter, sort and details-follow for one window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.details_node: TreeNode | None = None
        self._leaving = False
        self._before_filter: set[tuple[str, ...]] = set()
        self._selection: QItemSelectionModel | None = None
        header = window.tree.header()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(False)
        header.sectionClicked.connect(self.on_header_clicked)
        for model in (window.model, window.proxy):
            model.rowsAboutToBeRemoved.connect(
                lambda parent, first, last, m=model: self._rows_leaving(m, parent, first, last))
            model.rowsRemoved.connect(lambda _p, _f, _l, m=model: self._rows_left(m))
        window.model.modelReset.connect(self._forget_details)
        window.proxy.rowsInserted.connect(self._span_inserted)
        # Now that the above are connected (see renew_selection); the window connects to the new one then.
        self.renew_selection()
        window._connect_selection()

    def renew_selection(self) -> None:
        """Give the view a selection model made after this object's connections to the models.

        When the current row is removed, the selection model makes a neighbour current from inside
        ``rowsAboutToBeRemoved``; slots run in the order they were connected, so :meth:`_rows_leaving` must be
        connected first to know that the details pane's row is leaving rather than the user moving on.
        """
        tree = self.w.tree
        model = tree.model()
        if model is None:
            return
        # Views do not delete the selection models they replace (setModel makes a new one each time): one left
        # connected to the models would make a neighbour current a second time, and show it.
        for old in (self._selection, tree.selectionModel()):
            if old is not None and shiboken6.isValid(old):
                old.blockSignals(True)
                old.deleteLater()
        self._selection = QItemSelectionModel(model, tree)
        tree.setSelectionModel(self._selection)

    # ------------------------------------------------------------------ filter and sort

    def set_filter(self, text: str) -> None:
        """Filter the loaded tree by name (recursively); an empty text shows the whole tree again."""
        w = self.w
        text = text.strip()
        was = w.proxy.filtering
        if text and not was:
            self._before_filter = w._expanded_paths()
        if text and w.tree.model() is not w.proxy:
            self._switch(to_proxy=True, text=text)
        else:
            w.proxy.set_text(text)
        if text:
            self._expand_loaded(QModelIndex())
            self._follow()
        elif was:
            if w.proxy.sorting:
                w.tree.collapseAll()
                self._show_tree(self._before_filter)
            else:
                self._switch(to_proxy=False, paths=self._before_filter)

    def on_header_clicked(self, column: int) -> None:
        """Sort each list by ``column``: ascending, then descending, then back to the server's order."""
        w = self.w
        proxy = w.proxy
        if proxy.sortColumn() != column:
            order = Qt.SortOrder.AscendingOrder
        elif proxy.sortOrder() is Qt.SortOrder.AscendingOrder:
            order = Qt.SortOrder.DescendingOrder
        else:
            column = -1
            order = Qt.SortOrder.AscendingOrder
        self.sort(column, order)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort each list by ``column`` (-1: the model's order); folders keep their order."""
        w = self.w
        header = w.tree.header()
        if column >= 0:
            header.setSortIndicatorShown(True)
            header.setSortIndicator(column, order)
            if w.tree.model() is not w.proxy:
                self._switch(to_proxy=True, text=w.proxy.text)
            w.proxy.sort(column, order)
        else:
            header.setSortIndicatorShown(False)
            w.proxy.sort(-1)
            if w.tree.model() is w.proxy and not w.proxy.filtering:
                self._switch(to_proxy=False, paths=w._expanded_paths())

    def _switch(self, to_proxy: bool, text: str = "", paths: set[tuple[str, ...]] | None = None) -> None:
        """Show the proxy (filter ``text``) or the model; expansion and the current row are kept."""
        w = self.w
        keep = w._expanded_paths() if paths is None else paths
        if to_proxy:
            # The proxy sees what views see: show the rows long lists keep waiting, so none escapes it.
            w.model.show_everything()
            w.proxy.set_text(text)
            w.proxy.setSourceModel(w.model)
            w.tree.setModel(w.proxy)
        else:
            w.proxy.set_text("")
            w.tree.setModel(w.model)
            w.proxy.setSourceModel(None)  # type: ignore[arg-type]
        w._connect_selection()
        self._show_tree(keep)

    def _show_tree(self, paths: set[tuple[str, ...]]) -> None:
        w = self.w
        root = w.model.context_node()
        if root is not None:
            w.tree.expand(w._view_index(w.model.index_of(root)))
        w._restore_expanded(paths)
        w._span_messages()
        self._follow()

    def _expand_loaded(self, parent: QModelIndex) -> None:
        """Expand every filtered row whose children are already loaded (never starts a load)."""
        proxy = self.w.proxy
        for r in range(proxy.rowCount(parent)):
            idx = proxy.index(r, 0, parent)
            if proxy.rowCount(idx):
                self.w.tree.expand(idx)
                self._expand_loaded(idx)

    def _span_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """Message rows span the whole row in the proxy too (while sorting they show)."""
        w = self.w
        if w.tree.model() is not w.proxy:
            return
        for r in range(first, last + 1):
            idx = w.proxy.index(r, 0, parent)
            if w.model.node(w.proxy.mapToSource(idx)).type not in MESSAGE_ROWS:
                break  # message rows sort first: the rest of an insert are objects
            w.tree.setFirstColumnSpanned(r, parent, True)

    # ------------------------------------------------------------------ reveal a path and select it

    async def reveal_and_select(self, path: str) -> TreeNode | None:
        """Open every row along ``path`` (``Namespaces/team-a/Workloads/Pods/web-1``) as the user would, then select
        the last one and scroll to it; returns it, or ``None`` when a part of the path does not exist.

        The view expands each row itself (so it loads through ``fetchMore`` and watches start as for a click);
        while the filter hides a row on the path, the filter is cleared first.
        """
        w = self.w
        if w.proxy.filtering:
            w.filter_box.clear()

        def open_row(node: TreeNode) -> None:
            idx = w._view_index(w.model.index_of(node))
            if idx.isValid():
                w.tree.expand(idx)
            else:
                w.model.loader.open_node(node)

        node = await w.model.reveal_path(path, open_row)
        if node is None:
            return None
        idx = w._view_index(w.model.index_of(node))
        if idx.isValid():
            w.tree.setCurrentIndex(idx)
            w.tree.scrollTo(idx)
        return node

    # ------------------------------------------------------------------ the details pane follows its row

    def on_current_changed(self, current: QModelIndex) -> None:
        """The view's current row changed: show it in the details pane (or clear it if its row left)."""
        w = self.w
        if self._leaving or not current.isValid():
            self._leaving = False
            self._clear_details()
            return
        node = w.model.node(w._source(current))
        if node is self.details_node:
            return  # the same row again (the view switched models): no new request
        self.details_node = node
        if node.type is NodeType.OBJECT and node.row is not None and node.kind is not None:
            w.details.show_object(node.context, node.kind, node.row)
        else:
            w.details.show_node(node)

    def _follow(self) -> None:
        """After the view changed models: select the details' row again, or clear the details if it is hidden."""
        w = self.w
        node = self.details_node
        if node is None:
            return
        idx = w._view_index(w.model.index_of(node))
        if idx.isValid():
            w.tree.setCurrentIndex(idx)
        else:
            self._clear_details()

    def _rows_leaving(self, model: QAbstractItemModel, parent: QModelIndex, first: int, last: int) -> None:
        w = self.w
        if model is not w.tree.model() or self.details_node is None:
            return
        idx = w._view_index(w.model.index_of(self.details_node))
        while idx.isValid():
            if idx.parent() == parent and first <= idx.row() <= last:
                self._leaving = True  # Qt makes a neighbour current next: the details must not show it
                return
            idx = idx.parent()

    def _rows_left(self, model: QAbstractItemModel) -> None:
        if model is self.w.tree.model() and self._leaving:
            self._leaving = False  # an ancestor went: Qt says nothing about the current row, which went with it
            self._clear_details()

    def _clear_details(self) -> None:
        self.details_node = None
        self.w.details.clear()

    def _forget_details(self) -> None:
        self.details_node = None
