"""``pods/exec``, ``pods/attach`` and ``pods/portforward`` over WebSocket, as kube-apiserver + kubelet answer.

Exec/attach: subprotocols ``v5.channel.k8s.io`` (preferred; adds the close signal 255), ``v4.channel.k8s.io``
and ``channel.k8s.io``; channels 0 stdin, 1 stdout, 2 stderr, 3 status (v4+: a ``Status`` JSON — ``Success`` or
``NonZeroExitCode`` with an ``ExitCode`` cause), 4 resize (``{"Width":..,"Height":..}``). The command runs in
:class:`~kube9_desktop.sim.shell.SimShell`, never on the host.

Port-forward: kubelet's WebSocket protocol (``v4.channel.k8s.io``, ``channel.k8s.io``, ``portforward.k8s.io``):
one WebSocket per forwarded connection, ``?ports=P[,Q]``; port i has data channel 2i and error channel 2i+1,
and the server first writes each port number (uint16 little-endian) on both. Behind each port is a responder
(:mod:`kube9_desktop.sim.responders`). kubectl's own port-forward tunnels SPDY inside the WebSocket
(``SPDY/3.1+portforward.k8s.io``), served by :mod:`kube9_desktop.sim.spdy`; a plain SPDY upgrade (kubectl's
fallback) is answered 400 (see the sim README).

Errors before the upgrade are answered like the real server: unknown container 400, no node 400, container not
running 500 ``container not found ("c")`` (the kubelet's plain-text answer), kubelet unreachable (``POST
/simz/kubelet {"reachable": false}``) 500 ``error dialing backend``. RBAC is ``create`` on the subresource.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import urllib.parse
from typing import Any

import orjson

from kube9_desktop.sim.handlers.base import Access, PathRoute, Request, ResourceRequest, ResourceRoute, obj_not_found
from kube9_desktop.sim.responders import Echo, HttpPage, declared_port, is_http
from kube9_desktop.sim.shell import SimShell
from kube9_desktop.sim.spdy import TUNNEL_PROTOCOL, SpdyPortForward
from kube9_desktop.sim.ws import WebSocket, is_websocket, offered_protocols

EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io")
PF_PROTOCOLS = ("v4.channel.k8s.io", "channel.k8s.io", "portforward.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
#: kube-apiserver's answer when the kubelet of the pod's node cannot be reached.
_KUBELET_DOWN = "error dialing backend: dial tcp {ip}:10250: connect: connection refused"


def _multi_query(req: Request) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(req.conn.path).query, keep_blank_values=True)


def _flag(q: dict[str, list[str]], name: str) -> bool:
    return (q.get(name) or [""])[-1].lower() in ("1", "true")


def _pick(offered: list[str], supported: tuple[str, ...]) -> str | None:
    return next((p for p in offered if p in supported), None)


def _pod_checks(req: ResourceRequest, container: str | None) -> tuple[dict[str, Any], str] | None:
    """Shared checks before an upgrade; answers the error and returns None, or (pod, container)."""
    store, rtype, name = req.sim.store, req.rtype, req.name or ""
    obj = store.get(rtype, req.namespace, name)
    if obj is None:
        obj_not_found(req, rtype, name)
        return None
    pod = obj.to_dict()
    names = [c["name"] for c in pod["spec"].get("containers", [])]
    if container is None:
        container = names[0] if len(names) == 1 else ""
        if not container:
            req.conn.send_status(
                400, f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            )
            return None
    elif container not in names:
        req.conn.send_status(400, f"container {container} is not valid for pod {name}")
        return None
    if not pod["spec"].get("nodeName"):
        req.conn.send_status(400, f"pod {name} does not have a host assigned")
        return None
    if getattr(req.sim, "kubelet_down", False):
        ip = pod.get("status", {}).get("hostIP", "10.0.0.11")
        req.conn.send_status(500, _KUBELET_DOWN.format(ip=ip))
        return None
    return pod, container


def _container_running(pod: dict[str, Any], container: str) -> bool:
    for cs in pod.get("status", {}).get("containerStatuses", []) or []:
        if cs.get("name") == container:
            return "running" in (cs.get("state") or {})
    return False


def _watch_pod(req: ResourceRequest, stop: threading.Event, on_gone: Any) -> threading.Thread:
    """Calls ``on_gone`` once if the pod is deleted before ``stop`` is set."""

    def run() -> None:
        while not stop.wait(0.25):
            if req.sim.stopping.is_set() or req.sim.store.get(req.rtype, req.namespace, req.name or "") is None:
                on_gone()
                return

    t = threading.Thread(target=run, name="sim-pod-watch", daemon=True)
    t.start()
    return t


def _status_json(code: int, argv: list[str], runtime_error: str | None) -> bytes:
    if runtime_error:
        return orjson.dumps(
            {
                "metadata": {},
                "status": "Failure",
                "message": f"Internal error occurred: {runtime_error}",
                "reason": "InternalError",
                "details": {"causes": [{"message": runtime_error}]},
                "code": 500,
            }
        )
    if code == 0:
        return orjson.dumps({"metadata": {}, "status": "Success"})
    return orjson.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command {argv}, exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    )


def exec_(req: ResourceRequest) -> None:
    """``pods/{name}/exec`` and ``pods/{name}/attach``."""
    q = _multi_query(req)
    attach = req.sub == "attach"
    container = (q.get("container") or [""])[-1] or None
    checked = _pod_checks(req, container)
    if checked is None:
        return
    pod, container = checked
    argv = q.get("command") or []
    if not attach and not argv:
        req.conn.send_status(400, "you must specify at least one command for the container")
        return
    if not _container_running(pod, container):
        req.conn.send_bytes(500, f'container not found ("{container}")'.encode(), "text/plain; charset=utf-8")
        return
    if not is_websocket(req.conn):
        _refuse_spdy(req)
        return
    offered = offered_protocols(req.conn)
    # A server before Kubernetes 1.30 knows no v5 (``POST /simz/kubelet {"v5": false}``): clients fall back to v4.
    supported = EXEC_PROTOCOLS if req.sim.exec_v5 else EXEC_PROTOCOLS[1:]
    protocol = _pick(offered, supported)
    if offered and protocol is None:
        req.conn.send_status(400, f"requested protocol(s) are not supported: {offered}; supports {list(supported)}")
        return
    WebSocket.accept(req.conn, protocol)
    sock, rfile, wfile = req.take_over()
    ws = WebSocket(sock, rfile, wfile, req.sim.stopping)
    version = 5 if protocol == EXEC_PROTOCOLS[0] else 4 if protocol == EXEC_PROTOCOLS[1] else 1
    want = {STDOUT: _flag(q, "stdout"), STDERR: _flag(q, "stderr")}
    tty = _flag(q, "tty")
    if attach:
        argv = ["sh"]

    def out(channel: int, data: bytes) -> None:
        if want.get(channel) or (tty and channel == STDOUT):
            ws.send(bytes([channel]) + data)

    session_end = threading.Event()
    shell = SimShell(pod, container, argv, tty, out, session_end)
    if not _flag(q, "stdin"):
        shell.close_stdin()

    def run_shell() -> None:
        code, runtime_error = shell.run()
        if version >= 4:
            ws.send(bytes([STATUS]) + _status_json(code, argv, runtime_error))
        elif code or runtime_error:
            ws.send(bytes([STATUS]) + (runtime_error or f"command terminated with exit code {code}").encode())
        ws.close()
        # A client that never answers the close frame must not keep the connection thread.
        if not session_end.wait(5):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def gone() -> None:
        session_end.set()
        ws.close(1011)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    runner = threading.Thread(target=run_shell, name="sim-shell", daemon=True)
    runner.start()
    _watch_pod(req, session_end, gone)
    try:
        for msg in ws.messages():
            if not msg:
                continue
            ch, data = msg[0], msg[1:]
            if ch == STDIN:
                shell.feed(data)
            elif ch == RESIZE:
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    size = orjson.loads(data)
                    shell.resize(int(size.get("Width", 0)), int(size.get("Height", 0)))
            elif ch == CLOSE and version == 5 and data[:1] == bytes([STDIN]):
                shell.close_stdin()
    finally:
        session_end.set()
        shell.close_stdin()
        runner.join(2)


def _refuse_spdy(req: Request) -> None:
    """kubectl's fallback (SPDY upgrade) and its SPDY-in-WebSocket tunnel get a clear 400."""
    req.conn.send_status(
        400,
        "kube9-sim speaks only WebSocket (v5/v4.channel.k8s.io) for exec/attach/port-forward, not SPDY "
        f"(asked for: {req.conn.headers.get('Upgrade', '') or 'no upgrade'})",
    )


def portforward(req: ResourceRequest) -> None:
    """``pods/{name}/portforward`` (one WebSocket per forwarded connection)."""
    q = _multi_query(req)
    store, name = req.sim.store, req.name or ""
    obj = store.get(req.rtype, req.namespace, name)
    if obj is None:
        obj_not_found(req, req.rtype, name)
        return
    pod = obj.to_dict()
    if not pod["spec"].get("nodeName"):
        req.conn.send_status(400, f"pod {name} does not have a host assigned")
        return
    if getattr(req.sim, "kubelet_down", False):
        req.conn.send_status(500, _KUBELET_DOWN.format(ip=pod.get("status", {}).get("hostIP", "10.0.0.11")))
        return
    if pod.get("status", {}).get("phase") != "Running":
        req.conn.send_bytes(
            500, f"unable to do port forwarding: pod {name} is not running".encode(), "text/plain; charset=utf-8"
        )
        return
    offered = offered_protocols(req.conn)
    protocol = _pick(offered, PF_PROTOCOLS)
    if is_websocket(req.conn) and protocol is None and TUNNEL_PROTOCOL in offered:
        _spdy_tunnel(req, pod)
        return
    if not is_websocket(req.conn) or (offered and protocol is None):
        _refuse_spdy(req)
        return
    ports: list[int] = []
    for value in q.get("ports") or []:
        for p in value.split(","):
            if not p.strip().isdigit() or not 0 < int(p) < 65536:
                req.conn.send_status(400, f"invalid port {p!r}")
                return
            ports.append(int(p))
    if not ports:
        req.conn.send_status(400, "at least one port must be specified (ports=N)")
        return
    WebSocket.accept(req.conn, protocol)
    sock, rfile, wfile = req.take_over()
    ws = WebSocket(sock, rfile, wfile, req.sim.stopping)
    uid = pod["metadata"].get("uid", "")
    responders: dict[int, Any] = {}
    for i, port in enumerate(ports):
        data_ch, err_ch = 2 * i, 2 * i + 1
        prefix = struct.pack("<H", port)
        ws.send(bytes([data_ch]) + prefix)
        ws.send(bytes([err_ch]) + prefix)
        entry = declared_port(pod, port)

        def send(data: bytes, ch: int = data_ch) -> bool:
            return ws.send(bytes([ch]) + data)

        if entry is None:
            ws.send(
                bytes([err_ch])
                + (
                    f"error forwarding port {port} to pod {name}, uid {uid}: failed to connect to localhost:{port} "
                    f'inside namespace "{name}": connection refused'
                ).encode()
            )
            continue
        responders[data_ch] = (
            HttpPage(name, req.namespace or "", port, send, lambda: ws.close(1000))
            if is_http(port, entry)
            else Echo(send)
        )

    stop = threading.Event()

    def gone() -> None:
        for i, port in enumerate(ports):
            ws.send(
                bytes([2 * i + 1]) + f"error forwarding port {port} to pod {name}, uid {uid}: pod not found".encode()
            )
        ws.close(1000)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    _watch_pod(req, stop, gone)
    try:
        for msg in ws.messages():
            if len(msg) > 1 and msg[0] in responders:
                responders[msg[0]].feed(msg[1:])
    finally:
        stop.set()
        ws.close()


def _spdy_tunnel(req: ResourceRequest, pod: dict[str, Any]) -> None:
    """kubectl's port-forward: SPDY inside the WebSocket (see :mod:`kube9_desktop.sim.spdy`)."""
    WebSocket.accept(req.conn, TUNNEL_PROTOCOL)
    sock, rfile, wfile = req.take_over()
    ws = WebSocket(sock, rfile, wfile, req.sim.stopping)
    stop = threading.Event()

    def gone() -> None:
        ws.close(1000)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    _watch_pod(req, stop, gone)
    try:
        SpdyPortForward(ws, pod, req.sim.stopping).run()
    finally:
        stop.set()
        ws.close()


def kubelet_reachability(req: Request) -> None:
    """``GET/POST /simz/kubelet {"reachable": bool, "v5": bool}``: makes every kubelet unreachable (or back);
    ``"v5": false`` answers exec/attach as a server before Kubernetes 1.30 (no ``v5.channel.k8s.io``).

    A POST changes only the keys it names."""
    if req.method == "POST":
        try:
            body = orjson.loads(req.body or b"{}")
            if "reachable" in body:
                req.sim.kubelet_down = not bool(body["reachable"])
            if "v5" in body:
                req.sim.exec_v5 = bool(body["v5"])
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            req.conn.send_status(400, 'expected {"reachable": true|false, "v5": true|false}')
            return
    req.conn.send_json(
        200, {"reachable": not getattr(req.sim, "kubelet_down", False), "v5": req.sim.exec_v5}
    )


_STREAM_METHODS = frozenset({"GET", "POST"})
ROUTES = [
    ResourceRoute(exec_, _STREAM_METHODS, resources=frozenset({"pods"}), sub="exec", named=True, verb="create"),
    ResourceRoute(exec_, _STREAM_METHODS, resources=frozenset({"pods"}), sub="attach", named=True, verb="create"),
    ResourceRoute(
        portforward, _STREAM_METHODS, resources=frozenset({"pods"}), sub="portforward", named=True, verb="create"
    ),
    PathRoute("/simz/kubelet", kubelet_reachability, frozenset({"GET", "POST"}), access=Access.ADMIN),
]
