"""The window's own views: ``clipboard`` (copy text), ``text`` (a read-only tab), ``refresh`` (reload rows),
``palette`` (the command palette).

Payloads:

- ``clipboard``: ``str`` - copied to the clipboard; the status bar says what was copied.
- ``text``: ``{"title": str, "text": str}`` - a read-only monospace tab in the bottom dock.
- ``refresh``: ``list[Target]`` or ``None`` - reload the lists holding those objects (``None``: the whole context).
- ``palette``: ``str`` - the palette's initial text (``":"`` opens it as a command line).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QWidget

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
