"""Bring a loaded list's rows up to date with minimal, announced changes (Qt-free; changes go through a surface).

Rows whose uid is unchanged keep their :class:`~kube9_desktop.model.nodes.TreeNode`, so their expansion and
selection survive; only the rows that changed emit signals.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any

from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import Row
from kube9_desktop.model.nodes import NodeType, TreeNode, object_node
from kube9_desktop.model.ports import TreeSurface

#: A row sorting before any other (non-object rows compare as it: they only show in lists being replaced).
_FIRST = Row(uid="", name="", namespace=None, kind="", extra={"seen_at": float("inf")})


def row_order(row: Row) -> str:
    """Where a row sits in a list: the API server returns lists in etcd key order (``namespace/name``)."""
    return f"{row.namespace}/{row.name}" if row.namespace else row.name


def newest_order(row: Row) -> tuple[float, str]:
    """Where a row of a kind with a ``seen_column`` (Events) sits: newest first, then in the server's order."""
    return (-float(row.extra.get("seen_at") or 0.0), row_order(row))


def order_of(kind: Kind) -> Callable[[Row], Any]:
    """The key a list of ``kind`` is ordered by (the server's order unless the kind says otherwise)."""
    return newest_order if kind.seen_column is not None else row_order


def in_order(rows: list[Row], kind: Kind) -> list[Row]:
    """``rows`` (as a list response has them) in the order the tree shows ``kind``."""
    return sorted(rows, key=newest_order) if kind.seen_column is not None else rows


def apply_changes(surface: TreeSurface, node: TreeNode, changes: Iterable[tuple[str, Row]], kind: Kind) -> None:
    """Apply a few row changes (coalesced watch events) to a loaded list in place.

    A list's rows are in the API server's order (etcd key order: namespace/name), or newest first for a kind that
    says so (:func:`order_of`), so rows are found and new rows placed by binary search: a change costs O(log n)
    plus its own signal, never a pass over a 5,000-row list as :func:`reconcile` makes (that is what keeps a
    churning list smooth). Changed rows keep their node and emit ``dataChanged`` (and move if their place in the
    order changed); deleted rows are removed, new rows inserted where a re-list would put them.

    Args:
        surface: Where the changes are made and announced.
        node: A loaded list whose children are all object rows.
        changes: ``(type, row)`` with type ``ADDED``, ``MODIFIED`` or ``DELETED``; at most one per uid.
        kind: The rows' kind (for new nodes).
    """
    children = node.children
    order = order_of(kind)

    def child_order(c: TreeNode) -> Any:
        return order(c.row) if c.row is not None else order(_FIRST)

    def find(r: Row, scan: bool) -> int:
        k = order(r)
        i = bisect.bisect_left(children, k, key=child_order)
        while i < len(children) and child_order(children[i]) == k:
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
                surface.remove(node, i, i)
        elif i >= 0 and order(r) != child_order(children[i]):
            # It moved in the order (an event seen again goes to the top).
            at = bisect.bisect_right(children, order(r), key=child_order)
            c = children[i]
            if at <= i + 1:  # up, or where it was: the node moves (its selection stays with it)
                c.row, c.label = r, r.name
                if at < i:
                    surface.move(node, i, at)
                surface.changed(c)
            else:
                surface.remove(node, i, i)
                surface.insert(node, [object_node(r, kind, node.context)], at=at - 1)
        elif i >= 0:
            c = children[i]
            if c.row != r:
                c.row = r
                c.label = r.name
                c._pos = i  # known: spares position() a renumbering after earlier inserts and removals
                surface.changed(c)
        else:
            i = bisect.bisect_right(children, order(r), key=child_order)
            surface.insert(node, [object_node(r, kind, node.context)], at=i)
    node.count = len(children)


def reconcile(surface: TreeSurface, node: TreeNode, rows: list[Row], kind: Kind) -> None:
    """Make ``node``'s children match ``rows`` with minimal changes.

    Rows whose uid is unchanged keep their node (so their expansion and selection survive) and only emit
    ``dataChanged`` when their content changed; vanished rows are removed, new rows inserted in place. ``rows`` are
    as a list response has them; they are shown in the kind's order (:func:`in_order`).
    """
    rows = in_order(rows, kind)
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
        surface.remove(node, j, i)
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
                surface.changed(cur)
            i += 1
            continue
        moved = existing.get(r.uid)
        if moved is None:
            j = i
            while j < len(rows) and rows[j].uid not in existing:
                j += 1
            surface.insert(node, [object_node(x, kind, node.context) for x in rows[i:j]], at=i)
            i = j
            continue
        surface.move(node, moved.position(), i)  # from > i: the rows before i are settled
        if moved.row != r:
            moved.row = r
            surface.changed(moved)
    node.count = len(rows)
