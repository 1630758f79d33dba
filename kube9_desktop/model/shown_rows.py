"""The tree's structural changes as views see them: the rows a model has shown, and each change announced.

:class:`ShownRowsModel` is the half of :class:`~kube9_desktop.model.tree_model.ClusterTreeModel` that is the
:class:`~kube9_desktop.model.ports.TreeSurface` the loader changes the tree through: it inserts, removes, moves and
changes rows, and tells views (``begin/end*Rows``, ``dataChanged``) of those they can see. Long lists are kept to a
shown window (``TreeNode.shown``, see ``SHOW_ROWS``) that grows as the user scrolls (:meth:`ShownRowsModel.show_more`).
Answering Qt's questions about the rows is the subclass's job.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject

from kube9_desktop.kube.gui_gate import GATE
from kube9_desktop.model import render
from kube9_desktop.model.nodes import SHOW_ROWS, NodeType, TreeNode

if TYPE_CHECKING:
    from kube9_desktop.model.loader import TreeLoader

_COLUMNS = len(render.COLUMNS)


class ShownRowsModel(QAbstractItemModel):
    """Tree surgery that tells views only of the rows they can see (the loader's ``TreeSurface``, less its
    notifications, which are the subclass's signals)."""

    #: Rows a long list shows more of each time its last shown row scrolls into view (see SHOW_ROWS).
    show_step = SHOW_ROWS

    # What the subclass provides (its constructor sets them).
    _root: TreeNode
    _loader: TreeLoader
    _contexts: dict[str, TreeNode]

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


    # ------------------------------------------------------------------ tree surgery (signals only when visible)

    def _exposed(self, node: TreeNode) -> bool:
        """Whether views know ``node``: it is in the current tree and inside the shown rows of every ancestor."""
        n = node
        while n is not self._root:
            p = n.parent
            if p is None or n.position() >= p.shown:
                return False
            n = p
        return True

    def _insert(self, parent: TreeNode, nodes: list[TreeNode], at: int | None = None) -> None:
        n = len(nodes)
        if not n:
            return
        at = len(parent.children) if at is None else at
        # Views hear only of rows that land inside the shown window (see SHOW_ROWS). Rows inserted among shown
        # ones are all shown (the window grows, so no shown row is pushed out of it); rows appended at the
        # window's end fill it up; the rest wait, silently, for show_more.
        visible = min(len(parent.children), parent.shown)
        shown = parent.shown
        if at < visible:
            entering = n
            shown = max(shown, visible + n)
        elif at == visible:
            entering = max(0, min(n, shown - visible))
        else:
            entering = 0
        if entering and self._exposed(parent):
            self._changing += 1
            with GATE.held():  # the views' handlers call back into Python: workers step aside (kube.gui_gate)
                self.beginInsertRows(self.index_of(parent), at, at + entering - 1)
                parent.add_children(nodes, at)
                parent.shown = shown  # only now: until endInsertRows views must still count the rows as before
                self.endInsertRows()
            self._changing -= 1
        else:
            parent.add_children(nodes, at)
            parent.shown = shown
        self._loader.timing.last_insert_at = time.monotonic()

    def _reveal(self, node: TreeNode) -> None:
        """Tell views of an opened list's rows (one loaded while closed keeps them from views: TreeNode.revealed)."""
        if node.revealed:
            return
        node.revealed = True
        if node.hidden_rows:
            self.show_more(node, self.show_step)
        else:
            node.shown = max(node.shown, self.show_step)  # no rows yet: they show as they arrive

    def show_more(self, node: TreeNode, rows: int | None = None) -> int:
        """Show views up to ``rows`` (default :attr:`show_step`) more of ``node``'s waiting children; returns how
        many were added."""
        more = min(self.show_step if rows is None else rows, node.hidden_rows)
        if more <= 0:
            return 0
        node.revealed = True
        first = node.shown
        if self._exposed(node):
            self._changing += 1
            with GATE.held():
                self.beginInsertRows(self.index_of(node), first, first + more - 1)
                node.shown += more
                self.endInsertRows()
            self._changing -= 1
        else:
            node.shown += more
        if not node.hidden_rows:
            node.shown = max(node.shown, self.show_step)  # all shown: rows still to come show as they arrive
        return more

    def show_everything(self) -> int:
        """Show every waiting row of every loaded tree (the filter searches what views see); returns the count."""
        added = 0
        for root in list(self._contexts.values()):
            for node in root.branches():
                if node.hidden_rows:
                    added += self.show_more(node, node.hidden_rows)
        return added

    def _remove(self, parent: TreeNode, first: int, last: int) -> None:
        if last < first:
            return
        removed = parent.children[first:last + 1]
        # Views hear only of the shown rows removed. While rows wait behind the window it shrinks by as many, so
        # they stay waiting (views are not told of them); otherwise the window keeps its size.
        shown_removed = max(0, min(last, parent.shown - 1) - first + 1)
        shrink = shown_removed if len(parent.children) > parent.shown else 0
        if shown_removed and self._exposed(parent):
            self._changing += 1
            self.beginRemoveRows(self.index_of(parent), first, first + shown_removed - 1)
            del parent.children[first:last + 1]
            parent.shown -= shrink
            self.endRemoveRows()
            self._changing -= 1
        else:
            del parent.children[first:last + 1]
            parent.shown -= shrink
        for n in removed:
            self._detach_subtree(n)
        if not parent.revealed:
            return  # views see none of its rows until it is opened
        if not parent.hidden_rows:
            # Nothing waits: the window is back to its full size (views see the same rows either way), so a list
            # emptied for a reload or an error row shows what comes next.
            parent.shown = max(parent.shown, self.show_step)
        elif parent.shown <= 0:
            self.show_more(parent)  # every shown row went: show the waiting ones, or the list looks empty

    def move(self, parent: TreeNode, src: int, dst: int) -> None:
        """Move ``parent``'s child at ``src`` to ``dst`` (``dst < src``), telling views what they can see of it."""
        exposed = self._exposed(parent)
        if src < parent.shown:  # a move inside the shown window
            if exposed:
                pidx = self.index_of(parent)
                self.beginMoveRows(pidx, src, src, pidx, dst)
            parent.children.insert(dst, parent.children.pop(src))
            if exposed:
                self.endMoveRows()
        elif dst < parent.shown:
            # A waiting row moves into the shown window: for views it is an insertion, and the window grows
            # by one so the last shown row stays shown.
            if exposed:
                self.beginInsertRows(self.index_of(parent), dst, dst)
            parent.children.insert(dst, parent.children.pop(src))
            parent.shown += 1
            if exposed:
                self.endInsertRows()
        else:
            parent.children.insert(dst, parent.children.pop(src))

    def _detach_subtree(self, node: TreeNode) -> None:
        registry = self._registry
        for n in node.walk():
            registry.pop(n.key, None)
            self._loader.detached(n)

    def _clear_children(self, node: TreeNode) -> None:
        self._remove(node, 0, len(node.children) - 1)

    def _replace_children(self, node: TreeNode, nodes: list[TreeNode]) -> None:
        self._clear_children(node)
        self._insert(node, nodes)

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
            elif node.type is NodeType.CONTEXT or (node.type is NodeType.LIST and node.shown <= len(node.children)):
                # A long list's Status says how many of its rows are shown (render.shown_note): announced while it
                # has rows waiting, or has just shown its last ones.
                cols = (render.COL_NAME, render.COL_STATUS)
            else:
                cols = (render.COL_NAME,)
            with GATE.held():
                for col in cols:
                    cell = self.createIndex(row, col, key)
                    self.dataChanged.emit(cell, cell)

    # ------------------------------------------------------------------ the loader's surface (ports.TreeSurface)

    @property
    def changing(self) -> bool:
        """Whether a change is being announced to views right now."""
        return bool(self._changing)

    def insert(self, parent: TreeNode, nodes: list[TreeNode], at: int | None = None) -> None:
        """Insert ``nodes`` under ``parent`` (see :meth:`_insert`)."""
        self._insert(parent, nodes, at)

    def remove(self, parent: TreeNode, first: int, last: int) -> None:
        """Remove ``parent``'s children ``first..last`` (see :meth:`_remove`)."""
        self._remove(parent, first, last)

    def changed(self, node: TreeNode) -> None:
        """``node``'s own row changed (see :meth:`_changed`)."""
        self._changed(node)

    def reveal(self, node: TreeNode) -> None:
        """Tell views of an opened list's rows (see :meth:`_reveal`)."""
        self._reveal(node)
