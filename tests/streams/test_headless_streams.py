"""Headless ``--run 'exec ...'`` and ``--run 'port-forward ...'``: the app as a process against kube9-sim.

The issue's two command lines, run as a user runs them: exec prints the command's output and exits with its status;
port-forward prints the local address, forwards while it holds, then closes and leaves nothing listening.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from kube9_desktop.sim.process import SimProcess

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def app(sim: SimProcess, line: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin",
         "--run", line],
        capture_output=True, text=True, timeout=timeout, env=ENV, input=stdin, check=False,
    )


@pytest.fixture
def pod(ssim: SimProcess, running_pods: Any) -> str:
    return str(running_pods(ssim)[0]["metadata"]["name"])


def test_exec_prints_the_output_and_exits_with_the_commands_status(ssim: SimProcess, pod: str) -> None:
    r = app(ssim, f"exec team-a/pod/{pod} -c main -- ls /")
    assert (r.returncode, r.stdout) == (0, "app  bin  dev  etc  home  proc  root  tmp  usr  var\n"), r.stderr
    r = app(ssim, f"exec team-a/pod/{pod} -c main -- cat /nope")
    assert r.returncode == 1 and "cat: can't open '/nope': No such file or directory" in r.stderr
    r = app(ssim, f"exec team-a/pod/{pod} -- sh -c 'hostname; exit 42'")
    assert (r.returncode, r.stdout) == (42, f"{pod}\n")
    assert "command terminated with exit code 42" in r.stderr
    r = app(ssim, f"exec team-a/pod/{pod} -- frobnicate")
    assert r.returncode == 1 and "frobnicate is not in container main" in r.stderr


def test_exec_dash_i_passes_stdin(ssim: SimProcess, pod: str) -> None:
    r = app(ssim, f"exec team-a/pod/{pod} -i -- sh", stdin="echo one; hostname\nexit 5\n")
    assert r.returncode == 5, r.stderr
    assert r.stdout.splitlines() == ["one", pod]
    # cat ends when its input does (the end of stdin reaches the command, even before the stream is open)
    r = app(ssim, f"exec team-a/pod/{pod} -i -- cat", stdin="abc\ndef\n", timeout=30)
    assert (r.returncode, r.stdout) == (0, "abc\ndef\n"), r.stderr


def test_port_forward_prints_the_address_forwards_for_its_seconds_then_closes(ssim: SimProcess) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kube9_desktop", "--kubeconfig", ssim.kubeconfig, "--context", "sim-admin", "--run",
         "port-forward team-a/svc/api 0:80 --seconds 4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        started = time.monotonic()
        m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> pod/(\S+):8080$", line.strip())
        assert m, line
        port, target = int(m.group(1)), m.group(2)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            page = b""
            while chunk := s.recv(65536):
                page += chunk
        assert page.startswith(b"HTTP/1.1 200") and f"Hello from {target}".encode() in page
        out, err = proc.communicate(timeout=30)
        held = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert held >= 3.0, held  # held for its --seconds (not a timing goal: a lower bound only)
    assert re.search(rf"closed 127\.0\.0\.1:{port}: 1 connection\(s\), \d+ bytes sent, \d+ received", out + err)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_port_forward_to_a_chosen_local_port(ssim: SimProcess, pod: str) -> None:
    with socket.socket() as probe:  # a port free now (the forward binds it a moment later)
        probe.bind(("127.0.0.1", 0))
        local = probe.getsockname()[1]
    r = app(ssim, f"port-forward team-a/pod/{pod} {local}:8080 --seconds 0.5")
    assert r.returncode == 0, r.stderr
    assert f"Forwarding from 127.0.0.1:{local} -> pod/{pod}:8080" in r.stdout + r.stderr


def test_port_forward_on_another_address_needs_yes(ssim: SimProcess) -> None:
    r = app(ssim, "port-forward team-a/svc/api 0:80 --address 0.0.0.0 --seconds 0.5", stdin="")
    assert r.returncode == 1 and "not listening on 0.0.0.0: not confirmed" in r.stderr
    assert "Anyone who can reach this machine" in r.stderr and "Forwarding" not in r.stdout
