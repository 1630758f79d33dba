""""Add a namespace…": the window's side of the ``add-namespace`` command.

* ``add-namespace`` view: a small dialog asking for the name. Add runs the command through the registry (which
  checks the name with the server); a refusal is shown in the dialog, the name kept for the user to correct.
* ``remember-namespace`` view (``(context, namespace)``): saves the namespace for the context in the settings (the
  Accessible namespaces setting), lists Namespaces again and selects the new row.
* :func:`open_when_empty`: a context whose Namespaces list is empty but for the offer (no default namespace, none
  added) has it opened once, so the only way in is in sight.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLayout, QLineEdit, QVBoxLayout, QWidget

from kube9_desktop.commands.registry import REGISTRY
from kube9_desktop.ui.views import ViewHost, register_view


class AddNamespaceDialog(QDialog):
    """Asks for a namespace of ``context`` and adds it through the ``add-namespace`` command."""

    def __init__(self, host: Any, context: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host, self.context = host, context
        self.setWindowTitle("Add a namespace")
        self.setModal(False)
        intro = QLabel(f"You may not list the namespaces of <b>{_esc(context)}</b>. Name one you may use: it is "
                       "checked with the server, then shown under Namespaces and remembered for this context.", self)
        intro.setWordWrap(True)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("namespace, for example team-a")
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d0342c;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.add_button = self.buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.add)
        self.buttons.rejected.connect(self.reject)
        for label in (intro, self.problem):
            label.setMinimumWidth(440)  # wrapped text needs a width to know its height
        lay = QVBoxLayout(self)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # grows with a long reason, never cuts it
        lay.addWidget(intro)
        lay.addWidget(self.edit)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        self._task: asyncio.Future[Any] | None = None

    def add(self) -> None:
        """Run ``add-namespace NAME``; close when it is added, else say why and keep the name."""
        if self._task is not None and not self._task.done():
            return
        self.problem.setText("Checking…")
        self.add_button.setEnabled(False)
        self._task = asyncio.ensure_future(self._add(self.edit.text().strip()))

    async def _add(self, name: str) -> None:
        bridge = self.host.commands
        result = await bridge.run(REGISTRY.get("add-namespace"), [], argparse.Namespace(name=name))
        self.add_button.setEnabled(True)
        if result.ok:
            self.problem.setText("")
            self.accept()
        else:
            self.problem.setText(result.message)
            self.edit.setFocus()
            self.edit.selectAll()

    def done(self, result: int) -> None:
        """Closing cancels a check still running (nothing is added then)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().done(result)


@register_view("add-namespace")
def add_namespace_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Open the dialog (payload: the context)."""
    parent = host if isinstance(host, QWidget) else None
    dialog = AddNamespaceDialog(host, str(payload), parent)
    host.add_namespace_dialog = dialog  # type: ignore[attr-defined]  # kept: tests and a second Add reuse it
    dialog.show()
    dialog.edit.setFocus()
    return None


@register_view("remember-namespace")
def remember_namespace_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Save ``(context, namespace)`` in the settings, list Namespaces again and select the new namespace."""
    context, namespace = payload
    settings = getattr(host, "settings", None)
    if settings is not None:
        settings.add_accessible_namespace(context, namespace)
    model = getattr(host, "model", None)
    if model is not None and model.current_context == context:
        node = model.find("Namespaces")
        if node is not None:
            model.reload_node(node, user=True)
            reveal = getattr(host, "reveal_path", None)
            if callable(reveal):
                reveal(f"Namespaces/{namespace}")
    return None


def open_when_empty(window: Any) -> None:
    """Open the Namespaces row of a context that shows no namespace but the offer to add one (once per context:
    a user who closes it keeps it closed)."""
    opened: set[str] = set()

    def check() -> None:
        model = window.model
        ctx = model.current_context
        if ctx is None or ctx in opened:
            return
        node = model.find("Namespaces")
        if node is None or not any(c.command for c in node.children) or any(c.row for c in node.children):
            return
        idx = window._view_index(model.index_of(node))
        if idx.isValid():
            opened.add(ctx)
            window.tree.expand(idx)

    window.model.activity.connect(check)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
