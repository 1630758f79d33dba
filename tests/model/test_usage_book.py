"""model/usage.py: the usage columns' book keeps one string per distinct cell text (issue 15 goal 4)."""

from __future__ import annotations

from kube9_desktop.kube.metrics import Resources, Sample, Usage
from kube9_desktop.model.usage import UsageBook


def test_rows_with_the_same_figures_share_their_texts() -> None:
    # Figures computed at run time (as parsed from a response): equal texts, built separately.
    cpu, mem = float(int("12")), float(int("64") * 2**20)
    sample = Sample(1.0, pods={("team-a", f"web-{i}"): Usage(cpu, mem) for i in range(3)})
    requests = {("team-a", f"web-{i}"): Resources(cpu_request=120.0, memory_request=128 * 2**20) for i in range(3)}
    book = UsageBook.build("ctx", sample, {}, requests)
    a, b = book.cells("pods", "team-a", "web-0"), book.cells("pods", "team-a", "web-2")
    assert a is not None and b is not None
    assert (a.cpu, a.memory) == ("12m 10%", "64Mi 50%")
    assert a.cpu is b.cpu and a.memory is b.memory
    assert book.cells("pods", "team-a", "nope") is None
