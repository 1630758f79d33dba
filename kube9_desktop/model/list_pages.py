"""A list's pages becoming rows (Qt-free): a mixin of :class:`~kube9_desktop.model.loader.TreeLoader`.

A list is loaded page by page (:meth:`ListPages._load_list`): the first rows replace its "Loading…" row at once, the
rest of the rows views see follow in as few inserts as possible (each costs views a layout and a repaint), and rows
no view shows go in as they come. A loaded list is re-listed and reconciled in place (:meth:`ListPages._reload_list`).

A list whose later page fails (a timeout, a 500, a dropped connection after many pages came) keeps the rows it
shows, says so on its own row (:func:`partial_note`) and is not watched; a revisit or Refresh lists it again in full.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model import children as child_tables
from kube9_desktop.model import reconcile as rec
from kube9_desktop.model.live import LiveUpdates
from kube9_desktop.model.nodes import NodeType, TreeNode, note_node, object_node
from kube9_desktop.model.ports import TreeSurface

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.loader import LoadTiming


def partial_note(shown: int, error: KubeError, total: int | None = None) -> str:
    """The note on a list whose later page failed: how many rows it shows, why the rest is missing, what to do.

    Args:
        shown: Rows the list shows.
        error: Why the rest could not be loaded (its short title is shown; the rest is in the failure dialog).
        total: The server's estimate of the whole list (``remainingItemCount``), when it gave one.
    """
    of = f" of ~{total:,}" if total is not None and total > shown else ""
    return f"showing {shown:,}{of} — loading the rest failed: {error.title}; Refresh to retry"


#: A list's last page's count is announced once, with the load's end (the bench's switch).
ANNOUNCE_ONCE = True


class ListPages:
    """Loads a list's rows page by page and reloads a loaded list in place; mixed into ``TreeLoader``, whose state
    and changes it uses."""

    #: Rows built per loop turn while a list arrives.
    insert_batch = 500

    # What the loader provides (declared for type checkers; TreeLoader defines them).
    _service: KubeService | None
    _surface: TreeSurface
    timing: LoadTiming
    live: LiveUpdates

    if TYPE_CHECKING:
        def is_live(self, node: TreeNode, generation: int) -> bool: ...
        def changed(self, node: TreeNode) -> None: ...
        def clear_children(self, node: TreeNode) -> None: ...
        def replace_children(self, node: TreeNode, nodes: list[TreeNode]) -> None: ...
        def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None: ...
        def kind_of(self, ref: ListRef) -> Kind: ...
        def fail(self, node: TreeNode, error: KubeError, user: bool) -> None: ...
        def _show_loading(self, node: TreeNode) -> None: ...

    async def _load_list(self, node: TreeNode, gen: int, user: bool, demand: bool = True) -> None:
        svc = self._service
        assert svc is not None
        ctx = node.context
        if any(c.type is not NodeType.LOADING for c in node.children):
            await self._reload_list(node, gen, user, demand)
            return
        if demand or node.expanded:
            self._show_loading(node)
        pending: list[Row] = []  # rows received, not inserted yet
        try:
            if node.ref is None:
                node.ref = await child_tables.resolve_list(svc, node)
                if not self.is_live(node, gen):
                    return
                if node.ref is None:
                    self.replace_children(node, [note_node(child_tables.no_list_note(node), ctx)])
                    node.mark_loaded()
                    return
            ref = node.ref
            kind = self.kind_of(ref)
            # A list shown in an order of its own (Events, newest first) is sorted whole before it shows.
            ordered = kind.seen_column is not None
            placeholder = True
            count = 0
            # After the list started over (its continue token expired): every row of the new list, and the uids
            # already shown or held back. The rows shown stay while the new list arrives (only its new rows are
            # added); once it is in, the tree is made to match it.
            fresh: list[Row] | None = None
            shown: set[str] = set()
            async for page in svc.list(ref, demand=demand):
                if not self.is_live(node, gen):
                    return
                node.list_rv = page.resource_version or node.list_rv
                if placeholder:
                    self.clear_children(node)
                    placeholder = False
                rows = child_tables.picked(node, page.rows)
                if page.restarted:
                    fresh, count = [], 0
                    shown = {c.row.uid for c in node.children if c.row is not None} | {r.uid for r in pending}
                if fresh is not None:
                    fresh += rows
                    count += len(rows)
                    rows = [r for r in rows if r.uid not in shown]
                else:
                    count += len(rows)
                node.count = count if page.last or node.match is not None else count + (page.remaining or 0)
                if not page.last or not ANNOUNCE_ONCE:
                    # (The last page's count is announced with the end of the load below: a list of one page, as
                    # most of a namespace's count lists are, told views twice in one step.)
                    self.changed(node)
                pending += rows
                if not ordered and self._rows_due(node, len(pending)):
                    rows, pending = pending, []
                    await self._append_rows(node, gen, rows, kind)
            if not self.is_live(node, gen):
                return
            if pending:
                await self._append_rows(node, gen, rec.in_order(pending, kind), kind)
                if not self.is_live(node, gen):
                    return
            if placeholder:
                self.clear_children(node)
            if fresh is not None:
                # Rows deleted or changed between the two lists are as they were: make the rows match the new list
                # (a watch started from its resourceVersion would never tell of those changes).
                self.reconcile(node, fresh, kind)
            node.count = count
            node.note = ""
            node.partial = False
            # Loaded before it is announced: a view re-reads whether the row has children when its label changes,
            # and a list still LOADING "may have children" (an empty list kept its expand arrow after a Refresh).
            node.mark_loaded()
            self.changed(node)
            self.timing.last_insert_at = time.monotonic()
            self.live.track(node)
        except KubeError as e:
            if not self.is_live(node, gen):
                return
            if pending or any(c.type is NodeType.OBJECT for c in node.children):
                await self._keep_partial(node, gen, pending, e, user)
            else:
                self.fail(node, e, user)  # nothing shown yet: the error row, with its hint

    async def _keep_partial(self, node: TreeNode, gen: int, pending: list[Row], error: KubeError,
                            user: bool) -> None:
        """A later page of ``node``'s list failed: keep the rows that came, and say on the list's row that the rest
        is missing and how to get it (a failure never loses what the user sees).

        The list is LOADED, so a revisit looks it up again and Refresh re-lists it in full (both reconcile in place);
        it is not watched meanwhile: a watch from the first pages' resourceVersion would claim it is current.
        """
        assert node.ref is not None
        kind = self.kind_of(node.ref)
        if pending:
            await self._append_rows(node, gen, rec.in_order(pending, kind), kind)
            if not self.is_live(node, gen):
                return
        error.detached()  # kept by the failure dialog: no frames attached
        shown = sum(1 for c in node.children if c.type is NodeType.OBJECT)
        total = node.count
        node.count = shown
        node.partial = True
        node.list_rv = ""  # not the list at any resourceVersion: nothing is "exactly what the tree shows"
        node.note = partial_note(shown, error, total)
        self.live.untrack(node)
        node.mark_loaded()
        self.changed(node)
        self.timing.last_insert_at = time.monotonic()
        self._surface.notify_failed(error, user)

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
                if not self.is_live(node, gen):
                    return
            batch += [object_node(r, kind, ctx) for r in rows[start:start + self.insert_batch]]
            if self._rows_due(node, len(batch)):
                self._surface.insert(node, batch)
                batch = []
        if batch:
            self._surface.insert(node, batch)

    async def _list_rows(self, ref: ListRef, demand: bool) -> tuple[list[Row], str, bool]:
        """A whole list: (rows, resourceVersion, served from the cache)."""
        assert self._service is not None
        rows: list[Row] = []
        rv, cached = "", True
        async for page in self._service.list(ref, demand=demand):
            if page.restarted:
                rows = []  # the list started over (see Page.restarted)
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
            kind = self.kind_of(node.ref)  # (raises too: a kind no longer known after a Refresh forgot discovery)
        except KubeError as e:
            if not self.is_live(node, gen):
                return
            if any(c.type is NodeType.OBJECT for c in node.children):
                # Keep what the user sees; say the refresh failed (a partial list's note already says so).
                if not node.partial:
                    node.note = f"refresh failed: {e.title}"
                node.mark_loaded()
                self.changed(node)
                self._surface.notify_failed(e, user)
            else:
                self.fail(node, e, user)
            return
        if not self.is_live(node, gen):
            return
        self.reconcile(node, rows, kind)
        node.list_rv = rv
        node.note = ""
        node.partial = False
        node.mark_loaded()
        self.changed(node)
        self.live.track(node)
