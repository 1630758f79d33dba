"""The cluster tree as a ``QAbstractItemModel``: a thin adapter over :mod:`.nodes`.

How one expansion travels (one way only):

1. The view asks ``canFetchMore(index)``; the node is UNLOADED, so yes. ``fetchMore`` marks it LOADING, inserts a
   "Loading…" child, schedules a coroutine on the event loop and returns at once.
2. The coroutine asks the :class:`~kube9_desktop.kube.service.KubeService` for the list; the service answers from
   its cache or streams pages fetched and parsed in its worker threads.
3. Each page replaces the placeholder / is appended in batches (``beginInsertRows`` with an inclusive last row),
   yielding to the event loop between batches so the window keeps painting.
4. A failure arrives as a :class:`~kube9_desktop.kube.errors.KubeError` value and becomes an error row under the
   node plus a ``load_failed`` signal; nothing is thrown into the view.

Every task is referenced in ``_tasks`` until it finishes; results of a task whose node was reset meanwhile (refresh,
context switch, removal) are dropped by comparing the node's ``generation``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, cast

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import CLUSTER_RESOURCE_KINDS, KINDS, NAMESPACE_CATEGORIES, Kind
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model import render
from kube9_desktop.model.live import LiveUpdates
from kube9_desktop.model.nodes import (
    LEAF_KEY_BIT,
    SHOW_ROWS,
    LoadState,
    NodeType,
    TreeNode,
    error_node,
    list_node,
    loading_node,
    note_node,
    object_node,
)
from kube9_desktop.model.selectors import selector_of

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

_INVALID = QModelIndex()
#: Expandable rows without children yet that still get an expand arrow: a list being prefetched has no "Loading…"
#: row (views are not told of one they would have to lay the whole tree out again to remove).
_MAY_HAVE_CHILDREN = frozenset({LoadState.UNLOADED, LoadState.LOADING})
_COLUMNS = len(render.COLUMNS)

ModelIndex = QModelIndex | QPersistentModelIndex
#: The roles ``data()`` answers.
_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole,
                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole})

#: Failures that make a whole context unusable: shown once, as the context's only child, not once per list.
CONTEXT_FATAL = frozenset({ErrorKind.UNREACHABLE, ErrorKind.DNS, ErrorKind.TIMEOUT, ErrorKind.TLS,
                           ErrorKind.UNAUTHORIZED, ErrorKind.KUBECONFIG, ErrorKind.EXEC_PLUGIN,
                           ErrorKind.PROTOCOL})

class ClusterTreeModel(QAbstractItemModel):
    """Context → categories → namespaces → resources, loaded lazily through ``fetchMore``.

    Signals:
        load_failed(KubeError, bool): a load failed; the flag says whether the user asked for it directly
            (context switch, refresh, retry), in which case the window shows a dialog.
        activity(): some load finished (the status bar refreshes its numbers).
        busy_changed(bool): loads started / all loads finished.
    """

    load_failed = Signal(object, bool)
    activity = Signal()
    busy_changed = Signal(bool)

    #: Rows inserted per ``beginInsertRows`` call; the loop gets a turn between batches.
    insert_batch = 500
    #: Rows a long list shows more of each time its last shown row scrolls into view (see SHOW_ROWS).
    show_step = SHOW_ROWS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = TreeNode(NodeType.ROOT, "")
        self._contexts: dict[str, TreeNode] = {}
        # internalId -> node for every node an index was made for; detached nodes are removed (a stale index then
        # resolves to an inert placeholder instead of a dangling pointer).
        self._registry: dict[int, TreeNode] = {}
        self._service: KubeService | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._refreshing: set[str] = set()
        self._dead = TreeNode(NodeType.NOTE, "")
        self._changing = 0  # > 0 between begin*Rows and end*Rows
        self.accessible_namespaces: Callable[[str], list[str]] = lambda context: []
        #: Monotonic time of the first load since :meth:`reset_timing` and of the last rows inserted.
        self.first_load_at: float | None = None
        self.last_insert_at: float | None = None
        #: Watches of the lists the user has open (issue 8); the window and headless mode drive it.
        self.live = LiveUpdates(self)

    # ------------------------------------------------------------------ wiring

    @property
    def service(self) -> KubeService | None:
        """The data service (``None`` until the app has created it)."""
        return self._service

    def set_service(self, service: KubeService | None) -> None:
        """Use ``service`` from now on; every cached context tree is dropped."""
        self._service = service
        self._drop_trees()

    def _drop_trees(self) -> None:
        """Forget every context's tree (views see an empty model)."""
        views = shiboken6.isValid(self)  # not when shutting down after Qt destroyed the window and the model
        if views:
            self.beginResetModel()
        for ctx in self._contexts.values():
            self._detach_subtree(ctx)
        self._contexts.clear()
        self._root.children = []
        if views:
            self.endResetModel()

    @property
    def current_context(self) -> str | None:
        """The context shown, if any."""
        return self._root.children[0].context if self._root.children else None

    def context_node(self) -> TreeNode | None:
        """The visible context root node."""
        return self._root.children[0] if self._root.children else None

    def set_context(self, name: str, *, user: bool = True) -> TreeNode:
        """Show context ``name``; instant when its tree was opened before, else it starts loading.

        Args:
            name: The kubeconfig context.
            user: Whether the user asked for it (its failures then open a dialog).
        """
        node = self._contexts.get(name)
        if node is None:
            node = TreeNode(NodeType.CONTEXT, name, context=name)
            self._contexts[name] = node
        self.beginResetModel()
        old = self.context_node()
        if old is not None:
            old.parent = None
        self._root.children = []
        self._root.add_children([node])
        self.endResetModel()
        if old is not None and old is not node:
            # Hidden like a collapse: its watches stop after the grace period (the view re-expands it on return).
            self.live.note_collapsed(old)
        if node.state is LoadState.UNLOADED:
            self._start_load(node, user=user)
        elif old is not node:
            # Showing a kept tree again: what is open in it is looked up again (hits while within their TTL), and
            # the counts it shows are brought up to date where older than their TTL.
            for n in node.walk():
                if n.expanded:
                    self._revisit(n)
        return node

    def forget_context(self, name: str) -> None:
        """Drop the cached tree of ``name`` (e.g. after a kubeconfig reload)."""
        node = self._contexts.pop(name, None)
        if node is not None and node is self.context_node():
            self.beginResetModel()
            self._root.children = []
            self.endResetModel()
        if node is not None:
            self._detach_subtree(node)

    # ------------------------------------------------------------------ Qt model interface

    def node(self, index: ModelIndex) -> TreeNode:
        """The node behind ``index`` (the invisible root for an invalid index)."""
        if not index.isValid():
            return self._root
        return self._registry.get(index.internalId(), self._dead)

    def _key(self, node: TreeNode) -> int:
        self._registry[node.key] = node
        return node.key

    def index_of(self, node: TreeNode, column: int = 0) -> QModelIndex:
        """The index of ``node`` (invalid for the root or a node not in the visible tree)."""
        if node is self._root or node.parent is None or not self._exposed(node):
            return QModelIndex()
        return self.createIndex(node.position(), column, self._key(node))

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
        node = self._registry.get(key, self._dead)
        return bool(node.children) or (node.expandable and node.state in _MAY_HAVE_CHILDREN)

    def canFetchMore(self, parent: ModelIndex) -> bool:
        if not parent.isValid():
            return False
        node = self.node(parent)
        return node.expandable and node.state is LoadState.UNLOADED and self._service is not None

    def fetchMore(self, parent: ModelIndex) -> None:
        if not self.canFetchMore(parent):
            return
        self._start_load(self.node(parent), user=False)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(render.COLUMNS):
            return render.COLUMNS[section]
        return None

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
        if role == Qt.ItemDataRole.DisplayRole:
            return render.cell_text(node, col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == render.COL_NAME:
                return render.node_icon(node)
            if col == render.COL_STATUS:
                return render.status_icon(node)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if node.type is NodeType.ERROR:
                return QBrush(render.SEVERITY_COLOURS[node.severity])
            if col == render.COL_STATUS and node.severity in render.SEVERITY_COLOURS:
                return QBrush(render.SEVERITY_COLOURS[node.severity])
            return None
        if role == Qt.ItemDataRole.FontRole and node.type in (NodeType.LOADING, NodeType.NOTE):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return render.tooltip(node)
        return None

    # ------------------------------------------------------------------ tree surgery (signals only when visible)

    def _attached(self, node: TreeNode) -> bool:
        n: TreeNode | None = node
        while n is not None and n is not self._root:
            n = n.parent
        return n is self._root

    def _is_live(self, node: TreeNode, generation: int) -> bool:
        """Whether results for ``node`` loaded at ``generation`` still belong in the tree."""
        if node.generation != generation:
            return False
        n: TreeNode | None = node
        while n is not None and n.type is not NodeType.CONTEXT:
            n = n.parent
        return n is not None and self._contexts.get(n.context) is n

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
            self.beginInsertRows(self.index_of(parent), at, at + entering - 1)
            parent.add_children(nodes, at)
            parent.shown = shown  # only now: until endInsertRows views must still count the rows as before
            self.endInsertRows()
            self._changing -= 1
        else:
            parent.add_children(nodes, at)
            parent.shown = shown
        self.last_insert_at = time.monotonic()

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
            for node in root.walk():
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

    def _detach_subtree(self, node: TreeNode) -> None:
        registry = self._registry
        for n in node.walk():
            n.generation += 1
            registry.pop(n.key, None)
            if n.ref is not None:
                self.live.untrack(n)  # its watch must not outlive its place in the tree
            # Parent and children point at each other: unlinked, a removed subtree (a reloaded list, a forgotten
            # context) is freed as soon as the last reference goes, instead of waiting as cyclic garbage for a
            # full collection, which under a large tree is rare (the soak's memory growth).
            n.parent = None

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
            for col in range(_COLUMNS):
                cell = self.createIndex(row, col, key)
                self.dataChanged.emit(cell, cell)

    # ------------------------------------------------------------------ loading

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self.first_load_at is None:
            self.first_load_at = time.monotonic()
        was_idle = not self._tasks
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if was_idle:
            self.busy_changed.emit(True)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:
                # A bug, not a cluster failure: log it with its traceback and tell the user plainly.
                log.error("background load failed", exc_info=exc)
                self.load_failed.emit(KubeError(ErrorKind.UNKNOWN, "Internal error",
                                                f"An unexpected error occurred: {exc!r}",
                                                "Please report this with the log file."), False)
        self.activity.emit()
        if not self._tasks:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        """Whether any load is in flight."""
        return bool(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until no load is in flight (headless mode and tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def reset_timing(self) -> None:
        """Start a new load-time measurement."""
        self.first_load_at = None
        self.last_insert_at = None

    async def shutdown(self) -> None:
        """Stop every watch, cancel every load and wait for the tasks to end (window closing)."""
        await self.live.shutdown()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        # Unlinked, the trees are freed with the model instead of staying behind as cyclic garbage, a node per row,
        # for a later collection to find in the middle of the next window's (or test's) load.
        self._drop_trees()

    def _start_load(self, node: TreeNode, *, user: bool, demand: bool = True) -> None:
        if node.state is LoadState.LOADING or self._service is None:
            return
        node.state = LoadState.LOADING
        node.demand_load = demand
        gen = node.generation
        if node.type is NodeType.CONTEXT:
            self._spawn(self._load_context(node, gen, user))
        elif node.type is NodeType.GROUP:
            node.mark_loaded()
            self._structural(self._load_lists, node.children, user=user)
        elif node.type is NodeType.OBJECT and node.kind is not None and node.kind.children == (
                "categories", "namespace"):
            self._structural(self._open_namespace, node, user=user)
        else:
            if demand or node.expanded:
                if not node.revealed:
                    self._structural(self._reveal, node)
                # The placeholder shows at once; the coroutine replaces it with the first page.
                self._structural(self._show_loading, node)
            elif not node.children and node.type is NodeType.LIST:
                node.revealed, node.shown = False, 0  # loaded for its count: views see its rows once opened
            self._spawn(self._load_list(node, gen, user, demand))

    def _show_loading(self, node: TreeNode) -> None:
        """A "Loading…" row under a list being loaded that has no rows yet (checked when it runs: deferred, the
        first rows may have come first)."""
        if node.state is LoadState.LOADING and not node.children and node.expandable:
            self._insert(node, [loading_node(node.context)])

    def _structural(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Change the tree now, or on the next loop turn if another change is being announced.

        ``fetchMore`` may be called from inside a ``rowsAboutToBeInserted`` handler (Qt's model tester does so),
        and model changes must never nest.
        """
        if self._changing:
            self._spawn(self._later(fn, *args, **kwargs))
        else:
            fn(*args, **kwargs)

    async def _later(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run a deferred structural change (see :meth:`_structural`)."""
        fn(*args, **kwargs)

    def _load_lists(self, nodes: Iterable[TreeNode], *, user: bool) -> None:
        """Load lists whose folders are not open yet (to show their counts): prefetches, not cache lookups."""
        for n in nodes:
            if n.type is NodeType.LIST and n.state is LoadState.UNLOADED:
                self._start_load(n, user=user, demand=False)

    def _open_namespace(self, node: TreeNode, *, user: bool) -> None:
        """A namespace shows its categories at once and counts every kind in parallel."""
        ns = node.row.name if node.row is not None else node.label
        groups: list[TreeNode] = []
        for category, keys in NAMESPACE_CATEGORIES:
            g = TreeNode(NodeType.GROUP, category.value, context=node.context, namespace=ns,
                         state=LoadState.LOADED)
            g.add_children([list_node(KINDS[k], node.context, ns) for k in keys])
            groups.append(g)
        self._replace_children(node, groups)
        node.mark_loaded()
        for g in groups:
            self._load_lists(g.children, user=user)

    async def _load_context(self, node: TreeNode, gen: int, user: bool) -> None:
        svc = self._service
        assert svc is not None
        ctx = node.context
        self._replace_children(node, [loading_node(ctx)])
        top_kinds = ("nodes", "namespaces", *CLUSTER_RESOURCE_KINDS)
        # Start the top-level lists now, in parallel with the version request: the list nodes created below join
        # these in-flight requests instead of waiting a round trip.
        warm = [asyncio.ensure_future(svc.list_all(ListRef(ctx, k), demand=False)) for k in top_kinds]
        try:
            version = await svc.version(ctx)
        except KubeError as e:
            if e.kind in CONTEXT_FATAL:
                for w in warm:
                    w.cancel()
                await asyncio.gather(*warm, return_exceptions=True)
                if self._is_live(node, gen):
                    self._fail(node, e, user)
                return
            version = ""  # e.g. /version forbidden: the lists will say what is wrong
        finally:
            for w in warm:
                # Their outcome reaches the tree through the list nodes; only keep errors from being "never
                # retrieved".
                w.add_done_callback(lambda f: f.cancelled() or f.exception())
        if not self._is_live(node, gen):
            return
        node.status = version
        self._changed(node)
        cluster = TreeNode(NodeType.GROUP, "Cluster resources", context=ctx, state=LoadState.LOADED)
        cluster.add_children([list_node(KINDS[k], ctx, None) for k in CLUSTER_RESOURCE_KINDS])
        top = [list_node(KINDS["nodes"], ctx, None), list_node(KINDS["namespaces"], ctx, None), cluster]
        self._replace_children(node, top)
        node.mark_loaded()
        # Only the context's own failure is the user's action; a list the user may not see stays an inline row.
        self._load_lists([top[0], top[1], *cluster.children], user=False)

    async def _resolve_ref(self, node: TreeNode) -> ListRef | None:
        """The list an expandable object's children come from (its pods, the pods on a node, CRD objects)."""
        svc = self._service
        assert svc is not None and node.kind is not None and node.row is not None
        mode = node.kind.children
        ctx, name, ns = node.context, node.row.name, node.row.namespace
        if mode == ("pods", "node"):
            return ListRef(ctx, "pods", None, field_selector=f"spec.nodeName={name}")
        if mode == ("pods", "selector"):
            obj = await svc.get(ctx, node.kind.key, ns, name)
            sel = selector_of(obj)
            return ListRef(ctx, "pods", ns, label_selector=sel) if sel else None
        if mode == ("custom", "crd"):
            for k in await svc.custom_kinds(ctx):
                if k.key == name:
                    return ListRef(ctx, k.key, None)
            return None
        return None

    def _kind_of(self, ref: ListRef) -> Kind:
        assert self._service is not None
        return self._service.kind(ref.context, ref.kind)

    async def _load_list(self, node: TreeNode, gen: int, user: bool, demand: bool = True) -> None:
        svc = self._service
        assert svc is not None
        ctx = node.context
        if any(c.type is not NodeType.LOADING for c in node.children):
            await self._reload_list(node, gen, user, demand)
            return
        if demand or node.expanded:
            self._show_loading(node)
        try:
            if node.ref is None:
                node.ref = await self._resolve_ref(node)
                if not self._is_live(node, gen):
                    return
                if node.ref is None:
                    self._replace_children(node, [note_node("Selects no pods (no selector).", ctx)])
                    node.mark_loaded()
                    return
            ref = node.ref
            kind = self._kind_of(ref)
            placeholder = True
            count = 0
            pending: list[Row] = []
            async for page in svc.list(ref, demand=demand):
                if not self._is_live(node, gen):
                    return
                node.list_rv = page.resource_version or node.list_rv
                if placeholder:
                    self._clear_children(node)
                    placeholder = False
                count += len(page.rows)
                node.count = count if page.last else count + (page.remaining or 0)
                self._changed(node)
                pending += page.rows
                if self._rows_due(node, len(pending)):
                    rows, pending = pending, []
                    await self._append_rows(node, gen, rows, kind)
            if not self._is_live(node, gen):
                return
            if pending:
                await self._append_rows(node, gen, pending, kind)
                if not self._is_live(node, gen):
                    return
            if placeholder:
                self._clear_children(node)
            node.count = count
            node.note = ""
            self._changed(node)
            node.mark_loaded()
            self.last_insert_at = time.monotonic()
            self.live.track(node)
        except KubeError as e:
            if self._is_live(node, gen):
                self._fail(node, e, user)

    def _rows_due(self, node: TreeNode, rows: int) -> bool:
        """Whether ``rows`` rows held back for a loading ``node`` should be inserted now.

        Every insert that views see under an expanded row costs a layout of all the row's shown rows and a repaint
        (together 30-50 ms for 2,000 rows). So a list open in a view gets its first rows at once, then the rest
        of its shown window in one insert, and after that rows as they come (views do not see them). A list no
        view has open costs no layout: its rows go in as they come.
        """
        if not node.children or not node.expanded:
            return True
        room = node.shown - len(node.children)
        return room <= 0 or rows >= room

    async def _append_rows(self, node: TreeNode, gen: int, rows: list[Row], kind: Kind) -> None:
        """Append rows, giving the event loop a turn every :attr:`insert_batch` rows so the window stays smooth.

        Building a row's node costs a few microseconds, so nodes are built :attr:`insert_batch` at a time, one
        loop turn each; they are inserted as :meth:`_rows_due` says (a list open in a view gets the rest of its
        shown window in one insert).
        """
        ctx = node.context
        batch: list[TreeNode] = []
        for start in range(0, len(rows), self.insert_batch):
            if start:
                await asyncio.sleep(0)
                if not self._is_live(node, gen):
                    return
            batch += [object_node(r, kind, ctx) for r in rows[start:start + self.insert_batch]]
            if self._rows_due(node, len(batch)):
                self._insert(node, batch)
                batch = []
        if batch:
            self._insert(node, batch)

    async def _list_rows(self, ref: ListRef, demand: bool) -> tuple[list[Row], str, bool]:
        """A whole list: (rows, resourceVersion, served from the cache)."""
        assert self._service is not None
        rows: list[Row] = []
        rv, cached = "", True
        async for page in self._service.list(ref, demand=demand):
            rows.extend(page.rows)
            rv = page.resource_version or rv
            cached = cached and page.from_cache
        return rows, rv, cached

    async def _reload_list(self, node: TreeNode, gen: int, user: bool, demand: bool = True) -> None:
        """Re-list a loaded node and reconcile its rows in place (expansion and selection survive)."""
        svc = self._service
        assert svc is not None and node.ref is not None
        try:
            rows, rv, _ = await self._list_rows(node.ref, demand)
        except KubeError as e:
            if not self._is_live(node, gen):
                return
            if any(c.type is NodeType.OBJECT for c in node.children):
                # Keep what the user sees; say the refresh failed.
                node.note = f"refresh failed: {e.title}"
                node.mark_loaded()
                self._changed(node)
                self.load_failed.emit(e, user)
            else:
                self._fail(node, e, user)
            return
        if not self._is_live(node, gen):
            return
        self.reconcile(node, rows, self._kind_of(node.ref))
        node.list_rv = rv
        node.note = ""
        node.mark_loaded()
        self._changed(node)
        self.live.track(node)

    # ------------------------------------------------------------------ what the user has open

    def set_expanded(self, node: TreeNode, expanded: bool) -> None:
        """The view opened or closed ``node``.

        Opening an already loaded list is a lookup like any other: it goes through the cache, so a list older than
        its TTL (and not kept current by a watch) is fetched again and reconciled in place, and the cache's hit
        rate counts what the user opened. Opening a list whose prefetch is still in flight joins that fetch.
        Opening a folder shows its closed lists' counts again: those older than their TTL are fetched again too.
        """
        was = node.expanded
        node.expanded = expanded
        if expanded and not node.revealed:
            self._structural(self._reveal, node)
        if expanded and not was:
            self._structural(self._show_loading, node)  # opened during its prefetch: "Loading…" until rows come
            self._revisit(node)

    def _revisit(self, node: TreeNode) -> None:
        """``node`` is open in view (again): look up what it shows through the cache — its rows for a list or an
        object, its closed lists' counts for a folder (:meth:`_recount`)."""
        if self._service is None:
            return
        if node.type in (NodeType.GROUP, NodeType.CONTEXT):
            self._recount(node)
            return
        if node.ref is None or node.type not in (NodeType.LIST, NodeType.OBJECT) or _stand_in(node):
            return
        if node.state is LoadState.LOADING and not node.demand_load:
            self._spawn(self._join(node.ref))
        elif node.state is LoadState.LOADED:
            self._spawn(self._revalidate(node, node.generation))

    def _recount(self, folder: TreeNode) -> None:
        """``folder`` shows its closed lists' counts: bring those older than their TTL up to date.

        Counted once when they were prefetched, they would otherwise stay as they were until a Refresh, however long
        the folder stayed closed. Within their TTL the cache answers and nothing is fetched. These are prefetches,
        not lookups: the lists themselves are not opened.
        """
        for n in folder.children:
            if n.type is NodeType.LIST and n.ref is not None and not n.expanded and n.state is LoadState.LOADED \
                    and not _stand_in(n):
                self._spawn(self._revalidate(n, n.generation, demand=False))

    async def _join(self, ref: ListRef) -> None:
        # The rows arrive through the prefetch already filling the node; this only joins it as the user's lookup.
        with contextlib.suppress(KubeError):
            await self._list_rows(ref, True)

    async def _revalidate(self, node: TreeNode, gen: int, demand: bool = True) -> None:
        assert node.ref is not None
        try:
            rows, rv, cached = await self._list_rows(node.ref, demand)
        except KubeError as e:
            if self._is_live(node, gen):
                node.note = f"could not update: {e.title}"
                self._changed(node)
            return
        if not self._is_live(node, gen) or node.state is not LoadState.LOADED:
            return
        if cached and rv and rv == node.list_rv:
            return  # exactly what the tree shows
        self.reconcile(node, rows, self._kind_of(node.ref))
        node.list_rv = rv
        node.note = ""
        node.mark_loaded()
        self._changed(node)

    def apply_changes(self, node: TreeNode, changes: Iterable[tuple[str, Row]], kind: Kind) -> None:
        """Apply a few row changes (coalesced watch events) to a loaded list in place.

        A list's rows are in the API server's order (etcd key order: namespace/name), so rows are found and new rows
        placed by binary search: a change costs O(log n) plus its own signal, never a pass over a 5,000-row list as
        :meth:`reconcile` makes (that is what keeps a churning list smooth). Changed rows keep their node and emit
        ``dataChanged``; deleted rows are removed, new rows inserted where a re-list would put them.

        Args:
            node: A loaded list whose children are all object rows.
            changes: ``(type, row)`` with type ``ADDED``, ``MODIFIED`` or ``DELETED``; at most one per uid.
            kind: The rows' kind (for new nodes).
        """
        children = node.children

        def find(r: Row, scan: bool) -> int:
            k = row_order(r)
            i = bisect.bisect_left(children, k, key=_child_order)
            while i < len(children) and _child_order(children[i]) == k:
                row = children[i].row
                if row is not None and row.uid == r.uid:
                    return i
                i += 1
            if scan:  # not where the order says (a server with another order): look everywhere, once
                for j, c in enumerate(children):
                    if c.row is not None and c.row.uid == r.uid:
                        return j
            return -1

        for etype, r in changes:
            i = find(r, scan=etype != "ADDED")
            if etype == "DELETED":
                if i >= 0:
                    self._remove(node, i, i)
            elif i >= 0:
                c = children[i]
                if c.row != r:
                    c.row = r
                    c.label = r.name
                    c._pos = i  # known: spares position() a renumbering after earlier inserts and removals
                    self._changed(c)
            else:
                i = bisect.bisect_right(children, row_order(r), key=_child_order)
                self._insert(node, [object_node(r, kind, node.context)], at=i)
        node.count = len(children)

    def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None:
        """Make ``node``'s children match ``rows`` with minimal changes.

        Rows whose uid is unchanged keep their node (so their expansion and selection survive) and only emit
        ``dataChanged`` when their content changed; vanished rows are removed, new rows inserted in place.
        """
        wanted = {r.uid for r in rows}
        children = node.children

        def keep(c: TreeNode) -> bool:
            return c.type is NodeType.OBJECT and c.row is not None and c.row.uid in wanted

        # 1. Remove non-object rows and vanished objects, in contiguous ranges from the end.
        i = len(children) - 1
        while i >= 0:
            if keep(children[i]):
                i -= 1
                continue
            j = i
            while j - 1 >= 0 and not keep(children[j - 1]):
                j -= 1
            self._remove(node, j, i)
            i = j - 1
        existing = {c.row.uid: c for c in node.children if c.row is not None}
        # 2. Walk the wanted order: update in place, insert runs of new rows, move the rare reordered row.
        i = 0
        while i < len(rows):
            r = rows[i]
            cur = node.children[i] if i < len(node.children) else None
            if cur is not None and cur.row is not None and cur.row.uid == r.uid:
                if cur.row != r:
                    cur.row = r
                    cur.label = r.name
                    self._changed(cur)
                i += 1
                continue
            moved = existing.get(r.uid)
            if moved is None:
                j = i
                while j < len(rows) and rows[j].uid not in existing:
                    j += 1
                self._insert(node, [object_node(x, kind, node.context) for x in rows[i:j]], at=i)
                i = j
                continue
            src = moved.position()  # > i: the rows before i are settled
            exposed = self._exposed(node)
            if src < node.shown:  # a move inside the shown window
                if exposed:
                    pidx = self.index_of(node)
                    self.beginMoveRows(pidx, src, src, pidx, i)
                node.children.insert(i, node.children.pop(src))
                if exposed:
                    self.endMoveRows()
            elif i < node.shown:
                # A waiting row moves into the shown window: for views it is an insertion, and the window grows
                # by one so the last shown row stays shown.
                if exposed:
                    self.beginInsertRows(self.index_of(node), i, i)
                node.children.insert(i, node.children.pop(src))
                node.shown += 1
                if exposed:
                    self.endInsertRows()
            else:
                node.children.insert(i, node.children.pop(src))
            if moved.row != r:
                moved.row = r
                self._changed(moved)
        node.count = len(rows)

    def _fail(self, node: TreeNode, error: KubeError, user: bool) -> None:
        ctx = node.context
        error.detached()  # kept on the node and by the error dialog: no frames attached
        if node.type is NodeType.LIST and node.kind is KINDS["namespaces"] and error.kind is ErrorKind.FORBIDDEN:
            self._partial_namespaces(node, error)
            return
        # A node that already showed this very error (retry, refresh) does not announce it again.
        repeated = any(c.error is not None and c.error.identity == error.identity for c in node.children)
        node.count = None
        self._replace_children(node, [error_node(error, ctx)])
        self._reveal(node)  # an error row is rare and must be reachable (retry) even under a list never opened
        node.state = LoadState.FAILED
        self._changed(node)
        self.load_failed.emit(error, user and not (repeated and node.type is not NodeType.CONTEXT))

    def _partial_namespaces(self, node: TreeNode, error: KubeError) -> None:
        """Listing namespaces is forbidden: show the ones the user can reach, and say the list is partial."""
        ctx = node.context
        names: list[str] = []
        default_ns = self._default_namespace(ctx)
        for ns in [default_ns, *self.accessible_namespaces(ctx)]:
            if ns and ns not in names:
                names.append(ns)
        kind = KINDS["namespaces"]
        rows = [object_node(Row(uid=f"ns/{n}", name=n, namespace=None, kind=kind.key), kind, ctx) for n in names]
        note = note_node(f"Partial list — {error.one_line()} Showing your default namespace and those listed "
                         "in Settings → Accessible namespaces.", ctx)
        self._replace_children(node, [note, *rows])
        node.count = len(rows)
        node.mark_loaded()
        self._changed(node)

    def _default_namespace(self, context: str) -> str | None:
        if self._service is None:
            return None
        try:
            return self._service.kubeconfig.context(context).namespace
        except KubeError:
            return None

    # ------------------------------------------------------------------ user actions

    def retry(self, index: ModelIndex) -> None:
        """Retry the load an error row (or any loaded node) stands for."""
        node = self.node(index)
        target = node.parent if node.type in (NodeType.ERROR, NodeType.NOTE) else node
        if target is None or target.type is NodeType.ROOT:
            return
        self.reload_node(target, user=True)

    def reload_node(self, node: TreeNode, *, user: bool = True, demand: bool = True) -> None:
        """Reload one node: a failed node from scratch, a loaded list in place."""
        if node.state is LoadState.LOADING or not node.expandable:
            return
        svc = self._service
        if svc is not None and node.ref is not None:
            svc.invalidate(context=node.context, kind=node.ref.kind, namespace=node.ref.namespace)
        if node.state is LoadState.FAILED or node.type is NodeType.CONTEXT:
            node.generation += 1
            self._clear_children(node)
            node.state = LoadState.UNLOADED
            self._start_load(node, user=user, demand=demand)
        elif node.type is NodeType.GROUP or (node.kind is KINDS["namespaces"] and node.type is NodeType.OBJECT):
            for child in node.children:
                self.reload_node(child, user=user, demand=child.expanded)
        elif node.state is LoadState.LOADED:
            node.state = LoadState.UNLOADED
            self._start_load(node, user=user, demand=demand)

    def refresh(self, context: str | None = None) -> bool:
        """Invalidate ``context``'s cache and reload every loaded node of its tree, in place.

        Presses while a refresh of the same context is in flight are coalesced into it.

        Returns:
            False when the refresh was coalesced into one already running.
        """
        context = context or self.current_context
        if context is None or self._service is None:
            return False
        if context in self._refreshing:
            return False
        root = self._contexts.get(context)
        if root is None:
            return False
        self._refreshing.add(context)
        self._service.invalidate(context=context)
        self._spawn(self._refresh(root))
        return True

    async def _refresh(self, root: TreeNode) -> None:
        try:
            if root.state in (LoadState.FAILED, LoadState.UNLOADED):
                self.reload_node(root, user=True)
            else:
                svc = self._service
                assert svc is not None
                with contextlib.suppress(KubeError):
                    root.status = await svc.version(root.context)
                    self._changed(root)
                for n in root.walk():
                    if n.type in (NodeType.LIST, NodeType.OBJECT) and n.state in (LoadState.LOADED,
                                                                                  LoadState.FAILED):
                        if n.type is NodeType.OBJECT and n.ref is None:
                            continue
                        # What is open is reloaded for the user; closed lists only keep their counts current.
                        self.reload_node(n, user=True, demand=n.expanded)
            await self.wait_for(root)
        finally:
            self._refreshing.discard(root.context)

    async def wait_for(self, root: TreeNode) -> None:
        """Wait until no node under ``root`` is loading."""
        while any(n.state is LoadState.LOADING for n in root.walk()):
            others = {t for t in self._tasks if t is not asyncio.current_task()}
            if not others:
                break
            await asyncio.wait(others, return_when=asyncio.FIRST_COMPLETED)

    def find(self, path: str | Iterable[str]) -> TreeNode | None:
        """The node at a slash-separated path of base labels below the context root (``Namespaces/team-a``)."""
        parts = [p for p in path.split("/") if p] if isinstance(path, str) else list(path)
        node = self.context_node()
        for part in parts:
            if node is None:
                return None
            node = next((c for c in node.children if (c.row.name if c.row is not None else c.label) == part),
                        None)
        return node


def _stand_in(node: TreeNode) -> bool:
    """A list shown in place of one that could not be listed (namespaces one may not list, a selector-less object):
    there is nothing to look up for it."""
    return any(c.type is NodeType.NOTE for c in node.children)


def row_order(row: Row) -> str:
    """Where a row sits in a list: the API server returns lists in etcd key order (``namespace/name``)."""
    return f"{row.namespace}/{row.name}" if row.namespace else row.name


def _child_order(node: TreeNode) -> str:
    return row_order(node.row) if node.row is not None else ""
