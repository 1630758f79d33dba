"""The cluster tree without Qt: the surface the loader changes it through, and the shown window of long lists.

:class:`TreeCore` is what the Qt model (:class:`~kube9_desktop.model.tree_model.ClusterTreeModel`) and the headless
tree (:class:`PlainTree`) have in common. It is the :class:`~kube9_desktop.model.ports.TreeSurface` of their
:class:`~kube9_desktop.model.loader.TreeLoader`: it inserts, removes, moves and changes rows, keeps long lists to a
shown window (``TreeNode.shown``, see ``SHOW_ROWS``) that grows as the user scrolls (:meth:`TreeCore.show_more`),
and hands everything else to the loader. Views are told of a change through four hooks that do nothing here
(:meth:`TreeCore._inserting`, :meth:`TreeCore._removing`, :meth:`TreeCore._moving`, :meth:`TreeCore._resetting`)
and which the Qt model makes its ``begin/end*Rows`` calls; they are only called for rows views can see
(:meth:`TreeCore._exposed`: none here).

``--print-tree`` and ``--run`` use :class:`PlainTree` on a plain asyncio loop: no Qt is imported at all, which was
~200 ms of a 0.4 s ``--print-tree`` process (issue 20, goal 2). The tree they load is the window's: the same loader,
the same shown-window bookkeeping (a list's rows are held back and inserted exactly as they are under a view).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import Row
from kube9_desktop.model.live import LiveUpdates
from kube9_desktop.model.loader import TreeLoader
from kube9_desktop.model.nodes import SHOW_ROWS, LoadState, NodeType, TreeNode
from kube9_desktop.model.pins import Pin

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

_NOTHING = contextlib.nullcontext()


class TreeCore:
    """Tree surgery within each list's shown window, and the loader's work handed to it (no Qt).

    A subclass sets ``_loader`` (a :class:`TreeLoader` whose surface is the subclass), ``_root`` and ``_contexts``
    (the loader's) and ``_changing`` (0) in its constructor; the Qt model overrides the hooks.
    """

    #: Rows a long list shows more of each time its last shown row scrolls into view (see SHOW_ROWS).
    show_step = SHOW_ROWS

    _root: TreeNode
    _loader: TreeLoader
    _contexts: dict[str, TreeNode]
    _changing: int  # > 0 while a change is being announced to views

    # ------------------------------------------------------------------ hooks: how views are told (none here)

    def _exposed(self, node: TreeNode) -> bool:
        """Whether views know ``node``'s rows (the Qt model: in the current tree, inside every ancestor's shown
        window). No view knows any here, so no hook below is called."""
        return False

    def _inserting(self, parent: TreeNode, first: int, last: int) -> ContextManager[object]:
        """Around rows ``first..last`` of ``parent`` entering views' sight."""
        return _NOTHING

    def _removing(self, parent: TreeNode, first: int, last: int) -> ContextManager[object]:
        """Around shown rows ``first..last`` of ``parent`` leaving."""
        return _NOTHING

    def _moving(self, parent: TreeNode, src: int, dst: int) -> ContextManager[object]:
        """Around the shown row ``src`` of ``parent`` moving to ``dst``."""
        return _NOTHING

    def _resetting(self) -> ContextManager[object]:
        """Around a change of the whole tree (another context shown, every tree dropped)."""
        return _NOTHING

    def _changed(self, node: TreeNode) -> None:
        """Tell views that ``node``'s own row changed (its cells)."""

    def _forget(self, node: TreeNode) -> None:
        """``node`` left the tree: views' handles on it go (the Qt model's index registry)."""

    def _top_rows(self) -> list[TreeNode]:
        """The rows above the context shown (the window's "All clusters")."""
        return []

    # ------------------------------------------------------------------ tree surgery within the shown windows

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
        with self._inserting(parent, at, at + entering - 1) if entering and self._exposed(parent) else _NOTHING:
            parent.add_children(nodes, at)
            parent.shown = shown  # only now: until the insert is announced, views must count the rows as before
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
        with self._inserting(node, first, first + more - 1) if self._exposed(node) else _NOTHING:
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
        with self._removing(parent, first, first + shown_removed - 1) \
                if shown_removed and self._exposed(parent) else _NOTHING:
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
            with self._moving(parent, src, dst) if exposed else _NOTHING:
                parent.children.insert(dst, parent.children.pop(src))
        elif dst < parent.shown:
            # A waiting row moves into the shown window: for views it is an insertion, and the window grows
            # by one so the last shown row stays shown.
            with self._inserting(parent, dst, dst) if exposed else _NOTHING:
                parent.children.insert(dst, parent.children.pop(src))
                parent.shown += 1
        else:
            parent.children.insert(dst, parent.children.pop(src))

    def _detach_subtree(self, node: TreeNode) -> None:
        for n in node.walk():
            self._forget(n)
            self._loader.detached(n)

    def _clear_children(self, node: TreeNode) -> None:
        self._remove(node, 0, len(node.children) - 1)

    def _replace_children(self, node: TreeNode, nodes: list[TreeNode]) -> None:
        self._clear_children(node)
        self._insert(node, nodes)

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

    def notify_failed(self, error: KubeError, user: bool) -> None:
        """A load failed (the Qt model emits a signal; headless reads errors from the tree)."""

    def notify_activity(self) -> None:
        """Some load or watch changed state."""

    def notify_busy(self, busy: bool) -> None:
        """Loads started / all loads finished."""

    # ------------------------------------------------------------------ wiring

    @property
    def loader(self) -> TreeLoader:
        """The load orchestration this tree shows."""
        return self._loader

    @property
    def live(self) -> LiveUpdates:
        """Watches of the lists the user has open (issue 8); the window and headless mode drive it."""
        return self._loader.live

    @property
    def service(self) -> KubeService | None:
        """The data service (``None`` until the app has created it)."""
        return self._loader.service

    def set_service(self, service: KubeService | None) -> None:
        """Use ``service`` from now on; every cached context tree is dropped."""
        self._loader.service = service
        self._drop_trees()

    @property
    def accessible_namespaces(self) -> Callable[[str], list[str]]:
        """Settings → the namespaces to show a user who may not list them."""
        return self._loader.accessible_namespaces

    @accessible_namespaces.setter
    def accessible_namespaces(self, fn: Callable[[str], list[str]]) -> None:
        self._loader.accessible_namespaces = fn

    @property
    def discover_ahead(self) -> bool:
        """Whether opening the namespaces starts discovery before a namespace is opened (see
        :meth:`~kube9_desktop.model.keep_current.KeepCurrent._discover_ahead`); a namespace opened still starts it."""
        return self._loader.discover_ahead

    @discover_ahead.setter
    def discover_ahead(self, on: bool) -> None:
        self._loader.discover_ahead = on

    @property
    def pins(self) -> Callable[[str], list[Pin]]:
        """Settings → a context's pins (shown in a "Pinned" group at the top of its tree)."""
        return self._loader.pins

    @pins.setter
    def pins(self, fn: Callable[[str], list[Pin]]) -> None:
        self._loader.pins = fn

    def update_pins(self, context: str) -> None:
        """``context``'s pins changed: show them (see :meth:`TreeLoader.update_pins`)."""
        self._loader.update_pins(context)

    @property
    def insert_batch(self) -> int:
        """Rows inserted per announced insert; the loop gets a turn between batches."""
        return self._loader.insert_batch

    @insert_batch.setter
    def insert_batch(self, rows: int) -> None:
        self._loader.insert_batch = rows

    @property
    def first_load_at(self) -> float | None:
        """Monotonic time of the first load since :meth:`reset_timing`."""
        return self._loader.timing.first_load_at

    @property
    def last_insert_at(self) -> float | None:
        """Monotonic time of the last rows inserted."""
        return self._loader.timing.last_insert_at

    def reset_timing(self) -> None:
        """Start a new load-time measurement."""
        self._loader.timing.reset()

    # ------------------------------------------------------------------ contexts

    def _drop_trees(self) -> None:
        """Forget every context's tree (views see an empty tree)."""
        with self._resetting():
            for ctx in self._contexts.values():
                self._detach_subtree(ctx)
            self._contexts.clear()
            self._root.children = []
            self._root.add_children(self._top_rows())

    @property
    def current_context(self) -> str | None:
        """The context shown, if any."""
        node = self.context_node()
        return node.context if node is not None else None

    def context_node(self) -> TreeNode | None:
        """The visible context root node."""
        return self._loader.context_node()

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
        with self._resetting():
            old = self.context_node()
            if old is not None:
                old.parent = None
            self._root.children = []
            self._root.add_children([*self._top_rows(), node])
        if old is not None and old is not node:
            # Hidden like a collapse: its watches stop after the grace period (the view re-expands it on return).
            self.live.note_collapsed(old)
        if node.state is LoadState.UNLOADED:
            self._loader.start_load(node, user=user)
        elif old is not node:
            # Showing a kept tree again: what is open in it is looked up again (hits while within their TTL), and
            # the counts it shows are brought up to date where older than their TTL.
            for n in node.walk():
                if n.expanded:
                    self._loader.revisit(n)
        return node

    def forget_context(self, name: str) -> None:
        """Drop the cached tree of ``name`` (e.g. after a kubeconfig reload)."""
        node = self._contexts.pop(name, None)
        if node is not None and node is self.context_node():
            with self._resetting():
                self._root.children = []
                self._root.add_children(self._top_rows())
        if node is not None:
            self._detach_subtree(node)

    # ------------------------------------------------------------------ loading (the loader's)

    def expand(self, node: TreeNode) -> None:
        """What a view does when the user opens ``node``'s row: load it if it never was, then report it open."""
        if node.expandable and node.state is LoadState.UNLOADED and self._loader.service is not None:
            self._loader.start_load(node, user=False)
        self.set_expanded(node, True)

    @property
    def busy(self) -> bool:
        """Whether any load is in flight."""
        return self._loader.busy

    async def wait_idle(self) -> None:
        """Wait until no load is in flight (headless mode and tests)."""
        await self._loader.wait_idle()

    async def wait_for(self, root: TreeNode) -> None:
        """Wait until no node under ``root`` is loading."""
        await self._loader.wait_for(root)

    async def shutdown(self) -> None:
        """Stop every watch, cancel every load and wait for the tasks to end (window closing, headless end)."""
        await self._loader.shutdown()
        # Unlinked, the trees are freed with the model instead of staying behind as cyclic garbage, a node per row,
        # for a later collection to find in the middle of the next window's (or test's) load.
        self._drop_trees()

    def set_expanded(self, node: TreeNode, expanded: bool) -> None:
        """The view opened or closed ``node`` (see :meth:`TreeLoader.set_expanded`)."""
        self._loader.set_expanded(node, expanded)

    def apply_changes(self, node: TreeNode, changes: Iterable[tuple[str, Row]], kind: Kind) -> None:
        """Apply a few row changes (coalesced watch events) to a loaded list in place."""
        self._loader.apply_changes(node, changes, kind)

    def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None:
        """Make ``node``'s children match ``rows`` with minimal changes."""
        self._loader.reconcile(node, rows, kind)

    def reload_node(self, node: TreeNode, *, user: bool = True, demand: bool = True) -> None:
        """Reload one node: a failed node from scratch, a loaded list in place."""
        self._loader.reload_node(node, user=user, demand=demand)

    def refresh(self, context: str | None = None) -> bool:
        """Invalidate ``context``'s cache and reload every loaded node of its tree, in place.

        Returns:
            False when the refresh was coalesced into one already running.
        """
        return self._loader.refresh(context)

    def find(self, path: str | Iterable[str]) -> TreeNode | None:
        """The node at a slash-separated path of base labels below the context root (``Namespaces/team-a``)."""
        return self._loader.find(path)


class PlainTree(TreeCore):
    """The cluster tree for headless modes (``--print-tree``, ``--run``): the window's loader and shown windows,
    on any asyncio loop, with nobody to tell of changes and no Qt imported."""

    def __init__(self) -> None:
        self._changing = 0
        self._loader = TreeLoader(self)
        self._root = self._loader.root
        self._contexts = self._loader.contexts
