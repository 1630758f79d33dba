"""Worker threads step aside while the GUI thread paints (kube9_desktop.kube.gui_gate)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from kube9_desktop.kube import gui_gate
from kube9_desktop.kube.convert import rows_from_list
from kube9_desktop.kube.gui_gate import GuiGate
from kube9_desktop.kube.kinds import KINDS


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[GuiGate]:
    """The process's gate, with a wait long enough that only a release lets a worker on."""
    monkeypatch.setattr(gui_gate, "MAX_WAIT_S", 30.0)
    g = gui_gate.GATE
    assert g.is_open
    yield g
    assert g.is_open, "every hold released"


def _worker(step: threading.Event, done: threading.Event) -> threading.Thread:
    def run() -> None:
        step.set()
        gui_gate.checkpoint()
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_worker_waits_at_its_checkpoint_until_the_gui_thread_lets_go(gate: GuiGate) -> None:
    started, passed = threading.Event(), threading.Event()
    with gate.held():
        t = _worker(started, passed)
        assert started.wait(10)
        assert not passed.wait(0.2), "the worker went on while the GUI thread held the gate"
    assert passed.wait(10), "released: the worker goes on"
    t.join(10)


def test_nested_holds_open_the_gate_only_when_the_outermost_ends(gate: GuiGate) -> None:
    with gate.held():
        with gate.held():  # a layout inside a paint
            assert not gate.is_open
        assert not gate.is_open
        assert gate.held_within(0.0)
    assert gate.is_open
    assert gate.held_within(60.0) and not gate.held_within(0.0)


def test_a_worker_never_waits_longer_than_the_bound(gate: GuiGate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gui_gate, "MAX_WAIT_S", 0.05)
    started, passed = threading.Event(), threading.Event()
    with gate.held():
        t = _worker(started, passed)
        assert passed.wait(10), "a GUI thread holding the gate long slows workers down but cannot stop them"
    t.join(10)


def test_a_disabled_gate_never_closes(gate: GuiGate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "enabled", False)
    with gate.held():
        assert gate.is_open


def test_rows_are_converted_in_steps_with_a_checkpoint_between_them(gate: GuiGate,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's conversion stops at its next step while the gate is held, and finishes once it opens."""
    n = gui_gate.ROWS_PER_STEP * 3
    body = {"kind": "Table", "columnDefinitions": [{"name": "Name"}, {"name": "Status"}],
            "rows": [{"cells": [f"p{i}", "Running"],
                      "object": {"metadata": {"name": f"p{i}", "namespace": "a", "uid": f"u{i}"}}}
                     for i in range(n)]}
    out: list[int] = []
    steps = 0
    real = gui_gate.checkpoint

    def counted() -> None:
        nonlocal steps
        steps += 1
        real()

    import kube9_desktop.kube.convert as convert

    monkeypatch.setattr(convert, "checkpoint", counted)
    done = threading.Event()
    with gate.held():
        t = threading.Thread(target=lambda: (out.append(len(rows_from_list(KINDS["pods"], body))), done.set()),
                             daemon=True)
        t.start()
        assert not done.wait(0.2)
    assert done.wait(10)
    t.join(10)
    assert out == [n]
    assert steps == 3


def test_the_gui_thread_waits_a_short_switch_interval_for_the_gil() -> None:
    """CPython makes a thread asking for the GIL wait 5 ms before the running one lets go: the GUI thread asks often
    while a worker converts a page (kube.gui_gate.hand_over_quickly; the app and the bench call it at start)."""
    was = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        gui_gate.hand_over_quickly()
        assert sys.getswitchinterval() == pytest.approx(gui_gate.SWITCH_INTERVAL_S)
        assert gui_gate.SWITCH_INTERVAL_S < 0.005
    finally:
        sys.setswitchinterval(was)


def test_the_usage_columns_book_steps_aside_while_the_gui_thread_paints(gate: GuiGate) -> None:
    """The usage read builds its book of a namespace's pods in a worker (~150 ms of Python for 10,000): it stops
    at a checkpoint while the gate is held, and finishes once it opens."""
    from kube9_desktop.kube.metrics import Resources, Sample
    from kube9_desktop.model.usage import UsageBook

    sample = Sample(1.0, pods={("a", f"web-{i}"): complex(10.0, 2.0**20) for i in range(600)})
    specs = {key: Resources(cpu_request=100.0, memory_request=2.0**21) for key in sample.pods}
    books: list[UsageBook] = []
    with gate.held():
        t = threading.Thread(target=lambda: books.append(UsageBook.build("ctx", sample, {}, specs)), daemon=True)
        t.start()
        t.join(0.3)
        assert t.is_alive() and not books, "the book was built while the GUI thread held the gate"
    t.join(10)
    assert len(books) == 1 and len(books[0].pods) == 600
