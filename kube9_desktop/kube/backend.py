"""The interface every data backend implements, and the options and statistics they share.

Two backends exist: ``api`` (pooled official client, server-side Tables, orjson; :mod:`.fetch`) and ``kubectl``
(spawns ``kubectl get -o json``; :mod:`.kubectl`), kept as a fallback and as the benchmark baseline. The tree never
talks to a backend directly: it goes through :class:`~kube9_desktop.kube.service.KubeService`, which adds the cache
and in-flight de-duplication.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kube9_desktop.kube.errors import WATCH_SILENT, ErrorKind, KubeError
from kube9_desktop.kube.kinds import DEFAULT_TTLS, Kind, TtlClass
from kube9_desktop.kube.rows import ListRef, Page, WatchEvent

if TYPE_CHECKING:
    from kube9_desktop.kube.client import ContextClient


@dataclass
class KubeOptions:
    """Tunables of the data layer; the app fills them from settings and may replace them at run time.

    Attributes:
        page_size: ``limit`` per list request; the first page reaches the tree as soon as it arrives.
        connect_timeout: Seconds to establish a TCP+TLS connection.
        read_timeout: Seconds to wait for response bytes.
        workers: Threads per context doing blocking I/O and JSON parsing (also the connection pool size).
        ttls: Cache TTL in seconds per TTL class (0 disables caching for that class).
        cache_max_entries: LRU bound of the list cache.
        retries: Automatic retries for 429/5xx/dropped connections (with backoff / Retry-After).
        kubectl: The kubectl executable for the kubectl backend.
        exec_timeout: Seconds an exec credential plugin may run before it is killed.
        request_deadline: Seconds one request (a list page, an object, discovery) may take in all, however
            slowly its answer trickles in (the read timeout applies to each read only).
        max_response_bytes: Largest response body read; a larger one is refused with a clear error instead of
            filling memory.
        watch_timeout: ``timeoutSeconds`` of every watch: a healthy server ends the stream by then (bookmarks
            on), so a watch silent for longer (plus :func:`watch_silence_limit`'s margin) is a dropped watch.
    """

    page_size: int = 500
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    workers: int = 8
    ttls: dict[TtlClass, float] = field(default_factory=lambda: dict(DEFAULT_TTLS))
    cache_max_entries: int = 2000
    retries: int = 3
    kubectl: str = "kubectl"
    exec_timeout: float = 30.0
    request_deadline: float = 60.0
    max_response_bytes: int = 64 * 1024 * 1024
    watch_timeout: float = 60.0


@dataclass
class ContextStats:
    """Per-context counters (the status bar and the benchmarks read them).

    Attributes:
        requests: HTTP requests made (kubectl backend: processes spawned).
        bytes_received: Response body bytes read.
        connections: TCP connections opened by the pool since the client was created.
        open_connections: Connections open now (list and watch pools; kubectl backend: 0).
        errors: Requests that ended in an error.
        last_latency_ms: Latency of the last completed list page request.
        median_latency_ms: Median over the recent list page requests.
    """

    requests: int = 0
    bytes_received: int = 0
    connections: int = 0
    open_connections: int = 0
    errors: int = 0
    last_latency_ms: float = 0.0
    median_latency_ms: float = 0.0


def watch_silence_limit(watch_timeout: float) -> float:
    """Seconds a watch asked to end within ``watch_timeout`` may stay silent before it counts as dropped.

    The server ends a healthy watch at its ``timeoutSeconds``; the margin (a quarter, 2-15 s) absorbs a slow end.
    """
    return watch_timeout + max(2.0, min(15.0, watch_timeout / 4))


@dataclass(frozen=True)
class WatchDeadline:
    """What every watch asks of the server and how long it may then stay silent (issue 14 item 4).

    The list watches (:mod:`.watches`) and the events feed (:mod:`.events`) both ask for bookmarks and a short
    ``timeoutSeconds`` and read with :attr:`silence` as their read timeout: a read timing out once the stream is
    open is a watch that stopped delivering with its connection still open (:meth:`silent_error`).

    Attributes:
        timeout_s: The ``timeoutSeconds`` asked for (whole seconds, at least 1).
        silence: Seconds the stream may send nothing before it counts as dropped (:func:`watch_silence_limit`).
    """

    timeout_s: int
    silence: float

    @classmethod
    def of(cls, options: KubeOptions) -> WatchDeadline:
        """The deadline of a watch made with ``options`` (its ``watch_timeout``)."""
        timeout_s = max(1, round(options.watch_timeout))
        return cls(timeout_s, watch_silence_limit(timeout_s))

    def query(self) -> list[tuple[str, str]]:
        """The watch request's ``allowWatchBookmarks`` and ``timeoutSeconds`` parameters."""
        return [("allowWatchBookmarks", "true"), ("timeoutSeconds", str(self.timeout_s))]

    def silent_error(self, what: str, context: str) -> KubeError:
        """The error for a watch of ``what`` (``pods in namespace a``) that went silent (``WATCH_SILENT``)."""
        return KubeError(
            ErrorKind.TIMEOUT,
            "Watch went silent",
            f"The watch of {what} sent nothing for {self.silence:.0f} s although the server was asked to end "
            f"it within {self.timeout_s} s: the connection is open, but no updates arrive.",
            "kube9 lists it again and re-opens the watch; a proxy or load balancer between you and the API server "
            "may be holding the stream.",
            reason=WATCH_SILENT,
            context=context,
        )


def _median(values: list[float]) -> float:
    """The median of ``values`` (not empty), as ``statistics.median`` gives it: that module (with ``fractions``
    and ``decimal``, 15-30 ms of imports) is loaded before the window's first paint only for this."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class StatsRecorder:
    """Thread-safe counters behind :class:`ContextStats`; backends update them from their worker threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    bytes_received: int = 0
    errors: int = 0
    connections: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100))

    def snapshot(self) -> ContextStats:
        """The counters now."""
        with self.lock:
            lat = list(self.latencies)
            return ContextStats(
                requests=self.requests,
                bytes_received=self.bytes_received,
                connections=self.connections,
                errors=self.errors,
                last_latency_ms=lat[-1] if lat else 0.0,
                median_latency_ms=_median(lat) if lat else 0.0,
            )


class Backend(Protocol):
    """A source of lists, objects and watches for any kubeconfig context."""

    name: str

    def list_pages(self, ref: ListRef, kind: Kind) -> AsyncIterator[Page]:
        """Stream the list ``ref`` page by page; raises KubeError."""
        ...

    async def get_object(self, context: str, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """One object as a plain dict; raises KubeError."""
        ...

    async def server_version(self, context: str) -> str:
        """The server's ``gitVersion`` (``v1.19.0``); raises KubeError."""
        ...

    async def custom_kinds(self, context: str) -> list[Kind]:
        """Kinds defined by the cluster's CRDs; raises KubeError."""
        ...

    def watch(self, ref: ListRef, kind: Kind, resource_version: str) -> AsyncIterator[WatchEvent]:
        """Watch ``ref`` from ``resource_version``; raises KubeError (kind GONE on 410)."""
        ...

    def stats(self, context: str) -> ContextStats:
        """Counters for ``context``."""
        ...

    def set_options(self, options: KubeOptions) -> None:
        """Apply new options (timeouts, page size) to future requests."""
        ...

    def drop_context(self, context: str) -> None:
        """Close the context's client and connections (e.g. when it disappears from the kubeconfig)."""
        ...

    async def aclose(self) -> None:
        """Close every client, pool and worker thread."""
        ...


def api_client_of(service: Any, context: str, title: str, message: str,
                  attrs: tuple[str, ...] = ("client",)) -> ContextClient:
    """The context's API client from ``service``'s backend: the first of its ``attrs`` methods it has (blocking on
    first use: it may run an exec plugin; call it off the GUI thread).

    Raises:
        KubeError: ``title``/``message`` (what cannot be done without it) when the backend has none (kubectl).
    """
    backend = service.backend
    for attr in attrs:
        client_fn = getattr(backend, attr, None)
        if client_fn is not None:
            client: ContextClient = client_fn(context)
            return client
    raise KubeError(ErrorKind.UNKNOWN, title, message, hint="Switch the backend to api in Settings.", context=context)
