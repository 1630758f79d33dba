"""The main window against a running kube9-sim: contexts, refresh, filter, details, dialogs, state."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QGuiApplication

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.kube.secret_mask import MASK
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.ui.main_window import MainWindow


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(make_window: Any, store: SettingsStore) -> Any:
    return make_window(store=store)


def test_window_opens_current_context_with_version(window: MainWindow) -> None:
    assert window.context_box.currentText() == "sim-admin"
    names = [window.context_box.itemText(i) for i in range(window.context_box.count())]
    assert {"sim-admin", "sim-cert", "sim-viewer", "sim-badtoken", "sim-down"} <= set(names)
    root = window.model.context_node()
    assert root is not None and root.status == "v1.19.0"
    assert window.tree.isExpanded(window.model.index_of(root))
    assert "sim-admin" in window.status_context.text()


def test_switch_to_down_context_shows_one_dialog_and_stays_responsive(window: MainWindow, run: Any,
                                                                       qtbot: Any) -> None:
    from kube9_desktop.model.lag import LoopLagMonitor

    monitor = LoopLagMonitor()
    monitor.start()
    window.context_box.setCurrentText("sim-down")
    run(window.model.wait_idle())
    run(monitor.stop())
    root = window.model.context_node()
    assert root is not None and root.context == "sim-down"
    assert [c.type for c in root.children] == [NodeType.ERROR]
    dialogs = window.errors.visible()
    assert len(dialogs) == 1
    assert "refused" in dialogs[0].message_label.text()
    hint = dialogs[0].hint_label
    assert hint.text() and hint.font().italic() and not hint.styleSheet()  # what to do: readable, not pale grey
    assert monitor.max_lag_ms < 250, f"the loop was blocked {monitor.max_lag_ms:.0f} ms"
    qtbot.waitUntil(lambda: window.status_load.text().startswith("Failed after"), timeout=2000)  # not "Loaded in"
    # Back to a healthy context: instant, from the kept tree.
    window.context_box.setCurrentText("sim-admin")
    assert window.model.context_node() is not None
    assert window.model.context_node().state is LoadState.LOADED  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.status_load.text().startswith("Loaded in"), timeout=2000)


def test_identical_errors_together_make_one_dialog(window: MainWindow, run: Any) -> None:
    window.context_box.setCurrentText("sim-badtoken")
    run(window.model.wait_idle())
    root = window.model.context_node()
    assert root is not None
    for _ in range(4):
        window.model.retry(window.model.index_of(root.children[0]))
        run(window.model.wait_idle())
    dialogs = window.errors.visible()
    assert len(dialogs) == 1
    assert dialogs[0].count == 5
    assert "5 times" in dialogs[0].count_label.text()
    assert dialogs[0].error.status == 401
    assert '"status": 401' in dialogs[0].details_text()


def test_filter_shows_matches_with_ancestors(window: MainWindow, open_in_window: Any, run: Any) -> None:
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    name = pods.children[0].row.name  # type: ignore[union-attr]
    window.filter_box.setText(name)
    assert window.tree.model() is window.proxy
    matches: list[str] = []

    def walk(parent: Any) -> None:
        for r in range(window.proxy.rowCount(parent)):
            idx = window.proxy.index(r, 0, parent)
            node = window.model.node(window.proxy.mapToSource(idx))
            if node.type is NodeType.OBJECT and node.row is not None and node.row.name == name:
                matches.append(name)
                assert window.tree.isExpanded(idx.parent())
            walk(idx)

    walk(window.tree.rootIndex())
    assert matches == [name]
    assert window.proxy.rowCount(window.proxy.mapFromSource(window.model.index_of(pods))) == 1
    window.filter_box.clear()
    assert window.tree.model() is window.model
    assert window.tree.isExpanded(window.model.index_of(pods))


def test_details_masks_secret_until_revealed(window: MainWindow, open_in_window: Any, run: Any, sim: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = open_in_window("Namespaces/team-a/Config/Secrets")
    node = secrets.children[0]
    window.tree.setCurrentIndex(window.model.index_of(node))
    run(window.details.wait())
    obj = sim.request("GET", f"/api/v1/namespaces/team-a/secrets/{node.row.name}")  # type: ignore[union-attr]
    assert obj["data"]
    text = window.details.yaml_text()
    assert MASK in text
    for value in obj["data"].values():
        assert value not in text
    assert window.details.reveal_button.isVisible()
    # Copying asks first; declining leaves the clipboard alone.
    QGuiApplication.clipboard().setText("unchanged")
    monkeypatch.setattr(window.details, "confirm_copy_secret", lambda: False)
    window.details.copy_yaml()
    assert QGuiApplication.clipboard().text() == "unchanged"
    window.details.reveal()
    shown = yaml.safe_load(window.details.yaml_text())["data"]
    assert shown == {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def test_details_of_a_pod_show_fields_and_yaml(window: MainWindow, open_in_window: Any, run: Any) -> None:
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    window.tree.setCurrentIndex(window.model.index_of(pods.children[0]))
    run(window.details.wait())
    assert window.details.title.text().startswith("Pod ")
    assert "kind: Pod" in window.details.yaml_text()
    assert not window.details.reveal_button.isVisible()
    window.details.copy_yaml()
    assert "kind: Pod" in QGuiApplication.clipboard().text()


def test_viewer_partial_namespaces_and_inline_errors(window: MainWindow, run: Any) -> None:
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    nodes = window.model.find("Nodes")
    assert nodes is not None and nodes.state is LoadState.FAILED
    assert window.model.data(window.model.index_of(nodes.children[0])).startswith("You cannot list nodes")
    tip = window.model.data(window.model.index_of(nodes.children[0]), Qt.ItemDataRole.ToolTipRole)
    assert "kubectl auth can-i" in tip
    # Expansion errors stay inline: no dialog for them.
    assert window.errors.visible() == []


def test_context_menus_offer_what_fits_the_row(window: MainWindow, open_in_window: Any, run: Any) -> None:
    """An error row offers Retry and copies its message; a list can be refreshed on its own; a pod copies its
    name and YAML."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    nodes = open_in_window("Nodes")

    def actions(node: Any) -> list[str]:
        menu = window.menu_for(window._view_index(window.model.index_of(node)))
        assert menu is not None
        return [a.text().split("\t")[0] for a in menu.actions() if not a.isSeparator()]

    assert actions(nodes.children[0]) == ["Retry", "Copy message"]
    assert actions(nodes) == ["Refresh this node", "Copy name"]
    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    assert {"Refresh", "Copy name", "Copy YAML"} <= set(actions(pods.children[0]))  # the registry's, for a pod
    window.menu_for(window._view_index(window.model.index_of(nodes.children[0]))).actions()[1].trigger()  # type: ignore[union-attr]
    assert QGuiApplication.clipboard().text() == nodes.children[0].label
    assert window.menu_for(QModelIndex()) is None


def test_window_state_is_restored(qtbot: Any, store: SettingsStore, service_factory: Any, run: Any) -> None:
    w = MainWindow(store)
    qtbot.addWidget(w)
    w.resize(700, 500)
    w.show()
    w.attach_service(service_factory(), context="sim-cert")
    run(w.model.wait_idle())
    w.splitter.setSizes([250, 450])
    w.close()
    run(w.shutdown())
    w2 = MainWindow(store)
    qtbot.addWidget(w2)
    w2.show()
    w2.attach_service(service_factory())
    run(w2.model.wait_idle())
    assert w2.context_box.currentText() == "sim-cert"
    assert w2.size().width() == 700
    assert abs(w2.splitter.sizes()[0] - 250) <= 10
    run(w2.shutdown())


def test_status_bar_shows_numbers(window: MainWindow, run: Any) -> None:
    window._update_status()
    assert "requests" in window.status_requests.text()
    assert "Cache hit rate" in window.status_cache.text()
    assert "connections" in window.status_conn.text()
    run(asyncio.sleep(0))
