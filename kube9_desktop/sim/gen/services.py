"""A namespace's services, config maps, secrets, ingress and widgets (custom resources)."""

from __future__ import annotations

import base64
from typing import Any

from kube9_desktop.sim.gen.base import GeneratorBase
from kube9_desktop.sim.resources import BY_NAME


class ServiceParts(GeneratorBase):
    """Builds what sits next to a namespace's workloads."""

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
