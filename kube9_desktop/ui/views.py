"""View factories: how the window turns a command's ``open_view(view_id, payload)`` into a widget.

A command that shows something (logs, a terminal, an overview, an editor) calls ``inv.ui.open_view("logs", spec)``.
Headless ``--run`` answers False and the command prints instead; the window looks ``view_id`` up in
:data:`VIEW_FACTORIES` and calls the factory with the window (a :class:`ViewHost`) and the payload.

A factory returns the widget to show in the bottom dock (``host.bottom_dock.open_tab`` is then called with its
``windowTitle()`` and the optional ``dock_key`` property), or ``None`` when it placed the view itself (a dialog, a
page of the main area). Register with the decorator from the module that owns the widget::

    from kube9_desktop.ui.views import register_view

    @register_view("logs")
    def _logs_view(host: ViewHost, payload: LogSpec) -> QWidget:
        return LogsView(host.service, payload)

Modules that register views are imported by :func:`load_views` (add yours to ``VIEW_MODULES``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.ui.bottom_dock import BottomDock

log = logging.getLogger(__name__)


class ViewHost(Protocol):
    """What a view factory may use of the window."""

    service: KubeService | None
    bottom_dock: BottomDock

    def current_context(self) -> str | None:
        """The context shown."""
        ...

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        """A transient status bar message."""
        ...


ViewFactory = Callable[[ViewHost, Any], "QWidget | None"]

#: view id -> factory. Filled at import time by the modules in :data:`VIEW_MODULES`.
VIEW_FACTORIES: dict[str, ViewFactory] = {}

#: Modules (under ``kube9_desktop.ui``) that register view factories; imported once by :func:`load_views`.
VIEW_MODULES: tuple[str, ...] = (
    "window_views",
    "stream_views",
    "health_views",
    "logs_view",
    "quick_open",
    "history",
    "add_namespace",
    "pins_ui",
)

_loaded = False


def register_view(view_id: str) -> Callable[[ViewFactory], ViewFactory]:
    """Decorator: register ``fn`` as the factory of ``view_id`` (one factory per id; a clash is a bug)."""

    def deco(fn: ViewFactory) -> ViewFactory:
        if view_id in VIEW_FACTORIES and VIEW_FACTORIES[view_id] is not fn:
            raise ValueError(f"view {view_id!r} registered twice")
        VIEW_FACTORIES[view_id] = fn
        return fn

    return deco


def load_views() -> None:
    """Import every module that registers views (idempotent)."""
    global _loaded
    if _loaded:
        return
    for name in VIEW_MODULES:
        importlib.import_module(f"kube9_desktop.ui.{name}")
    _loaded = True
