"""Views of the stream commands: ``terminal`` (exec, a shell tab) and ``port-forwards`` (the forwards panel).

Payloads:

- ``terminal``: :class:`~kube9_desktop.kube.exec.ExecSpec` - a new shell tab in the bottom dock.
- ``port-forwards``: a :class:`~kube9_desktop.kube.portforward.PortForward` to select, or ``None`` - the one
  Port forwards panel of the window (opened, or brought forward).
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtWidgets import QWidget

from kube9_desktop.kube.exec import ExecSpec, stream_client
from kube9_desktop.ui.forwards_panel import ForwardsPanel
from kube9_desktop.ui.terminal_view import TerminalView
from kube9_desktop.ui.views import ViewHost, register_view

_tabs = itertools.count(1)


@register_view("terminal")
def terminal_view(host: ViewHost, payload: Any) -> QWidget | None:
    """A shell tab on ``payload`` (an ExecSpec); its client is built on the session's thread."""
    spec: ExecSpec = payload
    service = host.service

    def client() -> Any:
        return stream_client(service, spec.context)

    view = TerminalView(client if service is not None else None, spec, list(spec.containers) or None)
    # Each shell is its own tab (two shells into one pod are normal), so the key is unique.
    view.setProperty("dock_key", ("terminal", next(_tabs)))
    return view


@register_view("port-forwards")
def forwards_view(host: ViewHost, payload: Any) -> QWidget | None:
    """The window's Port forwards panel (one per window), with ``payload`` selected when given."""
    existing = host.bottom_dock.tab_for("port-forwards")
    panel = existing if isinstance(existing, ForwardsPanel) else ForwardsPanel()
    if payload is not None:
        panel.select(payload)
    if existing is not None:
        host.bottom_dock.open_tab(panel, panel.windowTitle(), key="port-forwards")
        return None
    panel.setProperty("dock_key", "port-forwards")
    return panel
