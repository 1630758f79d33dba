"""The kube9-sim server: lifecycle (cluster build, TLS, listening socket, kubeconfig) around the router.

Requests are answered by :class:`~kube9_desktop.sim.router.Router` from the handler modules in
:mod:`kube9_desktop.sim.handlers` (one per API area); shared state lives in :class:`~kube9_desktop.sim.state.SimState`.
"""

from __future__ import annotations

import base64
import gc
import os
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import yaml

from kube9_desktop.sim import apiservices
from kube9_desktop.sim.certs import Pki, generate_pki
from kube9_desktop.sim.connection import Connection, HTTPServer
from kube9_desktop.sim.faults import Fault
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.handlers import AREAS
from kube9_desktop.sim.router import Router
from kube9_desktop.sim.scenarios import add_scenarios
from kube9_desktop.sim.state import SimState
from kube9_desktop.sim.tarpit import Tarpit

__all__ = ["Fault", "SimServer"]


class SimServer(SimState):
    """An in-process kube9-sim.

    Args:
        nodes: Number of nodes.
        namespaces: Number of namespaces (default, kube-system, team-a, team-b, ...).
        pods: Exact total number of pods.
        seed: Seed for the generated content.
        port: TCP port on 127.0.0.1 (0 picks a free one).
        latency_ms: Latency added to every API response (not /simz).
        churn: Random pod changes per second.
        kubeconfig_out: Where to write the kubeconfig (default: a temporary file).
        faults: Initial faults.
        areas: Handler modules to serve (default: every area in :data:`kube9_desktop.sim.handlers.AREAS`).
        metrics: ``metrics.k8s.io`` availability: ``available``, ``unavailable`` (503) or ``absent`` (404).
        contexts: Extra ``fleet-NNN`` contexts in the kubeconfig (for a fleet view): most reach this sim, every
            fifth a dead port, every seventh a port that never answers, every eleventh a missing exec plugin.
        discovery: ``classic`` (v1.19) or ``aggregated`` (also ``APIGroupDiscoveryList``, as Kubernetes 1.26+).
        scenarios: Add the pods and workloads that exercise every diagnose rule (namespace ``scenarios``).
    """

    def __init__(
        self,
        nodes: int = 5,
        namespaces: int = 12,
        pods: int = 2000,
        seed: int = 1,
        port: int = 0,
        latency_ms: float = 0,
        churn: float = 0.0,
        kubeconfig_out: str | None = None,
        faults: list[Fault] | None = None,
        areas: Iterable[ModuleType] = AREAS,
        metrics: str = "available",
        discovery: str = "classic",
        contexts: int = 0,
        scenarios: bool = False,
    ) -> None:
        super().__init__(seed, port, latency_ms, churn, faults)
        self.metrics.set_mode(metrics)
        self.discovery = discovery
        self.extra_contexts = max(0, contexts)
        self.scenarios = scenarios
        self.tarpit: Tarpit | None = None
        self.nodes, self.namespaces, self.pods = nodes, namespaces, pods
        self.kubeconfig_path = kubeconfig_out or ""
        self.router = Router(self, areas)
        self.pki: Pki | None = None
        self.ssl_context: ssl.SSLContext
        self.httpd: HTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.down_port = 0
        self.generator: Generator | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> SimServer:
        """Generates the cluster, binds 127.0.0.1, writes the kubeconfig and serves in background threads."""
        self.pki = generate_pki()
        self.ssl_context = self._make_ssl_context(self.pki)
        self.generator = Generator(self.nodes, self.namespaces, self.pods, self.seed)
        # The build allocates millions of short-lived containers; with the cyclic GC running, its repeated
        # full collections over the growing store made 50,000 pods take 3x longer. Nothing here forms cycles.
        gc.disable()
        try:
            self.generator.build(self.store)
            if self.scenarios:
                add_scenarios(self.generator, self.store, self.events)
            self.store.finish_load()
            apiservices.sync(self.store, self.metrics.mode)
        finally:
            gc.enable()
        gc.freeze()
        httpd = HTTPServer(("127.0.0.1", self.port), Connection, bind_and_activate=False)
        httpd.sim = self
        httpd.server_bind()
        httpd.socket.listen(1024)
        self.httpd = httpd
        self.port = httpd.server_address[1]
        self.down_port = self._free_port()
        if self.extra_contexts:
            self.tarpit = Tarpit()
        self.write_kubeconfig()
        self.thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="kube9-sim", daemon=True
        )
        self.thread.start()
        self.churner.start(self.generator)
        self.controllers.start(self.generator)
        return self

    def stop(self) -> None:
        """Stops serving, ends watches and closes every connection."""
        self.stopping.set()
        self.churner.stop()
        self.controllers.stop()
        self.store.close_watchers()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        self.drop_connections()
        if self.tarpit is not None:
            self.tarpit.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
            return port

    def _make_ssl_context(self, pki: Pki) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, data in [("cert", pki.server_cert), ("key", pki.server_key), ("ca", pki.ca_cert)]:
                paths[name] = os.path.join(d, name)
                with open(paths[name], "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(paths["cert"], paths["key"])
            ctx.load_verify_locations(paths["ca"])
        # Optional client certs: token users send none, the sim-cert context sends CN=cert-admin.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        # No TLS 1.3 session tickets: neither kubectl (client-go keeps no session cache) nor urllib3 ever resumes
        # a session, so each ticket was pure per-connection cost (encrypt, send, parse on the client) on the cold
        # burst of parallel connections a tree load opens.
        ctx.num_tickets = 0
        return ctx

    def write_kubeconfig(self) -> None:
        """Writes the kubeconfig with the sim-admin/-cert/-viewer/-badtoken/-down contexts."""
        assert self.pki is not None
        if not self.kubeconfig_path:
            fd, self.kubeconfig_path = tempfile.mkstemp(prefix="kube9-sim-", suffix=".kubeconfig")
            os.close(fd)
        ca = base64.b64encode(self.pki.ca_cert).decode()

        def cluster(name: str, port: int) -> dict[str, Any]:
            return {"name": name, "cluster": {"server": f"https://127.0.0.1:{port}", "certificate-authority-data": ca}}

        def context(name: str, cluster_name: str, user: str, ns: str | None = None) -> dict[str, Any]:
            ctx: dict[str, Any] = {"cluster": cluster_name, "user": user}
            if ns:
                ctx["namespace"] = ns
            return {"name": name, "context": ctx}

        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "current-context": "sim-admin",
            "clusters": [cluster("kube9-sim", self.port), cluster("kube9-sim-down", self.down_port)],
            "users": [
                {"name": "sim-admin", "user": {"token": self.auth.admin_token}},
                {
                    "name": "sim-cert",
                    "user": {
                        "client-certificate-data": base64.b64encode(self.pki.client_cert).decode(),
                        "client-key-data": base64.b64encode(self.pki.client_key).decode(),
                    },
                },
                {"name": "sim-viewer", "user": {"token": self.auth.viewer_token}},
                {"name": "sim-badtoken", "user": {"token": self.auth.bad_token}},
            ],
            "contexts": [
                context("sim-admin", "kube9-sim", "sim-admin", "default"),
                context("sim-cert", "kube9-sim", "sim-cert", "default"),
                context("sim-viewer", "kube9-sim", "sim-viewer", "team-a"),
                context("sim-badtoken", "kube9-sim", "sim-badtoken", "default"),
                context("sim-down", "kube9-sim-down", "sim-admin", "default"),
            ],
        }
        self._fleet_contexts(cfg, cluster, context)
        tmp = self.kubeconfig_path + ".tmp"
        with open(tmp, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.kubeconfig_path)

    def _fleet_contexts(self, cfg: dict[str, Any], cluster: Any, context: Any) -> None:
        """``fleet-NNN`` contexts: live, dead (nothing listens), slow (never answers) or a missing exec plugin."""
        if not self.extra_contexts:
            return
        assert self.tarpit is not None
        cfg["clusters"].append(cluster("kube9-sim-slow", self.tarpit.port))
        cfg["users"].append({"name": "sim-missing-plugin", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kube9-sim-no-such-plugin",
            "args": ["token"], "interactiveMode": "Never"}}})
        for i in range(1, self.extra_contexts + 1):
            name = f"fleet-{i:03d}"
            if i % 5 == 0:
                cfg["contexts"].append(context(name, "kube9-sim-down", "sim-admin", "default"))
            elif i % 7 == 0:
                cfg["contexts"].append(context(name, "kube9-sim-slow", "sim-admin", "default"))
            elif i % 11 == 0:
                cfg["contexts"].append(context(name, "kube9-sim", "sim-missing-plugin", "default"))
            else:
                cfg["contexts"].append(context(name, "kube9-sim", "sim-admin", "default"))

    def dispatch(self, conn: Connection) -> None:
        """Entry point for every request (called in the connection's thread)."""
        self.router.dispatch(conn)
