"""Server side of a WebSocket on a connection a handler took over (exec, attach, port-forward).

Framing is `wsproto`'s (sans-IO, so it fits the sim's one-thread-per-connection server: this module only
moves bytes between the socket and the protocol object). The handshake answer is written here because the
router has already parsed the request head.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from io import BufferedIOBase

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from kube9_desktop.sim.connection import Connection as HttpConnection


def offered_protocols(conn: HttpConnection) -> list[str]:
    """The subprotocols the client asked for, in its order of preference."""
    out: list[str] = []
    for value in conn.headers.get_all("Sec-WebSocket-Protocol") or []:
        out.extend(p.strip() for p in value.split(",") if p.strip())
    return out


def is_websocket(conn: HttpConnection) -> bool:
    """Whether the request asks for a WebSocket upgrade."""
    return (
        "upgrade" in conn.headers.get("Connection", "").lower()
        and conn.headers.get("Upgrade", "").strip().lower() == "websocket"
        and bool(conn.headers.get("Sec-WebSocket-Key"))
    )


class WebSocket:
    """One accepted WebSocket: thread-safe ``send``, a blocking ``messages()`` iterator, ``close``.

    Args:
        sock: The TLS socket (shut down to unblock the reader).
        rfile: Buffered reader of the socket (may already hold bytes sent after the request head).
        wfile: Buffered writer of the socket.
        stopping: Set when the sim stops; the reader ends then.
    """

    def __init__(
        self, sock: socket.socket, rfile: BufferedIOBase, wfile: BufferedIOBase, stopping: threading.Event
    ) -> None:
        self.sock, self.rfile, self.wfile, self.stopping = sock, rfile, wfile, stopping
        self.ws = Connection(ConnectionType.SERVER)
        self.lock = threading.Lock()
        self.closed = threading.Event()

    @staticmethod
    def accept(conn: HttpConnection, protocol: str | None) -> None:
        """Writes the ``101 Switching Protocols`` answer (before ``take_over``)."""
        key = conn.headers.get("Sec-WebSocket-Key", "")
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {generate_accept_token(key.encode()).decode()}",
        ]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        conn.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        conn.wfile.flush()

    def send(self, data: bytes) -> bool:
        """Sends one binary message; False when the socket is gone."""
        with self.lock:
            if self.closed.is_set() or self.ws.state is not ConnectionState.OPEN:
                return False
            try:
                self.wfile.write(self.ws.send(BytesMessage(data=data)))
                self.wfile.flush()
                return True
            except (OSError, ValueError):
                self.closed.set()
                return False

    def close(self, code: int = 1000) -> None:
        """Sends a close frame (once) and shuts the socket's write side."""
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
            with contextlib.suppress(Exception):
                if self.ws.state is ConnectionState.OPEN:
                    self.wfile.write(self.ws.send(CloseConnection(code=code)))
                    self.wfile.flush()

    def messages(self) -> Iterator[bytes]:
        """Yields whole binary (or text, encoded) messages until the peer closes or leaves."""
        parts: list[bytes] = []
        while not self.stopping.is_set():
            try:
                data = self.rfile.read1(65536)
            except (OSError, ValueError):
                data = b""
            if not data:
                self.ws.receive_data(None)
                self.closed.set()
                return
            self.ws.receive_data(data)
            for ev in self.ws.events():
                if isinstance(ev, BytesMessage | TextMessage):
                    chunk = ev.data.encode() if isinstance(ev.data, str) else bytes(ev.data)
                    parts.append(chunk)
                    if ev.message_finished:
                        yield b"".join(parts)
                        parts = []
                elif isinstance(ev, Ping):
                    with self.lock, contextlib.suppress(OSError, ValueError):
                        self.wfile.write(self.ws.send(ev.response()))
                        self.wfile.flush()
                elif isinstance(ev, CloseConnection):
                    with self.lock, contextlib.suppress(Exception):
                        if self.ws.state is not ConnectionState.CLOSED:
                            self.wfile.write(self.ws.send(ev.response()))
                            self.wfile.flush()
                    self.closed.set()
                    return
