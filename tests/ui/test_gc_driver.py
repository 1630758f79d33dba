"""The GUI thread's garbage collector driver (kube9_desktop.ui.gc_driver); the policy's own tests are in
tests/test_gc_policy.py."""

from __future__ import annotations

import gc


def test_a_middle_collection_due_right_after_a_paint_waits_for_a_turn_of_its_own(qapp: object) -> None:
    """A paint and a middle collection in one loop turn were one stall of both (kube.gui_gate)."""
    from kube9_desktop.kube.gui_gate import GATE
    from kube9_desktop.ui import gc_driver
    from kube9_desktop.ui.gc_driver import GcDriver

    middle: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] >= 1:
            middle.append(info["generation"])

    threshold = gc.get_threshold()
    driver = GcDriver()  # adaptive: the put-off applies
    gc.callbacks.append(on_gc)
    gc.set_threshold(50, 1, 1000)
    try:
        garbage = []
        while gc.get_count()[1] <= 1:  # young collections until the middle generation is due ...
            garbage.append([[i] for i in range(60)])
            gc.collect(0)
        garbage.append([[i] for i in range(60)])  # ... and the young generation past its threshold again
        assert gc.get_count()[0] > 50 and gc.get_count()[1] > 1
        with GATE.held():  # the window is painting (no clock in the test: a hold is always "just now")
            for _ in range(gc_driver.PUT_OFF_MAX):
                driver._tick()
                assert middle == [], "put off while the window paints"
                assert driver.interval() == gc_driver.PUT_OFF_MS
            driver._tick()
        assert middle, "put off at most PUT_OFF_MAX times in a row"
    finally:
        gc.callbacks.remove(on_gc)
        gc.set_threshold(*threshold)
        driver.stop()
