"""Non-modal error dialogs: one per burst of identical errors, never a cascade."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.model import render


class ErrorDialog(QDialog):
    """Title, message, hint and a collapsible Details section with the raw status."""

    def __init__(self, error: KubeError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = error
        self.count = 1
        self.setWindowTitle(f"kube9 — {error.title}")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.title_label = QLabel(f"<b>{_esc(error.title)}</b>" + (f" — {_esc(error.context)}"
                                                                   if error.context else ""))
        self.message_label = QLabel(error.message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label = QLabel(error.hint)
        self.hint_label.setWordWrap(True)
        # What to do is the part to act on: in the text colour (a pale grey was hard to read), set apart in italics.
        hint_font = self.hint_label.font()
        hint_font.setItalic(True)
        self.hint_label.setFont(hint_font)
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint_label.setVisible(bool(error.hint))
        self.count_label = QLabel("")
        self.count_label.setVisible(False)
        icon = QLabel()
        icon.setPixmap(render.icon("error").pixmap(32, 32))
        layout.addWidget(icon)
        for w in (self.title_label, self.message_label, self.hint_label, self.count_label):
            layout.addWidget(w)
        self.details_button = QToolButton(self)
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlainText(self.details_text())
        self.details.setVisible(False)
        self.details_button.toggled.connect(self._toggle_details)
        layout.addWidget(self.details_button)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        buttons.accepted.connect(self.close)
        layout.addWidget(buttons)

    def details_text(self) -> str:
        """The raw details: status code, reason and the server's Status object."""
        e = self.error
        head: dict[str, object] = {"kind": e.kind.value, "status": e.status, "reason": e.reason, "context": e.context}
        body: dict[str, object] = {k: v for k, v in head.items() if v}
        if e.details:
            body["details"] = e.details
        return json.dumps(body, indent=2, default=str)

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.adjustSize()

    def bump(self) -> None:
        """One more identical error arrived."""
        self.count += 1
        self.count_label.setText(f"This happened {self.count} times.")
        self.count_label.setVisible(True)


class ErrorDialogs:
    """Opens error dialogs for a window, folding identical errors that arrive together into one dialog.

    Attributes:
        window_seconds: Identical errors within this many seconds of the last one join its dialog.
    """

    window_seconds = 3.0

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self._open: dict[tuple[str, str, str], tuple[ErrorDialog, float]] = {}
        self.shown: list[ErrorDialog] = []

    def begin_burst(self) -> None:
        """A new user action starts: forget closed dialogs so a repeat failure shows again."""
        self._open = {k: v for k, v in self._open.items() if v[0].isVisible()}

    def show(self, error: KubeError) -> ErrorDialog:
        """Show ``error``, or count it into the open dialog of an identical one."""
        now = time.monotonic()
        key = error.identity
        entry = self._open.get(key)
        if entry is not None and (entry[0].isVisible() or now - entry[1] < self.window_seconds):
            dlg = entry[0]
            dlg.bump()
            self._open[key] = (dlg, now)
            return dlg
        dlg = ErrorDialog(error, self._parent)
        self._open[key] = (dlg, now)
        self.shown.append(dlg)
        dlg.show()
        return dlg

    def visible(self) -> list[ErrorDialog]:
        """Dialogs currently on screen."""
        return [d for d in self.shown if d.isVisible()]

    def close_all(self) -> None:
        """Close every dialog."""
        for d in self.shown:
            d.close()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
