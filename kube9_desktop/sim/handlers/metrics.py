"""``metrics.k8s.io/v1beta1`` (what metrics-server serves through its APIService) and ``/simz/metrics``.

Served as path routes ahead of the generic resource routes: the metrics are computed on each read from the pods and
nodes in the store (:mod:`kube9_desktop.sim.metrics`), never stored. RBAC is checked here with the group
``metrics.k8s.io`` like kube-apiserver does before it proxies to metrics-server.
"""

from __future__ import annotations

from typing import Any

import orjson

from kube9_desktop.sim import auth
from kube9_desktop.sim.handlers.base import ALL_METHODS, Access, PathRoute, Request, method_not_allowed, not_found
from kube9_desktop.sim.metrics import (
    GROUP,
    GROUP_VERSION,
    MODES,
    UNAVAILABLE_MESSAGE,
    MetricsState,
    group_doc,
    resource_list_doc,
)
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.selectors import SelectorError, parse_label_selector
from kube9_desktop.sim.store import Obj

_GET = frozenset({"GET", "HEAD"})
_PODS, _NODES = BY_NAME["pods"], BY_NAME["nodes"]


def _state(req: Request) -> MetricsState:
    return req.sim.metrics


def _gate(req: Request) -> bool:
    """False (and answered) when the switch says the API is missing."""
    mode = _state(req).mode
    if mode == "absent":
        not_found(req)
        return False
    if mode == "unavailable":
        req.conn.send_status(503, UNAVAILABLE_MESSAGE, reason="ServiceUnavailable", details={})
        return False
    if req.method not in _GET:
        method_not_allowed(req)
        return False
    return True


def group(req: Request) -> None:
    """``/apis/metrics.k8s.io``: the group exists while an APIService is registered (available or not)."""
    if _state(req).mode == "absent":
        not_found(req)
    else:
        req.conn.send_json(200, group_doc())


def resources(req: Request) -> None:
    """``/apis/metrics.k8s.io/v1beta1``."""
    if _gate(req):
        req.conn.send_json(200, resource_list_doc())


def _allowed(req: Request, resource: str, verb: str, namespace: str | None, name: str | None) -> bool:
    if auth.allowed(req.user, verb, GROUP, resource, namespace, name):
        return True
    details: dict[str, Any] = {"group": GROUP, "kind": resource}
    if name:
        details["name"] = name
    req.conn.send_status(403, auth.forbidden_message(req.user, verb, GROUP, resource, namespace, name),
                         details=details)
    return False


def _selected(req: Request, objs: list[Obj]) -> list[Obj] | None:
    try:
        match = parse_label_selector(req.query.get("labelSelector", ""))
    except SelectorError as e:
        req.conn.send_status(400, str(e), reason="BadRequest")
        return None
    return [o for o in objs if match is None or match(o)]


def _all(req: Request, rtype: Any, namespace: str | None) -> list[Obj]:
    items, _, _, _ = req.sim.store.scan(rtype, namespace, "", None, 0)
    return items


def _pod_items(req: Request, pods: list[Obj], t: float) -> list[dict[str, Any]]:
    st = _state(req)
    out = []
    for o in pods:
        item = st.pod_item(o.to_dict, o.key, o.rv, t)
        if item is not None:
            out.append(item)
    return out


def _list_doc(kind: str, self_link: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": GROUP_VERSION, "metadata": {"selfLink": self_link}, "items": items}


def _item_doc(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": GROUP_VERSION, **item}


def pods(req: Request) -> None:
    """PodMetrics: list (cluster-wide or in a namespace) or get."""
    if not _gate(req):
        return
    ns, name = req.params.get("ns"), req.params.get("name")
    if not _allowed(req, "pods", "get" if name else "list", ns, name):
        return
    t = MetricsState.window()
    if name:
        obj = req.sim.store.get(_PODS, ns, name)
        item = _pod_items(req, [obj], t) if obj is not None else []
        if not item:
            req.conn.send_status(404, f'podmetrics.metrics.k8s.io "{ns}/{name}" not found',
                                 details={"name": f"{ns}/{name}", "group": GROUP, "kind": "pods"})
            return
        req.conn.send_json(200, _item_doc("PodMetrics", item[0]))
        return
    objs = _selected(req, _all(req, _PODS, ns))
    if objs is None:
        return
    link = f"/apis/{GROUP_VERSION}" + (f"/namespaces/{ns}" if ns else "") + "/pods"
    req.conn.send_bytes(200, orjson.dumps(_list_doc("PodMetricsList", link, _pod_items(req, objs, t))))


def nodes(req: Request) -> None:
    """NodeMetrics: list or get; a node's usage is its running pods' plus its own."""
    if not _gate(req):
        return
    name = req.params.get("name")
    if not _allowed(req, "nodes", "get" if name else "list", None, name):
        return
    t = MetricsState.window()
    if name:
        node = req.sim.store.get(_NODES, None, name)
        if node is None:
            req.conn.send_status(404, f'nodemetrics.metrics.k8s.io "{name}" not found',
                                 details={"name": name, "group": GROUP, "kind": "nodes"})
            return
        objs: list[Obj] | None = [node]
    else:
        objs = _selected(req, _all(req, _NODES, None))
    if objs is None:
        return
    st = _state(req)

    def node_sums() -> dict[str, tuple[float, float]]:
        sums: dict[str, list[float]] = {}
        for o in _all(req, _PODS, None):
            node_name = o.fields.get("spec.nodeName", "")
            if not node_name:
                continue
            total = st.pod_total(o.to_dict, o.key, o.rv, t)
            if total is not None:
                acc = sums.setdefault(node_name, [0.0, 0.0])
                acc[0] += total[0]
                acc[1] += total[1]
        return {n: (cpu, mem) for n, (cpu, mem) in sums.items()}

    # The store's revision is read before its pods are: a change while they are summed makes the next read sum again.
    sums = st.node_sums((t, req.sim.store.rv), node_sums)
    items = [st.node_item(o.to_dict(), sums.get(o.name, (0.0, 0.0)), t) for o in objs]
    if name:
        req.conn.send_json(200, _item_doc("NodeMetrics", items[0]))
    else:
        req.conn.send_bytes(200, orjson.dumps(_list_doc("NodeMetricsList", f"/apis/{GROUP_VERSION}/nodes", items)))


def unknown(req: Request) -> None:
    """Anything else under the group version (watch, other resources)."""
    if _gate(req):
        not_found(req)


def admin(req: Request) -> None:
    """``/simz/metrics``: GET reads, POST ``{"mode": "available"|"unavailable"|"absent"}`` switches."""
    if req.method == "POST":
        try:
            data = orjson.loads(req.body) if req.body.strip() else {}
            _state(req).set_mode(str(data.get("mode", "")))
        except (orjson.JSONDecodeError, AttributeError, ValueError):
            req.conn.send_status(400, f"mode must be one of {', '.join(MODES)}")
            return
    req.conn.send_json(200, {"mode": _state(req).mode})


_GV = r"/apis/metrics\.k8s\.io/v1beta1"
ROUTES = [
    PathRoute("/simz/metrics", admin, frozenset({"GET", "POST"}), Access.ADMIN),
    PathRoute(r"/apis/metrics\.k8s\.io", group, ALL_METHODS),
    PathRoute(_GV, resources, ALL_METHODS),
    PathRoute(_GV + r"/nodes(?:/(?P<name>[^/]+))?", nodes, ALL_METHODS),
    PathRoute(_GV + r"(?:/namespaces/(?P<ns>[^/]+))?/pods(?:/(?P<name>[^/]+))?", pods, ALL_METHODS),
    PathRoute(_GV + r"/.*", unknown, ALL_METHODS),
]
