"""The window's user port (dialogs awaited without blocking), the bottom dock and the view registry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from kube9_desktop.ui.ask_dialogs import DESTRUCTIVE_STYLE
from kube9_desktop.ui.bottom_dock import BottomDock
from kube9_desktop.ui.views import VIEW_FACTORIES, register_view
from kube9_desktop.ui.window_port import WindowPort


class Host(QMainWindow):
    """A bare window hosting the dock, as MainWindow does."""

    service = None

    def __init__(self) -> None:
        super().__init__()
        self.bottom_dock = BottomDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.bottom_dock)
        self.setCentralWidget(QLabel("tree"))
        self.shown: list[str] = []

    def current_context(self) -> str | None:
        return "sim-admin"

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.shown.append(text)
        self.statusBar().showMessage(text, timeout_ms)


class Stream(QLabel):
    """A view owning a 'stream': records how it was closed."""

    def __init__(self, log: list[str], name: str) -> None:
        super().__init__(name)
        self.log = log
        self.name = name

    def close_streams(self) -> None:
        self.log.append(f"{self.name}:close_streams")

    async def shutdown(self) -> None:
        await asyncio.sleep(0.01)
        self.log.append(f"{self.name}:shutdown")


@pytest.fixture
def host(qtbot: Any, run: Any) -> Host:
    h = Host()
    qtbot.addWidget(h, before_close_func=lambda w: run(w.bottom_dock.close_all()))
    h.resize(800, 600)
    h.show()
    return h


def wait_dialog(qtbot: Any, port: WindowPort) -> Any:
    qtbot.waitUntil(lambda: port.dialog is not None and port.dialog.isVisible(), timeout=2000)
    return port.dialog


def test_destructive_confirm_is_red_and_cancel_is_default(host: Host, qtbot: Any, run: Any, qloop: Any) -> None:
    port = WindowPort(host)
    task = qloop.create_task(port.confirm("Delete 12 pods in team-a?"))
    dialog = wait_dialog(qtbot, port)
    assert dialog.ok_button.styleSheet() == DESTRUCTIVE_STYLE
    assert dialog.ok_button.text() == "Delete"
    assert not dialog.ok_button.isDefault()
    assert "Delete 12 pods in team-a?" in dialog.question_label.text()
    dialog.reject()
    assert run(task) is False
    task = qloop.create_task(port.confirm("Delete pod a in team-a?"))
    wait_dialog(qtbot, port).ok_button.click()
    assert run(task) is True


def test_type_to_confirm_enables_ok_only_for_the_name(host: Host, qtbot: Any, run: Any, qloop: Any) -> None:
    port = WindowPort(host)
    task = qloop.create_task(port.confirm("Delete namespace team-a?", type_to_confirm="team-a"))
    dialog = wait_dialog(qtbot, port)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "team-b")
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # Enter in the line edit must not bypass the check
    assert not task.done()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "team-a")
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    assert run(task) is True


def test_ask_int_is_prefilled_and_cancel_gives_none(host: Host, qtbot: Any, run: Any, qloop: Any) -> None:
    port = WindowPort(host)
    task = qloop.create_task(port.ask_int("Scale deployment api to how many replicas?", 3, 0, 50))
    dialog = wait_dialog(qtbot, port)
    assert dialog.spin.value() == 3 and dialog.spin.maximum() == 50
    dialog.spin.setValue(5)
    dialog.accept()
    assert run(task) == 5
    task = qloop.create_task(port.ask_int("How many?", 3))
    wait_dialog(qtbot, port).reject()
    assert run(task) is None


def test_the_loop_runs_while_a_dialog_is_open(host: Host, qtbot: Any, run: Any, qloop: Any) -> None:
    port = WindowPort(host)
    task = qloop.create_task(port.confirm("Restart deployment api?", destructive=False))
    wait_dialog(qtbot, port)
    ticks = run(asyncio.sleep(0.05, result="ticked"))  # other coroutines keep running meanwhile
    assert ticks == "ticked" and not task.done()
    task.cancel()
    qtbot.waitUntil(lambda: port.dialog is None, timeout=2000)


def test_tell_goes_to_the_status_bar_and_history(host: Host) -> None:
    port = WindowPort(host)
    port.tell("Evicting 3 pods…\nEvicted pod a in team-a")
    assert host.statusBar().currentMessage() == "Evicted pod a in team-a"
    assert list(port.messages)[-2:] == ["Evicting 3 pods…", "Evicted pod a in team-a"]


def test_open_view_puts_the_factory_widget_in_a_dock_tab(host: Host, run: Any) -> None:
    log: list[str] = []

    @register_view("test-stream")
    def factory(h: Any, payload: Any) -> QWidget:
        w = Stream(log, payload)
        w.setWindowTitle(f"Logs {payload}")
        w.setProperty("dock_key", ("test-stream", payload))
        return w

    try:
        port = WindowPort(host)
        assert port.open_view("test-stream", "api-1") is True
        assert port.open_view("test-stream", "api-2") is True
        assert port.open_view("test-stream", "api-1") is True  # same key: the first tab comes forward
        dock = host.bottom_dock
        assert dock.isVisible()
        assert [dock.tab_widget.tabText(i) for i in range(dock.tab_widget.count())] == ["Logs api-1", "Logs api-2"]
        assert dock.tab_widget.currentIndex() == 0
        assert log == ["api-1:close_streams"]  # the duplicate was released at once
        assert port.open_view("no-such-view", None) is False
        dock.tab_widget.tabCloseRequested.emit(1)  # the tab's × button
        run(asyncio.sleep(0.05))
        assert "api-2:close_streams" in log and "api-2:shutdown" in log
        run(dock.close_all())
        assert log[-2:] == ["api-1:close_streams", "api-1:shutdown"]
        assert not dock.isVisible()
    finally:
        VIEW_FACTORIES.pop("test-stream", None)


def test_clipboard_and_text_views(host: Host) -> None:
    port = WindowPort(host)
    assert port.open_view("clipboard", "kubectl scale deployment/api --replicas=5 -n team-a")
    assert QGuiApplication.clipboard().text() == "kubectl scale deployment/api --replicas=5 -n team-a"
    assert host.shown[-1].startswith("Copied: kubectl scale")
    assert port.open_view("text", {"title": "Dry run", "text": "configmap/x created (server dry run)"})
    tab = host.bottom_dock.tabs()[-1]
    assert tab.windowTitle() == "Dry run" and "server dry run" in tab.toPlainText()
