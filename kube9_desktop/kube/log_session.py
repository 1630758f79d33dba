"""A log view's streams (Qt-free): a pod, or every pod of a workload (pods appearing while following added),
merged by time into a bounded :class:`~kube9_desktop.kube.pod_logs.LogRing`.

The consumer calls :meth:`LogSession.drain` (the window on a timer, headless in a loop); ``close()`` ends every
stream at once. Never cached: pods are listed and logs read straight from the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.backend import api_client_of
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.pod_logs import (
    ALL_CONTAINERS,
    LogLine,
    LogOptions,
    LogRing,
    LogSource,
    Notice,
    SourceStream,
    friendly_error,
)
from kube9_desktop.kube.status_errors import RequestInfo
from kube9_desktop.model.selectors import selector_of

if TYPE_CHECKING:
    from kube9_desktop.kube.client import ContextClient

#: Lines held back so that several pods' lines arriving out of order still come out sorted (seconds).
MERGE_HOLDBACK_S = 0.25
#: The first lines of a merged view wait at most this long for every pod's backlog (seconds).
MERGE_GATE_S = 2.0
#: How often a followed workload looks for new pods (seconds).
POD_POLL_S = 2.0


# -- a view's streams --------------------------------------------------------------------------------------------------


@dataclass
class Drained:
    """What :meth:`LogSession.drain` hands the view: new lines in display order, and notices."""

    lines: list[LogLine] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def default_container(pod: dict[str, Any]) -> str:
    """The container kubectl picks without ``-c``: the ``kubectl.kubernetes.io/default-container`` annotation, else
    the first one."""
    ann = (pod.get("metadata") or {}).get("annotations") or {}
    names = container_names(pod)
    chosen = ann.get("kubectl.kubernetes.io/default-container")
    if chosen in names:
        return str(chosen)
    return names[0] if names else ""


def container_names(pod: dict[str, Any], *, init: bool = False, ephemeral: bool = False) -> list[str]:
    """The pod's container names (regular first, then init and ephemeral ones when asked)."""
    spec = pod.get("spec") or {}
    keys = ["containers"] + (["initContainers"] if init else []) + (["ephemeralContainers"] if ephemeral else [])
    return [str(c.get("name")) for k in keys for c in spec.get(k) or [] if c.get("name")]


def short_tag(pod: dict[str, Any], owner_name: str) -> str:
    """A short label for a pod of a workload: its name without the workload's name and template hash."""
    md = pod.get("metadata") or {}
    name = str(md.get("name", ""))
    rest = name.removeprefix(owner_name + "-") if owner_name else name
    h = (md.get("labels") or {}).get("pod-template-hash")
    if h:
        rest = rest.removeprefix(str(h) + "-")
    return rest if len(rest) >= 3 else name


class LogSession:
    """The streams of one log view: a pod, or every pod a workload selects; merged by time into a ring.

    Args:
        client: The context's API client (streams and GETs go straight to the server: never cached).
        namespace: The namespace.
        kind: The target's kind (``pods`` or a kind whose ``children`` are pods by selector).
        name: The target's name.
        options: What to read.
        max_lines: The ring's capacity.
    """

    def __init__(self, client: ContextClient, namespace: str, kind: Kind, name: str, options: LogOptions,
                 max_lines: int = 100_000) -> None:
        self.client = client
        self.namespace = namespace
        self.kind = kind
        self.name = name
        self.options = options
        self.ring = LogRing(max_lines)
        self.sources: list[LogSource] = []
        self.streams: list[SourceStream] = []
        self._lock = threading.Lock()
        self._incoming: list[LogLine] = []
        self._held: list[LogLine] = []
        self._notices: list[Notice] = []
        self._closed = threading.Event()
        self._known: set[tuple[str, str]] = set()
        self._selector: str | None = None
        self._poller: threading.Thread | None = None
        self._started_at = 0.0
        self._gate_open = False
        self._start_done = threading.Event()
        self.error: str | None = None
        #: Every container name the pods have, in order, with ``""``, ``"init"`` or ``"ephemeral"`` (the picker).
        self.containers: list[tuple[str, str]] = []

    @property
    def merged(self) -> bool:
        """Whether lines of several containers are shown together (each with its tag)."""
        return len(self.sources) > 1 or self.kind.key != "pods" or self.options.container == ALL_CONTAINERS

    # -- start / stop ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Find the pods and containers and start their streams (blocking: call it off the GUI thread).

        A failure to find them is kept in :attr:`error` and as a final notice.
        """
        try:
            self._start()
        finally:
            self._start_done.set()

    def fail(self, text: str) -> None:
        """The session could not start (e.g. no client for the context): ``text`` as a final error notice."""
        self.error = text
        self._notice(Notice(text, "error", -1, True))
        self._start_done.set()

    def _start(self) -> None:
        self._started_at = time.monotonic()
        try:
            pods = self._pods()
        except KubeError as err:
            what = LogSource(self.namespace, self.name, self.options.container or "", "")
            self.error = friendly_error(err, what) if self.kind.key == "pods" else err.message
            self._notice(Notice(self.error, "error", -1, True))
            return
        if not pods:
            self._notice(Notice(f"No pods of {self.kind.kind.lower()} {self.name} right now.", "info"))
        for pod in pods:
            self._add_pod(pod, self.options.tail)
        if self.kind.key != "pods" and self.options.follow and not self._closed.is_set():
            self._poller = threading.Thread(target=self._poll_pods, name=f"kube9-log-pods-{self.name}", daemon=True)
            self._poller.start()

    def close(self) -> None:
        """End every stream now (their connections close at once)."""
        self._closed.set()
        with self._lock:
            streams = list(self.streams)
        for s in streams:
            s.close()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the reader threads to end (tests, headless)."""
        deadline = time.monotonic() + timeout
        for s in list(self.streams):
            s.thread.join(max(0.0, deadline - time.monotonic()))
        if self._poller is not None:
            self._poller.join(max(0.0, deadline - time.monotonic()))

    @property
    def finished(self) -> bool:
        """Every stream has ended (a non-followed read is complete)."""
        if not self._start_done.is_set() or not all(s.done.is_set() for s in self.streams):
            return False
        return self._poller is None or not self._poller.is_alive()

    # -- pods -------------------------------------------------------------------------------------------------------

    def _pods(self) -> list[dict[str, Any]]:
        ns = segment(self.namespace)
        if self.kind.key == "pods":
            info = RequestInfo(verb="get", resource="pods", version="v1", namespace=self.namespace, name=self.name)
            return [self.client.get_json(f"/api/v1/namespaces/{ns}/pods/{segment(self.name)}", info=info)]
        if self._selector is None:
            obj = self.client.get_json(self.kind.object_path(self.name, self.namespace))
            self._selector = selector_of(obj) or ""
        if not self._selector:
            return []
        info = RequestInfo(verb="list", resource="pods", version="v1", namespace=self.namespace)
        data = self.client.get_json(f"/api/v1/namespaces/{ns}/pods", [("labelSelector", self._selector)], info=info)
        items = list(data.get("items") or [])
        items.sort(key=lambda p: (p.get("metadata") or {}).get("name", ""))
        return items

    def _containers(self, pod: dict[str, Any]) -> list[str]:
        c = self.options.container
        if c == ALL_CONTAINERS:
            return container_names(pod, init=True, ephemeral=True)
        if c:
            return [c] if self.kind.key == "pods" or c in container_names(pod, init=True, ephemeral=True) else []
        return [default_container(pod)] if container_names(pod) else []

    def _add_pod(self, pod: dict[str, Any], tail: int | None) -> None:
        spec = pod.get("spec") or {}
        for key, what in (("containers", ""), ("initContainers", "init"), ("ephemeralContainers", "ephemeral")):
            for c in spec.get(key) or []:
                entry = (str(c.get("name", "")), what)
                if entry[0] and entry not in self.containers:
                    self.containers.append(entry)
        md = pod.get("metadata") or {}
        pod_name = str(md.get("name", ""))
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        containers = self._containers(pod)
        several = len(containers) > 1
        base = short_tag(pod, self.name) if self.kind.key != "pods" else pod_name
        for c in containers:
            if (pod_name, c) in self._known or self._closed.is_set():
                continue
            self._known.add((pod_name, c))
            tag = c if self.kind.key == "pods" else f"{base}/{c}" if several else base
            src = LogSource(self.namespace, pod_name, c, node, tag)
            with self._lock:
                index = len(self.sources)
                self.sources.append(src)
            stream = SourceStream(self.client, src, index, replace(self.options, container=c),
                                  self._lines, self._notice, tail)
            with self._lock:
                self.streams.append(stream)
            stream.start()

    def _poll_pods(self) -> None:
        while not self._closed.wait(POD_POLL_S):
            try:
                pods = self._pods()
            except KubeError:
                continue  # a failed poll is retried; the streams already open go on
            for pod in pods:
                name = (pod.get("metadata") or {}).get("name", "")
                if not any(k[0] == name for k in self._known):
                    self._notice(Notice(f"Pod {name} appeared; following it too.", "info"))
                    self._add_pod(pod, None)

    # -- lines in, lines out ----------------------------------------------------------------------------------------

    def _lines(self, lines: list[LogLine]) -> None:
        with self._lock:
            self._incoming.extend(lines)

    def _notice(self, notice: Notice) -> None:
        with self._lock:
            self._notices.append(notice)

    def drain(self, final: bool = False) -> Drained:
        """The lines and notices that arrived since the last call, in display order; appends the lines to the ring.

        A single container's lines come in the order read. Merged lines are sorted by time, held back
        :data:`MERGE_HOLDBACK_S` (and, at the start, until every pod's backlog is in or :data:`MERGE_GATE_S`
        passed) so that a slower pod's lines still take their place; ``final`` releases everything.
        """
        with self._lock:
            incoming, self._incoming = self._incoming, []
            notices, self._notices = self._notices, []
        if not self.merged:
            out = self._held + incoming
            self._held = []
        else:
            held = self._held + incoming
            if not self._gate_open:
                self._gate_open = final or (time.monotonic() - self._started_at >= MERGE_GATE_S) or all(
                    s.started for s in self.streams
                )
            if not self._gate_open:
                self._held = held
                out = []
            else:
                held.sort(key=lambda ln: ln.ns)
                if final or not self.options.follow:
                    out, self._held = (held, []) if final or self.finished else ([], held)
                else:
                    cut = time.time_ns() - int(MERGE_HOLDBACK_S * 1e9)
                    i = _bisect_ns(held, cut)
                    out, self._held = held[:i], held[i:]
        if out:
            self.ring.extend(out)
        return Drained(out, notices)

    def wait_finished(self, timeout: float) -> bool:
        """Block until every stream ended (a read without follow) or ``timeout``; True when they all did."""
        deadline = time.monotonic() + timeout
        while not self.finished:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


def _bisect_ns(lines: list[LogLine], ns: int) -> int:
    lo, hi = 0, len(lines)
    while lo < hi:
        mid = (lo + hi) // 2
        if lines[mid].ns <= ns:
            lo = mid + 1
        else:
            hi = mid
    return lo


def render_line(line: LogLine, source: LogSource | None, *, timestamps: bool, prefix: bool) -> str:
    """A line as ``kubectl logs`` prints it (``--timestamps``, ``--prefix``)."""
    text = f"{line.stamp} {line.text}" if timestamps and line.stamp else line.text
    if prefix and source is not None:
        return f"{source.prefix} {text}"
    return text


def close_quietly(sessions: Iterable[LogSession]) -> None:
    """Close every session (used on quit)."""
    for s in sessions:
        with contextlib.suppress(Exception):
            s.close()


@dataclass(frozen=True)
class LogSpec:
    """What a log view shows (the ``logs`` command's payload for ``open_view("logs", spec)``).

    Attributes:
        context: The context.
        namespace: The namespace.
        kind: The kind key (``pods``, ``deployments`` ...).
        name: The object's name.
        options: What to read.
        timestamps: Show kubelet's timestamps.
    """

    context: str
    namespace: str
    kind: str
    name: str
    options: LogOptions = field(default_factory=LogOptions)
    timestamps: bool = False

    @property
    def title(self) -> str:
        """The tab title: ``Logs api-1`` / ``Logs deploy/api``."""
        return f"Logs {self.name}" if self.kind == "pods" else f"Logs {self.kind.rstrip('s')}/{self.name}"


def parse_duration(text: str) -> int:
    """A Go-style duration (``30s``, ``5m``, ``1h30m``) in whole seconds; raises ValueError."""
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    if not text:
        raise ValueError("empty duration")
    for ch in text:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units and num:
            total += float(num) * units[ch]
            num = ""
        else:
            raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 5m, 1h")
    if num:
        raise ValueError(f"invalid duration {text!r}: missing unit (s, m or h)")
    return max(1, int(total))


def log_client(service: Any, context: str) -> ContextClient:
    """The context's API client for streams; raises KubeError when the data layer has none (kubectl backend).

    The backend's watch client when it has one: its pool is sized for long-lived streams (a Deployment's log holds
    one connection per container; the list client's pool of 8 would discard the extra ones with a warning each).
    Blocking on first use (it may run an exec plugin): call it off the GUI thread.
    """
    return api_client_of(service, context, "Logs unavailable",
                         "Logs are read through the API backend; the kubectl backend cannot stream them.",
                         attrs=("watch_client", "client"))
