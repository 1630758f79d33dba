"""A running command's progress: what it tells, as it tells it, with a Cancel button (drain evicting pod by pod).

Shown by the command bridge for a command still running after :data:`SHOW_AFTER_MS` (and no question open), so
quick commands never flash it. Cancel cancels the command's task: the handler stops at its next await, and nothing
already sent is undone or sent again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout, QWidget

#: A command running this long gets the dialog.
SHOW_AFTER_MS = 600


class ProgressDialog(QDialog):
    """Non-modal: the window stays usable while a long command runs.

    Args:
        title: What runs ("Drain node worker-1").
        task: The command's task (Cancel cancels it).
    """

    def __init__(self, title: str, task: asyncio.Future[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandProgress")
        self.setWindowTitle(title)
        self.setModal(False)
        self.task = task
        layout = QVBoxLayout(self)
        self.label = QLabel(f"<b>{title}</b>…", self)
        layout.addWidget(self.label)
        bar = QProgressBar(self)
        bar.setRange(0, 0)  # busy: the command does not say how far it is
        layout.addWidget(bar)
        self.lines = QPlainTextEdit(self)
        self.lines.setObjectName("progressLines")
        self.lines.setReadOnly(True)
        self.lines.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.lines.setMaximumBlockCount(2000)
        layout.addWidget(self.lines)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Stop after the step in progress (what was done stays done)")
        buttons.rejected.connect(self.cancel)
        layout.addWidget(buttons)
        self.resize(560, 320)

    def add(self, text: str) -> None:
        """A line the command told."""
        self.lines.appendPlainText(text)

    def cancel(self) -> None:
        """Cancel the command."""
        if not self.task.done():
            self.task.cancel()
            self.label.setText(self.label.text().rstrip("…") + " — cancelling…")
            self.cancel_button.setEnabled(False)


class ProgressWatch:
    """Shows a :class:`ProgressDialog` for ``task`` once it has run :data:`SHOW_AFTER_MS` with no question open.

    Args:
        bridge_window: The main window (its port's ``dialog`` says a question is open; its ``on_tell`` feeds lines).
        title: What runs.
        task: The command's task.
    """

    def __init__(self, bridge_window: Any, title: str, task: asyncio.Future[Any]) -> None:
        self.window = bridge_window
        self.title = title
        self.task = task
        self.dialog: ProgressDialog | None = None
        self.backlog: list[str] = []
        self.timer = QTimer(bridge_window)
        self.timer.setInterval(SHOW_AFTER_MS)
        self.timer.timeout.connect(self._check)
        self.timer.start()
        bridge_window.port.on_tell.append(self._told)
        task.add_done_callback(lambda _t: self.finish())

    def _told(self, text: str) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.add(text)
        else:
            self.backlog.append(text)

    def _check(self) -> None:
        if self.task.done() or self.dialog is not None:
            self.timer.stop()
            return
        if self.window.port.dialog is not None:
            self.backlog.clear()  # the lines before the answer were about the question
            return  # a question is open: wait until it is answered
        self.dialog = ProgressDialog(self.title, self.task, self.window)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for line in self.backlog:
            self.dialog.add(line)
        self.backlog.clear()
        self.dialog.show()
        self.timer.stop()

    def finish(self) -> None:
        """The command ended: close the dialog and stop listening."""
        self.timer.stop()
        try:
            self.window.port.on_tell.remove(self._told)
        except ValueError:
            pass
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.close()
        self.dialog = None
