"""Small dialogs that ask the user something, awaited without blocking the GUI thread.

Every dialog is shown with ``open()`` (window-modal, returns at once) and awaited through a future that its
``finished`` signal resolves: ``exec()`` inside a coroutine would spin a nested event loop under the qasync loop.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from kube9_desktop.commands.registry import Option

#: The OK button of a destructive question.
DESTRUCTIVE_STYLE = "QPushButton { background-color: #c62828; color: white; font-weight: bold; padding: 4px 14px; }" \
                    "QPushButton:disabled { background-color: #e8a5a5; color: #f6f6f6; }"


async def await_dialog(dialog: QDialog) -> bool:
    """Open ``dialog`` window-modally and wait until it is closed; True when accepted.

    If the waiting coroutine is cancelled (the window closes), the dialog is rejected and deleted.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bool] = loop.create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code == QDialog.DialogCode.Accepted)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await done
    finally:
        if dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()


class ConfirmDialog(QDialog):
    """Yes/no; a destructive question has a red OK button; ``type_to_confirm`` enables OK only once typed.

    Args:
        question: The question ("Delete 12 pods in team-a?").
        destructive: Red OK button, Cancel is the default.
        type_to_confirm: A name the user must type before OK is enabled (deleting a namespace).
        options: The command's own options to offer under the question (delete: grace period, force): a number
            is a check box ("use the default" while unchecked) with a spin box, a switch a check box.
        args: The command's arguments: the options start from their values and are written back on OK.
    """

    def __init__(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                 options: Sequence[Option] = (), args: argparse.Namespace | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle("Please confirm")
        self.expected = type_to_confirm
        layout = QVBoxLayout(self)
        self.question_label = QLabel(question, self)
        self.question_label.setWordWrap(True)
        layout.addWidget(self.question_label)
        self.name_edit: QLineEdit | None = None
        if type_to_confirm is not None:
            hint = QLabel(f"Type <b>{_escape(type_to_confirm)}</b> to confirm:", self)
            layout.addWidget(hint)
            self.name_edit = QLineEdit(self)
            self.name_edit.setObjectName("typeToConfirm")
            self.name_edit.setPlaceholderText(type_to_confirm)
            self.name_edit.textChanged.connect(self._typed)
            layout.addWidget(self.name_edit)
        self.args = args
        #: Per option dest: its check box and, for a number, its spin box.
        self.option_fields: dict[str, tuple[QCheckBox, QSpinBox | None]] = {}
        if options and args is not None:
            layout.addWidget(self._options_box(options, args))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if destructive:
            self.ok_button.setText(_verb(question) or "Yes")
            self.ok_button.setStyleSheet(DESTRUCTIVE_STYLE)
            self.ok_button.setAutoDefault(False)
            cancel.setDefault(True)  # Enter must not destroy
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if self.name_edit is not None:
            self.ok_button.setEnabled(False)
            self.name_edit.setFocus()

    def _options_box(self, options: Sequence[Option], args: argparse.Namespace) -> QGroupBox:
        box = QGroupBox("Options", self)
        box.setObjectName("confirmOptions")
        form = QFormLayout(box)
        for opt in options:
            value = getattr(args, opt.dest, None)
            check = QCheckBox(opt.label[:1].upper() + opt.label[1:], box)
            check.setObjectName(f"option-{opt.dest}")
            check.setToolTip(opt.flag)
            spin: QSpinBox | None = None
            if opt.number:
                spin = QSpinBox(box)
                spin.setObjectName(f"value-{opt.dest}")
                spin.setRange(0, 1_000_000)
                check.setChecked(value is not None)
                spin.setValue(int(value) if value is not None else 0)
                spin.setEnabled(value is not None)
                check.toggled.connect(spin.setEnabled)
                form.addRow(check, spin)
            else:
                check.setChecked(bool(value))
                form.addRow(check)
            self.option_fields[opt.dest] = (check, spin)
        return box

    def _write_options(self) -> None:
        """The options chosen into the command's arguments (a number left unchecked stays the default)."""
        if self.args is None:
            return
        for dest, (check, spin) in self.option_fields.items():
            if spin is not None:
                setattr(self.args, dest, spin.value() if check.isChecked() else None)
            else:
                setattr(self.args, dest, check.isChecked())

    def _typed(self, text: str) -> None:
        self.ok_button.setEnabled(text.strip() == self.expected)

    def accept(self) -> None:
        """Accept only when the typed name matches (Enter in the line edit must not bypass it)."""
        if self.name_edit is not None and self.name_edit.text().strip() != self.expected:
            return
        self._write_options()
        super().accept()


class IntDialog(QDialog):
    """A number in a spin box, prefilled (``Scale to how many replicas?``)."""

    def __init__(self, question: str, default: int, minimum: int, maximum: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("intDialog")
        self.setWindowTitle("kube9")
        layout = QVBoxLayout(self)
        label = QLabel(question, self)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.spin = QSpinBox(self)
        self.spin.setRange(minimum, maximum)
        self.spin.setValue(default)
        self.spin.selectAll()
        layout.addWidget(self.spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.spin.setFocus()


def _verb(question: str) -> str:
    """The first word of the question as the button's text ("Delete")."""
    word = question.split(" ", 1)[0].strip("?.,:")
    return word if word.isalpha() else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
