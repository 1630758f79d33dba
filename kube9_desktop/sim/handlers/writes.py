"""The writes the sim implements: DELETE of a pod and the ``scale`` subresource (pods follow)."""

from __future__ import annotations

import orjson

from kube9_desktop.sim.handlers.base import (
    ALL_METHODS,
    ResourceRequest,
    ResourceRoute,
    method_not_allowed,
    obj_not_found,
)


def delete_pod(req: ResourceRequest) -> None:
    """Deletes a pod immediately (a DELETED watch event follows) and returns it like kube-apiserver."""
    name = req.name or ""
    gone = req.sim.store.delete(req.rtype, req.namespace, name)
    if gone is None:
        obj_not_found(req, req.rtype, name)
        return
    req.sim.events.pod_killed(gone.to_dict())
    req.conn.send_bytes(200, gone.full())


def scale(req: ResourceRequest) -> None:
    """GET/PATCH/PUT of the autoscaling/v1 Scale subresource."""
    h, rtype, namespace, name = req.conn, req.rtype, req.namespace, req.name or ""
    obj = req.sim.store.get(rtype, namespace, name)
    if obj is None:
        obj_not_found(req, rtype, name)
        return
    if req.method in ("PUT", "PATCH"):
        try:
            data = orjson.loads(req.body)
            replicas = int(data["spec"]["replicas"])
            if replicas < 0:
                raise ValueError
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            h.send_status(
                422,
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: must be a non-negative integer',
                reason="Invalid",
                details={"name": name, "group": "autoscaling", "kind": "Scale"},
            )
            return
        obj = req.sim.churner.scale(rtype, obj, replicas)
    elif req.method != "GET":
        method_not_allowed(req)
        return
    d = obj.to_dict()
    md = d["metadata"]
    body = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "selfLink": md["selfLink"] + "/scale",
            "uid": md["uid"],
            "resourceVersion": md["resourceVersion"],
            "creationTimestamp": md["creationTimestamp"],
        },
        "spec": {"replicas": d["spec"].get("replicas", 0)},
        "status": {
            "replicas": d.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(d["spec"]["selector"]["matchLabels"].items())),
        },
    }
    h.send_json(200, body)


ROUTES = [
    ResourceRoute(delete_pod, frozenset({"DELETE"}), resources=frozenset({"pods"}), named=True),
    # The handler answers 405 itself for methods other than GET/PUT/PATCH (after RBAC, like kube-apiserver).
    ResourceRoute(scale, ALL_METHODS, resources=frozenset({"deployments", "statefulsets"}), sub="scale"),
]
