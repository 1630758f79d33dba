"""What a :class:`~kube9_desktop.kube.client.ContextClient` request returns: a read :class:`Response`, or an open
:class:`Stream` read as it arrives (watches, log follows) and closed by its owner.

Libraries: a Stream wraps the urllib3 response :mod:`.client` opened (reading and closing it only); failures
become KubeError through :mod:`.status_errors`, as everywhere in the client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from kube9_desktop.kube.status_errors import transform_exception

if TYPE_CHECKING:
    from kube9_desktop.kube.client import ContextClient

log = logging.getLogger(__name__)


class Response:
    """A completed raw response: status, headers and the body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body parsed with orjson."""
        return orjson.loads(self.body)


#: Bytes of an error answer's body read when a stream's request fails (a Status is far smaller).
ERROR_BODY_LIMIT = 64 * 1024


class Stream:
    """An open response whose body is read as it arrives; iterate for chunks, ``close()`` from any thread.

    Made by :meth:`ContextClient.stream`. Iteration yields the body's byte chunks as they come (or lines with
    :meth:`iter_lines`) and raises KubeError if the connection fails; after :meth:`close` it just ends.

    Attributes:
        status: The HTTP status (2xx).
        headers: The response headers.
    """

    def __init__(self, raw: Any, client: ContextClient) -> None:
        self._raw = raw
        self._client = client
        self.status: int = raw.status
        self.headers: Mapping[str, str] = raw.headers
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed.is_set()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def iter_chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body's chunks as they arrive, at most ``size`` bytes each; raises KubeError on a failed read."""
        c = self._client
        try:
            for chunk in self._raw.stream(size, decode_content=True):
                with c._stats.lock:
                    c._stats.bytes_received += len(chunk)
                yield chunk
        except Exception as exc:
            if self.closed:
                return
            raise transform_exception(exc, context=c.context, server=c.server, options=c.options,
                                      exec_command=c.exec_command) from None
        finally:
            if not self.closed:
                self._raw.release_conn()

    def iter_lines(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body split at newlines (without them), as the lines complete; the last one even if unterminated."""
        buf = b""
        for chunk in self.iter_chunks(size):
            buf += chunk
            if b"\n" not in chunk:
                continue
            *lines, buf = buf.split(b"\n")
            yield from lines
        if buf:
            yield buf

    def close(self) -> None:
        """End the stream now, also when another thread is blocked reading it; safe to call twice."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            if hasattr(self._raw, "shutdown"):
                self._raw.shutdown()
            self._raw.close()
            self._raw.release_conn()
        except Exception:  # closing must never fail the owner; the connection is gone either way
            log.debug("closing stream of %s failed", self._client.context, exc_info=True)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
