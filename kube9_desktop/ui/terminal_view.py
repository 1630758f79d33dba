"""The shell tab: a :class:`~kube9_desktop.ui.terminal.TerminalWidget` on an exec session, in the bottom dock.

The session's reader thread hands output to the GUI thread through a queued signal, coalesced so a flood of small
messages costs one repaint per event-loop turn. A header names the pod and container, offers the pod's other
containers and the command (changing either reconnects), and says how the shell ended ("exited with code 127:
command not found", or the error) — the tab stays open for reading. Closing the tab closes the stream.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.exec import ExecResult, ExecSession, ExecSpec
from kube9_desktop.ui.terminal import TerminalWidget

#: Bytes of output parsed per event-loop turn (pyte parses roughly 0.1-1 MB/s: a slice costs tens of ms at most).
DRAIN_BYTES = 8 * 1024


class _Bridge(QObject):
    """Carries session events from its reader thread to the GUI thread."""

    output = Signal()
    opened = Signal(int)  # session generation
    ended = Signal(int, object)  # session generation, ExecResult


def _join_command(argv: tuple[str, ...]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


class TerminalView(QWidget):
    """One shell tab.

    Args:
        client: The context's client, or a function building it on the session's thread; None: no session
            (the widget alone).
        spec: What to run.
        containers: The pod's containers, for the picker.
        parent: Qt parent.
    """

    def __init__(
        self,
        client: ContextClient | Callable[[], ContextClient] | None,
        spec: ExecSpec,
        containers: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client, self.spec = client, spec
        self.session: ExecSession | None = None
        self.result: ExecResult | None = None
        self._buf = bytearray()
        self._buf_lock = threading.Lock()
        self._scheduled = False
        self._gen = 0  # bumped per session: a replaced session's late events are dropped
        self.bridge = _Bridge()
        self.bridge.output.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self.bridge.opened.connect(self._on_open, Qt.ConnectionType.QueuedConnection)
        self.bridge.ended.connect(self._on_end, Qt.ConnectionType.QueuedConnection)
        self.setWindowTitle(f"Shell: {spec.pod}" + (f"/{spec.container}" if spec.container else ""))

        self.container_box = QComboBox(self)
        self.container_box.setObjectName("terminal-container")
        for c in containers or [spec.container]:
            self.container_box.addItem(c)
        self.container_box.setCurrentText(spec.container)
        self.command_edit = QLineEdit(_join_command(spec.command), self)
        self.command_edit.setObjectName("terminal-command")
        self.command_edit.setToolTip("The command to run; Enter or Reconnect runs it")
        self.reconnect_button = QPushButton("Reconnect", self)
        self.status = QLabel("Connecting…", self)
        self.status.setObjectName("terminal-status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.setContentsMargins(4, 2, 4, 2)
        head.addWidget(QLabel(f"{spec.namespace}/{spec.pod}", self))
        head.addWidget(self.container_box)
        head.addWidget(self.command_edit, 1)
        head.addWidget(self.reconnect_button)
        self.terminal = TerminalWidget(spec.cols, spec.rows, self)
        self.terminal.send = self._send
        self.terminal.resized.connect(self._resized)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.terminal, 1)
        lay.addWidget(self.status)
        self.reconnect_button.clicked.connect(self.reconnect)
        self.command_edit.returnPressed.connect(self.reconnect)
        self.container_box.activated.connect(lambda _i: self.reconnect())
        if client is not None:
            self.start()

    # -- session --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Opens the session (a reader thread; nothing blocks here)."""
        assert self.client is not None
        cols, rows = self.terminal.vt.columns, self.terminal.vt.lines
        self.spec = ExecSpec(
            self.spec.context,
            self.spec.namespace,
            self.spec.pod,
            self.container_box.currentText() or self.spec.container,
            self.spec.command,
            self.spec.tty,
            self.spec.stdin,
            cols,
            rows,
            self.spec.attach,
        )
        self.result = None
        self.terminal.readonly = False
        self.status.setText(f"Connecting to {self.spec.pod}/{self.spec.container}…")
        self._gen += 1
        gen = self._gen

        def output(channel: int, data: bytes) -> None:
            if gen == self._gen:
                self._output(channel, data)

        self.session = ExecSession(
            self.client,
            self.spec,
            output,
            lambda result: self.bridge.ended.emit(gen, result),
            lambda: self.bridge.opened.emit(gen),
        )
        self.session.start()

    def reconnect(self) -> None:
        """Closes the current session and runs the (possibly changed) command again."""
        try:
            argv = tuple(shlex.split(self.command_edit.text())) or self.spec.command
        except ValueError as exc:
            self.status.setText(f"Cannot read the command: {exc}")
            return
        self.close_streams()
        self.spec = ExecSpec(
            self.spec.context,
            self.spec.namespace,
            self.spec.pod,
            self.spec.container,
            argv,
            self.spec.tty,
            self.spec.stdin,
            self.spec.cols,
            self.spec.rows,
            self.spec.attach,
        )
        self.terminal.feed(b"\r\n")
        if self.client is not None:
            self.start()
        self.terminal.setFocus()

    def _send(self, data: bytes) -> None:
        if self.session is not None and self.result is None:
            self.session.write(data)

    def _resized(self, cols: int, rows: int) -> None:
        if self.session is not None:
            self.session.resize(cols, rows)

    def _output(self, channel: int, data: bytes) -> None:
        """Reader thread: queue the bytes, wake the GUI thread once per batch."""
        with self._buf_lock:
            self._buf += data
            if self._scheduled:
                return
            self._scheduled = True
        self.bridge.output.emit()

    def _drain(self, everything: bool = False) -> None:
        """Parses what arrived, at most :data:`DRAIN_BYTES` per event-loop turn (``everything``: all of it).

        pyte parses in the GUI thread; a flood (``yes``, a big ``cat``) is taken in slices so keys (Ctrl-C),
        repaints and the rest of the window keep their turns in between.
        """
        with self._buf_lock:
            take = len(self._buf) if everything else min(len(self._buf), DRAIN_BYTES)
            data = bytes(self._buf[:take])
            del self._buf[:take]
            more = bool(self._buf)
            self._scheduled = more
        if data:
            self.terminal.feed(data)
        if more:
            QTimer.singleShot(0, self._drain)

    def _on_open(self, gen: int) -> None:
        if gen != self._gen:
            return
        self.status.setText(f"Connected: {self.spec.kubectl()}")
        self.terminal.setFocus()

    def _on_end(self, gen: int, result: ExecResult) -> None:
        if gen != self._gen:
            return  # a session this tab replaced (Reconnect)
        self._drain(everything=True)
        self.result = result
        self.terminal.readonly = True
        if result.error is not None:
            text = f"{result.error.title}: {result.error.message}"
            if result.error.hint:
                text += f"  {result.error.hint}"
        else:
            text = result.message
        self.status.setText(text)
        self.status.setProperty("failed", result.error is not None or bool(result.exit_code))
        # Also in the terminal, dimmed, where the eye already is.
        self.terminal.feed(f"\r\n\x1b[2m[{text}]\x1b[0m\r\n".encode())

    def close_streams(self) -> None:
        """Closes the session (the dock calls this when the tab closes; the app when it quits)."""
        session, self.session = self.session, None
        self._gen += 1
        if session is not None:
            session.close()

    def shutdown(self) -> None:
        """Disconnects the bridge so late events from the reader thread go nowhere."""
        for sig in (self.bridge.output, self.bridge.opened, self.bridge.ended):
            try:
                sig.disconnect()
            except (RuntimeError, TypeError):
                pass

    def snapshot(self) -> dict[str, Any]:
        """What the tab shows (tests, diagnostics)."""
        return {"screen": self.terminal.text(), "status": self.status.text(), "title": self.terminal.vt.title}
