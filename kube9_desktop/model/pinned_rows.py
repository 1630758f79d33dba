"""The "Pinned" group's rows (Qt-free): a mixin of :class:`~kube9_desktop.model.loader.TreeLoader`.

A context with pins (:mod:`.pins`) shows a "Pinned" group as its first row. Each pin becomes a real object row — the
row of its list, found by name in that list (served from the cache when fresh, the list the object's own folder
shows), so selecting it, its context menu, its drill-down and expansion behave as in its own place. A pin whose object
is gone says so in a note row; one whose list cannot be had says why. The rows are looked up again whenever the
group is shown again (through the cache, so within the TTL nothing is fetched), on Refresh, and when pins change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model import children as child_tables
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode, note_node, object_node
from kube9_desktop.model.pins import Pin
from kube9_desktop.model.ports import TreeSurface

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

#: What one pin resolved to: its kind and row, or a note to show instead (with the failure, if any).
Resolved = tuple[Pin, Kind | None, Row | None, str, KubeError | None]


class PinnedRows:
    """Fills and updates the "Pinned" group; mixed into ``TreeLoader``."""

    _service: KubeService | None
    _surface: TreeSurface
    contexts: dict[str, TreeNode]
    #: Settings → a context's pins (the window sets it; none by default).
    pins: Callable[[str], list[Pin]]

    if TYPE_CHECKING:
        def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...
        def structural(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None: ...
        def start_load(self, node: TreeNode, *, user: bool, demand: bool = True) -> None: ...
        def is_live(self, node: TreeNode, generation: int) -> bool: ...
        def changed(self, node: TreeNode) -> None: ...

    def pinned_group(self, context: str) -> TreeNode | None:
        """``context``'s "Pinned" group, if its tree has one."""
        root = self.contexts.get(context)
        if root is None:
            return None
        return next((c for c in root.children if child_tables.is_pinned_group(c)), None)

    def update_pins(self, context: str) -> None:
        """``context``'s pins changed: add the group, look its rows up again, or remove it when none are left."""
        root = self.contexts.get(context)
        if root is None or root.state is not LoadState.LOADED:
            return  # the context's load adds the group with the pins it finds then
        group = self.pinned_group(context)
        if not self.pins(context):
            if group is not None:
                self.structural(self._surface.remove, root, group.position(), group.position())
            return
        if group is None:
            group = child_tables.pinned_group(context)
            at = next((i for i, c in enumerate(root.children) if c.type is not NodeType.ERROR), 0)
            self._surface.insert(root, [group], at=at)
            self.start_load(group, user=False, demand=True)
            return
        self.spawn(self.load_pinned(group, group.generation, demand=True))

    async def load_pinned(self, group: TreeNode, gen: int, demand: bool) -> None:
        """Look every pin's row up (one list per kind and namespace, through the cache) and show them."""
        svc = self._service
        assert svc is not None
        pins = self.pins(group.context)
        resolved = await _resolve(svc, group.context, pins, demand)
        if not self.is_live(group, gen):
            return
        self.structural(self._show_pinned, group, resolved)

    def _show_pinned(self, group: TreeNode, resolved: list[Resolved]) -> None:
        """Make the group's rows the pins' rows, keeping the nodes of pins still there (expansion, selection)."""
        ctx = group.context
        wanted = [_identity_of(r) for r in resolved]
        keep = set(wanted)
        kids = group.children
        i = len(kids) - 1
        while i >= 0:  # rows of pins gone (and the "Loading…" row) leave first
            if _identity(kids[i]) not in keep:
                self._surface.remove(group, i, i)
            i -= 1
        for i, (r, ident) in enumerate(zip(resolved, wanted, strict=True)):
            kids = group.children
            if i < len(kids) and _identity(kids[i]) == ident:
                node = kids[i]
                _pin, _kind, row, _text, _err = r
                if row is not None and node.row != row:
                    node.row = row
                    self._surface.changed(node)
                continue
            later = next((j for j in range(i + 1, len(kids)) if _identity(kids[j]) == ident), None)
            if later is not None:
                self._surface.remove(group, later, later)
            self._surface.insert(group, [_node_of(r, ctx)], at=i)
        group.mark_loaded()
        self.changed(group)


async def _resolve(svc: KubeService, context: str, pins: list[Pin], demand: bool) -> list[Resolved]:
    """Each pin's kind and row: its list fetched once per kind and namespace (cached lists are reused)."""
    kinds: dict[str, Kind | KubeError] = {}
    for p in pins:
        if p.kind in kinds:
            continue
        try:
            kinds[p.kind] = svc.kind(context, p.kind)
        except KubeError:
            try:  # a custom kind: known once the context's kinds are discovered
                await svc.discover(context)
                kinds[p.kind] = svc.kind(context, p.kind)
            except KubeError as err:
                kinds[p.kind] = err
    refs: dict[ListRef, None] = {}
    for p in pins:
        k = kinds[p.kind]
        if isinstance(k, Kind):
            refs[ListRef(context, k.key, p.namespace if k.namespaced else None)] = None

    async def rows_of(ref: ListRef) -> list[Row] | KubeError:
        try:
            return await svc.list_all(ref, demand=demand)
        except KubeError as err:
            return err

    lists = dict(zip(refs, await asyncio.gather(*(rows_of(r) for r in refs)), strict=True))
    out: list[Resolved] = []
    for p in pins:
        k = kinds[p.kind]
        if isinstance(k, KubeError):
            out.append((p, None, None, f"{p.text} — {k.title}", k))
            continue
        got = lists[ListRef(context, k.key, p.namespace if k.namespaced else None)]
        if isinstance(got, KubeError):
            out.append((p, k, None, f"{p.text} — {got.title}", got))
            continue
        row = next((r for r in got if r.name == p.name), None)
        out.append((p, k, row, "" if row is not None else f"{p.text} — not found (deleted?)", None))
    return out


def _identity(node: TreeNode) -> tuple[str, ...]:
    if node.type is NodeType.OBJECT and node.kind is not None and node.row is not None:
        return ("object", node.kind.key, node.row.namespace or "", node.row.name)
    return (node.type.name, node.label)


def _identity_of(r: Resolved) -> tuple[str, ...]:
    _pin, kind, row, text, _err = r
    if kind is not None and row is not None:
        return ("object", kind.key, row.namespace or "", row.name)
    return (NodeType.NOTE.name, text)


def _node_of(r: Resolved, context: str) -> TreeNode:
    _pin, kind, row, text, err = r
    if kind is not None and row is not None:
        return object_node(row, kind, context)
    note = note_node(text, context)
    note.error = err
    return note
