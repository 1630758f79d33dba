"""The tree after a write, in the window: follows the data layer's write events (every write, from a command, the
YAML editor or the Apply pane) and applies :mod:`kube9_desktop.model.after_write` to the window's model.

Deleted rows turn "Terminating" at once; the loaded lists of the affected kinds that no healthy watch keeps
current are reloaded in place now and again :data:`SETTLE_RELOAD_S` later (controllers act after the write
returns: a scale's new pods appear a moment later). Reloads reconcile rows, so selection and expansion survive.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QTimer

from kube9_desktop.commands.registry import Command, Target
from kube9_desktop.model import after_write
from kube9_desktop.model.nodes import TreeNode

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow

#: Verbs that change nothing: no refresh after them.
READ_VERBS = frozenset({"get", "list", "watch"})
#: Seconds after a write when lists without a watch are reloaded a second time.
SETTLE_RELOAD_S = 0.8


class WriteFollower(QObject):
    """Keeps one window's tree up to date with the writes made through its service."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._listening: list[Any] | None = None  # the service's write listeners list we are in

    def attach(self, service: Any) -> None:
        """Follow ``service``'s writes (``service.writes.listeners``); stop following the previous one."""
        self.detach()
        listeners = getattr(getattr(service, "writes", None), "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self._on_write)
            self._listening = listeners

    def detach(self) -> None:
        """Stop following writes (the window shuts down)."""
        if self._listening is not None:
            with contextlib.suppress(ValueError):
                self._listening.remove(self._on_write)
            self._listening = None

    def _on_write(self, event: Any) -> None:
        """A write succeeded (a ``kube.writes.WriteEvent``)."""
        kinds = tuple(event.kinds)
        if event.verb == "delete" and event.name and kinds:
            after_write.mark_terminating(self.window.model, event.context,
                                         [(kinds[0], event.namespace, event.name)])
        self.reload_soon(event.context, set(kinds), {event.namespace})

    def after_command(self, cmd: Command, targets: Sequence[Target]) -> None:
        """A command succeeded. With write events (:meth:`attach`) they already did the work; without (a data layer
        that has none), by the command's declared access."""
        if self._listening is not None:
            return
        if cmd.needs is None or cmd.needs.verb in READ_VERBS or not targets:
            return
        if cmd.needs.verb == "delete":
            self.mark_terminating(targets)
        kinds: set[str] = set()
        for t in targets:
            kinds |= after_write.affected_kinds(t.kind.key)
        self.reload_soon(targets[0].context, kinds, {t.namespace for t in targets})

    def reload_soon(self, context: str, kinds: set[str], namespaces: set[str | None]) -> None:
        """Reload lists without a watch now, and again once controllers have acted."""
        model = self.window.model
        after_write.reload_affected(model, context, kinds, namespaces)
        QTimer.singleShot(int(SETTLE_RELOAD_S * 1000), self,
                          lambda: shiboken6.isValid(model) and after_write.reload_affected(
                              model, context, kinds, namespaces))

    def object_nodes(self, targets: Sequence[Target]) -> list[TreeNode]:
        """The rows showing ``targets``."""
        if not targets:
            return []
        return after_write.object_nodes(self.window.model, targets[0].context,
                                        [(t.kind.key, t.namespace, t.name) for t in targets])

    def mark_terminating(self, targets: Sequence[Target]) -> None:
        """Show deleted objects as Terminating at once (the watch or the reload then removes them)."""
        if targets:
            after_write.mark_terminating(self.window.model, targets[0].context,
                                         [(t.kind.key, t.namespace, t.name) for t in targets])
