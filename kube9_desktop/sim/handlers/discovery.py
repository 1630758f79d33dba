"""``/version``, health checks and API discovery (``/api``, ``/apis``, group and group/version documents)."""

from __future__ import annotations

from typing import Any

import orjson

from kube9_desktop.sim import metrics, resources
from kube9_desktop.sim.handlers.base import PathRoute, Request, not_found

VERSION = {
    "major": "1",
    "minor": "19",
    "gitVersion": "v1.19.0",
    "gitCommit": "e19964183377d0ec2052d1f1fa930c4d7575bd50",
    "gitTreeState": "clean",
    "buildDate": "2020-08-26T14:23:04Z",
    "goVersion": "go1.15",
    "compiler": "gc",
    "platform": "linux/amd64",
}
READYZ_CHECKS = [
    "ping",
    "log",
    "etcd",
    "informer-sync",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/start-apiextensions-controllers",
    "poststarthook/crd-informer-synced",
    "poststarthook/bootstrap-controller",
    "poststarthook/rbac/bootstrap-roles",
    "shutdown",
]


def version(req: Request) -> None:
    """``/version``: kube-apiserver v1.19's answer, indented like it."""
    req.conn.send_bytes(200, orjson.dumps(VERSION, option=orjson.OPT_INDENT_2))


def health(req: Request) -> None:
    """``/healthz``, ``/livez``, ``/readyz`` (``?verbose`` lists the checks)."""
    if "verbose" in req.query:
        text = "".join(f"[+]{c} ok\n" for c in READYZ_CHECKS) + f"{req.path[1:]} check passed\n"
    else:
        text = "ok"
    req.conn.send_bytes(200, text.encode(), "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})


def aggregated_version(req: Request) -> str | None:
    """The ``apidiscovery.k8s.io`` version to answer ``/api`` or ``/apis`` with, or ``None`` for the classic
    documents: only when the sim serves aggregated discovery (``--discovery aggregated``) and the client's Accept
    asks for an ``APIGroupDiscoveryList`` (the first such entry it lists wins, as kube-apiserver picks)."""
    if req.sim.discovery != "aggregated":
        return None
    for part in req.conn.headers.get("Accept", "").split(","):
        params = dict(p.strip().partition("=")[::2] for p in part.split(";")[1:])
        if (params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList"
                and params.get("v") in ("v2", "v2beta1")):
            return params["v"]
    return None


def _send_aggregated(req: Request, version: str, core: bool) -> None:
    extra = []
    if not core and req.sim.metrics.mode != "absent":
        extra = [metrics.aggregated_item()]
    doc = resources.aggregated_doc(core, f"apidiscovery.k8s.io/{version}", extra)
    ctype = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
    req.conn.send_bytes(200, orjson.dumps(doc), ctype, {"Vary": "Accept"})


def api_versions(req: Request) -> None:
    """``/api``: the core APIVersions document (or the aggregated core group)."""
    agg = aggregated_version(req)
    if agg:
        _send_aggregated(req, agg, core=True)
        return
    req.conn.send_json(200, resources.api_versions_doc(req.sim.port))


def api_groups(req: Request) -> None:
    """``/apis``: the APIGroupList (with ``metrics.k8s.io`` while its APIService is registered), or every group's
    resources at once as an aggregated ``APIGroupDiscoveryList``."""
    agg = aggregated_version(req)
    if agg:
        _send_aggregated(req, agg, core=False)
        return
    doc = resources.api_group_list_doc()
    if req.sim.metrics.mode != "absent":
        doc["groups"].append(metrics.group_doc())
    req.conn.send_json(200, doc)


def api_group(req: Request) -> None:
    """``/apis/{group}``: one APIGroup, or 404."""
    _doc_or_404(req, resources.api_group_doc(req.params["group"]))


def resource_list(req: Request) -> None:
    """``/api/v1`` and ``/apis/{group}/{version}``: the APIResourceList, or 404."""
    _doc_or_404(req, resources.resource_list_doc(req.params.get("group", ""), req.params.get("version", "v1")))


def _doc_or_404(req: Request, doc: dict[str, Any] | None) -> None:
    if doc is None:
        not_found(req)
    else:
        req.conn.send_json(200, doc)


# Every method gets the same answer (kube-apiserver's discovery ignores the method too).
ROUTES = [
    PathRoute("/version", version),
    PathRoute("/(healthz|livez|readyz)", health),
    PathRoute("/api", api_versions),
    PathRoute("/apis", api_groups),
    PathRoute("/api/v1", resource_list),
    PathRoute("/apis/(?P<group>[^/]+)", api_group),
    PathRoute("/apis/(?P<group>[^/]+)/(?P<version>[^/]+)", resource_list),
]
