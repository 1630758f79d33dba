"""Events the sim records as things happen (churn, scaling, deletes), like the scheduler and the kubelet would.

One :class:`EventRecorder` per sim: :meth:`EventRecorder.record` writes a core ``v1`` Event, or bumps ``count`` and
``lastTimestamp`` of the same event seen before (same object, reason and message), which is how the kubelet's
event correlator aggregates repeats. ``events.k8s.io/v1`` is served as a view of the same objects
(:func:`to_events_v1`), so both APIs always agree.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.store import Store

EVENTS = BY_NAME["events"]
#: Events the recorder keeps before deleting its oldest (kube-apiserver expires them after an hour).
MAX_RECORDED = 5000


class EventRecorder:
    """Records events into the store (thread-safe)."""

    def __init__(self, store: Store, seed: int = 1) -> None:
        self.store = store
        self.rng = random.Random(seed + 11)
        self._lock = threading.Lock()
        # (namespace, object uid, reason, message) -> event name, oldest first
        self._seen: OrderedDict[tuple[str, str, str, str], str] = OrderedDict()

    def record(
        self,
        obj: dict[str, Any],
        kind: str,
        reason: str,
        message: str,
        type_: str = "Normal",
        component: str = "kubelet",
        field_path: str = "",
        api_version: str = "v1",
    ) -> None:
        """An event about ``obj`` (a plain dict with ``metadata``); a repeat bumps the existing one's count."""
        md = obj.get("metadata") or {}
        ns = str(md.get("namespace") or "default")
        now = ts(time.time())
        key = (ns, str(md.get("uid", md.get("name", ""))), reason, message)
        with self._lock:
            name = self._seen.get(key)
            existing = self.store.get(EVENTS, ns, name) if name else None
            if existing is not None:
                d = existing.to_dict()
                d["count"] = int(d.get("count") or 1) + 1
                d["lastTimestamp"] = now
                self._seen.move_to_end(key)
                self.store.put(EVENTS, d)
                return
            name = f"{md.get('name', 'x')}.{self.rng.getrandbits(64):016x}"
            inv: dict[str, Any] = {
                "kind": kind,
                "namespace": ns,
                "name": md.get("name", ""),
                "uid": md.get("uid", ""),
                "apiVersion": api_version,
                "resourceVersion": md.get("resourceVersion", ""),
            }
            if field_path:
                inv["fieldPath"] = field_path
            source: dict[str, Any] = {"component": component}
            node = (obj.get("spec") or {}).get("nodeName")
            if component == "kubelet" and node:
                source["host"] = node
            self.store.put(EVENTS, {
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "selfLink": EVENTS.self_link(ns, name),
                    "uid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                    "creationTimestamp": now,
                },
                "involvedObject": inv,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": type_,
                "eventTime": None,
                "reportingComponent": "",
                "reportingInstance": "",
            })
            self._seen[key] = name
            while len(self._seen) > MAX_RECORDED:
                (old_ns, *_), old = self._seen.popitem(last=False)
                self.store.delete(EVENTS, old_ns, old)

    # -- what happens to pods -------------------------------------------------------------------------------------

    def pod_started(self, pod: dict[str, Any]) -> None:
        """Scheduled, Pulling, Pulled, Created, Started (a new pod on a node)."""
        md, spec = pod["metadata"], pod.get("spec") or {}
        node = spec.get("nodeName")
        if not node:
            self.record(pod, "Pod", "FailedScheduling", "0/3 nodes are available: insufficient cpu.", "Warning",
                        "default-scheduler")
            return
        self.record(pod, "Pod", "Scheduled", f"Successfully assigned {md['namespace']}/{md['name']} to {node}",
                    component="default-scheduler")
        for c in spec.get("containers") or []:
            fp = f"spec.containers{{{c['name']}}}"
            self.record(pod, "Pod", "Pulling", f'Pulling image "{c["image"]}"', field_path=fp)
            self.record(pod, "Pod", "Pulled", f'Successfully pulled image "{c["image"]}" in 1.2s', field_path=fp)
            self.record(pod, "Pod", "Created", f"Created container {c['name']}", field_path=fp)
            self.record(pod, "Pod", "Started", f"Started container {c['name']}", field_path=fp)

    def pod_killed(self, pod: dict[str, Any]) -> None:
        """Killing, for every container of a deleted pod."""
        for c in (pod.get("spec") or {}).get("containers") or []:
            self.record(pod, "Pod", "Killing", f"Stopping container {c['name']}",
                        field_path=f"spec.containers{{{c['name']}}}")

    def pod_restarted(self, pod: dict[str, Any], container: str) -> None:
        """BackOff (a crashed container restarted)."""
        self.record(pod, "Pod", "BackOff", "Back-off restarting failed container", "Warning",
                    field_path=f"spec.containers{{{container}}}")

    def pod_unhealthy(self, pod: dict[str, Any], container: str) -> None:
        """Unhealthy (a readiness probe failed)."""
        self.record(pod, "Pod", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    "Warning", field_path=f"spec.containers{{{container}}}")


def to_events_v1(core: dict[str, Any]) -> dict[str, Any]:
    """A core ``v1`` Event as ``events.k8s.io/v1`` serves it (the API server converts the same object)."""
    md = dict(core.get("metadata") or {})
    if md.get("selfLink"):
        md["selfLink"] = md["selfLink"].replace("/api/v1/", "/apis/events.k8s.io/v1/", 1)
    out: dict[str, Any] = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": md,
                           "eventTime": core.get("eventTime")}
    for src, dst in (("reportingComponent", "reportingController"), ("reportingInstance", "reportingInstance")):
        if core.get(src):
            out[dst] = core[src]
    out["reason"] = core.get("reason", "")
    out["regarding"] = core.get("involvedObject") or {}
    out["note"] = core.get("message", "")
    out["type"] = core.get("type", "")
    if core.get("source"):
        out["deprecatedSource"] = core["source"]
    for src, dst in (("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
                     ("count", "deprecatedCount")):
        if core.get(src) is not None:
            out[dst] = core[src]
    return out


#: ``events.k8s.io/v1`` field labels and the core ones they stand for.
V1_FIELDS = {
    "regarding.kind": "involvedObject.kind",
    "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reason": "reason",
    "reportingController": "reportingComponent",
    "type": "type",
}


def core_field_selector(expr: str) -> str:
    """An ``events.k8s.io/v1`` field selector in core field labels (unknown labels are left for the parser to
    refuse)."""
    parts = []
    for part in [p for p in expr.split(",") if p.strip()]:
        for op in ("!=", "==", "="):
            if op in part:
                key, val = part.split(op, 1)
                parts.append(f"{V1_FIELDS.get(key.strip(), key.strip())}{op}{val}")
                break
        else:
            parts.append(part)
    return ",".join(parts)
