"""Resource usage from ``metrics.k8s.io/v1beta1`` (metrics-server): quantities, percentages, availability, history.

Qt-free. Usage is never cached past one sample (metrics-server scrapes every 15 s); when the API is missing (404:
no APIService, 503: its backend is down, 403: RBAC) the answer is one :class:`Unavailable` value with the reason,
remembered for a while so a refresh loop asks again rarely instead of producing an error per row or per tick.
"""

from __future__ import annotations

import functools
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from sys import intern
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError

if TYPE_CHECKING:  # a type only: importing the client pulls in the kubernetes package, which the window's first
    # paint must not wait for (the tree's usage columns import this module)
    from kube9_desktop.kube import narrow
    from kube9_desktop.kube.client import ContextClient

GROUP_VERSION = "metrics.k8s.io/v1beta1"
#: Items between two of a worker's checkpoints (``kube.gui_gate``) in the usage read's loops over a namespace's pods:
#: that read is ~300 ms of Python for 10,000 pods, and every Python call a paint makes waited for its GIL.
STEP_EVERY = 256
#: The pods' metrics decoded a batch at a time (``narrow.pod_metrics_batches``); False: in one call (the bench's A/B).
BATCHED = True
#: A poll reuses the last sample's pod keys (``MetricsTracker.poll``); False: a new tuple a pod (the bench's A/B).
REUSE_KEYS = True
#: Seconds between samples (metrics-server's scrape period; the window's refresh while visible).
REFRESH_S = 15.0
#: History kept per object while the app runs.
HISTORY_S = 15 * 60.0
#: After the API was found missing, seconds before asking again.
RETRY_UNAVAILABLE_S = 120.0
#: Colour thresholds of a percentage (warning, critical).
WARN_PCT, CRIT_PCT = 80.0, 95.0

_BIN = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DEC = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def parse_quantity(q: Any) -> float:
    """A Kubernetes quantity (``250m``, ``1.5Gi``, ``2e3``, ``128974848``) as a plain number; raises ValueError."""
    if isinstance(q, int | float):
        return float(q)
    return _parse_text(str(q))


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> float:
    # Cached: a cluster's pods repeat a handful of request/limit strings; 10,000 pods parse ~30,000 of them.
    s = text.strip()
    if not s:
        raise ValueError("empty quantity")
    for suffix, mult in _BIN.items():
        if s.endswith(suffix):
            return float(s[: -len(suffix)]) * mult
    if s[-1] in _DEC and not s[-1].isdigit():
        # "1e3" ends with a digit; "5E" would be exa, but kube never writes a bare E after a digit-less number.
        return float(s[:-1]) * _DEC[s[-1]]
    return float(s)


def cpu_millicores(q: Any) -> float:
    """CPU quantity → millicores (``250m`` → 250, ``2`` → 2000, ``1500000n`` → 1.5)."""
    return parse_quantity(q) * 1000


def memory_bytes(q: Any) -> float:
    """Memory quantity → bytes."""
    return parse_quantity(q)


def format_cpu(millicores: float) -> str:
    """``250m`` below 10 cores, ``12.5`` cores above (like ``kubectl top`` for small values)."""
    if millicores >= 10000:
        return f"{millicores / 1000:.1f}"
    return f"{round(millicores)}m"


def format_memory(b: float) -> str:
    """``512Mi`` / ``1.2Gi`` (binary units, as ``kubectl top`` prints Mi)."""
    if b >= 10 * 2**30:
        return f"{b / 2**30:.0f}Gi"
    if b >= 2**30:
        return f"{b / 2**30:.1f}Gi"
    if b >= 2**20:
        return f"{b / 2**20:.0f}Mi"
    return f"{b / 2**10:.0f}Ki"


def percent(used: float, of: float) -> float | None:
    """``used`` as a percentage of ``of`` (None without a positive total)."""
    return used * 100.0 / of if of > 0 else None


def level(pct: float | None) -> int:
    """0 normal, 1 past :data:`WARN_PCT`, 2 past :data:`CRIT_PCT`."""
    if pct is None:
        return 0
    return 2 if pct >= CRIT_PCT else 1 if pct >= WARN_PCT else 0


@dataclass(frozen=True, slots=True)
class Usage:
    """CPU (millicores) and memory (bytes) in use."""

    cpu: float
    memory: float

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.cpu + other.cpu, self.memory + other.memory)


ZERO = Usage(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Resources:
    """A pod's summed container requests and limits (0 = not set) or a node's allocatable (as requests)."""

    cpu_request: float = 0.0
    memory_request: float = 0.0
    cpu_limit: float = 0.0
    memory_limit: float = 0.0


def pod_resources(pod: dict[str, Any] | narrow.Pod) -> Resources:
    """Sum of the pod's regular containers' requests and limits (a limit missing on any container: no limit)."""
    if isinstance(pod, dict):
        from kube9_desktop.kube import narrow  # msgspec: not before the window is first shown

        pod = narrow.pod(pod)
    return shape_resources(tuple([c.resources for c in pod.spec.containers]))


@functools.lru_cache(maxsize=4096)
def shape_resources(shape: tuple[narrow.Resources | None, ...]) -> Resources:
    """:func:`pod_resources` of a pod whose regular containers have these resources, in order (a cluster's
    pods have a few dozen such shapes: a caller summing 10,000 pods counts shapes and sums each once).

    Cached: the pods of a shape share one (frozen) answer, so the usage columns' 10,000 pods' requests and limits
    are a few dozen objects, not 10,000 more for the GUI thread's collector to walk.
    """
    cr = mr = cl = ml = 0.0
    cl_all = ml_all = True
    for res in shape:
        c_cr, c_mr, c_cl, c_ml = _container_figures(res)
        cr += c_cr
        mr += c_mr
        if c_cl is None:
            cl_all = False
        else:
            cl += c_cl
        if c_ml is None:
            ml_all = False
        else:
            ml += c_ml
    return Resources(cr, mr, cl if cl_all else 0.0, ml if ml_all else 0.0)


@functools.lru_cache(maxsize=4096)
def _container_figures(res: narrow.Resources | None) -> tuple[float, float, float | None, float | None]:
    """(cpu request m, memory request B, cpu limit m or None, memory limit B or None) of one container.

    Cached by the (frozen) resources: 10,000 pods have a few dozen distinct shapes, so the overview's sum is
    lookups, not 30,000 quantity parses.
    """
    req = res.requests if res is not None else None
    lim = res.limits if res is not None else None
    # Kubernetes defaults a request to the limit when only the limit is set.
    rc = req.cpu if req is not None and req.cpu is not None else (lim.cpu if lim is not None else None)
    rm = req.memory if req is not None and req.memory is not None else (lim.memory if lim is not None else None)
    return (cpu_millicores(rc or 0), memory_bytes(rm or 0),
            cpu_millicores(lim.cpu) if lim is not None and lim.cpu is not None else None,
            memory_bytes(lim.memory) if lim is not None and lim.memory is not None else None)


def node_allocatable(node: dict[str, Any]) -> Usage:
    """A node's allocatable CPU and memory."""
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return Usage(cpu_millicores(alloc.get("cpu", 0) or 0), memory_bytes(alloc.get("memory", 0) or 0))


@dataclass(frozen=True)
class Unavailable:
    """The metrics API cannot be used: ``reason`` says why in a sentence (tooltip, overview, headless)."""

    reason: str
    status: int | None = None


def unavailable_from(err: KubeError) -> Unavailable:
    """The user's sentence for a failed metrics request."""
    if err.status == 404 or err.kind is ErrorKind.NOT_FOUND:
        why = "metrics.k8s.io is not served (404): metrics-server is not installed"
    elif err.status == 503:
        why = "metrics.k8s.io is registered but not answering (503): its APIService is unavailable"
    elif err.status == 403 or err.kind is ErrorKind.FORBIDDEN:
        why = "you may not read metrics.k8s.io (403)"
    else:
        why = f"metrics could not be read: {err.message}"
    return Unavailable(why, err.status)


APISERVICE = "v1beta1.metrics.k8s.io"


def apiservice_condition(client: ContextClient, timeout: float = 5.0) -> str | None:
    """What the aggregator says about metrics-server's APIService: ``Available=False (MissingEndpoints): endpoints
    for service/metrics-server ...`` (None when it cannot be read: not registered, or not allowed). Blocking."""
    try:
        doc = client.send("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE}", timeout=timeout).json()
    except (KubeError, ValueError):
        return None
    for c in (doc.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            reason = f" ({c['reason']})" if c.get("reason") else ""
            message = f": {c['message']}" if c.get("message") else ""
            return f"Available={c.get('status')}{reason}{message}"
    return None


def explain_unavailable(client: ContextClient, err: KubeError) -> Unavailable:
    """:func:`unavailable_from`, with the APIService's own condition when the API answered 503 (blocking).

    The 503 says only "the server is currently unable to handle the request"; the APIService's Available condition
    says why (metrics-server's endpoints missing, its discovery check failing ...), which is what the user can fix.
    """
    why = unavailable_from(err)
    if why.status != 503:
        return why
    cond = apiservice_condition(client)
    if cond is None:
        return why
    return Unavailable(f"{why.reason}; APIService {APISERVICE}: {cond}", why.status)


def pod_usage(u: complex) -> Usage:
    """A pod's usage as a sample keeps it (``Sample.pods``) as a :class:`Usage`."""
    return Usage(u.real, u.imag)


@dataclass
class Sample:
    """One reading of the metrics API.

    Attributes:
        at: ``time.time()`` of the reading.
        nodes: Node name → usage.
        pods: ``(namespace, name)`` → usage (summed over containers) as ``cpu + memory * 1j`` (millicores, bytes;
            :func:`pod_usage` makes it a :class:`Usage`). A number is an object the cyclic collector never tracks:
            as a ``Usage`` (a class instance, always tracked) each pod of a sample was one the GUI thread's
            collections walked from one poll to the next, ~9,200 for a 10,000-pod namespace. Sums are additions.
        containers: ``(namespace, name)`` → {container: usage}.
    """

    at: float
    nodes: dict[str, Usage] = field(default_factory=dict)
    pods: dict[tuple[str, str], complex] = field(default_factory=dict)
    containers: dict[tuple[str, str], dict[str, Usage]] = field(default_factory=dict)
    #: The namespaces whose pods were read (``None``: every namespace).
    scope: frozenset[str] | None = None

    def covers(self, namespaces: frozenset[str] | None) -> bool:
        """Whether this sample read the pods of every namespace in ``namespaces`` (``None``: all of them)."""
        if self.scope is None:
            return True
        return namespaces is not None and namespaces <= self.scope


def _usage(u: dict[str, Any]) -> Usage:
    return Usage(cpu_millicores(u.get("cpu", 0) or 0), memory_bytes(u.get("memory", 0) or 0))


def parse_node_metrics(doc: dict[str, Any]) -> dict[str, Usage]:
    """A NodeMetricsList → name → usage."""
    out = {}
    for item in doc.get("items") or []:
        name = (item.get("metadata") or {}).get("name")
        if name:
            out[str(name)] = _usage(item.get("usage") or {})
    return out


PodKey = tuple[str, str]


def parse_pod_metrics(doc: dict[str, Any], containers: bool = True) -> tuple[
        dict[PodKey, complex], dict[PodKey, dict[str, Usage]]]:
    """A PodMetricsList → (pod totals as ``Sample.pods`` keeps them, per-container usage; empty unless
    ``containers``)."""
    pods: dict[tuple[str, str], complex] = {}
    conts: dict[tuple[str, str], dict[str, Usage]] = {}
    for item in doc.get("items") or []:
        md = item.get("metadata") or {}
        # The namespace interned: one string for every pod of it, not one each (150,000 pods: ~8 MB).
        key = (intern(str(md.get("namespace", ""))), str(md.get("name", "")))
        per = {str(c.get("name", "")): _usage(c.get("usage") or {}) for c in item.get("containers") or []}
        if containers:
            conts[key] = per
        total = sum(per.values(), ZERO)
        pods[key] = complex(total.cpu, total.memory)
    return pods, conts


def parse_pod_metrics_body(body: bytes, containers: bool = True, keys: dict[PodKey, PodKey] | None = None) -> tuple[
        dict[PodKey, complex], dict[PodKey, dict[str, Usage]]]:
    """:func:`parse_pod_metrics` straight from the response's bytes, narrowly decoded (raises KubeError).

    Args:
        body: The PodMetricsList's JSON.
        containers: Keep each pod's per-container usage too.
        keys: The keys of a previous sample (key -> itself): a pod found there keeps that key object, and the tuple
            made to look it up goes at once. A poll repeating every 15 s made a new key per pod, each one more
            object for the cyclic collector to walk (10,000 per poll of a 10,000-pod namespace).
    """
    from kube9_desktop.kube import narrow  # msgspec: not before the window is first shown
    from kube9_desktop.kube.gui_gate import checkpoint

    pods: dict[tuple[str, str], complex] = {}
    conts: dict[tuple[str, str], dict[str, Usage]] = {}
    every = STEP_EVERY
    i = 0
    # A batch at a time (narrow.pod_metrics_batches): one decode of a 10,000-pod namespace's metrics held the GIL
    # 12-16 ms, a stall of the window while it watched the namespace it had just opened.
    for items in narrow.pod_metrics_batches(body) if BATCHED else (narrow.pod_metrics(body),):
        for item in items:
            if i % every == 0:
                checkpoint()
            i += 1
            key = (intern(item.metadata.namespace), item.metadata.name)
            if keys is not None:
                key = keys.get(key, key)
            if containers:
                per = {c.name: Usage(cpu_millicores(c.usage.cpu or 0), memory_bytes(c.usage.memory or 0))
                       for c in item.containers}
                conts[key] = per
                total = sum(per.values(), ZERO)
                pods[key] = complex(total.cpu, total.memory)
            else:  # the pod's sum only: a Usage a container would be one more object alive while the read runs
                cpu = mem = 0.0
                for c in item.containers:
                    cpu += cpu_millicores(c.usage.cpu or 0)
                    mem += memory_bytes(c.usage.memory or 0)
                pods[key] = complex(cpu, mem)
    return pods, conts


def read_sample(client: ContextClient, namespace: str | None = None, timeout: float = 10.0,
                nodes: bool = True, pods: bool = True, namespaces: frozenset[str] | None = None,
                containers: bool = True, keys: dict[PodKey, PodKey] | None = None) -> Sample:
    """Read node and pod metrics once (blocking: call in a worker); raises KubeError.

    One request per resource, never retried (a 503 repeated would be the error storm the caller avoids).

    Args:
        client: The context's client.
        namespace: Pods of this namespace only (default: every namespace).
        timeout: Seconds per request.
        nodes: Read the nodes' metrics.
        pods: Read the pods' metrics.
        namespaces: Pods of these namespaces only, one request each (overrides ``namespace``). A window showing one
            namespace of a 150,000-pod cluster reads its pods, not 150,000.
        containers: Keep each pod's per-container usage too (``Sample.containers``).
        keys: A previous sample's pod keys to reuse (see :func:`parse_pod_metrics_body`).
    """
    sample = Sample(time.time())
    if nodes:
        resp = client.send("GET", f"/apis/{GROUP_VERSION}/nodes", timeout=timeout)
        sample.nodes = parse_node_metrics(resp.json())
    if pods:
        scopes: list[str | None] = [*sorted(namespaces)] if namespaces is not None else [namespace]
        for ns in scopes:
            path = f"/apis/{GROUP_VERSION}" + (f"/namespaces/{ns}" if ns else "") + "/pods"
            resp = client.send("GET", path, timeout=timeout)
            got, conts = parse_pod_metrics_body(resp.body, containers, keys)
            del resp  # the body (MBs for a big namespace) goes before the next namespace's is read
            sample.pods.update(got)
            sample.containers.update(conts)
        sample.scope = namespaces if namespaces is not None else frozenset({namespace}) if namespace else None
    return sample


#: One sample of an object's history: time, CPU, memory (native doubles).
_SAMPLE = struct.Struct("ddd")


class MetricsTracker:
    """One context's metrics: the latest sample, a 15-minute history per object, and the unavailable state.

    Not thread-safe: call :meth:`poll` from one worker at a time and read from the owner (the window's refresh
    timer awaits each poll before the next).

    Args:
        client: The context's client.
        history_s: Seconds of history kept per object.
        containers: Keep each pod's per-container usage in the samples (``Sample.containers``). The window's usage
            columns do not read it, and it was a dict and a ``Usage`` per pod kept until the next poll: half of the
            ~37,000 objects the cyclic collector walked after a 10,000-pod namespace's usage read.
    """

    def __init__(self, client: ContextClient, history_s: float = HISTORY_S, containers: bool = True) -> None:
        self.client = client
        self.history_s = history_s
        self.containers = containers
        self.latest: Sample | None = None
        self.unavailable: Unavailable | None = None
        self._unavailable_at = 0.0
        #: Per object, its samples oldest first as packed (time, cpu, memory) doubles (:data:`_SAMPLE`): bytes are
        #: no object the collector tracks (an ``array`` is). As a deque of (time, Usage) pairs, a poll of a
        #: 10,000-pod namespace added ~30,000 tracked objects (the GUI thread's young collections walked them while
        #: the window opened) and 15 minutes of history ~1,200,000. A sample appended copies the object's ring
        #: (at most 60 samples, 1.4 KB). Keyed by kind (``nodes``, ``pods``), then by the sample's own
        #: ``(namespace, name)`` key: a key of three made for it was one more object per pod to walk.
        self.history: dict[str, dict[PodKey, bytes]] = {}

    def due(self, now: float | None = None) -> bool:
        """Whether a poll would ask the server (not while the API was recently found missing)."""
        t = time.time() if now is None else now
        if self.unavailable is not None:
            return t - self._unavailable_at >= RETRY_UNAVAILABLE_S
        return self.latest is None or t - self.latest.at >= REFRESH_S - 0.5

    def poll(self, force: bool = False, namespaces: frozenset[str] | None = None) -> Sample | Unavailable:
        """Read a sample (blocking) unless not due; returns it or the Unavailable reason. Never raises KubeError.

        Args:
            force: Read even if the latest sample is recent.
            namespaces: Read the pods of these namespaces only (``None``: every namespace). A recent sample that did
                not read one of them is not reused.
        """
        covered = self.latest is None or self.latest.covers(namespaces)
        if not force and not self.due() and (covered or self.unavailable is not None):
            return self.unavailable or self.latest or Sample(time.time())
        try:
            # The last sample's pod keys are reused (REUSE_KEYS): a pod still there costs no new key object.
            keys = {k: k for k in self.latest.pods} if self.latest is not None and REUSE_KEYS else None
            sample = read_sample(self.client, namespaces=namespaces, containers=self.containers, keys=keys)
        except KubeError as err:
            self.unavailable = explain_unavailable(self.client, err)
            self._unavailable_at = time.time()
            self.latest = None
            return self.unavailable
        self.unavailable = None
        self.latest = sample
        self._record(sample)
        return sample

    def _record(self, sample: Sample) -> None:
        from kube9_desktop.kube.gui_gate import checkpoint

        horizon = sample.at - self.history_s
        every = STEP_EVERY
        nodes = {("", n): complex(u.cpu, u.memory) for n, u in sample.nodes.items()}
        for kind, items in (("nodes", nodes), ("pods", sample.pods)):
            rings = self.history.setdefault(kind, {})
            for i, (key, u) in enumerate(items.items()):
                if i % every == 0:
                    checkpoint()
                ring = rings.get(key, b"") + _SAMPLE.pack(sample.at, u.real, u.imag)
                if _SAMPLE.unpack_from(ring)[0] < horizon:
                    old = 0
                    while _SAMPLE.unpack_from(ring, old)[0] < horizon:  # the sample just added never is
                        old += _SAMPLE.size
                    ring = ring[old:]
                rings[key] = ring
        # Objects gone from the samples for the whole horizon are forgotten.
        last = -_SAMPLE.size
        for rings in self.history.values():
            for key in [k for k, ring in rings.items() if not ring or _SAMPLE.unpack_from(ring, last)[0] < horizon]:
                del rings[key]

    def series(self, kind: str, namespace: str | None, name: str) -> list[tuple[float, Usage]]:
        """The history of one node (``kind="nodes"``) or pod, oldest first."""
        ring = self.history.get(kind, {}).get((namespace or "", name), b"")
        return [(at, Usage(cpu, memory)) for at, cpu, memory in _SAMPLE.iter_unpack(ring)]


def workload_usage(sample: Sample, pods: Iterable[tuple[str, str]]) -> Usage:
    """The summed usage of a workload's pods (those with metrics)."""
    return pod_usage(sum((sample.pods[p] for p in pods if p in sample.pods), 0j))


def usage_cells(usage: Usage | None, cpu_of: float, memory_of: float) -> tuple[str, str, float | None, float | None]:
    """The CPU and MEM column texts (``250m 40%``) and their percentages (of requests/limits or allocatable)."""
    if usage is None:
        return "", "", None, None
    cp, mp = percent(usage.cpu, cpu_of), percent(usage.memory, memory_of)
    cpu = format_cpu(usage.cpu) + (f" {cp:.0f}%" if cp is not None else "")
    mem = format_memory(usage.memory) + (f" {mp:.0f}%" if mp is not None else "")
    return cpu, mem, cp, mp


def pod_percent_bases(res: Resources) -> tuple[float, float]:
    """What a pod's usage is a percentage of: the limit where set, else the request (as the columns show)."""
    return (res.cpu_limit or res.cpu_request, res.memory_limit or res.memory_request)


def iter_pages(client: ContextClient, path: str, group: str, resource: str, page_size: int = 500,
               query: tuple[tuple[str, str], ...] = ()) -> Iterator[list[dict[str, Any]]]:
    """The items of one list a page at a time (blocking; raises KubeError).

    A caller that keeps a few facts per item keeps one page of whole objects alive at a time, not the list: the
    pods of a 12,500-pod namespace as objects are ~100 MB.
    """
    from kube9_desktop.kube.status_errors import RequestInfo  # not with this module: the tree's first paint imports it

    cont = ""
    info = RequestInfo(verb="list", resource=resource, group=group, version="v1")
    while True:
        q: list[tuple[str, Any]] = [("limit", page_size), *query]
        if cont:
            q.append(("continue", cont))
        doc = client.get_json(path, q, info=info)
        yield doc.get("items") or []
        cont = str((doc.get("metadata") or {}).get("continue") or "")
        if not cont:
            return


def pod_specs(client: ContextClient, namespace: str, page_size: int = 100,
              keys: dict[PodKey, PodKey] | None = None) -> dict[tuple[str, str], Resources]:
    """The requests and limits of ``namespace``'s pods, keyed (namespace, name), read a page at a time (blocking;
    raises KubeError). A key found in ``keys`` (key -> itself: a sample's) is that object, not one more per pod.

    Each page is decoded straight into :mod:`.narrow`'s structs, in the workers' lane (see ``kube.gui_gate``):
    as dicts (``orjson``), a page of 100 whole pods was ~20,000 objects tracked by the collector, and the GUI
    thread's young collections walked them while the window opened a 10,000-pod namespace (a 5-7 ms collection in
    the window's longest stall); the structs are untracked and a third of the decoding time.
    """
    from kube9_desktop.kube import narrow  # msgspec: not with this module (the tree's first paint imports it)
    from kube9_desktop.kube.gui_gate import GATE, checkpoint
    from kube9_desktop.kube.status_errors import RequestInfo

    info = RequestInfo(verb="list", resource="pods", group="", version="v1", namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/pods"
    out: dict[tuple[str, str], Resources] = {}
    cont = ""
    while True:
        q: list[tuple[str, Any]] = [("limit", page_size)]
        if cont:
            q.append(("continue", cont))
        body = client.request(path, q, info=info).body
        with GATE.lane():
            checkpoint()
            items, cont = narrow.pod_page(body)
        checkpoint()
        for p in items:
            key = (namespace, p.metadata.name)
            out[keys.get(key, key) if keys is not None else key] = pod_resources(p)
        if not cont:
            return out


def tree_figures(client: ContextClient, want_pods: bool,
                 namespaces: frozenset[str] | None = None) -> tuple[Sample, dict[str, Usage]] | Unavailable:
    """A sample (nodes, and pods when asked: of ``namespaces``, ``None`` for all) and the nodes' allocatable, for
    usage columns (blocking)."""
    try:
        sample = read_sample(client, pods=want_pods, namespaces=namespaces, containers=False)
        # Page by page, keeping each node's allocatable only: 5,000 nodes as one response were ~400 MB at peak.
        alloc = {str((n.get("metadata") or {}).get("name")): node_allocatable(n)
                 for page in iter_pages(client, "/api/v1/nodes", "", "nodes") for n in page}
    except KubeError as err:
        return explain_unavailable(client, err)
    return sample, alloc


def api_client(service: Any, context: str) -> ContextClient:
    """The context's API client from the data layer (blocking: may run an exec plugin); raises KubeError.

    Here rather than in :mod:`.overview` (which re-exports it): ``--print-tree``'s usage columns need it and not the
    overview's modules (~10 ms of imports).
    """
    from kube9_desktop.kube.backend import api_client_of  # not with this module: the first paint imports it

    return api_client_of(service, context, "Needs the API backend",
                         "The overview, metrics and diagnosis read the API directly; the kubectl backend cannot.")
