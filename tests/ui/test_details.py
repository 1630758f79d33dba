"""The details pane against what a server really returns: names that would climb out of their collection, a Pod's
GET answered with a Secret, and Secret values decoded when revealed, masked again on Hide."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_proxy import HostileProxy
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.kube.secret_mask import MASK
from kube9_desktop.kube.service import KubeService
from kube9_desktop.ui.details import DetailsPane, decode_value


@pytest.fixture
def pane(qtbot: Any) -> DetailsPane:
    p = DetailsPane()
    qtbot.addWidget(p)
    p.resize(600, 500)
    p.show()
    return p


@pytest.fixture
def proxy(sim: Any, tmp_path: Path) -> Iterator[HostileProxy]:
    with HostileProxy(sim, tmp_path) as p:
        yield p


def _service(path: str, run: Any) -> Iterator[KubeService]:
    svc = KubeService(load_kubeconfig(path), kubeconfig_path=path)
    yield svc
    run(svc.aclose())


@pytest.fixture
def hostile_service(proxy: HostileProxy, run: Any) -> Iterator[KubeService]:
    yield from _service(proxy.kubeconfig, run)


@pytest.fixture
def service(sim: Any, run: Any) -> Iterator[KubeService]:
    yield from _service(sim.kubeconfig, run)


def _secret(sim: Any) -> dict[str, Any]:
    items = sim.request("GET", "/api/v1/namespaces/team-a/secrets")["items"]
    return next(s for s in items if s.get("data"))


def _pods(svc: KubeService, run: Any, context: str) -> list[Row]:
    rows: list[Row] = run(svc.list_all(ListRef(context, "pods", "team-a")))
    return rows


def test_a_pod_named_to_climb_into_secrets_is_refused_not_fetched(
        sim: Any, proxy: HostileProxy, hostile_service: KubeService, pane: DetailsPane, run: Any) -> None:
    """A server that lists a pod named ``../secrets/NAME``: the details pane must not GET the Secret (a client that
    normalises the path would) and says why, instead of showing the Secret unmasked."""
    secret = _secret(sim)
    victim = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"][0]["metadata"]["name"]
    evil = f"../secrets/{secret['metadata']['name']}"
    proxy.renames[victim] = evil
    row = next(r for r in _pods(hostile_service, run, "hostile") if r.name == evil)
    pane.service = hostile_service
    proxy.paths.clear()
    pane.show_object("hostile", KINDS["pods"], row)
    run(pane.wait())
    text = pane.yaml_text()
    for value in secret["data"].values():
        assert value not in text
    assert "Invalid name" in text and "'../secrets/" in text and "it contains '/'" in text, text
    assert not [p for p in proxy.paths if "secrets" in p], proxy.paths  # nothing was requested at all
    assert proxy.paths == []


def test_a_secret_returned_for_a_pod_is_masked_and_not_copied(
        sim: Any, proxy: HostileProxy, hostile_service: KubeService, pane: DetailsPane, run: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Masking goes by the kind of the object the server returned, not by the row that was clicked."""
    secret = _secret(sim)
    row = _pods(hostile_service, run, "hostile")[0]
    proxy.swaps[f"/api/v1/namespaces/team-a/pods/{row.name}"] = \
        f"/api/v1/namespaces/team-a/secrets/{secret['metadata']['name']}"
    pane.service = hostile_service
    pane.show_object("hostile", KINDS["pods"], row)
    run(pane.wait())
    text = pane.yaml_text()
    assert "kind: Secret" in text and MASK in text
    for value in secret["data"].values():
        assert value not in text
    assert pane.is_secret and pane.reveal_button.isVisible()
    assert pane.title.text().startswith("Secret")
    # Copy YAML on the row asks nobody (a Pod), so what comes back as a Secret is not copied either.
    QGuiApplication.clipboard().setText("unchanged")
    failures: list[Any] = []
    pane.failed.connect(failures.append)
    pane.copy_yaml_of(_FakeNode(row))  # a tree row's three fields; the tree is not what is tested here
    run(pane._copy_task)  # type: ignore[arg-type]
    assert QGuiApplication.clipboard().text() == "unchanged"
    assert [f.title for f in failures] == ["Not copied"]
    # Copy YAML of the shown object asks first, like any Secret.
    asked: list[bool] = []
    monkeypatch.setattr(pane, "confirm_copy_secret", lambda: asked.append(True) or False)
    pane.copy_yaml()
    assert asked and QGuiApplication.clipboard().text() == "unchanged"


class _FakeNode:
    def __init__(self, row: Row) -> None:
        self.kind, self.row, self.context = KINDS["pods"], row, "hostile"


def test_reveal_decodes_text_and_binary_values_and_hide_masks_again(
        sim: Any, service: KubeService, pane: DetailsPane, run: Any) -> None:
    secret = _secret(sim)
    rows = run(service.list_all(ListRef("sim-admin", "secrets", "team-a")))
    row = next(r for r in rows if r.name == secret["metadata"]["name"])
    pane.service = service
    pane.show_object("sim-admin", KINDS["secrets"], row)
    run(pane.wait())
    assert MASK in pane.yaml_text() and not pane.hide_button.isVisible()
    pane.reveal_button.click()
    shown = yaml.safe_load(pane.yaml_text())["data"]
    assert shown == {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}  # text, not base64
    assert not pane.reveal_button.isVisible() and pane.hide_button.isVisible()
    pane.hide_button.click()
    assert yaml.safe_load(pane.yaml_text())["data"] == dict.fromkeys(secret["data"], MASK)
    assert pane.reveal_button.isVisible() and not pane.hide_button.isVisible()


def test_decoded_values_text_binary_and_multiline() -> None:
    assert decode_value(base64.b64encode(b"hunter2").decode()) == "hunter2"
    binary = bytes(range(250, 256)) + b"\x00\x1b[2J"
    shown = decode_value(base64.b64encode(binary).decode())
    assert shown.startswith(f"<binary, {len(binary)} bytes> fa fb fc fd fe ff 00 1b")
    assert "\x1b" not in shown  # an escape sequence is shown as hex, never as text
    big = decode_value(base64.b64encode(b"\xff" * 5000).decode())
    assert "<binary, 5000 bytes>" in big and "(3976 more bytes)" in big and len(big) < 3200
    assert decode_value("not base64!") == "<not base64> not base64!"


def test_a_name_with_controls_reads_in_its_order_on_one_line(
        sim: Any, proxy: HostileProxy, hostile_service: KubeService, pane: DetailsPane, run: Any) -> None:
    """Issue 14 item 11 in the window: the details pane's title and fields showed a U+202E as itself ("gpj.exe" read
    "exe.jpg"), and a newline broke the title into a forged second line; both now show what they are."""
    from PySide6.QtWidgets import QLabel

    victim = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"][0]["metadata"]["name"]
    evil = "web-1\n  ! forged\x1b[31m\u202egpj.exe"
    proxy.renames[victim] = evil
    row = next(r for r in _pods(hostile_service, run, "hostile") if r.name == evil)
    pane.service = hostile_service
    pane.show_object("hostile", KINDS["pods"], row)
    run(pane.wait())
    labels = [pane.title] + [w for w in pane.form_host.findChildren(QLabel)]
    shown = [label.text() for label in labels]
    assert pane.title.text() == "Pod web-1   ! forged⟨U+001B⟩[31m⟨U+202E⟩gpj.exe", pane.title.text()
    for text in shown:
        assert not any(ch in text for ch in "\n\x1b\u202e"), text
    assert all(label.textFormat() is Qt.TextFormat.PlainText for label in labels if label is pane.title or
               not label.text().startswith("<b>"))
