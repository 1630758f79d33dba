"""Exec credential plugins that hang, spawn children or print secrets and megabytes; server text with secrets.

Real plugin processes (shell scripts) against the sim: a plugin runs in a process group of its own, which is
killed on timeout and when the service closes; nothing a plugin or server prints reaches a message unredacted
or unbounded.
"""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.kube.status_errors import RequestInfo, error_from_status

Make = Callable[..., KubeService]

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1c2VyQGV4YW1wbGUuY29tIiwiZXhwIjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
REFRESH = "1//0gKq7Zr9WbXyZ-L9IrQp3kfJ2nT8vYx"
SECRET = "GOCSPX-9s8d7f6g5h4j3k2l1QwErTy"
B64 = "QUtJQUlPU0ZPRE5ON0VYQU1QTEUvd0phbHJYVXRuRkVNSS9LN01ERU5H"
SECRETS = (JWT, REFRESH, SECRET, B64)


def _plugin(tmp_path: Path, body: str, name: str = "kube9-login") -> str:
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def _exec_user(command: str) -> dict[str, object]:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command}}


def _workers(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie is dead, only not yet reaped
    except (FileNotFoundError, ProcessLookupError, IndexError):  # gone before the open, or between open and read
        return False


async def _wait_for(path: Path, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < end, f"{path} never appeared"
        await asyncio.sleep(0.05)


def _hanging_plugin(tmp_path: Path) -> tuple[str, Path, Path, Path]:
    """A plugin that starts a child and hangs; records its pid, its child's pid and each run."""
    runs, pid, child = tmp_path / "runs", tmp_path / "pid", tmp_path / "child"
    body = f"echo run >> {runs}\necho $$ > {pid}\nsleep 300 &\necho $! > {child}\nwait\n"
    return _plugin(tmp_path, body), runs, pid, child


# -- item 5: process groups, killed on timeout and at close; no plugin run during shutdown -----------------------


async def test_closing_the_service_kills_a_hung_plugin_and_its_children_and_runs_no_other(
        write_config: Callable[..., str], tmp_path: Path) -> None:
    cmd, runs, pid_file, child_file = _hanging_plugin(tmp_path)
    svc = KubeService(load_kubeconfig(write_config(_exec_user(cmd))), KubeOptions(exec_timeout=30, retries=0))
    task = asyncio.ensure_future(svc.list_all(ListRef("test", "nodes")))
    await _wait_for(child_file)
    pid, child = int(pid_file.read_text()), int(child_file.read_text())
    assert _alive(pid) and _alive(child)
    t0 = time.monotonic()
    await svc.aclose()
    with pytest.raises(KubeError):
        await asyncio.wait_for(task, 5)  # cancelled by the close
    end = time.monotonic() + 3
    while (_alive(pid) or _alive(child) or _workers("kube9-test")) and time.monotonic() < end:
        await asyncio.sleep(0.05)
    took = time.monotonic() - t0
    assert not _alive(pid), "the plugin survived the close"
    assert not _alive(child), "the plugin's child was orphaned"
    # The worker that ran the plugin ended too: the interpreter's exit joins it, and would wait the timeout.
    assert not _workers("kube9-test"), _workers("kube9-test")
    assert took < 3, f"closing waited {took:.1f} s for the plugin"
    assert runs.read_text().count("run") == 1, "a plugin ran again during shutdown"


async def test_a_timed_out_plugin_is_killed_with_its_children(write_config: Callable[..., str], tmp_path: Path,
                                                               make_service: Make) -> None:
    cmd, _, pid_file, child_file = _hanging_plugin(tmp_path)
    svc = make_service(load_kubeconfig(write_config(_exec_user(cmd))), KubeOptions(exec_timeout=1, retries=0))
    t0 = time.monotonic()
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("test", "nodes"))
    assert time.monotonic() - t0 < 5
    assert "did not finish within 1 s" in ei.value.message
    pid, child = int(pid_file.read_text()), int(child_file.read_text())
    end = time.monotonic() + 3
    while (_alive(pid) or _alive(child)) and time.monotonic() < end:
        await asyncio.sleep(0.05)
    assert not _alive(pid) and not _alive(child)


# -- item 10: redacted and bounded text from plugins and servers -----------------------------------------------


async def test_plugin_stderr_secrets_are_redacted_everywhere_they_are_shown(
        write_config: Callable[..., str], tmp_path: Path, make_service: Make) -> None:
    body = (f"echo 'oauth2: cannot fetch token: 400 Bad Request' >&2\n"
            f"echo 'Response: {{\"id_token\": \"{JWT}\", \"refresh_token\": \"{REFRESH}\"}}' >&2\n"
            f"echo 'client_secret={SECRET} key material {B64}' >&2\n"
            "exit 1\n")
    svc = make_service(load_kubeconfig(write_config(_exec_user(_plugin(tmp_path, body)))), KubeOptions(retries=0))
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("test", "nodes"))
    err = ei.value
    assert err.kind is ErrorKind.EXEC_PLUGIN and "exit status 1" in err.message
    # The plugin's own words are still shown, its HTTP status too (golang.org/x/oauth2 writes "cannot fetch token:
    # 400 Bad Request"; the 400 was redacted as if it were the token's value).
    assert "oauth2: cannot fetch token: 400 Bad Request" in err.message, err.message
    shown = " ".join([err.message, err.hint, orjson.dumps(err.details).decode(), str(err)])
    for secret in SECRETS:
        assert secret not in shown, f"{secret[:12]}... shown"
    assert "<redacted>" in err.message


async def test_a_10_mb_stderr_line_is_cheap_and_bounded(write_config: Callable[..., str], tmp_path: Path,
                                                        make_service: Make) -> None:
    body = "head -c 10000000 /dev/zero | tr '\\0' 'x' >&2\necho >&2\necho 'second line' >&2\nexit 3\n"
    svc = make_service(load_kubeconfig(write_config(_exec_user(_plugin(tmp_path, body)))), KubeOptions(retries=0))
    t0 = time.monotonic()
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("test", "nodes"))
    took = time.monotonic() - t0
    err = ei.value
    assert "exit status 3" in err.message
    assert len(err.message) < 2500 and len(orjson.dumps(err.details)) < 5000, len(err.message)
    assert "xxxxxxxx" in err.message, "the start of the line is shown"
    assert took < 5, took


def test_server_status_text_is_redacted_and_bounded() -> None:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "reason": "InternalError",
              "message": f"webhook failed: Authorization: Bearer {JWT}; upstream said " + "y" * 3_000_000,
              "details": {"causes": [{"message": f"refresh_token={REFRESH}"}]}}
    t0 = time.perf_counter()
    err = error_from_status(500, orjson.dumps(status), None, context="c", server="https://k",
                            info=RequestInfo(verb="list", resource="pods"))
    assert time.perf_counter() - t0 < 1
    shown = " ".join([err.message, err.hint, orjson.dumps(err.details).decode()])
    assert JWT not in shown and REFRESH not in shown
    assert "webhook failed" in err.message and len(err.message) < 2500
    assert len(shown) < 20_000


def test_no_stray_plugin_processes(tmp_path: Path) -> None:
    """The tests above left no plugin behind (their sleeps would be children of this process's groups)."""
    leftovers = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
            except OSError:
                continue
            if b"kube9-login" in cmd and b"pytest" not in cmd:
                leftovers.append(cmd)
    assert not leftovers


def test_redaction_keeps_numbers_that_are_no_credential() -> None:
    """A status code or a count after a secret's key name is no credential; a value of a few letters still is."""
    from kube9_desktop.kube.redact import redact

    assert redact("oauth2: cannot fetch token: 400 Bad Request") == "oauth2: cannot fetch token: 400 Bad Request"
    assert redact("secrets: 3 of 4 mounted, tokens=12") == "secrets: 3 of 4 mounted, tokens=12"
    assert redact("token: 4000123 password=1234567 token=abc") == \
        "token: <redacted> password=<redacted> token=<redacted>"


def test_redaction_leaves_ordinary_server_text_alone() -> None:
    text = ('Deployment.apps "web" is invalid: spec.selector.matchLabels.key: Invalid value: "app"; image '
            "sha256:" + "ab12" * 16 + " for pod 123e4567-e89b-12d3-a456-426614174000 from /usr/local/bin/kubelet")
    status = {"kind": "Status", "code": 422, "reason": "Invalid", "message": text}
    err = error_from_status(422, orjson.dumps(status), None, context="c", server="https://k")
    assert err.message == text
