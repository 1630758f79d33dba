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
