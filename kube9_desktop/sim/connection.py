"""One client connection of kube9-sim: TLS in the worker thread, HTTP/1.1 keep-alive, response writers.

Knows nothing about routes or the Kubernetes API: every request goes to its owner's ``dispatch``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import orjson

from kube9_desktop.sim.status import status_body


class ConnectionOwner(Protocol):
    """What the connection plumbing needs from the server that owns it."""

    ssl_context: ssl.SSLContext

    def on_connect(self, sock: socket.socket) -> None: ...

    def on_tls(self, raw: socket.socket, tls: Any) -> None: ...

    def on_disconnect(self, sock: Any) -> None: ...

    def dispatch(self, conn: Connection) -> None: ...


class HTTPServer(ThreadingHTTPServer):
    """The listening socket; one daemon thread per connection."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    sim: ConnectionOwner

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


class Connection(BaseHTTPRequestHandler):
    """Handles one HTTP/1.1 connection (keep-alive) after wrapping it in TLS in the worker thread."""

    protocol_version = "HTTP/1.1"
    server: HTTPServer
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

    # -- response writers ------------------------------------------------------------------------------------
    def start_response(
        self, code: int, ctype: str = "application/json", length: int | None = None, extra: dict[str, str] | None = None
    ) -> None:
        """Writes the status line and headers (streams follow with their own body framing)."""
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
        self.start_response(code, ctype, len(body), extra)
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

    def send_chunk(self, data: bytes) -> None:
        """Writes one chunk of a ``Transfer-Encoding: chunked`` body and flushes it."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_chunks(self) -> None:
        """Ends a chunked body."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- request reading -------------------------------------------------------------------------------------
    def parse_request(self) -> bool:
        self._body: bytes | None = None
        return super().parse_request()

    def read_body(self) -> bytes:
        """Reads the request body once (Content-Length only; clients here never chunk uploads).

        The router calls this before any handler runs, even when the handler ignores the body, so that a
        keep-alive connection never sees a leftover body parsed as the next request.
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
