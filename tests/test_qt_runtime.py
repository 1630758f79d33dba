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


def test_gc_driver_collects_on_the_gui_thread(qapp: Any) -> None:
    import gc

    from kube9_desktop.ui.gc_driver import GcDriver

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    before = gc.isenabled()
    driver = GcDriver(interval_ms=10)
    try:
        assert not gc.isenabled(), "automatic collection is off while the driver runs"
        threshold = gc.get_threshold()[0]
        for _ in range(threshold + 10):
            Cycle()
        assert gc.get_count()[0] > threshold
        assert driver.check() > 0, "the cycles were collected by the driver"
    finally:
        driver.stop()
    assert gc.isenabled() == before, "stop() gives collection back as it was"
