"""Plain-Python tree nodes: what the tree holds, independent of Qt.

The Qt model (:mod:`.tree_model`) only adapts these to ``QAbstractItemModel``; all structure and load state lives
here so it can be reasoned about (and tested) without Qt.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum, auto

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef, Row, Severity

_KEYS = itertools.count(1)
#: The children of every node that has none yet, one shared empty list, never changed (add_children replaces it):
#: a list of its own for each of 10,000 pod rows was 10,000 more objects for every collection of the young
#: generations to walk (a quarter of what a middle collection walked while a 10,000-pod namespace opened).
NO_CHILDREN: list[TreeNode] = []
LEAF_KEY_BIT = 1  # set in the key of a node that is never expandable (see TreeNode.key)
#: Children of one node shown to views at first; more as the user scrolls to the end (``ClusterTreeModel.show_more``).
#: QTreeView asks the Python model about every shown row on each layout (``index()`` and ``hasChildren()``, about
#: 8 µs a row), and a layout is followed by a repaint (20-30 ms): 2,000 rows keep the pair near 45 ms. A 50,000-row
#: list took 0.45 s per layout and froze the window for over a second; 5,000 rows made 70-110 ms stalls. With the
#: paint given a loop turn of its own, a 2,000-row layout (12-23 ms of the GUI thread at load 15) was the longest
#: turn left while a 10,000-pod namespace opened: 1,000 rows (stall_probe --ab rows1000, 4+4 windows, load 15-16):
#: longest stall median 185 -> 77 ms, the busiest turn's CPU median 22.9 -> 18.0 ms, worst 30.0 -> 19.9 ms.
#: With workers stepping aside for paints (kube.gui_gate), 500 rows (stall_probe --ab rows500, 8+8 windows, load
#: 5): the busiest turn's CPU median 41.7 -> 33.6 ms, worst 54.0 -> 48.1 ms. A screen shows ~30 rows; scrolling to
#: the 500th shows 500 more.
SHOW_ROWS = 500


class NodeType(Enum):
    """What a tree row is."""

    ROOT = auto()  # invisible root
    CONTEXT = auto()  # a kubeconfig context
    FLEET = auto()  # "All clusters": the top row, above the context; selecting it shows every context's health
    GROUP = auto()  # a static grouping ("Cluster resources", "Workloads")
    LIST = auto()  # a listable kind ("Pods (123)")
    OBJECT = auto()  # one resource
    CONTAINER = auto()  # one container of a pod (its parent): row.status is its state, row.cells its image
    ERROR = auto()  # a failed load, with retry
    LOADING = auto()  # "Loading…" placeholder
    NOTE = auto()  # an informational line ("partial list")


class LoadState(Enum):
    """Load state of an expandable node; ``canFetchMore`` is true only for UNLOADED."""

    UNLOADED = auto()
    LOADING = auto()
    LOADED = auto()
    FAILED = auto()


# Slots: an object row's attributes in a __dict__ were ~140 bytes more per row (50,000 pods: ~7 MB).
@dataclass(eq=False, slots=True, weakref_slot=True)
class TreeNode:
    """One row of the tree.

    Attributes:
        type: What the row is.
        label: The base label (``Pods``, an object name, an error message).
        context: The kubeconfig context the row belongs to.
        parent: The parent node (``None`` for the root).
        children: Child nodes in display order.
        state: Load state of expandable nodes.
        kind: LIST: the listed kind; OBJECT: the object's kind.
        namespace: The namespace the row is in or lists.
        ref: The list this node's children come from (LIST and expandable OBJECT nodes, once resolved).
        row: OBJECT: the object's row.
        error: ERROR: the failure.
        count: LIST: number of objects once known.
        status: CONTEXT: server version; NOTE/ERROR: unused.
        generation: Bumped whenever the node's children are reset, so late results of an older load are dropped.
        note: A short suffix note ("live updates paused — retrying").
        command: A NOTE row that offers an action: the command activating it runs (``add-namespace``).
        shown: How many children views see; the model exposes a long list a window at a time.
        revealed: Whether views have been told of the node's rows (see the field's comment).
        match: An owner's drill-down (a Deployment's ReplicaSets): which rows of ``ref`` — the child kind's whole
            list in the namespace, shared with the cache and the namespace's own list — are its children.
            ``None``: every row of ``ref``.
    """

    type: NodeType
    label: str
    context: str = ""
    parent: TreeNode | None = None
    #: Shared by every node that never had children (see :data:`NO_CHILDREN`); :meth:`add_children` gives a node
    #: a list of its own.
    children: list[TreeNode] = field(default_factory=lambda: NO_CHILDREN)
    state: LoadState = LoadState.UNLOADED
    kind: Kind | None = None
    namespace: str | None = None
    ref: ListRef | None = None
    row: Row | None = None
    error: KubeError | None = None
    count: int | None = None
    status: str = ""
    generation: int = 0
    note: str = ""
    #: NOTE rows that offer an action: the registry command activating the row runs (``add-namespace``).
    command: str = ""
    loaded_at: float = 0.0
    expanded: bool = False  # open in the view (the view reports it; headless modes set it as they expand)
    demand_load: bool = False  # the load in flight was asked for by opening this node (not a prefetch)
    list_rv: str = ""  # resourceVersion of the list the children came from
    #: A list whose later page failed: its rows are the pages that came (kept, with a note saying so), it is not
    #: watched (a watch would claim it current), and a revisit or Refresh lists it again in full.
    partial: bool = False
    shown: int = SHOW_ROWS  # children[:shown] are what views see (the rest wait for show_more)
    #: False for a list loaded (for its count) while no view had it open: views are told of none of its rows
    #: (``shown`` is 0) until it is opened. QTreeView repaints its whole viewport when a closed row gets its first
    #: children and lays out the whole tree again when any row anywhere is removed: a namespace opening its twenty
    #: lists made a dozen 25-40 ms repaints and relayouts for rows nobody could see.
    revealed: bool = True
    match: Callable[[Row], bool] | None = None
    #: The QModelIndex internalId: unique, and odd for rows that can never have children, so the model answers
    #: ``hasChildren()`` — asked for every shown row on each view layout — from the index alone, without looking
    #: the node up.
    key: int = field(default=0, init=False)
    _pos: int = 0

    def __post_init__(self) -> None:
        self.key = next(_KEYS) * 2 + (0 if self.expandable else LEAF_KEY_BIT)

    @property
    def expandable(self) -> bool:
        """Whether the row can have children (drives ``hasChildren``)."""
        if self.type in (NodeType.ROOT, NodeType.CONTEXT, NodeType.GROUP, NodeType.LIST):
            return True
        if self.type is NodeType.OBJECT:
            return bool(self.kind and self.kind.children)
        return False

    @property
    def hidden_rows(self) -> int:
        """Children not shown to views yet (a long list waiting for the user to scroll on)."""
        return max(0, len(self.children) - self.shown)

    @property
    def display_label(self) -> str:
        """The label as shown: lists carry their count once known (``Pods (123)``)."""
        if self.type is NodeType.LIST and self.count is not None:
            return f"{self.label} ({self.count})"
        if self.type is NodeType.CONTAINER and self.row is not None:
            role = self.row.cells.get("Role", "")
            marked = f"{self.label} ({role})" if role in ("init", "ephemeral") else self.label
            return f"{marked} · {self.row.cells.get('Image', '')}"
        return self.label

    @property
    def severity(self) -> Severity:
        """Colour class of the row's status."""
        if self.type is NodeType.ERROR:
            return Severity.ERROR
        if self.row is not None:
            return self.row.severity
        return Severity.NONE

    def position(self) -> int:
        """This node's index in its parent, O(1) in the common case.

        The position is cached; when the cache is stale (rows were removed before it), the parent's positions are
        renumbered once.
        """
        parent = self.parent
        if parent is None:
            return 0
        siblings = parent.children
        if self._pos < len(siblings) and siblings[self._pos] is self:
            return self._pos
        for i, child in enumerate(siblings):
            child._pos = i
        return self._pos

    def add_children(self, nodes: list[TreeNode], at: int | None = None) -> None:
        """Attach ``nodes`` at ``at`` (default: the end)."""
        if self.children is NO_CHILDREN:
            self.children = []
        start = len(self.children) if at is None else at
        for i, n in enumerate(nodes):
            n.parent = self
            n._pos = start + i
        self.children[start:start] = nodes

    def depth(self) -> int:
        """0 for the context root, 1 for its children, ..."""
        d, n = 0, self.parent
        while n is not None and n.type is not NodeType.ROOT:
            d += 1
            n = n.parent
        return d

    @property
    def segment(self) -> str:
        """This node's part of a tree path: its label, an object's name, or ``namespace/name`` for an object listed
        with other namespaces' objects ("All namespaces", the cluster's Events, "Pinned"), where names repeat."""
        row = self.row
        if row is None or self.type is not NodeType.OBJECT:
            return self.label
        parent = self.parent
        if row.namespace and parent is not None and parent.namespace is None:
            return f"{row.namespace}/{row.name}"
        return row.name

    def path(self) -> tuple[str, ...]:
        """Segments (:attr:`segment`) from below the root down to this node (identifies a node across reloads)."""
        parts: list[str] = []
        n: TreeNode | None = self
        while n is not None and n.type is not NodeType.ROOT:
            parts.append(n.segment)
            n = n.parent
        return tuple(reversed(parts))

    def walk(self) -> list[TreeNode]:
        """This node and all descendants, depth first."""
        out: list[TreeNode] = []
        stack = [self]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(reversed(n.children))
        return out

    def branches(self) -> list[TreeNode]:
        """This node and its descendants less the plain object rows (no children, never loaded: a list's 10,000
        pods), depth first: what a look for lists, folders, messages or loads needs.

        A whole :meth:`walk` of a 10,000-pod tree is ~5 ms of the GUI thread, and the window made one several
        times per loop turn while a big namespace loaded (the usage panel's open lists, the loader's wait for a
        tree's loads): each of those turns was a stall.
        """
        out: list[TreeNode] = []
        stack = [self]
        obj, unloaded = NodeType.OBJECT, LoadState.UNLOADED
        while stack:
            n = stack.pop()
            out.append(n)
            if n.children:
                stack.extend([c for c in reversed(n.children)
                              if c.children or c.type is not obj or c.state is not unloaded])
        return out

    def mark_loaded(self) -> None:
        """Record a successful load."""
        self.state = LoadState.LOADED
        self.demand_load = False
        self.loaded_at = time.monotonic()


def split_path(path: str | Iterable[str]) -> list[str]:
    """A tree path's parts: a string is split at ``/`` (so ``namespace/name`` arrives as two parts, see
    :func:`child_at`), parts are taken as they are."""
    return [p for p in path.split("/") if p] if isinstance(path, str) else list(path)


def child_at(node: TreeNode, parts: list[str], i: int) -> tuple[TreeNode | None, int]:
    """The child of ``node`` that ``parts[i]`` names, and the index of the part after it.

    A child whose :attr:`~TreeNode.segment` is ``namespace/name`` is named by one part or, in a path split at
    ``/``, by two (``parts[i]`` and ``parts[i + 1]``).
    """
    part = parts[i]
    for c in node.children:
        if c.segment == part:
            return c, i + 1
    if i + 1 < len(parts) and node.namespace is None:
        joined = f"{part}/{parts[i + 1]}"
        for c in node.children:
            if c.segment == joined:
                return c, i + 2
    return None, i + 1


def object_node(row: Row, kind: Kind, context: str) -> TreeNode:
    """An OBJECT node for ``row``."""
    return TreeNode(NodeType.OBJECT, row.name, context=context, kind=kind, namespace=row.namespace, row=row)


def container_node(row: Row, context: str) -> TreeNode:
    """A CONTAINER row (a child of its pod's OBJECT row) for ``row`` (see ``kube/containers.py``)."""
    return TreeNode(NodeType.CONTAINER, row.name, context=context, namespace=row.namespace, row=row,
                    state=LoadState.LOADED)


def list_node(kind: Kind, context: str, namespace: str | None) -> TreeNode:
    """A LIST node listing ``kind`` in ``namespace`` (or cluster-wide)."""
    return TreeNode(NodeType.LIST, kind.label, context=context, kind=kind, namespace=namespace,
                    ref=ListRef(context, kind.key, namespace if kind.namespaced else None))


def error_node(error: KubeError, context: str) -> TreeNode:
    """An ERROR row for ``error``."""
    return TreeNode(NodeType.ERROR, error.one_line(), context=context, error=error, state=LoadState.LOADED)


def loading_node(context: str) -> TreeNode:
    """The "Loading…" placeholder."""
    return TreeNode(NodeType.LOADING, "Loading…", context=context, state=LoadState.LOADED)


def note_node(text: str, context: str) -> TreeNode:
    """An informational row."""
    return TreeNode(NodeType.NOTE, text, context=context, state=LoadState.LOADED)
