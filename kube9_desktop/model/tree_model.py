"""The cluster tree as a ``QAbstractItemModel``: the Qt adapter over :mod:`.nodes`, driven by :mod:`.loader`.

This module only adapts: it answers Qt's questions about the nodes (``index``, ``data``, ...). Its bases are the
:class:`~kube9_desktop.model.ports.TreeSurface` through which the :class:`~kube9_desktop.model.loader.TreeLoader`
changes the tree: :class:`~kube9_desktop.model.tree_core.TreeCore` (Qt-free: the surgery, the shown window of long
lists, see ``SHOW_ROWS``, and the loader's work handed to it; the headless tree is the same core) and
:class:`~kube9_desktop.model.shown_rows.ShownRowsModel`, which announces each change to views (``begin/end*Rows``).
What to load, when, and how results become rows is the loader's job (Qt-free); what a node's children are is
:mod:`.children`'s tables; how rows are brought up to date is :mod:`.reconcile`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import (
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont

from kube9_desktop.kube.convert import status_shown
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.rows import Column
from kube9_desktop.model import render
from kube9_desktop.model.loader import TreeLoader
from kube9_desktop.model.nodes import LEAF_KEY_BIT, LoadState, NodeType, TreeNode
from kube9_desktop.model.shown_rows import ShownRowsModel
from kube9_desktop.model.usage import UsageBook

if TYPE_CHECKING:
    pass

_INVALID = QModelIndex()
#: Expandable rows without children yet that still get an expand arrow: a list being prefetched has no "Loading…"
#: row (views are not told of one they would have to lay the whole tree out again to remove).
_MAY_HAVE_CHILDREN = frozenset({LoadState.UNLOADED, LoadState.LOADING})
_COLUMNS = len(render.COLUMNS)

ModelIndex = QModelIndex | QPersistentModelIndex
#: The roles ``data()`` answers.
_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole,
                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole})


#: The label of the top row that shows every context's health.
FLEET_LABEL = "All clusters"


class ClusterTreeModel(ShownRowsModel):
    """Context → categories → namespaces → resources, loaded lazily through ``fetchMore``.

    Signals:
        load_failed(KubeError, bool): a load failed; the flag says whether the user asked for it directly
            (context switch, refresh, retry), in which case the window shows a dialog.
        activity(): some load finished (the status bar refreshes its numbers).
        busy_changed(bool): loads started / all loads finished.
        header_changed(): the header names another kind's columns (:meth:`follow_kind`).
    """

    load_failed = Signal(object, bool)
    activity = Signal()
    busy_changed = Signal(bool)
    #: The header now names another kind's columns (the window shows the kind columns it fills, hides the rest).
    header_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loader = TreeLoader(self)
        self._root = self._loader.root
        self._contexts = self._loader.contexts
        self._dead = TreeNode(NodeType.NOTE, "")
        #: The "All clusters" row, above the context row: selecting it shows the fleet (every context's health).
        self._fleet = TreeNode(NodeType.FLEET, FLEET_LABEL)
        self._root.add_children([self._fleet])
        #: CPU/Memory figures of the context shown (the window's metrics refresher sets them; None: empty cells).
        self.usage: UsageBook | None = None
        #: The header's titles: the generic ones, and the kind columns of the list last made current.
        self.header_columns: tuple[Column, ...] | None = None
        self._headers = render.header_labels(None)

    @property
    def fleet_node(self) -> TreeNode:
        """The "All clusters" row (always the first top-level row)."""
        return self._fleet

    def _top_rows(self) -> list[TreeNode]:
        return [self._fleet]

    def expand(self, node: TreeNode) -> None:
        """What a view does when a row is expanded: ``fetchMore`` if it can (a row it shows), then report the
        expansion."""
        index = self.index_of(node)
        if self.canFetchMore(index):
            self.fetchMore(index)
        self.set_expanded(node, True)

    # ------------------------------------------------------------------ Qt model interface

    def node(self, index: ModelIndex) -> TreeNode:
        """The node behind ``index`` (the invisible root for an invalid index)."""
        if not index.isValid():
            return self._root
        return self._registry.get(index.internalId(), self._dead)

    def index(self, row: int, column: int, parent: ModelIndex = QModelIndex()) -> QModelIndex:
        # A view layout asks this for every shown row (5,000 times for a long list), so it makes one call into Qt:
        # the parent's key (0 for the invalid root index; no node has key 0). Bounds are checked here rather than
        # with hasIndex(), which would call back into rowCount/columnCount.
        key = parent.internalId()
        if key:
            if parent.column():
                return _INVALID  # children hang off column 0 only
            node = self._registry.get(key, self._dead)
        else:
            node = self._root
        children = node.children
        if row < 0 or row >= len(children) or row >= node.shown or not 0 <= column < _COLUMNS:
            return _INVALID
        child = children[row]
        self._registry[child.key] = child
        return self.createIndex(row, column, child.key)

    def sibling(self, row: int, column: int, idx: ModelIndex) -> QModelIndex:
        # A view paints a row cell by cell, asking the sibling of its first cell for each other column. Qt's own
        # sibling() is index(row, column, parent(idx)): two calls into Python per cell, ~220 per repaint.
        if row == idx.row() and 0 <= column < _COLUMNS and idx.isValid():
            return self.createIndex(row, column, idx.internalId())
        return super().sibling(row, column, idx)

    def parent(self, index: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node = self.node(index)
        p = node.parent
        if p is None or p is self._root or p.parent is None:
            return QModelIndex()
        return self.createIndex(p.position(), 0, self._key(p))

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        if parent.isValid() and parent.column() > 0:
            return 0
        node = self.node(parent)
        return min(len(node.children), node.shown)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return len(render.COLUMNS)

    def hasChildren(self, parent: ModelIndex = QModelIndex()) -> bool:
        # A view layout asks this for every shown row: a leaf's key answers it without a node lookup (TreeNode.key).
        # flags() is Qt's own on purpose: overridden to say "never has children" for leaves, it was asked twice
        # per shown row instead of this once (with index() as it was, a 5,000-row layout took ~65 ms, now ~45 ms).
        key = parent.internalId()
        if key & LEAF_KEY_BIT:
            return False
        if not key:
            return bool(self._root.children)
        if parent.column():
            return False
        node = self._registry.get(key)
        if node is None:
            return False
        # The key's parity already said the node is expandable (it cannot change): no property call per row.
        return bool(node.children) or node.state in _MAY_HAVE_CHILDREN

    def canFetchMore(self, parent: ModelIndex) -> bool:
        if not parent.isValid():
            return False
        node = self.node(parent)
        return node.expandable and node.state is LoadState.UNLOADED and self._loader.service is not None

    def fetchMore(self, parent: ModelIndex) -> None:
        if not self.canFetchMore(parent):
            return
        self._loader.start_load(self.node(parent), user=False)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The tooltip repeats the title: a column with short cells is fitted narrower than its title, which elides
        # (ui/column_fit.py).
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._headers[section] or None
        return None

    def follow_kind(self, node: TreeNode) -> bool:
        """Name ``node``'s kind columns in the header (an object's own, a list's rows'); returns whether they
        changed. A row that has none (a folder, a namespace) leaves the header as it is: the lists open below it
        are still what the columns show."""
        row = node.row if node.type is NodeType.OBJECT else None
        if node.type is NodeType.LIST:
            row = next((c.row for c in node.children if c.row is not None), None)
        if row is None or node.kind is None or not row.columns:
            return False
        headers = render.header_labels(row.columns, status_shown(node.kind) or "Status")
        if headers == self._headers:
            return False
        self.header_columns = row.columns
        self._headers = headers
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, _COLUMNS - 1)
        self.header_changed.emit()
        return True

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The roles we never answer return before the node lookup.
        if role not in _ROLES or not index.isValid():
            return None
        return self._value(self.node(index), index.column(), role)

    def multiData(self, index: ModelIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        # Qt's item delegate asks for 7 roles of every cell it paints in this one call. Qt's own multiData() makes
        # that 7 data() calls into Python: ~980 calls per repaint of the tree, ~140 answered here.
        node = self.node(index) if index.isValid() else None
        col = index.column()
        span = (roleDataSpan,) if isinstance(roleDataSpan, QModelRoleData) else roleDataSpan
        for rd in cast(Iterable[QModelRoleData], span):
            role = rd.role()
            value = None if node is None or role not in _ROLES else self._value(node, col, role)
            if value is None:
                rd.clearData()
            else:
                rd.setData(value)

    def _value(self, node: TreeNode, col: int, role: int) -> Any:
        """What ``data()`` answers for ``node``'s cell in column ``col`` (``None`` for nothing)."""
        if col >= render.COL_CPU:
            return self._usage_value(node, col, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return render.cell_text(node, col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == render.COL_NAME:
                return render.node_icon(node)
            if col == render.COL_STATUS:
                return render.status_icon(node)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = render.foreground(node, col)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.FontRole:
            style = render.font_style(node)
            if style == render.FONT_PLAIN:
                return None
            font = QFont()
            if style == render.FONT_LINK:  # an action: reads as a link, not as a remark
                font.setUnderline(True)
            else:
                font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if render.COL_KIND <= col < render.COL_AGE and node.row is not None:
                # The header names the current list's columns: a row of another kind says which one this is.
                c = render.kind_column(node.row, col)
                return f"{c.name}: {render.kind_cell(node.row, col)}" if c is not None else None
            return render.tooltip(node)
        return None

    def _usage_value(self, node: TreeNode, col: int, role: int) -> Any:
        """The CPU/Memory cells, from :attr:`usage` (set by the window's metrics refresher)."""
        if role == Qt.ItemDataRole.DisplayRole:
            return render.usage_value(self.usage, node, col, "text") or ""
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = render.usage_value(self.usage, node, col, "colour")
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return render.usage_value(self.usage, node, col, "tooltip")
        return None

    def set_usage(self, book: UsageBook | None) -> None:
        """New usage figures: the usage cells of every shown list of nodes, pods or workloads (and of the list rows
        that say "metrics unavailable") are announced changed, one signal per list."""
        self.usage = book
        stack = [self._root]
        while stack:
            parent = stack.pop()
            if parent is not self._root and not parent.expanded:
                continue
            kids = parent.children[: parent.shown]
            if kids and any(k.type in (NodeType.OBJECT, NodeType.LIST) for k in kids[:1]):
                first, last = self.index_of(kids[0], render.COL_CPU), self.index_of(kids[-1], render.COL_MEM)
                if first.isValid() and last.isValid():
                    self.dataChanged.emit(first, last)
            stack.extend(k for k in kids if k.children)

    # ------------------------------------------------------------------ the loader's surface: its notifications

    def notify_failed(self, error: KubeError, user: bool) -> None:
        """Emit :attr:`load_failed`."""
        self.load_failed.emit(error, user)

    def notify_activity(self) -> None:
        """Emit :attr:`activity`."""
        self.activity.emit()

    def notify_busy(self, busy: bool) -> None:
        """Emit :attr:`busy_changed`."""
        self.busy_changed.emit(busy)

    # ------------------------------------------------------------------ loading (delegated to the loader)

    def _attached(self, node: TreeNode) -> bool:
        return self._loader.attached(node)

    def _is_live(self, node: TreeNode, generation: int) -> bool:
        """Whether results for ``node`` loaded at ``generation`` still belong in the tree."""
        return self._loader.is_live(node, generation)

    def _fail(self, node: TreeNode, error: KubeError, user: bool) -> None:
        self._loader.fail(node, error, user)

    def retry(self, index: ModelIndex) -> None:
        """Retry the load an error row (or any loaded node) stands for."""
        node = self.node(index)
        target = node.parent if node.type in (NodeType.ERROR, NodeType.NOTE) else node
        if target is None or target.type is NodeType.ROOT:
            return
        self._loader.reload_node(target, user=True)

    async def reveal_path(self, path: str | Iterable[str],
                          open_node: Callable[[TreeNode], None] | None = None) -> TreeNode | None:
        """Open every node along ``path`` and return the last one, for the caller to select (``None``: missing).

        A window passes ``open_node`` to expand its own rows (``tree.expand(proxy.mapFromSource(index_of(n)))``),
        then selects ``index_of(node)``; see :meth:`TreeLoader.reveal`.
        """
        node, _ = await self._loader.reveal(path, open_node)
        return node
