"""What a list request asks for: its query parameters and the RequestInfo that words its errors.

Shared by the backend's lists (:mod:`.fetch`), its watches (:mod:`.watches`) and the single requests that other
modules make with the same wording (name search, the namespace check).
"""

from __future__ import annotations

from typing import Any

from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.status_errors import RequestInfo

__all__ = ["list_info", "list_query"]


def list_info(kind: Kind, namespace: str | None, verb: str = "list") -> RequestInfo:
    """The RequestInfo for listing ``kind`` (used to word errors)."""
    return RequestInfo(
        verb=verb,
        resource=kind.plural,
        group=kind.group,
        version=kind.version,
        namespace=namespace if kind.namespaced else None,
        namespaced=kind.namespaced,
    )


def list_query(ref: ListRef, limit: int | None, cont: str | None) -> list[tuple[str, Any]]:
    """Query parameters of one list page request."""
    q: list[tuple[str, Any]] = [("includeObject", "Metadata")]
    if limit:
        q.append(("limit", int(limit)))
    if cont:
        q.append(("continue", cont))
    if ref.label_selector:
        q.append(("labelSelector", ref.label_selector))
    if ref.field_selector:
        q.append(("fieldSelector", ref.field_selector))
    return q
