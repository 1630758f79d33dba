"""Port forwarding to pods and Services over WebSocket (Qt-free).

Protocol (kubelet's WebSocket port-forward, ``v4.channel.k8s.io`` or ``portforward.k8s.io`` as the server
offers): one WebSocket per forwarded TCP connection, ``GET .../pods/{pod}/portforward?ports=P``; channel 0 carries
the data, channel 1 errors, and the first message on each starts with the port number (uint16 little-endian).

A :class:`PortForward` listens on ``127.0.0.1`` (another address only when the user typed one; the command warns),
on the given local port or a free one (0). Every accepted connection gets its own WebSocket and two pumping
threads; a failing connection is counted and reported but the forward keeps listening. A watcher checks the pod:
when it goes away a pod forward stops and says so, a Service forward re-resolves to another ready pod (the spec
and its resolution as kubectl does it: ``kube/forward_target.py``). :data:`FORWARDS` holds every forward of the
process; ``stop_all`` runs at quit.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.forward_target import ForwardSpec, Target, web_scheme
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo
from kube9_desktop.kube.wschannel import ChannelSocket, open_channel

if TYPE_CHECKING:  # types only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    from kube9_desktop.kube.client import ContextClient

log = logging.getLogger(__name__)

PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
DATA, ERROR = 0, 1
_BUF = 256 * 1024
#: Messages read from the WebSocket and not yet written to the local connection (each <= 64 KiB from kubelet).
_AHEAD = 64
#: A send that takes what the socket has room for and does not wait (POSIX; elsewhere every message goes through
#: the writer thread).
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


class ForwardState(StrEnum):
    """Where a forward is in its life."""

    STARTING = "starting"
    ACTIVE = "forwarding"
    RESOLVING = "re-resolving"
    FAILED = "failed"
    STOPPED = "stopped"


class PortForward:
    """One forward: a listening socket and a WebSocket per accepted connection.

    Args:
        client: The context's client.
        spec: What to forward.
        on_change: Called (from worker threads) whenever state or counters change; keep it cheap.
        poll_interval: Seconds between checks that the pod still exists.

    Attributes:
        id: Unique in the process.
        state: :class:`ForwardState`.
        message: What the user should read about the state ("pod api-1 was deleted").
        pod: The pod currently forwarded to.
        pod_port: Its port.
        local_port: The bound local port (once listening).
        active: Open connections now.
        total: Connections accepted.
        failed: Connections that failed.
        bytes_in: Bytes from the pod to local clients.
        bytes_out: Bytes from local clients to the pod.
        http: Whether the target port looks like HTTP (named ``http``/``https`` or 80/8080/443/8443).
        scheme: ``http`` or ``https`` for such a port (the URL Open in browser opens), else "".
    """

    _ids = itertools.count(1)

    def __init__(
        self,
        client: ContextClient,
        spec: ForwardSpec,
        on_change: Callable[[PortForward], None] | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        self.client, self.spec, self.on_change, self.poll_interval = client, spec, on_change, poll_interval
        self.id = next(self._ids)
        self.state = ForwardState.STARTING
        self.message = ""
        self.error: KubeError | None = None
        self.pod = ""
        self.pod_port = 0
        self.local_port = 0
        self.active = self.total = self.failed = 0
        self.bytes_in = self.bytes_out = 0
        self._told = time.monotonic()  # when the views were last told of bytes written (see _wrote)
        self.http = False
        self.scheme = ""  # "http" or "https" when http
        self.last_error = ""
        self._target = Target(client, spec)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._listener: socket.socket | None = None
        self._conns: set[tuple[socket.socket, ChannelSocket | None]] = set()
        self._threads: set[threading.Thread] = set()
        self._main = threading.Thread(target=self._run, name=f"forward-{spec.name}", daemon=True)

    # -- public -----------------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` once listening."""
        host = self.spec.address if ":" not in self.spec.address else f"[{self.spec.address}]"
        return f"{host}:{self.local_port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (``https://`` for a TLS port; for Open in browser)."""
        host = "127.0.0.1" if self.spec.address in ("0.0.0.0", "::") else self.address.rsplit(":", 1)[0]
        return f"{self.scheme or 'http'}://{host}:{self.local_port}/"

    def describe(self) -> str:
        """``127.0.0.1:5000 -> pod/api-1:8080`` (service: ``svc/api:80 -> pod/api-1:8080``)."""
        via = f" (svc/{self.spec.name}:{self.spec.remote_port})" if self.spec.kind == "services" else ""
        return f"{self.address} -> pod/{self.pod or '?'}:{self.pod_port or self.spec.remote_port}{via}"

    def start(self) -> PortForward:
        """Resolves, binds and accepts in background threads."""
        FORWARDS.add(self)
        self._main.start()
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Waits until listening or failed; True when listening."""
        self._ready.wait(timeout)
        return self.state in (ForwardState.ACTIVE, ForwardState.RESOLVING)

    def stop(self, message: str = "stopped") -> None:
        """Stops listening and closes every connection (idempotent)."""
        self._stop.set()
        with self._lock:
            listener, self._listener = self._listener, None
            conns = list(self._conns)
        if listener is not None:
            # shutdown() wakes a thread blocked in accept() (close() alone does not, on Linux).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                listener.close()
        for tcp, ws in conns:
            with contextlib.suppress(OSError):
                tcp.shutdown(socket.SHUT_RDWR)
            if ws is not None:
                ws.close()
        if self.state not in (ForwardState.FAILED,):
            self._set(ForwardState.STOPPED, message)
        self._ready.set()
        FORWARDS.changed()

    def join(self, timeout: float = 5.0) -> None:
        """Waits for the forward's threads to end (after ``stop``)."""
        end = time.monotonic() + timeout
        self._main.join(max(0.0, end - time.monotonic()))
        for t in list(self._threads):
            t.join(max(0.0, end - time.monotonic()))

    # -- internals --------------------------------------------------------------------------------------------
    def _set(self, state: ForwardState, message: str = "") -> None:
        self.state, self.message = state, message
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:
                log.exception("forward on_change failed")

    def _spawn(self, fn: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=self._tracked, args=(fn, *args), daemon=True)
        with self._lock:
            self._threads.add(t)
        t.start()

    def _tracked(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _run(self) -> None:
        try:
            self.pod, self.pod_port, pod = self._target.resolve()
        except KubeError as exc:
            self.error = exc
            self._set(ForwardState.FAILED, exc.one_line())
            self._ready.set()
            return
        self.http = self._looks_http(pod)
        try:
            listener = socket.socket(socket.AF_INET6 if ":" in self.spec.address else socket.AF_INET)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.spec.address, self.spec.local_port))
            listener.listen(128)
        except OSError as exc:
            self.error = KubeError(
                ErrorKind.INVALID,
                "Cannot listen",
                f"Cannot listen on {self.spec.address}:{self.spec.local_port} ({exc.strerror or exc}).",
                hint="Pick another local port, or 0 for a free one.",
                context=self.spec.context,
            )
            self._set(ForwardState.FAILED, self.error.one_line())
            self._ready.set()
            return
        self.local_port = listener.getsockname()[1]
        with self._lock:
            if self._stop.is_set():
                listener.close()
                self._ready.set()
                return
            self._listener = listener
        self._set(ForwardState.ACTIVE, "")
        self._ready.set()
        self._spawn(self._watch)
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                break
            if self._stop.is_set():
                conn.close()
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve, conn)

    def _looks_http(self, pod: dict[str, Any]) -> bool:
        self.scheme = web_scheme(pod, self.pod_port)
        return bool(self.scheme)

    def _watch(self) -> None:
        """Notices a deleted pod even when no connection is open."""
        while not self._stop.wait(self.poll_interval):
            pod = self.pod
            if self.state is ForwardState.RESOLVING or self._target.pod_exists(pod) is False:
                self._pod_gone(pod)

    def _pod_gone(self, pod: str) -> None:
        with self._lock:
            if self._stop.is_set() or (pod != self.pod and self.state is ForwardState.ACTIVE):
                return
        if self.spec.kind == "pods":
            self.error = KubeError(
                ErrorKind.NOT_FOUND,
                "Pod deleted",
                f"Pod {pod} was deleted; the forward on {self.address} stopped.",
                hint="Forward to its replacement (or forward its Service, which follows new pods).",
                context=self.spec.context,
            )
            self.state = ForwardState.FAILED
            self.message = self.error.one_line()
            self.stop()
            self._changed()
            return
        self._set(ForwardState.RESOLVING, f"pod {pod} went away; looking for another ready pod")
        try:
            new_pod, port, obj = self._target.resolve(avoid=pod)
        except KubeError as exc:
            self.message = f"pod {pod} went away; {exc.one_line()} (retrying)"
            self._changed()
            return
        self.pod, self.pod_port = new_pod, port
        self.http = self._looks_http(obj)
        self._set(ForwardState.ACTIVE, f"re-resolved to pod {new_pod} (pod {pod} went away)")

    def _count(self, **delta: int) -> None:
        with self._lock:
            for k, v in delta.items():
                setattr(self, k, getattr(self, k) + v)
        self._changed()

    def _serve(self, conn: socket.socket) -> None:
        """One local connection ↔ one WebSocket."""
        pod, port = self.pod, self.pod_port
        self._count(active=1, total=1)
        entry: tuple[socket.socket, ChannelSocket | None] = (conn, None)
        ws: ChannelSocket | None = None
        try:
            with self._lock:
                self._conns.add(entry)
            s = self.spec
            path = f"/api/v1/namespaces/{segment(s.namespace)}/pods/{segment(pod)}/portforward"
            info = RequestInfo(verb="create", resource="pods/portforward", namespace=s.namespace, name=pod)
            try:
                ws = open_channel(self.client, path, [("ports", str(port))], PROTOCOLS, info=info, bulk=True)
            except KubeError as exc:
                self._conn_failed(exc.one_line())
                if exc.kind is ErrorKind.NOT_FOUND:
                    self._pod_gone(pod)
                return
            with self._lock:
                self._conns.discard(entry)
                entry = (conn, ws)
                self._conns.add(entry)
                stopped = self._stop.is_set()
            if stopped:
                return
            self._spawn(self._upstream, conn, ws)
            self._downstream(conn, ws, pod)
        finally:
            with self._lock:
                self._conns.discard(entry)
            if ws is not None:
                ws.close()
            # shutdown() sends the FIN now and wakes the upstream thread blocked in recv() on this socket.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
            self._count(active=-1)

    def _upstream(self, conn: socket.socket, ws: ChannelSocket) -> None:
        """Local → pod."""
        try:
            while True:
                data = conn.recv(_BUF)
                if not data or not ws.send(DATA, data):
                    break
                with self._lock:
                    self.bytes_out += len(data)
        except OSError:
            pass
        # The protocol has no half-close: the local side ending ends this connection.
        ws.close()

    def _downstream(self, conn: socket.socket, ws: ChannelSocket, pod: str) -> None:
        """Pod → local; the first message of each channel starts with the port number.

        This thread reads the WebSocket and writes what it read to the local connection itself while the local
        socket takes it at once (a send that does not wait); what the socket does not take goes to a writer thread
        of its own (:meth:`_write_local`), up to :data:`_AHEAD` messages behind, and so does everything after it
        until the writer has caught up (the order of the bytes is kept). With one thread doing both and waiting,
        reading stopped whenever the local reader was slow to take a write, and the server stopped sending
        meanwhile; kubectl's forward reads and writes in goroutines of their own. Handing every message to the
        writer cost a queue and a thread switch per 64 KiB, which a reader in the same process felt (measured in
        docs/performance.md).
        """
        prefixed = {DATA: False, ERROR: False}
        out: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
        # Messages handed to the writer, and how many of them it has written: equal, nothing is pending there and
        # this thread may write the next message itself. Each is changed by one thread only.
        progress = [0, 0]
        writer = threading.Thread(target=self._tracked, args=(self._write_local, conn, ws, out, progress),
                                  daemon=True, name="kube9-forward-write")
        with self._lock:
            self._threads.add(writer)
        writer.start()
        try:
            while (msg := ws.recv()) is not None:
                ch, data = msg
                if ch in prefixed and not prefixed[ch]:
                    prefixed[ch] = True
                    data = data[2:]
                if not data:
                    continue
                if ch == DATA:
                    if _DONTWAIT and progress[0] == progress[1]:
                        try:
                            sent = conn.send(data, _DONTWAIT)
                        except BlockingIOError:
                            sent = 0
                        except OSError:
                            return  # the local side went away
                        self._wrote(sent)
                        if sent == len(data):
                            continue
                        data = data[sent:]
                    progress[0] += 1
                    while True:
                        try:
                            out.put(data, timeout=0.1)
                            break
                        except queue.Full:
                            if not writer.is_alive():
                                return  # the local side went away
                elif ch == ERROR:
                    text = data.decode("utf-8", "replace").strip()
                    self._conn_failed(text)
                    if "pod not found" in text:
                        self._pod_gone(pod)
                    return
        finally:
            # What was read is written before the connection is closed; a writer that failed takes no more.
            while writer.is_alive():
                try:
                    out.put(None, timeout=0.1)
                    break
                except queue.Full:
                    continue
            writer.join()

    def _write_local(self, conn: socket.socket, ws: ChannelSocket, out: queue.Queue[bytes | None],
                     progress: list[int]) -> None:
        """The local side of :meth:`_downstream`: writes what it was handed until None, counting each message
        written in ``progress[1]``."""
        while (data := out.get()) is not None:
            try:
                conn.sendall(data)
            except OSError:
                ws.close()  # wakes the reading thread, which then ends this connection
                return
            self._wrote(len(data))
            progress[1] += 1

    def _wrote(self, n: int) -> None:
        """``n`` bytes went to a local connection: counted, and the views told at most four times a second."""
        with self._lock:
            self.bytes_in += n
            now = time.monotonic()
            tell = now - self._told > 0.25
            if tell:
                self._told = now
        if tell:
            self._changed()

    def _conn_failed(self, text: str) -> None:
        log.info("port-forward %s: connection failed: %s", self.spec.name, text)
        with self._lock:
            self.failed += 1
            self.last_error = text
        self._changed()


class Forwards:
    """Every forward of the process (the panel lists them; quitting stops them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, PortForward] = {}
        self.listeners: list[Callable[[], None]] = []

    def add(self, fwd: PortForward) -> None:
        with self._lock:
            self._items[fwd.id] = fwd
        self._notify()

    def remove(self, fwd: PortForward) -> None:
        """Stops the forward and forgets it (stopped and failed forwards stay listed until removed)."""
        fwd.stop()
        with self._lock:
            gone = self._items.pop(fwd.id, None)
        if gone is not None:
            self._notify()

    def changed(self) -> None:
        """A forward changed state (listeners refresh)."""
        self._notify()

    def all(self) -> list[PortForward]:
        """Every forward (running, stopped or failed), oldest first."""
        with self._lock:
            return list(self._items.values())

    def stop_all(self, timeout: float = 3.0) -> None:
        """Stops every forward and waits for their threads (app quit): nothing stays listening."""
        items = self.all()
        for f in items:
            if f.state not in (ForwardState.STOPPED, ForwardState.FAILED):
                f.stop("app quit")
        for f in items:
            f.join(timeout)

    def _notify(self) -> None:
        for fn in list(self.listeners):
            with contextlib.suppress(Exception):
                fn()


FORWARDS = Forwards()
