"""Back / Forward through the rows the user selected (Alt+Left / Alt+Right), per window.

Selections are remembered as tree paths (below the context row) with their context, so going back works after the
row was reloaded or its list closed: the window reveals the path again (``reveal_path`` opens and loads what it
must). Selections made by going back or forward are not recorded again; a new selection after going back drops
the forward part, as in a browser.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from kube9_desktop.ui.views import ViewHost, register_view

#: Selections remembered per window.
LIMIT = 200


class SelectionHistory:
    """The window's selection history."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []  # (context, path)
        self.pos = -1
        self._moving: tuple[str, str] | None = None

    def record(self, context: str, path: str) -> None:
        """A row was selected."""
        entry = (context, path)
        if self._moving == entry:  # the selection back/forward made
            self._moving = None
            return
        if 0 <= self.pos < len(self.entries) and self.entries[self.pos] == entry:
            return
        del self.entries[self.pos + 1:]
        self.entries.append(entry)
        if len(self.entries) > LIMIT:
            del self.entries[0]
        self.pos = len(self.entries) - 1

    def step(self, delta: int) -> tuple[str, str] | None:
        """The entry ``delta`` steps away (-1 back, +1 forward), now current; ``None`` at either end."""
        target = self.pos + delta
        if not 0 <= target < len(self.entries):
            return None
        self.pos = target
        self._moving = self.entries[target]
        return self.entries[target]


def history_of(host: Any) -> SelectionHistory:
    """The window's history (created on first use)."""
    h = getattr(host, "selection_history", None)
    if h is None:
        h = SelectionHistory()
        host.selection_history = h
    return h


def record_current(host: Any, node: Any) -> None:
    """Record the node the window selected (object rows only: folders are not places one goes back to)."""
    if node is None or getattr(node, "row", None) is None:
        return
    path = node.path()
    if len(path) > 1:
        history_of(host).record(path[0], "/".join(path[1:]))


@register_view("history")
def history_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Go back (payload ``-1``) or forward (``+1``) and select that row again."""
    entry = history_of(host).step(int(payload))
    if entry is None:
        host.show_message("No earlier selection" if int(payload) < 0 else "No later selection", 2000)
        return None
    context, path = entry
    if context != host.current_context():
        host.show_message(f"That selection was in {context}", 3000)
        return None
    reveal = getattr(host, "reveal_path", None)
    if callable(reveal):
        reveal(path)
    return None
