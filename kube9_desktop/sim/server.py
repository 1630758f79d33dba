"""The HTTPS server of kube9-sim: routing, auth, lists/watches, faults and the /simz admin endpoints."""

from __future__ import annotations

import base64
import contextlib
import gc
import os
import queue
import random
import re
import select
import socket
import ssl
import tempfile
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import yaml

from kube9_desktop.sim import auth, proto, resources, tables
from kube9_desktop.sim.certs import Pki, generate_pki
from kube9_desktop.sim.churn import Churner
from kube9_desktop.sim.data import Generator
from kube9_desktop.sim.logs import pod_log
from kube9_desktop.sim.resources import BY_PATH, ResourceType
from kube9_desktop.sim.selectors import SelectorError, combine, parse_field_selector, parse_label_selector
from kube9_desktop.sim.store import Event, Obj, Store, TooOld

VERSION = {
    "major": "1",
    "minor": "19",
    "gitVersion": "v1.19.0",
    "gitCommit": "e19964183377d0ec2052d1f1fa930c4d7575bd50",
    "gitTreeState": "clean",
    "buildDate": "2020-08-26T14:23:04Z",
    "goVersion": "go1.15",
    "compiler": "gc",
    "platform": "linux/amd64",
}
READYZ_CHECKS = [
    "ping",
    "log",
    "etcd",
    "informer-sync",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/start-apiextensions-controllers",
    "poststarthook/crd-informer-synced",
    "poststarthook/bootstrap-controller",
    "poststarthook/rbac/bootstrap-roles",
    "shutdown",
]
EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)
# kube-apiserver's wording when it cannot offer a fresh token (etcd3 store: continueExpired).
EXPIRED_CONTINUE_NO_TOKEN = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter."
)
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
FAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "Timeout: request did not complete within the allotted timeout",
}
BOOKMARK_INTERVAL = 1.0


def status_body(
    code: int,
    message: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    """A ``Status`` object with kube-apiserver's field order."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata or {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return orjson.dumps(body)


def _go_escape(data: bytes) -> bytes:
    """Escapes <, > and & like Go's encoding/json (cells hold "<none>"), for byte-faithful Table rows."""
    if b"<" in data or b">" in data or b"&" in data:
        data = data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return data


def encode_continue(rv: int, start: str) -> str:
    """An opaque continue token shaped like kube-apiserver's (base64url JSON, no padding)."""
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_continue(token: str) -> tuple[int, str]:
    """Returns (rv, start key without the trailing NUL); raises ValueError when the token is not ours."""
    data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    if not isinstance(data, dict) or data.get("v") != "meta.k8s.io/v1" or not isinstance(data.get("rv"), int):
        raise ValueError("bad continue token")
    start = str(data.get("start", ""))
    if not start.endswith("\x00"):
        raise ValueError("bad continue token")
    return data["rv"], start[:-1]


class Fault:
    """One injected fault (see :meth:`from_dict` for the JSON shape)."""

    def __init__(
        self,
        path: str,
        status: int = 0,
        rate: float = 1.0,
        latency_ms: float = 0,
        retry_after: float | None = None,
        count: int | None = None,
        mode: str = "status",
    ) -> None:
        if mode not in ("status", "stall", "close", "garbage"):
            raise ValueError(f"unknown fault mode {mode!r}")
        self.path = path
        self.regex = re.compile(path)
        self.status = int(status)
        self.rate = float(rate)
        self.latency_ms = float(latency_ms)
        self.retry_after = retry_after
        self.count = count
        self.mode = mode
        self.applied = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fault:
        """Builds a fault from ``{"path", "status", "rate", "latency_ms", "retry_after", "count", "mode"}``."""
        return cls(
            str(d["path"]),
            int(d.get("status") or 0),
            float(d.get("rate", 1.0)),
            float(d.get("latency_ms") or 0),
            d.get("retry_after"),
            d.get("count"),
            str(d.get("mode", "status")),
        )

    @classmethod
    def from_spec(cls, spec: str) -> Fault:
        """Parses the CLI form ``PATH_REGEX:STATUS[:RATE]`` (the regex may itself contain colons)."""
        parts = spec.rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit():
            with contextlib.suppress(ValueError):
                return cls(parts[0], int(parts[1]), float(parts[2]))
        path, _, status = spec.rpartition(":")
        if not path or not status.isdigit():
            raise ValueError(f"bad fault spec {spec!r}; want PATH_REGEX:STATUS[:RATE]")
        return cls(path, int(status))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, plus how often it fired."""
        return {
            "path": self.path,
            "status": self.status,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "count": self.count,
            "mode": self.mode,
            "applied": self.applied,
        }


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    sim: SimServer

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # Like kube-apiserver (Go sets TCP_NODELAY): without it, headers and body written separately meet the
        # client's delayed ACK and every response waits ~40 ms (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Counted here, in the accept path, so even connections that fail the TLS handshake show up.
        self.sim.on_connect(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        self.sim.on_disconnect(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients vanishing mid-response (faults, dropped connections, kubectl timeouts) are normal here, so
        # tracebacks are only printed when debugging.
        if os.environ.get("KUBE9_SIM_DEBUG"):
            traceback.print_exc()


class Handler(BaseHTTPRequestHandler):
    """Handles one HTTP/1.1 connection (keep-alive) after wrapping it in TLS in the worker thread."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    raw_sock: socket.socket

    def setup(self) -> None:
        sim = self.server.sim
        self.raw_sock = self.request
        self.request.settimeout(30)
        # The TLS handshake runs here (worker thread), not in accept(), so a slow client cannot stall others.
        # wrap_socket() detaches the raw socket (its fd becomes -1), so from here on only the TLS socket is
        # usable for select/shutdown.
        self.request = sim.ssl_context.wrap_socket(self.request, server_side=True)
        self.request.settimeout(None)
        sim.on_tls(self.raw_sock, self.request)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with contextlib.suppress(OSError):
                self.request.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing --------------------------------------------------------------------------------------------
    def _start(
        self, code: int, ctype: str = "application/json", length: int | None = None, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response_only(code)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Date", self.date_time_string())
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def send_bytes(
        self, code: int, body: bytes, ctype: str = "application/json", extra: dict[str, str] | None = None
    ) -> None:
        """Writes a complete response."""
        self._start(code, ctype, len(body), extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, code: int, obj: Any) -> None:
        """Writes a JSON response."""
        self.send_bytes(code, orjson.dumps(obj))

    def send_status(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Writes a ``Status`` error."""
        self.send_bytes(code, status_body(code, message, reason, details, metadata), extra=extra)

    def parse_request(self) -> bool:
        self._body: bytes | None = None
        return super().parse_request()

    def read_body(self) -> bytes:
        """Reads the request body once (Content-Length only; clients here never chunk uploads).

        Every request path calls this before answering, even when it ignores the body, so that a keep-alive
        connection never sees a leftover body parsed as the next request.
        """
        if self._body is not None:
            return self._body
        n = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(n) if n else b""
        return self._body

    def client_gone(self) -> bool:
        """Whether the peer closed an otherwise idle connection (used by long-lived watches)."""
        try:
            readable, _, _ = select.select([self.request], [], [], 0)
            return bool(readable) and not self.request.recv(1)
        except (OSError, ValueError):
            return True

    def do_GET(self) -> None:
        self.server.sim.dispatch(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET


class SimServer:
    """An in-process kube9-sim.

    Args:
        nodes: Number of nodes.
        namespaces: Number of namespaces (default, kube-system, team-a, team-b, ...).
        pods: Exact total number of pods.
        seed: Seed for the generated content.
        port: TCP port on 127.0.0.1 (0 picks a free one).
        latency_ms: Latency added to every API response (not /simz).
        churn: Random pod changes per second.
        kubeconfig_out: Where to write the kubeconfig (default: a temporary file).
        faults: Initial faults.
    """

    def __init__(
        self,
        nodes: int = 5,
        namespaces: int = 12,
        pods: int = 2000,
        seed: int = 1,
        port: int = 0,
        latency_ms: float = 0,
        churn: float = 0.0,
        kubeconfig_out: str | None = None,
        faults: list[Fault] | None = None,
    ) -> None:
        self.nodes, self.namespaces, self.pods, self.seed = nodes, namespaces, pods, seed
        self.port = port
        self.latency_ms = latency_ms
        self.kubeconfig_path = kubeconfig_out or ""
        self.auth = auth.Authenticator()
        self.store = Store()
        self.faults: list[Fault] = list(faults or [])
        # Whether a 410 for an expired continue token carries a fresh rv:-1 token (modern kube-apiserver) or
        # none (older servers, some aggregated APIs), which forces clients to restart the list.
        self.offer_continue_token = True
        self.fault_lock = threading.Lock()
        self.stats_lock = threading.Lock()
        self.requests = 0
        self.connections = 0
        self.by_path: dict[str, int] = {}
        self.open_socks: dict[socket.socket, Any] = {}
        self.stopping = threading.Event()
        self.rng = random.Random(seed)
        self.churner = Churner(self, churn)
        self.pki: Pki | None = None
        self.ssl_context: ssl.SSLContext
        self.httpd: _HTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.down_port = 0
        self.generator: Generator | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> SimServer:
        """Generates the cluster, binds 127.0.0.1, writes the kubeconfig and serves in background threads."""
        self.pki = generate_pki()
        self.ssl_context = self._make_ssl_context(self.pki)
        self.generator = Generator(self.nodes, self.namespaces, self.pods, self.seed)
        # The build allocates millions of short-lived containers; with the cyclic GC running, its repeated
        # full collections over the growing store made 50,000 pods take 3x longer. Nothing here forms cycles.
        gc.disable()
        try:
            self.generator.build(self.store)
            self.store.finish_load()
        finally:
            gc.enable()
        gc.freeze()
        httpd = _HTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        httpd.sim = self
        httpd.server_bind()
        httpd.socket.listen(1024)
        self.httpd = httpd
        self.port = httpd.server_address[1]
        self.down_port = self._free_port()
        self.write_kubeconfig()
        self.thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="kube9-sim", daemon=True
        )
        self.thread.start()
        self.churner.start()
        return self

    def stop(self) -> None:
        """Stops serving, ends watches and closes every connection."""
        self.stopping.set()
        self.churner.stop()
        self.store.close_watchers()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        self.drop_connections()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
            return port

    def _make_ssl_context(self, pki: Pki) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, data in [("cert", pki.server_cert), ("key", pki.server_key), ("ca", pki.ca_cert)]:
                paths[name] = os.path.join(d, name)
                with open(paths[name], "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(paths["cert"], paths["key"])
            ctx.load_verify_locations(paths["ca"])
        # Optional client certs: token users send none, the sim-cert context sends CN=cert-admin.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        # No TLS 1.3 session tickets: neither kubectl (client-go keeps no session cache) nor urllib3 ever resumes
        # a session, so each ticket was pure per-connection cost (encrypt, send, parse on the client) on the cold
        # burst of parallel connections a tree load opens.
        ctx.num_tickets = 0
        return ctx

    def write_kubeconfig(self) -> None:
        """Writes the kubeconfig with the sim-admin/-cert/-viewer/-badtoken/-down contexts."""
        assert self.pki is not None
        if not self.kubeconfig_path:
            fd, self.kubeconfig_path = tempfile.mkstemp(prefix="kube9-sim-", suffix=".kubeconfig")
            os.close(fd)
        ca = base64.b64encode(self.pki.ca_cert).decode()

        def cluster(name: str, port: int) -> dict[str, Any]:
            return {"name": name, "cluster": {"server": f"https://127.0.0.1:{port}", "certificate-authority-data": ca}}

        def context(name: str, cluster_name: str, user: str, ns: str | None = None) -> dict[str, Any]:
            ctx: dict[str, Any] = {"cluster": cluster_name, "user": user}
            if ns:
                ctx["namespace"] = ns
            return {"name": name, "context": ctx}

        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "current-context": "sim-admin",
            "clusters": [cluster("kube9-sim", self.port), cluster("kube9-sim-down", self.down_port)],
            "users": [
                {"name": "sim-admin", "user": {"token": self.auth.admin_token}},
                {
                    "name": "sim-cert",
                    "user": {
                        "client-certificate-data": base64.b64encode(self.pki.client_cert).decode(),
                        "client-key-data": base64.b64encode(self.pki.client_key).decode(),
                    },
                },
                {"name": "sim-viewer", "user": {"token": self.auth.viewer_token}},
                {"name": "sim-badtoken", "user": {"token": self.auth.bad_token}},
            ],
            "contexts": [
                context("sim-admin", "kube9-sim", "sim-admin", "default"),
                context("sim-cert", "kube9-sim", "sim-cert", "default"),
                context("sim-viewer", "kube9-sim", "sim-viewer", "team-a"),
                context("sim-badtoken", "kube9-sim", "sim-badtoken", "default"),
                context("sim-down", "kube9-sim-down", "sim-admin", "default"),
            ],
        }
        tmp = self.kubeconfig_path + ".tmp"
        with open(tmp, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.kubeconfig_path)

    # -- connection tracking ---------------------------------------------------------------------------------
    def on_connect(self, sock: socket.socket) -> None:
        """Counts an accepted TCP connection."""
        with self.stats_lock:
            self.connections += 1
            self.open_socks[sock] = None

    def on_tls(self, raw: socket.socket, tls: Any) -> None:
        """Remembers the TLS wrapper of a connection."""
        with self.stats_lock:
            if raw in self.open_socks:
                self.open_socks[raw] = tls

    def on_disconnect(self, sock: Any) -> None:
        """Forgets a closed connection."""
        with self.stats_lock:
            self.open_socks.pop(sock, None)
            for raw, tls in list(self.open_socks.items()):
                if tls is sock:
                    self.open_socks.pop(raw, None)

    def drop_connections(self) -> int:
        """Closes every open client connection (watches included) at once."""
        with self.stats_lock:
            socks = [tls or raw for raw, tls in self.open_socks.items()]
            self.open_socks.clear()
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.store.close_watchers()
        return len(socks)

    # -- request entry ---------------------------------------------------------------------------------------
    def dispatch(self, h: Handler) -> None:
        """Entry point for every request."""
        h.read_body()
        parsed = urllib.parse.urlsplit(h.path)
        path = parsed.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        simz = path.startswith("/simz")
        if not simz:
            with self.stats_lock:
                self.requests += 1
                self.by_path[path] = self.by_path.get(path, 0) + 1
        if path.startswith("/simz/oidc"):
            self.oidc(h, path)
            return
        user = self.authenticate(h)
        if user is None:
            h.read_body()
            h.send_status(401, "Unauthorized")
            return
        if simz:
            if not auth.is_admin(user):
                h.send_status(403, f'forbidden: User "{user}" cannot {h.command.lower()} path "{path}"')
                return
            self.simz(h, path)
            return
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.apply_faults(h, path):
            return
        self.api(h, path, query, user)

    def authenticate(self, h: Handler) -> str | None:
        """Bearer token, sim id_token or client certificate → user name."""
        authz = h.headers.get("Authorization", "")
        if authz.lower().startswith("bearer "):
            return self.auth.user_for_token(authz[7:].strip())
        if authz:
            return None
        cert = h.request.getpeercert() if hasattr(h.request, "getpeercert") else None
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName" and value == auth.CERT_ADMIN:
                        return auth.CERT_ADMIN
        return None

    # -- faults ----------------------------------------------------------------------------------------------
    def apply_faults(self, h: Handler, path: str) -> bool:
        """Applies the first matching fault; returns True when the request has been answered (or dropped)."""
        with self.fault_lock:
            chosen = None
            for f in self.faults:
                if f.count is not None and f.applied >= f.count:
                    continue
                if f.regex.search(path) and self.rng.random() < f.rate:
                    f.applied += 1
                    chosen = f
                    break
        if chosen is None:
            return False
        if chosen.latency_ms:
            time.sleep(chosen.latency_ms / 1000)
        if chosen.mode == "stall":
            h.read_body()
            self._stall(h)
            h.close_connection = True
            return True
        if chosen.mode == "close":
            h.read_body()
            h._start(200, length=4096)
            h.wfile.write(b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"meta')
            h.wfile.flush()
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.request.shutdown(socket.SHUT_RDWR)
            return True
        if chosen.mode == "garbage":
            h.read_body()
            h.send_bytes(200, b'{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"x"},,,]}garbage')
            return True
        if chosen.status:
            h.read_body()
            extra = {}
            retry = chosen.retry_after if chosen.retry_after is not None else (1 if chosen.status == 429 else None)
            details: dict[str, Any] | None = None
            if retry is not None:
                extra["Retry-After"] = str(int(retry)) if float(retry).is_integer() else str(retry)
                details = {"retryAfterSeconds": int(float(retry))}
            h.send_status(
                chosen.status, FAULT_MESSAGES.get(chosen.status, "injected fault"), details=details, extra=extra
            )
            return True
        return False  # latency-only fault

    def _stall(self, h: Handler) -> None:
        """Never answers: waits until the client hangs up or the server stops."""
        sock = h.request
        while not self.stopping.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.25)
                # Readable means the client sent more or hung up; either way a stalled request is over when
                # the read sees EOF.
                if r and not sock.recv(1):
                    return
            except (OSError, ValueError):
                return

    # -- /simz -----------------------------------------------------------------------------------------------
    def simz(self, h: Handler, path: str) -> None:
        """Admin endpoints for tests and benchmarks."""
        body = h.read_body()
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            h.send_status(400, "request body is not valid JSON")
            return
        m = h.command
        if path == "/simz/stats" and m == "GET":
            with self.stats_lock:
                h.send_json(
                    200,
                    {
                        "requests": self.requests,
                        "connections": self.connections,
                        "open_connections": len(self.open_socks),
                        "by_path": dict(self.by_path),
                        "resourceVersion": self.store.rv,
                        "pods": self.store.count(BY_PATH[("", "v1", "pods")]),
                        "churn": self.churner.rate,
                    },
                )
        elif path == "/simz/reset" and m == "POST":
            with self.stats_lock:
                self.requests = 0
                self.connections = 0
                self.by_path = {}
            h.send_json(200, {"ok": True})
        elif path == "/simz/faults":
            if m == "POST":
                try:
                    items = data if isinstance(data, list) else data.get("faults", [data])
                    new = [Fault.from_dict(x) for x in items]
                except (KeyError, ValueError, TypeError, re.error) as e:
                    h.send_status(400, f"bad fault: {e}")
                    return
                with self.fault_lock:
                    self.faults = new
            elif m == "DELETE":
                with self.fault_lock:
                    self.faults = []
            with self.fault_lock:
                h.send_json(200, {"faults": [f.to_dict() for f in self.faults]})
        elif path == "/simz/churn":
            if m == "POST":
                self.churner.rate = float(data.get("rate", 0))
            h.send_json(200, {"rate": self.churner.rate})
        elif path == "/simz/expired-continue":
            if m == "POST":
                offer = data.get("offer_token", True) if isinstance(data, dict) else None
                if not isinstance(offer, bool):
                    h.send_status(400, "offer_token must be true or false")
                    return
                self.offer_continue_token = offer
            h.send_json(200, {"offer_token": self.offer_continue_token})
        elif path == "/simz/compact" and m == "POST":
            h.send_json(200, {"compacted": self.store.compact()})
        elif path == "/simz/drop-connections" and m == "POST":
            h.send_json(200, {"ok": True})
            h.wfile.flush()
            h.close_connection = True
            threading.Thread(target=self.drop_connections, daemon=True).start()
        elif path == "/simz/tokens" and m == "POST":
            try:
                self.auth.add_token(str(data["token"]), str(data.get("user", "admin")), data.get("ttl_seconds"))
            except (KeyError, ValueError) as e:
                h.send_status(400, f"bad token request: {e}")
                return
            h.send_json(200, {"ok": True})
        elif path == "/simz/revoke" and m == "POST":
            h.send_json(200, {"revoked": self.auth.revoke(str(data.get("token", "")))})
        else:
            h.send_status(404, "the server could not find the requested resource", details={})

    def oidc(self, h: Handler, path: str) -> None:
        """A minimal OIDC provider: discovery document and refresh_token grant."""
        issuer = f"{self.url}/simz/oidc"
        body = h.read_body()
        if path == "/simz/oidc/.well-known/openid-configuration":
            h.send_json(
                200,
                {
                    "issuer": issuer,
                    "token_endpoint": f"{issuer}/token",
                    "authorization_endpoint": f"{issuer}/auth",
                    "jwks_uri": f"{issuer}/keys",
                    "response_types_supported": ["code", "id_token"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["HS256"],
                    "grant_types_supported": ["refresh_token"],
                },
            )
        elif path == "/simz/oidc/token" and h.command == "POST":
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
            if form.get("grant_type") != "refresh_token":
                h.send_json(400, {"error": "unsupported_grant_type"})
                return
            if not form.get("refresh_token", "").startswith("sim-refresh"):
                h.send_json(400, {"error": "invalid_grant", "error_description": "unknown refresh token"})
                return
            token = auth.mint_id_token(time.time() + 3600, issuer=issuer)
            h.send_json(
                200,
                {
                    "access_token": token,
                    "id_token": token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "refresh_token": "sim-refresh-" + os.urandom(8).hex(),
                },
            )
        else:
            h.send_json(404, {"error": "not_found"})

    # -- Kubernetes API --------------------------------------------------------------------------------------
    def api(self, h: Handler, path: str, query: dict[str, str], user: str) -> None:
        """Routes /version, health, discovery and resource requests."""
        if h.command in ("POST", "PUT", "PATCH") and not path.endswith("/scale"):
            h.read_body()
        if path == "/version":
            h.send_bytes(200, orjson.dumps(VERSION, option=orjson.OPT_INDENT_2))
            return
        if path in ("/healthz", "/livez", "/readyz"):
            if "verbose" in query:
                text = "".join(f"[+]{c} ok\n" for c in READYZ_CHECKS) + f"{path[1:]} check passed\n"
            else:
                text = "ok"
            h.send_bytes(200, text.encode(), "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})
            return
        if path == "/api":
            h.send_json(200, resources.api_versions_doc(self.port))
            return
        if path == "/apis":
            h.send_json(200, resources.api_group_list_doc())
            return
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            if len(parts) == 2:
                doc = resources.api_group_doc(parts[1])
                self._doc_or_404(h, doc)
                return
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            self.not_found(h)
            return
        if not rest:
            self._doc_or_404(h, resources.resource_list_doc(group, version))
            return
        namespace: str | None = None
        # /namespaces/{ns}/{resource}/... ; a bare /namespaces/{name} is a get of the Namespace itself.
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        rtype = BY_PATH.get((group, version, rest[0]))
        if rtype is None or len(rest) > 3 or (namespace is not None and not rtype.namespaced):
            self.not_found(h)
            return
        if rtype.verbs == ("create",):
            self.review(h, rtype, user)
            return
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        if sub is not None and not (
            (sub == "log" and rtype.kind == "Pod") or (sub == "scale" and rtype.kind in ("Deployment", "StatefulSet"))
        ):
            self.not_found(h)
            return
        watch = query.get("watch", "") in ("1", "true", "True")
        verb = {
            "GET": "list" if name is None else "get",
            "HEAD": "get",
            "DELETE": "delete",
            "PATCH": "patch",
            "PUT": "update",
            "POST": "create",
        }.get(h.command, "get")
        if watch:
            verb = "watch"
        res_name = f"{rtype.name}/{sub}" if sub else rtype.name
        if not auth.allowed(user, verb, group, res_name, namespace, name):
            if h.command in ("PUT", "PATCH"):
                h.read_body()
            details: dict[str, Any] = {"kind": rtype.name}
            if name:
                details = {"name": name, "kind": rtype.name}
            if group:
                details["group"] = group
            h.send_status(403, auth.forbidden_message(user, verb, group, res_name, namespace, name), details=details)
            return
        if sub == "log":
            self.pod_log(h, rtype, namespace, name or "", query)
        elif sub == "scale":
            self.scale(h, rtype, namespace, name or "")
        elif h.command in ("GET", "HEAD"):
            if watch:
                self.watch(h, rtype, namespace, name, query)
            elif name is None:
                self.list(h, rtype, namespace, query)
            else:
                self.get(h, rtype, namespace, name, query)
        elif h.command == "DELETE" and name is not None and rtype.kind == "Pod":
            self.delete_pod(h, rtype, namespace, name)
        else:
            # kube9-sim only implements the writes above; others get kube-apiserver's exact 405 wording.
            h.send_status(405, "the server does not allow this method on the requested resource", details={})

    def review(self, h: Handler, rtype: ResourceType, user: str) -> None:
        """SelfSubjectAccessReview / SelfSubjectRulesReview (POST only), answered from the sim's RBAC rules."""
        if h.command != "POST":
            h.send_status(405, "the server does not allow this method on the requested resource", details={})
            return
        try:
            body = h.read_body()
            if "protobuf" in h.headers.get("Content-Type", ""):
                spec = proto.review_spec(rtype.kind, body)
            else:
                spec = orjson.loads(body).get("spec") or {}
        except (orjson.JSONDecodeError, AttributeError, ValueError, KeyError):
            h.send_status(400, f"the object provided is unrecognized (must be of type {rtype.kind})")
            return
        status: dict[str, Any]
        if rtype.kind == "SelfSubjectRulesReview":
            rules = auth.resource_rules(user, str(spec.get("namespace", "")))
            non_resource = [
                {
                    "verbs": ["get"],
                    "nonResourceURLs": [
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                        "/healthz",
                        "/livez",
                        "/readyz",
                        "/version",
                        "/version/",
                    ],
                }
            ]
            if auth.is_admin(user):
                non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
            status = {"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": False}
        else:
            ra = spec.get("resourceAttributes")
            if ra:
                res = ra.get("resource", "") + (f"/{ra['subresource']}" if ra.get("subresource") else "")
                allowed = auth.allowed(
                    user,
                    ra.get("verb", ""),
                    ra.get("group", ""),
                    res,
                    ra.get("namespace") or None,
                    ra.get("name") or None,
                )
            else:
                allowed = auth.is_admin(user) or (spec.get("nonResourceAttributes") or {}).get("verb") == "get"
            status = {"allowed": allowed}
            if allowed and not auth.is_admin(user):
                status["reason"] = 'RBAC: allowed by RoleBinding "viewer/team-a" of Role "viewer" to User "viewer"'
        h.send_json(
            201,
            {
                "kind": rtype.kind,
                "apiVersion": rtype.api_version,
                "metadata": {"creationTimestamp": None},
                "spec": spec,
                "status": status,
            },
        )

    def _doc_or_404(self, h: Handler, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self.not_found(h)
        else:
            h.send_json(200, doc)

    def not_found(self, h: Handler) -> None:
        """404 for unknown paths, worded like kube-apiserver."""
        h.send_status(404, "the server could not find the requested resource", details={})

    def obj_not_found(self, h: Handler, rtype: ResourceType, name: str) -> None:
        """404 for a missing object."""
        details: dict[str, Any] = {"name": name}
        if rtype.group:
            details["group"] = rtype.group
        details["kind"] = rtype.name
        h.send_status(
            404, f'{rtype.name}{"." + rtype.group if rtype.group else ""} "{name}" not found', details=details
        )

    @staticmethod
    def table_version(accept: str) -> tuple[str | None, bool]:
        """Parses Accept: returns (Table apiVersion or None, wants PartialObjectMetadata)."""
        for alt in accept.split(","):
            params = {}
            for p in alt.split(";")[1:]:
                k, _, v = p.strip().partition("=")
                params[k.strip()] = v.strip()
            if params.get("g") != "meta.k8s.io":
                continue
            if params.get("as") == "Table" and params.get("v") in ("v1", "v1beta1"):
                return f"meta.k8s.io/{params['v']}", False
            if params.get("as") in ("PartialObjectMetadataList", "PartialObjectMetadata") and params.get("v") in (
                "v1",
                "v1beta1",
            ):
                return f"meta.k8s.io/{params['v']}", True
        return None, False

    def _rows(self, objs: list[Obj], include: str) -> bytes:
        now = time.time()
        out = []
        for o in objs:
            if include == "None":
                obj_part = b"null"
            elif include == "Object":
                obj_part = o.full()
            else:
                obj_part = o.partial()
            out.append(
                b'{"cells":'
                + _go_escape(orjson.dumps(tables.render_cells(o.cells, o.ages, now)))
                + b',"object":'
                + obj_part
                + b"}"
            )
        return b"[" + b",".join(out) + b"]"

    def list(self, h: Handler, rtype: ResourceType, namespace: str | None, query: dict[str, str]) -> None:
        """Lists with selectors, pagination, Table and PartialObjectMetadataList output."""
        try:
            match = combine(
                parse_label_selector(query.get("labelSelector", "")),
                parse_field_selector(query.get("fieldSelector", ""), rtype.kind),
            )
        except SelectorError as e:
            h.send_status(400, str(e))
            return
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            limit = 0
        start = ""
        tok_rv = -1
        token = query.get("continue", "")
        if token:
            try:
                tok_rv, start = decode_continue(token)
            except (ValueError, orjson.JSONDecodeError):
                h.send_status(400, "continue key is not valid: illegal base64 data", reason="BadRequest")
                return
            if 0 <= tok_rv < self.store.oldest_rv():
                if self.offer_continue_token:
                    h.send_status(410, EXPIRED_CONTINUE, metadata={"continue": encode_continue(-1, start)})
                else:
                    h.send_status(410, EXPIRED_CONTINUE_NO_TOKEN)
                return
            if namespace is not None and rtype.namespaced:
                start = f"{namespace}/{start}"
            start += "\x00"
        rv_param = query.get("resourceVersion", "")
        if (
            rv_param
            and query.get("resourceVersionMatch") == "Exact"
            and rv_param.isdigit()
            and int(rv_param) < self.store.compact_rev
        ):
            h.send_status(410, "The resourceVersion for the provided list is too old.")
            return
        # Later pages are served from the first page's revision (a snapshot), as etcd does.
        at_rv = tok_rv if token and tok_rv >= 0 else None
        items, last, remaining, rv = self.store.scan(rtype, namespace, start, match, limit, at_rv)
        table_v, partial = self.table_version(h.headers.get("Accept", ""))
        meta: dict[str, Any] = {"selfLink": rtype.self_link(namespace), "resourceVersion": str(rv)}
        if last is not None:
            rel = last.split("/", 1)[1] if (namespace is not None and rtype.namespaced) else last
            meta["continue"] = encode_continue(rv, rel)
            if remaining is not None and not partial:
                meta["remainingItemCount"] = remaining
        if table_v and not partial:
            include = query.get("includeObject", "Metadata")
            body = (
                b'{"kind":"Table","apiVersion":"'
                + table_v.encode()
                + b'","metadata":'
                + orjson.dumps(meta)
                + b',"columnDefinitions":'
                + orjson.dumps(tables.columns(rtype.kind))
                + b',"rows":'
                + self._rows(items, include)
                + b"}"
            )
        elif table_v:
            body = (
                b'{"kind":"PartialObjectMetadataList","apiVersion":"'
                + table_v.encode()
                + b'","metadata":'
                + orjson.dumps(meta)
                + b',"items":['
                + b",".join(o.partial() for o in items)
                + b"]}"
            )
        else:
            head = {"kind": rtype.list_kind, "apiVersion": rtype.api_version, "metadata": meta}
            body = orjson.dumps(head)[:-1] + b',"items":[' + b",".join(o.item for o in items) + b"]}"
        h.send_bytes(200, body)

    def get(self, h: Handler, rtype: ResourceType, namespace: str | None, name: str, query: dict[str, str]) -> None:
        """GET of one object (JSON, Table or PartialObjectMetadata)."""
        obj = self.store.get(rtype, namespace, name)
        if obj is None:
            self.obj_not_found(h, rtype, name)
            return
        table_v, partial = self.table_version(h.headers.get("Accept", ""))
        if table_v and partial:
            body = obj.partial()
            if table_v.endswith("v1beta1"):
                body = body.replace(b'"meta.k8s.io/v1"', b'"meta.k8s.io/v1beta1"', 1)
            h.send_bytes(200, body)
        elif table_v:
            h.send_bytes(200, self._table_of_one(obj, table_v, query.get("includeObject", "Metadata"), True))
        else:
            h.send_bytes(200, obj.full())

    def _table_of_one(self, obj: Obj, table_v: str, include: str, with_columns: bool) -> bytes:
        meta = {"selfLink": obj.rtype.self_link(obj.namespace, obj.name), "resourceVersion": str(obj.rv)}
        cols = orjson.dumps(tables.columns(obj.rtype.kind)) if with_columns else b"null"
        return (
            b'{"kind":"Table","apiVersion":"'
            + table_v.encode()
            + b'","metadata":'
            + orjson.dumps(meta)
            + b',"columnDefinitions":'
            + cols
            + b',"rows":'
            + self._rows([obj], include)
            + b"}"
        )

    def watch(
        self, h: Handler, rtype: ResourceType, namespace: str | None, name: str | None, query: dict[str, str]
    ) -> None:
        """Streams watch events as chunked JSON lines."""
        try:
            match = combine(
                parse_label_selector(query.get("labelSelector", "")),
                parse_field_selector(query.get("fieldSelector", ""), rtype.kind),
                (lambda o: o.name == name) if name else None,
            )
        except SelectorError as e:
            h.send_status(400, str(e))
            return
        rv_param = query.get("resourceVersion", "")
        since = int(rv_param) if rv_param.isdigit() and rv_param != "0" else None
        if rv_param and not rv_param.isdigit():
            h.send_status(400, f'resourceVersion: Invalid value: "{rv_param}": must be an integer')
            return
        table_v, partial = self.table_version(h.headers.get("Accept", ""))
        include = query.get("includeObject", "Metadata")
        bookmarks = query.get("allowWatchBookmarks", "") in ("1", "true", "True")
        try:
            timeout = float(query.get("timeoutSeconds") or 0)
        except ValueError:
            timeout = 0
        deadline = time.monotonic() + timeout if timeout > 0 else None
        h._start(200, extra={"Transfer-Encoding": "chunked"})
        first_table = [True]

        def encode(ev_type: str, obj: Obj) -> bytes:
            if table_v and not partial:
                payload = self._table_of_one(obj, table_v, include, first_table[0])
                first_table[0] = False
            elif table_v:
                payload = obj.partial()
            else:
                payload = obj.full()
            return b'{"type":"' + ev_type.encode() + b'","object":' + payload + b"}\n"

        def send(chunk: bytes) -> None:
            h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            h.wfile.flush()

        try:
            try:
                w, initial = self.store.watch(rtype, namespace, match, since)
            except TooOld as e:
                # Like kube-apiserver: a 200 stream holding one ERROR event, then a clean end.
                send(b'{"type":"ERROR","object":' + status_body(410, str(e), "Expired") + b"}\n")
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
                return
            try:
                for ev in initial:
                    send(encode(ev.type, ev.obj))
                last_bookmark = time.monotonic()
                while not self.stopping.is_set():
                    wait = 0.5
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            break
                    try:
                        item = w.queue.get(timeout=max(wait, 0.01))
                    except queue.Empty:
                        # Idle: notice clients that went away, or this thread would live until the next event.
                        if h.client_gone():
                            break
                        item = False  # type: ignore[assignment]
                    if item is None:
                        break
                    if isinstance(item, tuple):
                        msg = "The resourceVersion for the provided watch is too old."
                        send(b'{"type":"ERROR","object":' + status_body(410, msg, "Expired") + b"}\n")
                        break
                    if isinstance(item, Event):
                        send(encode(item.type, item.obj))
                    if bookmarks and time.monotonic() - last_bookmark >= BOOKMARK_INTERVAL:
                        # A bookmark promises "every event up to this resourceVersion has been sent", so it may
                        # only carry the store's revision while nothing is queued for this watcher; read both
                        # under the store lock (events are published under it). Otherwise a client resuming
                        # from the bookmark would skip the events still queued.
                        with self.store.lock:
                            caught_up_rv = self.store.rv if w.queue.empty() else None
                        if caught_up_rv is not None:
                            last_bookmark = time.monotonic()
                            bm = {
                                "kind": rtype.kind,
                                "apiVersion": rtype.api_version,
                                "metadata": {"resourceVersion": str(caught_up_rv), "creationTimestamp": None},
                            }
                            send(b'{"type":"BOOKMARK","object":' + orjson.dumps(bm) + b"}\n")
            finally:
                self.store.unwatch(w)
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def pod_log(self, h: Handler, rtype: ResourceType, namespace: str | None, name: str, query: dict[str, str]) -> None:
        """Plain-text container log honouring container, tailLines, timestamps, limitBytes and follow."""
        obj = self.store.get(rtype, namespace, name)
        if obj is None:
            self.obj_not_found(h, rtype, name)
            return
        containers = [c["name"] for c in obj.to_dict()["spec"].get("containers", [])]
        container = query.get("container", "")
        if container and container not in containers:
            h.send_status(400, f"container {container} is not valid for pod {name}", reason="BadRequest")
            return
        tail = query.get("tailLines")
        timestamps = query.get("timestamps") == "true"
        text = pod_log(obj, int(tail) if tail and tail.isdigit() else None, timestamps).encode()
        limit = query.get("limitBytes", "")
        if limit.isdigit():
            text = text[: int(limit)]
        if query.get("follow") not in ("true", "1"):
            h.send_bytes(200, text, "text/plain")
            return
        # follow: stream the backlog, then a new line every second until the client leaves or the pod goes.
        h._start(200, "text/plain", extra={"Transfer-Encoding": "chunked"})
        try:
            if text:
                h.wfile.write(f"{len(text):x}\r\n".encode() + text + b"\r\n")
                h.wfile.flush()
            n = 0
            while not self.stopping.wait(1.0):
                if h.client_gone() or self.store.get(rtype, namespace, name) is None:
                    break
                n += 1
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                line = f"{stamp}Z INFO {name} heartbeat seq={n}\n"
                if timestamps:
                    line = f"{stamp}.000000000Z {line}"
                data = line.encode()
                h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def delete_pod(self, h: Handler, rtype: ResourceType, namespace: str | None, name: str) -> None:
        """Deletes a pod immediately (a DELETED watch event follows) and returns it like kube-apiserver."""
        h.read_body()
        gone = self.store.delete(rtype, namespace, name)
        if gone is None:
            self.obj_not_found(h, rtype, name)
            return
        h.send_bytes(200, gone.full())

    def scale(self, h: Handler, rtype: ResourceType, namespace: str | None, name: str) -> None:
        """GET/PATCH/PUT of the autoscaling/v1 Scale subresource."""
        body = h.read_body() if h.command in ("PUT", "PATCH", "POST") else b""
        obj = self.store.get(rtype, namespace, name)
        if obj is None:
            self.obj_not_found(h, rtype, name)
            return
        if h.command in ("PUT", "PATCH"):
            try:
                data = orjson.loads(body)
                replicas = int(data["spec"]["replicas"])
                if replicas < 0:
                    raise ValueError
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                h.send_status(
                    422,
                    f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
                    f"must be a non-negative integer",
                    reason="Invalid",
                    details={"name": name, "group": "autoscaling", "kind": "Scale"},
                )
                return
            obj = self.churner.scale(rtype, obj, replicas)
        elif h.command != "GET":
            h.send_status(405, "the server does not allow this method on the requested resource", details={})
            return
        d = obj.to_dict()
        md = d["metadata"]
        scale = {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "selfLink": md["selfLink"] + "/scale",
                "uid": md["uid"],
                "resourceVersion": md["resourceVersion"],
                "creationTimestamp": md["creationTimestamp"],
            },
            "spec": {"replicas": d["spec"].get("replicas", 0)},
            "status": {
                "replicas": d.get("status", {}).get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(d["spec"]["selector"]["matchLabels"].items())),
            },
        }
        h.send_json(200, scale)
