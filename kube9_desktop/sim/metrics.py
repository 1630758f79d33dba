"""What metrics-server would report for the sim's pods and nodes: usage that varies over time, deterministically.

Usage is a pure function of an object's uid, its requests/limits and the current 15-second sample window, so two
reads in one window agree (like metrics-server, which scrapes every 15 s), a test can predict the figures, and a
history drawn over minutes moves. One container in 25 sits near its memory limit (the pods a user must notice).

The availability switch (``--metrics`` / ``POST /simz/metrics``) imitates the three ways the API goes missing:
``available``; ``unavailable`` (the APIService is registered but its backend does not answer: the group stays in
discovery, its URLs answer 503 like kube-apiserver's aggregator); ``absent`` (no APIService: 404, no group).
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from kube9_desktop.sim.gen.base import ts

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
MODES = ("available", "unavailable", "absent")
#: metrics-server's scrape period: usage changes once per window.
WINDOW_S = 15
#: kube-apiserver's answer for an aggregated API whose backend is down (503).
UNAVAILABLE_MESSAGE = "the server is currently unable to handle the request"
#: What the kubelet's own processes use on every node, on top of its pods (millicores, bytes).
NODE_OVERHEAD = (180, 700 * 1024 * 1024)

_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3}


def cpu_milli(q: str) -> float:
    """``250m`` / ``2`` / ``1500000n`` → millicores."""
    q = str(q).strip()
    if q.endswith("n"):
        return float(q[:-1]) / 1e6
    if q.endswith("u"):
        return float(q[:-1]) / 1e3
    if q.endswith("m"):
        return float(q[:-1])
    return float(q) * 1000


def mem_bytes(q: str) -> float:
    """``512Mi`` / ``1G`` / ``1024`` → bytes."""
    q = str(q).strip()
    for suffix in ("Ki", "Mi", "Gi", "Ti", "k", "M", "G"):
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * _UNITS[suffix]
    return float(q)


@functools.lru_cache(maxsize=65536)
def _fractions(seed: str) -> tuple[float, float, int]:
    h = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    return h[0] / 256 + h[1] / 65536, h[2] / 256, h[3]


#: A running pod's (uid, name, namespace, labels, running containers with requests/limits).
_PodInfo = tuple[str, str, str, dict[str, str], tuple[tuple[str, float, float, float], ...]]
_MISSING = object()


class MetricsState:
    """The switch and the usage model (thread-safe: the mode is one attribute)."""

    def __init__(self, mode: str = "available") -> None:
        if mode not in MODES:
            raise ValueError(f"metrics mode must be one of {', '.join(MODES)}")
        self.mode = mode
        #: Called with the new mode on every switch (the sim keeps the metrics APIService's condition in step).
        self.on_change: Callable[[str], None] | None = None
        self._lock = threading.Lock()
        # (pod key, resourceVersion) -> [(container, cpu request m, mem request B, mem limit B)]
        self._shapes: dict[tuple[str, int], list[tuple[str, float, float, float]]] = {}
        self._infos: dict[tuple[str, int], _PodInfo | None] = {}
        # One window's pod totals (pod key, resourceVersion) -> (millicores, bytes): node metrics sum 10,000 pods
        # on every read, and metrics-server's figures do not change within a window.
        self._totals: dict[tuple[str, int], tuple[float, float] | None] = {}
        self._totals_t = -1.0
        # Every node's summed pod usage for one (window, store revision): metrics-server answers NodeMetrics from
        # what it scraped, not by adding up 10,000 pods on each read (4-5 ms of the sim's CPU per read at 2,000
        # pods, on the critical path of every tree's usage columns). Any change in the store starts a new sum.
        self._node_sums: tuple[tuple[float, int], dict[str, tuple[float, float]]] | None = None

    def set_mode(self, mode: str) -> None:
        """Switch availability; raises ValueError for an unknown mode."""
        if mode not in MODES:
            raise ValueError(f"metrics mode must be one of {', '.join(MODES)}")
        self.mode = mode
        if self.on_change is not None:
            self.on_change(mode)

    @staticmethod
    def window(now: float | None = None) -> float:
        """The start of the current sample window."""
        t = time.time() if now is None else now
        return math.floor(t / WINDOW_S) * WINDOW_S

    # -- the model ------------------------------------------------------------------------------------------------
    @staticmethod
    def container_usage(uid: str, container: str, cpu_req: float, mem_req: float, mem_limit: float,
                        t: float) -> tuple[float, float]:
        """(millicores, bytes) of one container at sample time ``t``."""
        f1, f2, pick = _fractions(f"{uid}/{container}")
        wave = math.sin(2 * math.pi * (t / 300.0 + f2))
        cpu = max(1.0, (cpu_req or 50.0) * (0.1 + 0.5 * f1) * (1 + 0.3 * wave))
        if mem_limit and pick % 25 == 0:
            # Near the limit: 86-96 % of it, breathing a little.
            mem = mem_limit * (0.86 + 0.08 * f2 + 0.02 * wave)
        else:
            mem = (mem_req or 32 * 1024**2) * (0.4 + 0.8 * f1) * (1 + 0.1 * wave)
            if mem_limit:
                mem = min(mem, mem_limit * 0.8)
        return cpu, mem

    def shape(self, key: str, rv: int, pod: dict[str, Any]) -> list[tuple[str, float, float, float]]:
        """A pod's containers with their requests and limits (cached per resourceVersion)."""
        with self._lock:
            got = self._shapes.get((key, rv))
        if got is not None:
            return got
        out = []
        for c in (pod.get("spec") or {}).get("containers") or []:
            res = c.get("resources") or {}
            req, lim = res.get("requests") or {}, res.get("limits") or {}
            out.append((
                str(c.get("name", "")),
                cpu_milli(req["cpu"]) if "cpu" in req else 0.0,
                mem_bytes(req["memory"]) if "memory" in req else 0.0,
                mem_bytes(lim["memory"]) if "memory" in lim else 0.0,
            ))
        with self._lock:
            if len(self._shapes) > 200_000:
                self._shapes.clear()
            self._shapes[(key, rv)] = out
        return out

    def _info(self, key: str, rv: int, pod: dict[str, Any] | Callable[[], dict[str, Any]]) -> _PodInfo | None:
        """What a pod's metrics need, parsed once per resourceVersion (a 10,000-pod list is then cheap math)."""
        with self._lock:
            hit = self._infos.get((key, rv), _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        d = pod() if callable(pod) else pod
        md, status = d.get("metadata") or {}, d.get("status") or {}
        info: _PodInfo | None = None
        if status.get("phase") == "Running" and (d.get("spec") or {}).get("nodeName"):
            running = {cs.get("name") for cs in status.get("containerStatuses") or []
                       if "running" in (cs.get("state") or {})}
            conts = tuple(c for c in self.shape(key, rv, d) if c[0] in running)
            if conts:
                info = (str(md.get("uid", key)), str(md.get("name")), str(md.get("namespace")),
                        dict(md.get("labels") or {}), conts)
        with self._lock:
            if len(self._infos) > 200_000:
                self._infos.clear()
            self._infos[(key, rv)] = info
        return info

    def pod_item(self, pod: dict[str, Any] | Callable[[], dict[str, Any]], key: str, rv: int,
                 t: float) -> dict[str, Any] | None:
        """One PodMetrics, or None for a pod metrics-server would not report (not running on a node).

        ``pod`` may be a function returning the pod: it is called only when this resourceVersion was not seen.
        """
        info = self._info(key, rv, pod)
        if info is None:
            return None
        uid, name, ns, labels, conts = info
        containers = []
        for cname, cpu_req, mem_req, mem_lim in conts:
            cpu, mem = self.container_usage(uid, cname, cpu_req, mem_req, mem_lim, t)
            usage = {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem // 1024)}Ki"}
            containers.append({"name": cname, "usage": usage})
        return {
            "metadata": {
                "name": name,
                "namespace": ns,
                "selfLink": f"/apis/{GROUP_VERSION}/namespaces/{ns}/pods/{name}",
                "creationTimestamp": ts(time.time()),
                **({"labels": labels} if labels else {}),
            },
            "timestamp": ts(t),
            "window": "30s",
            "containers": containers,
        }

    def pod_total(self, pod: Callable[[], dict[str, Any]], key: str, rv: int, t: float) -> tuple[float, float] | None:
        """A pod's summed usage at window ``t`` (None when metrics-server would not report it), memoised per window."""
        with self._lock:
            if self._totals_t != t:
                self._totals, self._totals_t = {}, t
            hit = self._totals.get((key, rv), _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        info = self._info(key, rv, pod)
        total: tuple[float, float] | None = None
        if info is not None:
            cpu = mem = 0.0
            for cname, cpu_req, mem_req, mem_lim in info[4]:
                c, m = self.container_usage(info[0], cname, cpu_req, mem_req, mem_lim, t)
                # The figures as a PodMetrics reports them (whole nanocores, whole KiB), so node and pod metrics add
                # up the same way.
                cpu += int(c * 1e6) / 1e6
                mem += (m // 1024) * 1024
            total = (cpu, mem)
        with self._lock:
            if self._totals_t == t:
                self._totals[(key, rv)] = total
        return total

    def node_sums(self, key: tuple[float, int],
                  compute: Callable[[], dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
        """Each node's pods' summed usage for ``key`` (window, store revision): ``compute()`` once per key."""
        with self._lock:
            cached = self._node_sums
        if cached is not None and cached[0] == key:
            return cached[1]
        sums = compute()
        with self._lock:
            self._node_sums = (key, sums)
        return sums

    @staticmethod
    def node_item(node: dict[str, Any], pods_usage: tuple[float, float], t: float) -> dict[str, Any]:
        """One NodeMetrics: its pods' usage plus the node's own processes."""
        md = node.get("metadata") or {}
        f1, f2, _ = _fractions(str(md.get("uid", md.get("name"))))
        wave = math.sin(2 * math.pi * (t / 420.0 + f2))
        cpu = pods_usage[0] + NODE_OVERHEAD[0] * (1 + 0.4 * f1 + 0.2 * wave)
        mem = pods_usage[1] + NODE_OVERHEAD[1] * (1 + 0.3 * f1 + 0.05 * wave)
        # A small node cannot use more than it has, however many pods a generated cluster packs onto it.
        alloc = (node.get("status") or {}).get("allocatable") or {}
        if "cpu" in alloc:
            cpu = min(cpu, cpu_milli(alloc["cpu"]) * (0.9 + 0.07 * f1))
        if "memory" in alloc:
            mem = min(mem, mem_bytes(alloc["memory"]) * (0.88 + 0.07 * f2))
        return {
            "metadata": {
                "name": md.get("name"),
                "selfLink": f"/apis/{GROUP_VERSION}/nodes/{md.get('name')}",
                "creationTimestamp": ts(time.time()),
                **({"labels": md["labels"]} if md.get("labels") else {}),
            },
            "timestamp": ts(t),
            "window": "30s",
            "usage": {"cpu": f"{int(cpu * 1e6)}n", "memory": f"{int(mem // 1024)}Ki"},
        }


def group_doc() -> dict[str, Any]:
    """``/apis/metrics.k8s.io`` (and its entry in ``/apis``)."""
    v = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [v], "preferredVersion": v}


def aggregated_item() -> dict[str, Any]:
    """The group's item in an aggregated ``/apis`` document."""
    res = [{"resource": r["name"], "responseKind": {"group": "", "version": "", "kind": r["kind"]},
            "scope": "Namespaced" if r["namespaced"] else "Cluster", "singularResource": "", "verbs": r["verbs"]}
           for r in resource_list_doc()["resources"]]
    return {"metadata": {"name": GROUP}, "versions": [{"version": VERSION, "resources": res, "freshness": "Current"}]}


def resource_list_doc() -> dict[str, Any]:
    """``/apis/metrics.k8s.io/v1beta1`` as metrics-server serves it."""
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GROUP_VERSION,
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    }
