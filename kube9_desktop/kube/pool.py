"""Connection-pool plumbing under a context's ``ApiClient``: counted connections and one shared TLS context.

urllib3 has no hook for "a connection was opened", so :func:`counting_pool_classes` installs pool subclasses that
count new connections into a context's :class:`PoolStats` (the status bar's figure) and keep each live one, so
closing the client can shut down sockets a worker is blocked on. :func:`share_ssl_context` builds the context's
TLS settings once instead of once per connection. :func:`request_deadline` gives a request a total time limit
(urllib3's timeouts apply to each connect and each read only), enforced by one watchdog thread.

Libraries: this module alone extends ``urllib3``'s pool classes and builds its ``SSLContext``; :mod:`.client`
alone builds and calls ``kubernetes``' ``ApiClient`` and :mod:`.status_errors` alone maps their exceptions. None of
them lets an exception of either library out.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context, resolve_cert_reqs

from kube9_desktop.kube.backend import ContextStats, StatsRecorder

log = logging.getLogger(__name__)

# The first connection encodes its host name with the "idna" codec, whose module is imported lazily on first use,
# in a worker thread, under the import lock, through PySide's import hook (which inspects each module's source):
# milliseconds on the cold path of the first tree load. Import it with this module instead.
"kube9".encode("idna")


@dataclass
class PoolStats(StatsRecorder):
    """A context's counters plus the connections its pools hold.

    Attributes:
        live: Every connection the pools opened and still hold (weakly).
    """

    # Every connection the pools opened and still hold, so closing the client can abort requests in flight.
    live: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)

    def open_connections(self) -> int:
        """Connections with a socket now (one refused or closed has none; the pool may still hold its object)."""
        with self.lock:
            conns = list(self.live)
        return sum(1 for c in conns if getattr(c, "sock", None) is not None)

    def snapshot(self) -> ContextStats:
        """The counters now, with the connections open now."""
        return dataclasses.replace(super().snapshot(), open_connections=self.open_connections())


def counting_pool_classes(stats: PoolStats) -> dict[str, type]:
    """Pool classes that count new TCP connections into ``stats`` (urllib3 has no hook for it), and bound every
    connection handed out inside :func:`request_deadline` by that deadline."""

    def make(base: type) -> type:
        base_new_conn = base._new_conn  # type: ignore[attr-defined]
        base_get_conn = base._get_conn  # type: ignore[attr-defined]

        def _new_conn(self: Any) -> Any:
            conn = base_new_conn(self)
            with stats.lock:
                stats.connections += 1
                stats.live.add(conn)
            return conn

        def _get_conn(self: Any, timeout: float | None = None) -> Any:
            conn = base_get_conn(self, timeout)
            d: Deadline | None = getattr(_current, "deadline", None)
            if d is not None:
                d.attach(conn)
            return conn

        return type(f"Counting{base.__name__}", (base,), {"_new_conn": _new_conn, "_get_conn": _get_conn})

    return {"http": make(HTTPConnectionPool), "https": make(HTTPSConnectionPool)}


def share_ssl_context(pool_kw: dict[str, Any]) -> None:
    """Build the context's TLS settings into one ``SSLContext`` shared by all its pooled connections.

    Without it urllib3 creates an ``SSLContext`` and re-reads the CA (and client certificate) files for every new
    connection, on the worker thread that is about to do the handshake: ~1 ms of GIL-holding work per connection,
    multiplied by a cold burst of parallel lists. The shared context carries exactly the same verification
    (``CERT_REQUIRED`` and host name checks unless the kubeconfig says insecure-skip-tls-verify; the same CA and
    client certificate); urllib3 still checks ``tls-server-name`` / host names as before.

    When the files cannot be loaded here, nothing changes: urllib3 then fails on connect exactly as before, with
    the error mapping that path already has.
    """
    if pool_kw.get("ssl_context") is not None:
        return
    ca_file = pool_kw.get("ca_certs")
    ca_data = pool_kw.get("ca_cert_data")
    cert_file = pool_kw.get("cert_file")
    key_file = pool_kw.get("key_file")
    try:
        ctx = create_urllib3_context(cert_reqs=resolve_cert_reqs(pool_kw.get("cert_reqs")))
        if ca_file or ca_data:
            ctx.load_verify_locations(cafile=ca_file or None, cadata=ca_data or None)
        elif ctx.verify_mode != ssl.CERT_NONE:
            ctx.load_default_certs()
        if cert_file:
            ctx.load_cert_chain(cert_file, key_file or None)
    except (OSError, ValueError, ssl.SSLError):
        log.debug("TLS settings not shareable; urllib3 builds them per connection", exc_info=True)
        return
    for key in ("ca_certs", "ca_cert_data", "cert_file", "key_file"):
        pool_kw.pop(key, None)
    pool_kw["ssl_context"] = ctx


# ------------------------------------------------------------------------------------------------------------
# Request deadlines


class Deadline:
    """A request's total time limit: once it passes, the connections the request uses are shut down.

    urllib3's read timeout applies to each read: a server trickling one byte a second never trips it. The
    deadline bounds the whole exchange (connect, headers, body). Shutting the socket down ends a read blocked in
    the worker thread at once; :attr:`fired` then tells the caller why its request failed.

    Attributes:
        seconds: The limit.
        at: ``time.monotonic()`` when it passes.
        fired: Whether the limit passed before :meth:`finish`.
    """

    __slots__ = ("_conns", "_done", "_lock", "at", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.fired = False
        self._done = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        """Bound ``conn`` (a pooled connection this request is about to use) by this deadline."""
        with self._lock:
            if self._done:
                return
            self._conns.append(conn)
            fired = self.fired
        if fired:
            _shutdown(conn)

    def fire(self) -> None:
        """The limit passed: shut the request's connections down (again: one may have connected since)."""
        with self._lock:
            if self._done:
                return
            self.fired = True
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)

    def finish(self) -> None:
        """The request is over (answered or failed); the deadline no longer applies."""
        with self._lock:
            self._done = True
            self._conns.clear()
        _WATCHDOG.discard(self)

    @property
    def done(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._done


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


class _Watchdog:
    """One daemon thread firing the deadlines of requests in flight (a handful at a time: one per worker)."""

    #: Seconds between repeated shutdowns of a fired deadline's connections while its request has not ended
    #: (a connection still being set up had no socket to shut down the first time).
    REFIRE = 0.2
    #: Seconds the thread waits for a new request before it ends.
    IDLE = 0.5

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: set[Deadline] = set()
        self._thread: threading.Thread | None = None

    def add(self, d: Deadline) -> None:
        with self._cond:
            self._active.add(d)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kube9-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def discard(self, d: Deadline) -> None:
        with self._cond:
            self._active.discard(d)
            if not self._active:
                self._cond.notify()  # the thread may be waiting for this deadline: let it go idle instead

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._active:
                    # Idle: linger a moment for the next request, then end (no thread outlives a closed app's
                    # last request by more than this).
                    self._cond.wait(self.IDLE)
                    if not self._active:
                        self._thread = None
                        return
                now = time.monotonic()
                due = [d for d in self._active if d.at <= now]
                pending = [d.at for d in self._active if d.at > now]
            for d in due:
                d.fire()
            wait = min([*pending, now + self.REFIRE]) - now if due else (min(pending) - now if pending else 0)
            with self._cond:
                if self._active:
                    self._cond.wait(max(0.01, wait))


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Bound the requests this thread makes inside the block by one total deadline.

    The counting pools attach every connection they hand out inside the block to it (see
    :func:`counting_pool_classes`); a request still running when it passes fails (its socket is shut down) and
    the yielded :class:`Deadline` says it ``fired``.
    """
    d = Deadline(seconds)
    _current.deadline = d
    _WATCHDOG.add(d)
    try:
        yield d
    finally:
        _current.deadline = None
        d.finish()


def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` completes a TLS handshake (to tell an ``http://`` URL pointing at a TLS port).

    Nothing is sent over the connection and its certificate is not used, so verification does not matter here:
    the answer only chooses the wording of an error.
    """
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ssl.SSLError, ValueError):
        return False
