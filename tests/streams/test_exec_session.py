"""ExecSession against kube9-sim over real WebSockets: an interactive shell and every error users meet."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.kube.exec import ExecResult, ExecSession, ExecSpec, stream_client
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


class Tty:
    """A session with its output gathered, and waits for text to appear."""

    def __init__(self, client: ContextClient, spec: ExecSpec) -> None:
        self.out = b""
        self.cond = threading.Condition()
        self.session = ExecSession(client, spec, self._output, self._exit)
        self.session.start()

    def _output(self, channel: int, data: bytes) -> None:
        with self.cond:
            self.out += data
            self.cond.notify_all()

    def _exit(self, result: ExecResult) -> None:
        with self.cond:
            self.cond.notify_all()

    def expect(self, text: bytes, timeout: float = 5.0) -> bytes:
        """Waits until ``text`` appeared after what was read so far; returns the output up to and with it."""
        end = time.monotonic() + timeout
        with self.cond:
            while text not in self.out:
                left = end - time.monotonic()
                assert left > 0, f"{text!r} not seen; output so far: {self.out[-400:]!r}"
                self.cond.wait(left)
            head, _, self.out = self.out.partition(text)
            return head + text

    def type(self, text: str) -> None:
        self.session.write(text.encode())


def kubectl_answers(hint: str) -> str:
    """What kubectl prints for the ``Check with: kubectl auth can-i ...`` command in ``hint``, run as printed."""
    argv = shlex.split(hint.removeprefix("Check with: "))
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
    return r.stdout.strip() or r.stderr.strip()


@pytest.fixture
def pod(ssim: SimProcess, running_pods: Any) -> str:
    return str(running_pods(ssim)[0]["metadata"]["name"])


@pytest.fixture
def tty(client: ContextClient, pod: str) -> Iterator[Tty]:
    t = Tty(client, ExecSpec("sim-admin", "team-a", pod, "main", ("sh",), tty=True, stdin=True, cols=80, rows=24))
    yield t
    t.session.close()
    t.session.wait(5)


def test_an_interactive_shell_echoes_typing_runs_commands_and_ends_with_the_exit_code(tty: Tty, pod: str) -> None:
    tty.expect(b"/ # ")
    assert tty.session.sock is not None and tty.session.sock.protocol == "v5.channel.k8s.io"
    tty.type("echo hello\r")
    assert tty.expect(b"/ # ").replace(b"\r\n", b"\n") == b"echo hello\nhello\n/ # "
    tty.type("hostnamx\x7fe\r")  # a typo corrected with backspace
    assert pod.encode() in tty.expect(b"/ # ")
    tty.type("exit 7\r")
    result = tty.session.wait(5)
    assert result is not None and result.exit_code == 7
    assert result.message == "exited with code 7"


def test_a_server_without_v5_is_spoken_to_in_v4(client: ContextClient, ssim: SimProcess, pod: str) -> None:
    # API servers before 1.30 know no v5.channel.k8s.io: the session falls back to v4 (status and resize as v5).
    ssim.request("POST", "/simz/kubelet", {"v5": False})
    try:
        t = Tty(client, ExecSpec("sim-admin", "team-a", pod, "main", ("sh",), tty=True, stdin=True))
        t.expect(b"/ # ")
        assert t.session.sock is not None and t.session.sock.protocol == "v4.channel.k8s.io"
        t.session.resize(100, 33)
        t.type("stty size\r")
        assert b"33 100" in t.expect(b"/ # ")
        t.type("exit 9\r")
        result = t.session.wait(5)
    finally:
        ssim.request("POST", "/simz/kubelet", {"v5": True})
    assert result is not None and result.exit_code == 9 and result.message == "exited with code 9"


def test_stdin_written_and_closed_before_the_stream_opens_reaches_the_command(client: ContextClient, pod: str) -> None:
    # Headless `exec -i -- cat < file` reads all of a small file before the WebSocket is open: its end must still
    # reach the command (v5's close signal), or cat waits for ever.
    out: list[bytes] = []
    s = ExecSession(client, ExecSpec("sim-admin", "team-a", pod, "main", ("cat",), tty=False, stdin=True),
                    lambda c, d: out.append(d), lambda r: None)
    s.write(b"abc\n")
    s.close_stdin()
    s.start()
    result = s.wait(10)
    s.close()
    assert result is not None and result.exit_code == 0, result
    assert b"".join(out) == b"abc\n"


def test_resize_reaches_the_shell(tty: Tty) -> None:
    tty.expect(b"/ # ")
    tty.session.resize(132, 41)
    tty.type("stty size\r")
    assert b"41 132" in tty.expect(b"/ # ")


def test_ctrl_c_interrupts_a_running_command_and_the_shell_goes_on(tty: Tty) -> None:
    tty.expect(b"/ # ")
    tty.type("sleep 30\r")
    tty.expect(b"sleep 30\r\n")
    start = time.monotonic()
    tty.type("\x03")
    tty.expect(b"^C")
    tty.expect(b"/ # ")
    assert time.monotonic() - start < 3
    tty.type("echo $?\r")
    assert b"130" in tty.expect(b"/ # ")


def test_the_simulated_commands_env_flood_and_colors(tty: Tty, pod: str) -> None:
    tty.expect(b"/ # ")
    tty.type("env\r")
    env = tty.expect(b"/ # ")
    assert f"HOSTNAME={pod}\r\n".encode() in env and b"TERM=xterm\r\n" in env
    tty.type("flood 500\r")
    flood = tty.expect(b"/ # ")
    assert flood.count(b"the quick brown fox") == 500
    assert f"    500 the quick brown fox jumps over the lazy dog {pod}".encode() in flood
    tty.type("colors\r")
    colours = tty.expect(b"/ # ")
    assert b"\x1b[31m 1 \x1b[0m" in colours and b"\x1b[48;5;16m" in colours and b"\x1b[1mbold" in colours
    tty.type("flood 100000000\r")  # a flood Ctrl-C stops, as it would a real one
    tty.expect(b"the quick brown fox")
    tty.type("\x03")
    tty.expect(b"^C", timeout=10)
    tty.expect(b"/ # ")
    tty.type("echo $?\r")
    assert b"130" in tty.expect(b"/ # ")


def test_an_unknown_command_ends_with_127_command_not_found(client: ContextClient, pod: str) -> None:
    t = Tty(client, ExecSpec("sim-admin", "team-a", pod, "main", ("sh", "-c", "frobnicate"), tty=False, stdin=False))
    result = t.session.wait(5)
    assert result is not None and result.exit_code == 127
    assert result.message == "exited with code 127: command not found"
    assert b"frobnicate: command not found" in t.out


def test_the_top_like_command_uses_the_alternate_screen_and_q_quits(tty: Tty) -> None:
    tty.expect(b"/ # ")
    tty.type("top\r")
    tty.expect(b"\x1b[?1049h")
    assert b"PID" in tty.expect(b"q quits")
    tty.type("q")
    tty.expect(b"\x1b[?1049l")
    tty.expect(b"/ # ")


def test_ctrl_d_on_an_empty_line_ends_the_shell(tty: Tty) -> None:
    tty.expect(b"/ # ")
    tty.type("false\r")
    tty.expect(b"/ # ")
    tty.type("\x04")
    result = tty.session.wait(5)
    assert result is not None and result.exit_code == 1


def _error(client: ContextClient, spec: ExecSpec) -> ExecResult:
    s = ExecSession(client, spec, lambda c, d: None, lambda r: None).start()
    result = s.wait(10)
    assert result is not None and result.error is not None, result
    return result


def test_a_container_that_is_not_running_is_named_as_such(client: ContextClient, ssim: SimProcess) -> None:
    items = [
        p
        for ns in ("default", "team-a", "team-b")
        for p in ssim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
        if p["spec"].get("nodeName")
        and p["status"]["phase"] != "Succeeded"
        and "running" not in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    ]
    assert items, "the sim has no pod whose container is not running"
    p = items[0]["metadata"]
    r = _error(client, ExecSpec("sim-admin", p["namespace"], p["name"], "main", ("ls",), tty=False, stdin=False))
    assert r.error is not None and r.error.title == "Container not running"
    assert p["name"] in r.error.message


def test_an_image_without_a_shell_says_no_shell_found(
    client: ContextClient, ssim: SimProcess, running_pods: Any
) -> None:
    pod = next(
        p for p in running_pods(ssim, "kube-system") if p["spec"]["containers"][0]["image"].startswith("k8s.gcr")
    )
    r = _error(client, ExecSpec("sim-admin", "kube-system", pod["metadata"]["name"], "main"))
    assert r.error is not None and r.error.title == "No shell found"
    assert "has no shell" in r.error.message


def test_403_on_pods_exec_says_what_is_missing(ssim: SimProcess, pod: str) -> None:
    svc = KubeService(load_kubeconfig(ssim.kubeconfig), kubeconfig_path=ssim.kubeconfig)
    viewer = stream_client(svc, "sim-viewer")
    r = _error(viewer, ExecSpec("sim-viewer", "team-a", pod, "main", ("ls",), tty=False, stdin=False))
    assert r.error is not None and r.error.kind is ErrorKind.FORBIDDEN
    assert "create pods/exec" in r.error.message
    # The sim's kubeconfig is not one kubectl reads by default: the hint names it and the context (issue 14 item
    # 18; the exec wording dropped both), and runs as printed.
    assert r.error.hint == ("Check with: kubectl auth can-i create pods/exec -n team-a --context sim-viewer "
                            f"--kubeconfig {ssim.kubeconfig}"), r.error.hint
    assert kubectl_answers(r.error.hint) == "no"


def test_an_unreachable_kubelet_is_reported_as_such(client: ContextClient, ssim: SimProcess, pod: str) -> None:
    ssim.request("POST", "/simz/kubelet", {"reachable": False})
    try:
        r = _error(client, ExecSpec("sim-admin", "team-a", pod, "main", ("ls",), tty=False, stdin=False))
    finally:
        ssim.request("POST", "/simz/kubelet", {"reachable": True})
    assert r.error is not None and r.error.title == "Kubelet unreachable"


def test_a_missing_pod_is_not_found(client: ContextClient) -> None:
    r = _error(client, ExecSpec("sim-admin", "team-a", "no-such-pod", "main", ("ls",), tty=False, stdin=False))
    assert r.error is not None and r.error.kind is ErrorKind.NOT_FOUND


def test_deleting_the_pod_ends_the_shell_with_connection_lost(
    client: ContextClient, ssim: SimProcess, running_pods: Any
) -> None:
    pod = str(running_pods(ssim)[-2]["metadata"]["name"])
    t = Tty(client, ExecSpec("sim-admin", "team-a", pod, "main", ("sh",)))
    t.expect(b"/ # ")
    ssim.request("DELETE", f"/api/v1/namespaces/team-a/pods/{pod}?gracePeriodSeconds=0")
    result = t.session.wait(10)
    assert result is not None and result.error is not None
    assert result.error.title == "Connection lost" and pod in result.error.message
    t.session.thread.join(5)
    assert not t.session.thread.is_alive()


def test_closing_a_session_ends_its_thread(client: ContextClient, pod: str) -> None:
    t = Tty(client, ExecSpec("sim-admin", "team-a", pod, "main", ("sh",)))
    t.expect(b"/ # ")
    t.session.close()
    result = t.session.wait(5)
    assert result is not None and result.message == "closed"
    t.session.thread.join(5)
    assert not t.session.thread.is_alive()
