"""The window's own views: ``clipboard`` (copy text), ``text`` (a read-only tab), ``refresh`` (reload rows),
``palette`` (the command palette).

Payloads:

- ``clipboard``: ``str`` - copied to the clipboard; the status bar says what was copied.
- ``text``: ``{"title": str, "text": str}`` - a read-only monospace tab in the bottom dock.
- ``refresh``: ``list[Target]`` or ``None`` - reload the lists holding those objects (``None``: the whole context).
- ``palette``: ``str`` - the palette's initial text (``":"`` opens it as a command line).
- ``edit``: ``Target`` - the YAML editor of that object (``ui/yaml_editor.py``).
- ``apply``: ``{"text"|"path": str, "namespace": str}`` or ``None`` - Create / Apply from YAML (``ui/apply_yaml.py``);
  documents without a namespace go to ``namespace``, else to the context's (as ``kubectl apply -f``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.ui.views import ViewHost, register_view


@register_view("clipboard")
def clipboard_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Copy ``payload`` (text) to the clipboard."""
    text = str(payload)
    QGuiApplication.clipboard().setText(text)
    first = text.splitlines()[0] if text else ""
    more = f" (+{len(text.splitlines()) - 1} lines)" if len(text.splitlines()) > 1 else ""
    host.show_message(f"Copied: {first[:80]}{more}", 4000)
    return None


class TextView(QPlainTextEdit):
    """A read-only monospace text tab."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setPlainText(text)
        self.setWindowTitle(title)


@register_view("text")
def text_view(host: ViewHost, payload: Any) -> QWidget | None:
    """A read-only tab with ``payload["text"]``."""
    return TextView(str(payload.get("title", "Output")), str(payload.get("text", "")))


@register_view("refresh")
def refresh_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Reload what the targets are listed in (or, for ``None``, everything shown in the context)."""
    commands = getattr(host, "commands", None)
    if payload and commands is not None:
        commands.refresh_objects(payload)
    elif callable(getattr(host, "refresh", None)):
        host.refresh()  # type: ignore[attr-defined]
    return None


@register_view("palette")
def palette_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Open the command palette (payload ``":"``: as a command line)."""
    commands = getattr(host, "commands", None)
    if commands is not None:
        commands.open_palette(payload or "")
    return None


@register_view("edit")
def edit_view(host: ViewHost, payload: Any) -> QWidget | None:
    """The YAML editor of one object (payload: a :class:`~kube9_desktop.commands.registry.Target`)."""
    from kube9_desktop.ui.yaml_editor import YamlEditor

    if host.service is None:
        return None
    editor = YamlEditor(host.service, payload)
    editor.load()
    return editor


def context_namespace(service: Any, context: str) -> str | None:
    """The kubeconfig context's namespace: where ``kubectl apply -f`` puts documents that name none."""
    try:
        return service.kubeconfig.context(context).namespace or None
    except KubeError:
        return None


@register_view("apply")
def apply_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Create / Apply from YAML (payload: ``{"text": str}`` or ``{"path": str}`` or ``None``; optional
    ``"namespace"`` for documents without one)."""
    from kube9_desktop.ui.apply_yaml import ApplyYaml

    if host.service is None:
        return None
    spec = payload if isinstance(payload, dict) else {}
    context = host.current_context() or ""
    pane = ApplyYaml(host.service, context,
                     namespace=spec.get("namespace") or context_namespace(host.service, context))
    if spec.get("path"):
        path = str(spec["path"])
        pane.open_file(path)
        # A tab of its own per file: with the pasted-text tab's key, the dock would bring that tab forward and drop
        # this one, and `apply FILE` would show the old text instead of the file.
        pane.setProperty("dock_key", ("apply", context, path))
        pane.setWindowTitle(f"Apply {Path(path).name} to {context}")
    elif spec.get("text"):
        pane.edit.setPlainText(str(spec["text"]))
    return pane
