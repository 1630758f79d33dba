"""Which kinds a cluster serves: API discovery, aggregated where the server has it, classic otherwise.

Aggregated discovery (Kubernetes 1.26+, ``/api`` and ``/apis`` asked for as ``APIGroupDiscoveryList`` of
``apidiscovery.k8s.io`` v2 or v2beta1) answers in two requests. Older servers (v1.19 has only these) answer the same
Accept with their classic ``APIVersions`` / ``APIGroupList``; then each group's preferred version document is read
(``/api/v1``, ``/apis/{group}/{version}`` for every served version), in parallel on the context's worker threads.

Only listable, top-level resources (no ``pods/log``) become :class:`ApiResource` entries. Parsing is pure; fetching
goes through :class:`~kube9_desktop.kube.client.ContextClient` (which converts every failure into a KubeError).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo

log = logging.getLogger(__name__)

#: What kubectl 1.32 sends: aggregated v2, then v2beta1, then the classic documents.
AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


@dataclass(frozen=True, slots=True)
class ApiResource:
    """One listable resource the server serves at its preferred version."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``plural`` for the core group, ``plural.group`` otherwise (kubectl's fully qualified name)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _listable(verbs: Any) -> bool:
    return isinstance(verbs, list) and "list" in verbs


def parse_aggregated(doc: dict[str, Any]) -> list[ApiResource] | None:
    """The resources of an ``APIGroupDiscoveryList``, or ``None`` when ``doc`` is not one.

    Every version's resources, the preferred (first) version's first: a resource served only at an older version
    (CronJobs at ``batch/v1beta1`` beside Jobs at ``batch/v1``) is still found.
    """
    if doc.get("kind") != "APIGroupDiscoveryList":
        return None
    out: list[ApiResource] = []
    for item in doc.get("items") or []:
        group = ((item.get("metadata") or {}).get("name")) or ""
        for v in item.get("versions") or []:
            for r in v.get("resources") or []:
                if not _listable(r.get("verbs")):
                    continue
                kind = (r.get("responseKind") or {}).get("kind") or ""
                out.append(ApiResource(group, v.get("version", ""), r.get("resource", ""), kind,
                                       r.get("scope") == "Namespaced", tuple(r.get("verbs") or ()),
                                       tuple(r.get("shortNames") or ())))
    return out


def parse_resource_list(doc: dict[str, Any], group: str, version: str) -> list[ApiResource]:
    """The listable top-level resources of a classic ``APIResourceList``."""
    out = []
    for r in doc.get("resources") or []:
        name = r.get("name", "")
        if "/" in name or not _listable(r.get("verbs")):
            continue
        out.append(ApiResource(group, version, name, r.get("kind", ""), bool(r.get("namespaced")),
                               tuple(r.get("verbs") or ()), tuple(r.get("shortNames") or ())))
    return out


Fetch = Callable[[str, str], Awaitable[Any]]


async def discover(fetch: Fetch) -> tuple[list[ApiResource], str]:
    """Every listable resource, and how it was found (``aggregated`` or ``classic``).

    Args:
        fetch: ``fetch(path, accept)`` → the parsed JSON body (run off the event loop); raises KubeError.

    Raises:
        KubeError: When the server answers none of the documents (a group whose document fails is left out and
            logged: one broken aggregated API server must not hide every kind).
    """
    core, groups = await asyncio.gather(fetch("/api", AGGREGATED_ACCEPT), fetch("/apis", AGGREGATED_ACCEPT))
    agg_core = parse_aggregated(core) if isinstance(core, dict) else None
    agg_groups = parse_aggregated(groups) if isinstance(groups, dict) else None
    if agg_core is not None and agg_groups is not None:
        return agg_core + agg_groups, "aggregated"
    docs: list[tuple[str, str, str]] = []
    if isinstance(core, dict) and "v1" in (core.get("versions") or []):
        docs.append(("/api/v1", "", "v1"))
    for g in (groups or {}).get("groups") or []:
        # Every version, the preferred first (resources found at several versions keep the first one seen).
        pref = (g.get("preferredVersion") or {}).get("version")
        versions = dict.fromkeys([pref, *(v.get("version") for v in g.get("versions") or [])])
        for version in versions:
            if g.get("name") and version:
                docs.append((f"/apis/{segment(g['name'])}/{segment(version)}", g["name"], version))

    async def one(path: str, group: str, version: str) -> list[ApiResource]:
        try:
            body = await fetch(path, "application/json")
        except KubeError as err:
            log.info("discovery of %s failed: %s", path, err.one_line())
            return []
        return parse_resource_list(body, group, version) if isinstance(body, dict) else []

    found = await asyncio.gather(*(one(*d) for d in docs))
    return [r for rs in found for r in rs], "classic"


def info(path: str) -> RequestInfo:
    """How a discovery request is described in an error ("You cannot get /apis ...")."""
    return RequestInfo(verb="get", resource=path)
