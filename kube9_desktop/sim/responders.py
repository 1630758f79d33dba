"""What listens on a simulated container's ports: an HTTP page naming the pod, or an echo.

A port is HTTP when the container declares it with the name ``http`` or it is 80/8080; other declared ports
echo bytes back. A port no container declares is refused (like a real pod where nothing listens there).
Responders run inline in the port-forward connection's thread: ``feed`` answers at once through ``send``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HTTP_PORTS = (80, 8080)
#: Largest body ``GET /bytes/N`` serves (throughput tests and the benchmark use it).
MAX_BYTES = 1 << 31
_BLOCK = b"kube9-sim-bytes." * 4096  # 64 KiB


def declared_port(pod: dict[str, Any], port: int) -> dict[str, Any] | None:
    """The container port entry for this number in any container of the pod, or None."""
    for c in pod.get("spec", {}).get("containers", []):
        for p in c.get("ports", []) or []:
            if p.get("containerPort") == port:
                return dict(p)
    return None


def is_http(port: int, entry: dict[str, Any] | None) -> bool:
    """Whether the sim serves HTTP on this port."""
    return port in HTTP_PORTS or bool(entry and entry.get("name") == "http")


class Echo:
    """Echoes what it receives."""

    def __init__(self, send: Callable[[bytes], bool]) -> None:
        self.send = send

    def feed(self, data: bytes) -> None:
        self.send(data)


class HttpPage:
    """A tiny HTTP/1.1 server: ``/`` → a page naming the pod; ``/bytes/N`` → N bytes; keep-alive.

    Args:
        pod_name: Shown on the page.
        namespace: Shown on the page.
        port: The container port.
        send: Writes bytes back to the client.
        close: Ends the connection (after a request that said ``Connection: close``).
    """

    def __init__(
        self,
        pod_name: str,
        namespace: str,
        port: int,
        send: Callable[[bytes], bool],
        close: Callable[[], None] | None = None,
    ) -> None:
        self.pod_name, self.namespace, self.port, self.send, self.close = pod_name, namespace, port, send, close
        self.buf = b""
        self.done = False

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("GET", "/")
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            length = int(headers.get("content-length", "0") or 0)
            # Request bodies are small here (forms at most); drop them once they have arrived.
            self.buf = self.buf[length:]
            if not self.answer(method, path):
                return
            if headers.get("connection", "").lower() == "close" and self.close is not None:
                self.done = True
                self.close()
                return

    def answer(self, method: str, path: str) -> bool:
        """Writes one response; False when the client is gone."""
        if path.startswith("/bytes/") and path[7:].isdigit():
            n = min(int(path[7:]), MAX_BYTES)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n\r\n"
            if not self.send(head.encode()):
                return False
            while n > 0 and method != "HEAD":
                chunk = _BLOCK[: min(n, len(_BLOCK))]
                if not self.send(chunk):
                    return False
                n -= len(chunk)
            return True
        if path in ("/", "/index.html", "/healthz"):
            body = (
                f"<html><head><title>{self.pod_name}</title></head><body><h1>Hello from {self.pod_name}</h1>"
                f"<p>namespace {self.namespace}, port {self.port} (kube9-sim)</p></body></html>\n"
            ).encode()
            status = "200 OK"
        else:
            body, status = f"404 page not found: {path}\n".encode(), "404 Not Found"
        head = f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
        return self.send(head.encode() + (b"" if method == "HEAD" else body))
