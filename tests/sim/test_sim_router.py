"""The sim's data-driven router: an area added as one module serves every method and can take over a socket."""

from __future__ import annotations

import http.client as httpclient
import json
import socket
import ssl
import types
from collections.abc import Iterator

import pytest

from kube9_desktop.sim.handlers import AREAS
from kube9_desktop.sim.handlers.base import ALL_METHODS, PathRoute, Request, ResourceRequest, ResourceRoute
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.server import SimServer


def _echo_path(req: Request) -> None:
    req.conn.send_json(200, {"method": req.method, "x": req.params["x"], "body": req.body.decode()})


def _echo_upgrade(req: ResourceRequest) -> None:
    if req.upgrade != "x-echo":
        req.conn.send_status(400, "upgrade required")
        return
    _sock, rfile, wfile = req.take_over()
    wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\n")
    wfile.write(f"{req.namespace}/{req.name} {req.verb}\n".encode())
    wfile.flush()
    # Raw bytes both ways until the peer says bye: the HTTP parser is out of the way.
    while line := rfile.readline():
        wfile.write(line.upper())
        wfile.flush()
        if line == b"bye\n":
            break


# A new API area is one module with ROUTES, appended to the list of areas.
_AREA = types.ModuleType("echo_area")
_AREA.ROUTES = [  # type: ignore[attr-defined]
    PathRoute("/custom/(?P<x>[^/]+)", _echo_path, ALL_METHODS),
    ResourceRoute(_echo_upgrade, frozenset({"GET", "POST"}), resources=frozenset({"pods"}), sub="echo", verb="create"),
]


@pytest.fixture(scope="module")
def srv() -> Iterator[SimServer]:
    with SimServer(nodes=1, namespaces=3, pods=5, areas=[*AREAS, _AREA]) as s:
        yield s


def _ctx(srv: SimServer) -> ssl.SSLContext:
    assert srv.pki is not None
    return ssl.create_default_context(cadata=srv.pki.ca_cert.decode())


def _request(
    srv: SimServer, method: str, path: str, body: bytes | None = None, token: str | None = None
) -> tuple[int, bytes]:
    conn = httpclient.HTTPSConnection("127.0.0.1", srv.port, context=_ctx(srv), timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Authorization": f"Bearer {token or srv.auth.admin_token}"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_added_path_route_serves_every_method(srv: SimServer, method: str) -> None:
    status, body = _request(srv, method, "/custom/abc", b"payload" if method != "GET" else None)
    assert status == 200
    assert json.loads(body) == {"method": method, "x": "abc", "body": "payload" if method != "GET" else ""}


def test_added_subresource_takes_over_the_socket(srv: SimServer) -> None:
    pod = srv.store.scan(BY_NAME["pods"], None, "", None, 1)[0][0]
    head = (
        f"GET /api/v1/namespaces/{pod.namespace}/pods/{pod.name}/echo HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {srv.auth.admin_token}\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\n"
    )
    with (
        socket.create_connection(("127.0.0.1", srv.port), timeout=5) as raw,
        _ctx(srv).wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        # The first raw line rides in the same write as the request head, so it sits in the server's buffer.
        tls.sendall(head.encode() + b"hello\n")
        f = tls.makefile("rb")
        assert f.readline() == b"HTTP/1.1 101 Switching Protocols\r\n"
        while f.readline() != b"\r\n":
            pass
        assert f.readline() == f"{pod.namespace}/{pod.name} create\n".encode()
        assert f.readline() == b"HELLO\n"
        tls.sendall(b"bye\n")
        assert f.readline() == b"BYE\n"
        # The handler returned: the server closes the connection instead of parsing more HTTP.
        assert f.readline() == b""


def test_added_subresource_is_authorized_and_unknown_ones_stay_404(srv: SimServer) -> None:
    pod = srv.store.scan(BY_NAME["pods"], None, "", None, 1)[0][0]
    base = f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}"
    status, body = _request(srv, "POST", base + "/echo", token=srv.auth.viewer_token)
    assert status == 403 and "cannot create resource" in json.loads(body)["message"]
    status, _ = _request(srv, "PUT", base + "/echo")
    assert status == 405
    status, _ = _request(srv, "GET", base + "/nosuch")
    assert status == 404
