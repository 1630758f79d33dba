"""One page of facts about a cluster: what is wrong and how full it is (Qt-free).

:func:`collect` makes at most one list per kind (paged), in parallel worker threads, plus one metrics sample;
:func:`build` turns the objects into an :class:`Overview` (pure, tested on recorded objects); :func:`format_text`
prints it the way the window's page reads (``--run overview``). Every entry carries a :class:`Ref` so the window
can select the object in the tree.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube import narrow
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.events import EventRow, age, event_row
from kube9_desktop.kube.metrics import (
    ZERO,
    Resources,
    Sample,
    Unavailable,
    Usage,
    explain_unavailable,
    format_cpu,
    format_memory,
    node_allocatable,
    percent,
    pod_resources,
    read_sample,
)
from kube9_desktop.kube.status_errors import RequestInfo

if TYPE_CHECKING:  # a type only: the client pulls in the kubernetes package, which the window's first paint must
    # not wait for (the details pane's usage panel imports this module)
    from kube9_desktop.kube.client import ContextClient

#: Pending for longer than this is a failure worth listing.
PENDING_S = 5 * 60
#: An OOMKilled container whose last run ended within this counts as "recently".
OOM_RECENT_S = 3600
WARNINGS_S = 3600
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
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0.0


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


def iter_pages(client: ContextClient, path: str, group: str, resource: str, page_size: int = 500,
               query: tuple[tuple[str, str], ...] = ()) -> Iterator[list[dict[str, Any]]]:
    """The items of one list a page at a time (blocking; raises KubeError).

    A caller that keeps a few facts per item keeps one page of whole objects alive at a time, not the list: the
    pods of a 12,500-pod namespace as objects are ~100 MB.
    """
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
    info = RequestInfo(verb="list", resource="pods", group="", version="v1", namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"

    def fetch(cont: str) -> bytes:
        q: list[tuple[str, Any]] = [("limit", page_size)]
        if cont:
            q.append(("continue", cont))
        return client.request(path, q, info=info).body

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kube9-overview-pods") as pool:
        pending: Future[bytes] | None = pool.submit(fetch, "")
        while pending is not None:
            body = pending.result()
            early = narrow.continue_token(body)
            pending = pool.submit(fetch, early) if early else None
            items, cont = narrow.pod_page(body)
            yield items
            if early is None and cont:  # the head did not give the token: ask now, in order
                pending = pool.submit(fetch, cont)


def pod_requests(client: ContextClient, namespaces: list[str]) -> dict[tuple[str, str], Resources]:
    """The requests and limits of the pods of ``namespaces`` (one narrow list each; all pods when more than a few
    namespaces: one list instead of many); raises KubeError."""
    wanted = set(namespaces)
    pages = (iter_pod_pages(client) if len(namespaces) > 4 else
             (page for ns in namespaces for page in iter_pod_pages(client, namespace=ns)))
    return {(p.metadata.namespace, p.metadata.name): pod_resources(p)
            for page in pages for p in page if p.metadata.namespace in wanted}


def collect(client: ContextClient, page_size: int = 500, workers: int = 4,
            lists: Callable[[str], list[Any] | None] | None = None) -> tuple[
                dict[str, list[Any]], dict[str, str], Sample | Unavailable]:
    """Read the lists and a metrics sample in parallel (blocking: call in a worker).

    Args:
        client: The context's client.
        page_size: ``limit`` per page.
        workers: Lists read at once.
        lists: Optional source of fresh cached full lists by kind key (None: read it).

    Returns:
        ``(objects by kind key, problem by kind key, metrics sample or why unavailable)``; a list that failed
        (e.g. 403) is a problem, not an exception.
    """
    objects: dict[str, list[Any]] = {}
    problems: dict[str, str] = {}

    def one(kind: str, path: str, group: str) -> None:
        cached = lists(kind) if lists is not None else None
        if cached is not None:
            objects[kind] = cached
            return
        query = (("fieldSelector", "type=Warning"),) if kind == "events" else ()
        try:
            # Pods (thousands, ~2.4 KB each) are decoded narrowly; the other kinds are few.
            objects[kind] = (list_pods(client, page_size) if kind == "pods"
                             else list_all(client, path, group, kind, page_size, query))
        except KubeError as err:
            objects[kind] = []
            problems[kind] = err.message

    def metrics() -> Sample | Unavailable:
        try:
            # Cluster usage is the nodes' sum: the pods' metrics (a list as long as the pods') are not needed here.
            return read_sample(client, pods=False)
        except KubeError as err:
            return explain_unavailable(client, err)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kube9-overview") as pool:
        futs = [pool.submit(one, *spec) for spec in LISTS]
        mfut = pool.submit(metrics)
        for f in futs:
            f.result()
        sample = mfut.result()
    return objects, problems, sample


# -- building --------------------------------------------------------------------------------------------------------
def _pod_ref(p: narrow.Pod) -> Ref:
    return Ref("pods", p.metadata.namespace, p.metadata.name)


def pod_failure(obj: dict[str, Any] | narrow.Pod, now: float) -> tuple[str, str] | None:
    """Why a pod is failing, as (status, detail), or None when it is not."""
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


def _workload_entries(kind: str, items: list[dict[str, Any]]) -> list[Entry]:
    out = []
    for o in items:
        md, spec, st = o.get("metadata") or {}, o.get("spec") or {}, o.get("status") or {}
        if kind == "daemonsets":
            want, ready = int(st.get("desiredNumberScheduled") or 0), int(st.get("numberReady") or 0)
        else:
            want, ready = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1), int(
                st.get("readyReplicas") or 0)
        if ready < want:
            detail = ""
            for c in st.get("conditions") or []:
                if c.get("status") == ("False" if c.get("type") in ("Progressing", "Available") else "True") and \
                        c.get("reason") in ("ProgressDeadlineExceeded", "FailedCreate"):
                    detail = f"{c.get('reason')}: {c.get('message', '')}"
                    break
            out.append(Entry(Ref(kind, str(md.get("namespace", "")), str(md.get("name", ""))),
                             f"{ready}/{want} ready", detail, diagnosable=kind == "deployments"))
    return out


def build(context: str, objects: dict[str, list[Any]], sample: Sample | Unavailable | None,
          now: float | None = None, version: str = "", latency_ms: float | None = None) -> Overview:
    """The overview from the objects (pure: no I/O)."""
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
    pods = narrow.pods(objects.get("pods") or [])
    ov.pods_total = len(pods)
    phases: Counter[str] = Counter()
    rc = rm = lc = lm = 0.0
    restarts: list[tuple[int, Entry]] = []
    for p in pods:
        st = p.status
        phase = st.phase or "Unknown"
        phases[phase] += 1
        if p.spec.nodeName and phase in ("Running", "Pending"):
            r = pod_resources(p)
            rc += r.cpu_request
            rm += r.memory_request
            lc += r.cpu_limit
            lm += r.memory_limit
        # Most pods are Running with every container running: skip the failure rules for them (the common case
        # of 10,000 is what makes this loop cost).
        if phase != "Running" or st.reason or any(
                cs.state is None or cs.state.waiting is not None
                or (cs.lastState is not None and cs.lastState.terminated is not None)
                for cs in st.containerStatuses):
            fail = pod_failure(p, t)
            if fail is not None:
                ov.failing.append(Entry(_pod_ref(p), fail[0], fail[1], diagnosable=True))
        n_restarts = sum(cs.restartCount for cs in st.containerStatuses)
        if n_restarts:
            restarts.append((n_restarts, Entry(_pod_ref(p), f"{n_restarts} restarts", "", diagnosable=True)))
    req, lim = Usage(rc, rm), Usage(lc, lm)
    ov.phases = dict(sorted(phases.items()))
    ov.failing.sort(key=lambda e: (e.status, e.ref.namespace or "", e.ref.name))
    restarts.sort(key=lambda x: (-x[0], x[1].ref.namespace or "", x[1].ref.name))
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


# -- text ------------------------------------------------------------------------------------------------------------
def _bar(value: float, total: float, width: int = 20) -> str:
    if total <= 0:
        return "[" + " " * width + "]"
    n = max(0, min(width, round(value / total * width)))
    return "[" + "#" * n + "." * (width - n) + "]"


def capacity_lines(cap: Capacity, metrics: Unavailable | None) -> list[str]:
    """CPU and memory: allocatable vs requests vs usage, with bars."""
    lines = []
    for label, a, r, u, fmt in (
        ("CPU", cap.allocatable.cpu, cap.requests.cpu, cap.usage.cpu if cap.usage else None, format_cpu),
        ("Memory", cap.allocatable.memory, cap.requests.memory, cap.usage.memory if cap.usage else None,
         format_memory),
    ):
        rp = percent(r, a)
        line = f"  {label:<7} allocatable {fmt(a)}  requested {fmt(r)}"
        line += f" ({rp:.0f}%)" if rp is not None else ""
        if u is not None:
            up = percent(u, a)
            line += f"  used {fmt(u)}" + (f" ({up:.0f}%)" if up is not None else "") + f"  used {_bar(u, a)}"
        else:
            line += f"  requested {_bar(r, a)}"
        lines.append(line)
    if metrics is not None:
        lines.append(f"  usage: metrics unavailable — {metrics.reason}")
    return lines


def format_text(ov: Overview, now: float | None = None) -> str:
    """The overview as plain text (``--run overview``)."""
    t = time.time() if now is None else now
    lat = f", latency {ov.latency_ms:.0f} ms" if ov.latency_ms is not None else ""
    out = [f"Cluster {ov.context}: Kubernetes {ov.version or '?'}{lat}"]
    out.append(f"Nodes: {ov.nodes_ready}/{ov.nodes_total} ready, {len(ov.cordoned)} cordoned, "
               f"{len(ov.pressure)} under pressure")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.not_ready + ov.cordoned + ov.pressure]
    phases = ", ".join(f"{k} {v}" for k, v in ov.phases.items())
    out.append(f"Pods: {ov.pods_total} ({phases})")
    out.append(f"Failing pods: {len(ov.failing)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.failing]
    out.append(f"Workloads not at desired replicas: {len(ov.workloads)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.workloads]
    out.append("Restarts (top 10):")
    out += [f"  {e.ref.address()}  {e.status}" for e in ov.restarts]
    out.append(f"Warning events (last hour): {len(ov.warnings)}")
    out += [f"  {age(t - w.last_seen)} ago  {w.object_namespace}/{w.object}  {w.reason}: {w.message}"
            for w in ov.warnings[:20]]
    if len(ov.warnings) > 20:
        out.append(f"  … and {len(ov.warnings) - 20} more")
    out.append("Capacity:")
    out += capacity_lines(ov.capacity, ov.metrics)
    out.append(f"PersistentVolumeClaims not Bound: {len(ov.pvcs)}")
    out += [f"  {e.ref.address()}  {e.status}  {e.detail}".rstrip() for e in ov.pvcs]
    for kind, why in sorted(ov.problems.items()):
        out.append(f"! {kind}: {why}")
    return "\n".join(out)


# -- the whole thing -------------------------------------------------------------------------------------------------
def api_client(service: Any, context: str) -> ContextClient:
    """The context's API client from the data layer (blocking: may run an exec plugin); raises KubeError."""
    from kube9_desktop.kube.errors import ErrorKind

    client_fn = getattr(service.backend, "client", None)
    if client_fn is None:
        raise KubeError(ErrorKind.UNKNOWN, "Needs the API backend",
                        "The overview, metrics and diagnosis read the API directly; the kubectl backend cannot.",
                        hint="Switch the backend to api in Settings.", context=context)
    client: ContextClient = client_fn(context)
    return client


def gather(service: Any, context: str) -> Overview:
    """Collect and build one context's overview (blocking: call in a worker); raises KubeError for the context
    itself (unreachable, no credentials); a kind that cannot be listed is a problem on the page instead."""
    started = time.perf_counter()
    client = api_client(service, context)
    before = client.stats().requests
    t0 = time.perf_counter()
    version = str(client.send("GET", "/version", timeout=10).json().get("gitVersion", ""))
    measured = (time.perf_counter() - t0) * 1000
    page_size = max(500, service.options.page_size)
    objects, problems, sample = collect(client, page_size=page_size, workers=min(8, max(2, service.options.workers)))
    median = client.stats().median_latency_ms
    ov = build(context, objects, sample, version=version, latency_ms=median or measured)
    ov.problems = problems
    ov.counts = {k: len(v) for k, v in objects.items()}
    ov.page_size = page_size
    ov.requests = client.stats().requests - before
    ov.elapsed_ms = (time.perf_counter() - started) * 1000
    return ov
