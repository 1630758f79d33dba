"""PortForward against kube9-sim over real sockets: pods, Services, many connections, volume, pods going away."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.forward_target import ForwardSpec
from kube9_desktop.kube.portforward import FORWARDS, ForwardState, PortForward
from kube9_desktop.sim.process import SimProcess


@pytest.fixture
def forwards() -> Iterator[list[PortForward]]:
    made: list[PortForward] = []
    yield made
    for f in made:
        FORWARDS.remove(f)
        f.join(5)


def start(client: ContextClient, made: list[PortForward], kind: str, name: str, port: str) -> PortForward:
    f = PortForward(client, ForwardSpec("sim-admin", "team-a", kind, name, port), poll_interval=0.3).start()
    made.append(f)
    assert f.wait_ready(10), f.message
    return f


def http_get(port: int, path: str = "/", timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(65536)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
        header, _, first = head.partition(b"\r\n\r\n")
        body = bytearray(first)
        length = int(
            next(ln.split(b":")[1] for ln in header.split(b"\r\n") if ln.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            chunk = s.recv(1 << 20)
            assert chunk, "connection closed mid-body"
            body += chunk
        return bytes(body)


def wait_for(pred: object, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_pod_forward_listens_on_loopback_and_serves_the_pods_page(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[0]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "http")
    assert f.address.startswith("127.0.0.1:") and f.local_port > 0 and f.pod_port == 8080 and f.http
    assert pod.encode() in http_get(f.local_port)
    wait_for(lambda: f.total == 1 and f.active == 0)
    assert f.bytes_out > 0 and f.bytes_in > 100


def test_a_service_forward_resolves_a_ready_pod_and_the_target_port(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    svc = ssim.request("GET", "/api/v1/namespaces/team-a/services/api")
    f = start(client, forwards, "services", "api", "80")
    pod = ssim.request("GET", f"/api/v1/namespaces/team-a/pods/{f.pod}")
    assert all(pod["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items())
    assert f.pod_port == svc["spec"]["ports"][0]["targetPort"]
    assert f.pod.encode() in http_get(f.local_port)
    assert f.pod == kubectls_pod(ssim, "svc/api", "0:80")  # the pod kubectl picks for the same Service


def kubectls_pod(sim: SimProcess, target: str, ports: str) -> str:
    """The pod ``kubectl port-forward`` forwards to (read from its request log once a connection went through)."""
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "-n", "team-a", "port-forward", "-v=6",
         target, ports],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "Forwarding from 127.0.0.1:" in line, line
        http_get(int(line.split("127.0.0.1:")[1].split()[0]))
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    found = re.search(r"/pods/([^/\s]+)/portforward", err)
    assert found, err[-2000:]
    return found.group(1)


def test_a_service_port_by_name_and_a_named_target_port_resolve_as_kubectl_resolves_them(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward]
) -> None:
    # targetPort "http" is the pods' container port of that name (8080), as kubectl looks it up.
    ssim.request("POST", "/api/v1/namespaces/team-a/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "api-named", "namespace": "team-a"},
        "spec": {"selector": {"app": "api"}, "ports": [{"name": "web", "port": 81, "targetPort": "http"}]},
    })
    try:
        for port in ("81", "web"):
            f = start(client, forwards, "services", "api-named", port)
            assert f.pod_port == 8080 and f.http and f.pod.startswith("api-")
            assert f.pod.encode() in http_get(f.local_port)
    finally:
        ssim.request("DELETE", "/api/v1/namespaces/team-a/services/api-named")


def test_fifty_concurrent_connections_each_get_their_answer(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[0]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "8080")
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = http_get(f.local_port, f"/bytes/{1000 + i}", timeout=30)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert sorted(len(v) for v in results.values()) == [1000 + i for i in range(50)]
    wait_for(lambda: f.total == 50 and f.active == 0)


def test_a_hundred_megabytes_go_through_one_connection(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[0]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "8080")
    size = 100 * 1024 * 1024
    body = http_get(f.local_port, f"/bytes/{size}", timeout=120)
    assert len(body) == size and body[:16] == b"kube9-sim-bytes."
    wait_for(lambda: f.bytes_in >= size)


def test_a_slow_local_reader_gets_every_byte_in_order(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    # The forward writes to the local socket itself while it takes the bytes at once and hands the rest to its
    # writer thread: a reader with a tiny receive buffer that pauses makes both happen, many times, mid-message.
    pod = running_pods(ssim)[0]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "8080")
    size = 16 * 1024 * 1024 + 5  # more than the local socket's buffers hold: the writer queues the rest
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(60)
        s.connect(("127.0.0.1", f.local_port))
        s.sendall(f"GET /bytes/{size} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.5)  # not reading: the socket's buffers fill, later messages wait for the writer thread
        data = bytearray()
        reads = 0
        while True:
            chunk = s.recv(3001)  # not a divisor of anything the forward sends
            if not chunk:
                break
            data += chunk
            reads += 1
            if reads % 64 == 0:
                time.sleep(0.002)
    body = bytes(data).partition(b"\r\n\r\n")[2]
    pattern = b"kube9-sim-bytes."
    assert len(body) == size
    assert body == (pattern * (size // len(pattern) + 1))[:size]
    wait_for(lambda: f.bytes_in >= size)


def test_a_connection_that_fails_does_not_stop_the_forward(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[0]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "9999")  # nothing listens on 9999 in the pod
    with socket.create_connection(("127.0.0.1", f.local_port), timeout=5) as s:
        s.sendall(b"hello")
        assert s.recv(100) == b""  # closed: connection refused inside the pod
    wait_for(lambda: f.failed == 1)
    assert "connection refused" in f.last_error
    assert f.state is ForwardState.ACTIVE
    with socket.create_connection(("127.0.0.1", f.local_port), timeout=5):
        pass  # still listening


def test_deleting_the_pod_stops_a_pod_forward_and_says_so(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[-1]["metadata"]["name"]
    f = start(client, forwards, "pods", pod, "8080")
    s = socket.create_connection(("127.0.0.1", f.local_port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    ssim.request("DELETE", f"/api/v1/namespaces/team-a/pods/{pod}")
    wait_for(lambda: f.state is ForwardState.FAILED)
    assert f.message == f"Pod {pod} was deleted; the forward on {f.address} stopped."
    s.settimeout(5)
    while s.recv(65536):  # the rest of the page, then the end: the open connection was closed
        pass
    s.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", f.local_port), timeout=2).close()


def test_a_service_forward_re_resolves_when_its_pod_goes_away(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    f = start(client, forwards, "services", "api", "80")
    first = f.pod
    ssim.request("DELETE", f"/api/v1/namespaces/team-a/pods/{first}")
    wait_for(lambda: f.pod != first and f.state is ForwardState.ACTIVE)
    assert f.message == f"re-resolved to pod {f.pod} (pod {first} went away)"
    assert f.pod.encode() in http_get(f.local_port)


def test_stop_all_leaves_nothing_listening(
    client: ContextClient, ssim: SimProcess, forwards: list[PortForward], running_pods: Any
) -> None:
    pod = running_pods(ssim)[0]["metadata"]["name"]
    fs = [start(client, forwards, "pods", pod, "8080") for _ in range(3)]
    conn = socket.create_connection(("127.0.0.1", fs[0].local_port), timeout=5)
    wait_for(lambda: fs[0].active == 1)
    FORWARDS.stop_all()
    for f in fs:
        assert f.state is ForwardState.STOPPED
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", f.local_port), timeout=2).close()
    conn.settimeout(5)
    assert conn.recv(10) == b""
    conn.close()


def test_a_forbidden_forward_hints_the_can_i_command_as_kubectl_runs_it(service: Any, ssim: SimProcess,
                                                                          running_pods: Any) -> None:
    """Issue 14 item 18: the ``kubectl auth can-i`` hint of a refused stream names the context and, when kubectl
    would not find it by default, the kubeconfig (the stream's 403 went without ``--kubeconfig``)."""
    from kube9_desktop.kube.errors import ErrorKind, KubeError
    from kube9_desktop.kube.exec import stream_client
    from kube9_desktop.kube.status_errors import RequestInfo
    from kube9_desktop.kube.wschannel import open_channel

    pod = running_pods(ssim)[0]["metadata"]["name"]
    viewer = stream_client(service, "sim-viewer")
    info = RequestInfo(verb="create", resource="pods/portforward", namespace="team-a", name=pod)
    with pytest.raises(KubeError) as ei:
        open_channel(viewer, f"/api/v1/namespaces/team-a/pods/{pod}/portforward", [("ports", "80")],
                     ["v4.channel.k8s.io"], info=info)
    assert ei.value.kind is ErrorKind.FORBIDDEN
    assert ei.value.hint == ("Check with: kubectl auth can-i create pods/portforward -n team-a --context sim-viewer "
                             f"--kubeconfig {ssim.kubeconfig}"), ei.value.hint
