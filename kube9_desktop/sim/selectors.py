"""Label and field selector parsing (the subset kube-apiserver accepts for lists and watches)."""

from __future__ import annotations

import re
from collections.abc import Callable

from kube9_desktop.sim.store import Obj

Predicate = Callable[[Obj], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*$")
#: A field selector's term: its value is anything but another operator (``spec.containers{main}``, an event's
#: fieldPath, has braces), as kube-apiserver's field selector parser takes it.
_FIELD_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([^=!]*?)\s*$")


Req = Callable[[dict[str, str]], bool]


# Factories instead of lambdas in loops: each requirement must capture its own key/value.
def _eq(k: str, v: str) -> Req:
    return lambda m: m.get(k, "") == v


def _ne(k: str, v: str) -> Req:
    return lambda m: m.get(k, "") != v


def _in(k: str, vs: frozenset[str]) -> Req:
    return lambda m: m.get(k) in vs


def _notin(k: str, vs: frozenset[str]) -> Req:
    return lambda m: m.get(k) not in vs


def _present(k: str) -> Req:
    return lambda m: k in m


def _absent(k: str) -> Req:
    return lambda m: k not in m


class SelectorError(ValueError):
    """An unparsable selector (answered with 400 BadRequest)."""


def _split(expr: str) -> list[str]:
    """Splits on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(expr: str) -> Predicate | None:
    """Parses ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` and ``!key`` requirements (ANDed)."""
    if not expr.strip():
        return None
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for part in _split(expr):
        m = _EQ_RE.match(part)
        if m:
            key, op, val = m.groups()
            if op == "!=":
                reqs.append(_ne(key, val))
            else:
                reqs.append(_eq(key, val))
            continue
        m = _SET_RE.match(part)
        if not m:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
        neg, key, op, vals = m.groups()
        if op:
            if neg:
                raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
            values = frozenset(v.strip() for v in vals.split(",") if v.strip())
            if op == "in":
                reqs.append(_in(key, values))
            else:
                reqs.append(_notin(key, values))
        elif neg:
            reqs.append(_absent(key))
        else:
            reqs.append(_present(key))
    return lambda o: all(r(o.labels) for r in reqs)


#: Field labels kube-apiserver supports beyond metadata.name/namespace, per kind (as used by kubectl describe).
EXTRA_FIELDS: dict[str, set[str]] = {
    "Pod": {"spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName", "status.podIP"},
    "Event": {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "source",
        "type",
    },
    "Secret": {"type"},
    "Namespace": {"status.phase"},
    "Node": {"spec.unschedulable"},
    "ReplicaSet": {"status.replicas"},
    "Job": {"status.successful"},
}


def parse_field_selector(expr: str, kind: str) -> Predicate | None:
    """Parses field selectors on metadata.name/namespace and (pods) spec.nodeName/status.phase."""
    if not expr.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace"} | EXTRA_FIELDS.get(kind, set())
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for part in _split(expr):
        m = _FIELD_RE.match(part)
        if not m:
            raise SelectorError(f"invalid selector: '{expr}'; can't understand '{part.strip()}'")
        key, op, val = m.groups()
        if key not in allowed:
            raise SelectorError(f"field label not supported: {key}")
        if op == "!=":
            reqs.append(_ne(key, val))
        else:
            reqs.append(_eq(key, val))
    return lambda o: all(r(o.fields) for r in reqs)


def combine(*preds: Predicate | None) -> Predicate | None:
    """ANDs the non-None predicates (None when there are none)."""
    ps = [p for p in preds if p is not None]
    if not ps:
        return None
    if len(ps) == 1:
        return ps[0]
    return lambda o: all(p(o) for p in ps)
