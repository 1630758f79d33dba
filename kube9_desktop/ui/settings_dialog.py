"""The Settings dialog, generated from :data:`kube9_desktop.config.schema.SETTINGS`."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.config import schema
from kube9_desktop.config.store import SettingsStore


class SettingsDialog(QDialog):
    """Edits every setting; OK applies live, Cancel leaves everything as it was, Restore Defaults resets fields.

    Invalid values are refused with a message in the dialog; nothing is stored until every value is valid.
    """

    def __init__(self, store: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("kube9 — Settings")
        self.setMinimumWidth(560)
        self.fields: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        groups: dict[str, QFormLayout] = {}
        for s in schema.SETTINGS:
            form = groups.get(s.group)
            if form is None:
                box = QGroupBox(s.group, self)
                form = QFormLayout(box)
                groups[s.group] = form
                layout.addWidget(box)
            w = self._make_field(s)
            w.setToolTip(s.description)
            w.setObjectName(s.key)
            self.fields[s.key] = w
            label = QLabel(s.label + (f" ({s.suffix.strip()})" if s.suffix else ""))
            label.setToolTip(s.description)
            form.addRow(label, w)
        self.error_label = QLabel("")
        self.error_label.setObjectName("settingsError")
        self.error_label.setStyleSheet("color: #d0342c; font-weight: bold;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        paths = QLabel(self._paths_text())
        paths.setWordWrap(True)
        paths.setStyleSheet("color: palette(mid);")
        layout.addWidget(paths)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(self.restore_defaults)
        layout.addWidget(self.buttons)
        self.load(store.values())

    def _paths_text(self) -> str:
        try:
            from kube9_desktop.logs import log_dir

            logs = str(log_dir())
        except Exception:
            logs = "(unknown)"
        return f"Settings file: {self.store.path}\nLogs: {logs}"

    def _make_field(self, s: schema.Setting) -> QWidget:
        if s.type == "bool":
            return QCheckBox(s.description, self)
        if s.type == "choice":
            box = QComboBox(self)
            box.addItems(list(s.choices))
            return box
        if s.type in ("paths", "map"):
            edit = QPlainTextEdit(self)
            edit.setPlaceholderText("one per line" if s.type == "paths" else "context=namespace1,namespace2")
            edit.setFixedHeight(64)
            return edit
        line = QLineEdit(self)
        if s.minimum is not None and s.maximum is not None:
            line.setPlaceholderText(f"{schema._num(s.minimum)}–{schema._num(s.maximum)}")
        return line

    def load(self, values: dict[str, Any]) -> None:
        """Show ``values`` in the fields."""
        for s in schema.SETTINGS:
            w, v = self.fields[s.key], values[s.key]
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(v))
            elif isinstance(w, QPlainTextEdit):
                w.setPlainText("\n".join(v) if s.type == "paths" else schema.format_namespace_map(v))
            elif isinstance(w, QLineEdit):
                w.setText(schema._num(v) if isinstance(v, int | float) else str(v))

    def raw_values(self) -> dict[str, Any]:
        """What the fields hold, unvalidated."""
        out: dict[str, Any] = {}
        for s in schema.SETTINGS:
            w = self.fields[s.key]
            if isinstance(w, QCheckBox):
                out[s.key] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[s.key] = w.currentText()
            elif isinstance(w, QPlainTextEdit):
                out[s.key] = w.toPlainText()
            elif isinstance(w, QLineEdit):
                out[s.key] = w.text()
        return out

    def restore_defaults(self) -> None:
        """Put every field back to its default (applied on OK)."""
        self.load(schema.defaults())
        self.error_label.setVisible(False)

    def accept(self) -> None:
        try:
            self.store.apply(self.raw_values())
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.setVisible(True)
            return
        super().accept()
