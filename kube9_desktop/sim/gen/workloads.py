"""Workloads and what they own: Deployments with ReplicaSets, StatefulSets with PVCs, DaemonSets, CronJobs, Jobs."""

from __future__ import annotations

from typing import Any

from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.gen.pods import PodParts
from kube9_desktop.sim.resources import BY_NAME


class WorkloadParts(PodParts):
    """Builds each workload with its pods (through :meth:`PodParts.pod`)."""

    def _deployment(self, ns: str, name: str, replicas: int, image: str) -> tuple[str, dict[str, str]]:
        created = self.when()
        sel = {"app": name}
        labels = {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
        phash = self.rand(10)
        md = self.meta(
            "deployments",
            name,
            ns,
            created,
            labels,
            annotations={"deployment.kubernetes.io/revision": "1"},
            generation=1,
        )
        dep = {
            "metadata": md,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": sel},
                "template": self._template(labels, image),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": {},
        }
        rs_name = f"{name}-{phash}"
        rs_labels = dict(labels, **{"pod-template-hash": phash})
        rs_md = self.meta(
            "replicasets",
            rs_name,
            ns,
            created + 1,
            rs_labels,
            annotations={
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                "deployment.kubernetes.io/revision": "1",
            },
            ownerReferences=self._owner("Deployment", name, md["uid"]),
            generation=1,
        )
        rs = {
            "metadata": rs_md,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(sel, **{"pod-template-hash": phash})},
                "template": self._template(rs_labels, image),
            },
            "status": {},
        }
        ready = 0
        owner = self._owner("ReplicaSet", rs_name, rs_md["uid"])
        for _ in range(replicas):
            pod = self.pod(ns, f"{rs_name}-{self.rand(5)}", rs_labels, owner, image, created + 2)
            ready += pod["status"].get("containerStatuses", [{}])[0].get("ready", False)
        st = {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if not ready:
            for k in ("readyReplicas", "availableReplicas"):
                st.pop(k)
        dep["status"] = dict(
            st,
            conditions=[
                {
                    "type": "Available",
                    "status": "True" if ready == replicas else "False",
                    "lastUpdateTime": ts(created + 30),
                    "lastTransitionTime": ts(created + 30),
                    "reason": "MinimumReplicasAvailable" if ready == replicas else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if ready == replicas
                    else "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "lastUpdateTime": ts(created + 30),
                    "lastTransitionTime": ts(created),
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
                },
            ],
        )
        rs["status"] = {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": 1,
        }
        self.store.load(BY_NAME["deployments"], dep)
        self.store.load(BY_NAME["replicasets"], rs)
        return name, sel

    def _statefulset(self, ns: str, name: str, replicas: int) -> tuple[str, dict[str, str]]:
        created = self.when()
        labels = {"app": name}
        md = self.meta("statefulsets", name, ns, created, labels, generation=1)
        image = {
            "postgres": "postgres:13",
            "redis": "redis:6.0",
            "kafka": "bitnami/kafka:2.6.0",
            "etcd": "quay.io/coreos/etcd:v3.4.13",
        }[name]
        owner = self._owner("StatefulSet", name, md["uid"])
        ready = 0
        for i in range(replicas):
            pod = self.pod(
                ns,
                f"{name}-{i}",
                dict(labels, **{"statefulset.kubernetes.io/pod-name": f"{name}-{i}"}),
                owner,
                image,
                created + 2,
                sidecar=True,
            )
            ready += pod["status"].get("containerStatuses", [{}])[0].get("ready", False)
            self._pvc(ns, f"data-{name}-{i}", created + 1)
        self.store.load(
            BY_NAME["statefulsets"],
            {
                "metadata": md,
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "serviceName": name,
                    "template": self._template(labels, image),
                    "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                    "revisionHistoryLimit": 10,
                },
                "status": {
                    "observedGeneration": 1,
                    "replicas": replicas,
                    "readyReplicas": ready,
                    "currentReplicas": replicas,
                    "updatedReplicas": replicas,
                    "currentRevision": f"{name}-{self.rand(10)}",
                    "collisionCount": 0,
                },
            },
        )
        return name, labels

    def _pvc(self, ns: str, name: str, created: float) -> None:
        pv_name = f"pvc-{self.uid()}"
        size = self.rng.choice(["1Gi", "5Gi", "10Gi", "20Gi"])
        md = self.meta(
            "persistentvolumeclaims",
            name,
            ns,
            created,
            None,
            annotations={"pv.kubernetes.io/bind-completed": "yes"},
            finalizers=["kubernetes.io/pvc-protection"],
        )
        self.store.load(
            BY_NAME["persistentvolumeclaims"],
            {
                "metadata": md,
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                    "volumeName": pv_name,
                    "storageClassName": "standard",
                    "volumeMode": "Filesystem",
                },
                "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}},
            },
        )
        self.store.load(
            BY_NAME["persistentvolumes"],
            {
                "metadata": self.meta(
                    "persistentvolumes", pv_name, None, created + 5, None, finalizers=["kubernetes.io/pv-protection"]
                ),
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "claimRef": {
                        "kind": "PersistentVolumeClaim",
                        "namespace": ns,
                        "name": name,
                        "uid": md["uid"],
                        "apiVersion": "v1",
                    },
                    "persistentVolumeReclaimPolicy": "Delete",
                    "storageClassName": "standard",
                    "volumeMode": "Filesystem",
                    "hostPath": {"path": f"/var/lib/sim-pv/{pv_name}", "type": ""},
                },
                "status": {"phase": "Bound"},
            },
        )

    def _daemonset(self, ns: str, name: str, count: int) -> None:
        created = self.t0 + 300
        labels = {"k8s-app": name}
        md = self.meta("daemonsets", name, ns, created, labels, generation=1)
        owner = self._owner("DaemonSet", name, md["uid"])
        image = f"k8s.gcr.io/{name}:v1.19.0"
        ready = 0
        for i in range(count):
            pod = self.pod(
                ns,
                f"{name}-{self.rand(5)}",
                dict(labels, **{"controller-revision-hash": "6b4d7c9f5"}),
                owner,
                image,
                created + 5,
                node=self.node_names[i],
                healthy=True,
            )
            ready += pod["status"]["containerStatuses"][0]["ready"]
        self.store.load(
            BY_NAME["daemonsets"],
            {
                "metadata": md,
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": self._template(labels, image),
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                    "revisionHistoryLimit": 10,
                },
                "status": {
                    "currentNumberScheduled": count,
                    "numberMisscheduled": 0,
                    "desiredNumberScheduled": count,
                    "numberReady": ready,
                    "observedGeneration": 1,
                    "updatedNumberScheduled": count,
                    "numberAvailable": ready,
                },
            },
        )

    def _cronjob(self, ns: str, with_pod: bool) -> None:
        created = self.when()
        name = "nightly-0"
        labels = {"app": name}
        md = self.meta("cronjobs", name, ns, created, None)
        last = self.now - self.rng.randint(3600, 20 * 3600)
        job_tmpl: dict[str, Any] = {
            "metadata": {"creationTimestamp": None},
            "spec": {
                "template": {
                    "metadata": {"creationTimestamp": None, "labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": "busybox:1.32",
                                "command": ["sh", "-c", "echo nightly"],
                                "resources": {},
                                "imagePullPolicy": "IfNotPresent",
                            }
                        ],
                        "restartPolicy": "OnFailure",
                    },
                }
            },
        }
        self.store.load(
            BY_NAME["cronjobs"],
            {
                "metadata": md,
                "spec": {
                    "schedule": "0 2 * * *",
                    "concurrencyPolicy": "Allow",
                    "suspend": False,
                    "jobTemplate": job_tmpl,
                    "successfulJobsHistoryLimit": 3,
                    "failedJobsHistoryLimit": 1,
                },
                "status": {"lastScheduleTime": ts(last)},
            },
        )
        job_name = f"{name}-{int(last) // 60}"
        jmd = self.meta(
            "jobs",
            job_name,
            ns,
            last,
            dict(labels, **{"job-name": job_name}),
            ownerReferences=self._owner("CronJob", name, md["uid"]),
        )
        ctrl = self.uid()
        sel = {"controller-uid": ctrl}
        pod_tmpl: dict[str, Any] = job_tmpl["spec"]["template"]
        if with_pod:
            plabels = dict(labels, **{"controller-uid": ctrl, "job-name": job_name})
            self.pod(
                ns,
                f"{job_name}-{self.rand(5)}",
                plabels,
                self._owner("Job", job_name, jmd["uid"]),
                "busybox:1.32",
                last,
                succeeded=True,
            )
        self.store.load(
            BY_NAME["jobs"],
            {
                "metadata": jmd,
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "backoffLimit": 6,
                    "selector": {"matchLabels": sel},
                    "template": pod_tmpl,
                },
                "status": {
                    "conditions": [
                        {
                            "type": "Complete",
                            "status": "True",
                            "lastProbeTime": ts(last + 9),
                            "lastTransitionTime": ts(last + 9),
                        }
                    ],
                    "startTime": ts(last),
                    "completionTime": ts(last + 9),
                    "succeeded": 1,
                },
            },
        )
