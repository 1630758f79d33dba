"""User commands: one registry (``registry.py``), one module per family of commands.

:func:`load_all` imports every family so its commands register; the window and ``--run`` call it once.
"""

from __future__ import annotations

import importlib

#: Modules under ``kube9_desktop.commands`` that register commands, in menu order. Add a family here.
FAMILIES: tuple[str, ...] = (
    "builtin",
    "window",
    "logs",
    "shell",
    "forward",
    "health",
    "objects",
    "workloads",
    "nodes",
    "navigate",
    "namespaces",
    "pins",
)

_loaded = False


def load_all() -> None:
    """Import every command family (idempotent)."""
    global _loaded
    if _loaded:
        return
    for name in FAMILIES:
        importlib.import_module(f"kube9_desktop.commands.{name}")
    _loaded = True
