"""APIService objects (``apiregistration.k8s.io/v1 apiservices``): how kube-apiserver's aggregator says which API
group versions it serves itself (``Local``) and which it proxies to another server (metrics-server's
``v1beta1.metrics.k8s.io``), and whether each is ``Available``.

The local ones are loaded with the cluster (:func:`build`); the metrics one follows the metrics switch
(:func:`sync`, called by :class:`~kube9_desktop.sim.metrics.MetricsState` on every change): ``available`` → its
Available condition True (``Passed``), ``unavailable`` → False with the aggregator's ``MissingEndpoints`` wording
(metrics-server's pods gone), ``absent`` → no object (metrics-server never installed). The table columns are
kube-aggregator's printer (NAME, SERVICE, AVAILABLE, AGE).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kube9_desktop.sim import tables
from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.resources import BY_NAME, group_versions
from kube9_desktop.sim.tables import _NAME_COL, Ages, Cells, _age, _col, _created

if TYPE_CHECKING:
    from kube9_desktop.sim.gen.generator import Generator
    from kube9_desktop.sim.store import Store

GROUP = "apiregistration.k8s.io"
METRICS_NAME = "v1beta1.metrics.k8s.io"
METRICS_SERVICE = {"namespace": "kube-system", "name": "metrics-server", "port": 443}
#: The Available condition of each metrics mode: (status, reason, message), as kube-aggregator's
#: AvailableConditionController writes them (v1.19: Endpoints, not EndpointSlices).
CONDITIONS = {
    "available": ("True", "Passed", "all checks passed"),
    "unavailable": ("False", "MissingEndpoints",
                    'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'),
}
#: kube-apiserver's built-in priorities (group minimum, version) of the groups the sim serves; others get the
#: CRD registration's 1000/100.
_PRIORITIES = {
    "": (18000, 1), "apps": (17800, 15), "events.k8s.io": (17750, 15), "authentication.k8s.io": (17700, 15),
    "authorization.k8s.io": (17600, 15), "autoscaling": (17500, 15), "batch": (17400, 15),
    "networking.k8s.io": (17200, 15), "policy": (17100, 15), "rbac.authorization.k8s.io": (17000, 15),
    "storage.k8s.io": (16800, 15), "apiextensions.k8s.io": (16700, 15), "admissionregistration.k8s.io": (16700, 15),
    "scheduling.k8s.io": (16600, 15), "coordination.k8s.io": (16500, 15), "discovery.k8s.io": (16200, 15),
    GROUP: (18000, 15),
}


def _name(group: str, version: str) -> str:
    return f"{version}.{group}"


def _condition(status: str, reason: str, message: str, since: float) -> dict[str, Any]:
    return {"type": "Available", "status": status, "lastTransitionTime": ts(since), "reason": reason,
            "message": message}


def _local(gen: Generator, group: str, version: str, born: float) -> dict[str, Any]:
    custom = group not in _PRIORITIES
    gmin, vprio = _PRIORITIES.get(group, (1000, 100))
    # A beta version ranks below the group's GA one (kube-apiserver's table gives v1beta1 9 where v1 has 15).
    if not custom and "beta" in version:
        vprio = 9
    spec: dict[str, Any] = {}
    if group:
        spec["group"] = group
    spec.update({"version": version, "groupPriorityMinimum": gmin, "versionPriority": vprio})
    labels = {"kube-aggregator.kubernetes.io/automanaged": "true" if custom else "onstart"}
    return {
        "metadata": gen.meta("apiservices", _name(group, version), None, born, labels),
        "spec": spec,
        "status": {"conditions": [_condition("True", "Local", "Local APIServices are always available", born)]},
    }


def metrics_object(mode: str, created: float, since: float, meta: dict[str, Any]) -> dict[str, Any]:
    """``v1beta1.metrics.k8s.io`` with the Available condition of ``mode`` (``available``/``unavailable``)."""
    status, reason, message = CONDITIONS[mode]
    return {
        "metadata": meta,
        "spec": {"service": dict(METRICS_SERVICE), "group": "metrics.k8s.io", "version": "v1beta1",
                 "insecureSkipTLSVerify": True, "groupPriorityMinimum": 100, "versionPriority": 100},
        "status": {"conditions": [_condition(status, reason, message, since)]},
    }


def build(gen: Generator) -> None:
    """Loads an APIService per group version the sim serves itself, and metrics-server's (Available)."""
    born = gen.t0 + 10
    rtype = BY_NAME["apiservices"]
    gen.store.load(rtype, _local(gen, "", "v1", born))
    for group, versions in group_versions().items():
        for version in versions:
            gen.store.load(rtype, _local(gen, group, version, born))
    created = gen.t0 + 900
    meta = gen.meta("apiservices", METRICS_NAME, None, created, {"k8s-app": "metrics-server"})
    gen.store.load(rtype, metrics_object("available", created, created + 40, meta))


def sync(store: Store, mode: str) -> None:
    """Make ``v1beta1.metrics.k8s.io`` say what the metrics switch says (a change is a watch event)."""
    rtype = BY_NAME["apiservices"]
    with store.lock:
        if not store.collections[rtype.name].objects:
            return  # the cluster is not built yet: build() loads them, then the server syncs once
        cur = store.get(rtype, None, METRICS_NAME)
        if mode == "absent":
            if cur is not None:
                store.delete(rtype, None, METRICS_NAME)
            return
        now = time.time()
        if cur is None:
            meta = {"name": METRICS_NAME, "selfLink": rtype.self_link(None, METRICS_NAME),
                    "uid": _uid(now), "creationTimestamp": ts(now), "labels": {"k8s-app": "metrics-server"}}
            store.put(rtype, metrics_object(mode, now, now, meta))
            return
        d = cur.to_dict()
        old = ((d.get("status") or {}).get("conditions") or [{}])[0]
        if old.get("status") == CONDITIONS[mode][0]:
            return
        meta = d["metadata"]
        store.put(rtype, metrics_object(mode, tables.parse_time(meta.get("creationTimestamp")), now, meta))


def _uid(now: float) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kube9-sim/apiservices/{METRICS_NAME}/{now}"))


def available_cell(o: dict[str, Any]) -> str:
    """The AVAILABLE column: ``True``, or ``False (Reason)`` (kube-aggregator's printer)."""
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            if c.get("status") == "True" or not c.get("reason"):
                return str(c.get("status"))
            return f"{c.get('status')} ({c.get('reason')})"
    return "Unknown"


def _cells(o: dict[str, Any]) -> tuple[Cells, Ages]:
    svc = (o.get("spec") or {}).get("service")
    service = f"{svc.get('namespace')}/{svc.get('name')}" if svc else "Local"
    return [o["metadata"]["name"], service, available_cell(o), None], ((3, _created(o)),)


tables.COLUMNS["APIService"] = [
    _NAME_COL, _col("Service", "The reference to the service that hosts the API endpoint."),
    _col("Available", "Whether this service is available."), _age()]
tables._CELLS["APIService"] = _cells
