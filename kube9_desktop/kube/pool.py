"""Connection-pool plumbing under a context's ``ApiClient``: counted connections and one shared TLS context.

urllib3 has no hook for "a connection was opened", so :func:`counting_pool_classes` installs pool subclasses that
count new connections into a context's :class:`PoolStats` (the status bar's figure) and keep each live one, so
closing the client can shut down sockets a worker is blocked on. :func:`share_ssl_context` builds the context's
TLS settings once instead of once per connection. :func:`request_deadline` gives a request a total time limit
(urllib3's timeouts apply to each connect and each read only), enforced by one watchdog thread.

Libraries: this module alone builds and extends ``urllib3``'s pools (:func:`make_pool_manager`) and builds their
``SSLContext``; :mod:`.library_client` alone builds ``kubernetes``' ``ApiClient`` (for the users that need it),
:mod:`.client` alone sends requests, and :mod:`.status_errors` alone maps their exceptions. None of them lets an
exception of either library out.
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

from urllib3 import PoolManager
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context, resolve_cert_reqs

from kube9_desktop.kube.backend import ContextStats, StatsRecorder
from kube9_desktop.kube.transport import DirectSettings

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


class Warming:
    """Connections a pool is opening ahead of its first requests (:func:`open_spare`), and what they came to.

    A request that finds no idle connection while some are being opened waits for one of them instead of
    opening yet another (the pool would hold more connections than it has room for, and each one costs a TLS
    handshake on both sides). If the spare connections fail, the waiting request fails with their error, as it
    would have failed itself: a server that does not answer is not waited for twice.

    Attributes:
        pending: Connections being opened now.
        error: The failure of the last spare connection that failed, ``None`` once one succeeded.
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending = 0
        self.error: BaseException | None = None
        self.timeout = 0.0  # the spare connections' connect timeout: a request waits for them no longer


def _idle(pool: Any) -> bool:
    """Whether ``pool`` holds an idle connection (urllib3's queue is pre-filled with ``None`` slots; the idle
    connections are put on top)."""
    q = pool.pool
    if q is None:
        return True  # closed: let urllib3 say so
    with q.mutex:
        return bool(q.queue) and q.queue[-1] is not None


def has_idle(pool: Any) -> bool:
    """Whether ``pool`` holds an idle connection now (taking one would not open a connection or wait)."""
    return _idle(pool)


def counting_pool_classes(stats: PoolStats) -> dict[str, type]:
    """Pool classes that count new TCP connections into ``stats`` (urllib3 has no hook for it), bound every
    connection handed out inside :func:`request_deadline` by that deadline, and hand out the spare connections
    :func:`open_spare` opens (see :class:`Warming`)."""

    def make(base: type) -> type:
        base_init = base.__init__  # type: ignore[misc]
        base_new_conn = base._new_conn  # type: ignore[attr-defined]
        base_get_conn = base._get_conn  # type: ignore[attr-defined]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            base_init(self, *args, **kwargs)
            self.warming = Warming()

        def _new_conn(self: Any) -> Any:
            conn = base_new_conn(self)
            with stats.lock:
                stats.connections += 1
                stats.live.add(conn)
            return conn

        def _get_conn(self: Any, timeout: float | None = None) -> Any:
            w: Warming = self.warming
            if w.pending:
                with w.cond:
                    waited = False
                    until = time.monotonic() + w.timeout  # no longer than one of them may take
                    while w.pending and not _idle(self) and time.monotonic() < until:
                        waited = True
                        w.cond.wait(min(1.0, max(0.0, until - time.monotonic())))
                    if waited and w.error is not None and not _idle(self):
                        raise w.error
            conn = base_get_conn(self, timeout)
            d: Deadline | None = getattr(_current, "deadline", None)
            if d is not None:
                d.attach(conn)
            return conn

        return type(f"Counting{base.__name__}", (base,),
                    {"__init__": __init__, "_new_conn": _new_conn, "_get_conn": _get_conn,
                     "_get_slot": base_get_conn})

    return {"http": make(HTTPConnectionPool), "https": make(HTTPSConnectionPool)}


def take_spares(pool: Any, count: int, connect_timeout: float) -> list[Any]:
    """Up to ``count`` new connections of ``pool``, not yet connected, for :func:`connect_spare` to open ahead of
    the first requests; none when the pool already holds a connection or is reached through a proxy (whose
    tunnel urllib3 sets up with the request). Each one holds a slot of the pool until it is connected (or fails)
    and goes back; meanwhile a request that finds no idle connection waits for it (:class:`Warming`).

    Args:
        pool: A pool of :func:`counting_pool_classes`.
        count: How many.
        connect_timeout: Seconds each may take to connect (a request waits for them no longer).
    """
    if getattr(pool, "proxy", None) is not None or _idle(pool):
        return []
    w: Warming = pool.warming
    taken: list[Any] = []
    with w.cond:
        for _ in range(count):
            try:
                conn = pool._get_slot()  # a new connection in a free slot (the pool holds no idle one)
            except Exception:  # closed meanwhile
                break
            if getattr(conn, "sock", None) is not None:  # a request's connection came back meanwhile
                pool._put_conn(conn)
                break
            taken.append(conn)
        w.pending += len(taken)
        w.timeout = connect_timeout
    return taken


def connect_spare(pool: Any, conn: Any, connect_timeout: float) -> bool:
    """Open ``conn`` (from :func:`take_spares`): TCP connect and TLS handshake, verified as every connection is,
    without a request; blocking. It then goes back to the pool, idle. False when it failed (the requests then
    meet the failure again and report it).

    Args:
        pool: The pool ``conn`` came from.
        conn: The connection.
        connect_timeout: Seconds it may take (the requests' own connect timeout).
    """
    w: Warming = pool.warming
    try:
        conn.timeout = connect_timeout
        conn.connect()
    except Exception as exc:  # whatever it is, the requests meet it again and report it
        log.debug("opening a spare connection to %s failed: %s", getattr(pool, "host", "?"), exc)
        give_back(pool, conn, exc)
        return False
    with w.cond:
        w.error = None
    pool._put_conn(conn)
    with w.cond:
        w.pending -= 1
        w.cond.notify_all()
    return True


def give_back(pool: Any, conn: Any, error: BaseException | None = None) -> None:
    """Close a connection from :func:`take_spares` unused and give its slot back (empty: a waiting request must
    not take it for a connection); ``error`` is why, for the requests waiting for it."""
    w: Warming = pool.warming
    conn.close()
    pool._put_conn(None)
    with w.cond:
        if error is not None:
            w.error = error
        w.pending -= 1
        w.cond.notify_all()


def make_pool_manager(settings: DirectSettings, maxsize: int, stats: PoolStats) -> PoolManager:
    """The urllib3 pool manager for :mod:`.transport`'s settings: the arguments ``kubernetes``' REST client gives
    it (``cert_reqs``, CA, client certificate, ``server_hostname`` for ``tls-server-name``, no urllib3 retries, one
    pool of ``maxsize`` connections per host), with the counting pool classes and one shared TLS context."""
    pool_args: dict[str, Any] = {
        "cert_reqs": ssl.CERT_REQUIRED if settings.verify else ssl.CERT_NONE,
        "ca_certs": settings.ca_file,
        "cert_file": settings.cert_file,
        "key_file": settings.key_file,
        "ca_cert_data": settings.ca_data,
        "retries": False,
        "maxsize": maxsize,
    }
    if settings.server_name:
        pool_args["server_hostname"] = settings.server_name
    manager = PoolManager(**pool_args)
    manager.pool_classes_by_scheme = counting_pool_classes(stats)
    share_ssl_context(manager.connection_pool_kw)
    return manager


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
            shutdown_connection(conn)

    def fire(self) -> None:
        """The limit passed: shut the request's connections down (again: one may have connected since)."""
        with self._lock:
            if self._done:
                return
            self.fired = True
            conns = list(self._conns)
        for conn in conns:
            shutdown_connection(conn)

    def expire(self) -> None:
        """End the request now (its client is closing): fired here, so the request's failure reads as this
        deadline's and not as the connection the close cut, then again by the watchdog while the request runs (a
        connection it opens meanwhile has no socket to shut down yet)."""
        with self._lock:
            if self._done:
                return
            self.at = time.monotonic()
        self.fire()
        _WATCHDOG.add(self)

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


def shutdown_connection(conn: Any) -> None:
    """Shut ``conn``'s socket down both ways (if it has one), so a read blocked on it in another thread ends now."""
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
        self._linger_until = 0.0  # idle, the thread stays until then (requests expected: :meth:`expect`)

    def add(self, d: Deadline) -> None:
        with self._cond:
            if d.done:
                # Finished already: Deadline.expire fires before adding, and the request it ends may finish (and
                # discard) in between; added now it would never be discarded and keep the thread up for good.
                return
            self._active.add(d)
            self._start_locked()
            self._cond.notify()

    def expect(self, within: float) -> None:
        """Requests are expected within ``within`` seconds: have the thread running by then.

        A thread's start waits for the new thread to run; started by a context's first request, that wait was
        on the cold top level's path (0.1-2.8 ms traced, the burst's thread waiting for it before sending).
        """
        with self._cond:
            self._linger_until = max(self._linger_until, time.monotonic() + within)
            self._start_locked()

    def _start_locked(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kube9-deadlines", daemon=True)
            self._thread.start()

    def discard(self, d: Deadline) -> None:
        with self._cond:
            self._active.discard(d)
            if not self._active:
                self._cond.notify()  # the thread may be waiting for this deadline: let it go idle instead

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._active:
                    # Idle: linger a moment for the next request (longer when requests are expected), then end
                    # (no thread outlives a closed app's last request by more than this).
                    self._cond.wait(max(self.IDLE, self._linger_until - time.monotonic()))
                    if not self._active:
                        if time.monotonic() < self._linger_until:
                            continue  # woken early (a request came and went): requests are still expected
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


def expect_requests(within: float) -> None:
    """Requests with deadlines are expected within ``within`` seconds (a context being prepared): the watchdog's
    thread is started now rather than by the first of them (see :meth:`_Watchdog.expect`)."""
    _WATCHDOG.expect(within)


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
