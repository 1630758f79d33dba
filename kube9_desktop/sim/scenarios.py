"""Pods and workloads in namespace ``scenarios`` that exercise every diagnose rule (``kube9-sim --scenarios``).

Statuses, conditions and event messages are worded as kubelet, the scheduler and the controllers of Kubernetes 1.19
write them (containerd pull errors, FailedScheduling, quota FailedCreate, ProgressDeadlineExceeded, Evicted), so the
diagnosis is tested on what a user would really see. Built after the seeded cluster: nothing else changes.
"""

from __future__ import annotations

import time
from typing import Any

from kube9_desktop.sim.events import EventRecorder
from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.store import Store

NAMESPACE = "scenarios"

IMAGE_NOT_FOUND = (
    'Failed to pull image "nginx:1.199": rpc error: code = NotFound desc = failed to pull and unpack image '
    '"docker.io/library/nginx:1.199": failed to resolve reference "docker.io/library/nginx:1.199": '
    "docker.io/library/nginx:1.199: not found"
)
IMAGE_UNAUTHORIZED = (
    'Failed to pull image "registry.example.com/team/billing:2.0": rpc error: code = Unknown desc = failed to pull '
    'and unpack image "registry.example.com/team/billing:2.0": failed to resolve reference '
    '"registry.example.com/team/billing:2.0": pull access denied, repository does not exist or may require '
    "authorization: server message: insufficient_scope: authorization failed"
)
IMAGE_UNREACHABLE = (
    'Failed to pull image "registry.internal:5000/ingest:1.0": rpc error: code = Unknown desc = failed to pull and '
    'unpack image "registry.internal:5000/ingest:1.0": failed to resolve reference "registry.internal:5000/ingest:1.0":'
    ' failed to do request: Head "https://registry.internal:5000/v2/ingest/manifests/1.0": dial tcp: lookup '
    "registry.internal on 10.96.0.10:53: no such host"
)
QUOTA_MESSAGE = (
    'Error creating: pods "quota-app-6c9f7d5b8-{}" is forbidden: exceeded quota: compute-quota, requested: '
    "requests.memory=1Gi, used: requests.memory=3Gi, limited: requests.memory=4Gi"
)


class _Builder:
    def __init__(self, gen: Generator, store: Store, events: EventRecorder) -> None:
        self.gen, self.store, self.events = gen, store, events
        self.now = time.time()
        self.workers = gen.node_names[1:] or gen.node_names

    def pod(self, name: str, image: str = "nginx:1.19", owner: list[dict[str, Any]] | None = None,
            labels: dict[str, str] | None = None, created_ago: float = 1800) -> dict[str, Any]:
        """A healthy running pod to mutate into a scenario (not stored yet)."""
        pod = self.gen.pod(NAMESPACE, name, labels or {"app": name}, owner or [], image, self.now - created_ago,
                           node=self.workers[len(name) % len(self.workers)], healthy=True, load=False)
        md = pod["metadata"]
        md["creationTimestamp"] = ts(self.now - created_ago)
        start = ts(self.now - created_ago + 2)
        pod["status"]["startTime"] = start
        return pod

    def store_pod(self, pod: dict[str, Any]) -> dict[str, Any]:
        self.store.load(BY_NAME["pods"], pod)
        return pod

    def event(self, obj: dict[str, Any], reason: str, message: str, type_: str = "Warning", times: int = 1,
              component: str = "kubelet", field_path: str = "spec.containers{main}", kind: str = "Pod",
              api_version: str = "v1") -> None:
        for _ in range(times):
            self.events.record(obj, kind, reason, message, type_, component, field_path, api_version)

    @staticmethod
    def not_ready(pod: dict[str, Any], phase: str = "Running") -> None:
        st = pod["status"]
        st["phase"] = phase
        start = st.get("startTime")
        st["conditions"] = Generator._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], start)
        if phase == "Pending":
            st.pop("podIP", None)
            st.pop("podIPs", None)
        for cs in st.get("containerStatuses") or []:
            cs["ready"] = False
            cs["started"] = False

    # -- the scenarios ---------------------------------------------------------------------------------------------
    def crash_loop(self, name: str, exit_code: int, reason: str, memory_limit: str | None = None) -> None:
        pod = self.pod(name, "ghcr.io/example/app:v2.3.1")
        if memory_limit:
            pod["spec"]["containers"][0]["resources"] = {"limits": {"memory": memory_limit},
                                                         "requests": {"cpu": "50m", "memory": memory_limit}}
        self.not_ready(pod)
        cs = pod["status"]["containerStatuses"][0]
        cid = cs.get("containerID", "")
        cs.update(restartCount=17, state={"waiting": {
            "reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=main pod="
            f"{name}_{NAMESPACE}({pod['metadata']['uid']})"}},
            lastState={"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": ts(self.now - 95),
                                      "finishedAt": ts(self.now - 60), "containerID": cid}})
        self.store_pod(pod)
        self.event(pod, "Pulled", 'Container image "ghcr.io/example/app:v2.3.1" already present on machine',
                   "Normal")
        self.event(pod, "BackOff", "Back-off restarting failed container", times=5)

    def image_pull(self, name: str, image: str, message: str, backoff: bool) -> None:
        pod = self.pod(name, image)
        self.not_ready(pod, "Pending")
        cs = pod["status"]["containerStatuses"][0]
        reason = "ImagePullBackOff" if backoff else "ErrImagePull"
        wmsg = f'Back-off pulling image "{image}"' if backoff else message.split(": ", 1)[1]
        cs.update(state={"waiting": {"reason": reason, "message": wmsg}}, imageID="", lastState={})
        cs.pop("containerID", None)
        self.store_pod(pod)
        self.event(pod, "Pulling", f'Pulling image "{image}"', "Normal", times=3)
        self.event(pod, "Failed", message, times=3)
        self.event(pod, "Failed", "Error: ErrImagePull", times=3)
        if backoff:
            self.event(pod, "BackOff", f'Back-off pulling image "{image}"', "Normal", times=4)
            self.event(pod, "Failed", "Error: ImagePullBackOff", times=4)

    def unschedulable(self, name: str, message: str, spec_extra: dict[str, Any]) -> dict[str, Any]:
        pod = self.pod(name, created_ago=900)
        pod["spec"].pop("nodeName", None)
        pod["spec"].update(spec_extra)
        pod["status"] = {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                            "lastTransitionTime": ts(self.now - 900), "reason": "Unschedulable",
                            "message": message}],
            "qosClass": "Burstable",
        }
        self.store_pod(pod)
        self.event(pod, "FailedScheduling", message, component="default-scheduler", field_path="", times=3)
        return pod

    def build(self) -> None:
        gen = self.gen
        gen._namespace(NAMESPACE)
        n = len(gen.node_names)
        self.crash_loop("crashy-api", 1, "Error")
        self.crash_loop("oom-worker", 137, "OOMKilled", memory_limit="128Mi")
        self.image_pull("image-typo", "nginx:1.199", IMAGE_NOT_FOUND, backoff=True)
        self.image_pull("private-image", "registry.example.com/team/billing:2.0", IMAGE_UNAUTHORIZED, backoff=False)
        self.image_pull("registry-down", "registry.internal:5000/ingest:1.0", IMAGE_UNREACHABLE, backoff=True)
        taint = ""
        if n > 1:
            taint = "1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, "
        rest = n - 1 if n > 1 else n
        self.unschedulable("too-big", f"0/{n} nodes are available: {taint}{rest} Insufficient memory.",
                           {"containers": [dict(self._main("python:3.8-slim"), resources={
                               "requests": {"cpu": "500m", "memory": "200Gi"}, "limits": {"memory": "200Gi"}})]})
        self.unschedulable("wrong-selector", f"0/{n} nodes are available: {n} node(s) didn't match node selector.",
                           {"nodeSelector": {"disktype": "nvme"}})
        self.unschedulable("tainted-only", f"0/{n} nodes are available: {n} node(s) had taint "
                           "{dedicated: gpu}, that the pod didn't tolerate.", {})
        self._pvc("data-unbound")
        self.unschedulable("unbound-claim",
                           f"0/{n} nodes are available: {n} pod has unbound immediate PersistentVolumeClaims.",
                           {"volumes": [{"name": "data",
                                         "persistentVolumeClaim": {"claimName": "data-unbound"}}]})
        self._not_ready_probe()
        self._init_failing()
        self._evicted()
        self._quota_deployment()
        self._stuck_deployment()

    def _main(self, image: str) -> dict[str, Any]:
        return self.gen._container("main", image)

    def _pvc(self, name: str) -> None:
        created = self.now - 900
        pvc = {
            "metadata": self.gen.meta("persistentvolumeclaims", name, NAMESPACE, created),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                     "storageClassName": "premium-nvme", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }
        self.store.load(BY_NAME["persistentvolumeclaims"], pvc)
        self.event(pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "premium-nvme" not found',
                   component="persistentvolume-controller", field_path="", kind="PersistentVolumeClaim")

    def _not_ready_probe(self) -> None:
        pod = self.pod("not-ready")
        pod["spec"]["containers"][0]["readinessProbe"] = {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
            "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
        self.not_ready(pod)
        pod["status"]["containerStatuses"][0]["started"] = True
        self.store_pod(pod)
        self.event(pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", times=12)

    def _init_failing(self) -> None:
        pod = self.pod("init-stuck", "python:3.8-slim")
        init = {"name": "migrate", "image": "ghcr.io/example/migrate:1.2", "command": ["/migrate", "up"],
                "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"}
        pod["spec"]["initContainers"] = [init]
        self.not_ready(pod, "Pending")
        st = pod["status"]
        st["conditions"] = Generator._conds(["PodScheduled"], ["Initialized", "Ready", "ContainersReady"],
                                            st["startTime"])
        st["conditions"][0]["message"] = "containers with incomplete status: [migrate]"
        st["conditions"][0]["reason"] = "ContainersNotInitialized"
        main = st["containerStatuses"][0]
        main.update(state={"waiting": {"reason": "PodInitializing"}}, imageID="", lastState={})
        main.pop("containerID", None)
        st["initContainerStatuses"] = [{
            "name": "migrate", "ready": False, "restartCount": 6, "image": init["image"],
            "imageID": "ghcr.io/example/migrate@sha256:" + "a" * 64, "started": False,
            "containerID": "containerd://" + "b" * 64,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 2m40s restarting failed container=migrate"}},
            "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": ts(self.now - 70),
                                         "finishedAt": ts(self.now - 65), "containerID": "containerd://" + "b" * 64}},
        }]
        self.store_pod(pod)
        self.event(pod, "BackOff", "Back-off restarting failed container", times=6,
                   field_path="spec.initContainers{migrate}")

    def _evicted(self) -> None:
        pod = self.pod("evicted-report", "python:3.8-slim", created_ago=7200)
        st = pod["status"]
        msg = ("The node was low on resource: memory. Container main was using 1853440Ki, which exceeds its "
               "request of 64Mi. ")
        pod["status"] = {"phase": "Failed", "reason": "Evicted", "message": msg, "startTime": st["startTime"],
                         "hostIP": st.get("hostIP"), "qosClass": "Burstable"}
        self.store_pod(pod)
        self.event(pod, "Evicted", msg, field_path="")

    def _deployment(self, name: str, replicas: int, image: str) -> tuple[dict[str, Any], dict[str, Any]]:
        gen = self.gen
        created = self.now - 3600
        labels = {"app": name}
        md = gen.meta("deployments", name, NAMESPACE, created, labels,
                      annotations={"deployment.kubernetes.io/revision": "2"}, generation=2)
        dep = {"metadata": md, "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                                        "template": gen._template(labels, image),
                                        "strategy": {"type": "RollingUpdate"}, "progressDeadlineSeconds": 600},
               "status": {}}
        phash = "6c9f7d5b8" if name == "quota-app" else gen.rand(10)
        rs_labels = dict(labels, **{"pod-template-hash": phash})
        rs_md = gen.meta("replicasets", f"{name}-{phash}", NAMESPACE, created + 60, rs_labels,
                         annotations={"deployment.kubernetes.io/desired-replicas": str(replicas),
                                      "deployment.kubernetes.io/revision": "2"},
                         ownerReferences=gen._owner("Deployment", name, md["uid"]), generation=1)
        rs = {"metadata": rs_md, "spec": {"replicas": replicas, "selector": {"matchLabels": rs_labels},
                                          "template": gen._template(rs_labels, image)}, "status": {}}
        return dep, rs

    def _quota_deployment(self) -> None:
        dep, rs = self._deployment("quota-app", 2, "nginx:1.19")
        t = ts(self.now - 3000)
        rs["status"] = {"replicas": 0, "observedGeneration": 1, "conditions": [{
            "type": "ReplicaFailure", "status": "True", "lastTransitionTime": t, "reason": "FailedCreate",
            "message": QUOTA_MESSAGE.format("x2x9z")}]}
        dep["status"] = {"observedGeneration": 2, "unavailableReplicas": 2, "conditions": [
            {"type": "Available", "status": "False", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
            {"type": "ReplicaFailure", "status": "True", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "FailedCreate", "message": QUOTA_MESSAGE.format("x2x9z")},
            {"type": "Progressing", "status": "True", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "ReplicaSetUpdated", "message": f'ReplicaSet "{rs["metadata"]["name"]}" is progressing.'}]}
        self.store.load(BY_NAME["deployments"], dep)
        self.store.load(BY_NAME["replicasets"], rs)
        for suffix in ("x2x9z", "k7h2p", "m4q8w"):
            self.event(rs, "FailedCreate", QUOTA_MESSAGE.format(suffix), component="replicaset-controller",
                       field_path="", kind="ReplicaSet", api_version="apps/v1")

    def _stuck_deployment(self) -> None:
        image = "ghcr.io/example/checkout:3.0.0-rc1"
        dep, rs = self._deployment("stuck-rollout", 1, image)
        rs_name = rs["metadata"]["name"]
        t = ts(self.now - 2400)
        rs["status"] = {"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1}
        dep["status"] = {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
                         "conditions": [
            {"type": "Available", "status": "False", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "False", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "ProgressDeadlineExceeded", "message": f'ReplicaSet "{rs_name}" has timed out progressing.'}]}
        self.store.load(BY_NAME["deployments"], dep)
        self.store.load(BY_NAME["replicasets"], rs)
        owner = self.gen._owner("ReplicaSet", rs_name, rs["metadata"]["uid"])
        pod = self.pod(f"{rs_name}-{self.gen.rand(5)}", image, owner, rs["metadata"]["labels"], created_ago=3000)
        self.not_ready(pod)
        cs = pod["status"]["containerStatuses"][0]
        cs.update(restartCount=9, state={"waiting": {"reason": "CrashLoopBackOff",
                                                     "message": "back-off 5m0s restarting failed container=main"}},
                  lastState={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(self.now - 200),
                                            "finishedAt": ts(self.now - 190), "containerID": cs["containerID"]}})
        self.store_pod(pod)
        self.event(pod, "BackOff", "Back-off restarting failed container", times=3)
        self.event(dep, "ScalingReplicaSet", f"Scaled up replica set {rs_name} to 1", "Normal",
                   component="deployment-controller", field_path="", kind="Deployment", api_version="apps/v1")


def add_scenarios(gen: Generator, store: Store, events: EventRecorder) -> None:
    """Adds namespace ``scenarios`` with its failing pods, workloads and events (before ``store.finish_load``)."""
    _Builder(gen, store, events).build()
