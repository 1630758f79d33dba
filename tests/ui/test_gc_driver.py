"""The GUI thread's garbage collector driver (kube9_desktop.ui.gc_driver)."""

from __future__ import annotations

import gc

from kube9_desktop.ui.gc_driver import oldest_generation_size


def test_oldest_generation_size_counts_what_get_objects_lists() -> None:
    # Listed in one C call (no thread switch while the list exists), it is still the generation's size.
    gc.collect()
    kept = [[i] for i in range(2_000)]  # containers: tracked, and moved to the oldest generation by a collection
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # no automatic collection moves objects between the two counts
    try:
        listed = len(gc.get_objects(2))
        assert oldest_generation_size() == listed
    finally:
        if was:
            gc.enable()
    assert listed >= len(kept)


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


def test_a_middle_collection_due_while_rows_pour_in_freezes_them_instead_of_walking_them(qapp: object) -> None:
    """10,000 pods arriving made middle collections of 20-50 ms: their survivors (the new rows) were walked again.
    While objects pour in, a due middle collection is a young one and a freeze; once they stop, middle collections
    run as before and find the cyclic garbage made since."""
    import time

    from kube9_desktop.ui import gc_driver
    from kube9_desktop.ui.gc_driver import GcDriver

    page = 6_500  # objects a page brings, with no time between the checks: far over POURING_RATE

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    seen: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    threshold = gc.get_threshold()
    gc.collect()
    driver = GcDriver(interval_ms=60_000)  # checked by hand
    gc.callbacks.append(on_gc)
    gc.set_threshold(500, 2, 1000)
    rows: list[list[int]] = []
    try:
        for _ in range(6):  # pages of rows, a check after each
            rows.extend([i] for i in range(page))
            driver.check()
        assert 0 in seen and 1 not in seen and 2 not in seen, "no middle or full collection walked the rows"
        assert driver.frozen >= 4 * page, "the rows were frozen"
        assert gc.get_freeze_count() >= 4 * page
        seen.clear()
        time.sleep(gc_driver.POURING_HOLD_S)  # the load is over (its last pages still count as pouring meanwhile)
        for _ in range(10):  # a little churn, cyclic garbage among it
            [Cycle() for _ in range(600)]
            time.sleep(0.02)  # 600 objects in 20 ms: 30,000 a second
            driver.check()
        assert 1 in seen, "middle collections again once the rows stopped pouring in"
        garbage = [Cycle() for _ in range(100)]
        del garbage
        assert gc.collect(1) >= 100, "cycles made after the freeze are still collected"
    finally:
        gc.callbacks.remove(on_gc)
        gc.set_threshold(*threshold)
        driver.stop()
        rows.clear()
        gc.unfreeze()
