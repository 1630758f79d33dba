"""The tree's structural changes as views see them: each change of :class:`~kube9_desktop.model.tree_core.TreeCore`
announced to Qt's views.

:class:`ShownRowsModel` is the half of :class:`~kube9_desktop.model.tree_model.ClusterTreeModel` that tells views
(``begin/end*Rows``, ``dataChanged``) of the changes they can see: the rows inside every ancestor's shown window
(``TreeNode.shown``, see ``SHOW_ROWS``). The surgery itself, and the shown windows' bookkeeping, are
:class:`~kube9_desktop.model.tree_core.TreeCore`'s (Qt-free: the headless tree uses the same). Answering Qt's
questions about the rows is the subclass's job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager as ContextManager

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject

from kube9_desktop.kube.gui_gate import GATE
from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.tree_core import TreeCore

_COLUMNS = len(render.COLUMNS)
#: Only a list views were told the rows of (``TreeNode.revealed``) announces its Status cell (the bench's switch).
STATUS_OF_REVEALED_ONLY = True


class ShownRowsModel(TreeCore, QAbstractItemModel):
    """Tree surgery that tells views only of the rows they can see (the loader's ``TreeSurface``, less its
    notifications, which are the subclass's signals)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # internalId -> node for every node an index was made for; detached nodes are removed (a stale index then
        # resolves to an inert placeholder instead of a dangling pointer).
        self._registry: dict[int, TreeNode] = {}
        self._changing = 0  # > 0 between begin*Rows and end*Rows

    # ------------------------------------------------------------------ indexes of the nodes views know

    def _key(self, node: TreeNode) -> int:
        self._registry[node.key] = node
        return node.key

    def index_of(self, node: TreeNode, column: int = 0) -> QModelIndex:
        """The index of ``node`` (invalid for the root or a node not in the visible tree)."""
        if node is self._root or node.parent is None or not self._exposed(node):
            return QModelIndex()
        return self.createIndex(node.position(), column, self._key(node))

    # ------------------------------------------------------------------ TreeCore's hooks: what views are told

    def _exposed(self, node: TreeNode) -> bool:
        """Whether views know ``node``: it is in the current tree and inside the shown rows of every ancestor."""
        n = node
        while n is not self._root:
            p = n.parent
            if p is None or n.position() >= p.shown:
                return False
            n = p
        return True

    @contextlib.contextmanager
    def _announced(self, begin: object, end: object, *args: object) -> Iterator[None]:
        self._changing += 1
        try:
            with GATE.held():  # the views' handlers call back into Python: workers step aside (kube.gui_gate)
                begin(*args)  # type: ignore[operator]
                yield
                end()  # type: ignore[operator]
        finally:
            self._changing -= 1

    def _inserting(self, parent: TreeNode, first: int, last: int) -> ContextManager[object]:
        return self._announced(self.beginInsertRows, self.endInsertRows, self.index_of(parent), first, last)

    def _removing(self, parent: TreeNode, first: int, last: int) -> ContextManager[object]:
        return self._announced(self.beginRemoveRows, self.endRemoveRows, self.index_of(parent), first, last)

    def _moving(self, parent: TreeNode, src: int, dst: int) -> ContextManager[object]:
        pidx = self.index_of(parent)
        return self._announced(self.beginMoveRows, self.endMoveRows, pidx, src, src, pidx, dst)

    @contextlib.contextmanager
    def _resetting(self) -> Iterator[None]:
        # Not while shutting down after Qt destroyed the window and the model: there is nobody to tell.
        import shiboken6

        views = shiboken6.isValid(self)
        if views:
            self.beginResetModel()
        yield
        if views:
            self.endResetModel()

    def _forget(self, node: TreeNode) -> None:
        self._registry.pop(node.key, None)

    def _changed(self, node: TreeNode) -> None:
        if node.parent is not None and self._exposed(node):
            # One signal per cell: a view repaints just those cells. Given a range, QTreeView repaints its whole
            # viewport (20-30 ms with the window full of rows), and a loading list's label (its count) changes with
            # every page: twenty full repaints while 10,000 pods arrive.
            row, key = node.position(), self._key(node)
            # Only an object's row (and the context's status) has more than a name: a list's, a folder's or a note's
            # change (its count, note, loading state) is its first cell. Fewer signals: a loading list's count
            # changes with every page.
            if node.row is not None:
                # The kind columns the row has (a wide CRD's up to 10), not every slot: most kinds have 2-6.
                kind_cols = min(max(len(node.row.columns), render.ANNOUNCED_KIND_SLOTS), render.KIND_SLOTS)
                cols: Iterable[int] = (render.COL_NAME, render.COL_STATUS,
                                       *range(render.COL_KIND, render.COL_KIND + kind_cols),
                                       *range(render.COL_AGE, _COLUMNS))
            elif node.type is NodeType.CONTEXT or (node.type is NodeType.LIST and node.shown <= len(node.children)
                                                   and (node.revealed or not STATUS_OF_REVEALED_ONLY)):
                # A long list's Status says how many of its rows are shown (render.shown_note): announced while it
                # has rows waiting, or has just shown its last ones. Not for a list no view has opened (loaded for
                # its count: ``shown`` 0, its Status empty until it is opened, and opening it inserts its rows,
                # which repaints them all): a namespace's ~28 count lists each announced a Status that could not
                # have changed, twice as many signals as names (each ~50 µs of QTreeView's C++).
                cols = (render.COL_NAME, render.COL_STATUS)
            else:
                cols = (render.COL_NAME,)
            with GATE.held():
                for col in cols:
                    cell = self.createIndex(row, col, key)
                    self.dataChanged.emit(cell, cell)
