"""The window's :class:`~kube9_desktop.commands.registry.UserPort`: how a command's handler talks to the user.

- ``confirm`` opens a :class:`ConfirmDialog` (destructive: red button; ``type_to_confirm``: the name must be typed),
- ``ask_int`` a spin box prefilled with the default,
- ``tell`` shows the line in the status bar and keeps it in :attr:`WindowPort.messages`,
- ``open_view(view_id, payload)`` calls the factory registered for ``view_id`` in :data:`ui.views.VIEW_FACTORIES`
  and puts the widget it returns into the bottom dock.

Dialogs are awaited (``open()`` + a future), never ``exec()``: the GUI thread keeps running the event loop.
"""

from __future__ import annotations

import argparse
import collections
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from kube9_desktop.ui.ask_dialogs import ConfirmDialog, IntDialog, await_dialog
from kube9_desktop.ui.views import VIEW_FACTORIES, load_views

if TYPE_CHECKING:
    from kube9_desktop.commands.registry import Option

if TYPE_CHECKING:
    from kube9_desktop.ui.views import ViewHost

log = logging.getLogger(__name__)

#: How long a told line stays in the status bar.
TELL_MS = 8000


class Toast(QLabel):
    """A notification in the bottom-right corner of the window that goes away by itself."""

    STYLE = "QLabel {{ background: {bg}; color: white; border-radius: 6px; padding: 8px 12px; }}"

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setMaximumWidth(460)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_text(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` (the last few lines) for :data:`TELL_MS`."""
        lines = text.splitlines()
        self.setText("\n".join(lines[-6:]))
        self.setStyleSheet(self.STYLE.format(bg="#b3261e" if error else "#323a45"))
        self.adjustSize()
        parent = self.parentWidget()
        if parent is not None:
            bar = parent.findChild(QStatusBar)
            bottom = parent.height() - (bar.height() if bar is not None and bar.isVisible() else 0) - 12
            self.move(max(0, parent.width() - self.width() - 24), max(0, bottom - self.height()))
        self.show()
        self.raise_()
        self._timer.start(TELL_MS)


class WindowPort:
    """The window's user port.

    Args:
        host: The main window (a QWidget that is also a :class:`~kube9_desktop.ui.views.ViewHost`).
    """

    interactive = True

    def __init__(self, host: ViewHost) -> None:
        self.host = host
        #: Everything told, newest last (the last 200 lines).
        self.messages: collections.deque[str] = collections.deque(maxlen=200)
        #: The dialog being shown, if any (tests answer it).
        self.dialog: ConfirmDialog | IntDialog | None = None
        #: The notification in the window's corner (made on first use).
        self.toast: Toast | None = None
        #: Called with every text told (a running command's progress dialog listens).
        self.on_tell: list[Callable[[str], None]] = []

    def _parent(self) -> QWidget | None:
        return self.host if isinstance(self.host, QWidget) else None

    async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                      options: Sequence[Option] = (), args: argparse.Namespace | None = None) -> bool:
        """Ask yes/no in a window-modal dialog; the command's options (delete's grace period, force) are offered
        under the question and written into ``args`` when confirmed."""
        dialog = ConfirmDialog(question, destructive=destructive, type_to_confirm=type_to_confirm,
                               options=options if args is not None else (), args=args, parent=self._parent())
        self.dialog = dialog
        try:
            return await await_dialog(dialog)
        finally:
            self.dialog = None

    async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        """Ask for a number in a spin box prefilled with ``default``; ``None`` when cancelled."""
        dialog = IntDialog(question, default, minimum, maximum, parent=self._parent())
        self.dialog = dialog
        try:
            ok = await await_dialog(dialog)
            return dialog.spin.value() if ok else None
        finally:
            self.dialog = None

    def tell(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` as a notification over the window's corner (loads that rewrite the status bar meanwhile
        do not hide it) and in the status bar (its last line); keep it in :attr:`messages`."""
        for line in text.splitlines() or [""]:
            self.messages.append(line)
        for listener in list(self.on_tell):
            listener(text)
        last = text.strip().splitlines()[-1] if text.strip() else ""
        self.host.show_message(last, TELL_MS)
        parent = self._parent()
        if parent is None or not last:
            return
        if self.toast is None:
            self.toast = Toast(parent)
        self.toast.show_text(text.strip(), error=error)

    def open_view(self, view: str, payload: Any) -> bool:
        """Open ``view`` for ``payload`` through its registered factory; False when none is registered."""
        load_views()
        factory = VIEW_FACTORIES.get(view)
        if factory is None:
            log.warning("no view registered for %r", view)
            return False
        widget = factory(self.host, payload)
        if widget is not None:
            key = widget.property("dock_key")
            self.host.bottom_dock.open_tab(widget, widget.windowTitle() or view, key=key)
        return True
