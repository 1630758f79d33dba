"""The tree header's kind columns follow the list the user is in.

One model shows lists of many kinds at once, so the columns after Status cannot have one meaning for every row.
Each object row fills them from its own kind's Table columns by position (:func:`render.kind_cell`); the header
names the columns of the kind of the current row (an object, or a list whose rows have arrived) or of the list just
opened, and shows as many kind columns as that kind has (the others are hidden). A row of another kind still shows
its own cells there; their tooltips say which column each is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt

from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow


class KindColumns(QObject):
    """Keeps the window's header on the current kind's columns (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        #: A list made current before its rows arrived: the header follows it once they do.
        self._waiting: TreeNode | None = None
        window.model.header_changed.connect(self.apply)
        window.model.rowsInserted.connect(self._rows_inserted)
        window.model.modelReset.connect(self._forget)
        self.apply()

    def apply(self) -> None:
        """Show the kind columns the header names, hide the rest."""
        header = self.w.tree.header()
        model = self.w.model
        for col in render.KIND_COLUMNS:
            header.setSectionHidden(col, not model.headerData(col, Qt.Orientation.Horizontal))

    def follow(self, index: QModelIndex) -> None:
        """The view's ``index`` became current (or was opened): the header follows its kind."""
        if not index.isValid():
            return
        node = self.w.model.node(self.w.source_index(index))
        self.follow_node(node)

    def follow_node(self, node: TreeNode) -> None:
        """The header follows ``node``'s kind (a list without rows yet: once they arrive)."""
        self._waiting = None
        self.w.model.follow_kind(node)
        if node.type is NodeType.LIST and not any(c.row is not None for c in node.children):
            self._waiting = node  # no rows yet (or only a Loading… row)

    def _rows_inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        node = self._waiting
        if node is not None and self.w.model.node(parent) is node and self.w.model.follow_kind(node):
            self._waiting = None

    def _forget(self) -> None:
        self._waiting = None

