"""ContextClient's generic request (any verb, body, headers) and its stream, against a real local HTTP server."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import ContextClient, make_client
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.status_errors import RequestInfo

TOKEN = "raw-test-token"


class _Recorder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[dict[str, Any]] = []
        # path -> (status, headers, body chunks with the pause before each)
        self.answers: dict[str, tuple[int, dict[str, str], list[tuple[float, bytes]]]] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.seen.append({"method": self.command, "path": self.path, "headers": self.headers,
                                 "body": body})
        status, headers, chunks = self.server.answers.get(self.path.split("?")[0], (200, {}, [(0.0, b"{}")]))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        if len(chunks) == 1 and not chunks[0][0]:
            self.send_header("Content-Length", str(len(chunks[0][1])))
            self.end_headers()
            self.wfile.write(chunks[0][1])
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for pause, data in chunks:
                time.sleep(pause)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client closed the stream

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _any


@pytest.fixture
def server() -> Iterator[_Recorder]:
    srv = _Recorder()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@pytest.fixture
def client(server: _Recorder, tmp_path: Path) -> Iterator[ContextClient]:
    port = server.server_address[1]
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "raw",
           "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
           "users": [{"name": "u", "user": {"token": TOKEN}}],
           "contexts": [{"name": "raw", "context": {"cluster": "c", "user": "u"}}]}
    p = tmp_path / "kubeconfig"
    p.write_text(yaml.safe_dump(cfg))
    c = make_client(load_kubeconfig(str(p)), "raw", KubeOptions(read_timeout=5.0))
    try:
        yield c
    finally:
        c.close()


def test_send_patch_sends_the_body_and_content_type_as_given(server: _Recorder, client: ContextClient) -> None:
    patch = b'[{"op":"replace","path":"/spec/replicas","value":3}]'
    resp = client.send("PATCH", "/apis/apps/v1/namespaces/a/deployments/web", body=patch,
                       content_type="application/json-patch+json", query=[("fieldManager", "kube9")])
    assert resp.status == 200
    (req,) = server.seen
    assert req["method"] == "PATCH"
    assert req["path"] == "/apis/apps/v1/namespaces/a/deployments/web?fieldManager=kube9"
    assert req["headers"]["Content-Type"] == "application/json-patch+json"
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["body"] == patch


def test_send_serialises_a_mapping_as_json(server: _Recorder, client: ContextClient) -> None:
    client.send("PUT", "/api/v1/namespaces/a/configmaps/x", body={"data": {"k": "v"}},
                headers={"X-Extra": "1"})
    (req,) = server.seen
    assert (req["method"], req["body"], req["headers"]["Content-Type"], req["headers"]["X-Extra"]) == (
        "PUT", b'{"data":{"k":"v"}}', "application/json", "1")


def test_a_failed_write_is_not_retried(server: _Recorder, client: ContextClient) -> None:
    server.answers["/api/v1/namespaces/a/pods/p"] = (503, {}, [(0.0, b'{"kind":"Status","message":"down"}')])
    with pytest.raises(KubeError) as ei:
        client.send("DELETE", "/api/v1/namespaces/a/pods/p",
                    info=RequestInfo(verb="delete", resource="pods", namespace="a", name="p"))
    assert ei.value.kind is ErrorKind.SERVER
    assert [r["method"] for r in server.seen] == ["DELETE"]
    # The retried GET path does retry the same answer (the contrast that makes the test meaningful).
    with pytest.raises(KubeError):
        client.request("/api/v1/namespaces/a/pods/p")
    assert len(server.seen) == 1 + 1 + client.options.retries


def test_stream_yields_lines_as_they_arrive(server: _Recorder, client: ContextClient) -> None:
    server.answers["/api/v1/pods"] = (200, {}, [(0.0, b'{"a":1}\n{"b"'), (0.2, b':2}\n'), (0.0, b"tail")])
    got: list[tuple[float, bytes]] = []
    started = time.monotonic()
    with client.stream("/api/v1/pods", [("watch", "1")]) as s:
        assert s.status == 200
        for line in s.iter_lines():
            got.append((time.monotonic() - started, line))
    assert [line for _, line in got] == [b'{"a":1}', b'{"b":2}', b"tail"]
    assert got[0][0] < 0.15  # the first line came before the server's pause, not with the whole body


def test_closing_a_stream_ends_a_blocked_read(server: _Recorder, client: ContextClient) -> None:
    server.answers["/api/v1/pods"] = (200, {}, [(0.0, b"first\n"), (30.0, b"never\n")])
    s = client.stream("/api/v1/pods", [("watch", "1")])
    lines: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        lines.extend(s.iter_lines())
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    s.close()
    assert done.wait(3), "close() did not end the read blocked on a silent server"
    assert lines == [b"first"]


def test_stream_error_status_is_a_kube_error(server: _Recorder, client: ContextClient) -> None:
    status = (b'{"kind":"Status","code":403,"reason":"Forbidden","message":"secrets is forbidden: '
              b'User \\"x\\" cannot watch resource \\"secrets\\" in API group \\"\\" at the cluster scope"}')
    server.answers["/api/v1/secrets"] = (403, {}, [(0.0, status)])
    with pytest.raises(KubeError) as ei:
        client.stream("/api/v1/secrets", [("watch", "1")])
    assert ei.value.kind is ErrorKind.FORBIDDEN
    assert "watch" in ei.value.message
