"""What the sim's workload controllers do on each reconcile (called by :class:`~kube9_desktop.sim.controllers.
Controllers` under the store lock): Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and
PodDisruptionBudget status; plus the pod helpers they share with deletion and eviction."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.resources import BY_NAME

if TYPE_CHECKING:
    from kube9_desktop.sim.controllers import Controllers

PODS = BY_NAME["pods"]


def terminating(d: dict[str, Any]) -> bool:
    """Whether an object is marked for deletion."""
    return bool((d.get("metadata") or {}).get("deletionTimestamp"))


def owned_by(d: dict[str, Any], uid: str) -> bool:
    """Whether ``d`` names ``uid`` among its ownerReferences."""
    return any(o.get("uid") == uid for o in (d.get("metadata") or {}).get("ownerReferences") or [])


def pod_ready(d: dict[str, Any]) -> bool:
    """Running, every container ready, not terminating."""
    st = d.get("status") or {}
    css = st.get("containerStatuses") or []
    return st.get("phase") == "Running" and bool(css) and all(c.get("ready") for c in css) and not terminating(d)


def _sig(template: dict[str, Any]) -> str:
    """What identifies a pod template revision: annotations, labels (minus the hash label), container images."""
    md = template.get("metadata") or {}
    labels = {k: v for k, v in (md.get("labels") or {}).items() if k not in ("pod-template-hash",
                                                                            "controller-revision-hash")}
    images = [(c.get("name"), c.get("image")) for c in (template.get("spec") or {}).get("containers") or []]
    return json.dumps([md.get("annotations") or {}, labels, images], sort_keys=True)


def template_hash(template: dict[str, Any]) -> str:
    """A 10-character hash of a pod template's revision (``pod-template-hash``)."""
    digest = hashlib.sha256(_sig(template).encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    n = int(digest[:16], 16)
    out = ""
    for _ in range(10):
        n, r = divmod(n, len(alphabet))
        out += alphabet[r]
    return out


def pod_matches(pod: dict[str, Any], template: dict[str, Any]) -> bool:
    """Whether a pod runs the template's current revision (restart annotation, images)."""
    want = (template.get("metadata") or {}).get("annotations") or {}
    have = (pod.get("metadata") or {}).get("annotations") or {}
    if any(have.get(k) != v for k, v in want.items()):
        return False
    images = [c.get("image") for c in (template.get("spec") or {}).get("containers") or []]
    return images == [c.get("image") for c in (pod.get("spec") or {}).get("containers") or []]


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; an empty selector matches nothing."""
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


class _Live(NamedTuple):
    """A namespaced controller object to act on: ``(resource type, object, copy as it was, namespace)``, and what
    the controllers read of its spec."""

    rt: Any
    obj: dict[str, Any]
    before: dict[str, Any]
    ns: str

    @property
    def uid(self) -> str:
        uid: str = self.obj["metadata"]["uid"]
        return uid

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.obj.get("spec") or {}
        return spec

    @property
    def replicas(self) -> int:
        return int(self.spec.get("replicas", 1))

    @property
    def template(self) -> dict[str, Any]:
        template: dict[str, Any] = self.spec.get("template") or {}
        return template


def _live(ctl: Controllers, plural: str, ns: str | None, name: str) -> _Live | None:
    """The namespaced controller object if it exists and is not being deleted, else ``None`` (nothing for its
    controller to do)."""
    rt = BY_NAME[plural]
    obj = ctl.store.get(rt, ns, name)
    if obj is None or ns is None:
        return None
    d = obj.to_dict()
    if terminating(d):
        return None
    return _Live(rt, d, copy.deepcopy(d), ns)


def deployment(ctl: Controllers, ns: str | None, name: str) -> None:
    rs_rt = BY_NAME["replicasets"]
    live = _live(ctl, "deployments", ns, name)
    if live is None:
        return
    rt, d, before, ns = live
    uid, spec, replicas, tmpl = live.uid, live.spec, live.replicas, live.template
    rss = [o.to_dict() for o in ctl.store.scan(rs_rt, ns, "", None, 0)[0]]
    rss = [r for r in rss if owned_by(r, uid) and not terminating(r)]
    sig = _sig(tmpl)
    current = next((r for r in rss if _sig((r.get("spec") or {}).get("template") or {}) == sig), None)
    revisions = [int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
                 for r in rss]
    if current is None:
        h = template_hash(tmpl)
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {}, **{"pod-template-hash": h})
        rs_tmpl = copy.deepcopy(tmpl)
        rs_tmpl.setdefault("metadata", {})["labels"] = labels
        sel = copy.deepcopy(spec.get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        gen = ctl.generator
        assert gen is not None
        rev = max(revisions, default=0) + 1
        current = {
            "metadata": {
                "name": f"{name}-{h}", "namespace": ns, "selfLink": rs_rt.self_link(ns, f"{name}-{h}"),
                "uid": gen.uid(), "generation": 1, "creationTimestamp": ts(time.time()), "labels": labels,
                "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                "deployment.kubernetes.io/revision": str(rev)},
                "ownerReferences": [ctl.owner_ref(d, "apps/v1#Deployment")],
            },
            "spec": {"replicas": 0, "selector": sel, "template": rs_tmpl},
            "status": {"replicas": 0, "observedGeneration": 1},
        }
        ctl.store.put(rs_rt, current)
        rss.append(current)
    wants = rollout(ctl, ns, spec, replicas, current, rss)
    for r in rss:
        wanted = wants[r["metadata"]["name"]]
        had = int((r.get("spec") or {}).get("replicas", 0))
        if had != wanted:
            if ctl.events is not None:
                way = "up" if wanted > had else "down"
                ctl.events.record(d, "Deployment", "ScalingReplicaSet",
                                  f"Scaled {way} replica set {r['metadata']['name']} to {wanted}",
                                  component="deployment-controller", api_version="apps/v1")
            r2 = copy.deepcopy(r)
            r2["spec"]["replicas"] = wanted
            r2["metadata"]["generation"] = int(r2["metadata"].get("generation", 1)) + 1
            ctl.store.put(rs_rt, r2)
        ctl.kick("replicasets", ns, r["metadata"]["name"])
    revision = (current["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    if revision:
        d["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = revision
    pods = [p for r in rss for p in ctl.owned_pods(ns, r["metadata"]["uid"]) if not terminating(p)]
    new_pods = [p for p in pods if pod_matches(p, tmpl)]
    ready = sum(1 for p in pods if pod_ready(p))
    st = d.setdefault("status", {})
    st.update(observedGeneration=d["metadata"].get("generation", 1), replicas=len(pods),
              updatedReplicas=len(new_pods), readyReplicas=ready, availableReplicas=ready)
    if len(pods) > ready:
        st["unavailableReplicas"] = len(pods) - ready
    else:
        st.pop("unavailableReplicas", None)
    ctl.put_if_changed(rt, before, d)

def _bound(strategy: dict[str, Any], key: str, replicas: int, round_up: bool) -> int:
    value = (strategy.get("rollingUpdate") or {}).get(key, "25%")
    if isinstance(value, str) and value.endswith("%"):
        x = replicas * float(value[:-1]) / 100
        return int(-(-x // 1)) if round_up else int(x // 1)
    return int(value)


def rollout(ctl: Controllers, ns: str, spec: dict[str, Any], replicas: int, current: dict[str, Any],
            rss: list[dict[str, Any]]) -> dict[str, int]:
    """The replicas each of a Deployment's ReplicaSets should have now: the Deployment controller's next step.

    RollingUpdate: the new ReplicaSet grows while all of them together stay within ``replicas + maxSurge``; old
    ones shrink while ``replicas - maxUnavailable`` pods stay ready (their not-ready pods go first). Both default
    to 25% (surge rounded up, unavailable down; both 0 makes unavailable 1). Recreate: old ones go to 0 and the new
    one grows once their pods are gone. Pods being deleted count for neither side, as in kube-controller-manager.
    """
    new_name = current["metadata"]["name"]
    have = {r["metadata"]["name"]: int((r.get("spec") or {}).get("replicas", 0)) for r in rss}
    pods = {r["metadata"]["name"]: ctl.owned_pods(ns, r["metadata"]["uid"]) for r in rss}
    ready = {n: sum(1 for p in ps if pod_ready(p)) for n, ps in pods.items()}
    olds = sorted((r for r in rss if r["metadata"]["name"] != new_name),
                  key=lambda r: r["metadata"].get("creationTimestamp", ""))
    wants = dict(have)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        for r in olds:
            wants[r["metadata"]["name"]] = 0
        left = any(pods[r["metadata"]["name"]] for r in olds)
        wants[new_name] = have[new_name] if left else replicas
        return wants
    surge = _bound(strategy, "maxSurge", replicas, round_up=True)
    unavailable = _bound(strategy, "maxUnavailable", replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if have[new_name] > replicas:
        wants[new_name] = replicas
    else:
        room = max(0, replicas + surge - sum(have.values()))
        wants[new_name] = min(replicas, have[new_name] + room)
    min_ready = replicas - unavailable
    new_unready = max(0, wants[new_name] - ready[new_name])
    # Old pods that are not ready go first (they serve nothing), as far as the surge allows.
    budget = max(0, sum(wants.values()) - min_ready - new_unready)
    for r in olds:
        n = r["metadata"]["name"]
        cut = min(max(0, wants[n] - ready[n]), budget)
        wants[n] -= cut
        budget -= cut
    # Then ready old pods, while enough stay ready.
    spare = max(0, sum(ready.values()) - min_ready)
    for r in olds:
        n = r["metadata"]["name"]
        cut = min(wants[n], spare)
        wants[n] -= cut
        spare -= cut
    return wants


def replicaset(ctl: Controllers, ns: str | None, name: str) -> None:
    live = _live(ctl, "replicasets", ns, name)
    if live is None:
        return
    rt, d, before, ns = live
    uid, spec, replicas = live.uid, live.spec, live.replicas
    active = [p for p in ctl.owned_pods(ns, uid) if not terminating(p)]
    gen = ctl.generator
    assert gen is not None
    if len(active) < replicas:
        for _ in range(replicas - len(active)):
            pod = ctl.new_pod(ns, f"{name}-{gen.rand(5)}", spec.get("template") or {},
                              ctl.owner_ref(d, "apps/v1#ReplicaSet"))
            active.append(pod)
            if ctl.events is not None:
                ctl.events.record(d, "ReplicaSet", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                  component="replicaset-controller", api_version="apps/v1")
    elif len(active) > replicas:
        # Like the ReplicaSet controller: not-ready pods go first, then the newest.
        doomed = sorted(active, key=lambda p: (not pod_ready(p), p["metadata"].get("creationTimestamp", "")),
                        reverse=True)[: len(active) - replicas]
        for p in doomed:
            ctl.delete(PODS, ns, p["metadata"]["name"], None, None)
            if ctl.events is not None:
                ctl.events.record(d, "ReplicaSet", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}",
                                  component="replicaset-controller", api_version="apps/v1")
        names = {p["metadata"]["name"] for p in doomed}
        active = [p for p in active if p["metadata"]["name"] not in names]
    ready = sum(1 for p in active if pod_ready(p))
    d.setdefault("status", {}).update(replicas=len(active), fullyLabeledReplicas=len(active),
                                      readyReplicas=ready, availableReplicas=ready,
                                      observedGeneration=d["metadata"].get("generation", 1))
    ctl.put_if_changed(rt, before, d)
    for ref in d["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "Deployment" and before != d:
            ctl.kick("deployments", ns, ref.get("name", ""))

def statefulset(ctl: Controllers, ns: str | None, name: str) -> None:
    live = _live(ctl, "statefulsets", ns, name)
    if live is None:
        return
    rt, d, before, ns = live
    uid, replicas, tmpl = live.uid, live.replicas, live.template
    pods = {p["metadata"]["name"]: p for p in ctl.owned_pods(ns, uid)}
    owner = ctl.owner_ref(d, "apps/v1#StatefulSet")
    for i in range(replicas):
        pname = f"{name}-{i}"
        if pname not in pods and ctl.store.get(PODS, ns, pname) is None:
            pods[pname] = ctl.new_pod(ns, pname, tmpl, owner,
                                       extra_labels={"statefulset.kubernetes.io/pod-name": pname})
    for pname, p in list(pods.items()):
        ordinal = pname.rsplit("-", 1)[-1]
        if ordinal.isdigit() and int(ordinal) >= replicas and not terminating(p):
            ctl.delete(PODS, ns, pname, None, None)
    active = [p for p in pods.values() if not terminating(p)
              and int(p["metadata"]["name"].rsplit("-", 1)[-1] or 0) < replicas]
    outdated = sorted((p for p in active if not pod_matches(p, tmpl)), key=lambda p: p["metadata"]["name"])
    if outdated and not any(terminating(p) for p in pods.values()):
        ctl.delete(PODS, ns, outdated[-1]["metadata"]["name"], None, None)
    ready = sum(1 for p in active if pod_ready(p))
    revision = f"{name}-{template_hash(tmpl)}"
    st = d.setdefault("status", {})
    st.update(observedGeneration=d["metadata"].get("generation", 1), replicas=len(active), readyReplicas=ready,
              currentReplicas=len(active) - len(outdated), updatedReplicas=len(active) - len(outdated),
              updateRevision=revision)
    if not outdated:
        st["currentRevision"] = revision
    ctl.put_if_changed(rt, before, d)

def daemonset(ctl: Controllers, ns: str | None, name: str) -> None:
    live = _live(ctl, "daemonsets", ns, name)
    if live is None:
        return
    rt, d, before, ns = live
    uid, tmpl = live.uid, live.template
    pods = ctl.owned_pods(ns, uid)
    gen = ctl.generator
    assert gen is not None
    nodes = ctl.nodes(schedulable=False)
    owner = ctl.owner_ref(d, "apps/v1#DaemonSet")
    for node in nodes:
        if not any((p.get("spec") or {}).get("nodeName") == node for p in pods):
            pods.append(ctl.new_pod(ns, f"{name}-{gen.rand(5)}", tmpl, owner, node=node))
    active = [p for p in pods if not terminating(p)]
    outdated = [p for p in active if not pod_matches(p, tmpl)]
    if outdated and not any(terminating(p) for p in pods):
        ctl.delete(PODS, ns, outdated[0]["metadata"]["name"], None, None)
    ready = sum(1 for p in active if pod_ready(p))
    d.setdefault("status", {}).update(
        desiredNumberScheduled=len(nodes), currentNumberScheduled=len(active), numberReady=ready,
        numberAvailable=ready, updatedNumberScheduled=len(active) - len(outdated),
        observedGeneration=d["metadata"].get("generation", 1))
    ctl.put_if_changed(rt, before, d)

def job(ctl: Controllers, ns: str | None, name: str) -> None:
    rt = BY_NAME["jobs"]
    obj = ctl.store.get(rt, ns, name)
    if obj is None or ns is None:
        return
    d = obj.to_dict()
    if terminating(d):
        return
    spec, st = d.get("spec") or {}, d.get("status") or {}
    completions = int(spec.get("completions") or 1)
    if int(st.get("succeeded") or 0) >= completions or spec.get("suspend"):
        return
    pods = [p for p in ctl.owned_pods(ns, d["metadata"]["uid"]) if not terminating(p)]
    running = [p for p in pods if (p.get("status") or {}).get("phase") in ("Running", "Pending")]
    if running:
        return
    gen = ctl.generator
    assert gen is not None
    want = min(int(spec.get("parallelism") or 1), completions - int(st.get("succeeded") or 0))
    for _ in range(want):
        pod = ctl.new_pod(ns, f"{name}-{gen.rand(5)}", spec.get("template") or {},
                           ctl.owner_ref(d, "batch/v1#Job"))
        # It runs for a second once started.
        ctl.after(ctl.pace.start + 1.0, functools.partial(pod_completes, ctl, ns, pod["metadata"]["name"], name))
    d2 = copy.deepcopy(d)
    d2.setdefault("status", {}).update(active=want, startTime=st.get("startTime") or ts(time.time()))
    ctl.store.put(rt, d2)

def pod_completes(ctl: Controllers, ns: str, pod_name: str, job_name: str) -> None:
    with ctl.store.lock:
        obj = ctl.store.get(PODS, ns, pod_name)
        if obj is None:
            return
        p = obj.to_dict()
        st = p.setdefault("status", {})
        st["phase"] = "Succeeded"
        for cs in st.get("containerStatuses") or []:
            cs.update(ready=False, started=False, state={"terminated": {
                "exitCode": 0, "reason": "Completed", "finishedAt": ts(time.time())}})
        for c in st.get("conditions") or []:
            if c.get("type") in ("Ready", "ContainersReady"):
                c["status"] = "False"
        ctl.store.put(PODS, p)
        job = ctl.store.get(BY_NAME["jobs"], ns, job_name)
        if job is None:
            return
        j = job.to_dict()
        js = j.setdefault("status", {})
        js["succeeded"] = int(js.get("succeeded") or 0) + 1
        js.pop("active", None)
        if js["succeeded"] >= int((j.get("spec") or {}).get("completions") or 1):
            now = ts(time.time())
            js["completionTime"] = now
            js["conditions"] = [{"type": "Complete", "status": "True", "lastProbeTime": now,
                                 "lastTransitionTime": now}]
        ctl.store.put(BY_NAME["jobs"], j)
    ctl.kick("jobs", ns, job_name)

def pdb(ctl: Controllers, ns: str | None, name: str) -> None:
    rt = BY_NAME["poddisruptionbudgets"]
    obj = ctl.store.get(rt, ns, name)
    if obj is None:
        return
    d = obj.to_dict()
    before = copy.deepcopy(d)
    b = ctl.budget(d)
    d.setdefault("status", {}).update(observedGeneration=d["metadata"].get("generation", 1),
                                      disruptionsAllowed=b.allowed, currentHealthy=b.healthy,
                                      desiredHealthy=b.desired, expectedPods=b.expected)
    ctl.put_if_changed(rt, before, d)


RECONCILE: dict[str, Callable[[Controllers, str | None, str], None]] = {
    "deployments": deployment,
    "replicasets": replicaset,
    "statefulsets": statefulset,
    "daemonsets": daemonset,
    "jobs": job,
    "poddisruptionbudgets": pdb,
}
#: Owners before what they own: a Deployment's change reaches its ReplicaSets in the same pass.
ORDER = {"deployments": 0, "replicasets": 1, "statefulsets": 2, "daemonsets": 3, "jobs": 4,
          "poddisruptionbudgets": 5}
