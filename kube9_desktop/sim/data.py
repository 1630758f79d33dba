"""Deterministic, realistic cluster content generated from a seed."""

from __future__ import annotations

import base64
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.sim import more_objects
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.store import Store

_ALNUM = "bcdfghjklmnpqrstvwxz2456789"
APP_NAMES = [
    "api",
    "web",
    "frontend",
    "backend",
    "worker",
    "scheduler",
    "auth",
    "payments",
    "orders",
    "cart",
    "search",
    "catalog",
    "notifications",
    "gateway",
    "cache",
    "queue",
    "reporting",
    "billing",
    "inventory",
    "shipping",
    "analytics",
    "ingest",
    "mailer",
    "profile",
    "recommender",
    "media",
]
IMAGES = [
    "nginx:1.19",
    "python:3.8-slim",
    "busybox:1.32",
    "redis:6.0",
    "golang:1.15",
    "node:14-alpine",
    "ghcr.io/example/app:v2.3.1",
    "quay.io/example/worker:1.4.0",
]
POD_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


def ts(t: float) -> str:
    """Unix seconds to RFC 3339 (second precision, Z) as the API uses."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass
class Generator:
    """Builds the cluster into a :class:`Store`; all randomness comes from ``seed``."""

    nodes: int = 5
    namespaces: int = 12
    pods: int = 2000
    seed: int = 1
    now: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.t0 = self.now - self.rng.randint(20, 60) * 86400 - self.rng.randint(0, 86400)
        self.node_names = [f"node-{i + 1}" for i in range(max(1, self.nodes))]
        self.pod_seq = 0
        self.events_per_ns: dict[str, int] = {}
        self.ready_ips: dict[tuple[str, str], list[tuple[str, str]]] = {}

    # -- helpers ---------------------------------------------------------------------------------------------
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def rand(self, n: int) -> str:
        r = self.rng
        return "".join(r.choice(_ALNUM) for _ in range(n))

    def when(self, after: float | None = None) -> float:
        """A creation time between ``after`` (default cluster birth) and a few minutes ago."""
        lo = after if after is not None else self.t0
        return self.rng.uniform(lo, self.now - 300)

    def meta(
        self,
        rtype: str,
        name: str,
        namespace: str | None,
        created: float,
        labels: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        rt = BY_NAME[rtype]
        md: dict[str, Any] = {"name": name}
        if namespace is not None:
            md["namespace"] = namespace
        md["selfLink"] = rt.self_link(namespace, name)
        md["uid"] = self.uid()
        md["creationTimestamp"] = ts(created)
        if labels:
            md["labels"] = labels
        md.update(extra)
        return md

    # -- build -----------------------------------------------------------------------------------------------
    def namespace_names(self) -> list[str]:
        names = ["default", "kube-system", "team-a"]
        i = 0
        while len(names) < self.namespaces:
            letter = chr(ord("b") + i % 25)
            names.append(f"team-{letter}" if i < 25 else f"team-{letter}{i // 25 + 1}")
            i += 1
        return names[: max(self.namespaces, 1)]

    def build(self, store: Store) -> None:
        """Generates every object into ``store`` (then call ``store.finish_load``)."""
        self.store = store
        self._nodes()
        ns_names = self.namespace_names()
        for ns in ns_names:
            self._namespace(ns)
        budget = self.pods
        # System pods first: kube-proxy on every node, then two coredns replicas.
        ds_pods = min(len(self.node_names), budget)
        budget -= ds_pods
        dns = min(2, budget)
        budget -= dns
        shares = self._shares(ns_names, budget)
        self._storage()
        self._crd()
        for ns in ns_names:
            self._fill_namespace(
                ns, shares.get(ns, 0), ds_pods if ns == "kube-system" else 0, dns if ns == "kube-system" else 0
            )
        more_objects.build(self, ns_names)

    def _shares(self, ns_names: list[str], budget: int) -> dict[str, int]:
        """Splits the pod budget: team-a gets a fifth (a decent share), the rest is spread over the others."""
        others = [n for n in ns_names if n not in ("kube-system", "team-a")]
        if "team-a" not in ns_names:
            others = [n for n in ns_names if n != "kube-system"] or ns_names
        out: dict[str, int] = {}
        team_a = budget // 5 if others and "team-a" in ns_names else (budget if "team-a" in ns_names else 0)
        out["team-a"] = team_a
        rest = budget - team_a
        if others:
            weights = [self.rng.uniform(0.5, 1.5) for _ in others]
            total = sum(weights)
            alloc = [int(rest * w / total) for w in weights]
            for i in range(rest - sum(alloc)):
                alloc[i % len(alloc)] += 1
            for n, a in zip(others, alloc, strict=True):
                out[n] = out.get(n, 0) + a
        elif rest:
            out["team-a"] = out.get("team-a", 0) + rest
        return out

    def _nodes(self) -> None:
        for i, name in enumerate(self.node_names):
            created = self.t0 + i * 60
            labels = {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
            }
            if i == 0:
                labels["node-role.kubernetes.io/control-plane"] = ""
                labels["node-role.kubernetes.io/master"] = ""
            else:
                labels["node.kubernetes.io/instance-type"] = self.rng.choice(["m5.xlarge", "m5.2xlarge", "c5.2xlarge"])
            cpu, mem = self.rng.choice([(4, 16), (8, 32), (16, 64)])
            cond_t = ts(created + 30)
            hb = ts(self.now - self.rng.randint(1, 40))
            conds = [
                {
                    "type": t,
                    "status": "False",
                    "lastHeartbeatTime": hb,
                    "lastTransitionTime": cond_t,
                    "reason": r,
                    "message": m,
                }
                for t, r, m in [
                    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ]
            ]
            conds.append(
                {
                    "type": "Ready",
                    "status": "True",
                    "lastHeartbeatTime": hb,
                    "lastTransitionTime": cond_t,
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            )
            capacity = {
                "cpu": str(cpu),
                "ephemeral-storage": "101445540Ki",
                "hugepages-2Mi": "0",
                "memory": f"{mem * 1024 * 1024}Ki",
                "pods": "110",
            }
            alloc = dict(capacity, cpu=f"{cpu * 1000 - 100}m", memory=f"{mem * 1024 * 1024 - 102400}Ki")
            spec: dict[str, Any] = {"podCIDR": f"10.244.{i}.0/24", "podCIDRs": [f"10.244.{i}.0/24"]}
            if i == 0 and len(self.node_names) > 1:
                spec["taints"] = [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]
            node = {
                "metadata": self.meta(
                    "nodes",
                    name,
                    None,
                    created,
                    labels,
                    annotations={
                        "node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                    },
                ),
                "spec": spec,
                "status": {
                    "capacity": capacity,
                    "allocatable": alloc,
                    "conditions": conds,
                    "addresses": [
                        {"type": "InternalIP", "address": f"10.0.0.{11 + i}"},
                        {"type": "Hostname", "address": name},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {
                        "machineID": self.uid().replace("-", ""),
                        "systemUUID": self.uid(),
                        "bootID": self.uid(),
                        "kernelVersion": "5.4.0-47-generic",
                        "osImage": "Ubuntu 20.04.1 LTS",
                        "containerRuntimeVersion": "containerd://1.4.1",
                        "kubeletVersion": "v1.19.0",
                        "kubeProxyVersion": "v1.19.0",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                },
            }
            self.store.load(BY_NAME["nodes"], node)

    def _namespace(self, ns: str) -> None:
        created = self.t0 if ns in ("default", "kube-system") else self.when()
        labels = {"kubernetes.io/metadata.name": ns}
        self.store.load(
            BY_NAME["namespaces"],
            {
                "metadata": self.meta("namespaces", ns, None, created, labels),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )

    def _storage(self) -> None:
        for i, (name, prov) in enumerate([("standard", "rancher.io/local-path"), ("fast-ssd", "ebs.csi.aws.com")]):
            ann = {"storageclass.kubernetes.io/is-default-class": "true"} if i == 0 else {}
            md = self.meta("storageclasses", name, None, self.t0 + 120, None)
            if ann:
                md["annotations"] = ann
            self.store.load(
                BY_NAME["storageclasses"],
                {
                    "metadata": md,
                    "provisioner": prov,
                    "reclaimPolicy": "Delete",
                    "volumeBindingMode": "WaitForFirstConsumer",
                    "allowVolumeExpansion": i == 1,
                },
            )

    def _crd(self) -> None:
        schema = {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"size": {"type": "integer"}, "color": {"type": "string"}},
                    },
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }
        }
        created = self.t0 + 3600
        self.store.load(
            BY_NAME["customresourcedefinitions"],
            {
                "metadata": self.meta("customresourcedefinitions", "widgets.example.com", None, created),
                "spec": {
                    "group": "example.com",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
                    "conversion": {"strategy": "None"},
                },
                "status": {
                    "conditions": [
                        {
                            "type": "NamesAccepted",
                            "status": "True",
                            "lastTransitionTime": ts(created),
                            "reason": "NoConflicts",
                            "message": "no conflicts found",
                        },
                        {
                            "type": "Established",
                            "status": "True",
                            "lastTransitionTime": ts(created),
                            "reason": "InitialNamesAccepted",
                            "message": "the initial names have been accepted",
                        },
                    ],
                    "acceptedNames": {
                        "plural": "widgets",
                        "singular": "widget",
                        "kind": "Widget",
                        "listKind": "WidgetList",
                    },
                    "storedVersions": ["v1"],
                },
            },
        )

    # -- workloads -------------------------------------------------------------------------------------------
    def _container(self, name: str, image: str) -> dict[str, Any]:
        return {
            "name": name,
            "image": image,
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": self.rng.choice(["info", "debug", "warn"])}],
            "resources": {"limits": {"memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }

    def _template(self, labels: dict[str, str], image: str) -> dict[str, Any]:
        return {
            "metadata": {"creationTimestamp": None, "labels": labels},
            "spec": {
                "containers": [self._container("main", image)],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler",
            },
        }

    def _fill_namespace(self, ns: str, pods: int, ds_pods: int, dns_pods: int) -> None:
        r = self.rng
        apps: list[tuple[str, dict[str, str]]] = []
        if ns == "kube-system":
            self._daemonset(ns, "kube-proxy", ds_pods)
            if dns_pods:
                apps.append(self._deployment(ns, "coredns", dns_pods, "k8s.gcr.io/coredns:1.7.0"))
        # A StatefulSet and a CronJob-owned Job where the namespace has room for them.
        if pods >= 12:
            n = 3
            pods -= n
            apps.append(self._statefulset(ns, r.choice(["postgres", "redis", "kafka", "etcd"]), n))
        if pods >= 10:
            pods -= 1
            self._cronjob(ns, with_pod=True)
        elif ns not in ("kube-system",):
            self._cronjob(ns, with_pod=False)
        n_deploy = max(1, min(120, pods // 8)) if pods else (0 if ns == "kube-system" else 1)
        if n_deploy:
            weights = [r.uniform(0.3, 1.7) for _ in range(n_deploy)]
            total = sum(weights)
            alloc = [int(pods * w / total) for w in weights]
            for i in range(pods - sum(alloc)):
                alloc[i % n_deploy] += 1
            used: set[str] = set()
            for i, reps in enumerate(alloc):
                base = APP_NAMES[i % len(APP_NAMES)]
                name = base if base not in used else f"{base}-{i // len(APP_NAMES)}"
                used.add(name)
                apps.append(self._deployment(ns, name, reps, r.choice(IMAGES)))
        for name, labels in apps[:12]:
            self._service(ns, name, labels)
        self._configs(ns, [a[0] for a in apps[:5]])
        if ns != "kube-system" and apps:
            self._ingress(ns, apps[-1][0])
        if ns in ("default", "team-a", "team-b"):
            self._widgets(ns)

    def _owner(self, kind: str, name: str, uid: str) -> list[dict[str, Any]]:
        api = "batch/v1" if kind == "Job" else ("batch/v1beta1" if kind == "CronJob" else "apps/v1")
        return [
            {"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": True, "blockOwnerDeletion": True}
        ]

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

    def _service(self, ns: str, name: str, selector: dict[str, str]) -> None:
        ip = f"10.96.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        stype = "LoadBalancer" if name == "gateway" else "ClusterIP"
        port: dict[str, Any] = {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}
        if stype == "LoadBalancer":
            port["nodePort"] = self.rng.randint(30000, 32767)
        status: dict[str, Any] = {"loadBalancer": {}}
        if stype == "LoadBalancer":
            status["loadBalancer"] = {"ingress": [{"ip": f"203.0.113.{self.rng.randint(1, 254)}"}]}
        self.store.load(
            BY_NAME["services"],
            {
                "metadata": self.meta("services", name, ns, self.when(), {"app": selector.get("app", name)}),
                "spec": {
                    "ports": [port],
                    "selector": selector,
                    "clusterIP": ip,
                    "clusterIPs": [ip],
                    "type": stype,
                    "sessionAffinity": "None",
                },
                "status": status,
            },
        )

    def _configs(self, ns: str, apps: list[str]) -> None:
        created = self.when()
        self.store.load(
            BY_NAME["configmaps"],
            {
                "metadata": self.meta("configmaps", "kube-root-ca.crt", ns, created),
                "data": {
                    "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAV\n"
                    "-----END CERTIFICATE-----\n"
                },
            },
        )
        for a in apps:
            self.store.load(
                BY_NAME["configmaps"],
                {
                    "metadata": self.meta("configmaps", f"{a}-config", ns, self.when(), {"app": a}),
                    "data": {"LOG_LEVEL": "info", "config.yaml": f"server:\n  port: 8080\n  name: {a}\n"},
                },
            )
        tok = self.rand(5)
        self.store.load(
            BY_NAME["secrets"],
            {
                "metadata": self.meta(
                    "secrets",
                    f"default-token-{tok}",
                    ns,
                    created,
                    annotations={
                        "kubernetes.io/service-account.name": "default",
                        "kubernetes.io/service-account.uid": self.uid(),
                    },
                ),
                "type": "kubernetes.io/service-account-token",
                "data": {
                    "ca.crt": base64.b64encode(b"sim-ca").decode(),
                    "namespace": base64.b64encode(ns.encode()).decode(),
                    "token": base64.b64encode(self.rand(40).encode()).decode(),
                },
            },
        )
        for a in apps[:3]:
            self.store.load(
                BY_NAME["secrets"],
                {
                    "metadata": self.meta("secrets", f"{a}-credentials", ns, self.when(), {"app": a}),
                    "type": "Opaque",
                    "data": {
                        "username": base64.b64encode(a.encode()).decode(),
                        "password": base64.b64encode(self.rand(16).encode()).decode(),
                    },
                },
            )

    def _ingress(self, ns: str, svc: str) -> None:
        self.store.load(
            BY_NAME["ingresses"],
            {
                "metadata": self.meta("ingresses", svc, ns, self.when(), {"app": svc}),
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [
                        {
                            "host": f"{svc}.{ns}.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": svc, "port": {"number": 80}}},
                                    }
                                ]
                            },
                        }
                    ],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.11"}]}},
            },
        )

    def _widgets(self, ns: str) -> None:
        for i in range(3):
            self.store.load(
                BY_NAME["widgets"],
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": self.meta("widgets", f"widget-{i}", ns, self.when(), generation=1),
                    "spec": {"size": self.rng.randint(1, 10), "color": self.rng.choice(["red", "green", "blue"])},
                },
            )

    # -- pods ------------------------------------------------------------------------------------------------
    def pod(
        self,
        ns: str,
        name: str,
        labels: dict[str, str],
        owner: list[dict[str, Any]],
        image: str,
        after: float,
        node: str | None = None,
        healthy: bool = False,
        succeeded: bool = False,
        load: bool = True,
        sidecar: bool = False,
    ) -> dict[str, Any]:
        """Builds (and by default stores) one pod with a realistic status mix.

        ``sidecar``: the pod also runs a ``metrics`` container and ran an ``init-config`` init container (the
        pods that need ``-c`` for their logs).
        """
        r = self.rng
        created = after if succeeded else self.when(after)
        workers = self.node_names[1:] or self.node_names
        kind = "ok"
        if not healthy and not succeeded:
            x = r.random()
            kind = "pending" if x < 0.03 else "failed" if x < 0.05 else "crash" if x < 0.08 else "ok"
        node_name = None if kind == "pending" and r.random() < 0.5 else node or r.choice(workers)
        self.pod_seq += 1
        start = ts(created + 1)
        spec: dict[str, Any] = {
            "containers": [self._container("main", image)],
            "restartPolicy": "Never" if succeeded else "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
        }
        if node_name:
            spec["nodeName"] = node_name
        spec.update(
            {
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "tolerations": POD_TOLERATIONS,
                "priority": 0,
                "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
            }
        )
        host_ip = f"10.0.0.{11 + self.node_names.index(node_name)}" if node_name else None
        pod_ip = f"10.244.{r.randint(0, 255)}.{r.randint(2, 254)}"
        cid = "containerd://" + f"{r.getrandbits(256):064x}"
        cs: dict[str, Any] = {
            "name": "main",
            "lastState": {},
            "ready": True,
            "restartCount": 0,
            "image": image,
            "imageID": f"docker.io/library/{image.split(':')[0]}@sha256:{f'{r.getrandbits(256):064x}'}",
            "containerID": cid,
            "started": True,
        }
        true_conds = ["Initialized", "Ready", "ContainersReady", "PodScheduled"]
        status: dict[str, Any]
        if kind == "ok" and not succeeded:
            cs["state"] = {"running": {"startedAt": start}}
            if r.random() < 0.1:
                cs["restartCount"] = r.randint(1, 4)
            status = {"phase": "Running", "conditions": self._conds(true_conds, [], start)}
            if self.pod_seq % 23 == 11:
                # Its readiness probe fails: Running but 0/1 ready, as kubectl shows such a pod. Chosen by sequence
                # (no random draw), so every other object of a seeded cluster stays as it was.
                cs["ready"] = False
                not_ready = ["Ready", "ContainersReady"]
                status["conditions"] = self._conds(["Initialized", "PodScheduled"], not_ready, start)
        elif succeeded:
            cs.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": start,
                        "finishedAt": ts(created + 9),
                        "containerID": cid,
                    }
                },
            )
            status = {
                "phase": "Succeeded",
                "conditions": self._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], start),
            }
        elif kind == "crash":
            cs.update(
                ready=False,
                started=False,
                restartCount=r.randint(5, 300),
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container=main",
                    }
                },
                lastState={
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": start,
                        "finishedAt": start,
                        "containerID": cid,
                    }
                },
            )
            status = {
                "phase": "Running",
                "conditions": self._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], start),
            }
        elif kind == "failed":
            cs.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": 137,
                        "reason": "Error",
                        "startedAt": start,
                        "finishedAt": ts(created + 60),
                        "containerID": cid,
                    }
                },
            )
            status = {
                "phase": "Failed",
                "conditions": self._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], start),
            }
        else:  # pending
            if node_name:
                cs = {
                    "name": "main",
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": {},
                    "ready": False,
                    "restartCount": 0,
                    "image": image,
                    "imageID": "",
                    "started": False,
                }
                status = {
                    "phase": "Pending",
                    "conditions": self._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], start),
                }
            else:
                status = {
                    "phase": "Pending",
                    "conditions": [
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "lastProbeTime": None,
                            "lastTransitionTime": start,
                            "reason": "Unschedulable",
                            "message": f"0/{len(self.node_names)} nodes are available: insufficient cpu.",
                        }
                    ],
                }
        if node_name:
            status["hostIP"] = host_ip
            if status["phase"] != "Pending":
                status["podIP"] = pod_ip
                status["podIPs"] = [{"ip": pod_ip}]
            status["startTime"] = start
            status["containerStatuses"] = [cs]
        if sidecar:
            self._add_sidecar(spec, status)
        status["qosClass"] = "Burstable"
        pod = {
            "metadata": self.meta("pods", name, ns, created, labels, ownerReferences=owner),
            "spec": spec,
            "status": status,
        }
        if load:
            self.store.load(BY_NAME["pods"], pod)
            self._pod_events(pod, kind)
            if "podIP" in status and cs.get("ready"):
                # Endpoints of the Services selecting it (sim/more_objects.py), without re-reading 50,000 pods.
                self.ready_ips.setdefault((ns, labels.get("app", "")), []).append((name, status["podIP"]))
        return pod

    @staticmethod
    def _add_sidecar(spec: dict[str, Any], status: dict[str, Any]) -> None:
        """A ``metrics`` sidecar in the main container's state and a completed ``init-config`` init container
        (no random draws: the rest of the cluster stays as the seed makes it)."""
        side = {"name": "metrics", "image": "prom/statsd-exporter:v0.20.0", "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
        init = {"name": "init-config", "image": "busybox:1.32", "command": ["sh", "-c", "cp /src/* /config/"],
                "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"}
        spec["containers"].append(side)
        spec["initContainers"] = [init]
        css = status.get("containerStatuses")
        if not css:
            return
        main = css[0]
        sc = {**main, "name": "metrics", "image": side["image"], "restartCount": 0, "lastState": {}}
        if main.get("containerID"):
            sc["containerID"] = main["containerID"][:-8] + "5eedcafe"
        if "waiting" in (main.get("state") or {}) and main.get("lastState"):
            sc.update(state={"running": {"startedAt": status.get("startTime")}}, ready=True, started=True)
        css.append(sc)
        start = status.get("startTime")
        status["initContainerStatuses"] = [{
            "name": "init-config", "ready": True, "restartCount": 0, "image": init["image"],
            "imageID": "docker.io/library/busybox@sha256:" + "0" * 64, "started": False,
            "containerID": (main.get("containerID") or "containerd://" + "0" * 64)[:-8] + "1417c0de",
            "lastState": {},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}},
        }]

    def _pod_events(self, pod: dict[str, Any], kind: str) -> None:
        """A few events per namespace, like the kubelet and scheduler would have recorded recently."""
        md = pod["metadata"]
        ns = md["namespace"]
        n = self.events_per_ns.get(ns, 0)
        if n >= 40 or (kind == "ok" and n >= 16):
            return
        node = pod["spec"].get("nodeName")
        image = pod["spec"]["containers"][0]["image"]
        last = self.now - self.rng.randint(30, 3000)
        if kind == "crash":
            evs = [
                (
                    "Warning",
                    "BackOff",
                    "spec.containers{main}",
                    "kubelet",
                    "Back-off restarting failed container",
                    self.rng.randint(20, 400),
                )
            ]
        elif kind == "pending" and not node:
            evs = [
                (
                    "Warning",
                    "FailedScheduling",
                    "",
                    "default-scheduler",
                    f"0/{len(self.node_names)} nodes are available: insufficient cpu.",
                    self.rng.randint(2, 50),
                )
            ]
        elif kind == "failed":
            evs = [
                ("Warning", "Failed", "spec.containers{main}", "kubelet", "Error: container exited with code 137", 1)
            ]
        else:
            evs = [
                (
                    "Normal",
                    "Scheduled",
                    "",
                    "default-scheduler",
                    f"Successfully assigned {ns}/{md['name']} to {node}",
                    1,
                ),
                (
                    "Normal",
                    "Pulled",
                    "spec.containers{main}",
                    "kubelet",
                    f'Container image "{image}" already present on machine',
                    1,
                ),
                ("Normal", "Created", "spec.containers{main}", "kubelet", "Created container main", 1),
                ("Normal", "Started", "spec.containers{main}", "kubelet", "Started container main", 1),
            ]
        for etype, reason, fpath, comp, msg, count in evs:
            self.events_per_ns[ns] = self.events_per_ns.get(ns, 0) + 1
            first = last - (count - 1) * 300 if count > 1 else last
            inv: dict[str, Any] = {
                "kind": "Pod",
                "namespace": ns,
                "name": md["name"],
                "uid": md["uid"],
                "apiVersion": "v1",
                "resourceVersion": md["resourceVersion"],
            }
            if fpath:
                inv["fieldPath"] = fpath
            src: dict[str, Any] = {"component": comp}
            if comp == "kubelet" and node:
                src["host"] = node
            self.store.load(
                BY_NAME["events"],
                {
                    "metadata": self.meta("events", f"{md['name']}.{self.rng.getrandbits(64):x}", ns, first),
                    "involvedObject": inv,
                    "reason": reason,
                    "message": msg,
                    "source": src,
                    "firstTimestamp": ts(first),
                    "lastTimestamp": ts(last),
                    "count": count,
                    "type": etype,
                    "eventTime": None,
                    "reportingComponent": "",
                    "reportingInstance": "",
                },
            )

    @staticmethod
    def _conds(true: list[str], false: list[str], when: str) -> list[dict[str, Any]]:
        out = []
        for t in ["Initialized", "Ready", "ContainersReady", "PodScheduled"]:
            if t in true or t in false:
                c: dict[str, Any] = {
                    "type": t,
                    "status": "True" if t in true else "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": when,
                }
                if t in false:
                    c["reason"] = "ContainersNotReady"
                    c["message"] = "containers with unready status: [main]"
                out.append(c)
        return out
