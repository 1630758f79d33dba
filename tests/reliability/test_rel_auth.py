"""Authentication faults as the user sees them in the tree and the window: exec plugins that are missing, fail,
print garbage, hang or hand out expired tokens (with the kubeconfig's installHint), and tokens revoked while the
app runs.

The plugin protocol itself (apiVersions, refresh before expiry, one re-run on 401) is covered in
tests/kube/test_auth.py.
"""

from __future__ import annotations

import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import assert_healthy, context_error, make_model, object_names

from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.sim.process import SimProcess

HINT = "Install kube9-login: https://example.com/kube9-login (then run kube9-login)"


def _plugin(tmp_path: Path, body: str, name: str = "kube9-login") -> str:
    p = tmp_path / name
    p.write_text(body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def _token_plugin(tmp_path: Path, token: str, expires: str = "", delay: float = 0) -> tuple[str, Path]:
    count = tmp_path / "runs"
    exp = f', "expirationTimestamp": "{expires}"' if expires else ""
    body = (f"#!/bin/sh\necho run >> {count}\nsleep {delay}\n"
            f"echo '{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
            f"\"status\": {{\"token\": \"{token}\"{exp}}}}}'\n")
    return _plugin(tmp_path, body), count


def _exec_user(command: str) -> dict[str, Any]:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "installHint": HINT}}


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("missing", ["kube9-no-such-login", "not found"]),
        ("exit1", ["exit status 1", "you must log in first"]),
        ("garbage", ["not an ExecCredential"]),
        ("hang", ["did not finish within 1 s"]),
    ],
)
def test_exec_plugin_failures_show_the_install_hint(case: str, expect: list[str], sim: SimProcess,
                                                    services: Callable[..., Any], window_factory: Callable[..., Any],
                                                    write_kubeconfig: Callable[..., str], tmp_path: Path,
                                                    run: Any) -> None:
    bodies = {
        "exit1": "#!/bin/sh\necho 'error: you must log in first' >&2\nexit 1\n",
        "garbage": "#!/bin/sh\necho '<html>login page</html>'\n",
        "hang": "#!/bin/sh\nsleep 30\n",
    }
    command = _plugin(tmp_path, bodies[case]) if case in bodies else "kube9-no-such-login"
    path = write_kubeconfig(sim, user=_exec_user(command))
    svc = services([path, sim.kubeconfig], exec_timeout=1.0)
    win = window_factory()
    t0 = time.monotonic()
    win.attach_service(svc, context="test")
    run(win.model.wait_idle(), 20)
    assert time.monotonic() - t0 < 8
    row = context_error(win.model)
    assert row.error is not None and row.error.kind is ErrorKind.EXEC_PLUGIN
    for e in expect:
        assert e in row.label, row.label
    assert row.error.hint == HINT
    # One dialog, with the install hint.
    dialogs = win.errors.visible()
    assert len(dialogs) == 1 and dialogs[0].hint_label.text() == HINT
    assert dialogs[0].error.kind is ErrorKind.EXEC_PLUGIN
    # Selecting the error row shows message and hint in the details pane.
    win.tree.setCurrentIndex(win.model.index_of(row))
    shown = " ".join(w.text() for w in win.details.form_host.findChildren(type(win.status_context)))
    assert HINT in shown
    assert_healthy(win.model, run, "sim-admin")


def test_exec_plugin_returning_an_expired_token(sim: SimProcess, services: Callable[..., Any],
                                                write_kubeconfig: Callable[..., str], tmp_path: Path,
                                                run: Any) -> None:
    token = f"expired-{uuid.uuid4().hex[:8]}"
    sim.add_token(token, "admin", ttl_seconds=0.2)
    time.sleep(0.3)
    # A plugin that takes a moment (as a real login helper does), so the parallel first requests of the context
    # all queue behind its one run and share its error.
    plugin, count = _token_plugin(tmp_path, token, expires="2020-01-01T00:00:00Z", delay=0.3)
    path = write_kubeconfig(sim, user=_exec_user(plugin))
    model = make_model(services([path, sim.kubeconfig], exec_timeout=5.0), "test")
    run(model.wait_idle(), 20)
    row = context_error(model)
    assert row.error is not None and row.error.kind is ErrorKind.EXEC_PLUGIN
    assert "kube9-login" in row.label and "already expired (2020-01-01T00:00:00Z)" in row.label, row.label
    assert row.error.hint == HINT
    assert token not in row.label + str(row.error.details)
    assert count.read_text().count("run") == 1, "the plugin runs once, not before every request"
    assert_healthy(model, run, "sim-admin")


def test_static_token_revoked_mid_session(sim: SimProcess, services: Callable[..., Any],
                                          window_factory: Callable[..., Any], write_kubeconfig: Callable[..., str],
                                          run: Any) -> None:
    token = f"revoke-me-{uuid.uuid4().hex[:8]}"
    sim.add_token(token, "admin")
    path = write_kubeconfig(sim, user={"token": token})
    svc = services([path, sim.kubeconfig])
    win = window_factory()
    win.attach_service(svc, context="test")
    run(win.model.wait_idle(), 20)
    nodes = win.model.find("Nodes")
    assert object_names(nodes)
    sim.revoke_token(token)
    win.refresh()
    run(win.model.wait_idle(), 20)
    # The rows stay; the user is told why the refresh failed, once.
    assert nodes is not None and object_names(nodes) and nodes.note.startswith("refresh failed")
    dialogs = win.errors.visible()
    assert len(dialogs) == 1, [d.error.message for d in dialogs]
    err = dialogs[0].error
    assert err.kind is ErrorKind.UNAUTHORIZED and "rejected the credentials for context test" in err.message
    assert "Re-authenticate" in err.hint
    assert token not in dialogs[0].details_text()
    win.context_box.setCurrentText("sim-admin")
    assert_healthy(win.model, run, "sim-admin")


def test_exec_token_revoked_mid_session_reruns_the_plugin_once_then_says_so(
        sim: SimProcess, services: Callable[..., Any], write_kubeconfig: Callable[..., str], tmp_path: Path,
        run: Any) -> None:
    token = f"exec-revoke-{uuid.uuid4().hex[:8]}"
    sim.add_token(token, "admin")
    plugin, count = _token_plugin(tmp_path, token)
    path = write_kubeconfig(sim, user=_exec_user(plugin))
    failures: list[Any] = []
    model = make_model(services([path, sim.kubeconfig]), "test", failures)
    run(model.wait_idle(), 20)
    assert object_names(model.find("Nodes")) and count.read_text().count("run") == 1
    sim.revoke_token(token)
    assert model.refresh()
    run(model.wait_idle(), 20)
    nodes = model.find("Nodes")
    assert nodes is not None and object_names(nodes) and nodes.note == "refresh failed: Not authorized"
    errs = [f[0] for f in failures]
    assert errs and all(e.kind is ErrorKind.UNAUTHORIZED for e in errs)
    assert "kube9-login" in errs[0].hint and "log in again" in errs[0].hint
    # The plugin hands out the same revoked token: it is re-run once for the first 401 of the Refresh. The other
    # lists, in parallel, get their 401 with the token that re-run just handed back, and do not run it again.
    assert count.read_text().count("run") == 2
    assert_healthy(model, run, "sim-admin")
