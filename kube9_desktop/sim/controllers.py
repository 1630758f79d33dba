"""The sim's controllers and kubelet: what makes the cluster react to writes.

One background thread runs, every 100 ms or at once when a write kicks it:

* the kubelet's side of graceful deletion: a pod marked for deletion (``deletionTimestamp``) goes away when its
  containers have stopped, after ``min(grace period, pace.stop)`` (``--pod-stop-seconds``); a pod annotated
  ``sim.kube9.io/stuck-terminating: "true"`` never stops, for "force delete a pod stuck Terminating");
* the garbage collector: dependents of a deleted owner (ownerReferences) are deleted (Background propagation);
  Foreground owners wait for their dependents; a deleted namespace empties, then goes;
* Deployments (a ReplicaSet per pod template: a restart or a new image rolls to a new one within maxSurge and
  maxUnavailable, see :func:`~kube9_desktop.sim.workloads.rollout`), ReplicaSets (new pods come up at the sim's
  pace, :mod:`~kube9_desktop.sim.pod_lifecycle`), StatefulSets (ordinal pods, outdated pods replaced one at a
  time), DaemonSets (a pod per node), Jobs (pods that complete after a moment) and PodDisruptionBudget status.

Handlers call :meth:`Controllers.delete` / :meth:`Controllers.evict` for deletion semantics and
:meth:`Controllers.kick` after any write to a workload. Work only starts from writes through the API (the random
churn does not kick controllers), so a sim nobody writes to behaves as before.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kube9_desktop.sim.events import EventRecorder
from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.pod_lifecycle import Pace, begin
from kube9_desktop.sim.resources import BY_NAME, RESOURCES, ResourceType
from kube9_desktop.sim.store import Obj, Store
from kube9_desktop.sim.workloads import (
    ORDER,
    RECONCILE,
    owned_by,
    pod_ready,
    selector_matches,
    terminating,
)

PODS = BY_NAME["pods"]
STUCK = "sim.kube9.io/stuck-terminating"
TICK = 0.1

#: Owner kind → the resource its controller reconciles.
OWNER_RESOURCE = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets",
                  "Job": "jobs", "Deployment": "deployments"}


@dataclass
class Budget:
    """A PodDisruptionBudget's numbers at one moment."""

    name: str
    expected: int
    healthy: int
    desired: int

    @property
    def allowed(self) -> int:
        """Disruptions allowed now."""
        return max(0, self.healthy - self.desired)


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        x = total * float(value[:-1]) / 100
        return math.ceil(x) if round_up else math.floor(x)
    return int(value)


class Controllers:
    """The reconcile loop (see the module docstring).

    Args:
        store: The sim's store.
        stop_seconds: How long a pod's containers take to stop after SIGTERM (capped by its grace period); default
            the pace's.
        events: The sim's Event recorder.
        pace: How long new pods take to start and become ready, and stopped ones to go (default
            :meth:`Pace.default`).
    """

    def __init__(self, store: Store, stop_seconds: float | None = None, events: EventRecorder | None = None,
                 pace: Pace | None = None) -> None:
        self.store = store
        #: Where the kubelet and scheduler record Events (Scheduled ... Started, Killing), if anywhere.
        self.events = events
        #: How long new pods take to start and become ready, and stopped pods to go (``--pod-*-seconds``).
        self.pace = pace or Pace.default()
        if stop_seconds is not None:
            self.pace = Pace(self.pace.start, self.pace.ready, stop_seconds)
        self.generator: Generator | None = None
        self._lock = threading.Lock()
        self._dirty: set[tuple[str, str | None, str]] = set()
        self._gc: list[tuple[str | None, str]] = []
        self._terminating: dict[tuple[str, str], tuple[float, str]] = {}
        self._foreground: set[tuple[str, str | None, str]] = set()
        self._namespaces: set[str] = set()
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_node = 0

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, generator: Generator) -> None:
        """Starts the loop (the generator makes new pods look like the built ones)."""
        self.generator = generator
        self._thread = threading.Thread(target=self._run, name="kube9-sim-controllers", daemon=True)
        self._thread.start()

    @property
    def stop_seconds(self) -> float:
        """How long a pod's containers take to stop after SIGTERM (capped by its grace period)."""
        return self.pace.stop

    def set_pace(self, pace: Pace) -> None:
        """Pace pods created and deleted from now on."""
        self.pace = pace

    def stop(self) -> None:
        """Stops the loop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def kick(self, resource: str, namespace: str | None, name: str) -> None:
        """Asks for ``resource`` ``namespace/name`` to be reconciled soon."""
        with self._lock:
            self._dirty.add((resource, namespace, name))
        self._wake.set()

    def after(self, seconds: float, fn: Callable[[], None]) -> None:
        """Runs ``fn`` on the loop after ``seconds``."""
        with self._lock:
            self._timers.append((time.monotonic() + seconds, fn))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            try:
                self.step()
            except Exception:  # a controller bug must not end the loop; the next write retries
                import traceback

                traceback.print_exc()

    def step(self) -> None:
        """One pass over everything due (tests may call it directly)."""
        now = time.monotonic()
        with self._lock:
            due = [t for t in self._timers if t[0] <= now]
            self._timers = [t for t in self._timers if t[0] > now]
            ended = [(k, uid) for k, (at, uid) in self._terminating.items() if at <= now]
            for k, _ in ended:
                del self._terminating[k]
            gc_queue, self._gc = self._gc, []
        for _, timer in due:
            timer()
        for (pod_ns, pod_name), uid in ended:
            self._kubelet_removes(pod_ns, pod_name, uid)
        for owner_ns, uid in gc_queue:
            self._collect(owner_ns, uid)
        self._finish_foreground()
        self._finish_namespaces()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        for resource, ns, name in sorted(dirty, key=lambda d: ORDER.get(d[0], 9)):
            reconcile = RECONCILE.get(resource)
            if reconcile is not None:
                with self.store.lock:
                    reconcile(self, ns, name)

    # -- deletion --------------------------------------------------------------------------------------------
    def delete(self, rtype: ResourceType, namespace: str | None, name: str, grace: int | None,
               propagation: str | None, dry_run: bool = False) -> tuple[dict[str, Any], bool] | None:
        """Deletes like kube-apiserver: returns ``(object, gone_now)`` or None when there is no such object.

        Pods bound to a node are marked (``deletionTimestamp`` = now + grace) and go when the kubelet has stopped
        them; ``grace=0`` removes them at once. A namespace turns Terminating and empties first. Other objects
        go at once; their dependents follow (Background), are released (Orphan), or go first (Foreground).
        """
        with self.store.lock:
            obj = self.store.get(rtype, namespace, name)
            if obj is None:
                return None
            d = obj.to_dict()
            md = d["metadata"]
            if rtype is PODS:
                return self._delete_pod(d, grace, dry_run)
            if terminating(d):
                return d, False
            if rtype.name == "namespaces":
                md["deletionTimestamp"] = ts(time.time())
                d.setdefault("spec", {})["finalizers"] = ["kubernetes"]
                d.setdefault("status", {})["phase"] = "Terminating"
                if not dry_run:
                    self.store.put(rtype, d)
                    with self._lock:
                        self._namespaces.add(name)
                    self._wake.set()
                return d, False
            if dry_run:
                return d, True
            if propagation == "Orphan":
                self._orphan(namespace, md["uid"])
            elif propagation == "Foreground":
                md["deletionTimestamp"] = ts(time.time())
                md["deletionGracePeriodSeconds"] = 0
                md["finalizers"] = [*(md.get("finalizers") or []), "foregroundDeletion"]
                self.store.put(rtype, d)
                with self._lock:
                    self._foreground.add((rtype.name, namespace, name))
                    self._gc.append((namespace, md["uid"]))
                self._wake.set()
                return d, False
            self.store.delete(rtype, namespace, name)
            with self._lock:
                self._gc.append((namespace, md["uid"]))
            self._wake.set()
            return d, True

    def _delete_pod(self, d: dict[str, Any], grace: int | None, dry_run: bool) -> tuple[dict[str, Any], bool]:
        md, spec = d["metadata"], d.get("spec") or {}
        phase = (d.get("status") or {}).get("phase")
        if grace is None:
            grace = int(spec.get("terminationGracePeriodSeconds", 30))
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            grace = 0  # nothing runs it: kube-apiserver deletes such pods at once
        terminating_before = terminating(d)
        if terminating_before and grace != 0:
            return d, False  # already on its way; deleting again changes nothing
        now = time.time()
        md["deletionTimestamp"] = ts(now + grace)
        md["deletionGracePeriodSeconds"] = grace
        if dry_run:
            return d, grace == 0
        ns, name = md["namespace"], md["name"]
        if self.events is not None and not terminating_before:
            self.events.pod_killed(d)
        if grace == 0:
            self.store.delete(PODS, ns, name, final=d)
            with self._lock:
                self._terminating.pop((ns, name), None)
                self._gc.append((ns, md["uid"]))
            self.kick_owner(d)
            return d, True
        self.store.put(PODS, d)
        if (md.get("annotations") or {}).get(STUCK) != "true":
            with self._lock:
                self._terminating[(ns, name)] = (time.monotonic() + min(grace, self.stop_seconds), md["uid"])
        self.kick_owner(d)
        self._wake.set()
        return d, False

    def _kubelet_removes(self, ns: str, name: str, uid: str) -> None:
        with self.store.lock:
            obj = self.store.get(PODS, ns, name)
            if obj is None:
                return
            d = obj.to_dict()
            if d["metadata"].get("uid") != uid or not terminating(d):
                return
            st = d.setdefault("status", {})
            for cs in st.get("containerStatuses") or []:
                cs["ready"] = False
                cs["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": ts(time.time())}}
            self.store.delete(PODS, ns, name, final=d)
        self.kick_owner(d)

    def kick_owner(self, pod: dict[str, Any]) -> None:
        """Asks for the controllers owning ``pod`` (and its namespace's budgets) to reconcile."""
        ns = pod["metadata"].get("namespace")
        for ref in pod["metadata"].get("ownerReferences") or []:
            res = OWNER_RESOURCE.get(ref.get("kind", ""))
            if res:
                self.kick(res, ns, ref.get("name", ""))
        if ns:
            for pdb in self.store.scan(BY_NAME["poddisruptionbudgets"], ns, "", None, 0)[0]:
                self.kick("poddisruptionbudgets", ns, pdb.name)

    def _dependents(self, namespace: str | None, uid: str) -> list[tuple[ResourceType, Obj]]:
        out = []
        for rt in RESOURCES:
            if not rt.namespaced or rt.verbs == ("create",):
                continue
            for o in self.store.scan(rt, namespace, "", None, 0)[0]:
                if owned_by(o.to_dict(), uid):
                    out.append((rt, o))
        return out

    def _collect(self, namespace: str | None, uid: str) -> None:
        """The garbage collector: delete what ``uid`` owned (Background)."""
        if namespace is None:
            return
        for rt, o in self._dependents(namespace, uid):
            self.delete(rt, o.namespace, o.name, None, "Background")

    def _orphan(self, namespace: str | None, uid: str) -> None:
        if namespace is None:
            return
        for rt, o in self._dependents(namespace, uid):
            d = o.to_dict()
            d["metadata"]["ownerReferences"] = [r for r in d["metadata"].get("ownerReferences") or []
                                                if r.get("uid") != uid]
            if not d["metadata"]["ownerReferences"]:
                d["metadata"].pop("ownerReferences")
            self.store.put(rt, d)

    def _finish_foreground(self) -> None:
        with self._lock:
            waiting = list(self._foreground)
        for res, ns, name in waiting:
            rt = BY_NAME[res]
            with self.store.lock:
                obj = self.store.get(rt, ns, name)
                if obj is None:
                    done = True
                else:
                    uid = obj.to_dict()["metadata"]["uid"]
                    done = not self._dependents(ns, uid)
                    if done:
                        self.store.delete(rt, ns, name)
            if done:
                with self._lock:
                    self._foreground.discard((res, ns, name))

    def _finish_namespaces(self) -> None:
        with self._lock:
            names = list(self._namespaces)
        for ns in names:
            left = 0
            for rt in RESOURCES:
                if not rt.namespaced or rt.verbs == ("create",):
                    continue
                for o in self.store.scan(rt, ns, "", None, 0)[0]:
                    left += 1
                    if not terminating(o.to_dict()):
                        self.delete(rt, ns, o.name, None, "Background")
            if not left:
                self.store.delete(BY_NAME["namespaces"], None, ns)
                with self._lock:
                    self._namespaces.discard(ns)

    # -- eviction --------------------------------------------------------------------------------------------
    def budgets_for(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The PodDisruptionBudgets whose selector matches ``pod``."""
        ns = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        out = []
        for o in self.store.scan(BY_NAME["poddisruptionbudgets"], ns, "", None, 0)[0]:
            d = o.to_dict()
            if selector_matches((d.get("spec") or {}).get("selector"), labels):
                out.append(d)
        return out

    def budget(self, pdb: dict[str, Any]) -> Budget:
        """A budget's numbers from the pods as they are now."""
        ns = pdb["metadata"]["namespace"]
        spec = pdb.get("spec") or {}
        pods = [o.to_dict() for o in self.store.scan(PODS, ns, "", None, 0)[0]]
        pods = [p for p in pods if selector_matches(spec.get("selector"), p["metadata"].get("labels") or {})]
        expected = len(pods)
        healthy = sum(1 for p in pods if pod_ready(p))
        if spec.get("minAvailable") is not None:
            desired = _scaled(spec["minAvailable"], expected, round_up=True)
        elif spec.get("maxUnavailable") is not None:
            desired = max(0, expected - _scaled(spec["maxUnavailable"], expected, round_up=True))
        else:
            desired = expected
        return Budget(pdb["metadata"]["name"], expected, healthy, desired)

    def evict(self, namespace: str, name: str, grace: int | None, dry_run: bool) -> tuple[str, Any]:
        """The eviction subresource: ``("evicted", pod)``, ``("blocked", Budget)``, ``("multiple", names)``
        or ``("missing", None)``."""
        with self.store.lock:
            obj = self.store.get(PODS, namespace, name)
            if obj is None:
                return "missing", None
            pod = obj.to_dict()
            phase = (pod.get("status") or {}).get("phase")
            if not terminating(pod) and phase not in ("Succeeded", "Failed"):
                budgets = self.budgets_for(pod)
                if len(budgets) > 1:
                    return "multiple", [b["metadata"]["name"] for b in budgets]
                if budgets:
                    b = self.budget(budgets[0])
                    if pod_ready(pod) and b.allowed <= 0:
                        return "blocked", b
            result = self.delete(PODS, namespace, name, grace, None, dry_run)
            if not dry_run:
                for pdb in self.budgets_for(pod):
                    self.kick("poddisruptionbudgets", namespace, pdb["metadata"]["name"])
            return "evicted", result[0] if result else pod

    # -- pods ------------------------------------------------------------------------------------------------
    def nodes(self, schedulable: bool = True) -> list[str]:
        out = []
        for o in self.store.scan(BY_NAME["nodes"], None, "", None, 0)[0]:
            spec = o.to_dict().get("spec") or {}
            if schedulable and (spec.get("unschedulable") or any(
                    t.get("effect") == "NoSchedule" for t in spec.get("taints") or [])):
                continue
            out.append(o.name)
        return out

    def pick_node(self) -> str | None:
        nodes = self.nodes()
        if not nodes:
            return None
        self._next_node += 1
        return nodes[self._next_node % len(nodes)]

    def new_pod(self, ns: str, name: str, template: dict[str, Any], owner: dict[str, Any],
                node: str | None = None, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
        """Creates a pod from a pod template (scheduled round-robin on schedulable nodes); it comes up at the sim's
        pace (:mod:`~kube9_desktop.sim.pod_lifecycle`)."""
        gen = self.generator
        assert gen is not None
        tmd = template.get("metadata") or {}
        tspec = template.get("spec") or {}
        labels = dict(tmd.get("labels") or {}, **(extra_labels or {}))
        containers = copy.deepcopy(tspec.get("containers") or [{"name": "main", "image": "busybox"}])
        node = node or self.pick_node()
        pod = gen.pod(ns, name, labels, [owner], containers[0].get("image", ""), time.time() - 1, node=node,
                      healthy=True, load=False)
        md = pod["metadata"]
        md["creationTimestamp"] = ts(time.time())
        if tmd.get("annotations"):
            md["annotations"] = dict(tmd["annotations"])
        if node is None:
            pod["spec"].pop("nodeName", None)
            pod["status"] = {"phase": "Pending", "qosClass": "BestEffort", "conditions": [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": ts(time.time()), "reason": "Unschedulable",
                "message": "0/0 nodes are available: all nodes are unschedulable."}]}
        pod["spec"]["containers"] = containers
        for k in ("restartPolicy", "terminationGracePeriodSeconds"):
            if k in tspec:
                pod["spec"][k] = tspec[k]
        css = (pod.get("status") or {}).get("containerStatuses") or []
        if css:
            base = css[0]
            pod["status"]["containerStatuses"] = [dict(copy.deepcopy(base), name=c.get("name"), image=c.get("image"))
                                                  for c in containers]
        if node is not None:
            begin(self, pod)  # Pending, ContainerCreating, Running, Ready, paced like a kubelet
        self.store.put(PODS, pod)
        if self.events is not None:
            self.events.pod_started(pod)
        return pod

    def owner_ref(self, d: dict[str, Any], api_version: str) -> dict[str, Any]:
        md = d["metadata"]
        kind = _KIND_OF.get(api_version, "")
        return {"apiVersion": api_version.split("#")[0], "kind": kind, "name": md["name"], "uid": md["uid"],
                "controller": True, "blockOwnerDeletion": True}

    def owned_pods(self, ns: str, uid: str) -> list[dict[str, Any]]:
        return [d for d in (o.to_dict() for o in self.store.scan(PODS, ns, "", None, 0)[0]) if owned_by(d, uid)]

    def put_if_changed(self, rt: ResourceType, before: dict[str, Any], after: dict[str, Any]) -> None:
        if before != after:
            self.store.put(rt, after)

_KIND_OF = {"apps/v1#Deployment": "Deployment", "apps/v1#ReplicaSet": "ReplicaSet",
            "apps/v1#StatefulSet": "StatefulSet", "apps/v1#DaemonSet": "DaemonSet", "batch/v1#Job": "Job"}
