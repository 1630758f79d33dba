"""kube/wschannel.FrameReader: the server's frames, as wsproto (the sim's WebSocket library) writes them, read back
over a real socket: lengths of every size class, fragmented messages, pings, close, and a masked frame refused."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

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


def test_closing_a_bulk_channel_wakes_its_reader_which_releases_the_socket(
        ssim: Any, client: Any, running_pods: Any) -> None:
    """Through the sim: a port-forward channel read by FrameReader, closed from another thread while its reader
    waits. The reader wakes with None, and the file descriptor is closed by the reader on its way out (closing it
    under a read let OpenSSL write an alert into whatever reused the number)."""
    from kube9_desktop.kube.portforward import PROTOCOLS
    from kube9_desktop.kube.wschannel import open_channel

    pod = running_pods(ssim)[0]["metadata"]["name"]
    ws = open_channel(client, f"/api/v1/namespaces/team-a/pods/{pod}/portforward", [("ports", "8080")], PROTOCOLS,
                      bulk=True)
    # The two port prefixes arrive first (data and error channel), then nothing until we send a request.
    assert ws.recv() == (0, b"\x90\x1f") and ws.recv() == (1, b"\x90\x1f")
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(ws.recv()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while not ws._reading and time.monotonic() < deadline:  # the reader is inside its read
        time.sleep(0.01)
    assert ws._reading
    ws.close()
    reader.join(10)
    assert not reader.is_alive() and got == [None]
    assert ws.ws.sock is None  # released by the reader after it woke
    ws.close()  # idempotent
    assert not ws.send(0, b"GET / HTTP/1.1\r\n\r\n")  # a send after close fails instead of writing anywhere
