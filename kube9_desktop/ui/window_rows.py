"""What the main window's tree shows of the model: expansion remembered per context, message rows spanned, long
lists grown as their last shown row scrolls into view (a mixin of :class:`~kube9_desktop.ui.main_window.MainWindow`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, QTimer

from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.menus import MESSAGE_ROWS

if TYPE_CHECKING:
    from kube9_desktop.model.proxy import TreeProxy
    from kube9_desktop.model.tree_model import ClusterTreeModel
    from kube9_desktop.ui.kind_columns import KindColumns
    from kube9_desktop.ui.tree_view import ClusterTreeView


class WindowRows:
    """Expansion bookkeeping, message-row spans and "show more" on scroll; mixed into ``MainWindow``."""

    # What the window provides (declared for type checkers; MainWindow sets them).
    model: ClusterTreeModel
    proxy: TreeProxy
    tree: ClusterTreeView
    _tasks: set[asyncio.Future[Any]]
    kind_columns: KindColumns
    _show_more_pending: bool

    if TYPE_CHECKING:
        def show_message(self, text: str, timeout_ms: int = 0) -> None: ...

    # ------------------------------------------------------------------ expansion bookkeeping

    def source_index(self, index: QModelIndex) -> QModelIndex:
        """The model index behind a view index (the view shows the filter's proxy while filtering)."""
        return self.proxy.mapToSource(index) if self.tree.model() is self.proxy else index

    _source = source_index

    def _view_index(self, source: QModelIndex) -> QModelIndex:
        return self.proxy.mapFromSource(source) if self.tree.model() is self.proxy else source

    def _span_inserted(self, parent: QModelIndex, first: int, _last: int) -> None:
        # A message row is always the first row of its insert (it replaces a list's rows, or heads them): the rows
        # of a 2,000-row insert are not looked at one by one.
        if self.tree.model() is not self.model:
            return  # the filter shows no message rows
        if self.model.node(self.model.index(first, 0, parent)).type in MESSAGE_ROWS:
            self.tree.setFirstColumnSpanned(first, parent, True)

    def _span_messages(self) -> None:
        """Span every message row views are shown (after a reset, or the view's model changed)."""
        root = self.model.context_node()
        if root is None:
            return
        for n in root.branches():
            if n.type in MESSAGE_ROWS:
                idx = self._view_index(self.model.index_of(n))
                if idx.isValid():
                    self.tree.setFirstColumnSpanned(idx.row(), idx.parent(), True)

    def _remember_expanded(self, index: QModelIndex) -> None:
        # The model looks an opened list up again (TTL) and live updates watch only what is open.
        node = self.model.node(self._source(index))
        self.model.set_expanded(node, True)
        self.model.live.note_expanded(node)
        self.kind_columns.follow_node(node)

    def _remember_collapsed(self, index: QModelIndex) -> None:
        node = self.model.node(self._source(index))
        self.model.set_expanded(node, False)
        self.model.live.note_collapsed(node)

    def _expanded_paths(self) -> set[tuple[str, ...]]:
        out: set[tuple[str, ...]] = set()
        root = self.model.context_node()
        if root is None or (self.proxy.filtering and self.tree.model() is self.proxy):
            return out  # what the filter expanded is not the user's
        for n in root.branches():
            if n.children and self.tree.isExpanded(self._view_index(self.model.index_of(n))):
                out.add(n.path())
        return out

    def _restore_expanded(self, paths: set[tuple[str, ...]]) -> None:
        root = self.model.context_node()
        if root is None:
            return
        for n in root.branches():
            if n.path() in paths and n.children:
                self.tree.expand(self._view_index(self.model.index_of(n)))

    def reveal_path(self, path: str) -> None:
        """Open the tree down to ``path`` (``Namespaces/team-a/Workloads/Pods/web-1``) and select that row (an
        event's object was clicked)."""

        async def run() -> None:
            node = await self.model.reveal_path(path, self.expand_node)
            parent = self.model.find(path.rsplit("/", 1)[0]) if node is None and "/" in path else None
            if parent is not None and parent.type is NodeType.LIST:
                # The list may be older than the object: an event about a pod created a moment ago, and the list
                # came from the cache before its watch caught up. Read that list again, in place, and look once more.
                self.model.reload_node(parent, user=False)
                await self.model.wait_for(parent)
                node = await self.model.reveal_path(path, self.expand_node)
            if node is None:
                self.show_message(f"{path.rsplit('/', 1)[-1]} is not in the tree (deleted?)", 4000)
                return
            idx = self._view_index(self.model.index_of(node))
            if idx.isValid():
                self.tree.setCurrentIndex(idx)
                self.tree.scrollTo(idx)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def expand_node(self, node: TreeNode) -> None:
        """Expand ``node`` in the view (used by the screenshot mode)."""
        idx = self._view_index(self.model.index_of(node))
        if idx.isValid():
            self.tree.expand(idx)

    # ------------------------------------------------------------------ long lists grow as they scroll

    def _on_scrolled(self, _value: int = 0) -> None:
        """When the last shown row of a long list scrolls into view, show that list's next rows."""
        if self._show_more_pending or self.tree.model() is not self.model:
            return
        bottom = self.tree.viewport().height()
        index = self.tree.indexAt(QPoint(4, 2))
        for _ in range(500):  # the rows on screen; a bound in case of a very tall window
            if not index.isValid() or self.tree.visualRect(index).top() > bottom:
                return
            node = self.model.node(index)
            parent = node.parent
            if parent is not None and parent.hidden_rows and node.position() == parent.shown - 1:
                # Deferred: inserting rows inside the scroll bar's signal would re-enter the view's update.
                self._show_more_pending = True
                QTimer.singleShot(0, lambda p=parent: self._show_more(p))
                return
            index = self.tree.indexBelow(index)

    def _show_more(self, node: TreeNode) -> None:
        self._show_more_pending = False
        self.model.show_more(node)
