"""What every handler may read or change: the store, credentials, faults, churn, counters and connections.

:class:`~kube9_desktop.sim.server.SimServer` is a ``SimState`` plus its lifecycle (TLS, sockets, kubeconfig);
handlers are typed against this class so that no handler module imports the server.
"""

from __future__ import annotations

import contextlib
import functools
import random
import socket
import threading
from typing import Any

from kube9_desktop.sim import apiservices, auth
from kube9_desktop.sim.churn import Churner
from kube9_desktop.sim.controllers import Controllers
from kube9_desktop.sim.events import EventRecorder
from kube9_desktop.sim.faults import Fault
from kube9_desktop.sim.logs import LogBook
from kube9_desktop.sim.metrics import MetricsState
from kube9_desktop.sim.store import Store


class SimState:
    """Shared, thread-safe state of one sim.

    Args:
        seed: Seed for the generated content, the churn and fault rates.
        port: TCP port on 127.0.0.1 (0 picks a free one at start).
        latency_ms: Latency added to every API response (not /simz).
        churn: Random pod changes per second.
        faults: Initial faults.
    """

    def __init__(
        self, seed: int = 1, port: int = 0, latency_ms: float = 0, churn: float = 0.0, faults: list[Fault] | None = None
    ) -> None:
        self.seed = seed
        self.port = port
        self.latency_ms = latency_ms
        self.auth = auth.Authenticator()
        self.store = Store()
        self.faults: list[Fault] = list(faults or [])
        # Whether a 410 for an expired continue token carries a fresh rv:-1 token (modern kube-apiserver) or
        # none (older servers, some aggregated APIs), which forces clients to restart the list.
        self.offer_continue_token = True
        #: POST /simz/kubelet {"reachable": false}: exec/attach/port-forward answer "error dialing backend".
        self.kubelet_down = False
        #: POST /simz/kubelet {"v5": false}: exec/attach offer no v5.channel.k8s.io (a server before 1.30).
        self.exec_v5 = True
        self.fault_lock = threading.Lock()
        self.stats_lock = threading.Lock()
        self.requests = 0
        self.connections = 0
        self.by_path: dict[str, int] = {}
        self.open_socks: dict[socket.socket, Any] = {}
        self.stopping = threading.Event()
        self.rng = random.Random(seed)
        #: Records events (Scheduled, Killing, BackOff ...) as the churn and writes change pods.
        self.events = EventRecorder(self.store, seed)
        self.churner = Churner(self.store, churn, seed, self.events)
        #: Container logs: their timelines, per-pod rates and kubelets that do not answer.
        self.logbook = LogBook()
        #: Controllers and kubelet: what reacts to writes (scaling, rollouts, graceful deletion, GC).
        self.controllers = Controllers(self.store, events=self.events)
        #: metrics.k8s.io: usage model and availability switch (``--metrics``, ``/simz/metrics``).
        self.metrics = MetricsState()
        self.metrics.on_change = functools.partial(apiservices.sync, self.store)
        #: ``classic`` (v1.19: per-group documents only) or ``aggregated`` (also ``APIGroupDiscoveryList`` for
        #: clients asking for it, as Kubernetes 1.26+); ``--discovery``, ``POST /simz/discovery``.
        self.discovery = "classic"

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self.port}"

    # -- counters --------------------------------------------------------------------------------------------
    def count_request(self, path: str) -> None:
        """Counts one API request (admin and OIDC calls are not counted)."""
        with self.stats_lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    # -- faults ----------------------------------------------------------------------------------------------
    def pick_fault(self, path: str, watch: bool = False) -> Fault | None:
        """The first fault that matches ``path`` and wins its rate draw (counted as applied), if any.

        A ``silent`` fault is for watches only: other requests on its path are served normally.
        """
        with self.fault_lock:
            for f in self.faults:
                if f.count is not None and f.applied >= f.count:
                    continue
                if f.mode == "silent" and not watch:
                    continue
                if f.regex.search(path) and self.rng.random() < f.rate:
                    f.applied += 1
                    return f
        return None

    # -- connection tracking ---------------------------------------------------------------------------------
    def on_connect(self, sock: socket.socket) -> None:
        """Counts an accepted TCP connection."""
        with self.stats_lock:
            self.connections += 1
            self.open_socks[sock] = None

    def on_tls(self, raw: socket.socket, tls: Any) -> None:
        """Remembers the TLS wrapper of a connection."""
        with self.stats_lock:
            if raw in self.open_socks:
                self.open_socks[raw] = tls

    def on_disconnect(self, sock: Any) -> None:
        """Forgets a closed connection."""
        with self.stats_lock:
            self.open_socks.pop(sock, None)
            for raw, tls in list(self.open_socks.items()):
                if tls is sock:
                    self.open_socks.pop(raw, None)

    def drop_connections(self) -> int:
        """Closes every open client connection (watches and taken-over sockets included) at once."""
        with self.stats_lock:
            socks = [tls or raw for raw, tls in self.open_socks.items()]
            self.open_socks.clear()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.store.close_watchers()
        return len(socks)
