"""Worker threads step aside while the GUI thread paints: the GIL handed over once, not at every cell.

A paint of the tree is C++ calling into Python for every cell it draws (``multiData``), and each call takes the GIL
again. When a worker thread is converting a page meanwhile, every one of those takes waits until the worker is
made to let go, up to the interpreter's switch interval (5 ms): a paint of 17 ms of CPU took 58 ms of wall time on
a quiet machine while a 10,000-pod namespace loaded (``benchmarks/stall_probe.py``), and a view over a Python model
painted five times slower beside one spinning thread. A shorter switch interval did not help (more switches
between the workers themselves); what does is the workers not asking for the GIL while the GUI thread paints.

So the GUI thread closes the gate around its paints and layouts (:meth:`GuiGate.held`), and the list workers call
:func:`checkpoint` between small steps of their work (before a request, before parsing, every
:data:`ROWS_PER_STEP` rows converted): a closed gate makes them wait without the GIL. A worker never waits longer
than :data:`MAX_WAIT_S` for one paint, so a GUI thread that holds the gate long (a huge paint) slows the loads
down but cannot stop them.

Qt-free: the window decides when to hold the gate; this module only knows threads.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: The interpreter's thread switch interval (CPython's default is 5 ms): how long the GUI thread, asking for the GIL
#: while a worker runs Python, waits before the worker is made to let go. See :func:`hand_over_quickly`.
SWITCH_INTERVAL_S = 0.001
#: Longest a worker waits for one closed gate; the work then goes on with the GUI thread.
MAX_WAIT_S = 0.1
#: Rows converted between two checkpoints: about a third of a millisecond of a worker's Python.
ROWS_PER_STEP = 64


class GuiGate:
    """Open while the GUI thread is idle or doing light work; closed while it paints or lays out."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        #: ``time.perf_counter()`` when the GUI thread last stopped holding the gate (0: never held).
        self.released_at = 0.0
        self._depth = 0  # nested holds (a layout inside a paint): only the outermost reopens
        #: Off: :meth:`held` does nothing (the bench's A/B switch; also a way out if a platform misbehaves).
        self.enabled = True
        self._lane = threading.RLock()  # a worker in the lane may parse a nested document (get_json) itself
        #: Off: :meth:`lane` lets every worker in at once (the bench's A/B switch).
        self.one_lane = True

    @contextmanager
    def held(self) -> Iterator[None]:
        """Close the gate for the block (called on the GUI thread only, so the depth needs no lock)."""
        if not self.enabled:
            yield
            return
        self._depth += 1
        self._open.clear()
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.released_at = time.perf_counter()
                self._open.set()

    @contextmanager
    def lane(self) -> Iterator[None]:
        """One worker at a time in the block: its Python competes for the GIL with the GUI thread alone.

        Opening a namespace lists its ~25 kinds at once, and eight workers parsing and converting pages side by
        side meant the GUI thread, asking for the GIL, waited behind all of them in turn (a switch interval each).
        Parsing and converting is Python, so one at a time loses no parallelism; requests stay concurrent.
        """
        if not self.one_lane:
            yield
            return
        with self._lane:
            yield

    def held_within(self, seconds: float) -> bool:
        """Whether the GUI thread held the gate (painted, laid out) in the last ``seconds``."""
        return self._depth > 0 or time.perf_counter() - self.released_at < seconds

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def checkpoint(self) -> None:
        """Wait (without the GIL) while the GUI thread holds the gate, at most :data:`MAX_WAIT_S`."""
        if not self._open.is_set():
            self._open.wait(MAX_WAIT_S)


#: The process's gate: there is one GIL, so one gate.
GATE = GuiGate()


def hand_over_quickly() -> None:
    """Make a worker running Python let go of the GIL after :data:`SWITCH_INTERVAL_S` when another thread asks.

    Outside the gate's holds (a page arriving, a timer, the bench's own steps) the GUI thread still asks for the GIL
    while a worker runs Python, and waits a whole switch interval each time. With one worker in the lane at a time
    (:meth:`GuiGate.lane`) a shorter interval no longer means the workers switching among themselves (which made
    0.5 ms worse in the fourth stop); 1 ms against 5 ms, ``stall_probe.py --ab switch1``, 6+6 windows at load 4:
    median 64 -> 43 ms quiet and 77 -> 64 ms with a busy neighbour, and the lists loaded no slower.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def checkpoint() -> None:
    """A worker's point to step aside for the GUI thread (see the module doc)."""
    GATE.checkpoint()
