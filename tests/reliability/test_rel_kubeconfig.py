"""Kubeconfig faults the data-layer tests do not cover, as the user sees them: an error row under the context
(or a dialog for a broken file), and the healthy contexts still load.

Missing / non-YAML / wrong-shape files, a missing current-context and dangling cluster/user names are checked
against the loader in tests/kube/test_kubeconfig.py; here they go through the window.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from reliability_helpers import assert_healthy, context_error, make_model, sim_config

from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.sim.certs import generate_pki
from kube9_desktop.sim.process import SimProcess


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("cluster", "user", "drop", "expect"),
    [
        ({"certificate-authority": "/nonexistent/kube9/ca.crt"}, None, ("certificate-authority-data",),
         ["/nonexistent/kube9/ca.crt"]),
        ({"certificate-authority-data": "this is *not* base64!"}, None, (), ["base64"]),
    ],
    ids=["ca-file-missing", "ca-data-not-base64"],
)
def test_broken_cluster_entry_is_a_kubeconfig_error_row(
        cluster: dict[str, Any], user: Any, drop: tuple[str, ...], expect: list[str], sim: SimProcess,
        services: Callable[..., Any], write_kubeconfig: Callable[..., str], run: Any) -> None:
    path = write_kubeconfig(sim, cluster=cluster, user=user, drop=drop)
    failures: list[Any] = []
    model = make_model(services([path, sim.kubeconfig]), "test", failures)
    run(model.wait_idle(), 20)
    row = context_error(model)
    assert row.error is not None and row.error.kind is ErrorKind.KUBECONFIG
    text = row.label
    assert "context test" in text and "kubeconfig" in text.lower()
    for e in expect:
        assert e.lower() in (text + row.error.hint).lower(), text
    assert row.error.hint
    assert failures and failures[0][1] is True
    assert_healthy(model, run, "sim-admin")


def test_client_key_not_matching_certificate(sim: SimProcess, services: Callable[..., Any],
                                             write_kubeconfig: Callable[..., str], run: Any) -> None:
    cfg = sim_config(sim)
    cert_user = next(u["user"] for u in cfg["users"] if u["name"] == "sim-cert")
    other = generate_pki()
    user = {"client-certificate-data": cert_user["client-certificate-data"],
            "client-key-data": _b64(other.client_key)}
    path = write_kubeconfig(sim, user=user)
    model = make_model(services([path, sim.kubeconfig]), "test")
    run(model.wait_idle(), 20)
    row = context_error(model)
    assert row.error is not None and row.error.kind in (ErrorKind.KUBECONFIG, ErrorKind.TLS)
    low = (row.label + " " + row.error.hint).lower()
    assert "key" in low and ("certificate" in low or "cert" in low), row.label
    # Never the key material itself.
    assert _b64(other.client_key)[:40] not in row.label + str(row.error.details)
    assert_healthy(model, run, "sim-admin")


def test_window_shows_broken_files_and_loads_the_good_one(
        sim: SimProcess, tmp_path: Path, qtbot: Any, run: Any, window_factory: Callable[..., Any],
        services: Callable[..., Any]) -> None:
    notyaml = tmp_path / "broken.yaml"
    notyaml.write_text("clusters: [\n  - name: x\n   bad")
    shape = tmp_path / "shape.yaml"
    shape.write_text("- just\n- a list\n")
    missing = tmp_path / "missing.yaml"
    # The good file's current-context names a context that does not exist.
    good = sim_config(sim)
    good["current-context"] = "no-such-context"
    good_path = tmp_path / "good.yaml"
    good_path.write_text(yaml.safe_dump(good))
    svc = services([str(good_path), str(notyaml), str(shape), str(missing)])
    win = window_factory()
    win.attach_service(svc)
    shown = "\n".join(e.message for burst in win.errors.shown for e in burst.errors)
    assert f"{notyaml}: is not valid YAML" in shown
    assert f"{shape}: is not a kubeconfig" in shown
    assert f"{missing}: the file does not exist" in shown
    assert "no-such-context" in shown
    # The window still browses the good file's contexts.
    assert win.current_context() in [c["name"] for c in good["contexts"]]
    win.context_box.setCurrentText("sim-admin")
    run(win.model.wait_idle(), 20)
    assert_healthy(win.model, run, "sim-admin")
