"""Server-side Table printing: column definitions and row cells per kind, like kube-apiserver's printers."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Any

from kube9_desktop.sim._sample_columns import CRONJOB_COLUMNS, DEPLOYMENT_COLUMNS, NODE_COLUMNS, POD_COLUMNS

NONE = "<none>"
_NAME_COL = POD_COLUMNS[0]
_AGE_DESC = POD_COLUMNS[4]["description"]

Cells = list[Any]
Ages = tuple[tuple[int, float], ...]


def _col(name: str, desc: str = "", type_: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": desc, "priority": priority}


def _age() -> dict[str, Any]:
    return _col("Age", _AGE_DESC)


def parse_time(ts: str | None) -> float:
    """RFC 3339 ``...Z`` timestamp to Unix seconds (0 when absent)."""
    if not ts:
        return 0.0
    # Hand-rolled instead of strptime: it runs for every generated object and strptime dominated start-up.
    try:
        return float(
            calendar.timegm(
                (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]), int(ts[17:19]), 0, 0, 0)
            )
        )
    except ValueError:
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def human_duration(seconds: float) -> str:
    """Formats an age exactly like apimachinery's ``duration.HumanDuration`` (what kubectl prints)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y{dy}d" if dy else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _created(o: dict[str, Any]) -> float:
    return parse_time(o["metadata"].get("creationTimestamp"))


def _selector(sel: dict[str, Any] | None) -> str:
    if not sel:
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        parts.append(f"{e['key']} {e['operator'].lower()} ({','.join(e.get('values') or [])})")
    return ",".join(parts) or NONE


def _containers(o: dict[str, Any]) -> tuple[str, str]:
    spec = o["spec"]
    tmpl = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
    cs = tmpl.get("spec", {}).get("containers") or []
    return ",".join(c["name"] for c in cs), ",".join(c["image"] for c in cs)


def pod_status(o: dict[str, Any]) -> str:
    """The STATUS column kubectl shows for a pod (a simplified ``printPod``)."""
    status = o.get("status", {})
    reason = status.get("reason") or status.get("phase") or "Unknown"
    inits = status.get("initContainerStatuses") or []
    for i, cs in enumerate(inits):  # kubectl's printPod: an unfinished init container names the status
        state = cs.get("state", {})
        term, waiting = state.get("terminated") or {}, state.get("waiting") or {}
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        return "Terminating" if o["metadata"].get("deletionTimestamp") else str(reason)
    for cs in reversed(status.get("containerStatuses") or []):
        state = cs.get("state", {})
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    if o["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod(o: dict[str, Any]) -> tuple[Cells, Ages]:
    status = o.get("status", {})
    css = status.get("containerStatuses") or []
    total = len(o["spec"].get("containers") or [])
    ready = sum(1 for c in css if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in css)
    gates = o["spec"].get("readinessGates")
    cells = [
        o["metadata"]["name"],
        f"{ready}/{total}",
        pod_status(o),
        restarts,
        None,
        status.get("podIP") or NONE,
        o["spec"].get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        f"{len(gates)}" if gates else NONE,
    ]
    return cells, ((4, _created(o)),)


def _node(o: dict[str, Any]) -> tuple[Cells, Ages]:
    status = o["status"]
    ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
    st = "Ready" if ready and ready["status"] == "True" else "NotReady"
    if o["spec"].get("unschedulable"):
        st += ",SchedulingDisabled"
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in o["metadata"].get("labels", {}) if k.startswith(prefix))
    addrs = {a["type"]: a["address"] for a in status.get("addresses", [])}
    info = status.get("nodeInfo", {})
    cells = [
        o["metadata"]["name"],
        st,
        ",".join(roles) or NONE,
        None,
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", NONE),
        addrs.get("ExternalIP", NONE),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]
    return cells, ((3, _created(o)),)


def _deployment(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    cells = [
        o["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{o['spec'].get('replicas', 0)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        None,
        names,
        images,
        _selector(o["spec"].get("selector")),
    ]
    return cells, ((4, _created(o)),)


def _replicaset(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    cells = [
        o["metadata"]["name"],
        o["spec"].get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        None,
        names,
        images,
        _selector(o["spec"].get("selector")),
    ]
    return cells, ((4, _created(o)),)


def _statefulset(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    cells = [o["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{o['spec'].get('replicas', 0)}", None, names, images]
    return cells, ((2, _created(o)),)


def _daemonset(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    ns = o["spec"].get("template", {}).get("spec", {}).get("nodeSelector") or {}
    cells = [
        o["metadata"]["name"],
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in sorted(ns.items())) or NONE,
        None,
        names,
        images,
        _selector(o["spec"].get("selector")),
    ]
    return cells, ((7, _created(o)),)


def _job(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = human_duration(end - start) if start and end else ""
    cells = [
        o["metadata"]["name"],
        f"{st.get('succeeded', 0)}/{o['spec'].get('completions', 1)}",
        duration,
        None,
        names,
        images,
        _selector(o["spec"].get("selector")),
    ]
    return cells, ((3, _created(o)),)


def _cronjob(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    names, images = _containers(o)
    last = parse_time(st.get("lastScheduleTime"))
    cells = [
        o["metadata"]["name"],
        o["spec"]["schedule"],
        "True" if o["spec"].get("suspend") else "False",
        len(st.get("active") or []),
        None if last else NONE,
        None,
        names,
        images,
        NONE,
    ]
    ages: list[tuple[int, float]] = [(5, _created(o))]
    if last:
        ages.insert(0, (4, last))
    return cells, tuple(ages)


def _service(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec = o["spec"]
    ports = ",".join(
        f"{p['port']}/{p.get('protocol', 'TCP')}"
        if not p.get("nodePort")
        else f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports", [])
    )
    ingress = o.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    ext = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    if not ext:
        ext = "<pending>" if spec.get("type") == "LoadBalancer" else NONE
    sel = spec.get("selector")
    cells = [
        o["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", NONE),
        ext,
        ports or NONE,
        None,
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) if sel else NONE,
    ]
    return cells, ((5, _created(o)),)


def _namespace(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [o["metadata"]["name"], o.get("status", {}).get("phase", "Active"), None], ((2, _created(o)),)


def _configmap(o: dict[str, Any]) -> tuple[Cells, Ages]:
    n = len(o.get("data") or {}) + len(o.get("binaryData") or {})
    return [o["metadata"]["name"], n, None], ((2, _created(o)),)


def _secret(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [o["metadata"]["name"], o.get("type", "Opaque"), len(o.get("data") or {}), None], ((3, _created(o)),)


def _pvc(o: dict[str, Any]) -> tuple[Cells, Ages]:
    st = o.get("status", {})
    cells = [
        o["metadata"]["name"],
        st.get("phase", "Pending"),
        o["spec"].get("volumeName", ""),
        st.get("capacity", {}).get("storage", ""),
        ",".join(_modes(st.get("accessModes") or [])),
        o["spec"].get("storageClassName", ""),
        None,
        o["spec"].get("volumeMode", "Filesystem"),
    ]
    return cells, ((6, _created(o)),)


def _modes(modes: list[str]) -> list[str]:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
    return [short.get(m, m) for m in modes]


def _pv(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec, st = o["spec"], o.get("status", {})
    ref = spec.get("claimRef")
    claim = f"{ref['namespace']}/{ref['name']}" if ref else ""
    cells = [
        o["metadata"]["name"],
        spec.get("capacity", {}).get("storage", ""),
        ",".join(_modes(spec.get("accessModes") or [])),
        spec.get("persistentVolumeReclaimPolicy", ""),
        st.get("phase", ""),
        claim,
        spec.get("storageClassName", ""),
        st.get("reason", ""),
        None,
        spec.get("volumeMode", "Filesystem"),
    ]
    return cells, ((8, _created(o)),)


def _event(o: dict[str, Any]) -> tuple[Cells, Ages]:
    inv = o.get("involvedObject", {})
    obj = f"{inv.get('kind', '').lower()}/{inv.get('name', '')}"
    src = o.get("source", {})
    source = ", ".join(x for x in (src.get("component"), src.get("host")) if x)
    cells = [
        None,
        o.get("type", ""),
        o.get("reason", ""),
        obj,
        inv.get("fieldPath", ""),
        source,
        o.get("message", ""),
        None,
        o.get("count", 1),
        o["metadata"]["name"],
    ]
    return cells, ((0, parse_time(o.get("lastTimestamp"))), (7, parse_time(o.get("firstTimestamp"))))


def _ingress(o: dict[str, Any]) -> tuple[Cells, Ages]:
    spec = o["spec"]
    hosts = ",".join(r.get("host", "*") for r in spec.get("rules", [])) or "*"
    lb = o.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    addr = ",".join(i.get("ip") or i.get("hostname", "") for i in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [o["metadata"]["name"], spec.get("ingressClassName") or NONE, hosts, addr, ports, None], ((5, _created(o)),)


def _storageclass(o: dict[str, Any]) -> tuple[Cells, Ages]:
    name = o["metadata"]["name"]
    if o["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    cells = [
        name,
        o.get("provisioner", ""),
        o.get("reclaimPolicy", "Delete"),
        o.get("volumeBindingMode", "Immediate"),
        bool(o.get("allowVolumeExpansion", False)),
        None,
    ]
    return cells, ((5, _created(o)),)


def _crd(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [o["metadata"]["name"], o["metadata"]["creationTimestamp"]], ()


def _generic(o: dict[str, Any]) -> tuple[Cells, Ages]:
    return [o["metadata"]["name"], None], ((1, _created(o)),)


_WORKLOAD_TAIL = [
    _col("Containers", "Names of each container in the template.", priority=1),
    _col("Images", "Images referenced by each container in the template.", priority=1),
]
_SELECTOR = _col("Selector", "Label selector for pods.", priority=1)

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Pod": POD_COLUMNS,
    "Node": NODE_COLUMNS,
    "Deployment": DEPLOYMENT_COLUMNS,
    "CronJob": CRONJOB_COLUMNS,
    "ReplicaSet": [
        _NAME_COL,
        _col("Desired", "Number of desired pods.", "integer"),
        _col("Current", "Number of actual replicas.", "integer"),
        _col("Ready", "Number of ready replicas.", "integer"),
        _age(),
        *_WORKLOAD_TAIL,
        _SELECTOR,
    ],
    "StatefulSet": [_NAME_COL, _col("Ready", "Number of the pod with ready state"), _age(), *_WORKLOAD_TAIL],
    "DaemonSet": [
        _NAME_COL,
        _col("Desired", "The desired number of nodes.", "integer"),
        _col("Current", "The number of nodes running a daemon pod.", "integer"),
        _col("Ready", "The number of nodes with a ready daemon pod.", "integer"),
        _col("Up-to-date", "The number of nodes running the updated daemon pod.", "integer"),
        _col("Available", "The number of nodes with an available daemon pod.", "integer"),
        _col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit."),
        _age(),
        *_WORKLOAD_TAIL,
        _SELECTOR,
    ],
    "Job": [
        _NAME_COL,
        _col("Completions", "The desired number of successfully finished pods."),
        _col("Duration", "Time required to complete the job."),
        _age(),
        *_WORKLOAD_TAIL,
        _SELECTOR,
    ],
    "Service": [
        _NAME_COL,
        _col("Type", "Determines how the Service is exposed."),
        _col("Cluster-IP", "The IP address of the service."),
        _col("External-IP", "External IPs of the service."),
        _col("Port(s)", "The list of ports that are exposed by this service."),
        _age(),
        _col(
            "Selector", "Route service traffic to pods with label keys and values matching this selector.", priority=1
        ),
    ],
    "Namespace": [_NAME_COL, _col("Status", "The status of the namespace"), _age()],
    "ConfigMap": [_NAME_COL, _col("Data", "Number of keys in the config map.", "integer"), _age()],
    "Secret": [
        _NAME_COL,
        _col("Type", "The type of the secret"),
        _col("Data", "The number of keys in the secret.", "integer"),
        _age(),
    ],
    "PersistentVolumeClaim": [
        _NAME_COL,
        _col("Status", "The phase of the claim."),
        _col("Volume", "The bound volume."),
        _col("Capacity", "The capacity."),
        _col("Access Modes", "The access modes."),
        _col("StorageClass", "The storage class."),
        _age(),
        _col("VolumeMode", "The volume mode.", priority=1),
    ],
    "PersistentVolume": [
        _NAME_COL,
        _col("Capacity", "The capacity."),
        _col("Access Modes", "The access modes."),
        _col("Reclaim Policy", "The reclaim policy."),
        _col("Status", "The phase."),
        _col("Claim", "The bound claim."),
        _col("StorageClass", "The storage class."),
        _col("Reason", "The reason."),
        _age(),
        _col("VolumeMode", "The volume mode.", priority=1),
    ],
    "Event": [
        _col("Last Seen", "The last time this event was observed."),
        _col("Type", "Type of the event."),
        _col("Reason", "Why the event happened."),
        _col("Object", "The object the event is about."),
        _col("Subobject", "The field of the object.", priority=1),
        _col("Source", "The component reporting this event.", priority=1),
        _col("Message", "A human-readable description."),
        _col("First Seen", "The first time this event was observed.", priority=1),
        _col("Count", "How many times this event occurred.", "integer", priority=1),
        {**_NAME_COL, "priority": 1},
    ],
    "Ingress": [
        _NAME_COL,
        _col("Class", "The name of the IngressClass."),
        _col("Hosts", "Hosts."),
        _col("Address", "Address is a list containing ingress points for the load-balancer"),
        _col("Ports", "Ports of TLS configurations that open"),
        _age(),
    ],
    "StorageClass": [
        _NAME_COL,
        _col("Provisioner", "Indicates the type of the provisioner."),
        _col("ReclaimPolicy", "Dynamically provisioned volumes reclaim policy."),
        _col("VolumeBindingMode", "How PersistentVolumeClaims should be provisioned and bound."),
        _col("AllowVolumeExpansion", "Shows whether the storage class allow volume expand", "boolean"),
        _age(),
    ],
    "CustomResourceDefinition": [_NAME_COL, _col("Created At", "", "date")],
}
GENERIC_COLUMNS = [_NAME_COL, _age()]

_CELLS: dict[str, Callable[[dict[str, Any]], tuple[Cells, Ages]]] = {
    "Pod": _pod,
    "Node": _node,
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "Job": _job,
    "CronJob": _cronjob,
    "Service": _service,
    "Namespace": _namespace,
    "ConfigMap": _configmap,
    "Secret": _secret,
    "PersistentVolumeClaim": _pvc,
    "PersistentVolume": _pv,
    "Event": _event,
    "Ingress": _ingress,
    "StorageClass": _storageclass,
    "CustomResourceDefinition": _crd,
}


def columns(kind: str) -> list[dict[str, Any]]:
    """Column definitions for ``kind``."""
    return COLUMNS.get(kind, GENERIC_COLUMNS)


def cells(kind: str, obj: dict[str, Any]) -> tuple[Cells, Ages]:
    """Row cells for an object; the ``Ages`` entries name cells to fill with an age at request time."""
    return _CELLS.get(kind, _generic)(obj)


def render_cells(row: Cells, ages: Ages, now: float) -> Cells:
    """Fills the time-dependent cells (ages) of a row for ``now``."""
    if not ages:
        return row
    out = list(row)
    for idx, ts in ages:
        out[idx] = human_duration(now - ts) if ts else NONE
    return out


# The kinds added for "every kind" register their printers from their own module (this one is past its budget).
from kube9_desktop.sim import tables_extra  # noqa: E402,F401
