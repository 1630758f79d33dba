"""Keeping what the tree shows current (Qt-free): a mixin of :class:`~kube9_desktop.model.loader.TreeLoader`.

What is shown goes back through the cache whenever it is shown again (:meth:`KeepCurrent.revisit`: a list's rows,
a folder's counts), Refresh and "reload this node" reconcile in place, and :meth:`KeepCurrent.reveal` opens a path
for a caller to select its end. The loading itself (pages, failures) is the loader's; this module decides when.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model import children as child_tables
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode, child_at, split_path
from kube9_desktop.model.ports import TreeSurface

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.live import LiveUpdates


class KeepCurrent:
    """Revisits, recounts, reloads, Refresh and reveal; mixed into ``TreeLoader``, whose state and loading it uses."""

    # What the loader provides (declared for type checkers; TreeLoader defines them).
    _service: KubeService | None
    _surface: TreeSurface
    _refreshing: set[str]
    discover_ahead: bool
    contexts: dict[str, TreeNode]
    live: LiveUpdates

    if TYPE_CHECKING:
        def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...
        def structural(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None: ...
        def start_load(self, node: TreeNode, *, user: bool, demand: bool = True) -> None: ...
        def _show_loading(self, node: TreeNode) -> None: ...
        def clear_children(self, node: TreeNode) -> None: ...
        def changed(self, node: TreeNode) -> None: ...
        def is_live(self, node: TreeNode, generation: int) -> bool: ...
        def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None: ...
        def kind_of(self, ref: ListRef) -> Kind: ...
        def context_node(self) -> TreeNode | None: ...
        async def wait_for(self, root: TreeNode) -> None: ...
        async def _list_rows(self, ref: ListRef, demand: bool) -> tuple[list[Row], str, bool]: ...
        async def load_pinned(self, group: TreeNode, gen: int, demand: bool) -> None: ...

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
            self.structural(self._surface.reveal, node)
        if expanded and not was:
            self.structural(self._show_loading, node)  # opened during its prefetch: "Loading…" until rows come
            self.revisit(node)
            if self.discover_ahead and node.type is NodeType.LIST and node.kind is not None \
                    and node.kind.children in child_tables.FOLDERS:
                self.spawn(self._discover_ahead(node.context))

    async def _discover_ahead(self, context: str) -> None:
        """Discovery started while the user looks at a list of folders (the namespaces), before one is opened.

        A namespace's folders depend on the kinds the server serves; unknown, opening one waited for discovery,
        which waits for the lists the user is waiting for (a namespace's first row took 270-620 ms on the
        150,000-pod cluster). Started here, it is usually in by the time a namespace is opened. Its failure is
        the folder's to handle when one opens (it falls back to the built-in kinds).
        """
        svc = self._service
        if svc is None or svc.discovered(context) is not None:
            return
        root = self.context_node()
        if root is not None and root.context == context:
            # After the tree's own loads: the namespaces list is in before the rest of the top level, and
            # discovery's ~20 requests then competed with those lists for the workers and the cores (issue 15
            # goal 1: the cold top level's median went from 29 to 44 ms in --print-tree, which opens the list).
            await self.wait_for(root)
            if svc.discovered(context) is not None:
                return
        with contextlib.suppress(KubeError):
            await svc.discover(context)

    def revisit(self, node: TreeNode) -> None:
        """``node`` is open in view (again): look up what it shows through the cache — its rows for a list or an
        object, its closed lists' counts for a folder (:meth:`_recount`)."""
        if self._service is None:
            return
        if child_tables.is_pinned_group(node):
            if node.state is LoadState.LOADED:
                self.spawn(self.load_pinned(node, node.generation, demand=True))
            return
        if node.type in (NodeType.GROUP, NodeType.CONTEXT):
            self._recount(node)
            return
        if child_tables.has_parts(node):
            if node.state is LoadState.LOADED:  # a pod's containers: its state now (one GET)
                self.reload_node(node, user=False)
            return
        if node.ref is None or node.type not in (NodeType.LIST, NodeType.OBJECT) or stand_in(node):
            return
        if node.state is LoadState.LOADING and not node.demand_load:
            self.spawn(self._join(node.ref))
        elif node.state is LoadState.LOADED:
            self.spawn(self._revalidate(node, node.generation))

    def _recount(self, folder: TreeNode) -> None:
        """``folder`` shows its closed lists' counts: bring those older than their TTL up to date.

        Counted once when they were prefetched, they would otherwise stay as they were until a Refresh, however long
        the folder stayed closed. Within their TTL the cache answers and nothing is fetched. These are prefetches,
        not lookups: the lists themselves are not opened.
        """
        for n in folder.children:
            if n.type is NodeType.LIST and n.ref is not None and not n.expanded and n.state is LoadState.LOADED \
                    and not stand_in(n) and not child_tables.opened_only(n):
                self.spawn(self._revalidate(n, n.generation, demand=False))

    async def _join(self, ref: ListRef) -> None:
        # The rows arrive through the prefetch already filling the node; this only joins it as the user's lookup.
        with contextlib.suppress(KubeError):
            await self._list_rows(ref, True)

    async def _revalidate(self, node: TreeNode, gen: int, demand: bool = True) -> None:
        assert node.ref is not None
        try:
            rows, rv, cached = await self._list_rows(node.ref, demand)
            kind = self.kind_of(node.ref)  # (raises too: a kind no longer known after a Refresh forgot discovery)
        except KubeError as e:
            if self.is_live(node, gen) and not node.partial:  # (a partial list's note already says to Refresh)
                node.note = f"could not update: {e.title}"
                self.changed(node)
            return
        if not self.is_live(node, gen) or node.state is not LoadState.LOADED:
            return
        if cached and rv and rv == node.list_rv:
            return  # exactly what the tree shows
        self.reconcile(node, rows, kind)
        node.list_rv = rv
        node.note = ""
        was_partial, node.partial = node.partial, False
        node.mark_loaded()
        self.changed(node)
        if was_partial:
            self.live.track(node)  # whole now: watched like any list loaded in full

    def open_node(self, node: TreeNode) -> None:
        """What a view does when it expands ``node`` without one (headless, :meth:`reveal`): load, mark open."""
        if node.expandable and node.state is LoadState.UNLOADED:
            self.start_load(node, user=False)
        self.set_expanded(node, True)

    async def reveal(self, path: str | Iterable[str],
                     open_node: Callable[[TreeNode], None] | None = None) -> tuple[TreeNode | None, int]:
        """Open every node along ``path`` (base labels below the context root), waiting for each to load.

        The caller then selects the node returned; a window passes ``open_node`` to expand its view's rows (the view
        reports the expansion back through ``fetchMore`` and :meth:`set_expanded`).

        Args:
            path: A slash-separated path (``Namespaces/team-a/Workloads/Pods/web-1``) or its parts.
            open_node: How to open one node (default :meth:`open_node`).

        Returns:
            The node at the end of the path (its ancestors open) or ``None``, and how many parts were found.
        """
        parts = split_path(path)
        opener = open_node or self.open_node
        node = self.context_node()
        found = 0
        i = 0
        while i < len(parts):
            if node is None:
                break
            opener(node)
            await self.wait_for(node)
            node, i = child_at(node, parts, i)
            if node is not None:
                found += 1
        return node, found

    # ------------------------------------------------------------------ user actions

    def reload_node(self, node: TreeNode, *, user: bool = True, demand: bool = True) -> None:
        """Reload one node: a failed node from scratch, a loaded list in place."""
        if not node.expandable:
            return
        if node.state is LoadState.LOADING:
            if node.type is not NodeType.LIST or not any(c.type is NodeType.OBJECT for c in node.children):
                return  # a first load in flight: it will bring what is there now
            # An in-place reload in flight started before the change that asks for this one (a second delete of
            # a multi-delete): its rows may predate that change, so they must not land (a Terminating row would
            # flip back to Running). Start over.
            node.generation += 1
            node.state = LoadState.LOADED
        svc = self._service
        if svc is not None and node.ref is not None:
            svc.invalidate(context=node.context, kind=node.ref.kind, namespace=node.ref.namespace)
        if child_tables.is_pinned_group(node):
            if node.state is LoadState.LOADED:  # its rows looked up again (what is open below them: by Refresh)
                self.spawn(self.load_pinned(node, node.generation, demand=demand))
            return
        if node.state is LoadState.FAILED or node.type is NodeType.CONTEXT:
            node.generation += 1
            self.clear_children(node)
            node.state = LoadState.UNLOADED
            self.start_load(node, user=user, demand=demand)
        elif node.type is NodeType.GROUP or child_tables.is_folder(node):
            for child in node.children:
                self.reload_node(child, user=user, demand=child.expanded)
        elif node.state is LoadState.LOADED:
            node.state = LoadState.UNLOADED
            self.start_load(node, user=user, demand=demand)

    def refresh(self, context: str | None = None) -> bool:
        """Invalidate ``context``'s cache and reload every loaded node of its tree, in place.

        Presses while a refresh of the same context is in flight are coalesced into it.

        Returns:
            False when the refresh was coalesced into one already running.
        """
        current = self.context_node()
        context = context or (current.context if current is not None else None)
        if context is None or self._service is None:
            return False
        if context in self._refreshing:
            return False
        root = self.contexts.get(context)
        if root is None:
            return False
        self._refreshing.add(context)
        self._service.invalidate(context=context)
        self.spawn(self._refresh(root))
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
                    self.changed(root)
                for n in root.walk():
                    if child_tables.is_pinned_group(n):
                        self.reload_node(n, user=True, demand=n.expanded)  # (only its rows: below, the rest)
                        continue
                    if n.type in (NodeType.LIST, NodeType.OBJECT) and n.state in (LoadState.LOADED,
                                                                                  LoadState.FAILED):
                        if n.type is NodeType.OBJECT and n.ref is None and not child_tables.has_parts(n):
                            continue
                        # What is open is reloaded for the user; closed lists only keep their counts current.
                        self.reload_node(n, user=True, demand=n.expanded)
            await self.wait_for(root)
        finally:
            self._refreshing.discard(root.context)


def stand_in(node: TreeNode) -> bool:
    """A list shown in place of one that could not be listed (namespaces one may not list, a selector-less object):
    there is nothing to look up for it."""
    note = NodeType.NOTE  # looked up once, not per row (an Enum member lookup each: see live._watchable)
    return any(c.type is note for c in node.children)
