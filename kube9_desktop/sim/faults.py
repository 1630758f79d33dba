"""Injected faults: what a fault is, and how a request that drew one is answered."""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
import time
from typing import Any

from kube9_desktop.sim.connection import Connection

FAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "Timeout: request did not complete within the allotted timeout",
}


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
        if mode not in ("status", "stall", "close", "garbage", "silent"):
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


def answer(conn: Connection, fault: Fault, stopping: threading.Event) -> bool:
    """Answers (or drops) a request that drew ``fault``; False for a latency-only fault (serve normally)."""
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)
    if fault.mode == "stall":
        conn.read_body()
        _stall(conn, stopping)
        conn.close_connection = True
        return True
    if fault.mode == "silent":
        # A watch whose connection stays open but delivers nothing, not even bookmarks or the end of the stream
        # its timeoutSeconds asked for (a wedged proxy, a stuck apiserver watch cache).
        conn.read_body()
        conn.start_response(200, extra={"Transfer-Encoding": "chunked"})
        conn.wfile.flush()
        _stall(conn, stopping)
        conn.close_connection = True
        return True
    if fault.mode == "close":
        conn.read_body()
        conn.start_response(200, length=4096)
        conn.wfile.write(b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"meta')
        conn.wfile.flush()
        conn.close_connection = True
        with contextlib.suppress(OSError):
            conn.request.shutdown(socket.SHUT_RDWR)
        return True
    if fault.mode == "garbage":
        conn.read_body()
        conn.send_bytes(200, b'{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"x"},,,]}garbage')
        return True
    if fault.status:
        conn.read_body()
        extra = {}
        retry = fault.retry_after if fault.retry_after is not None else (1 if fault.status == 429 else None)
        details: dict[str, Any] | None = None
        if retry is not None:
            extra["Retry-After"] = str(int(retry)) if float(retry).is_integer() else str(retry)
            details = {"retryAfterSeconds": int(float(retry))}
        conn.send_status(fault.status, FAULT_MESSAGES.get(fault.status, "injected fault"), details=details, extra=extra)
        return True
    return False  # latency-only fault


def _stall(conn: Connection, stopping: threading.Event) -> None:
    """Never answers: waits until the client hangs up or the server stops."""
    sock = conn.request
    while not stopping.is_set():
        try:
            r, _, _ = select.select([sock], [], [], 0.25)
            # Readable means the client sent more or hung up; either way a stalled request is over when
            # the read sees EOF.
            if r and not sock.recv(1):
                return
        except (OSError, ValueError):
            return
