"""The Port forwards panel and the stream commands opening their views in the window's dock (against kube9-sim)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow

from kube9_desktop.commands import load_all
from kube9_desktop.commands.runner import run_line
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.portforward import FORWARDS, ForwardState
from kube9_desktop.kube.service import KubeService
from kube9_desktop.ui.bottom_dock import BottomDock
from kube9_desktop.ui.forwards_panel import ForwardsPanel, human_bytes
from kube9_desktop.ui.terminal_view import TerminalView
from kube9_desktop.ui.window_port import WindowPort


class Host(QMainWindow):
    """A bare window with the dock and a service, as MainWindow has."""

    def __init__(self, service: Any) -> None:
        super().__init__()
        self.service = service
        self.bottom_dock = BottomDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.bottom_dock)
        self.setCentralWidget(QLabel("tree"))

    def current_context(self) -> str | None:
        return "sim-admin"

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)


@pytest.fixture
def host(qtbot: Any, run: Any, sim: Any) -> Any:
    svc = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
    h = Host(svc)
    qtbot.addWidget(h, before_close_func=lambda w: run(w.bottom_dock.close_all()))
    h.resize(1000, 700)
    h.show()
    yield h
    FORWARDS.stop_all()
    for f in FORWARDS.all():
        FORWARDS.remove(f)
    run(svc.aclose())


def running_pod(sim: Any) -> str:
    pods = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
    return str(
        next(
            p["metadata"]["name"]
            for p in pods
            if "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
        )
    )


class Browser(QObject):
    """Stands in for the desktop's browser: records the URLs it is asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_port_forward_opens_the_panel_which_shows_copies_and_stops_it(
    host: Host, run: Any, qtbot: Any, qtmodeltester: Any, sim: Any
) -> None:
    load_all()
    port = WindowPort(host)
    pod = running_pod(sim)  # a pod, not a Service: other tests of the shared sim scale and delete workloads
    result = run(run_line(f"port-forward team-a/pod/{pod} 0:8080", service=host.service, context="sim-admin", ui=port))
    assert result.ok, result.message
    panel = host.bottom_dock.tab_for("port-forwards")
    assert isinstance(panel, ForwardsPanel)
    qtmodeltester.check(panel.model)
    fwd = panel.selected()
    assert fwd is not None and fwd.state is ForwardState.ACTIVE and fwd.spec.address == "127.0.0.1"
    row = [panel.model.data(panel.model.index(0, c)) for c in range(6)]
    assert row[0] == fwd.address and row[1] == f"team-a/pod/{pod}:8080" and row[2] == "forwarding"
    assert panel.open_button.isEnabled()  # port 8080: HTTP
    with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, 3)) == "0 open / 1", timeout=3000)
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, 5)) == human_bytes(fwd.bytes_in), timeout=3000)
    assert panel.model.data(panel.model.index(0, 4)) == "27 B" and fwd.bytes_in > 100  # bytes each way
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == fwd.address
    opened = Browser()
    QDesktopServices.setUrlHandler("http", opened, "open")  # the system's browser stays closed
    try:
        panel.open_button.click()
    finally:
        QDesktopServices.unsetUrlHandler("http")
    assert opened.urls == [f"http://127.0.0.1:{fwd.local_port}/"]
    panel.stop_button.click()
    assert fwd.state is ForwardState.STOPPED
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fwd.local_port), timeout=2).close()
    assert panel.stop_button.text() == "Remove"
    panel.stop_button.click()
    assert panel.model.rowCount() == 0


def test_a_failed_connection_is_counted_and_its_reason_shown(host: Host, run: Any, qtbot: Any, sim: Any) -> None:
    load_all()
    pod = running_pod(sim)
    result = run(run_line(f"port-forward team-a/pod/{pod} 0:9999", service=host.service, context="sim-admin",
                          ui=WindowPort(host)))  # nothing listens on 9999 inside the pod
    assert result.ok, result.message
    panel = host.bottom_dock.tab_for("port-forwards")
    assert isinstance(panel, ForwardsPanel)
    fwd = panel.selected()
    assert fwd is not None
    with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=5) as s:
        s.sendall(b"x")
        assert s.recv(10) == b""
    cell = panel.model.index(0, 3)
    qtbot.waitUntil(lambda: panel.model.data(cell) == "0 open / 1 (1 failed)", timeout=3000)
    tip = panel.model.data(cell, Qt.ItemDataRole.ToolTipRole)
    assert "last failure: error forwarding port 9999" in tip and "connection refused" in tip
    assert panel.model.data(panel.model.index(0, 2)) == "forwarding"  # the forward itself goes on


def test_a_second_address_must_be_confirmed(host: Host, run: Any, sim: Any) -> None:
    load_all()

    class Refuse(WindowPort):
        async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                          **_options: Any) -> bool:
            self.asked = question
            return False

    port = Refuse(host)
    r = run(
        run_line(
            "port-forward team-a/svc/api 0:80 --address 0.0.0.0", service=host.service, context="sim-admin", ui=port
        )
    )
    assert not r.ok and "not confirmed" in r.message
    assert "Anyone who can reach this machine" in port.asked
    assert FORWARDS.all() == []


def test_exec_opens_a_shell_tab(host: Host, run: Any, qtbot: Any, sim: Any) -> None:
    load_all()
    port = WindowPort(host)
    pod = running_pod(sim)
    result = run(run_line(f"exec team-a/pod/{pod}", service=host.service, context="sim-admin", ui=port))
    assert result.ok, result.message
    tabs = [w for w in host.bottom_dock.tabs() if isinstance(w, TerminalView)]
    assert len(tabs) == 1
    view = tabs[0]
    assert view.spec.command[0] == "/bin/sh" and view.container_box.currentText() == "main"
    qtbot.waitUntil(lambda: "/ #" in view.terminal.text(), timeout=5000)
    host.bottom_dock.close_tab(host.bottom_dock.tab_widget.indexOf(view))
    session = view.session
    assert session is None  # closing the tab closed the stream


def test_the_shell_tab_offers_the_pods_containers_and_runs_a_changed_command(
    host: Host, run: Any, qtbot: Any, sim: Any
) -> None:
    load_all()
    pod = next(
        p["metadata"]["name"]
        for p in sim.request("GET", "/api/v1/pods")["items"]
        if p["metadata"]["namespace"] == "team-a"
        and [c["name"] for c in p["spec"]["containers"]] == ["main", "metrics"]
        and all("running" in (cs.get("state") or {}) for cs in p["status"].get("containerStatuses") or [{}])
    )
    result = run(run_line(f"exec team-a/pod/{pod}", service=host.service, context="sim-admin", ui=WindowPort(host)))
    assert result.ok, result.message
    view = next(w for w in host.bottom_dock.tabs() if isinstance(w, TerminalView))
    box = view.container_box
    assert [box.itemText(i) for i in range(box.count())] == ["main", "metrics"] and box.currentText() == "main"
    qtbot.waitUntil(lambda: "/ #" in view.terminal.text(), timeout=5000)
    box.setCurrentIndex(1)
    box.activated.emit(1)  # what choosing an item does: reconnect to that container
    qtbot.waitUntil(lambda: view.spec.container == "metrics" and view.status.text().startswith("Connected"),
                    timeout=5000)
    qtbot.keyClicks(view.terminal, "cat /app/README")
    qtbot.keyClick(view.terminal, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: f"Simulated container metrics of pod {pod}" in view.terminal.text(), timeout=5000)
    view.command_edit.setText("sh -c 'echo changed command; exit 3'")
    qtbot.keyClick(view.command_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.result is not None, timeout=5000)
    assert "\nchanged command" in view.terminal.text() and view.spec.container == "metrics"
    assert view.status.text() == "exited with code 3"


def test_the_window_offers_the_declared_ports_and_a_local_port(host: Host, run: Any, sim: Any) -> None:
    load_all()

    class Answers(WindowPort):
        asked: list[tuple[str, int]] = []

        async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
            self.asked.append((question, default))
            return default

    port = Answers(host)
    pod = running_pod(sim)
    r = run(run_line(f"port-forward team-a/pod/{pod}", service=host.service, context="sim-admin", ui=port))
    assert r.ok, r.message
    assert port.asked[0] == (f"Forward which port of pod {pod} in team-a? (http 8080)", 8080)
    assert port.asked[1] == ("Local port on 127.0.0.1 (0 picks a free one)", 0)
    fwd = FORWARDS.all()[-1]
    assert fwd.pod_port == 8080 and fwd.local_port > 0
