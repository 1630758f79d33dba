"""Kubernetes channel WebSockets (exec, attach, port-forward) on the ``websocket-client`` library.

This module alone imports ``websocket`` (websocket-client, already a dependency of the official ``kubernetes``
package): its blocking, thread-safe API fits our one-thread-per-stream workers (the GUI thread never calls it),
it takes our own ``SSLContext`` and headers, negotiates subprotocols and hands back a refused upgrade's status and
body, which become :class:`~kube9_desktop.kube.errors.KubeError` values here like every other failure.

A :class:`ChannelSocket` carries the ``channel.k8s.io`` framing: every binary message starts with a channel byte.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import urllib.parse
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.status_errors import RequestInfo, error_from_status

if TYPE_CHECKING:  # types only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    import websocket

    from kube9_desktop.kube.client import ContextClient
    from kube9_desktop.kube.client_auth import ConnectSettings

# ``websocket`` (~40 ms) is imported by the functions that use it, for the same reason.

_CONTEXTS: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], ssl.SSLContext]] = weakref.WeakKeyDictionary()
_CONTEXTS_LOCK = threading.Lock()


def ssl_context(settings: ConnectSettings, owner: Any) -> ssl.SSLContext:
    """A verifying TLS context for these settings (cached per ``owner``, rebuilt when they change).

    Unlike the pool's shared context (urllib3 checks host names itself), this one checks the host name in the
    handshake, since websocket-client trusts the context it is given.
    """
    key = (settings.verify, settings.ca_file, settings.ca_data, settings.cert_file, settings.key_file)
    with _CONTEXTS_LOCK:
        hit = _CONTEXTS.get(owner)
        if hit is not None and hit[0] == key:
            return hit[1]
    ctx = ssl.create_default_context()
    if settings.verify:
        if settings.ca_file or settings.ca_data:
            ctx.load_verify_locations(cafile=settings.ca_file, cadata=settings.ca_data)
    else:
        # The user's kubeconfig says insecure-skip-tls-verify for this cluster (kubectl honours it too).
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if settings.cert_file:
        ctx.load_cert_chain(settings.cert_file, settings.key_file)
    with _CONTEXTS_LOCK:
        _CONTEXTS[owner] = (key, ctx)
    return ctx


#: Bytes asked of the socket per read by :class:`FrameReader` (a TLS socket hands back one record, <= 16 KiB, per
#: read; a plain one what is there).
_READ = 256 * 1024
#: The largest message :class:`FrameReader` accepts (the API server's frames are 32 KiB; kubelet's up to 1 MiB).
MAX_MESSAGE = 64 * 1024 * 1024
_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING = 0x0, 0x1, 0x2, 0x8, 0x9


class FrameReader:
    """The server's frames (RFC 6455 section 5.2) read straight off the connection's socket, for bulk data.

    websocket-client reads a frame's header in two or three reads of 2-8 bytes and its payload in 16 KiB pieces
    joined at the end, each read through its own wrappers: per 64 KiB frame of a port-forward download that is
    about ten Python-level socket reads and two copies, and the forward's one thread spent most of its CPU there.
    This reads whatever the socket has into one buffer and cuts the frames out of it. Only the receiving half:
    sending (masked, as a client must) stays with websocket-client, whose lock serialises it across threads.
    Server frames are never masked; one that is ends the connection, as the RFC says.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray(_READ)
        self.start = self.end = 0

    def _fill(self, need: int) -> None:
        """Reads until ``need`` bytes from ``start`` are in the buffer; raises EOFError / OSError."""
        while self.end - self.start < need:
            if self.start + need > len(self.buf):
                # Move the unread tail to the front (and grow for a frame larger than the buffer).
                tail = self.buf[self.start:self.end]
                if need > len(self.buf):
                    self.buf = bytearray(need + _READ)
                self.buf[: len(tail)] = tail
                self.start, self.end = 0, len(tail)
            with memoryview(self.buf) as view:
                got = self.sock.recv_into(view[self.end:])
            if not got:
                raise EOFError("connection closed")
            self.end += got

    def frame(self) -> tuple[int, bool, bytes]:
        """The next frame as (opcode, final, payload); raises EOFError, OSError or ValueError (protocol)."""
        opcode, final, _, payload = self.split_frame(False)
        return opcode, final, payload

    def split_frame(self, split: bool = True) -> tuple[int, bool, int, bytes]:
        """The next frame as (opcode, final, first byte, rest) when ``split`` and the frame is a whole, non-empty
        data message (a channel message: its channel and data, copied once), else (opcode, final, -1, payload);
        raises EOFError, OSError or ValueError (protocol)."""
        self._fill(2)
        b0, b1 = self.buf[self.start], self.buf[self.start + 1]
        n, head = b1 & 0x7F, 2
        if b1 & 0x80:
            raise ValueError("the server masked a frame")
        if n == 126:
            self._fill(4)
            n, head = int.from_bytes(self.buf[self.start + 2:self.start + 4], "big"), 4
        elif n == 127:
            self._fill(10)
            n, head = int.from_bytes(self.buf[self.start + 2:self.start + 10], "big"), 10
        if n > MAX_MESSAGE:
            raise ValueError(f"a frame of {n} bytes")
        self._fill(head + n)
        begin = self.start + head
        final = bool(b0 & 0x80)
        first = -1
        if split and final and n and b0 & 0x0F in (_OP_TEXT, _OP_BINARY):
            first = self.buf[begin]
            begin, n = begin + 1, n - 1
        with memoryview(self.buf) as view:
            payload = bytes(view[begin:begin + n])  # one copy (a bytearray slice, then bytes(), would be two)
        self.start = begin + n
        if self.start == self.end:
            self.start = self.end = 0
        return b0 & 0x0F, final, first, payload


class ChannelSocket:
    """One open channel WebSocket; ``send`` is thread-safe, ``recv`` belongs to one reader thread.

    Attributes:
        protocol: The subprotocol the server chose (``v5.channel.k8s.io`` ...).
    """

    def __init__(self, ws: websocket.WebSocket, protocol: str, bulk: bool = False) -> None:
        """Wraps an open WebSocket.

        Args:
            ws: The open WebSocket.
            protocol: The subprotocol the server chose.
            bulk: Read the server's frames with :class:`FrameReader` (port-forward's downloads) rather than
                websocket-client's reader (exec's small messages).
        """
        self.ws = ws
        self.protocol = protocol
        self._closed = False
        self._close_lock = threading.Lock()
        self._reading = False
        self._reader = FrameReader(ws.sock) if bulk and ws.sock is not None else None

    def send(self, channel: int, data: bytes) -> bool:
        """Sends one message on ``channel``; False when the connection is gone."""
        import websocket

        try:
            self.ws.send_bytes(bytes([channel]) + data)
            return True
        except (websocket.WebSocketException, OSError, AttributeError):
            return False

    def send_raw(self, data: bytes) -> bool:
        """Sends one message as is (the channel byte already in front)."""
        import websocket

        try:
            self.ws.send_bytes(data)
            return True
        except (websocket.WebSocketException, OSError, AttributeError):
            return False

    def recv(self) -> tuple[int, bytes] | None:
        """The next data message as (channel, payload); None when the connection closed or broke."""
        if self._reader is not None:
            return self._recv_bulk(self._reader)
        import websocket

        while True:
            try:
                opcode, data = self.ws.recv_data()
            except (websocket.WebSocketException, OSError, AttributeError, ValueError):
                return None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return None
            if opcode in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT) and data:
                payload = data if isinstance(data, bytes) else str(data).encode()
                return payload[0], payload[1:]

    def _recv_bulk(self, reader: FrameReader) -> tuple[int, bytes] | None:
        with self._close_lock:
            if self._closed:
                return None
            self._reading = True
        try:
            return self._next_bulk(reader)
        finally:
            with self._close_lock:
                self._reading = False
                closed = self._closed
            if closed:
                self._release()

    def _next_bulk(self, reader: FrameReader) -> tuple[int, bytes] | None:
        parts: list[bytes] = []
        while True:
            try:
                opcode, final, first, payload = reader.split_frame(not parts)
            except (EOFError, OSError, ValueError, AttributeError):  # AttributeError: closed meanwhile
                return None
            if opcode == _OP_CLOSE:
                return None
            if opcode == _OP_PING:
                with contextlib.suppress(Exception):
                    self.ws.pong(payload)
                continue
            if opcode not in (_OP_CONT, _OP_TEXT, _OP_BINARY):
                continue  # a pong, or a reserved opcode
            if first >= 0:  # a whole message in one frame, already split: the common case
                return first, payload
            if not final or parts:
                parts.append(payload)
                if not final:
                    continue
                payload, parts = b"".join(parts), []
            if payload:
                return payload[0], payload[1:]

    def _release(self) -> None:
        """Closes the socket's file descriptor, under websocket-client's send lock (no send halfway through)."""
        with getattr(self.ws, "lock", None) or contextlib.nullcontext(), contextlib.suppress(Exception):
            self.ws.shutdown()

    def close(self) -> None:
        """Closes the WebSocket (idempotent and thread-safe; unblocks a reader)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        if self._reader is not None:
            # Not ws.close(): it reads the server's answer, and a second thread reading the same TLS connection
            # as the FrameReader's crashes OpenSSL (segfault). The close frame is sent and the socket shut down,
            # which wakes the reader; the file descriptor is closed by whoever is last: the reader on its way out
            # if it is inside a read (its OpenSSL call may still write an alert to that descriptor number, which
            # a pipe opened meanwhile would receive: seen as TLS bytes in a child's stdout), else here. Under
            # websocket-client's send lock, so no send is halfway through; a later send finds no socket.
            with getattr(self.ws, "lock", None) or contextlib.nullcontext():
                sock = self.ws.sock
                if sock is not None and self.ws.connected:
                    with contextlib.suppress(Exception):
                        self.ws.connected = False
                        frame = websocket_abnf().create_frame(b"\x03\xe8", websocket_abnf().OPCODE_CLOSE)
                        sock.sendall(frame.format())
                if sock is not None:
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
            if not reading:
                self._release()
            return
        with contextlib.suppress(Exception):
            self.ws.close(timeout=0.5)
        with contextlib.suppress(Exception):
            self.ws.shutdown()


def websocket_abnf() -> Any:
    """websocket-client's frame class (imported when first used, like the library itself)."""
    import websocket

    return websocket.ABNF


def ws_url(server: str, path: str, query: Sequence[tuple[str, str]]) -> str:
    """``wss://host:port/prefix/path?query`` from the server URL."""
    parts = urllib.parse.urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urllib.parse.urlunsplit(
        (scheme, parts.netloc, parts.path.rstrip("/") + path, urllib.parse.urlencode(list(query)), "")
    )


def open_channel(
    client: ContextClient,
    path: str,
    query: Sequence[tuple[str, str]],
    protocols: Sequence[str],
    *,
    info: RequestInfo | None = None,
    timeout: float | None = None,
    bulk: bool = False,
) -> ChannelSocket:
    """Opens a channel WebSocket to ``path`` with the client's credentials; raises KubeError.

    Args:
        client: The context's client (server, TLS, auth).
        path: API path (``/api/v1/namespaces/ns/pods/p/exec``).
        query: Query parameters (repeated keys allowed).
        protocols: Subprotocols offered, preferred first.
        info: What the request is for (wording of 403/404 errors).
        timeout: Connect/handshake timeout (the client's connect timeout when None).
        bulk: Read with :class:`FrameReader` (see :class:`ChannelSocket`).
    """
    import websocket

    settings = client.connect_settings()
    ctx = ssl_context(settings, client)
    url = ws_url(settings.server, path, query)
    host = urllib.parse.urlsplit(settings.server).hostname or ""
    sslopt: dict[str, Any] = {"context": ctx}
    if settings.server_name:
        sslopt["server_hostname"] = settings.server_name
    wait = timeout if timeout is not None else max(client.options.connect_timeout, 5.0)
    try:
        ws = websocket.create_connection(
            url,
            timeout=wait,
            sslopt=sslopt,
            header=[f"{k}: {v}" for k, v in settings.headers.items()],
            subprotocols=list(protocols),
            enable_multithread=True,
            skip_utf8_validation=True,
            sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        )
    except websocket.WebSocketBadStatusException as exc:
        raise error_from_status(
            exc.status_code,
            exc.resp_body if isinstance(exc.resp_body, bytes) else None,
            dict(exc.resp_headers or {}),
            context=client.context,
            server=client.server,
            info=info,
            exec_command=client.exec_command,
            kubeconfig=client.kubectl_kubeconfig,  # the can-i hint runs as printed
        ) from None
    except ssl.SSLError as exc:
        raise KubeError(
            ErrorKind.TLS,
            "TLS problem",
            f"The TLS handshake with {host} failed ({exc.reason or exc}).",
            hint="Check the cluster's certificate-authority in the kubeconfig.",
            context=client.context,
        ) from None
    except (TimeoutError, websocket.WebSocketTimeoutException):
        raise KubeError(
            ErrorKind.TIMEOUT,
            "Timed out",
            f"The API server {host} did not answer the stream request within {wait:.0f} s.",
            hint="Check the network, then try again.",
            context=client.context,
        ) from None
    except (OSError, websocket.WebSocketException) as exc:
        raise KubeError(
            ErrorKind.UNREACHABLE,
            "Cannot connect",
            f"The stream connection to {host} failed ({exc.__class__.__name__}: {exc})"[:300],
            hint="Check that the cluster is reachable, then try again.",
            context=client.context,
        ) from None
    ws.settimeout(None)
    return ChannelSocket(ws, ws.getsubprotocol() or "", bulk=bulk)
