"""One page of facts about a cluster: what is wrong and how full it is (Qt-free).

:func:`collect` makes at most one list per kind (paged), in parallel worker threads, plus one metrics sample;
:func:`build` turns the objects into an :class:`Overview` (pure, tested on recorded objects);
:func:`.overview_text.format_text` prints it the way the window's page reads (``--run overview``). Every entry
carries a :class:`Ref` so the window can select the object in the tree.
"""

from __future__ import annotations

import calendar
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.events import EventRow, age, event_row
from kube9_desktop.kube.metrics import (  # iter_pages: the usage columns use it without this module
    ZERO,
    Resources,
    Sample,
    Unavailable,
    Usage,
    api_client,
    explain_unavailable,
    iter_pages,
    node_allocatable,
    pod_resources,
    read_sample,
    shape_resources,
)
from kube9_desktop.kube.status_errors import RequestInfo

if TYPE_CHECKING:  # a type only: the client pulls in the kubernetes package, which the window's first paint must
    # not wait for (the details pane's usage panel imports this module)
    from kube9_desktop.kube import narrow
    from kube9_desktop.kube.client import ContextClient

#: Pending for longer than this is a failure worth listing.
PENDING_S = 5 * 60
#: An OOMKilled container whose last run ended within this counts as "recently".
OOM_RECENT_S = 3600
WARNINGS_S = 3600
#: Pod pages fetched ahead of the one being decoded (each ~1.2 MB of JSON at 500 pods).
_AHEAD = 2
#: (kind key, API path, group) of the lists an overview reads, one list each.
LISTS: tuple[tuple[str, str, str], ...] = (
    ("nodes", "/api/v1/nodes", ""),
    ("pods", "/api/v1/pods", ""),
    ("deployments", "/apis/apps/v1/deployments", "apps"),
    ("statefulsets", "/apis/apps/v1/statefulsets", "apps"),
    ("daemonsets", "/apis/apps/v1/daemonsets", "apps"),
    ("persistentvolumeclaims", "/api/v1/persistentvolumeclaims", ""),
    ("events", "/api/v1/events", ""),
)
_POD_WAIT_FAILURES = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                      "InvalidImageName", "CreateContainerError", "RunContainerError")


def secs(text: Any) -> float:
    """RFC 3339 (second precision) → Unix seconds; 0 when missing or malformed."""
    if not isinstance(text, str) or len(text) < 19:
        return 0.0
    # Sliced by hand: time.strptime costs ~30 us a call (its locale and regex machinery), and a 10,000-pod
    # overview reads a timestamp of every Pending pod and every recently terminated container.
    t = text
    if t[4] != "-" or t[7] != "-" or t[10] not in "Tt " or t[13] != ":" or t[16] != ":":
        return 0.0
    try:
        y, mo, d, h, mi, se = int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]), int(t[17:19])
    except ValueError:
        return 0.0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and se <= 60):
        return 0.0
    return float(calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)))


@dataclass(frozen=True)
class Ref:
    """An object an entry links to: kind key, namespace (None when cluster-scoped), name."""

    kind: str
    namespace: str | None
    name: str

    def address(self) -> str:
        """``ns/kind/name`` (``kind/name`` when cluster-scoped), as commands take it."""
        singular = {"pods": "pod", "nodes": "node", "deployments": "deployment", "statefulsets": "statefulset",
                    "daemonsets": "daemonset", "persistentvolumeclaims": "pvc", "replicasets": "replicaset"}
        k = singular.get(self.kind, self.kind)
        return f"{self.namespace}/{k}/{self.name}" if self.namespace else f"{k}/{self.name}"


@dataclass(frozen=True)
class Entry:
    """One line of a section: the object, a short status and the detail."""

    ref: Ref
    status: str
    detail: str = ""
    diagnosable: bool = False


@dataclass
class Capacity:
    """Cluster CPU (millicores) and memory (bytes): allocatable, requested by running pods, used (metrics)."""

    allocatable: Usage = ZERO
    requests: Usage = ZERO
    limits: Usage = ZERO
    usage: Usage | None = None


@dataclass
class Overview:
    """What the overview page shows."""

    context: str
    version: str = ""
    latency_ms: float | None = None
    nodes_total: int = 0
    nodes_ready: int = 0
    cordoned: list[Entry] = field(default_factory=list)
    pressure: list[Entry] = field(default_factory=list)
    not_ready: list[Entry] = field(default_factory=list)
    pods_total: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    failing: list[Entry] = field(default_factory=list)
    workloads: list[Entry] = field(default_factory=list)
    restarts: list[Entry] = field(default_factory=list)
    warnings: list[EventRow] = field(default_factory=list)
    capacity: Capacity = field(default_factory=Capacity)
    metrics: Unavailable | None = None
    pvcs: list[Entry] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    #: Objects read per kind (kind key → count), and the page size they were read with.
    counts: dict[str, int] = field(default_factory=dict)
    page_size: int = 0
    requests: int = 0
    elapsed_ms: float = 0.0


# -- collecting ------------------------------------------------------------------------------------------------------
def list_all(client: ContextClient, path: str, group: str, resource: str, page_size: int = 500,
             query: tuple[tuple[str, str], ...] = ()) -> list[dict[str, Any]]:
    """Every item of one list, page by page (one list, however many pages); raises KubeError."""
    items: list[dict[str, Any]] = []
    for page in iter_pages(client, path, group, resource, page_size, query):
        items.extend(page)
    return items


def list_pods(client: ContextClient, page_size: int = 500, namespace: str | None = None) -> list[narrow.Pod]:
    """Every pod of the cluster (or of ``namespace``), narrowed while decoding (one list, paged); raises KubeError.

    The next page is asked for as soon as a page's bytes arrive (its token is in the page's head) and the page is
    decoded meanwhile: the server prepares page N+1 while we decode page N.
    """
    out: list[narrow.Pod] = []
    for items in iter_pod_pages(client, page_size, namespace):
        out.extend(items)
    return out


def iter_pod_pages(client: ContextClient, page_size: int = 500,
                   namespace: str | None = None) -> Iterator[list[narrow.Pod]]:
    """:func:`list_pods` a page at a time, for a caller that keeps a few facts per pod (a page of narrow pods alive
    at a time, not 50,000 of them: ~100 MB at the peak of ``--print-tree``'s usage columns)."""
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    info = RequestInfo(verb="list", resource="pods", group="", version="v1", namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"

    def fetch(cont: str) -> bytes:
        q: list[tuple[str, Any]] = [("limit", page_size)]
        if cont:
            q.append(("continue", cont))
        return client.request(path, q, info=info).body

    # The pages are fetched by their own thread, one after the other without waiting for this one: the next
    # page is asked for as soon as a page's bytes are in (its token is in the page's head), so the server
    # prepares page N+1 while page N is on its way and this thread decodes page N-1. At most _AHEAD pages wait.
    pages: queue.Queue[tuple[bytes, list[narrow.Pod] | None] | BaseException | None] = queue.Queue(_AHEAD)
    stop = threading.Event()

    def put(item: tuple[bytes, list[narrow.Pod] | None] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        cont = ""
        try:
            while not stop.is_set():
                body = fetch(cont)
                early = narrow.continue_token(body)
                decoded: list[narrow.Pod] | None = None
                if early is None:  # the head did not give the token: the whole page says it
                    decoded, early = narrow.pod_page(body)
                if not put((body, decoded)):
                    return
                if not early:
                    put(None)
                    return
                cont = early
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            put(exc)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kube9-overview-pods") as pool:
        fut = pool.submit(produce)
        try:
            while (item := pages.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                body, decoded = item
                yield decoded if decoded is not None else narrow.pod_page(body)[0]
        finally:
            stop.set()
            fut.cancel()


def pod_requests(client: ContextClient, namespaces: list[str]) -> dict[tuple[str, str], Resources]:
    """The requests and limits of the pods of ``namespaces`` (one narrow list each; all pods when more than a few
    namespaces: one list instead of many); raises KubeError."""
    wanted = set(namespaces)
    pages = (iter_pod_pages(client) if len(namespaces) > 4 else
             (page for ns in namespaces for page in iter_pod_pages(client, namespace=ns)))
    return {(p.metadata.namespace, p.metadata.name): pod_resources(p)
            for page in pages for p in page if p.metadata.namespace in wanted}


def list_workloads(client: ContextClient, path: str, resource: str,
                   page_size: int = 500) -> list[narrow.Workload]:
    """Every Deployment / StatefulSet / DaemonSet of the cluster, narrowed while decoding (one list, paged);
    raises KubeError."""
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    info = RequestInfo(verb="list", resource=resource, group="apps", version="v1")
    out: list[narrow.Workload] = []
    cont = ""
    while True:
        q: list[tuple[str, Any]] = [("limit", page_size)]
        if cont:
            q.append(("continue", cont))
        items, cont = narrow.workload_page(client.request(path, q, info=info).body)
        out.extend(items)
        if not cont:
            return out


#: Kinds :func:`collect` decodes narrowly (a list of whole objects each would be megabytes of dicts).
_WORKLOAD_KINDS = frozenset({"deployments", "statefulsets", "daemonsets"})


@dataclass
class Collected:
    """What :func:`collect` read.

    Attributes:
        objects: Objects by kind key (pods are not kept: they are tallied into ``pods`` page by page).
        problems: Why a kind could not be listed, by kind key.
        sample: The metrics sample, or why there is none.
        pods: The pods, tallied.
        counts: Objects read by kind key.
        version: The server's ``gitVersion`` ("" when it could not be read).
        version_ms: How long the ``/version`` request took (None when it failed).
        version_error: Why ``/version`` failed (None when it answered).
    """

    objects: dict[str, list[Any]]
    problems: dict[str, str]
    sample: Sample | Unavailable
    pods: PodTally
    counts: dict[str, int]
    version: str = ""
    version_ms: float | None = None
    version_error: KubeError | None = None


def collect(client: ContextClient, page_size: int = 500, workers: int = 4,
            lists: Callable[[str], list[Any] | None] | None = None, now: float | None = None) -> Collected:
    """Read the server's version, the lists and a metrics sample in parallel (blocking: call in a worker).

    Args:
        client: The context's client.
        page_size: ``limit`` per page.
        workers: Requests in flight at once (the pods list, the longest, starts first).
        lists: Optional source of fresh cached full lists by kind key (None: read it).
        now: The time the pods' failure rules compare with (default: now).

    Returns:
        The objects, the pods tallied, the sample; a list that failed (e.g. 403) is a problem, not an exception.
        A failed ``/version`` is kept in ``version_error``.
    """
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    objects: dict[str, list[Any]] = {}
    problems: dict[str, str] = {}
    tally = PodTally(time.time() if now is None else now)
    version: list[tuple[str, float | None, KubeError | None]] = []

    def one(kind: str, path: str, group: str) -> None:
        cached = lists(kind) if lists is not None else None
        if cached is not None:
            if kind == "pods":
                tally.add(narrow.pods(cached))
            objects[kind] = cached
            return
        query = (("fieldSelector", "type=Warning"),) if kind == "events" else ()
        try:
            if kind == "pods":
                # Thousands of pods (~2.4 KB each) are decoded narrowly and counted a page at a time, while the
                # next page is on its way; the other kinds are few.
                for page in iter_pod_pages(client, page_size):
                    tally.add(page)
                objects[kind] = []
            elif kind in _WORKLOAD_KINDS:
                objects[kind] = list_workloads(client, path, kind, page_size)
            else:
                objects[kind] = list_all(client, path, group, kind, page_size, query)
        except KubeError as err:
            objects[kind] = []
            problems[kind] = err.message

    def metrics() -> Sample | Unavailable:
        try:
            # Cluster usage is the nodes' sum: the pods' metrics (a list as long as the pods') are not needed here.
            return read_sample(client, pods=False)
        except KubeError as err:
            return explain_unavailable(client, err)

    def server_version() -> None:
        # Beside the lists, not before them: one round trip (and a TLS handshake) less on the way to the page.
        t0 = time.perf_counter()
        try:
            doc = client.send("GET", "/version", timeout=10).json()
        except KubeError as err:
            version.append(("", None, err))
            return
        version.append((str(doc.get("gitVersion", "")), (time.perf_counter() - t0) * 1000, None))

    specs = sorted(LISTS, key=lambda spec: spec[0] != "pods")
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kube9-overview") as pool:
        futs = [pool.submit(one, *spec) for spec in specs]
        mfut = pool.submit(metrics)
        futs.append(pool.submit(server_version))
        for f in futs:
            f.result()
        sample = mfut.result()
    counts = {k: len(v) for k, v in objects.items()}
    counts["pods"] = tally.total
    v = version[0] if version else ("", None, None)
    return Collected(objects, problems, sample, tally, counts, v[0], v[1], v[2])


# -- building --------------------------------------------------------------------------------------------------------
def _pod_ref(p: narrow.Pod) -> Ref:
    return Ref("pods", p.metadata.namespace, p.metadata.name)


def pod_failure(obj: dict[str, Any] | narrow.Pod, now: float) -> tuple[str, str] | None:
    """Why a pod is failing, as (status, detail), or None when it is not."""
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    p = narrow.pod(obj)
    st = p.status
    if st.reason == "Evicted":
        return "Evicted", st.message.strip()
    for statuses, label in ((st.initContainerStatuses, "Init:"), (st.containerStatuses, "")):
        for cs in statuses:
            reason = cs.state.waiting.reason if cs.state is not None and cs.state.waiting is not None else ""
            if reason in _POD_WAIT_FAILURES:
                last = cs.lastState.terminated if cs.lastState is not None else None
                detail = f"container {cs.name}"
                if last is not None:
                    detail += f": last exit code {last.exitCode} ({last.reason})"
                detail += f", {cs.restartCount} restarts" if cs.restartCount else ""
                return label + reason, detail
    for cs in st.containerStatuses:
        last = cs.lastState.terminated if cs.lastState is not None else None
        if last is not None and last.reason == "OOMKilled" and now - secs(last.finishedAt) < OOM_RECENT_S:
            ago = age(now - secs(last.finishedAt))
            return "OOMKilled", f"container {cs.name} killed for memory {ago} ago"
    if st.phase == "Pending":
        created = secs(p.metadata.creationTimestamp)
        if created and now - created > PENDING_S:
            cond = next((c for c in st.conditions if c.type == "PodScheduled" and c.status == "False"), None)
            why = f": {cond.message}" if cond is not None and cond.message else ""
            return "Pending", f"for {age(now - created)}{why}"
    if st.phase == "Failed":
        return "Failed", (st.message or st.reason).strip()
    return None


def _workload_entries(kind: str, items: list[dict[str, Any]] | list[narrow.Workload]) -> list[Entry]:
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    out = []
    for o in items:
        w = narrow.workload(o)
        st = w.status
        if kind == "daemonsets":
            want, ready = st.desiredNumberScheduled, st.numberReady
        else:
            want, ready = (w.spec.replicas if w.spec.replicas is not None else 1), st.readyReplicas
        if ready < want:
            detail = ""
            for c in st.conditions:
                if c.status == ("False" if c.type in ("Progressing", "Available") else "True") and \
                        c.reason in ("ProgressDeadlineExceeded", "FailedCreate"):
                    detail = f"{c.reason}: {c.message}"
                    break
            out.append(Entry(Ref(kind, w.metadata.namespace, w.metadata.name),
                             f"{ready}/{want} ready", detail, diagnosable=kind == "deployments"))
    return out


class PodTally:
    """What the overview shows about pods, summed a page at a time (:func:`collect` adds each page in the pods'
    worker while the next page is on its way, so the page is built from sums, not from 10,000 pods at the end).

    Attributes:
        now: The time the failure rules compare with.
        total: Pods seen.
        phases: Pods per phase.
        cpu_requests: Summed CPU requests (millicores) of the scheduled Running / Pending pods; the same for
            ``memory_requests`` (bytes), ``cpu_limits`` and ``memory_limits``.
        failing: The failing pods' entries (unsorted).
        restarts: (restarts, entry) of every pod that restarted (unsorted).
    """

    def __init__(self, now: float) -> None:
        self.now = now
        self.total = 0
        self.phases: Counter[str] = Counter()
        self.cpu_requests = self.memory_requests = self.cpu_limits = self.memory_limits = 0.0
        self.failing: list[Entry] = []
        self.restarts: list[tuple[int, Entry]] = []

    def add(self, pods: list[narrow.Pod]) -> PodTally:
        """Counts one page of pods in; returns self."""
        t = self.now
        shapes: Counter[tuple[narrow.Resources | None, ...]] = Counter()
        phases: list[str] = []
        for p in pods:
            st = p.status
            phase = st.phase or "Unknown"
            phases.append(phase)
            if (phase == "Running" or phase == "Pending") and p.spec.nodeName:
                # Counted by shape (the containers' resources; a cluster has a few dozen): summed once per shape
                # below instead of once per pod.
                shapes[tuple([c.resources for c in p.spec.containers])] += 1
            # Most pods are Running with every container running: the failure rules are skipped for them (the
            # common case of 10,000 is what makes this loop cost). A plain loop, not any() over a generator:
            # this runs for every pod of the cluster.
            check = phase != "Running" or bool(st.reason)
            n_restarts = 0
            for cs in st.containerStatuses:
                n_restarts += cs.restartCount
                if not check and (cs.state is None or cs.state.waiting is not None
                                  or (cs.lastState is not None and cs.lastState.terminated is not None)):
                    check = True
            if check:
                fail = pod_failure(p, t)
                if fail is not None:
                    self.failing.append(Entry(_pod_ref(p), fail[0], fail[1], diagnosable=True))
            if n_restarts:
                self.restarts.append((n_restarts, Entry(_pod_ref(p), f"{n_restarts} restarts", "",
                                                        diagnosable=True)))
        self.phases.update(phases)
        for shape, n in shapes.items():
            r = shape_resources(shape)
            self.cpu_requests += r.cpu_request * n
            self.memory_requests += r.memory_request * n
            self.cpu_limits += r.cpu_limit * n
            self.memory_limits += r.memory_limit * n
        self.total += len(pods)
        return self


def build(context: str, objects: dict[str, list[Any]], sample: Sample | Unavailable | None,
          now: float | None = None, version: str = "", latency_ms: float | None = None,
          pods: PodTally | None = None) -> Overview:
    """The overview from the objects (pure: no I/O).

    Args:
        context: The context's name.
        objects: Objects by kind key (dicts, or the narrow structs :func:`collect` decodes).
        sample: The metrics sample, or why there is none.
        now: The time the rules compare with (default: now).
        version: The server's version.
        latency_ms: The measured request latency.
        pods: The pods already tallied page by page (:func:`collect`); None: tally ``objects["pods"]``.
    """
    from kube9_desktop.kube import narrow  # msgspec: loaded with the first overview, not with the menus

    t = time.time() if now is None else now
    ov = Overview(context, version=version, latency_ms=latency_ms)
    nodes = objects.get("nodes") or []
    ov.nodes_total = len(nodes)
    alloc = Usage(0.0, 0.0)
    for n in nodes:
        md, spec, st = n.get("metadata") or {}, n.get("spec") or {}, n.get("status") or {}
        ref = Ref("nodes", None, str(md.get("name", "")))
        conds = {c.get("type"): c for c in st.get("conditions") or []}
        ready = (conds.get("Ready") or {}).get("status") == "True"
        ov.nodes_ready += ready
        if not ready:
            ov.not_ready.append(Entry(ref, "NotReady", str((conds.get("Ready") or {}).get("message", ""))))
        if spec.get("unschedulable"):
            ov.cordoned.append(Entry(ref, "SchedulingDisabled"))
        for ctype in ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"):
            if (conds.get(ctype) or {}).get("status") == "True":
                ov.pressure.append(Entry(ref, ctype, str(conds[ctype].get("message", ""))))
        alloc = alloc + node_allocatable(n)
    tally = pods if pods is not None else PodTally(t).add(narrow.pods(objects.get("pods") or []))
    ov.pods_total = tally.total
    req, lim = Usage(tally.cpu_requests, tally.memory_requests), Usage(tally.cpu_limits, tally.memory_limits)
    ov.phases = dict(sorted(tally.phases.items()))
    ov.failing = sorted(tally.failing, key=lambda e: (e.status, e.ref.namespace or "", e.ref.name))
    restarts = sorted(tally.restarts, key=lambda x: (-x[0], x[1].ref.namespace or "", x[1].ref.name))
    ov.restarts = [e for _, e in restarts[:10]]
    for kind in ("deployments", "statefulsets", "daemonsets"):
        ov.workloads += _workload_entries(kind, objects.get(kind) or [])
    events = [event_row(e) for e in objects.get("events") or [] if e.get("type") == "Warning"]
    ov.warnings = sorted((e for e in events if t - e.last_seen <= WARNINGS_S),
                         key=lambda e: (-e.last_seen, e.name))
    for pvc in objects.get("persistentvolumeclaims") or []:
        phase = str((pvc.get("status") or {}).get("phase") or "Pending")
        if phase != "Bound":
            md = pvc.get("metadata") or {}
            sc = (pvc.get("spec") or {}).get("storageClassName") or ""
            ov.pvcs.append(Entry(Ref("persistentvolumeclaims", str(md.get("namespace", "")), str(md.get("name", ""))),
                                 phase, f"storage class {sc}" if sc else ""))
    ov.capacity = Capacity(alloc, req, lim)
    if isinstance(sample, Unavailable):
        ov.metrics = sample
    elif sample is not None:
        ov.capacity.usage = sum(sample.nodes.values(), Usage(0.0, 0.0))
    return ov


# -- the whole thing -------------------------------------------------------------------------------------------------
def gather(service: Any, context: str) -> Overview:
    """Collect and build one context's overview (blocking: call in a worker); raises KubeError for the context
    itself (unreachable, no credentials); a kind that cannot be listed is a problem on the page instead."""
    started = time.perf_counter()
    client = api_client(service, context)
    before = client.stats().requests
    page_size = max(500, service.options.page_size)
    got = collect(client, page_size=page_size, workers=min(8, max(2, service.options.workers)))
    if got.version_error is not None:
        # The context itself is the problem (unreachable, no credentials): said as before, for the whole page.
        raise got.version_error
    median = client.stats().median_latency_ms
    ov = build(context, got.objects, got.sample, now=got.pods.now, version=got.version,
               latency_ms=median or got.version_ms, pods=got.pods)
    ov.problems = got.problems
    ov.counts = got.counts
    ov.page_size = page_size
    ov.requests = client.stats().requests - before
    ov.elapsed_ms = (time.perf_counter() - started) * 1000
    return ov
