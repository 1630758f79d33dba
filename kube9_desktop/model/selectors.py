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


def selector_labels(text: str | None) -> dict[str, str] | None:
    """The labels a Service's printed selector (``app=web,tier=db``, the server Table's ``Selector`` cell) requires,
    or ``None`` when it selects nothing (``<none>``, empty, or not a plain equality selector).

    A Service's selector is a plain map, printed by the server as ``k=v`` pairs joined with commas.
    """
    if not text or text == "<none>":
        return None
    labels: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or key.endswith("!"):
            return None
        labels[key] = value.strip().removeprefix("=")  # "k==v" is the same equality
    return labels or None
