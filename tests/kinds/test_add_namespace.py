"""Restricted users: where namespaces cannot be listed, the Namespaces list offers "Add a namespace…" right there; the
name is checked with the server before it is added and remembered for the context. Against a context with no default
namespace it is the only way in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QSettings, Qt

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.model.loader import ADD_NAMESPACE_LABEL
from kube9_desktop.model.nodes import NodeType

CONTEXT = "viewer-nons"


@pytest.fixture
def kubeconfig(sim: Any, tmp_path: Path) -> str:
    """The sim's kubeconfig plus a context of the restricted user with no default namespace."""
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    viewer = next(c for c in cfg["contexts"] if c["name"] == "sim-viewer")
    ctx = {k: v for k, v in viewer["context"].items() if k != "namespace"}
    cfg["contexts"].append({"name": CONTEXT, "context": ctx})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def app(kubeconfig: str, settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", kubeconfig, "--context", CONTEXT,
                           "--settings-file", str(settings), *args], capture_output=True, text=True, timeout=180)


def kubectl_pods(kubeconfig: str, namespace: str) -> list[str]:
    out = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--context", CONTEXT, "get", "pods", "-n", namespace,
                          "-o", "name"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return sorted(p.split("/", 1)[1] for p in out.stdout.split())


def test_headless_add_a_namespace_is_checked_then_remembered(kubeconfig: str, tmp_path: Path) -> None:
    settings = tmp_path / "settings.ini"
    tree = app(kubeconfig, settings, "--print-tree", "--depth", "2")
    assert tree.returncode == 0, tree.stderr
    lines = [ln.strip() for ln in tree.stdout.splitlines()]
    at = lines.index("Namespaces (0)")
    assert lines[at + 1].startswith("~ You may not list namespaces: add one you can use")
    assert lines[at + 2] == f"~ {ADD_NAMESPACE_LABEL}"

    bad = app(kubeconfig, settings, "--run", "add-namespace Team_A")
    assert bad.returncode == 2 and "'Team_A' is not a namespace name" in bad.stderr
    refused = app(kubeconfig, settings, "--run", "add-namespace team-b")
    assert refused.returncode == 1
    assert "Namespace team-b cannot be added: You cannot list pods in namespace team-b" in refused.stderr
    ok = app(kubeconfig, settings, "--run", "add-namespace team-a")
    assert ok.returncode == 0 and f"Added namespace team-a to {CONTEXT}" in ok.stdout, ok.stderr
    assert SettingsStore(QSettings(str(settings), QSettings.Format.IniFormat)).accessible_namespaces(CONTEXT) == [
        "team-a"]

    tree = app(kubeconfig, settings, "--print-tree", "--depth", "1", "--expand", "Namespaces/team-a/Workloads/Pods")
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.strip().startswith("Pods ("))
    depth = len(lines[at]) - len(lines[at].lstrip())
    pods = []
    for ln in lines[at + 1:]:
        if len(ln) - len(ln.lstrip()) <= depth:
            break
        pods.append(ln.strip().split("\t")[0])
    assert sorted(pods) == kubectl_pods(kubeconfig, "team-a")
    assert any(ln.strip().startswith("~ Partial list") for ln in lines)


def test_window_offers_add_a_namespace_where_namespaces_cannot_be_listed(
        kubeconfig: str, make_window: Any, service_factory: Any, qtbot: Any, tmp_path: Path) -> None:
    w = make_window(service=service_factory(kubeconfig=kubeconfig), context=CONTEXT)
    settings = w.settings
    namespaces = w.model.find("Namespaces")
    assert namespaces is not None
    # No namespace to show: the list opens by itself on the offer to add one.
    qtbot.waitUntil(lambda: any(c.command for c in namespaces.children), timeout=20000)
    qtbot.waitUntil(lambda: w.tree.isExpanded(w._view_index(w.model.index_of(namespaces))), timeout=20000)
    add = next(c for c in namespaces.children if c.command)
    assert add.type is NodeType.NOTE and add.label == ADD_NAMESPACE_LABEL
    idx = w._view_index(w.model.index_of(add))
    assert idx.isValid() and w.tree.isExpanded(w._view_index(w.model.index_of(namespaces)))
    assert w.model.data(w.model.index_of(add), Qt.ItemDataRole.FontRole).underline()
    w.grab().save(str(tmp_path / "add-namespace.png"))

    w.tree.doubleClicked.emit(idx)  # the row runs the command: the dialog asks for the name
    qtbot.waitUntil(lambda: getattr(w, "add_namespace_dialog", None) is not None, timeout=5000)
    dialog = w.add_namespace_dialog  # type: ignore[attr-defined]
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.edit.setText("team-b")
    dialog.add()
    qtbot.waitUntil(lambda: "Namespace team-b cannot be added" in dialog.problem.text(), timeout=20000)
    assert dialog.isVisible() and dialog.edit.text() == "team-b"  # the user's text is kept to correct
    assert settings.accessible_namespaces(CONTEXT) == []
    dialog.grab().save(str(tmp_path / "add-namespace-dialog.png"))

    dialog.edit.setText("team-a")
    dialog.add()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
    assert settings.accessible_namespaces(CONTEXT) == ["team-a"]
    qtbot.waitUntil(lambda: [c.row.name for c in namespaces.children if c.row is not None] == ["team-a"],
                    timeout=20000)

    def selected() -> str | None:
        n = w.model.node(w.source_index(w.tree.currentIndex()))
        return n.row.name if n.row is not None else None

    qtbot.waitUntil(lambda: selected() == "team-a", timeout=20000)
