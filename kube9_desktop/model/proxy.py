"""The tree as views see it while filtered or sorted: a ``QSortFilterProxyModel`` over the cluster model.

The window shows the model itself while neither is on (the proxy costs a Python call per row and per comparison),
and this proxy otherwise:

* **Filter**: rows whose name contains the text, with their ancestors (recursive filtering); message rows (loading,
  errors, notes) are hidden, nothing is loaded, and a list says how many of its rows match: ``Pods (3 of 4)``.
* **Sort**: by a column, within each list only: object rows are ordered by :func:`render.sort_key`; folders,
  lists and message rows keep the order the model gives them (message rows first), in both directions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from PySide6.QtCore import (
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel

ModelIndex = QModelIndex | QPersistentModelIndex
_MESSAGES = (NodeType.LOADING, NodeType.ERROR, NodeType.NOTE)


class TreeProxy(QSortFilterProxyModel):
    """Filters the loaded tree by name and sorts each list by a column (see the module docstring)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(render.COL_NAME)
        self.text = ""

    # ------------------------------------------------------------------ state

    @property
    def filtering(self) -> bool:
        """Whether a filter text is set."""
        return bool(self.text)

    @property
    def sorting(self) -> bool:
        """Whether lists are sorted by a column."""
        return self.sortColumn() >= 0

    def set_text(self, text: str) -> None:
        """Show rows whose name contains ``text`` (case-insensitive), with their ancestors; "" shows every row."""
        text = text.lower()
        if text == self.text:
            return
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter() is deprecated there
            self.beginFilterChange()
            self.text = text
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            self.text = text
            self.invalidateFilter()

    def _node(self, source: ModelIndex) -> TreeNode:
        model = cast(ClusterTreeModel, self.sourceModel())
        return model.node(source)

    # ------------------------------------------------------------------ filtering

    def canFetchMore(self, parent: ModelIndex) -> bool:
        # While filtering nothing is loaded (the filter searches what is loaded); sorted, a list opens as usual.
        return False if self.filtering else super().canFetchMore(parent)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not self.filtering:
            return True
        model = cast(ClusterTreeModel, self.sourceModel())
        node = model.node(model.index(source_row, 0, source_parent))
        if node.type in _MESSAGES:
            return False
        name = node.row.name if node.row is not None else node.label
        return self.text in name.lower()

    # ------------------------------------------------------------------ sorting

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        a, b = self._node(left), self._node(right)
        ascending = self.sortOrder() is Qt.SortOrder.AscendingOrder
        a_obj = a.type is NodeType.OBJECT and a.row is not None
        b_obj = b.type is NodeType.OBJECT and b.row is not None
        if a_obj and b_obj:
            assert a.row is not None and b.row is not None
            col = left.column()
            return render.sort_key(a.row, col) < render.sort_key(b.row, col)
        # Qt sorts descending with lessThan(right, left): answering by the model's order reversed keeps folders,
        # lists and message rows (those first) where the model has them in both directions.
        if a_obj != b_obj:
            return (not a_obj) if ascending else (not b_obj)
        return (left.row() < right.row()) if ascending else (left.row() > right.row())

    # ------------------------------------------------------------------ "3 of 4"

    def count_text(self, index: ModelIndex) -> str | None:
        """A list's Name cell while filtering: how many of its rows match, of how many (``Pods (3 of 4)``)."""
        if not self.filtering or index.column() != render.COL_NAME or not index.isValid():
            return None
        node = self._node(self.mapToSource(index))
        if node.type is not NodeType.LIST or node.count is None:
            return None
        text = str(render.cell_text(node, render.COL_NAME))
        return f"{node.label} ({self.rowCount(index)} of {node.count})" + text[len(node.display_label):]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            text = self.count_text(index)
            if text is not None:
                return text
        return super().data(index, role)

    def multiData(self, index: ModelIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        # The delegate asks through multiData, which the proxy forwards to the model as it is: patch the Name.
        super().multiData(index, roleDataSpan)
        text = self.count_text(index)
        if text is None:
            return
        span = (roleDataSpan,) if isinstance(roleDataSpan, QModelRoleData) else roleDataSpan
        for rd in cast(Iterable[QModelRoleData], span):
            if rd.role() == Qt.ItemDataRole.DisplayRole:
                rd.setData(text)
