"""model/usage.py: the usage columns' book keeps one string per distinct cell text (issue 15 goal 4)."""

from __future__ import annotations

from kube9_desktop.kube.metrics import Resources, Sample
from kube9_desktop.model.usage import UsageBook


def test_rows_with_the_same_figures_share_their_texts() -> None:
    # Figures computed at run time (as parsed from a response): equal texts, built separately.
    cpu, mem = float(int("12")), float(int("64") * 2**20)
    sample = Sample(1.0, pods={("team-a", f"web-{i}"): complex(cpu, mem) for i in range(3)})
    requests = {("team-a", f"web-{i}"): Resources(cpu_request=120.0, memory_request=128 * 2**20) for i in range(3)}
    book = UsageBook.build("ctx", sample, {}, requests)
    a, b = book.cells("pods", "team-a", "web-0"), book.cells("pods", "team-a", "web-2")
    assert a is not None and b is not None
    assert a[:2] == ("12m 10%", "64Mi 50%")
    assert a[0] is b[0] and a[1] is b[1]
    assert book.cells("pods", "team-a", "nope") is None


def test_the_book_leaves_the_collector_nothing_to_walk_per_pod() -> None:
    """A 10,000-pod book was a cells object and a key per pod that every collection walked after the usage read
    (~37,000 objects with the sample's); its cells are plain tuples now, shared by the rows showing the same, which
    the collector stops tracking when it first sees them, and its keys are the sample's own."""
    import gc

    sample = Sample(1.0, pods={("team-a", f"web-{i}"): complex(i % 3, 64.0 * 2**20) for i in range(30)})
    book = UsageBook.build("ctx", sample, {}, {})
    assert len(book.pods) == 30 and len({id(c) for c in book.pods.values()}) == 3  # three distinct rows' figures
    assert all(a is b for a, b in zip(book.pods, sample.pods, strict=True))  # the sample's keys, not copies
    gc.collect()
    assert not any(gc.is_tracked(c) for c in book.pods.values())
    assert book.cells("pods", "team-a", "web-4") == ("1m", "64Mi", 0, 0)
