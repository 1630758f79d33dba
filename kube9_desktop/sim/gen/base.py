"""The generator's common ground: timestamps, name pools and the seeded helpers every part builds with."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

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
class GeneratorBase:
    """Sizes, the seeded random source and the helpers the generator's parts share (see ``gen.generator``)."""

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

        # Set by Generator.build; declared here so every part knows the store it fills.
        self.store: Store

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

    def namespace_names(self) -> list[str]:
        names = ["default", "kube-system", "team-a"]
        i = 0
        while len(names) < self.namespaces:
            letter = chr(ord("b") + i % 25)
            names.append(f"team-{letter}" if i < 25 else f"team-{letter}{i // 25 + 1}")
            i += 1
        return names[: max(self.namespaces, 1)]

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

    def _owner(self, kind: str, name: str, uid: str) -> list[dict[str, Any]]:
        api = "batch/v1" if kind == "Job" else ("batch/v1beta1" if kind == "CronJob" else "apps/v1")
        return [
            {"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": True, "blockOwnerDeletion": True}
        ]
