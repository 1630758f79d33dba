"""Cluster-scoped objects: nodes, namespaces, storage classes and the widgets CRD."""

from __future__ import annotations

from typing import Any

from kube9_desktop.sim.gen.base import GeneratorBase, ts
from kube9_desktop.sim.resources import BY_NAME


class ClusterParts(GeneratorBase):
    """Builds the objects that belong to no namespace."""

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
