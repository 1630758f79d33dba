"""Deterministic fake container logs: what each container instance has written, and when.

Every container instance (pod uid, container, restart count) has a timeline: line ``n`` is written at a known
instant and its text is a pure function of ``(instance, n)``, so the same request always answers the same bytes,
``follow`` just waits for the next instants, and a client resuming with ``sinceTime`` finds exactly the lines it
missed. Lines are realistic: levels, some JSON lines, some ANSI colour, and a stack trace at the end of a crashed
instance (what ``--previous`` shows for a CrashLoopBackOff).

The rate of new lines is per pod (``LogBook.set_rate``, the admin endpoint ``/simz/logs``) with a default for the
sim; a rate change starts a new segment of the timeline so lines written before keep their instants.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: How far back before the sim started the running containers' logs reach (older lines were rotated away).
RETENTION_S = 600.0
#: Lines per second a container writes unless its pod's rate was set.
DEFAULT_RATE = 0.5

_PATHS = ["/healthz", "/api/v1/items", "/api/v1/orders", "/metrics", "/login", "/static/app.js", "/api/v1/users"]
_LEVELS = ["INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"]
_ANSI = {"INFO": "\x1b[32m", "DEBUG": "\x1b[36m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m"}
_MESSAGES = [
    "handled {method} {path} status={status} duration={ms}ms",
    "cache {hit} for key user:{n}",
    "connected to db pool size={n}",
    "slow query took {ms}ms on {path}",
    "retrying upstream call attempt={n}",
]
_STACK = [
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b4e2a]",
    "",
    "goroutine 1 [running]:",
    "main.(*Server).handle(0x0, {0x7f3a2c, 0xc000124000})",
    "\t/src/server.go:88 +0x2a",
    "main.main()",
    "\t/src/main.go:41 +0x1c5",
]
_STYLES = ("plain", "json", "ansi", "mixed")


def parse_time_ns(text: str) -> int:
    """RFC 3339 (with or without fractional seconds, ``Z``) to Unix nanoseconds, exactly; raises ValueError.

    Exact because a client resumes with ``sinceTime`` set to its last line's own timestamp: through float seconds
    (about 256 ns of precision today) that line's instant could round past itself and the line be lost.
    """
    text = text.strip()
    if not text.endswith("Z"):
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    base, _, frac = text[:-1].partition(".")
    if frac and not (frac.isdigit() and len(frac) <= 9):
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    secs = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1_000_000_000 + (int(frac.ljust(9, "0")) if frac else 0)


def format_time_ns(ns: int) -> str:
    """Unix nanoseconds as kubelet prints log timestamps (RFC 3339 with nanoseconds, trailing zeros trimmed)."""
    secs, rem = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    frac = f"{rem:09d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


@dataclass
class Segment:
    """A stretch of a timeline written at one rate: line ``first`` at ``start`` (Unix s), then ``rate`` per s."""

    start: float
    first: int
    rate: float


@dataclass
class Instance:
    """One container instance's log: where it begins and (for a terminated one) ends.

    Attributes:
        key: Seed of its text (pod uid, container name, restart number).
        begin: Instant of its first line (Unix seconds).
        end: Instant after which it writes nothing (terminated), or None while it runs.
        crashed: Whether its log ends with a stack trace.
        style: ``plain``, ``json``, ``ansi`` or ``mixed``.
        label: The text put in its lines (the pod name).
    """

    key: str
    begin: float
    end: float | None
    crashed: bool
    style: str
    label: str
    segments: list[Segment] = field(default_factory=list)


class LogBook:
    """The sim's container logs. Thread-safe.

    Args:
        started: When the sim started (Unix seconds): the default-rate segment of every pod starts there.
        default_rate: Lines per second of a pod whose rate was not set.
    """

    def __init__(self, started: float | None = None, default_rate: float = DEFAULT_RATE) -> None:
        self.started = time.time() if started is None else started
        self._lock = threading.Lock()
        # rate changes in order: (instant, pod uid or None for the default, lines per second)
        self._changes: list[tuple[float, str | None, float]] = [(self.started, None, default_rate)]
        #: Nodes whose kubelet does not answer (logs of their pods fail with a 500, as the apiserver's dial does).
        self.down_nodes: set[str] = set()

    def set_rate(self, pod_uid: str | None, rate: float, now: float | None = None) -> None:
        """From ``now`` on, the pod's containers write ``rate`` lines per second (0 = silent).

        ``pod_uid`` None sets the default of every pod whose own rate was never set.
        """
        with self._lock:
            self._changes.append((time.time() if now is None else now, pod_uid, max(0.0, rate)))

    def rate(self, pod_uid: str, now: float | None = None) -> float:
        """The pod's rate at ``now``."""
        t = time.time() if now is None else now
        return self._rates_of(pod_uid)[-1][1] if t >= self.started else DEFAULT_RATE

    def _rates_of(self, uid: str) -> list[tuple[float, float]]:
        """The pod's effective rate changes ``(instant, rate)`` in order (its own rate beats the default)."""
        with self._lock:
            changes = list(self._changes)
        out: list[tuple[float, float]] = []
        default, own = DEFAULT_RATE, None
        for at, who, rate in changes:
            if who is None:
                default = rate
            elif who == uid:
                own = rate
            else:
                continue
            out.append((at, own if own is not None else default))
        return out

    # -- timelines --------------------------------------------------------------------------------------------

    def instance(self, pod: dict[str, Any], container: str, previous: bool) -> Instance | None:
        """The container instance whose log a request reads, or None when there is none (see :func:`why_not`)."""
        md, status = pod["metadata"], pod.get("status") or {}
        cs = _status_of(status, container)
        if cs is None:
            return None
        restarts = int(cs.get("restartCount") or 0)
        state, last = cs.get("state") or {}, cs.get("lastState") or {}
        term = last.get("terminated") if previous else None
        if previous:
            if not term:
                return None
            number = restarts - 1
        elif "running" in state:
            term, number = None, restarts
        elif "terminated" in state:
            term, number = state["terminated"], restarts
        elif last.get("terminated"):
            term, number = last["terminated"], restarts - 1  # waiting to restart: the last run's log
        else:
            return None
        key = f"{md.get('uid', md['name'])}/{container}/{number}"
        style = _STYLES[int(hashlib.blake2s(f"{md['name']}/{container}".encode()).hexdigest()[:4], 16) % 4]
        if term is not None:
            finished = _when(term.get("finishedAt")) or self.started
            started = _when(term.get("startedAt")) or finished
            crashed = int(term.get("exitCode") or 0) != 0
            # A run that lasted "no time" still wrote a startup log before it died.
            begin = min(started, finished - 30.0)
            inst = Instance(key, begin, finished, crashed, style, md["name"])
            inst.segments = [Segment(begin, 0, 40 / max(1.0, finished - begin))]
            return inst
        started = _when((state.get("running") or {}).get("startedAt")) or self.started
        # A per-container phase, so that the pods of one workload do not all write at the same instants.
        phase = int(hashlib.blake2s(key.encode()).hexdigest()[:6], 16) / 0xFFFFFF / DEFAULT_RATE
        begin = max(started, self.started - RETENTION_S) + phase
        inst = Instance(key, begin, None, False, style, md["name"])
        inst.segments = self._segments(md.get("uid", ""), begin)
        return inst

    def _segments(self, uid: str, begin: float) -> list[Segment]:
        segs = [Segment(begin, 0, DEFAULT_RATE)]
        for at, rate in self._rates_of(uid):
            if at <= begin:
                segs[0] = Segment(begin, 0, rate)
            else:
                segs.append(Segment(at, _count(segs[-1], at), rate))
        return segs

    def count(self, inst: Instance, now: float) -> int:
        """How many regular lines the instance has written by ``now`` (the stack trace not included)."""
        t = now if inst.end is None else min(now, inst.end)
        seg = inst.segments[0]
        for s in inst.segments:
            if s.start <= t:
                seg = s
        return _count(seg, t)

    def line_time_ns(self, inst: Instance, n: int) -> int:
        """The instant (Unix ns) of regular line ``n``."""
        seg = inst.segments[0]
        for s in inst.segments:
            if s.first <= n and s.rate > 0:
                seg = s
        return int(seg.start * 1e9) + (int((n - seg.first) * 1e9 / seg.rate) if seg.rate > 0 else 0)

    def lines(self, inst: Instance, now: float, start: int = 0) -> list[tuple[int, str]]:
        """``(instant ns, text)`` of the instance's lines from regular line ``start`` up to ``now``.

        A terminated crashed instance ends with its stack trace, all at its ``end`` instant.
        """
        n = self.count(inst, now)
        out = [(self.line_time_ns(inst, i), line_text(inst, i)) for i in range(start, n)]
        if inst.end is not None and inst.crashed and now >= inst.end:
            end_ns = int(inst.end * 1e9)
            out += [(end_ns, text) for text in _STACK]
        return out


def _count(seg: Segment, t: float) -> int:
    if t < seg.start:
        return seg.first
    if seg.rate <= 0:
        return seg.first
    return seg.first + int((t - seg.start) * seg.rate) + 1


def _when(text: Any) -> float | None:
    if not text:
        return None
    try:
        return parse_time_ns(str(text)) / 1e9  # a container state's time: second precision is plenty
    except ValueError:
        return None


def _status_of(status: dict[str, Any], container: str) -> dict[str, Any] | None:
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return dict(cs)
    return None


def why_not(pod: dict[str, Any], container: str, previous: bool) -> str:
    """The kubelet's reason why a container has no log to read (what kube-apiserver answers with a 400)."""
    name = pod["metadata"]["name"]
    cs = _status_of(pod.get("status") or {}, container)
    if previous:
        return f'previous terminated container "{container}" in pod "{name}" not found'
    if cs is None:
        return f'container "{container}" in pod "{name}" is not available'
    waiting = (cs.get("state") or {}).get("waiting") or {}
    reason = waiting.get("reason", "")
    if reason == "ErrImagePull":
        reason = "image can't be pulled"
    elif reason == "ImagePullBackOff":
        reason = "trying and failing to pull image"
    return f'container "{container}" in pod "{name}" is waiting to start: {reason}'


def line_text(inst: Instance, n: int) -> str:
    """The text of regular line ``n`` of an instance (deterministic)."""
    return _line_text(inst.key, inst.style, inst.label, n)


@functools.lru_cache(maxsize=200_000)
def _line_text(key: str, style: str, label: str, n: int) -> str:
    """A line once written is kept, as kubelet keeps it in its file (derived again, each costs ~40 us: a
    ``--tail 1000`` took the sim ~40 ms, more than the rest of the request)."""
    rng = random.Random(f"{key}/{n}")
    level = rng.choice(_LEVELS)
    msg = rng.choice(_MESSAGES).format(
        method=rng.choice(["GET", "GET", "POST", "PUT"]),
        path=rng.choice(_PATHS),
        status=rng.choice([200, 200, 200, 201, 404, 500]),
        ms=rng.randint(1, 900),
        hit=rng.choice(["hit", "miss"]),
        n=rng.randint(1, 64),
    )
    style = style
    if style == "mixed":
        style = ("plain", "json", "ansi")[n % 3]
    if n == 0:
        level, msg = "INFO", f"{label} starting, version 1.4.{len(key) % 10}"
    if style == "json":
        return (
            f'{{"level":"{level.lower()}","msg":"{msg.split(" ", 1)[0]}","detail":"{msg}",'
            f'"pod":"{label}","seq":{n}}}'
        )
    if style == "ansi":
        return f"{_ANSI[level]}{level:<5}\x1b[0m [{label}] {msg} seq={n}"
    return f"{level:<5} [{label}] {msg} seq={n}"


class LogError(Exception):
    """A log request kube-apiserver refuses: ``status`` (400/422/500) and its message."""

    def __init__(self, status: int, message: str, reason: str = "BadRequest") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


@dataclass
class LogQuery:
    """The query of one ``pods/NAME/log`` request, validated like kube-apiserver does."""

    container: str
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_ns: int | None = None  # Unix nanoseconds; lines at or after it
    tail: int | None = None
    limit: int | None = None

    @classmethod
    def parse(cls, pod: dict[str, Any], query: dict[str, str], now: float) -> LogQuery:
        """Validates ``query`` against the pod; raises LogError with kube-apiserver's wording."""
        name = pod["metadata"]["name"]
        spec = pod.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or []]
        inits = [c["name"] for c in spec.get("initContainers") or []]
        ephemeral = [c["name"] for c in spec.get("ephemeralContainers") or []]
        container = query.get("container", "")
        if not container:
            if len(names) != 1:
                msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                if inits:
                    msg += f" or one of the init containers: [{' '.join(inits)}]"
                if ephemeral:
                    msg += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
                raise LogError(400, msg)
            container = names[0]
        elif container not in names + inits + ephemeral:
            raise LogError(400, f"container {container} is not valid for pod {name}")

        def flag(key: str) -> bool:
            return query.get(key, "").lower() in ("true", "1")

        def number(key: str) -> int | None:
            text = query.get(key, "")
            if not text:
                return None
            try:
                return int(text)
            except ValueError:
                raise LogError(400, f"{key}: Invalid value: \"{text}\": must be an integer") from None

        q = cls(container, follow=flag("follow"), previous=flag("previous"), timestamps=flag("timestamps"))
        secs = number("sinceSeconds")
        since_time = query.get("sinceTime", "")
        if secs is not None and since_time:
            raise LogError(422, "PodLogOptions \"\" is invalid: sinceSeconds: Forbidden: at most one of "
                           "`sinceTime` or `sinceSeconds` may be specified", "Invalid")
        if secs is not None:
            if secs < 1:
                raise LogError(422, f"PodLogOptions \"\" is invalid: sinceSeconds: Invalid value: {secs}: "
                               "must be greater than 0", "Invalid")
            q.since_ns = int((now - secs) * 1e9)
        elif since_time:
            try:
                q.since_ns = parse_time_ns(since_time)
            except ValueError:
                raise LogError(400, f"sinceTime: Invalid value: \"{since_time}\": not an RFC 3339 time") from None
        q.tail = number("tailLines")
        if q.tail is not None and q.tail < 0:
            q.tail = None  # kubelet treats a negative tail as "all lines"
        q.limit = number("limitBytes")
        if q.limit is not None and q.limit < 1:
            raise LogError(422, f"PodLogOptions \"\" is invalid: limitBytes: Invalid value: {q.limit}: "
                           "must be greater than 0", "Invalid")
        return q


def _node_down_message(pod: dict[str, Any], q: LogQuery) -> str:
    md = pod["metadata"]
    host = (pod.get("status") or {}).get("hostIP") or "10.0.0.1"
    return (
        f'Get "https://{host}:10250/containerLogs/{md["namespace"]}/{md["name"]}/{q.container}": '
        f"dial tcp {host}:10250: connect: connection refused"
    )


def _render(lines: list[tuple[int, str]], q: LogQuery) -> bytes:
    if q.timestamps:
        return "".join(f"{format_time_ns(t)} {text}\n" for t, text in lines).encode()
    return "".join(text + "\n" for _, text in lines).encode()


def read_log(
    book: LogBook,
    get_pod: Callable[[], dict[str, Any] | None],
    query: dict[str, str],
    stopping: Callable[[float], bool],
) -> Iterator[bytes]:
    """Answers a ``pods/NAME/log`` request: yields the body's chunks (one for a plain read, more while following).

    Raises LogError before the first chunk when the request is refused. ``get_pod`` returns the pod now (None once
    deleted: a follow then ends, as kubelet's does when the container goes); ``stopping(seconds)`` waits and says
    whether the sim is stopping.
    """
    pod = get_pod()
    if pod is None:
        raise LogError(404, "pod not found", "NotFound")
    now = time.time()
    q = LogQuery.parse(pod, query, now)
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        return  # never scheduled: no kubelet to ask, an empty log (what kube-apiserver answers)
    if node in book.down_nodes:
        raise LogError(500, _node_down_message(pod, q), "InternalError")
    inst = book.instance(pod, q.container, q.previous)
    if inst is None:
        raise LogError(400, why_not(pod, q.container, q.previous))
    start = 0
    if q.tail is not None and q.since_ns is None:
        # Only the last lines are rendered (each line's text is derived from a seeded generator: rendering a long
        # history to keep 1,000 of it cost the sim ~40 ms, more than the rest of a kubectl logs --tail 1000). The
        # crashed instance's stack trace comes after the regular lines and counts towards the tail.
        trace = len(_STACK) if inst.end is not None and inst.crashed and now >= inst.end else 0
        start = max(0, book.count(inst, now) - max(0, q.tail - trace))
    lines = book.lines(inst, now, start)
    if q.since_ns is not None:
        lines = [ln for ln in lines if ln[0] >= q.since_ns]
    if q.tail is not None:
        lines = lines[-q.tail:] if q.tail else []
    left = q.limit
    body = _render(lines, q)
    if left is not None:
        body = body[:left]
        left -= len(body)
    if body or not q.follow:
        yield body
    if not q.follow or (left is not None and left <= 0):
        return
    if inst.end is not None:
        return  # a terminated container writes nothing more
    nxt = book.count(inst, now)
    key = inst.key
    uid = pod["metadata"].get("uid", "")
    while True:
        rate = book.rate(uid)
        # New lines go out in batches at most 50 times a second (kubelet also flushes in chunks).
        if stopping(min(0.25, max(0.02, 1.0 / rate)) if rate > 0 else 0.25):
            return
        pod = get_pod()
        if pod is None:
            return
        inst = book.instance(pod, q.container, False)
        if inst is None or inst.key != key:
            return  # the container stopped or restarted: kubelet ends the stream of the old one
        fresh = book.lines(inst, time.time(), nxt)
        if not fresh:
            continue
        nxt += len(fresh)
        chunk = _render(fresh, q)
        if left is not None:
            chunk = chunk[:left]
            left -= len(chunk)
        yield chunk
        if left is not None and left <= 0:
            return

