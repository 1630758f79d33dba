"""Guards against Qt binding releases that would crash the app."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)


def test_signal_emit_keeps_reference_counts(qapp: Any) -> None:
    """PySide6 6.12.0 dropped a reference to ``True`` on every ``emit()``; the interpreter then aborts."""
    e = _Emitter()
    seen: list[bool] = []
    e.flag.connect(seen.append)
    before = sys.getrefcount(True)
    for _ in range(500):
        e.flag.emit(False)
    assert len(seen) == 500
    assert sys.getrefcount(True) - before > -50
