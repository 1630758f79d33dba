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


class ChannelSocket:
    """One open channel WebSocket; ``send`` is thread-safe, ``recv`` belongs to one reader thread.

    Attributes:
        protocol: The subprotocol the server chose (``v5.channel.k8s.io`` ...).
    """

    def __init__(self, ws: websocket.WebSocket, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._closed = False

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

    def close(self) -> None:
        """Closes the WebSocket (idempotent; unblocks a reader)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.ws.close(timeout=0.5)
        with contextlib.suppress(Exception):
            self.ws.shutdown()


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
) -> ChannelSocket:
    """Opens a channel WebSocket to ``path`` with the client's credentials; raises KubeError.

    Args:
        client: The context's client (server, TLS, auth).
        path: API path (``/api/v1/namespaces/ns/pods/p/exec``).
        query: Query parameters (repeated keys allowed).
        protocols: Subprotocols offered, preferred first.
        info: What the request is for (wording of 403/404 errors).
        timeout: Connect/handshake timeout (the client's connect timeout when None).
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
    return ChannelSocket(ws, ws.getsubprotocol() or "")
