"""Field ownership (``metadata.managedFields``) and server-side apply, on plain dicts.

A field path is a tuple of the element strings ``fieldsV1`` uses: ``f:name`` for a map key, ``k:{"name":"x"}`` for
a keyed list element (keys from :data:`~kube9_desktop.sim.patching.MERGE_KEYS`), ``v:"x"`` for a set element.
Every write records which manager set which leaf fields (``Update`` for PUT/PATCH/POST, ``Apply`` for
server-side apply). An apply that would change a field another manager owns fails with kube-apiserver's 409
wording ("Apply failed with 1 conflict: conflict with \\"manager-a\\": .data.k") unless ``force`` takes the field
over; fields the applier owned before and no longer applies are removed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kube9_desktop.sim.patching import SET_LISTS, merge_key, strategic_merge_patch

Path = tuple[str, ...]
MISSING: Any = object()

#: Metadata the server owns: never tracked, never taken from an applied configuration.
_SERVER_META = frozenset({
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds",
})


def _tracked(obj: dict[str, Any]) -> dict[str, Any]:
    """The part of an object whose fields are tracked (no apiVersion/kind/status, no server metadata)."""
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status", "metadata")}
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_META}
    if md:
        out["metadata"] = md
    return out


def _key_elem(key: str, item: dict[str, Any]) -> str:
    return "k:" + json.dumps({key: item.get(key)}, separators=(",", ":"))


def leaves(value: Any, prefix: Path = (), field: str = "") -> Iterator[Path]:
    """Every leaf field path under ``value``."""
    if isinstance(value, dict):
        if not value and prefix:
            yield prefix
        for k, v in value.items():
            yield from leaves(v, (*prefix, f"f:{k}"), k)
    elif isinstance(value, list):
        key = merge_key(field, value)
        if field in SET_LISTS and all(not isinstance(x, dict | list) for x in value):
            for x in value:
                yield (*prefix, "v:" + json.dumps(x))
        elif key is not None and value and all(isinstance(i, dict) and key in i for i in value):
            for item in value:
                yield from leaves(item, (*prefix, _key_elem(key, item)), field)
        else:
            yield prefix
    else:
        yield prefix


def get(obj: Any, path: Path) -> Any:
    """The value at ``path`` (:data:`MISSING` when absent)."""
    cur = obj
    for el in path:
        kind, _, rest = el.partition(":")
        if kind == "f":
            if not isinstance(cur, dict) or rest not in cur:
                return MISSING
            cur = cur[rest]
        elif kind == "k":
            want = json.loads(rest)
            if not isinstance(cur, list):
                return MISSING
            cur = next((i for i in cur if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())),
                       MISSING)
            if cur is MISSING:
                return MISSING
        elif kind == "v":
            val = json.loads(rest)
            return val if isinstance(cur, list) and val in cur else MISSING
    return cur


def remove(obj: Any, path: Path) -> None:
    """Deletes the field at ``path`` when present."""
    if not path:
        return
    parent = get(obj, path[:-1])
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind in ("k", "v") and isinstance(parent, list):
        want = json.loads(rest)
        for i, item in enumerate(parent):
            hit = item == want if kind == "v" else (
                isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()))
            if hit:
                del parent[i]
                break


def path_string(path: Path) -> str:
    """``.spec.template.spec.containers[name="main"].image`` (how conflicts name fields)."""
    out = []
    for el in path:
        kind, _, rest = el.partition(":")
        if kind == "f":
            out.append("." + rest)
        elif kind == "k":
            out.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(rest).items()) + "]")
        else:
            out.append(f"[={rest}]")
    return "".join(out)


def encode(paths: set[Path], with_dots: bool) -> dict[str, Any]:
    """Paths → the nested ``fieldsV1`` form (``"."`` marks maps an ``Update`` manager owns as a whole)."""
    root: dict[str, Any] = {}
    for p in sorted(paths):
        node = root
        for el in p:
            node = node.setdefault(el, {})
    if with_dots:
        _dots(root)
    return root


def _dots(node: dict[str, Any]) -> None:
    for k, child in node.items():
        if child and k != ".":
            child.setdefault(".", {})
            _dots(child)


def decode(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """The leaf paths of a ``fieldsV1`` tree."""
    out: set[Path] = set()
    for k, child in fields.items():
        if k == ".":
            continue
        kids = {c for c in (child or {}) if c != "."}
        if kids:
            out |= decode(child, (*prefix, k))
        else:
            out.add((*prefix, k))
    return out


@dataclass
class Conflict:
    """One field another manager owns with a different value."""

    manager: str
    operation: str
    api_version: str
    time: str
    path: Path

    def who(self) -> str:
        """How kube-apiserver names the manager (``"kubectl" using apps/v1 at ...`` for Update managers)."""
        if self.operation == "Update":
            return f'"{self.manager}" using {self.api_version}' + (f" at {self.time}" if self.time else "")
        return f'"{self.manager}"'


class ApplyConflict(Exception):
    """Server-side apply found fields owned by other managers."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(conflict_message(conflicts))
        self.conflicts = conflicts


def conflict_message(conflicts: list[Conflict]) -> str:
    """kube-apiserver's message for apply conflicts."""
    if len(conflicts) == 1:
        c = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {c.who()}: {path_string(c.path)}"
    by: dict[str, list[str]] = {}
    for c in conflicts:
        by.setdefault(c.who(), []).append(path_string(c.path))
    lines: list[str] = []
    for who in sorted(by):
        lines.append(f"conflicts with {who}:")
        lines.extend(f"- {p}" for p in by[who])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def _entries(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    return copy.deepcopy(((obj or {}).get("metadata") or {}).get("managedFields") or [])


def _set_entry(entries: list[dict[str, Any]], manager: str, operation: str, api_version: str, now: str,
               paths: set[Path]) -> list[dict[str, Any]]:
    out = [e for e in entries if not (e.get("manager") == manager and e.get("operation") == operation)]
    if paths:
        out.append({
            "manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
            "fieldsType": "FieldsV1", "fieldsV1": encode(paths, with_dots=operation == "Update"),
        })
    return out


def _without(entries: list[dict[str, Any]], taken: set[Path], keep: tuple[str, str]) -> list[dict[str, Any]]:
    """Entries with ``taken`` removed from every manager except ``keep``; empty entries dropped."""
    out = []
    for e in entries:
        if (e.get("manager"), e.get("operation")) == keep:
            out.append(e)
            continue
        paths = decode(e.get("fieldsV1") or {}) - taken
        if paths:
            out.append(dict(e, fieldsV1=encode(paths, with_dots=e.get("operation") == "Update")))
    return out


def record_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, api_version: str,
                  now: str) -> None:
    """Sets ``new``'s managedFields after an Update by ``manager``: it owns every field it changed."""
    entries = _entries(old)
    old_t = _tracked(old or {})
    new_t = _tracked(new)
    changed = {p for p in leaves(new_t) if get(old_t, p) != get(new_t, p)}
    gone = {p for p in leaves(old_t) if get(new_t, p) is MISSING}
    if changed or gone:
        mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Update"), None)
        paths = (decode(mine.get("fieldsV1") or {}) if mine else set()) | changed
        paths -= gone
        entries = _without(entries, changed | gone, (manager, "Update"))
        entries = _set_entry(entries, manager, "Update", api_version, now, paths)
    new.setdefault("metadata", {})["managedFields"] = entries
    if not entries:
        new["metadata"].pop("managedFields")


def apply(current: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool,
          api_version: str, now: str) -> dict[str, Any]:
    """Server-side apply of ``applied`` by ``manager`` onto ``current`` (None: create).

    Returns:
        The new object (server metadata and status of ``current`` kept) with its managedFields.

    Raises:
        ApplyConflict: fields owned by other managers would change and ``force`` is False.
    """
    entries = _entries(current)
    base = copy.deepcopy(current) if current is not None else {}
    cur_t = _tracked(base)
    want = _tracked(applied)
    fields = set(leaves(want))
    conflicts: list[Conflict] = []
    others: set[Path] = set()
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Apply":
            continue
        owned = decode(e.get("fieldsV1") or {})
        others |= owned
        for p in sorted(fields & owned):
            if get(cur_t, p) != get(want, p):
                conflicts.append(Conflict(str(e.get("manager")), str(e.get("operation")),
                                          str(e.get("apiVersion", "")), str(e.get("time", "")), p))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    before = decode(mine.get("fieldsV1") or {}) if mine else set()
    taken = {c.path for c in conflicts}
    for p in sorted(before - fields, key=len, reverse=True):
        if p not in others or p in taken:
            remove(base, p)
    merged = strategic_merge_patch(base, want)
    entries = _without(entries, taken, (manager, "Apply"))
    entries = _set_entry(entries, manager, "Apply", api_version, now, fields)
    merged.setdefault("metadata", {})["managedFields"] = entries
    return merged
