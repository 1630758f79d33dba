"""kubectl's port-forward: SPDY/3.1 tunnelled in a WebSocket (subprotocol ``SPDY/3.1+portforward.k8s.io``).

kubectl 1.31+ port-forwards over a WebSocket whose binary messages carry a SPDY/3.1 byte stream (client-go's
``tunneling_dialer.go``; kube-apiserver un-tunnels it for the kubelet). On that stream kubectl opens, per accepted
local connection, an ``error`` stream and a ``data`` stream (``SYN_STREAM`` with the headers ``streamtype``,
``port`` and ``requestid``), waits for each ``SYN_REPLY``, half-closes the error stream at once and copies bytes
on the data stream. This module is the server side of that, enough for kubectl: ``SYN_STREAM`` → ``SYN_REPLY``,
``DATA`` (with ``FIN``), ``PING`` echoed, ``RST_STREAM``/``GOAWAY`` honoured, ``SETTINGS``/``WINDOW_UPDATE``
ignored (kubectl's spdystream does no flow control). Header blocks are zlib streams seeded with the SPDY/3
dictionary (one stream per direction for the whole connection, each block sync-flushed), built below from the
spec's definition.
"""

from __future__ import annotations

import struct
import threading
import zlib
from typing import Any

from kube9_desktop.sim.responders import Echo, HttpPage, declared_port, is_http
from kube9_desktop.sim.ws import WebSocket

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
_CHUNK = 64 * 1024

# The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): length-prefixed words, then text.
_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status|200 OK|version HTTP/1.1 url public set-cookie "
    "keep-alive origin"
)
_TEXT = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    words: list[str] = []
    for part in _WORDS.split("|"):
        # "200 OK" is the one word with a space; the separators split the rest.
        words.extend([part] if part == "200 OK" else part.split())
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + _TEXT.encode()


DICTIONARY = _dictionary()


def _control(ftype: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | 3, ftype, (flags << 24) | len(payload)) + payload


def _data(stream_id: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(payload)) + payload


def _nv(block: bytes) -> dict[str, str]:
    (count,) = struct.unpack_from(">I", block, 0)
    off, out = 4, {}
    for _ in range(count):
        (n,) = struct.unpack_from(">I", block, off)
        name = block[off + 4 : off + 4 + n].decode("latin-1")
        off += 4 + n
        (m,) = struct.unpack_from(">I", block, off)
        out[name.lower()] = block[off + 4 : off + 4 + m].decode("latin-1")
        off += 4 + m
    return out


class SpdyPortForward:
    """Serves one tunnelled SPDY connection (many forwarded connections) until the peer leaves.

    Args:
        ws: The accepted WebSocket.
        pod: The pod object.
        stopping: Set when the sim stops or the pod goes.
    """

    def __init__(self, ws: WebSocket, pod: dict[str, Any], stopping: threading.Event) -> None:
        self.ws, self.pod, self.stopping = ws, pod, stopping
        self.name = pod["metadata"]["name"]
        self.inflate = zlib.decompressobj(zdict=DICTIONARY)
        self.deflate = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY
        )
        self.buf = bytearray()
        self.pairs: dict[str, dict[str, int]] = {}  # requestid -> {"error": sid, "data": sid}
        self.streams: dict[int, Any] = {}  # data stream id -> responder
        self.error_of: dict[int, int] = {}  # data stream id -> its error stream id
        self.closed: set[int] = set()  # streams we have sent FIN on

    def send(self, frame: bytes) -> bool:
        return self.ws.send(frame)

    def run(self) -> None:
        for msg in self.ws.messages():
            self.buf += msg
            while len(self.buf) >= 8:
                (length,) = struct.unpack_from(">I", self.buf, 4)
                length &= 0xFFFFFF
                if len(self.buf) < 8 + length:
                    break
                frame, self.buf = bytes(self.buf[: 8 + length]), self.buf[8 + length :]
                if not self.frame(frame):
                    return
            if self.stopping.is_set():
                return

    def frame(self, frame: bytes) -> bool:
        """Handles one frame; False ends the connection."""
        head, flags, payload = frame[:4], frame[4], frame[8:]
        if not head[0] & 0x80:
            (sid,) = struct.unpack(">I", head)
            self.on_data(sid & 0x7FFFFFFF, flags, payload)
            return True
        (ftype,) = struct.unpack(">H", head[2:4])
        if ftype == SYN_STREAM:
            (sid,) = struct.unpack_from(">I", payload, 0)
            self.on_syn(sid & 0x7FFFFFFF, _nv(self.inflate.decompress(payload[10:])))
        elif ftype == PING:
            return self.send(frame)
        elif ftype == RST_STREAM:
            (sid,) = struct.unpack_from(">I", payload, 0)
            self.streams.pop(sid & 0x7FFFFFFF, None)
        elif ftype == GOAWAY:
            return False
        return True

    def reply(self, sid: int) -> None:
        block = self.deflate.compress(struct.pack(">I", 0)) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.send(_control(SYN_REPLY, 0, struct.pack(">I", sid) + block))

    def fin(self, sid: int) -> None:
        if sid not in self.closed:
            self.closed.add(sid)
            self.send(_data(sid, FLAG_FIN, b""))

    def on_syn(self, sid: int, headers: dict[str, str]) -> None:
        self.reply(sid)
        rid = headers.get("requestid", str(sid))
        kind = headers.get("streamtype", "")
        pair = self.pairs.setdefault(rid, {})
        pair[kind] = sid
        if kind != "data":
            return
        port = int(headers.get("port", "0") or 0)
        err_sid = pair.get("error")
        if err_sid is not None:
            self.error_of[sid] = err_sid
        entry = declared_port(self.pod, port)
        if entry is None:
            if err_sid is not None:
                uid = self.pod["metadata"].get("uid", "")
                text = (
                    f"error forwarding port {port} to pod {self.name}, uid {uid}: failed to connect to "
                    f'localhost:{port} inside namespace "{self.name}": connection refused'
                )
                self.send(_data(err_sid, 0, text.encode()))
                self.fin(err_sid)
            self.fin(sid)
            return

        def out(data: bytes, sid: int = sid) -> bool:
            return all(self.send(_data(sid, 0, data[i : i + _CHUNK])) for i in range(0, len(data), _CHUNK))

        def close(sid: int = sid) -> None:
            self.streams.pop(sid, None)
            self.fin(sid)
            err = self.error_of.pop(sid, None)
            if err is not None:
                self.fin(err)

        responder: Any = (
            HttpPage(self.name, self.pod["metadata"].get("namespace", ""), port, out, close)
            if is_http(port, entry)
            else Echo(out)
        )
        self.streams[sid] = responder

    def on_data(self, sid: int, flags: int, payload: bytes) -> None:
        responder = self.streams.get(sid)
        if responder is not None and payload:
            responder.feed(payload)
        if flags & FLAG_FIN and sid in self.streams:
            # The local side closed: the connection to the container port ends; so do both streams.
            self.streams.pop(sid, None)
            self.fin(sid)
            err = self.error_of.pop(sid, None)
            if err is not None:
                self.fin(err)
