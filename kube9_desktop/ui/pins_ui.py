"""The window's pins: the settings they live in, the tree showing them, and the ``pins`` / ``reveal`` views the
Pin, Unpin and "Show in its place" commands open (see ``commands/pins.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from kube9_desktop.model import pins
from kube9_desktop.ui.views import ViewHost, register_view

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow


class PinsController(QObject):
    """Keeps the tree's "Pinned" groups equal to the settings' pins (a child of the window: it goes with it).

    Attributes:
        book: The pins, read from and written to the window's settings store.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        settings = window.settings
        self.book = pins.PinBook(lambda: settings.get(pins.SETTING), lambda v: settings.set(pins.SETTING, v))
        window.model.pins = self.book.pins
        pins.ACTIVE = self.book  # the Pin / Unpin commands' menus ask it whether a row is pinned
        settings.changed.connect(self._on_setting_changed)

    def _on_setting_changed(self, key: str) -> None:
        if key != pins.SETTING:
            return
        for context in list(self.window.model.loader.contexts):
            self.window.model.update_pins(context)


def install(window: MainWindow) -> PinsController:
    """Give ``window`` its pins (called once while it is built)."""
    controller = PinsController(window)
    window.pins = controller  # type: ignore[attr-defined]
    return controller


@register_view("pins")
def pins_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Pin (payload ``(True, targets)``) or unpin (``(False, targets)``) objects, in the window's settings."""
    pinned, targets = payload
    controller: PinsController | None = getattr(host, "pins", None)
    if controller is None or not targets:
        return None
    context = targets[0].context
    wanted = [pins.Pin(t.kind.key, t.namespace, t.name) for t in targets]
    done = controller.book.pin(context, wanted) if pinned else controller.book.unpin(context, wanted)
    names = ", ".join(p.name for p in done) or "nothing"
    host.show_message(f"{'Pinned' if pinned else 'Unpinned'} {names}", 3000)
    return None


@register_view("reveal")
def reveal_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Select the object at tree path ``payload`` in its own place."""
    reveal = getattr(host, "reveal_path", None)
    if callable(reveal):
        reveal(str(payload))
    return None
