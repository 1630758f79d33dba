"""Security checks: no credential in logs, messages, dialogs or the settings file; Secrets masked until
revealed and copied only after asking; the insecure-skip-tls-verify warning; no shell between us and kubectl or
an exec plugin; kube9-sim on 127.0.0.1 only, refusing requests without credentials."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import socket
import ssl
import stat
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from reliability_helpers import assert_healthy, make_model, object_names, sim_config

from kube9_desktop import logs
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.sim.process import SimProcess

EVIL = "ev'il\"; touch {m}/pwned-1 && $(touch {m}/pwned-2) `touch {m}/pwned-3` | cat > {m}/pwned-4 & #"


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def _secrets_of(sim: SimProcess, extra: list[str]) -> list[str]:
    """Every credential the session used: tokens, client key/cert material (base64 and PEM lines)."""
    cfg = sim_config(sim)
    out = list(extra)
    for u in cfg["users"]:
        user = u["user"]
        if user.get("token"):
            out.append(user["token"])
        for k in ("client-key-data", "client-certificate-data"):
            if user.get(k):
                out.append(user[k][20:80])
                pem = base64.b64decode(user[k]).decode()
                out += [ln for ln in pem.splitlines()[1:-1] if len(ln) > 40][:3]
    return out


def test_no_credentials_in_logs_dialogs_messages_or_settings(
        sim: SimProcess, fsim: SimProcess, services: Callable[..., Any], window_factory: Callable[..., Any],
        write_kubeconfig: Callable[..., str], tmp_path: Path, run: Any, caplog: pytest.LogCaptureFixture,
        clean_logging: None) -> None:
    log_file = logs.setup_logging("DEBUG", log_dir=tmp_path / "logs")
    assert log_file is not None
    caplog.set_level(logging.DEBUG)
    # An exec plugin whose token is revoked mid-session, a static token the server rejects, a wrong CA.
    exec_token = f"exec-secret-{uuid.uuid4().hex}"
    sim.add_token(exec_token, "admin")
    plugin = tmp_path / "kube9-login"
    plugin.write_text("#!/bin/sh\necho 'login with --password=hunter2-" + exec_token[-6:] + "' >&2\n"
                      "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
                      f"\"status\": {{\"token\": \"{exec_token}\"}}}}'\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    exec_path = write_kubeconfig(sim, name="exec", user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}})
    bad_token = f"rejected-secret-{uuid.uuid4().hex}"
    bad_path = write_kubeconfig(sim, name="bad", user={"token": bad_token})
    ca_path = write_kubeconfig(sim, name="wrongca", user={"token": sim.admin_token()},
                               cluster={"certificate-authority-data": base64.b64encode(fsim.ca_pem).decode()})
    svc = services([exec_path, bad_path, ca_path, sim.kubeconfig], read_timeout=5.0)
    win = window_factory()
    win.attach_service(svc, context="exec")
    run(win.model.wait_idle(), 20)
    assert object_names(win.model.find("Nodes"))
    sim.revoke_token(exec_token)
    win.refresh()
    run(win.model.wait_idle(), 20)
    for ctx in ("bad", "wrongca", "sim-cert", "sim-viewer", "sim-badtoken"):
        win.context_box.setCurrentText(ctx)
        run(win.model.wait_idle(), 20)
    # Settings the user may touch, then the window state is saved as on exit.
    win.settings.apply({"kubeconfig/extra_paths": [exec_path]})
    win.save_state()
    shown = []
    for burst in win.errors.shown:  # everything a notice shows: the banner's lines and the Details window
        win.errors.banner.show_burst(burst)
        dialog = win.errors.open_details()
        assert dialog is not None
        b = win.errors.banner
        shown += [b.title_label.text(), b.message_label.text(), b.hint_label.text(), b.count_label.text(),
                  dialog.windowTitle(), dialog.text.toPlainText()]
    for ctx in ("exec", "bad", "wrongca", "sim-badtoken", "sim-viewer"):
        win.context_box.setCurrentText(ctx)
        root = win.model.context_node()
        assert root is not None
        for n in root.walk():
            if n.type in (NodeType.ERROR, NodeType.NOTE):
                shown += [n.label, str(n.error.hint if n.error else ""), str(n.error.details if n.error else "")]
                win.tree.setCurrentIndex(win.model.index_of(n))
                shown += [w.text() for w in win.details.findChildren(type(win.status_context))]
    assert sum(len(b.errors) for b in win.errors.shown) >= 3  # there really were failures to word
    for h in logging.getLogger().handlers:
        h.flush()
    texts = {
        "log file": "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log*")),
        "captured log": caplog.text,
        "settings file": Path(win.settings.path).read_text(errors="replace"),
        "dialogs and rows": "\n".join(shown),
    }
    assert "Not authorized" in texts["dialogs and rows"]
    assert "Certificate problem" in texts["dialogs and rows"]
    assert all(texts.values()), {k: len(v) for k, v in texts.items()}
    assert "GET /api" in texts["log file"]  # DEBUG request lines are where a token would leak
    secrets = _secrets_of(sim, [exec_token, bad_token, "hunter2-" + exec_token[-6:]])
    for where, text in texts.items():
        for s in secrets:
            assert s not in text, f"a credential ({s[:12]}…) appears in the {where}"


def test_secret_masked_until_revealed_and_copy_asks_first(
        sim: SimProcess, services: Callable[..., Any], window_factory: Callable[..., Any], run: Any, qapp: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QGuiApplication

    from kube9_desktop.headless import load_tree
    from kube9_desktop.ui.details import DetailsPane

    win = window_factory()
    win.attach_service(services(sim.kubeconfig), context="sim-admin")
    run(load_tree(win.model, 0, ["Namespaces/team-a/Config/Secrets"]), 20)
    secrets = win.model.find("Namespaces/team-a/Config/Secrets")
    row = next(c for c in secrets.children if c.type is NodeType.OBJECT)  # type: ignore[union-attr]
    assert row.row is not None
    obj = sim.request("GET", f"/api/v1/namespaces/team-a/secrets/{row.row.name}")
    values = [v for v in (obj.get("data") or {}).values() if len(v) >= 6]
    assert values, "the sample Secret has data"
    win.tree.setCurrentIndex(win.model.index_of(row))
    run(win.wait_details(), 10)
    masked = win.details.yaml_text()
    assert row.row.name in masked and not any(v in masked for v in values)
    assert win.details.reveal_button.isVisibleTo(win.details)
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("before")
    asked: list[bool] = []
    monkeypatch.setattr(DetailsPane, "confirm_copy_secret", lambda self: asked.append(True) or False)
    win.details.copy_yaml()
    assert asked == [True] and clipboard.text() == "before", "declined: nothing copied"
    win.details._copy_task = None
    win.details.copy_yaml_of(row)  # the tree's context menu: declined, so nothing is even fetched
    assert asked == [True, True] and win.details._copy_task is None and clipboard.text() == "before"
    monkeypatch.setattr(DetailsPane, "confirm_copy_secret", lambda self: asked.append(True) or True)
    win.details.copy_yaml()
    assert len(asked) == 3 and all(v in clipboard.text() for v in values)
    clipboard.setText("")
    win.details.copy_yaml_of(row)
    run(win.details._copy_task, 10)
    assert len(asked) == 4 and all(v in clipboard.text() for v in values)
    clipboard.setText("")
    # Revealing shows the values, decoded.
    win.details.reveal()
    assert all(base64.b64decode(v).decode() in win.details.yaml_text() for v in values)


def test_insecure_skip_tls_verify_shows_a_warning(sim: SimProcess, services: Callable[..., Any],
                                                  window_factory: Callable[..., Any],
                                                  write_kubeconfig: Callable[..., str], run: Any) -> None:
    insecure = write_kubeconfig(sim, name="insecure", cluster={"insecure-skip-tls-verify": True},
                                drop=("certificate-authority-data", "certificate-authority"))
    win = window_factory()
    win.attach_service(services([insecure, sim.kubeconfig]), context="sim-admin")
    run(win.model.wait_idle(), 20)
    assert win.status_warning.text() == ""
    win.context_box.setCurrentText("insecure")
    run(win.model.wait_idle(), 20)
    assert "TLS verification is disabled" in win.status_warning.text()
    assert object_names(win.model.find("Nodes"))
    win.context_box.setCurrentText("sim-admin")
    assert win.status_warning.text() == ""


def test_tls_verification_is_on_by_default(sim: SimProcess, fsim: SimProcess, services: Callable[..., Any],
                                           write_kubeconfig: Callable[..., str], run: Any) -> None:
    # No CA at all: the system trust store does not know the sim's CA, so the connection must fail.
    path = write_kubeconfig(sim, drop=("certificate-authority-data", "certificate-authority"))
    model = make_model(services([path, sim.kubeconfig]), "test")
    run(model.wait_idle(), 20)
    root = model.context_node()
    assert root is not None and root.children[0].error is not None
    assert root.children[0].error.kind is ErrorKind.TLS
    assert_healthy(model, run, "sim-admin")


def _marker_dir(tmp_path: Path) -> Path:
    d = tmp_path / "markers"
    d.mkdir()
    return d


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_backend_passes_shell_metacharacters_through(sim: SimProcess, services: Callable[..., Any],
                                                            tmp_path: Path, run: Any) -> None:
    markers = _marker_dir(tmp_path)
    evil_ctx = EVIL.format(m=markers)
    evil_ns = EVIL.format(m=markers).replace("ev'il", "ns")
    cfg = sim_config(sim)
    admin = next(c for c in cfg["contexts"] if c["name"] == "sim-admin")
    cfg["contexts"].append({"name": evil_ctx, "context": {**admin["context"], "namespace": evil_ns}})
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump(cfg))
    svc = services(str(path), backend="kubectl")
    model = make_model(svc, evil_ctx)
    from kube9_desktop.headless import load_tree

    run(load_tree(model, 2, []), 60)
    # kubectl got the context name as one argument: it found the context and listed the nodes.
    assert object_names(model.find("Nodes")) == sorted(
        i["metadata"]["name"] for i in sim.request("GET", "/api/v1/nodes")["items"])
    # The evil default namespace is shown (listing namespaces works as admin); nothing ran in a shell.
    assert list(markers.iterdir()) == []


def test_exec_plugin_arguments_and_context_are_not_shell_expanded(sim: SimProcess, services: Callable[..., Any],
                                                                  write_kubeconfig: Callable[..., str],
                                                                  tmp_path: Path, run: Any) -> None:
    markers = _marker_dir(tmp_path)
    argv_file = tmp_path / "argv.json"
    plugin = tmp_path / "kube9-args"
    plugin.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'info': os.environ.get('KUBERNETES_EXEC_INFO')}}, "
        f"open({str(argv_file)!r}, 'w'))\n"
        f"print(json.dumps({{'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential', "
        f"'status': {{'token': {sim.admin_token()!r}}}}}))\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    args = ["--context", EVIL.format(m=markers), "$(touch " + str(markers) + "/pwned-5)", "*"]
    evil_ctx = EVIL.format(m=markers)
    path = write_kubeconfig(sim, name=evil_ctx, user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "args": args,
        "env": [{"name": "EVIL", "value": "$(touch " + str(markers) + "/pwned-6)"}]}})
    model = make_model(services(path), evil_ctx)
    run(model.wait_idle(), 20)
    assert object_names(model.find("Nodes"))
    got = json.loads(argv_file.read_text())
    assert got["argv"] == args
    assert list(markers.iterdir()) == []


def test_sim_listens_on_loopback_only_and_requires_credentials(fsim: SimProcess) -> None:
    listening = [c for c in psutil.Process(fsim.pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening), listening
    # Reaching the port through any other local address fails.
    others = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
              if a.family == socket.AF_INET and not a.address.startswith("127.")]
    for addr in others[:2]:
        with pytest.raises(OSError):
            socket.create_connection((addr, fsim.port), timeout=1).close()
    ctx = ssl.create_default_context(cadata=fsim.ca_pem.decode())

    def status(path: str, token: str | None) -> int:
        req = urllib.request.Request(fsim.url + path)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    for path in ("/api/v1/pods", "/api/v1/namespaces/team-a/secrets", "/simz/stats", "/apis"):
        assert status(path, None) == 401, path
        assert status(path, "not-a-valid-token") == 401, path
    assert status("/api/v1/pods", fsim.admin_token()) == 200
    assert status("/simz/stats", fsim.token("sim-viewer")) == 403
