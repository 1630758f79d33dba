"""kube/wschannel.FrameReader: the server's frames, as wsproto (the sim's WebSocket library) writes them, read back
over a real socket: lengths of every size class, fragmented messages, pings, close, and a masked frame refused."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping

from kube9_desktop.kube.wschannel import FrameReader


def _server() -> Connection:
    return Connection(ConnectionType.SERVER)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _send_all(sock: socket.socket, data: bytes) -> threading.Thread:
    # A writer thread: frames larger than the socket buffer block until the reader reads.
    t = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 3 * 1024 * 1024])
def test_lengths_of_every_size_class_come_back_whole(pair: tuple[socket.socket, socket.socket], size: int) -> None:
    server, client = pair
    payload = bytes(i % 251 for i in range(size))
    writer = _send_all(server, _server().send(BytesMessage(data=payload)) * 3)
    reader = FrameReader(client)
    for _ in range(3):
        assert reader.frame() == (0x2, True, payload)
    writer.join(10)


def test_fragments_pings_and_close_in_order(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    ws = _server()
    wire = (ws.send(BytesMessage(data=b"\x00abc", message_finished=False)) + ws.send(Ping(b"hi"))
            + ws.send(BytesMessage(data=b"def", message_finished=True)) + ws.send(CloseConnection(code=1000)))
    # Byte by byte: every frame boundary falls mid-read somewhere.
    writer = threading.Thread(target=lambda: [server.sendall(wire[i:i + 1]) for i in range(len(wire))], daemon=True)
    writer.start()
    reader = FrameReader(client)
    assert reader.frame() == (0x2, False, b"\x00abc")
    assert reader.frame() == (0x9, True, b"hi")
    assert reader.frame() == (0x0, True, b"def")
    opcode, final, body = reader.frame()
    assert (opcode, final, int.from_bytes(body[:2], "big")) == (0x8, True, 1000)
    writer.join(10)
    server.shutdown(socket.SHUT_WR)
    with pytest.raises(EOFError):
        reader.frame()


def test_a_masked_frame_from_the_server_is_refused(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    # A client's frame is masked (wsproto as a client masks, as RFC 6455 requires of clients only).
    masked = Connection(ConnectionType.CLIENT).send(BytesMessage(data=b"payload"))
    server.sendall(masked)
    with pytest.raises(ValueError, match="masked"):
        FrameReader(client).frame()


def test_a_whole_data_message_comes_split_into_channel_and_data(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    ws = _server()
    server.sendall(ws.send(Ping(b"\x01hi")) + ws.send(BytesMessage(data=b"\x01abc", message_finished=False))
                   + ws.send(BytesMessage(data=b"def")) + ws.send(BytesMessage(data=b"\x02xyz")))
    reader = FrameReader(client)
    # Control frames and fragments are never split; a whole data message is (its channel byte and the rest).
    assert reader.split_frame() == (0x9, True, -1, b"\x01hi")
    assert reader.split_frame() == (0x2, False, -1, b"\x01abc")
    assert reader.split_frame(False) == (0x0, True, -1, b"def")
    assert reader.split_frame() == (0x2, True, 2, b"xyz")
