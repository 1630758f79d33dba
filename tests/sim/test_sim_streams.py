"""kube9-sim's pods/exec, pods/attach and pods/portforward, refereed by kubectl 1.32 and the official Python client.

kubectl exec speaks WebSocket (v5.channel.k8s.io) to the sim; kubectl port-forward tunnels SPDY/3.1 inside its
WebSocket (``SPDY/3.1+portforward.k8s.io``). The kubelet's plain WebSocket port-forward protocol, which our client
speaks, is refereed by the Python client's ``portforward``.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.sim.process import SimProcess


@pytest.fixture(scope="module")
def ssim() -> Iterator[SimProcess]:
    with SimProcess.start("--pods", "60", "--namespaces", "3", "--nodes", "2", "--seed", "3") as p:
        yield p


def kubectl(sim: SimProcess, *args: str, context: str = "sim-admin", stdin: str | None = None) -> Any:
    return subprocess.run(
        ["kubectl", "--kubeconfig", sim.kubeconfig, "--context", context, *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


def pods(sim: SimProcess, ns: str) -> list[dict[str, Any]]:
    return list(sim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"])


def running(sim: SimProcess, ns: str = "team-a") -> str:
    return next(p["metadata"]["name"] for p in pods(sim, ns) if p["status"]["phase"] == "Running")


def test_kubectl_exec_prints_output_and_passes_the_exit_status(ssim: SimProcess) -> None:
    pod = running(ssim)
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "--", "echo", "hello", "world")
    assert (r.returncode, r.stdout) == (0, "hello world\n")
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "--", "sh", "-c", "exit 3")
    assert r.returncode == 3
    assert "command terminated with exit code 3" in r.stderr
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "-c", "main", "--", "cat", "/etc/hostname")
    assert r.stdout == f"{pod}\n"
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "--", "sh", "-c", "nosuch")
    assert r.returncode == 127 and "nosuch: command not found" in r.stderr


def test_kubectl_exec_with_stdin_runs_a_script(ssim: SimProcess) -> None:
    pod = running(ssim)
    r = kubectl(ssim, "exec", "-i", "-n", "team-a", pod, "--", "sh", stdin="echo one; hostname\nexit 5\n")
    assert r.returncode == 5
    assert r.stdout.splitlines() == ["one", pod]


def test_kubectl_attach_reaches_the_containers_shell(ssim: SimProcess) -> None:
    pod = running(ssim)
    r = kubectl(ssim, "attach", "-i", "-n", "team-a", pod, stdin="hostname\nexit 4\n")
    assert pod in r.stdout
    assert r.returncode == 4


def test_kubectl_exec_errors_read_as_the_real_servers(ssim: SimProcess) -> None:
    pod = running(ssim)
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "-c", "nope", "--", "ls")
    assert r.returncode == 1 and f"container nope is not valid for pod {pod}" in r.stderr
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "--", "ls", context="sim-viewer")
    assert 'cannot create resource "pods/exec"' in r.stderr
    r = kubectl(ssim, "exec", "-n", "team-a", pod, "--", "nosuch")
    assert 'exec: "nosuch": executable file not found in $PATH' in r.stderr
    waiting = [
        p["metadata"]["name"]
        for ns in ("default", "team-a", "team-b")
        for p in pods(ssim, ns)
        if p["spec"].get("nodeName")
        and p["status"]["phase"] in ("Running", "Pending")
        and "running" not in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    ]
    assert waiting, "the sim has no pod with a container that is not running"
    ns = next(
        p["metadata"]["namespace"]
        for n in ("default", "team-a", "team-b")
        for p in pods(ssim, n)
        if p["metadata"]["name"] == waiting[0]
    )
    r = kubectl(ssim, "exec", "-n", ns, waiting[0], "--", "ls")
    assert 'unable to upgrade connection: container not found ("main")' in r.stderr


def _kubectl_forward(sim: SimProcess, target: str, ports: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            sim.kubeconfig,
            "--context",
            "sim-admin",
            "-n",
            "team-a",
            "port-forward",
            target,
            ports,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "Forwarding from 127.0.0.1:" in line, line
    return proc, int(line.split("127.0.0.1:")[1].split()[0])


def _get(port: int, path: str = "/") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        out = bytearray()
        while chunk := s.recv(1 << 20):
            out += chunk
        return bytes(out)


def test_kubectl_port_forward_tunnels_spdy_in_the_websocket_to_the_pods_responder(ssim: SimProcess) -> None:
    pod = running(ssim)
    proc, port = _kubectl_forward(ssim, f"pod/{pod}", "0:8080")
    try:
        page = _get(port)
        assert page.startswith(b"HTTP/1.1 200 OK") and pod.encode() in page
        body = _get(port, "/bytes/5000000").split(b"\r\n\r\n", 1)[1]
        assert len(body) == 5_000_000
    finally:
        proc.terminate()
        proc.wait(10)


def test_kubectl_port_forward_of_a_service_and_a_refused_port(ssim: SimProcess) -> None:
    proc, port = _kubectl_forward(ssim, "svc/api", "0:80")
    try:
        assert b"Hello from api-" in _get(port)
    finally:
        proc.terminate()
        proc.wait(10)
    proc, port = _kubectl_forward(ssim, f"pod/{running(ssim)}", "0:9999")
    try:
        assert _get(port) == b""
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert "failed to connect to localhost:9999" in err and "connection refused" in err


def _python_api(sim: SimProcess) -> Any:
    from kubernetes import client, config

    api = client.ApiClient(config.new_client_from_config(sim.kubeconfig, context="sim-admin").configuration)
    return client.CoreV1Api(api)


def test_python_client_stream_exec_reads_both_streams_and_the_return_code(ssim: SimProcess) -> None:
    from kubernetes.stream import stream

    v1 = _python_api(ssim)
    pod = running(ssim)
    r = stream(
        v1.connect_get_namespaced_pod_exec,
        pod,
        "team-a",
        command=["sh", "-c", "hostname; ls /nope; exit 4"],
        stderr=True,
        stdout=True,
        stdin=False,
        tty=False,
        _preload_content=False,
    )
    r.run_forever(timeout=10)
    assert r.read_stdout() == f"{pod}\n"
    assert "ls: /nope: No such file or directory" in r.read_stderr()
    assert r.returncode == 4


def test_python_client_portforward_gets_the_pod_page_and_an_echo(ssim: SimProcess) -> None:
    from kubernetes.stream import portforward

    v1 = _python_api(ssim)
    pod = running(ssim)
    pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, "team-a", ports="8080")
    s = pf.socket(8080)
    s.setblocking(True)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    deadline = time.monotonic() + 5
    while b"</html>" not in data and time.monotonic() < deadline:
        data += s.recv(4096)
    assert data.startswith(b"HTTP/1.1 200 OK") and pod.encode() in data
    s.close()
    assert pf.error(8080) is None


def test_kubectl_exec_it_in_a_terminal_sends_its_size_and_gets_the_exit_code(ssim: SimProcess) -> None:
    # `script` gives kubectl a real pseudo-terminal (30 rows, 100 columns), as a user's shell would.
    pod = running(ssim)
    cmd = (
        f"stty cols 100 rows 30; kubectl --kubeconfig {ssim.kubeconfig} --context sim-admin exec -it -n team-a "
        f"{pod} -- sh"
    )
    keys = subprocess.Popen(
        ["script", "-qfec", cmd, "/dev/null"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert keys.stdin is not None
    out = b""
    try:
        for line in (b"stty size\r", b"hostname\r", b"exit 6\r"):
            time.sleep(1.0)
            keys.stdin.write(line)
            keys.stdin.flush()
        out, _ = keys.communicate(timeout=30)
    finally:
        keys.kill()
    text = out.decode(errors="replace").replace("\r", "")
    assert "30 100" in text and pod in text
    assert keys.returncode == 6, text
