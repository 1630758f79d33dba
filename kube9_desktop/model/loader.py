"""Load orchestration of the cluster tree (Qt-free): what to fetch, when, and how results become rows.

:class:`TreeLoader` owns the context trees, the background tasks and the live watches; it changes the tree only
through a :class:`~kube9_desktop.model.ports.TreeSurface` (the Qt model, which announces each change to views).

How one expansion travels (one way only):

1. The view asks ``canFetchMore(index)``; the node is UNLOADED, so yes. ``fetchMore`` calls :meth:`start_load`,
   which marks it LOADING, inserts a "Loading…" child, schedules a coroutine on the event loop and returns at once.
2. The coroutine asks the :class:`~kube9_desktop.kube.service.KubeService` for the list; the service answers from
   its cache or streams pages fetched and parsed in its worker threads.
3. Each page replaces the placeholder / is appended in batches, yielding to the event loop between batches so the
   window keeps painting.
4. A failure arrives as a :class:`~kube9_desktop.kube.errors.KubeError` value and becomes an error row under the
   node plus a ``notify_failed`` call; nothing is thrown into the view.

What a node's children are comes from the tables in :mod:`.children`; rows are brought up to date by
:mod:`.reconcile`. Every task is referenced in ``_tasks`` until it finishes; results of a task whose node was reset
meanwhile (refresh, context switch, removal) are dropped by comparing the node's ``generation``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import KINDS, Kind
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model import children as child_tables
from kube9_desktop.model import reconcile as rec
from kube9_desktop.model.keep_current import KeepCurrent
from kube9_desktop.model.list_pages import ListPages
from kube9_desktop.model.live import LiveUpdates
from kube9_desktop.model.nodes import (
    LoadState,
    NodeType,
    TreeNode,
    child_at,
    error_node,
    loading_node,
    note_node,
    object_node,
    split_path,
)
from kube9_desktop.model.pinned_rows import PinnedRows
from kube9_desktop.model.pins import Pin
from kube9_desktop.model.ports import TreeSurface

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

#: Failures that make a whole context unusable: shown once, as the context's only child, not once per list.
CONTEXT_FATAL = frozenset({ErrorKind.UNREACHABLE, ErrorKind.DNS, ErrorKind.TIMEOUT, ErrorKind.TLS,
                           ErrorKind.UNAUTHORIZED, ErrorKind.KUBECONFIG, ErrorKind.EXEC_PLUGIN,
                           ErrorKind.PROTOCOL})


class LoadTiming:
    """Monotonic time of the first load since :meth:`reset` and of the last rows inserted (status bar, headless)."""

    def __init__(self) -> None:
        self.first_load_at: float | None = None
        self.last_insert_at: float | None = None

    def reset(self) -> None:
        """Start a new measurement."""
        self.first_load_at = None
        self.last_insert_at = None


#: The row under a partial Namespaces list that adds a namespace (the ``add-namespace`` command).
ADD_NAMESPACE_LABEL = "Add a namespace…"


class TreeLoader(KeepCurrent, PinnedRows, ListPages):
    """Context → categories → namespaces → resources: decides what to load and applies the results.

    What keeps the tree current once loaded (revisits, recounts, reloads, Refresh, reveal) is
    :class:`~kube9_desktop.model.keep_current.KeepCurrent`; how a list's pages become rows is
    :class:`~kube9_desktop.model.list_pages.ListPages`.

    Attributes:
        root: The invisible root; its only child is the context shown.
        contexts: Every context tree opened so far (kept, so switching back is instant).
        live: Watches of the lists the user has open (issue 8).
        timing: Load-time measurement.
        accessible_namespaces: Settings → the namespaces to show a user who may not list them.
        discover_ahead: Whether opening the namespaces starts the context's discovery before a namespace is opened
            (the window's; ``--print-tree`` prints the tree it loaded and opens nothing after it).
        insert_batch: Rows built per loop turn while a list arrives (:class:`ListPages`).
    """

    def __init__(self, surface: TreeSurface) -> None:
        self._surface = surface
        self.root = TreeNode(NodeType.ROOT, "")
        self.contexts: dict[str, TreeNode] = {}
        self._service: KubeService | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        #: Tasks that are a node's first load: (node, its generation then, asked for by the user).
        self._owners: dict[asyncio.Future[Any], tuple[TreeNode, int, bool]] = {}
        self._refreshing: set[str] = set()
        self.accessible_namespaces: Callable[[str], list[str]] = lambda context: []
        self.pins: Callable[[str], list[Pin]] = lambda context: []
        self.discover_ahead = True
        self.timing = LoadTiming()
        self.live = LiveUpdates(self)
        #: Objects whose parts are shown (a pod's containers), with the row they were fetched for.
        self._parts_rows: dict[TreeNode, Row] = {}

    # ------------------------------------------------------------------ state

    @property
    def service(self) -> KubeService | None:
        """The data service (``None`` until the app has created it)."""
        return self._service

    @service.setter
    def service(self, service: KubeService | None) -> None:
        self._service = service

    @property
    def changing(self) -> bool:
        """Whether the surface is announcing a change (structural changes wait for the next loop turn)."""
        return self._surface.changing

    def context_node(self) -> TreeNode | None:
        """The visible context root node (the root's rows also hold the "All clusters" row above it)."""
        return next((c for c in self.root.children if c.type is NodeType.CONTEXT), None)

    def attached(self, node: TreeNode) -> bool:
        """Whether ``node`` is in the tree shown."""
        n: TreeNode | None = node
        while n is not None and n is not self.root:
            n = n.parent
        return n is self.root

    def is_live(self, node: TreeNode, generation: int) -> bool:
        """Whether results for ``node`` loaded at ``generation`` still belong in the tree."""
        if node.generation != generation:
            return False
        n: TreeNode | None = node
        while n is not None and n.type is not NodeType.CONTEXT:
            n = n.parent
        return n is not None and self.contexts.get(n.context) is n

    def detached(self, node: TreeNode) -> None:
        """``node`` left the tree (the surface removed it): drop late results, stop its watch, unlink it."""
        node.generation += 1
        self._parts_rows.pop(node, None)
        if node.ref is not None:
            self.live.untrack(node)  # its watch must not outlive its place in the tree
        # Parent and children point at each other: unlinked, a removed subtree (a reloaded list, a forgotten
        # context) is freed as soon as the last reference goes, instead of waiting as cyclic garbage for a full
        # collection, which under a large tree is rare (the soak's memory growth).
        node.parent = None

    def find(self, path: str | Iterable[str]) -> TreeNode | None:
        """The node at a slash-separated path of base labels below the context root (``Namespaces/team-a``)."""
        parts = split_path(path)
        node = self.context_node()
        i = 0
        while i < len(parts):
            if node is None:
                return None
            node, i = child_at(node, parts, i)
        return node

    # ------------------------------------------------------------------ changes (all through the surface)

    def changed(self, node: TreeNode) -> None:
        """``node``'s own row changed."""
        self._surface.changed(node)

    def notify_activity(self) -> None:
        """Some load or watch changed state."""
        self._surface.notify_activity()

    def clear_children(self, node: TreeNode) -> None:
        """Remove every child of ``node``."""
        self._surface.remove(node, 0, len(node.children) - 1)

    def replace_children(self, node: TreeNode, nodes: list[TreeNode]) -> None:
        """Make ``nodes`` the children of ``node``."""
        self.clear_children(node)
        self._surface.insert(node, nodes)

    def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None:
        """Make ``node``'s children match ``rows`` — those of them that are its own, for an owner's drill-down — with
        minimal changes (:func:`.reconcile.reconcile`)."""
        rec.reconcile(self._surface, node, child_tables.picked(node, rows), kind)
        self._parts_follow(node)

    def apply_changes(self, node: TreeNode, changes: Iterable[tuple[str, Row]], kind: Kind) -> None:
        """Apply coalesced watch events in place (:func:`.reconcile.apply_changes`). Under an owner's drill-down, a
        row that is not (or no longer) the owner's counts as deleted."""
        match = node.match
        if match is not None:
            changes = [(t if t == "DELETED" or match(r) else "DELETED", r) for t, r in changes]
        rec.apply_changes(self._surface, node, changes, kind)
        self._parts_follow(node)

    def _parts_follow(self, parent: TreeNode) -> None:
        """Objects of ``parent`` open as parts (a pod's containers) whose row changed (a watch event, a re-list):
        their parts are fetched again (one GET each), so a container row never contradicts its pod's row."""
        for node, row in list(self._parts_rows.items()):
            if node.parent is parent and node.row is not row and node.state is LoadState.LOADED:
                self.reload_node(node, user=False, demand=False)

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, None], owner: TreeNode | None = None, *, user: bool = False) -> None:
        """Run ``coro`` as a referenced task (its failure is reported, never lost).

        Args:
            coro: The work.
            owner: The node whose first load ``coro`` is: a cluster failure (:class:`KubeError`) the coroutine let
                escape still ends as that node's own error row (a 403: "You cannot list …"), not "Internal error".
            user: Whether the user asked for the owner's load (its failure then opens a dialog).
        """
        if self.timing.first_load_at is None:
            self.timing.first_load_at = time.monotonic()
        was_idle = not self._tasks
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        if owner is not None:
            self._owners[task] = (owner, owner.generation, user)
        task.add_done_callback(self._task_done)
        if was_idle:
            self._surface.notify_busy(True)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        owner = self._owners.pop(task, None)
        if not task.cancelled():
            exc = task.exception()
            if isinstance(exc, KubeError):
                # A cluster failure not handled where it happened: a bug to fix (logged with its traceback), but
                # what the user is told is the failure itself, on the node it belongs to when there is one.
                log.error("background load let a cluster failure escape: %s", exc.one_line(), exc_info=exc)
                exc.detached()
                if owner is not None and self.is_live(owner[0], owner[1]):
                    self.structural(self.fail, owner[0], exc, owner[2])
                else:
                    self._surface.notify_failed(exc, False)
            elif exc is not None:
                # A bug, not a cluster failure: log it with its traceback and tell the user plainly.
                log.error("background load failed", exc_info=exc)
                self._surface.notify_failed(KubeError(ErrorKind.UNKNOWN, "Internal error",
                                                      f"An unexpected error occurred: {exc!r}",
                                                      "Please report this with the log file."), False)
        self._surface.notify_activity()
        if not self._tasks:
            self._surface.notify_busy(False)

    @property
    def busy(self) -> bool:
        """Whether any load is in flight."""
        return bool(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until no load is in flight (headless mode and tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def wait_for(self, root: TreeNode) -> None:
        """Wait until no node under ``root`` is loading."""
        while any(n.state is LoadState.LOADING for n in root.branches()):
            others = {t for t in self._tasks if t is not asyncio.current_task()}
            if not others:
                break
            await asyncio.wait(others, return_when=asyncio.FIRST_COMPLETED)

    async def shutdown(self) -> None:
        """Stop every watch, cancel every load and wait for the tasks to end."""
        await self.live.shutdown()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    def structural(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Change the tree now, or on the next loop turn if another change is being announced.

        ``fetchMore`` may be called from inside a ``rowsAboutToBeInserted`` handler (Qt's model tester does so),
        and model changes must never nest.
        """
        if self._surface.changing:
            self.spawn(self._later(fn, *args, **kwargs))
        else:
            fn(*args, **kwargs)

    async def _later(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run a deferred structural change (see :meth:`structural`)."""
        fn(*args, **kwargs)

    # ------------------------------------------------------------------ loading

    def start_load(self, node: TreeNode, *, user: bool, demand: bool = True) -> None:
        """Load ``node``'s children.

        Args:
            node: An UNLOADED expandable node.
            user: Whether the user asked for it (its failures then open a dialog).
            demand: Opened by the user (a lookup) rather than prefetched for a count.
        """
        if node.state is LoadState.LOADING or self._service is None:
            return
        node.state = LoadState.LOADING
        node.demand_load = demand
        gen = node.generation
        if node.type is NodeType.CONTEXT:
            self.spawn(self._load_context(node, gen, user), node, user=user)
        elif child_tables.is_pinned_group(node):
            if demand or node.expanded:
                self.structural(self._show_loading, node)
            self.spawn(self.load_pinned(node, gen, demand), node, user=user)
        elif node.type is NodeType.GROUP and child_tables.fills_from_discovery(node):
            self.spawn(self._open_discovered(node, gen, user, child_tables.cluster_dynamic), node, user=user)
        elif node.type is NodeType.GROUP:
            node.mark_loaded()
            self.structural(self._load_lists, node.children, user=user)
        elif child_tables.is_folder(node):
            self.structural(self._open_folder, node, user=user)
        elif child_tables.has_parts(node):
            self.spawn(self._load_parts(node, gen, user), node, user=user)
        else:
            if demand or node.expanded:
                if not node.revealed:
                    self.structural(self._surface.reveal, node)
                # The placeholder shows at once; the coroutine replaces it with the first page.
                self.structural(self._show_loading, node)
            elif not node.children and node.type is NodeType.LIST:
                node.revealed, node.shown = False, 0  # loaded for its count: views see its rows once opened
            self.spawn(self._load_list(node, gen, user, demand), node, user=user)

    def _show_loading(self, node: TreeNode) -> None:
        """A "Loading…" row under a list being loaded that has no rows yet (checked when it runs: deferred, the
        first rows may have come first)."""
        if node.state is LoadState.LOADING and not node.children and node.expandable:
            self._surface.insert(node, [loading_node(node.context)])

    def _load_lists(self, nodes: Iterable[TreeNode], *, user: bool) -> None:
        """Load lists whose folders are not open yet (to show their counts): prefetches, not cache lookups.

        Never-cached lists (Events) are left for when they are opened: a count fetched now would be stale at once
        and cost a full list on every visit.
        """
        lists = [n for n in nodes
                 if n.type is NodeType.LIST and n.state is LoadState.UNLOADED and not child_tables.opened_only(n)]
        if self._service is not None and len(lists) > 1:
            self._service.expect_lists(lists[0].context, len(lists))
        for n in lists:
            self.start_load(n, user=user, demand=False)

    def _open_folder(self, node: TreeNode, *, user: bool) -> None:
        """An object that opens as a folder (a namespace) shows its child nodes at once and counts its lists.

        What a folder holds depends on the kinds the server serves: known (cached discovery), it opens at once;
        else after discovery (a failed discovery falls back to the built-in table).
        """
        assert node.kind is not None and node.kind.children is not None
        build = child_tables.FOLDERS[node.kind.children]
        kinds = self._service.discovered(node.context) if self._service is not None else None
        if kinds is None and self._service is not None:
            self.spawn(self._open_discovered(node, node.generation, user, build), node, user=user)
            return
        self._fill_folder(node, build(node, kinds), user=user)

    async def _load_parts(self, node: TreeNode, gen: int, user: bool) -> None:
        """An object that opens as its own parts (a pod's containers): one GET of it, then its parts as rows.

        Parts shown already (a reload) are updated in place when they are the same parts, so a selected
        container row stays selected.
        """
        svc = self._service
        assert svc is not None and node.kind is not None and node.kind.children is not None
        if not node.children:
            self.structural(self._show_loading, node)
        row = node.row
        try:
            parts = await child_tables.PARTS[node.kind.children](svc, node)
        except KubeError as e:
            if self.is_live(node, gen):
                self.fail(node, e, user)
            return
        if not self.is_live(node, gen):
            return
        old = node.children
        if [c.row.uid if c.row is not None else None for c in old] == [p.row.uid if p.row else "" for p in parts]:
            for c, p in zip(old, parts, strict=True):
                if c.row != p.row:
                    c.row = p.row
                    self.changed(c)
        else:
            self.replace_children(node, parts)
        node.mark_loaded()
        if row is not None:
            self._parts_rows[node] = row
        self.changed(node)

    def _fill_folder(self, node: TreeNode, groups: list[TreeNode], *, user: bool) -> None:
        self.replace_children(node, groups)
        node.mark_loaded()
        # Lists in open sub-folders too (Custom resources → API group → kinds): counted like the others, and all in
        # one call, so their first requests go out together (KubeService.expect_lists).
        self._load_lists([n for g in groups for n in (g.walk() if g.state is LoadState.LOADED else [g])], user=user)

    async def _open_discovered(self, node: TreeNode, gen: int, user: bool,
                               build: child_tables.FolderBuilder) -> None:
        """Discover what the context serves, then fill ``node`` with what ``build`` makes of it."""
        svc = self._service
        assert svc is not None
        if not node.children:
            self.structural(self._show_loading, node)
        try:
            kinds: list[Kind] | None = await svc.discover(node.context)
        except KubeError as err:
            # Kinds are still listable from the built-in table; each list then says what is wrong.
            log.info("discovery for %s failed: %s", node.context, err.one_line())
            kinds = None
        if self.is_live(node, gen):
            self.structural(self._fill_folder, node, build(node, kinds), user=user)

    async def _load_context(self, node: TreeNode, gen: int, user: bool) -> None:
        svc = self._service
        assert svc is not None
        ctx = node.context
        self.replace_children(node, [loading_node(ctx)])
        # Start the top-level lists now, in parallel with the version request: the list nodes created below join
        # these in-flight requests instead of waiting a round trip.
        warm = [asyncio.ensure_future(svc.list_all(ListRef(ctx, k), demand=False))
                for k in child_tables.TOP_LIST_KINDS]
        try:
            version = await svc.version(ctx)
        except KubeError as e:
            if e.kind in CONTEXT_FATAL:
                for w in warm:
                    w.cancel()
                await asyncio.gather(*warm, return_exceptions=True)
                if self.is_live(node, gen):
                    self.fail(node, e, user)
                return
            version = ""  # e.g. /version forbidden: the lists will say what is wrong
        finally:
            for w in warm:
                # Their outcome reaches the tree through the list nodes; only keep errors from being "never
                # retrieved".
                w.add_done_callback(lambda f: f.cancelled() or f.exception())
        if not self.is_live(node, gen):
            return
        node.status = version
        self.changed(node)
        top = child_tables.context_children(ctx)
        if self.pins(ctx):
            top.insert(0, child_tables.pinned_group(ctx))
        self.replace_children(node, top)
        node.mark_loaded()
        # Only the context's own failure is the user's action; a list the user may not see stays an inline row.
        self._load_lists([n for t in top for n in (t, *t.children)], user=False)
        if child_tables.is_pinned_group(top[0]):
            self.start_load(top[0], user=False, demand=False)  # pinned to be at hand: their rows come at once

    def kind_of(self, ref: ListRef) -> Kind:
        """The kind a list's rows are (custom kinds included)."""
        assert self._service is not None
        return self._service.kind(ref.context, ref.kind)

    def fail(self, node: TreeNode, error: KubeError, user: bool) -> None:
        """``node`` could not be loaded: an error row (or a partial list) in place of its children."""
        ctx = node.context
        error.detached()  # kept on the node and by the error dialog: no frames attached
        if node.type is NodeType.LIST and node.kind is KINDS["namespaces"] and error.kind is ErrorKind.FORBIDDEN:
            self._partial_namespaces(node, error)
            return
        if error.kind is ErrorKind.FORBIDDEN and child_tables.across_namespaces(node):
            self._forbidden_everywhere(node, error)
            return
        # A node that already showed this very error (retry, refresh) does not announce it again.
        repeated = any(c.error is not None and c.error.identity == error.identity for c in node.children)
        node.count = None
        node.partial = False
        self.replace_children(node, [error_node(error, ctx)])
        self._surface.reveal(node)  # an error row is rare and must be reachable (retry) even under a closed list
        node.state = LoadState.FAILED
        self.changed(node)
        self._surface.notify_failed(error, user and not (repeated and node.type is not NodeType.CONTEXT))

    def _forbidden_everywhere(self, node: TreeNode, error: KubeError) -> None:
        """A list across all namespaces the user may not list: one quiet note in its place (the 403 in its tooltip
        and the details pane), no dialog — the user is expected to browse per namespace."""
        note = note_node(child_tables.forbidden_everywhere_note(node), node.context)
        note.error = error
        self.replace_children(node, [note])
        self._surface.reveal(node)
        node.count = None
        node.mark_loaded()
        self.changed(node)

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
        # The point first, and short enough to read whole in the tree; why (the 403) is in its tooltip and the
        # details pane (the note keeps the error). Right below it, the way in: a namespace the user names is checked
        # and remembered for the context (with no default namespace it is the only way in).
        if rows:
            note = note_node("Partial list — showing your default namespace and the namespaces you added", ctx)
        else:
            note = note_node("You may not list namespaces: add one you can use", ctx)
        note.error = error
        add = note_node(ADD_NAMESPACE_LABEL, ctx)
        add.command = "add-namespace"
        self.replace_children(node, [note, add, *rows])
        node.count = len(rows)
        node.mark_loaded()
        self.changed(node)

    def _default_namespace(self, context: str) -> str | None:
        """The namespace the context names (kubectl's fallback ``default`` is not shown to a user who may not
        list namespaces: it is rarely theirs)."""
        if self._service is None:
            return None
        try:
            info = self._service.kubeconfig.context(context)
        except KubeError:
            return None
        return info.namespace if info.namespace_set else None
