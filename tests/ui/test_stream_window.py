"""Shells and port forwards in the real main window (against kube9-sim): S on a pod, the menu, and quitting."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt

from kube9_desktop.commands import load_all
from kube9_desktop.config.store import SettingsStore
from kube9_desktop.headless import load_tree
from kube9_desktop.kube.portforward import FORWARDS, ForwardState
from kube9_desktop.ui.forwards_panel import ForwardsPanel
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.terminal_view import TerminalView


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, service_factory: Any, run: Any) -> Any:
    load_all()
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    store.set("live/enabled", False)
    w = MainWindow(store)

    def shut_down(win: MainWindow) -> None:
        # Here, not after the yield: pytest-qt closes and deletes its widgets before fixtures are torn down.
        if not getattr(win, "_shut", False):
            win.errors.close_all()
            run(win.shutdown())

    qtbot.addWidget(w, before_close_func=shut_down)
    w.resize(1280, 800)
    w.show()
    w.attach_service(service_factory(connect_timeout=2.0), context="sim-admin")
    run(w.model.wait_idle())
    yield w


def running_pod_node(window: MainWindow, run: Any, sim: Any) -> Any:
    path = "Namespaces/team-a/Workloads/Pods"
    run(load_tree(window.model, 0, [path], expand_view=window.expand_node))
    pods = window.model.find(path)
    assert pods is not None
    names = {
        p["metadata"]["name"]
        for p in sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
        if "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    }
    node = next(c for c in pods.children if c.label in names)
    window.tree.setCurrentIndex(window.model.index_of(node))
    return node


def test_s_on_a_pod_opens_a_shell_tab_and_the_menu_offers_shell_and_port_forward(
    window: MainWindow, run: Any, qtbot: Any, sim: Any
) -> None:
    node = running_pod_node(window, run, sim)
    menu = window.menu_for(window.model.index_of(node))
    assert menu is not None
    titles = [a.text().split("\t") for a in menu.actions() if not a.isSeparator()]
    assert ["Shell…", "S"] in titles
    assert any(t[0] == "Port forward…" for t in titles)
    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_S)  # the key itself, as a user presses it
    qtbot.waitUntil(lambda: any(isinstance(t, TerminalView) for t in window.bottom_dock.tabs()), timeout=10000)
    view = next(t for t in window.bottom_dock.tabs() if isinstance(t, TerminalView))
    assert view.spec.pod == node.label
    qtbot.waitUntil(lambda: "/ #" in view.terminal.text(), timeout=10000)


def test_the_palette_offers_shell_and_port_forward_on_a_pod_and_opens_the_shell(
    window: MainWindow, run: Any, qtbot: Any, sim: Any
) -> None:
    node = running_pod_node(window, run, sim)
    window.commands.open_palette()
    qtbot.waitUntil(lambda: window.commands.palette is not None and window.commands.palette.isVisible(), timeout=3000)
    palette = window.commands.palette
    assert palette is not None
    assert {"exec", "port-forward"} <= {e.command.id for e in palette.model.entries if e.command}
    qtbot.keyClicks(palette.edit, "shell")
    first = palette.model.entries[0]
    assert first.command is not None and first.command.id == "exec" and first.shortcut == "S"
    qtbot.keyClick(palette.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(isinstance(t, TerminalView) for t in window.bottom_dock.tabs()), timeout=10000)
    view = next(t for t in window.bottom_dock.tabs() if isinstance(t, TerminalView))
    assert view.spec.pod == node.label
    qtbot.waitUntil(lambda: "/ #" in view.terminal.text(), timeout=10000)


def test_quitting_closes_shells_and_stops_forwards(window: MainWindow, run: Any, qtbot: Any, sim: Any) -> None:
    node = running_pod_node(window, run, sim)
    window.commands.shortcut_actions["exec"].trigger()
    qtbot.waitUntil(lambda: any(isinstance(t, TerminalView) for t in window.bottom_dock.tabs()), timeout=10000)
    view = next(t for t in window.bottom_dock.tabs() if isinstance(t, TerminalView))
    qtbot.waitUntil(lambda: "/ #" in view.terminal.text(), timeout=10000)
    session = view.session
    result = run(window.commands.run_line(f"port-forward team-a/pod/{node.label} 0:8080"))
    assert result.ok, result.message
    assert isinstance(window.bottom_dock.tab_for("port-forwards"), ForwardsPanel)
    fwd = FORWARDS.all()[-1]
    assert fwd.state is ForwardState.ACTIVE
    window.errors.close_all()
    run(window.shutdown())
    window._shut = True  # type: ignore[attr-defined]
    assert session is not None and session.wait(5) is not None  # the shell's stream ended
    assert fwd.state is ForwardState.STOPPED
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fwd.local_port), timeout=2).close()
    FORWARDS.remove(fwd)
