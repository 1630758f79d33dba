"""Label selectors from objects (Qt-free): what a Deployment, Service or Job selects."""

from __future__ import annotations

from typing import Any


def selector_of(obj: dict[str, Any]) -> str | None:
    """The label selector string an object uses to select its pods, or ``None`` if it has none.

    Handles ``spec.selector.matchLabels`` / ``matchExpressions`` (workloads) and the plain ``spec.selector`` map
    (Services).
    """
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if not sel or not isinstance(sel, dict):
        return None
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        return ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or None
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if not key:
            continue
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None
