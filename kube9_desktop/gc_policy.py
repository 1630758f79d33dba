"""Python's cyclic garbage collection, run on one chosen thread only: the policy, and a driver for an asyncio loop.

Automatic collection runs in whichever thread happens to allocate, and our worker threads allocate a lot (parsing
pages). A cycle holding a Qt object (a closed dialog, a timer) collected there makes Qt destroy it from the wrong
thread ("Timers cannot be stopped from another thread", or worse). So automatic collection is switched off and the
thread that owns those objects (the GUI thread, or the headless modes' event loop thread) collects each generation
when its count passes the configured threshold — the same policy CPython uses, only always on this thread. That
includes CPython's rule for the oldest generation: a full collection walks every tracked object (over 100 ms with a
50,000-row tree loaded), so it runs only once the objects that reached the oldest generation since the last one
exceed a quarter of those that survived it.

That rule alone still walks the whole tree now and then: with 150,000 pods loaded, ~600,000 objects, one pass held
the window for 250 ms of CPU (600 ms at load 15). So once the oldest generation holds :data:`FREEZE_AT` objects,
they are frozen (``gc.freeze()``, which costs nothing: the generation's list is moved whole) where no collection
walks them again; a full collection then never walks more than about that many objects. Frozen objects are still
freed by reference counting; only a reference cycle among them is never collected — those already garbage when
they are frozen (the oldest generation holds a few hundred such objects at a time here; walking it first to find
them was itself a 70-100 ms stall) and any that become garbage later. The tree, the bulk of what gets frozen,
leaves no cycles behind: the model unlinks each removed node from its parent, and rows hold none (a 50,000-pod
tree frozen, then dropped: all but ~170 of its objects were freed).

While a big list loads, the young generation's survivors are almost all its new rows and tree nodes, and a middle
collection walked them all again: 10,000 pods arriving made middle collections of 20-50 ms of CPU (their objects
were five young collections' worth). So a middle collection due while objects pour in (over
:data:`POURING_RATE` a second) is a young collection and a freeze instead: the survivors leave every later walk at
once. What that can keep alive is the same as above — cyclic garbage that was not young at the freeze; seven
10,000-pod windows opened and closed one after another left as much in the frozen generation with it as without
(283,181 and 282,855 objects). The young collections during a pour found no cyclic garbage either (none in over
500), so any collection due then, the young one included, is a freeze alone (:data:`FREEZE_YOUNG_WHILE_POURING`):
a page's new rows are not walked even once, and what that can keep is, besides the above, cyclic garbage made
during the pour itself.

:class:`GcPolicy` is all of that without a clock: its :meth:`GcPolicy.tick` says when to be called next. Two
drivers call it: ``ui/gc_driver.py``'s ``GcDriver`` with a Qt timer on the GUI thread, and :class:`LoopGcDriver`
here with ``loop.call_later`` for the headless modes (``--print-tree``, ``--run``), which run on a plain asyncio
loop and import no Qt: importing PySide6 and qasync was half of such a process's time. Qt-free: this module must
not import either, directly or indirectly.

Before any of that, :func:`tune_gc` (called when the first ``KubeService`` is created) freezes what exists at
start-up and sets the thresholds :class:`GcPolicy` then collects by (:data:`GC_THRESHOLDS`).
"""

from __future__ import annotations

import asyncio
import gc
import time

from kube9_desktop.kube.gui_gate import GATE

#: Milliseconds between checks while objects are being allocated (a list is loading): short, because a young
#: generation left to grow between checks makes one long pass. A check is one ``gc.get_count()``.
BUSY_INTERVAL_MS = 20
#: Milliseconds between checks when little is allocated (no reason to wake the process fifty times a second).
IDLE_INTERVAL_MS = 250
#: Objects in the oldest generation (not frozen) at which they are frozen: a full collection walks at most about
#: this many (~40-90 ms of CPU here, by load); an app browsing a few thousand rows never gets there.
FREEZE_AT = 100_000
#: Checks in a row that saw little allocated before the interval goes back from busy to idle.
QUIET_TICKS = 10
#: Objects a second into the young generation (since it was last emptied) from which a load counts as pouring (a
#: due collection freezes instead): a 10,000-pod list arrives at ~150,000-200,000 a second, but at 35,000-82,000
#: beside two busy processes (the GUI thread gets less of a core), and its first collection is reckoned from the
#: idle driver's last one; watch events at 200 changes/s are far below. It was 100,000 until the tenth stop
#: (docs/performance.md, "Goal 3, tenth stop"): those collections were not counted as pouring.
POURING_RATE = 30_000
#: ... and at least this many young objects (fewer are no list's rows, however quickly they came).
POURING_MIN = 2_000
#: Seconds a load still counts as pouring after the last check that saw it so: its last pages come more slowly (the
#: sim's, the GUI thread's inserts), and a middle collection right after them walked their rows (10-45 ms).
POURING_HOLD_S = 0.5
#: Whether any collection due while objects pour in is a freeze alone, the young one included (no walk at all).
#: On: the young collections of a 10,000-pod load in the window found no cyclic garbage (none in over 500); with
#: :data:`POURING_RATE` at 30,000 the young collections left the window's worst loop turns (10 of 18 -> 0 of 18)
#: and ~20-35 ms of the GUI thread's CPU a window with them; goals 4 and 6 (50,000 and 150,000 pods) measured
#: alike: docs/performance.md, "Goal 3, tenth stop". Read at every check (``stall_probe.py``'s levers
#: ``pourfreeze``, ``pourfreeze30``).
FREEZE_YOUNG_WHILE_POURING = True
#: A middle or full collection due within this long after a paint or layout (see ``kube.gui_gate``) waits ...
AFTER_PAINT_S = 0.004
#: ... this many milliseconds, so the loop takes a turn between the two ...
PUT_OFF_MS = 5
#: ... at most this many times in a row (a window repainting all the time still gets collected).
PUT_OFF_MAX = 4
#: Cyclic-GC thresholds while big lists are held (CPython's default is (700, 10, 10)); see :func:`tune_gc`.
GC_THRESHOLDS = (3_000, 5, 10)
_gc_tuned = False


def tune_gc() -> None:
    """Keep the cyclic garbage collector from stalling the event loop (the window) while big lists load.

    Loading 10,000 pods creates hundreds of thousands of objects (rows, tree nodes, parsed pages). With CPython's
    default thresholds the collector keeps running full collections over the growing heap, and one pass over it
    held the GIL for 55–177 ms (measured with ``gc.callbacks`` while opening a 10,000-pod namespace): the window
    froze. Everything that exists when the service is created (modules, Qt wrappers, settings) is moved out of the
    collector's sight with ``gc.freeze()``, and young collections run every 3,000 allocations instead of 700.
    The middle generation is collected every 5th young collection instead of every 10th: a list's rows survive
    the young collections, so each middle one walks about ``3,000 × 5`` new survivors (5-26 ms of the GUI thread's
    CPU at load 14) where ``10,000 × 10`` took 110–280 ms (measured with ``gc.callbacks`` opening a 10,000-pod
    namespace four times, collections on the GUI thread as the app runs them). Every 2nd (``stall_probe.py --ab
    gen1x2``: ~5 ms each, the busiest turn's CPU median 35 -> 28 ms) was tried and reverted: the Qt model tester
    test, allocation-heavy, took 485 s instead of 197-252 s. Reference
    counting still frees almost everything at once; only cycles wait a little longer. Done once per process.
    """
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def oldest_generation_size() -> int:
    """How many objects the oldest generation holds, counted without a worker thread ever seeing them listed.

    ``len(gc.get_objects(2))`` holds a list of every one of them for a moment, and the interpreter may switch
    threads between the two calls: a worker building a tuple that a middle collection had just moved into the
    oldest generation (``tuple(generator)`` resizes its tuple in place, which needs the only reference) then found
    a second one and failed: ``SystemError: Objects/tupleobject.c:927: bad argument to internal function`` in
    ``convert.shared_owners`` while 10,000 pods loaded, and the page's list failed. Called inside ``sum()``, the
    listing, its length and its release are one C call: no thread switch in between.
    """
    return sum(map(len, map(gc.get_objects, (2,))))


class GcPolicy:
    """When to collect which generation; the caller's clock calls :meth:`tick` on the collecting thread.

    Creating one disables automatic collection (for the whole process) until :meth:`stop`. Ticks come every
    :data:`BUSY_INTERVAL_MS` while the young generation fills quickly, and every :data:`IDLE_INTERVAL_MS`
    otherwise. Checked every 200 ms as before, a 10,000-pod load let the young generation grow to hundreds of
    thousands of objects between checks: single collections of 200–280 ms.

    Args:
        interval_ms: A fixed tick interval instead of the adaptive one (tests); no put-off after paints either.
        freeze_at: Objects in the oldest generation at which they are frozen (``None``: never freeze).

    Attributes:
        frozen: Objects this policy froze.
        interval_ms: Milliseconds until the next tick, as the last :meth:`tick` chose (to start with: the fixed
            interval, or idle).
    """

    def __init__(self, interval_ms: int | None = None, freeze_at: int | None = FREEZE_AT) -> None:
        self._freeze_at = freeze_at
        self.frozen = 0
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._long_lived = oldest_generation_size()  # what survived the last full collection (approximately)
        self._fixed = interval_ms
        self.interval_ms = interval_ms or IDLE_INTERVAL_MS
        self._put_off = 0  # ticks put off in a row because the GUI thread had just painted
        self._quiet = QUIET_TICKS  # ticks in a row that saw little allocated (idle to start with)
        self._young_since = time.perf_counter()  # when the young generation was last emptied
        self._pouring_until = 0.0  # objects pour in (a list's rows) until then: see POURING_HOLD_S

    def tick(self) -> int:
        """Collect what is due (unless a paint just ran) and choose when to come back.

        Returns:
            Milliseconds until the next tick (also kept in :attr:`interval_ms`).
        """
        busy = gc.get_count()[0] > gc.get_threshold()[0] // 2
        # Busy until QUIET_TICKS ticks in a row saw little: a list's pages arrive every 20-30 ms, and going back to
        # the idle interval between two of them let the young generation grow to 20,000+ objects (one 5-20 ms walk).
        self._quiet = 0 if busy else self._quiet + 1
        if self._fixed is None and self._older_due() and GATE.held_within(AFTER_PAINT_S) \
                and self._put_off < PUT_OFF_MAX:
            # A paint or layout just ran in this loop turn: a middle collection now (10-25 ms of CPU) would make
            # one stall of both. Come back after the loop has had a turn. (Headless, nothing holds the gate.)
            self._put_off += 1
            self.interval_ms = PUT_OFF_MS
            return self.interval_ms
        self._put_off = 0
        self.check()
        if self._fixed is None:
            self.interval_ms = BUSY_INTERVAL_MS if self._quiet < QUIET_TICKS else IDLE_INTERVAL_MS
        return self.interval_ms

    @staticmethod
    def _older_due() -> bool:
        """Whether the next check collects more than the young generation."""
        (t0, t1, _), (c0, c1, _) = gc.get_threshold(), gc.get_count()
        return c0 > t0 and c1 > t1

    def check(self) -> int:
        """Collect the generations whose thresholds were passed.

        Returns:
            The objects collected.
        """
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return 0
        now = time.perf_counter()
        if c0 >= POURING_MIN and c0 >= POURING_RATE * (now - self._young_since):
            self._pouring_until = now + POURING_HOLD_S
        pouring = self._freeze_at is not None and now < self._pouring_until
        if pouring and FREEZE_YOUNG_WHILE_POURING:
            # Whatever generation is due: the young generation is frozen with the rest, unwalked. A middle
            # collection stays due (a freeze leaves its count) and runs once the load is over.
            self._freeze()
            return 0
        if c1 <= t1:
            return self._collect(0)
        if pouring:
            found = self._collect(0)  # the garbage among the young goes; the survivors are the load's rows
            self._freeze()
            return found
        if c2 <= t2 or not self._full_collection_due():
            found = self._collect(1)
        else:
            found = self._collect(2)
            self._long_lived = oldest_generation_size()
        if self._freeze_at is not None and oldest_generation_size() >= self._freeze_at:
            self._freeze()
        return found

    def _collect(self, generation: int) -> int:
        found = gc.collect(generation)
        self._young_since = time.perf_counter()  # the young generation's count starts again
        return found

    def _freeze(self) -> None:
        """Move every generation out of every later collection's sight (the young one is empty after a young
        collection; not so with :data:`FREEZE_YOUNG_WHILE_POURING`)."""
        # One C call (see oldest_generation_size); the young generation by its count (listing it would be a walk).
        self.frozen += sum(map(len, map(gc.get_objects, (1, 2)))) + gc.get_count()[0]
        gc.freeze()
        self._young_since = time.perf_counter()
        self._long_lived = 0

    def _full_collection_due(self) -> bool:
        """CPython's own rule (``long_lived_pending > long_lived_total / 4`` in gcmodule.c), from the size of the
        oldest generation: listing it costs a fraction of walking it."""
        n = oldest_generation_size()
        # A gc.freeze() since (the service freezes what exists at start-up) emptied the generation: count from there.
        self._long_lived = min(self._long_lived, n)
        return n - self._long_lived > self._long_lived // 4

    def stop(self) -> None:
        """Collect once here and give collection back to the interpreter (as it was before this policy)."""
        gc.collect()
        if self._was_enabled:
            gc.enable()


class LoopGcDriver:
    """Collects garbage on an asyncio loop's thread with :class:`GcPolicy`; the headless modes' ``GcDriver``.

    Each tick runs as a ``loop.call_later`` callback, so collections happen on the loop's thread between two of its
    callbacks; the 50,000-pod ``--print-tree`` measures that loop's longest stall. Create it on the loop's thread
    (or before the loop runs) and :meth:`stop` it there, before the loop closes.

    Args:
        loop: The loop to tick on (``None``: the running loop).
        interval_ms: A fixed tick interval instead of the adaptive one (tests).
        freeze_at: Objects in the oldest generation at which they are frozen (``None``: never freeze).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, interval_ms: int | None = None,
                 freeze_at: int | None = FREEZE_AT) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._policy = GcPolicy(interval_ms, freeze_at)
        self._stopped = False
        self._handle: asyncio.TimerHandle | None = None
        self._schedule()

    @property
    def frozen(self) -> int:
        """Objects this driver froze."""
        return self._policy.frozen

    def interval(self) -> int:
        """Milliseconds until the next check."""
        return self._policy.interval_ms

    def check(self) -> int:
        """Collect the generations whose thresholds were passed now; returns the objects collected."""
        return self._policy.check()

    def _schedule(self) -> None:
        self._handle = self._loop.call_later(self._policy.interval_ms / 1000, self._tick)

    def _tick(self) -> None:
        if self._stopped:  # a tick already due when stop() ran must not bring the timer back
            return
        if self._handle is not None:
            self._handle.cancel()  # a tick made by hand (tests) replaces the pending one, as QTimer's restart does
        self._policy.tick()
        self._schedule()

    def stop(self) -> None:
        """Cancel the next tick, collect once here and give collection back to the interpreter."""
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._policy.stop()
