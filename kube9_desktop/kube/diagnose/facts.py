"""Gathering :class:`Facts` for one object from the API (blocking: run in a worker thread).

A pod: the pod, its events, the previous log of every container that terminated, its metrics, the claims it mounts.
A workload: the object, its pods by selector (the unhealthy ones get pod facts, at most :data:`MAX_PODS`), and for
a Deployment its ReplicaSets with their events. Anything that cannot be read is left out (the rules then say less);
only the object itself must be readable.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kube9_desktop.kube.diagnose.model import Facts
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.events import EventQuery, event_rows, list_events
from kube9_desktop.kube.metrics import GROUP_VERSION, explain_unavailable, parse_pod_metrics
from kube9_desktop.kube.overview import Ref, pod_failure

if TYPE_CHECKING:  # a type only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    from kube9_desktop.kube.client import ContextClient

MAX_PODS = 3
LOG_LINES = 10
#: Kind key → (API prefix, resource) of the workloads that select pods.
WORKLOADS = {
    "deployments": "/apis/apps/v1",
    "statefulsets": "/apis/apps/v1",
    "daemonsets": "/apis/apps/v1",
    "replicasets": "/apis/apps/v1",
    "jobs": "/apis/batch/v1",
}


def _path(prefix: str, namespace: str, resource: str, name: str = "") -> str:
    p = f"{prefix}/namespaces/{quote(namespace, safe='')}/{resource}"
    return f"{p}/{quote(name, safe='')}" if name else p


def _events(client: ContextClient, namespace: str, kind: str, name: str, uid: str) -> list[Any]:
    try:
        return event_rows(list_events(client, EventQuery(namespace, kind, name, uid)))
    except KubeError:
        return []


def _previous_log(client: ContextClient, namespace: str, pod: str, container: str) -> list[str]:
    try:
        resp = client.send("GET", _path("/api/v1", namespace, "pods", pod) + "/log",
                           query=[("container", container), ("previous", "true"), ("tailLines", LOG_LINES)],
                           accept="text/plain", timeout=10)
    except KubeError:
        return []
    return resp.body.decode("utf-8", "replace").splitlines()[-LOG_LINES:]


def pod_facts(client: ContextClient, pod: dict[str, Any], now: float) -> Facts:
    """Facts about one pod already read."""
    md = pod.get("metadata") or {}
    ns, name = str(md.get("namespace", "")), str(md.get("name", ""))
    f = Facts(Ref("pods", ns, name), pod, now=now)
    f.events = _events(client, ns, "Pod", name, str(md.get("uid", "")))
    st = pod.get("status") or {}
    for cs in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]:
        if (cs.get("lastState") or {}).get("terminated"):
            f.previous_logs[str(cs.get("name"))] = _previous_log(client, ns, name, str(cs.get("name")))
    try:
        doc = client.send("GET", f"/apis/{GROUP_VERSION}/namespaces/{quote(ns, safe='')}/pods/{quote(name, safe='')}",
                          timeout=5).json()
        _, per = parse_pod_metrics({"items": [doc]})
        f.usage = per.get((ns, name), {})
    except KubeError as err:
        # No metrics: the OOM rule says less. A 404 is a pod metrics-server does not report (not running); a 503
        # or 403 is the API itself, said once with its reason (the APIService's condition after a 503).
        if err.status in (403, 503):
            f.metrics_problem = explain_unavailable(client, err).reason
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            try:
                f.pvcs[claim] = client.get_json(_path("/api/v1", ns, "persistentvolumeclaims", claim))
            except KubeError:
                pass
    return f


def _selector(obj: dict[str, Any]) -> str:
    sel = ((obj.get("spec") or {}).get("selector") or {})
    labels = sel.get("matchLabels") or {}
    parts = [f"{k}={v}" for k, v in sorted(labels.items())]
    for expr in sel.get("matchExpressions") or []:
        op, key, vals = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})", "Exists": f"{key}",
                      "DoesNotExist": f"!{key}"}.get(str(op), ""))
    return ",".join(p for p in parts if p)


def gather(client: ContextClient, kind: str, namespace: str, name: str, now: float | None = None) -> Facts:
    """Facts about a pod or a workload; raises KubeError when the object itself cannot be read."""
    t = time.time() if now is None else now
    if kind == "pods":
        pod = client.get_json(_path("/api/v1", namespace, "pods", name))
        return pod_facts(client, pod, t)
    prefix = WORKLOADS.get(kind)
    if prefix is None:
        raise KubeError(ErrorKind.INVALID, "Cannot diagnose", f"Diagnose explains pods and workloads, not {kind}.")
    obj = client.get_json(_path(prefix, namespace, kind, name))
    md = obj.get("metadata") or {}
    kind_name = str(obj.get("kind") or kind)
    f = Facts(Ref(kind, namespace, name), obj, now=t)
    f.events = _events(client, namespace, kind_name, name, str(md.get("uid", "")))
    sel = _selector(obj)
    if kind == "deployments" and sel:
        try:
            rss = client.get_json(_path(prefix, namespace, "replicasets"), [("labelSelector", sel)])
            f.replicasets = list(rss.get("items") or [])
        except KubeError:
            pass
        for rs in f.replicasets:
            rmd = rs.get("metadata") or {}
            f.rs_events += _events(client, namespace, "ReplicaSet", str(rmd.get("name")), str(rmd.get("uid", "")))
        f.rs_events.sort(key=lambda e: (-e.last_seen, e.name))
    if sel:
        try:
            pods = client.get_json(_path("/api/v1", namespace, "pods"), [("labelSelector", sel)]).get("items") or []
        except KubeError:
            pods = []
        bad = [p for p in pods if pod_failure(p, t) is not None or not _ready(p)]
        f.pods = [pod_facts(client, p, t) for p in bad[:MAX_PODS]]
    return f


def _ready(pod: dict[str, Any]) -> bool:
    st = pod.get("status") or {}
    if st.get("phase") == "Succeeded":
        return True
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
