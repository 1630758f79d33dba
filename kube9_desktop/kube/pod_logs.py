"""Container logs (Qt-free): one stream per container, followed, resumed after a drop, merged by time, bounded.

Never cached: every read goes to the API server. Each container's log is read by a :class:`SourceStream` in its own
thread (off the GUI thread and off the list workers), always with ``timestamps=true`` so that

* a dropped follow resumes with ``sinceTime`` = the last line's timestamp, skipping the lines already read at that
  very instant (kubelet's ``sinceTime`` is inclusive): no duplicate and no lost line;
* the lines of several pods (a Deployment's) merge by time.

A :class:`LogSession` owns the streams of one view (a pod, or every pod of a workload, with pods that appear while
following added) and a :class:`LogRing` of at most ``max_lines`` lines. Consumers call :meth:`LogSession.drain`
(the window on a timer, headless in a loop); ``close()`` ends every stream at once.
"""

from __future__ import annotations

import calendar
import ctypes
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo
from kube9_desktop.kube.stream_reader import StreamReader

if TYPE_CHECKING:
    from kube9_desktop.kube.client import ContextClient

#: ``container`` value meaning every container of the pod (init and ephemeral ones too).
ALL_CONTAINERS = "*"
#: Consecutive failed reconnects after which a follow gives up.
MAX_RESUMES = 8


# -- lines ---------------------------------------------------------------------------------------------------------

_SECONDS: dict[str, int] = {}


def stamp_ns(stamp: str) -> int:
    """kubelet's RFC 3339 timestamp (``2026-12-02T02:32:09.674725888Z``) as Unix nanoseconds, or -1."""
    if len(stamp) < 20 or stamp[-1] != "Z" or stamp[10] != "T":
        return -1
    base = stamp[:19]
    secs = _SECONDS.get(base)
    if secs is None:
        try:
            secs = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return -1
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        _SECONDS[base] = secs
    frac = stamp[20:-1] if stamp[19] == "." else ""
    if frac and not frac.isdigit():
        return -1
    return secs * 1_000_000_000 + (int(frac[:9].ljust(9, "0")) if frac else 0)


class LogLine(NamedTuple):
    """One log line: its instant (Unix ns, -1 if it had no timestamp), kubelet's timestamp text, the text as the
    container wrote it (control sequences included: views sanitise), and the index of its :class:`LogSource`.

    A tuple of plain values on purpose: it can never be part of a reference cycle, so the readers take every line
    out of the garbage collector's sight (:func:`untrack`) and a tab holding 100,000 lines adds nothing to the full
    collections that run on the GUI thread.
    """

    ns: int
    stamp: str
    text: str
    src: int


def _gc_untrack() -> Callable[[object], None] | None:
    try:
        fn = ctypes.pythonapi.PyObject_GC_UnTrack
    except AttributeError:  # not CPython: nothing to do
        return None
    fn.argtypes = [ctypes.py_object]
    fn.restype = None
    return fn


_UNTRACK = _gc_untrack()


def untrack(lines: Iterable[LogLine]) -> None:
    """Take ``lines`` out of the cyclic garbage collector's sight (CPython's public ``PyObject_GC_UnTrack``).

    CPython stops tracking a plain ``tuple`` of atoms by itself, but not an instance of a tuple subclass such as a
    NamedTuple: 100,000 held lines stayed tracked, and every full collection on the GUI thread walked them all (the
    longest GUI-thread burst while following 5,000 lines/s: a 22 ms collection). A LogLine holds only an int and
    str values, so it can never be in a cycle and reference counting alone frees it.
    """
    fn = _UNTRACK
    if fn is not None:
        for line in lines:
            fn(line)


def split_line(raw: str, src: int) -> LogLine:
    """A line read with ``timestamps=true`` split into its timestamp and text."""
    stamp, sep, text = raw.partition(" ")
    ns = stamp_ns(stamp) if sep else -1
    if ns < 0:
        return LogLine(-1, "", raw, src)
    return LogLine(ns, stamp, text, src)


@dataclass(frozen=True)
class LogSource:
    """One container's log.

    Attributes:
        namespace: The pod's namespace.
        pod: The pod name.
        container: The container name.
        node: The node the pod runs on ("" if unscheduled): named in "kubelet unreachable" errors.
        tag: The short pod/container label shown before its lines in a merged view.
    """

    namespace: str
    pod: str
    container: str
    node: str = ""
    tag: str = ""

    @property
    def prefix(self) -> str:
        """kubectl's ``--prefix`` form: ``[pod/NAME/CONTAINER]``."""
        return f"[pod/{self.pod}/{self.container}]"


@dataclass(frozen=True)
class LogOptions:
    """What to read.

    Attributes:
        container: A container name, :data:`ALL_CONTAINERS`, or None for the pod's default container.
        follow: Keep streaming new lines.
        previous: The previous (terminated) instance's log.
        since_seconds: Only lines of the last N seconds.
        tail: Only the last N lines of each container (None: all).
    """

    container: str | None = None
    follow: bool = False
    previous: bool = False
    since_seconds: int | None = None
    tail: int | None = 1000


@dataclass(frozen=True)
class Notice:
    """Something the view says about a stream, in the app's voice.

    Attributes:
        text: One or two sentences.
        level: ``info``, ``warning`` or ``error``.
        src: The source index, or -1 for the whole session.
        final: The source's stream ended for good.
    """

    text: str
    level: str = "info"
    src: int = -1
    final: bool = False


# -- errors ----------------------------------------------------------------------------------------------------------


def friendly_error(err: KubeError, source: LogSource) -> str:
    """A log request's failure as users read it (the server's own words where they are already clear)."""
    server = str(err.details.get("message") or "") if isinstance(err.details, dict) else ""
    text = server or err.message
    if err.kind is ErrorKind.FORBIDDEN:
        return f"You may not read logs of pods in {source.namespace}."
    if err.kind is ErrorKind.NOT_FOUND:
        return f"Pod {source.pod} no longer exists in {source.namespace}."
    if err.status in (500, 502, 503) and ("10250" in text or "dial tcp" in text or "kubelet" in text):
        node = f"node {source.node}" if source.node else "the pod's node"
        return (
            f"The API server could not reach the kubelet on {node} to read the log of {source.pod} "
            f"({text.strip()})."
        )
    if err.status == 400 and text:
        if text.startswith("previous terminated container"):
            return (
                f"No previous log: container {source.container} of pod {source.pod} has not restarted "
                f"(the server says: {text})."
            )
        return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return err.message


# -- one container ---------------------------------------------------------------------------------------------------


class SourceStream(StreamReader):
    """Reads one container's log in a thread of its own; resumes a dropped follow without duplicate or loss.

    Args:
        client: The context's API client.
        source: The container.
        index: The source's index (put in every line).
        options: What to read (``container`` is ``source.container`` here).
        on_lines: Called from the reader thread with each batch of lines, in order.
        on_notice: Called from the reader thread with notices.
        tail: Overrides ``options.tail`` (pods that appear while following are read whole).
    """

    def __init__(
        self,
        client: ContextClient,
        source: LogSource,
        index: int,
        options: LogOptions,
        on_lines: Callable[[list[LogLine]], None],
        on_notice: Callable[[Notice], None],
        tail: int | None = -1,
    ) -> None:
        super().__init__(f"kube9-log-{source.pod}/{source.container}")
        self.client = client
        self.source = source
        self.index = index
        self.options = options
        self.tail = options.tail if tail == -1 else tail
        self._on_lines = on_lines
        self._on_notice = on_notice
        self.done = threading.Event()
        self.last_ns = -1
        self.last_stamp = ""
        self.at_last = 0  # lines read whose timestamp is last_ns (skipped again after a resume)
        self.lines_read = 0
        self.resumes = 0
        self.started = False  # the first response arrived (or the stream failed)

    def _path(self) -> str:
        s = self.source
        return f"/api/v1/namespaces/{segment(s.namespace)}/pods/{segment(s.pod)}/log"

    def _query(self, resume: bool) -> list[tuple[str, str]]:
        q = [("container", self.source.container), ("timestamps", "true")]
        if self.options.follow:
            q.append(("follow", "true"))
        if self.options.previous:
            q.append(("previous", "true"))
        if resume:
            q.append(("sinceTime", self.last_stamp))
        else:
            if self.options.since_seconds:
                q.append(("sinceSeconds", str(self.options.since_seconds)))
            if self.tail is not None and self.tail >= 0:
                q.append(("tailLines", str(self.tail)))
        return q

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must not kill the view silently
            self._on_notice(Notice(f"Reading the log of {self.source.pod} failed: {exc}", "error", self.index, True))
        finally:
            self.started = True
            self.done.set()

    def _loop(self) -> None:
        failures = 0
        resume = False
        info = RequestInfo(verb="get", resource="pods", version="v1", namespace=self.source.namespace,
                           name=self.source.pod)
        while not self.closed:
            try:
                stream = self.client.stream(self._path(), self._query(resume), accept="*/*", info=info,
                                            timeout=max(60.0, self.client.options.read_timeout))
            except KubeError as err:
                self.started = True
                if self.closed:
                    return
                if resume and err.kind is ErrorKind.NOT_FOUND:
                    self._final(f"Pod {self.source.pod} was deleted; the lines above are what it wrote.", "warning")
                    return
                if resume and err.retriable and failures < MAX_RESUMES:
                    failures += 1
                    self._closed.wait(min(0.2 * 2 ** failures, 5.0))
                    continue
                self._final(friendly_error(err, self.source), "error")
                return
            dropped = False
            with self._reading(stream):
                if self.closed:
                    return
                self.started = True
                try:
                    self._read(stream, resume)
                except KubeError:
                    dropped = True
            if self.closed or not self.options.follow:
                if not self.closed and dropped:
                    self._final(f"The log of {self.source.pod} was cut off (the connection dropped).", "warning")
                return
            # A followed log ended: dropped connection, or the server ended it (container gone or restarted).
            if not dropped:
                state = self._container_state()
                if state == "deleted":
                    self._final(f"Pod {self.source.pod} was deleted; the lines above are what it wrote.", "warning")
                    return
                if state == "terminated":
                    self._final(f"Container {self.source.container} of {self.source.pod} has stopped.", "info")
                    return
            failures = failures + 1 if dropped else 0
            if failures > MAX_RESUMES:
                self._final(f"The log of {self.source.pod} keeps dropping; stopped following.", "error")
                return
            resume = self.last_ns >= 0  # nothing read yet: start over the same way
            self.resumes += 1
            self._closed.wait(0.05 if dropped else 0.5)

    def _final(self, text: str, level: str) -> None:
        self._on_notice(Notice(text, level, self.index, True))

    def _container_state(self) -> str:
        """``deleted``, ``terminated``, ``running`` or ``unknown`` (a GET of the pod, not cached)."""
        s = self.source
        try:
            pod = self.client.get_json(f"/api/v1/namespaces/{segment(s.namespace)}/pods/{segment(s.pod)}")
        except KubeError as err:
            return "deleted" if err.kind is ErrorKind.NOT_FOUND else "unknown"
        for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
            for cs in (pod.get("status") or {}).get(key) or []:
                if cs.get("name") == s.container:
                    state = cs.get("state") or {}
                    return "running" if "running" in state else "terminated"
        return "unknown"

    def _read(self, stream: Any, resume: bool) -> None:
        """Read the body, splitting lines and skipping, after a resume, those already read."""
        skip_ns, skip_n = (self.last_ns, self.at_last) if resume else (-1, 0)
        buf = b""
        for chunk in stream.iter_chunks():
            if self.closed:
                return
            buf += chunk
            if b"\n" not in chunk:
                continue
            *raws, buf = buf.split(b"\n")
            batch = []
            for raw in raws:
                line = split_line(raw.decode("utf-8", "replace").rstrip("\r"), self.index)
                if skip_ns >= 0 and line.ns >= 0:
                    if line.ns < skip_ns:
                        continue
                    if line.ns == skip_ns and skip_n > 0:
                        skip_n -= 1
                        continue
                    skip_ns = -1
                self._remember(line)
                batch.append(line)
            if batch:
                untrack(batch)
                self.lines_read += len(batch)
                self._on_lines(batch)
        if buf and not self.closed:
            line = split_line(buf.decode("utf-8", "replace").rstrip("\r"), self.index)
            self._remember(line)
            untrack((line,))
            self.lines_read += 1
            self._on_lines([line])

    def _remember(self, line: LogLine) -> None:
        if line.ns < 0:
            return
        if line.ns == self.last_ns:
            self.at_last += 1
        else:
            self.last_ns, self.last_stamp, self.at_last = line.ns, line.stamp, 1


# -- the ring --------------------------------------------------------------------------------------------------------


class LogRing:
    """At most ``capacity`` lines; the oldest drop first and are counted."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.lines: deque[LogLine] = deque(maxlen=self.capacity)
        self.dropped = 0

    def extend(self, lines: Iterable[LogLine]) -> None:
        """Append ``lines``; counts the ones pushed out."""
        before = len(self.lines)
        added = 0
        for line in lines:
            self.lines.append(line)
            added += 1
        self.dropped += max(0, before + added - self.capacity)

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self.lines)

    def clear(self) -> None:
        """Forget every line."""
        self.lines.clear()
        self.dropped = 0
