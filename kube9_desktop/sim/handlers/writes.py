"""Writes with kube-apiserver's semantics and wording: POST, PUT, PATCH (merge, strategic merge, JSON patch,
server-side apply), DELETE (propagation, grace periods), the ``scale`` and ``eviction`` subresources, and
``dryRun=All`` on each.

* PUT carries the ``resourceVersion`` it was based on: a stale one is a 409 ("the object has been modified; please
  apply your changes to the latest version and try again"); none means an unconditional update.
* Every write records its field manager in ``metadata.managedFields`` (``fieldManager``, else the client's
  User-Agent program name); server-side apply conflicts with other managers' fields unless ``force=true``.
* Written objects are validated (:mod:`kube9_desktop.sim.validation`): 422 with one cause per field.
* Status and server-owned metadata cannot be written through the main resource; ``generation`` follows spec
  changes; watchers see every change; the controllers (:mod:`kube9_desktop.sim.controllers`) react.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import orjson
import yaml

from kube9_desktop.sim import managed, proto
from kube9_desktop.sim.controllers import Budget, Controllers
from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.handlers.base import ResourceRequest, ResourceRoute, obj_not_found, stores_objects
from kube9_desktop.sim.patching import PatchError, json_merge_patch, json_patch, strategic_merge_patch
from kube9_desktop.sim.resources import BY_NAME, ResourceType
from kube9_desktop.sim.status import status_body
from kube9_desktop.sim.validation import Cause, invalid, invalid_message, validate

_SERVER_META = ("uid", "creationTimestamp", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
#: Kinds a controller reconciles after a write.
_CONTROLLED = frozenset({"deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "poddisruptionbudgets"})
_PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
}
UNSUPPORTED_PATCH = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


class WriteError(Exception):
    """A write refused with a Status (code, message, reason, details)."""

    def __init__(self, code: int, message: str, reason: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.details = code, message, reason, details


def _controllers(req: ResourceRequest) -> Controllers:
    return req.sim.controllers


def _generator(req: ResourceRequest) -> Generator:
    gen = req.sim.controllers.generator
    assert gen is not None, "the sim has not been started"
    return gen


def _ref(rtype: ResourceType) -> str:
    """``deployments.apps`` / ``configmaps`` as kube-apiserver names a resource in messages."""
    return f"{rtype.name}.{rtype.group}" if rtype.group else rtype.name


def _details(rtype: ResourceType, name: str, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name}
    if rtype.group:
        d["group"] = rtype.group
    d["kind"] = rtype.name
    d.update(extra)
    return d


def conflict(rtype: ResourceType, name: str) -> WriteError:
    """409 for a stale resourceVersion."""
    return WriteError(409, f'Operation cannot be fulfilled on {_ref(rtype)} "{name}": the object has been modified; '
                      "please apply your changes to the latest version and try again", "Conflict",
                      _details(rtype, name))


def unprocessable(rtype: ResourceType, kind: str, name: str, causes: list[Cause]) -> WriteError:
    """422 with field causes."""
    details: dict[str, Any] = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = kind
    details["causes"] = [c.as_dict() for c in causes]
    return WriteError(422, invalid_message(kind, rtype.group, name, causes), "Invalid", details)


def _send_error(req: ResourceRequest, e: WriteError) -> None:
    req.conn.send_bytes(e.code, status_body(e.code, e.message, e.reason, e.details))


def _manager(req: ResourceRequest) -> str:
    """``fieldManager``, else the client program's name from its User-Agent, as kube-apiserver derives it."""
    fm = req.query.get("fieldManager")
    if fm:
        return fm
    agent = req.conn.headers.get("User-Agent", "") or "unknown"
    return agent.split("/", 1)[0].strip() or "unknown"


def _dry_run(req: ResourceRequest, body: dict[str, Any] | None = None) -> bool:
    if req.query.get("dryRun") == "All":
        return True
    return bool(body and "All" in (body.get("dryRun") or []))


def _load(req: ResourceRequest, kind: str) -> dict[str, Any]:
    """The request body as an object (JSON, or YAML for YAML content types); 400 with the real wording."""
    ctype = req.conn.headers.get("Content-Type", "")
    if "protobuf" in ctype:
        try:
            return proto.object_from_proto(kind, req.body)
        except (ValueError, KeyError, IndexError) as e:
            raise WriteError(415, f"the body of the request was in an unknown format: {e}", "UnsupportedMediaType") \
                from None
    try:
        data = yaml.safe_load(req.body) if "yaml" in ctype else orjson.loads(req.body)
    except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as e:
        text = req.body[:60].decode("utf-8", "replace")
        raise WriteError(400, f"the object provided is unrecognized (must be of type {kind}): couldn't get "
                         f"version/kind; json parse error: {str(e).splitlines()[0]} ({text})", "BadRequest") from None
    if not isinstance(data, dict):
        raise WriteError(400, f"the object provided is unrecognized (must be of type {kind}): couldn't get "
                         "version/kind; json parse error: expected an object", "BadRequest")
    return data


def _check_identity(req: ResourceRequest, obj: dict[str, Any], name: str | None) -> None:
    rtype = req.rtype
    api = obj.get("apiVersion")
    if api and api != rtype.api_version and not (rtype.kind == "CronJob" and api.startswith("batch/")):
        raise WriteError(400, f"the API version in the data ({api}) does not match the expected API version "
                         f"({rtype.api_version})", "BadRequest")
    if obj.get("kind") and obj["kind"] != rtype.kind:
        raise WriteError(400, f"the object provided is unrecognized (must be of type {rtype.kind}): "
                         f"kind {obj['kind']!r} does not match", "BadRequest")
    md = obj.setdefault("metadata", {})
    if not isinstance(md, dict):
        raise WriteError(400, "metadata must be an object", "BadRequest")
    ns = md.get("namespace")
    if rtype.namespaced and ns and ns != req.namespace:
        raise WriteError(400, "the namespace of the provided object does not match the namespace sent on the request",
                         "BadRequest")
    if name is not None and md.get("name") and md["name"] != name:
        raise WriteError(400, f"the name of the object ({md['name']}) does not match the name on the URL ({name})",
                         "BadRequest")


def _spec_generation(old: dict[str, Any], new: dict[str, Any]) -> None:
    """``metadata.generation`` counts spec changes (kinds without a spec have none)."""
    if "spec" not in old and "spec" not in new:
        new["metadata"].pop("generation", None)
        return
    gen = int(old["metadata"].get("generation") or 1)
    new["metadata"]["generation"] = gen + 1 if old.get("spec") != new.get("spec") else gen


def _finish_update(req: ResourceRequest, old: dict[str, Any], new: dict[str, Any], code: int = 200) -> None:
    """Keeps server-owned fields, validates, records the manager, stores (unless dry run) and answers."""
    rtype = req.rtype
    name = old["metadata"]["name"]
    md = new.setdefault("metadata", {})
    for k in (*_SERVER_META, "name", "namespace"):
        if k in old["metadata"]:
            md[k] = old["metadata"][k]
        else:
            md.pop(k, None)
    md.pop("resourceVersion", None)
    new.pop("kind", None)
    new.pop("apiVersion", None)
    if "status" in old:
        new["status"] = old["status"]
    else:
        new.pop("status", None)
    _spec_generation(old, new)
    causes = validate(rtype.kind, new, old)
    if causes:
        raise unprocessable(rtype, rtype.kind, name, causes)
    if md.get("managedFields") is None or md.get("managedFields") == old["metadata"].get("managedFields"):
        managed.record_update(old, new, _manager(req), rtype.api_version, ts(time.time()))
    if _dry_run(req):
        new["metadata"]["resourceVersion"] = old["metadata"].get("resourceVersion", "")
        req.conn.send_bytes(code, _full(rtype, new))
        return
    stored = req.sim.store.put(rtype, new)
    _react(req, rtype, new)
    req.conn.send_bytes(code, stored.full())


def _full(rtype: ResourceType, d: dict[str, Any]) -> bytes:
    head: dict[str, Any] = {"kind": rtype.kind, "apiVersion": rtype.api_version}
    head.update(d)
    return orjson.dumps(head)


def _react(req: ResourceRequest, rtype: ResourceType, d: dict[str, Any]) -> None:
    md = d["metadata"]
    if rtype.name in _CONTROLLED:
        _controllers(req).kick(rtype.name, md.get("namespace"), md["name"])
    elif rtype.name == "nodes":
        # A node that became schedulable again may take pods nothing could place.
        pass


def _current(req: ResourceRequest) -> dict[str, Any]:
    obj = req.sim.store.get(req.rtype, req.namespace, req.name or "")
    if obj is None:
        raise WriteError(404, f'{_ref(req.rtype)} "{req.name}" not found', "NotFound",
                         _details(req.rtype, req.name or ""))
    return obj.to_dict()


def _check_rv(req: ResourceRequest, body: dict[str, Any], old: dict[str, Any]) -> None:
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv and str(rv) != str(old["metadata"].get("resourceVersion")):
        raise conflict(req.rtype, old["metadata"]["name"])


# -- create ----------------------------------------------------------------------------------------------------------
def _defaults(rtype: ResourceType, d: dict[str, Any], req: ResourceRequest) -> None:
    """Server-side defaults the controllers rely on (a Job's selector, a Pod's status, a Namespace's phase)."""
    md = d["metadata"]
    if rtype.kind == "Job":
        spec = d.setdefault("spec", {})
        uid = md["uid"]
        if not spec.get("selector"):
            spec["selector"] = {"matchLabels": {"controller-uid": uid}}
            tmd = spec.setdefault("template", {}).setdefault("metadata", {})
            tmd["labels"] = dict(tmd.get("labels") or {}, **{"controller-uid": uid, "job-name": md["name"]})
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
    elif rtype.kind == "Namespace":
        d.setdefault("spec", {"finalizers": ["kubernetes"]})
        d["status"] = {"phase": "Active"}
    elif rtype.kind == "Pod":
        _run_pod(req, d)
    elif rtype.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        d.setdefault("spec", {}).setdefault("replicas", 1)
    if "spec" in d and rtype.kind not in ("Pod", "Namespace", "Node", "PersistentVolumeClaim", "Service"):
        md.setdefault("generation", 1)


def _run_pod(req: ResourceRequest, d: dict[str, Any]) -> None:
    """A created pod is scheduled and started by the sim's "kubelet" at once."""
    spec = d.setdefault("spec", {})
    if not spec.get("nodeName"):
        spec["nodeName"] = _controllers(req).pick_node()
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    now = ts(time.time())
    if not spec.get("nodeName"):
        d["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        return
    d["status"] = {
        "phase": "Running",
        "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                       for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        "hostIP": "10.0.0.11",
        "podIP": f"10.244.9.{len(d['metadata']['name']) % 250 + 2}",
        "startTime": now,
        "containerStatuses": [{"name": c.get("name"), "state": {"running": {"startedAt": now}}, "lastState": {},
                               "ready": True, "restartCount": 0, "image": c.get("image"), "imageID": "",
                               "started": True} for c in spec.get("containers") or []],
        "qosClass": "BestEffort",
    }


def create(req: ResourceRequest) -> None:
    """POST to a collection (201; 409 AlreadyExists; 404 when the namespace does not exist)."""
    rtype = req.rtype
    try:
        obj = _load(req, rtype.kind)
        _check_identity(req, obj, None)
        _create(req, obj, managed_by=None)
    except WriteError as e:
        _send_error(req, e)


def _create(req: ResourceRequest, obj: dict[str, Any], managed_by: dict[str, Any] | None) -> None:
    rtype = req.rtype
    store = req.sim.store
    md = obj["metadata"]
    if not md.get("name") and md.get("generateName"):
        md["name"] = md["generateName"] + _generator(req).rand(5)
    causes = validate(rtype.kind, obj)
    if causes:
        raise unprocessable(rtype, rtype.kind, str(md.get("name") or ""), causes)
    name = md["name"]
    if rtype.namespaced:
        if store.get(BY_NAME["namespaces"], None, req.namespace or "") is None:
            raise WriteError(404, f'namespaces "{req.namespace}" not found', "NotFound",
                             {"name": req.namespace, "kind": "namespaces"})
        md["namespace"] = req.namespace
    if store.get(rtype, req.namespace, name) is not None:
        raise WriteError(409, f'{_ref(rtype)} "{name}" already exists', "AlreadyExists", _details(rtype, name))
    obj.pop("kind", None)
    obj.pop("apiVersion", None)
    obj.pop("status", None)
    md.pop("resourceVersion", None)
    md["selfLink"] = rtype.self_link(req.namespace if rtype.namespaced else None, name)
    md["uid"] = _generator(req).uid()
    md["creationTimestamp"] = ts(time.time())
    _defaults(rtype, obj, req)
    if managed_by is not None:
        md["managedFields"] = managed_by
    else:
        managed.record_update(None, obj, _manager(req), rtype.api_version, ts(time.time()))
    ordered = {"metadata": md, **{k: v for k, v in obj.items() if k != "metadata"}}
    if _dry_run(req):
        req.conn.send_bytes(201, _full(rtype, ordered))
        return
    with store.lock:
        if store.get(rtype, req.namespace, name) is not None:
            raise WriteError(409, f'{_ref(rtype)} "{name}" already exists', "AlreadyExists", _details(rtype, name))
        stored = store.put(rtype, ordered)
    _react(req, rtype, ordered)
    if rtype.kind == "Pod":
        req.sim.events.pod_started(ordered)
    req.conn.send_bytes(201, stored.full())


# -- update ----------------------------------------------------------------------------------------------------------
def update(req: ResourceRequest) -> None:
    """PUT of a whole object (the resourceVersion it carries is the precondition)."""
    try:
        body = _load(req, req.rtype.kind)
        _check_identity(req, body, req.name)
        with req.sim.store.lock:
            old = _current(req)
            _check_rv(req, body, old)
            body["metadata"].pop("managedFields", None)
            _finish_update(req, old, body)
    except WriteError as e:
        _send_error(req, e)


# -- patch -----------------------------------------------------------------------------------------------------------
def patch(req: ResourceRequest) -> None:
    """PATCH: JSON merge, strategic merge, JSON patch or server-side apply."""
    rtype = req.rtype
    ptype = _PATCH_TYPES.get(req.conn.headers.get("Content-Type", "").split(";")[0].strip())
    try:
        if ptype is None:
            raise WriteError(415, UNSUPPORTED_PATCH, "UnsupportedMediaType")
        if ptype == "apply":
            _apply(req)
            return
        try:
            data = orjson.loads(req.body)
        except orjson.JSONDecodeError as e:
            raise WriteError(400, f"error decoding patch: {e}", "BadRequest") from None
        with req.sim.store.lock:
            old = _current(req)
            new = _patched(old, data, ptype, rtype)
            if ptype != "json" and isinstance(data, dict):
                _check_rv(req, data, old)
            _finish_update(req, old, new)
    except WriteError as e:
        _send_error(req, e)


def _patched(old: dict[str, Any], data: Any, ptype: str, rtype: ResourceType) -> dict[str, Any]:
    base = {"kind": rtype.kind, "apiVersion": rtype.api_version, **copy.deepcopy(old)}
    try:
        if ptype == "json":
            new = json_patch(base, data)
        elif ptype == "strategic":
            if rtype.custom:
                raise WriteError(415, "strategic merge patch is not supported for custom resources; use a merge "
                                 "patch", "UnsupportedMediaType")
            new = strategic_merge_patch(base, data)
        else:
            new = json_merge_patch(base, data)
    except PatchError:
        raise WriteError(422, "the server rejected our request due to an error in our request", "Invalid",
                         {}) from None
    if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
        raise WriteError(422, "the server rejected our request due to an error in our request", "Invalid", {})
    return new


def _apply(req: ResourceRequest) -> None:
    """Server-side apply (``application/apply-patch+yaml``, ``fieldManager`` required, ``force``)."""
    rtype = req.rtype
    manager = req.query.get("fieldManager", "")
    if not manager:
        raise WriteError(400, "PATCH, application/apply-patch+yaml requires fieldManager to be set",
                         "BadRequest")
    try:
        body = yaml.safe_load(req.body)
    except yaml.YAMLError as e:
        raise WriteError(400, f"error decoding YAML: {str(e).splitlines()[0]}", "BadRequest") from None
    if not isinstance(body, dict):
        raise WriteError(400, "error decoding YAML: the applied configuration is not an object", "BadRequest")
    if not body.get("apiVersion") or not body.get("kind"):
        raise WriteError(400, "invalid object type: /, Kind=", "BadRequest")
    _check_identity(req, body, req.name)
    force = req.query.get("force") in ("true", "1")
    now = ts(time.time())
    with req.sim.store.lock:
        obj = req.sim.store.get(rtype, req.namespace, req.name or "")
        old = obj.to_dict() if obj is not None else None
        if old is not None:
            _check_rv(req, body, old)
        try:
            new = managed.apply(old, body, manager, force, rtype.api_version, now)
        except managed.ApplyConflict as c:
            causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {x.who()}",
                       "field": managed.path_string(x.path)} for x in c.conflicts]
            raise WriteError(409, str(c), "Conflict", {"causes": causes}) from None
        if old is None:
            md = new.setdefault("metadata", {})
            md["name"] = req.name
            fields = md.pop("managedFields", None)
            _create(req, new, managed_by=fields)
            return
        _finish_update(req, old, new)


# -- delete ----------------------------------------------------------------------------------------------------------
def delete(req: ResourceRequest) -> None:
    """DELETE with DeleteOptions (body or query): grace period, propagation, preconditions, dry run."""
    rtype, name = req.rtype, req.name or ""
    try:
        opts: dict[str, Any] = {}
        if req.body.strip():
            try:
                loaded = orjson.loads(req.body)
            except orjson.JSONDecodeError:
                raise WriteError(400, "the object provided is unrecognized (must be of type DeleteOptions)",
                                 "BadRequest") from None
            opts = loaded if isinstance(loaded, dict) else {}
        grace_q = req.query.get("gracePeriodSeconds")
        grace = opts.get("gracePeriodSeconds", int(grace_q) if grace_q and grace_q.lstrip("-").isdigit() else None)
        propagation = opts.get("propagationPolicy") or req.query.get("propagationPolicy")
        if opts.get("orphanDependents") is True:
            propagation = "Orphan"
        dry = _dry_run(req, opts)
        with req.sim.store.lock:
            old = _current(req)
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise WriteError(409, f'Operation cannot be fulfilled on {_ref(rtype)} "{name}": Precondition '
                                 f'failed: UID in precondition: {pre["uid"]}, UID in object meta: '
                                 f'{old["metadata"].get("uid")}', "Conflict", _details(rtype, name))
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != old["metadata"].get("resourceVersion"):
                raise WriteError(409, f'Operation cannot be fulfilled on {_ref(rtype)} "{name}": Precondition '
                                 f'failed: ResourceVersion in precondition: {pre["resourceVersion"]}, '
                                 f'ResourceVersion in object meta: {old["metadata"].get("resourceVersion")}',
                                 "Conflict", _details(rtype, name))
            result = _controllers(req).delete(rtype, req.namespace, name, grace, propagation, dry)
    except WriteError as e:
        _send_error(req, e)
        return
    if result is None:
        obj_not_found(req, rtype, name)
        return
    d, gone = result
    current = req.sim.store.get(rtype, req.namespace, name)
    if rtype.kind in ("Pod", "Namespace") or not gone:
        body = current.full() if (current is not None and not dry) else _full(rtype, d)
        req.conn.send_bytes(200, body)
        return
    req.conn.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": _details(rtype, name, uid=d["metadata"].get("uid"))})


# -- subresources ----------------------------------------------------------------------------------------------------
def _scale_of(rtype: ResourceType, d: dict[str, Any]) -> dict[str, Any]:
    md = d["metadata"]
    sel = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": md["name"], "namespace": md.get("namespace"), "selfLink": md["selfLink"] + "/scale",
                     "uid": md["uid"], "resourceVersion": md["resourceVersion"],
                     "creationTimestamp": md["creationTimestamp"]},
        "spec": {"replicas": (d.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": (d.get("status") or {}).get("replicas", 0),
                   "selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items()))},
    }


def scale(req: ResourceRequest) -> None:
    """GET/PUT/PATCH of the autoscaling/v1 Scale subresource; the controllers make the pods follow."""
    rtype, name = req.rtype, req.name or ""
    try:
        with req.sim.store.lock:
            old = _current(req)
            current = _scale_of(rtype, old)
            if req.method == "GET":
                req.conn.send_json(200, current)
                return
            if req.method == "PUT":
                body = _load(req, "Scale")
                _check_rv(req, body, old)
                wanted = body
            elif req.method == "PATCH":
                ptype = _PATCH_TYPES.get(req.conn.headers.get("Content-Type", "").split(";")[0].strip())
                if ptype is None or ptype == "apply":
                    raise WriteError(415, UNSUPPORTED_PATCH, "UnsupportedMediaType")
                try:
                    data = orjson.loads(req.body)
                except orjson.JSONDecodeError as e:
                    raise WriteError(400, f"error decoding patch: {e}", "BadRequest") from None
                wanted = json_patch(current, data) if ptype == "json" else json_merge_patch(current, data)
                if isinstance(data, dict):
                    _check_rv(req, data, old)
            else:
                req.conn.send_status(405, "the server does not allow this method on the requested resource",
                                     details={})
                return
            replicas = ((wanted or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                cause = invalid("spec.replicas", replicas, "must be greater than or equal to 0")
                details = {"name": name, "group": "autoscaling", "kind": "Scale", "causes": [cause.as_dict()]}
                raise WriteError(422, invalid_message("Scale", "autoscaling", name, [cause]), "Invalid", details)
            new = copy.deepcopy(old)
            new["spec"]["replicas"] = replicas
            if new != old:
                new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
            managed.record_update(old, new, _manager(req), rtype.api_version, ts(time.time()))
            if _dry_run(req):
                req.conn.send_json(200, dict(_scale_of(rtype, old), spec={"replicas": replicas}))
                return
            stored = req.sim.store.put(rtype, new)
            _react(req, rtype, new)
            req.conn.send_json(200, _scale_of(rtype, stored.to_dict()))
    except PatchError:
        req.conn.send_status(422, "the server rejected our request due to an error in our request", "Invalid", {})
    except WriteError as e:
        _send_error(req, e)


def evict(req: ResourceRequest) -> None:
    """POST pods/NAME/eviction: deletes the pod gracefully unless a PodDisruptionBudget forbids it (429)."""
    name = req.name or ""
    try:
        body = _load(req, "Eviction")
    except WriteError as e:
        _send_error(req, e)
        return
    if (body.get("metadata") or {}).get("name") not in (None, name):
        req.conn.send_status(400, f"name in URL does not match name in Eviction object: {name}", "BadRequest")
        return
    opts = body.get("deleteOptions") or {}
    grace = opts.get("gracePeriodSeconds")
    outcome, value = _controllers(req).evict(req.namespace or "", name, grace, _dry_run(req, opts))
    if outcome == "missing":
        obj_not_found(req, req.rtype, name)
    elif outcome == "multiple":
        req.conn.send_status(500, "This pod has more than one PodDisruptionBudget, which the eviction subresource "
                             "does not support.", "InternalError")
    elif outcome == "blocked":
        b: Budget = value
        cause = {"reason": "DisruptionBudget",
                 "message": f"The disruption budget {b.name} needs {b.desired} healthy pods and has {b.healthy} "
                            "currently"}
        req.conn.send_status(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                             "TooManyRequests", {"causes": [cause]})
    else:
        req.conn.send_bytes(201, b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}')


_SCALABLE = frozenset({"deployments", "statefulsets", "replicasets"})

ROUTES = [
    ResourceRoute(create, frozenset({"POST"}), accepts=stores_objects, named=False),
    ResourceRoute(update, frozenset({"PUT"}), accepts=stores_objects, named=True),
    ResourceRoute(patch, frozenset({"PATCH"}), accepts=stores_objects, named=True),
    ResourceRoute(delete, frozenset({"DELETE"}), accepts=stores_objects, named=True),
    # The handler answers 405 itself for methods other than GET/PUT/PATCH (after RBAC, like kube-apiserver).
    ResourceRoute(scale, frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}), resources=_SCALABLE,
                  sub="scale"),
    ResourceRoute(evict, frozenset({"POST"}), resources=frozenset({"pods"}), sub="eviction", named=True),
]
