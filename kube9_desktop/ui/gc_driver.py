"""The Qt timer that runs the garbage-collection policy (``kube9_desktop/gc_policy.py``) on the GUI thread.

Automatic collection is off while the app runs: a cycle holding a Qt object collected in a worker thread makes Qt
destroy it from the wrong thread. :class:`GcDriver` ticks :class:`~kube9_desktop.gc_policy.GcPolicy` from a
``QTimer``, so every collection happens on the GUI thread between two events, at the interval each tick chooses
(busy while a list loads, idle otherwise, put off for a turn right after a paint). The policy itself (the
generations' thresholds, CPython's full-collection rule, freezing, the pouring rule) and why it is so are in
``gc_policy.py``; the headless modes drive the same policy from their asyncio loop with
:class:`~kube9_desktop.gc_policy.LoopGcDriver`, without Qt.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

# Re-exported: tests, benchmarks and docs name them from here.
from kube9_desktop.gc_policy import (
    AFTER_PAINT_S,
    BUSY_INTERVAL_MS,
    FREEZE_AT,
    IDLE_INTERVAL_MS,
    POURING_HOLD_S,
    POURING_MIN,
    POURING_RATE,
    PUT_OFF_MAX,
    PUT_OFF_MS,
    QUIET_TICKS,
    GcPolicy,
    oldest_generation_size,
)

__all__ = [
    "AFTER_PAINT_S",
    "BUSY_INTERVAL_MS",
    "FREEZE_AT",
    "IDLE_INTERVAL_MS",
    "POURING_HOLD_S",
    "POURING_MIN",
    "POURING_RATE",
    "PUT_OFF_MAX",
    "PUT_OFF_MS",
    "QUIET_TICKS",
    "GcDriver",
    "oldest_generation_size",
]


class GcDriver(QObject):
    """Collects garbage on the GUI thread; create one per application.

    A ``QTimer`` ticks a :class:`~kube9_desktop.gc_policy.GcPolicy`, every :data:`BUSY_INTERVAL_MS` while the
    young generation fills quickly and every :data:`IDLE_INTERVAL_MS` otherwise.

    Args:
        interval_ms: A fixed check interval instead of the adaptive one (tests).
        parent: Qt parent.
        freeze_at: Objects in the oldest generation at which they are frozen (``None``: never freeze).
    """

    def __init__(self, interval_ms: int | None = None, parent: QObject | None = None,
                 freeze_at: int | None = FREEZE_AT) -> None:
        super().__init__(parent)
        self._policy = GcPolicy(interval_ms, freeze_at)
        self._timer = QTimer(self)
        self._timer.setInterval(self._policy.interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    @property
    def frozen(self) -> int:
        """Objects this driver froze."""
        return self._policy.frozen

    def interval(self) -> int:
        """Milliseconds until the next check."""
        return self._timer.interval()

    def _tick(self) -> None:
        self._timer.setInterval(self._policy.tick())

    def check(self) -> int:
        """Collect the generations whose thresholds were passed; returns the objects collected."""
        return self._policy.check()

    def stop(self) -> None:
        """Stop the timer, collect once here and give collection back to the interpreter."""
        self._timer.stop()
        self._policy.stop()
