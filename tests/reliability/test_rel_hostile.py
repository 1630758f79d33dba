"""Hostile and odd servers over real sockets: trickling answers, huge bodies, silent listeners, wrong schemes.

Each server here is a few lines of socket code in a thread (the sim cannot misbehave at the byte level), driven
through the same KubeService the window uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from reliability_helpers import error_rows, make_model, object_names, sim_config

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.sim.certs import generate_pki
from kube9_desktop.sim.process import SimProcess

Handler = Callable[[socket.socket], None]


class SocketServer:
    """A loopback TCP listener running ``handler(conn)`` in a thread per connection.

    Attributes:
        port: The listening port.
        sent: Bytes the handlers reported sending (``count``).
        accepted: Connections accepted.
    """

    def __init__(self, handler: Handler | None, accept: bool = True) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.accepted = 0
        self._handler = handler
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if accept:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    def count(self, n: int) -> None:
        self.sent += n

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self._conns.append(conn)
            if self._handler is not None:
                threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        assert self._handler is not None
        try:
            self._handler(conn)
        except OSError:
            pass  # the client gave up: what these tests want

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for c in self._conns:
            c.close()
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    """Read one request's head (and ignore any body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def socket_server() -> Iterator[Callable[..., SocketServer]]:
    made: list[SocketServer] = []

    def make(handler: Handler | None, accept: bool = True) -> SocketServer:
        s = SocketServer(handler, accept)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def kubeconfig_for(tmp_path: Path) -> Callable[..., str]:
    """``kubeconfig_for(server, user=None, cluster_extra=None)``: a one-context ("x") kubeconfig file."""

    def write(server: str, user: dict[str, Any] | None = None, **cluster: Any) -> str:
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "x",
               "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
               "users": [{"name": "u", "user": user or {"token": "hostile-test"}}],
               "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}
        p = tmp_path / f"kubeconfig-{len(list(tmp_path.iterdir()))}.yaml"
        p.write_text(yaml.safe_dump(cfg))
        return str(p)

    return write


def fail_of(run: Any, coro: Any, timeout: float = 30) -> tuple[KubeError, float]:
    """Run ``coro`` expecting a KubeError; returns it and the seconds it took."""
    t0 = time.monotonic()
    with pytest.raises(KubeError) as ei:
        run(coro, timeout)
    return ei.value, time.monotonic() - t0


# -- item 3: a total deadline per request, a maximum response size ----------------------------------------------


def _trickle_body(server: list[SocketServer]) -> Handler:
    def handler(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            if server[0].stopped:
                return
            conn.sendall(b" ")
            time.sleep(0.25)

    return handler


def _trickle_head(server: list[SocketServer]) -> Handler:
    def handler(conn: socket.socket) -> None:
        read_request(conn)
        for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            if server[0].stopped:
                return
            conn.sendall(bytes([b]))
            time.sleep(0.25)

    return handler


@pytest.mark.parametrize("make_handler", [_trickle_body, _trickle_head], ids=["body", "headers"])
def test_a_trickling_server_hits_the_request_deadline(make_handler: Callable[..., Handler],
                                                      socket_server: Callable[..., SocketServer],
                                                      kubeconfig_for: Callable[..., str],
                                                      services: Callable[..., Any], run: Any) -> None:
    holder: list[SocketServer] = []
    srv = socket_server(make_handler(holder))
    holder.append(srv)
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), read_timeout=5.0, request_deadline=1.5,
                   retries=0)
    for coro in (svc.version("x"), svc.list_all(ListRef("x", "nodes"))):
        err, took = fail_of(run, coro)
        assert err.kind is ErrorKind.TIMEOUT, err
        assert "1.5 s" in err.message and "deadline" in err.message, err.message
        assert 1.4 < took < 4.0, took


def test_a_trickling_server_is_cut_off_by_the_deadline_in_the_tree_too(socket_server: Callable[..., SocketServer],
                                                                       kubeconfig_for: Callable[..., str],
                                                                       services: Callable[..., Any], run: Any) -> None:
    """The top level's requests go out together (one thread reading several connections): when the deadline cut
    them off, what had trickled in so far was parsed as the whole answer, and the tree said "not valid JSON" and
    "version unknown" instead of naming the deadline."""
    holder: list[SocketServer] = []
    srv = socket_server(_trickle_body(holder))
    holder.append(srv)
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), read_timeout=5.0, request_deadline=1.5,
                   retries=0)
    t0 = time.monotonic()
    svc.prepare("x")  # as the window and --print-tree do: the top level's requests then go out together
    model = make_model(svc, "x")
    run(model.wait_idle(), 30)
    assert time.monotonic() - t0 < 10
    root = model.context_node()
    assert root is not None
    shown = [n for n in root.walk() if n.type is NodeType.ERROR and n.error is not None]
    assert shown, [n.label for n in root.walk()]
    for row in shown:
        assert row.error is not None and row.error.kind is ErrorKind.TIMEOUT, row.error
        assert "1.5 s (the request deadline)" in row.error.message, row.error.message
    assert root.status != "version unknown"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_response_larger_than_the_maximum_is_refused(framing: str, socket_server: Callable[..., SocketServer],
                                                       kubeconfig_for: Callable[..., str],
                                                       services: Callable[..., Any], run: Any) -> None:
    holder: list[SocketServer] = []

    def handler(conn: socket.socket) -> None:
        read_request(conn)
        chunk = b"[" + b"0," * 32767 + b"0"
        if framing == "chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (200 * 1024 * 1024))
            frame = chunk
        while not holder[0].stopped and holder[0].sent < 200 * 1024 * 1024:
            conn.sendall(frame)
            holder[0].count(len(frame))

    srv = socket_server(handler)
    holder.append(srv)
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), max_response_bytes=1024 * 1024, retries=0)
    err, took = fail_of(run, svc.list_all(ListRef("x", "nodes")))
    assert err.kind is ErrorKind.PROTOCOL and err.reason == "too_large", err
    assert "too large" in err.message and "1 MB" in err.message, err.message
    assert "maximum response size" in err.hint.lower()
    # The rest was not read: a few socket buffers past the limit at most, not 200 MB.
    assert srv.sent < 16 * 1024 * 1024, srv.sent
    assert took < 5


# -- item 13: which timeout fired, with its value -------------------------------------------------------------


def test_a_silent_tls_listener_is_reported_as_a_connect_timeout(socket_server: Callable[..., SocketServer],
                                                               kubeconfig_for: Callable[..., str],
                                                               services: Callable[..., Any], run: Any) -> None:
    # Completes TCP handshakes (the kernel's backlog) but never accepts, so the TLS handshake gets no answer.
    srv = socket_server(None, accept=False)
    svc = services(kubeconfig_for(f"https://127.0.0.1:{srv.port}", **{"insecure-skip-tls-verify": True}),
                   connect_timeout=1.0, read_timeout=30.0, retries=0)
    err, took = fail_of(run, svc.version("x"))
    assert err.kind is ErrorKind.TIMEOUT
    assert "handshake" in err.message and "connect timeout (1 s)" in err.message, err.message
    assert "30 s" not in err.message and "read timeout" not in err.message + err.hint
    assert "connect timeout" in err.hint
    assert took < 5


def test_a_full_listen_backlog_is_reported_as_a_tcp_connect_timeout(kubeconfig_for: Callable[..., str],
                                                                    services: Callable[..., Any], run: Any) -> None:
    # A listener that never accepts, its backlog filled: the kernel drops further SYNs, so connect() times out.
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    try:
        svc = services(kubeconfig_for(f"https://127.0.0.1:{port}", **{"insecure-skip-tls-verify": True}),
                       connect_timeout=1.0, read_timeout=30.0, retries=0)
        err, took = fail_of(run, svc.version("x"))
    finally:
        for c in fillers:
            c.close()
        lst.close()
    assert err.kind is ErrorKind.TIMEOUT
    assert "no connection within the connect timeout (1 s)" in err.message, err.message
    assert "30 s" not in err.message and "read timeout" not in err.message + err.hint
    assert took < 5


def _context_threads(context: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith((f"kube9-{context}_", f"kube9-burst-{context}"))]


def test_closing_the_service_ends_its_requests_to_a_silent_server_at_once(
        socket_server: Callable[..., SocketServer], kubeconfig_for: Callable[..., str],
        services: Callable[..., Any], run: Any) -> None:
    """A server that accepts and never answers: closing the window (the service) while the top level waits must
    end its requests then, and make no new ones. The requests sent together were each made again after the close,
    one after another, every one waiting out the read timeout: the app's exit hung 25 s at a 5 s read timeout."""
    srv = socket_server(None)  # accepts, reads nothing, answers nothing
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), read_timeout=2.0, retries=0)
    svc.prepare("x")
    model = make_model(svc, "x")

    async def settle() -> None:
        end = time.monotonic() + 10
        while srv.accepted < 6 and time.monotonic() < end:  # the version and the top level's lists
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)

    run(settle())
    accepted = srv.accepted
    assert accepted >= 6 and _context_threads("x"), (accepted, _context_threads("x"))
    t0 = time.monotonic()
    run(model.shutdown())
    run(svc.aclose())
    while _context_threads("x") and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    took = time.monotonic() - t0
    assert not _context_threads("x"), _context_threads("x")
    assert took < 1.5, f"the requests outlived the close by {took:.1f} s"
    assert srv.accepted == accepted, "new requests were made after the close"


KINDS_AT_ONCE = ("nodes", "namespaces", "persistentvolumes", "storageclasses")


def test_closing_the_service_during_lists_from_a_silent_server_ends_them_at_once(
        socket_server: Callable[..., SocketServer], kubeconfig_for: Callable[..., str],
        services: Callable[..., Any], run: Any) -> None:
    """One list in flight (a worker's request, not sent together with others) when the service closes: the close
    cut its connection, and the cut read as a plain-HTTP request to a TLS port, whose probe (a TLS handshake with
    the silent server) kept the worker, and the app's exit, waiting the connect timeout."""
    srv = socket_server(None)
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), read_timeout=30.0, connect_timeout=5.0,
                   retries=0)

    async def list_then_close() -> float:
        task = asyncio.gather(*(svc.list_all(ListRef("x", kind)) for kind in KINDS_AT_ONCE), return_exceptions=True)
        end = time.monotonic() + 10
        while srv.accepted < len(KINDS_AT_ONCE) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the request is sent and waits for its answer
        t0 = time.monotonic()
        await svc.aclose()
        with contextlib.suppress(KubeError, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        return t0

    t0 = run(list_then_close(), 20)
    while _context_threads("x") and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    took = time.monotonic() - t0
    assert not _context_threads("x") and took < 1.5, f"the worker outlived the close by {took:.1f} s"
    assert srv.accepted == len(KINDS_AT_ONCE), "a TLS probe or a new request after the close"


def test_a_server_that_never_answers_names_the_read_timeout(socket_server: Callable[..., SocketServer],
                                                           kubeconfig_for: Callable[..., str],
                                                           services: Callable[..., Any], run: Any) -> None:
    srv = socket_server(lambda conn: (read_request(conn), time.sleep(10)))
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), connect_timeout=5.0, read_timeout=1.0,
                   retries=0)
    err, took = fail_of(run, svc.version("x"))
    assert err.kind is ErrorKind.TIMEOUT
    assert "within 1 s (the read timeout)" in err.message, err.message
    assert "5 s" not in err.message and "connect" not in err.message
    assert took < 5


# -- item 7: a long Retry-After is not waited out -------------------------------------------------------------


def test_429_asking_for_an_hour_is_an_error_at_once_that_says_so(fsim: SimProcess, services: Callable[..., Any],
                                                                run: Any) -> None:
    failures: list[Any] = []
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 429, "retry_after": 3600}])
    fsim.reset_stats()
    try:
        t0 = time.monotonic()
        model = make_model(services(fsim.kubeconfig), "sim-admin", failures)
        run(model.wait_idle(), 20)
        took = time.monotonic() - t0
        by_path = fsim.stats()["by_path"]
    finally:
        fsim.clear_faults()
    rows = error_rows(model.find("Nodes"))
    assert rows and rows[0].error is not None and rows[0].error.kind is ErrorKind.THROTTLED
    assert "asks to retry in 1 h" in rows[0].error.message, rows[0].error.message
    assert took < 5, took
    # Each request asked once, none retried into the hour (the context's warm-up list and the Nodes row may each
    # have asked: 4 per request would be the client's own retries).
    assert by_path.get("/api/v1/nodes", 0) <= 2, by_path
    assert object_names(model.find("Namespaces")), "the rest of the context loaded"


def test_a_short_retry_after_is_still_waited_out_and_named_when_it_persists(
        fsim: SimProcess, services: Callable[..., Any], run: Any) -> None:
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 429, "retry_after": 0.3}])
    fsim.reset_stats()
    try:
        svc = services(fsim.kubeconfig, retries=2)
        t0 = time.monotonic()
        err, _ = fail_of(run, svc.list_all(ListRef("sim-admin", "nodes")))
        took = time.monotonic() - t0
        by_path = fsim.stats()["by_path"]
    finally:
        fsim.clear_faults()
    assert by_path.get("/api/v1/nodes") == 3, by_path
    assert took >= 0.55
    assert err.kind is ErrorKind.THROTTLED and "asks to retry in 1 s" in err.message


# -- item 16: garbage in /version alone ------------------------------------------------------------------------


def test_garbage_in_version_alone_shows_the_tree_with_the_version_unknown(
        fsim: SimProcess, services: Callable[..., Any], run: Any) -> None:
    failures: list[Any] = []
    fsim.set_faults([{"path": "^/version$", "mode": "garbage"}])
    try:
        model = make_model(services(fsim.kubeconfig), "sim-admin", failures)
        run(model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    root = model.context_node()
    assert root is not None and root.state is LoadState.LOADED, [c.label for c in root.children]
    assert root.status == "version unknown"
    assert object_names(model.find("Nodes")) and object_names(model.find("Namespaces"))
    assert not failures


# -- item 14: a server address without a scheme, http:// to a TLS port, tokens no header can carry --------------


def _sim_cluster(sim: SimProcess) -> dict[str, Any]:
    return next(c["cluster"] for c in sim_config(sim)["clusters"] if c["name"] == "kube9-sim")


def test_a_server_address_without_a_scheme_is_named_on_the_first_request(
        sim: SimProcess, services: Callable[..., Any], write_kubeconfig: Callable[..., str], run: Any) -> None:
    # kubectl (v1.32) sends plain HTTP to such an address too, and fails after 30 s of retries.
    bare = _sim_cluster(sim)["server"].removeprefix("https://")
    svc = services(write_kubeconfig(sim, cluster={"server": bare}))
    err, took = fail_of(run, svc.list_all(ListRef("test", "nodes")))
    assert err.kind is ErrorKind.KUBECONFIG, err
    assert "has no scheme" in err.message and bare in err.message and "speaks TLS" in err.message, err.message
    assert f"https://{bare}" in err.hint
    assert svc.stats("test").requests == 1, "one request was enough to tell"
    assert took < 5


def test_http_to_a_tls_port_is_named_on_the_first_request(sim: SimProcess, services: Callable[..., Any],
                                                          write_kubeconfig: Callable[..., str], run: Any) -> None:
    http = "http://" + _sim_cluster(sim)["server"].removeprefix("https://")
    svc = services(write_kubeconfig(sim, cluster={"server": http}))
    err, took = fail_of(run, svc.list_all(ListRef("test", "nodes")))
    assert err.kind is ErrorKind.KUBECONFIG, err
    assert "speaks TLS" in err.message and http in err.message
    assert "https://" in err.hint
    assert svc.stats("test").requests == 1, "one request was enough to tell"
    assert took < 5


def test_go_style_400_for_http_on_a_tls_port(socket_server: Callable[..., SocketServer],
                                             kubeconfig_for: Callable[..., str], services: Callable[..., Any],
                                             run: Any) -> None:
    """kube-apiserver (Go) answers plain HTTP on its TLS port with a 400 rather than closing the connection."""
    pki = generate_pki()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as d:
        crt, key = Path(d, "s.crt"), Path(d, "s.key")
        crt.write_bytes(pki.server_cert)
        key.write_bytes(pki.server_key)
        ctx.load_cert_chain(str(crt), str(key))

    def handler(conn: socket.socket) -> None:
        if conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS ClientHello
            with ctx.wrap_socket(conn, server_side=True):
                return
        read_request(conn)
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
        conn.shutdown(socket.SHUT_RDWR)  # and closes the connection, as Go does

    srv = socket_server(handler)
    svc = services(kubeconfig_for(f"http://127.0.0.1:{srv.port}"), retries=0)
    err, _ = fail_of(run, svc.version("x"))
    assert err.kind is ErrorKind.KUBECONFIG and "speaks TLS" in err.message, err
    assert f"https://127.0.0.1:{srv.port}" in err.hint


@pytest.mark.parametrize(("suffix", "problem"), [("\nsecond-line", "a line break"),
                                                 ("\u20ac", "not Latin-1 (U+20AC)")], ids=["newline", "euro"])
def test_a_token_no_http_header_can_carry_is_a_kubeconfig_problem(suffix: str, problem: str, sim: SimProcess,
                                                                  services: Callable[..., Any],
                                                                  write_kubeconfig: Callable[..., str],
                                                                  run: Any) -> None:
    token = sim.admin_token() + suffix
    svc = services(write_kubeconfig(sim, user={"token": token}))
    err, _ = fail_of(run, svc.list_all(ListRef("test", "nodes")))
    assert err.kind is ErrorKind.KUBECONFIG, err
    assert "token" in err.message and problem in err.message, err.message
    assert sim.admin_token() not in repr(err)
    assert svc.stats("test").requests == 0
