"""What the window does in its longest loop stall while a 10,000-pod namespace opens, and A/B runs of stall levers.

Opens the namespace in the real main window (as ``window_stall.py`` does) with probes on what a loop turn can
spend its time in: model inserts (``beginInsertRows`` … ``endInsertRows``, the views' handlers included), the view's
layouts (``doItemsLayout``) and paints, asyncio callbacks (a page arriving, rows built), the column fitter and the
garbage collector. For the worst sample of the loop-lag monitor it prints where those milliseconds went, and for
each window the longest stall both as wall time (``lag``) and as the GUI thread's own CPU time (``cpu``: the part
that is not waiting for a core on a loaded machine).

``--ab LEVER`` alternates windows without and with one lever (A, B, A, B …) against one sim, printing the load
average with every number. Usage::

    python benchmarks/stall_probe.py --pods 10000 --windows 6 [--ab slices] [--busy 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import in_process  # the bench's own helpers
from levers import Levers

from kube9_desktop.sim.process import SimProcess

#: With ``--gc-sizes``: each collection's start, generation and the objects it walks.
GC_SIZES: list[tuple[float, int, int]] | None = None
#: Phase records: (name, start, end, GUI thread CPU seconds) in perf_counter seconds.
PHASES: list[tuple[str, float, float, float]] = []
#: The usage columns' reads (a worker thread's): (start, end) in perf_counter seconds.
USAGE_READS: list[tuple[float, float]] = []


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES.append((name, t0, time.perf_counter(), time.thread_time() - c0))

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def install_probes() -> None:
    """Wrap what a loop turn spends its time in (before any window exists: Qt looks Python overrides up then)."""
    from kube9_desktop.gc_policy import GcPolicy
    from kube9_desktop.model.shown_rows import ShownRowsModel
    from kube9_desktop.ui.column_fit import ColumnFitter
    from kube9_desktop.ui.tree_view import ClusterTreeView

    ShownRowsModel._insert = _timed("model insert", ShownRowsModel._insert)  # type: ignore[method-assign]
    ShownRowsModel.show_more = _timed("model show_more", ShownRowsModel.show_more)  # type: ignore[method-assign]
    ShownRowsModel._changed = _timed("model changed", ShownRowsModel._changed)  # type: ignore[method-assign]
    ColumnFitter.fit = _timed("column fit", ColumnFitter.fit)  # type: ignore[method-assign]
    from kube9_desktop.ui.usage_panel import UsagePanel

    read = UsagePanel._read

    def usage_read(self: Any, *args: Any) -> Any:  # a worker thread's: its wall time only
        t0 = time.perf_counter()
        try:
            return read(self, *args)
        finally:
            USAGE_READS.append((t0, time.perf_counter()))

    UsagePanel._read = usage_read  # type: ignore[method-assign]
    from kube9_desktop.ui.main_window import MainWindow

    MainWindow._warm_rows = _timed("warm texts", MainWindow._warm_rows)  # type: ignore[method-assign]
    # The policy's own check: GcDriver's timer ticks call it there, not through GcDriver.check.
    GcPolicy.check = _timed("gc driver", GcPolicy.check)  # type: ignore[method-assign]

    do_layout = ClusterTreeView.doItemsLayout
    do_paint = ClusterTreeView.paintEvent  # the view's own (it sets up the row painter)

    def layout(self: Any) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        do_layout(self)
        PHASES.append(("view layout", t0, time.perf_counter(), time.thread_time() - c0))

    def paint(self: Any, event: Any) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        do_paint(self, event)
        PHASES.append(("view paint", t0, time.perf_counter(), time.thread_time() - c0))

    ClusterTreeView.doItemsLayout = layout  # type: ignore[method-assign]
    ClusterTreeView.paintEvent = paint  # type: ignore[method-assign]
    orig_lay_out_now = ClusterTreeView.lay_out_now
    ClusterTreeView.lay_out_now = _timed("lay_out_now", orig_lay_out_now)  # type: ignore[method-assign]

    start = threading.Thread.start

    def thread_start(self: threading.Thread) -> None:  # the GUI thread waits until the new thread has run
        if threading.current_thread() is not threading.main_thread():
            return start(self)
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return start(self)
        finally:
            name = self.name.rstrip("0123456789_-")
            PHASES.append((f"thread start {name[:18]}", t0, time.perf_counter(), time.thread_time() - c0))

    threading.Thread.start = thread_start  # type: ignore[method-assign]

    gc_start: list[tuple[float, float]] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            if GC_SIZES is not None:  # listing them is outside the collection's time
                GC_SIZES.append((time.perf_counter(), info["generation"],
                                 sum(map(len, map(gc.get_objects, range(info["generation"] + 1))))))
            gc_start.append((time.perf_counter(), time.thread_time()))
        elif gc_start:
            t0, c0 = gc_start.pop()
            PHASES.append((f"gc gen{info['generation']}", t0, time.perf_counter(), time.thread_time() - c0))

    gc.callbacks.append(on_gc)

    # Every asyncio callback (a task step: a page arriving, rows built and inserted), by its coroutine's name.
    run = asyncio.events.Handle._run

    def handle_run(self: Any) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            run(self)
        finally:
            t1 = time.perf_counter()
            if t1 - t0 > 0.001:
                c1 = time.thread_time() - c0
                cb = self._callback
                owner = getattr(cb, "__self__", None)
                coro = getattr(owner, "get_coro", None)
                name = getattr(coro(), "__qualname__", "?") if coro else getattr(cb, "__qualname__", repr(cb))
                PHASES.append((f"async {name}", t0, t1, c1))

    asyncio.events.Handle._run = handle_run  # type: ignore[method-assign]


#: Open ``schedstat`` files by (pid, thread id): read again with ``pread`` (a sample reads every thread's twice a
#: 5 ms sample; opening them each time cost the GUI thread ~0.4 ms a reading, ~12% of its CPU in a window).
_STAT_FDS: dict[tuple[str, int], int] = {}


def _schedstat(pid: str = "self") -> dict[int, tuple[int, int, int]]:
    """Per thread of a process (this one by default): nanoseconds on a CPU and waiting for one
    (``/proc/PID/task/*/schedstat``), and how many times it was put on one (its wake-ups and preemptions)."""
    out: dict[int, tuple[int, int, int]] = {}
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return out
    for key in [k for k in _STAT_FDS if k[0] == pid and k[1] not in tids]:
        os.close(_STAT_FDS.pop(key))
    for tid in tids:
        fd = _STAT_FDS.get((pid, tid))
        try:
            if fd is None:
                fd = _STAT_FDS[(pid, tid)] = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
            run, wait, runs = os.pread(fd, 100, 0).split()
        except (OSError, ValueError):
            continue
        out[tid] = (int(run), int(wait), int(runs))
    return out


def _threads_in(a: dict[int, tuple[int, int, int]], b: dict[int, tuple[int, int, int]]) -> str:
    """Each thread's CPU and run-queue wait (ms) between two :func:`_schedstat` readings, busiest first."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    main = threading.main_thread().native_id
    rows = []
    for tid, (r1, w1, _) in b.items():
        r0, w0, _ = a.get(tid, (0, 0, 0))
        run, wait = (r1 - r0) / 1e6, (w1 - w0) / 1e6
        if run + wait >= 0.5:
            rows.append((run, wait, "GUI" if tid == main else names.get(tid, str(tid))[:18]))
    rows.sort(reverse=True)
    return ", ".join(f"{n} {r:.1f}+{w:.1f}q" for r, w, n in rows)


class StallMonitor:
    """The loop-lag monitor's sampling (every 5 ms), keeping the interval of the worst sample."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.reset()
        self.task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        #: When the bench's monitor started counting (perf_counter seconds): the worst sample's time is from there.
        self.started = time.perf_counter()
        #: The sample with the longest lag: lag ms, the GUI thread's and the process's CPU ms in it, t0, t1.
        self.worst = (0.0, 0.0, 0.0, 0.0, 0.0)
        #: The sample in which the GUI thread itself ran longest: the same fields.
        self.busiest = (0.0, 0.0, 0.0, 0.0, 0.0)
        #: The worst sample's threads: CPU + run-queue wait (ms) each.
        self.worst_threads = ""
        #: The worst sample's GUI thread: (CPU, queued for a core, neither: blocked — the GIL, or its own sleep)
        #: ms, the sample's wall time split by the thread's schedstat.
        self.worst_split = (0.0, 0.0, 0.0)
        #: The host's steal over both CPUs in the worst sample (ms; /proc/stat's ticks, 10 ms each): a vCPU the
        #: host took away shows its threads as queued.
        self.worst_steal = 0.0
        #: Every sample: (start, lag ms).
        self.samples: list[tuple[float, float]] = []

    async def _run(self) -> None:
        s1, st1 = _schedstat(), _steal_ms()
        while True:
            s0, st0 = s1, st1  # the last sample's end reading is this one's start
            t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
            await asyncio.sleep(self.interval)
            t1 = time.perf_counter()
            s1, st1 = _schedstat(), _steal_ms()
            lag = (t1 - t0 - self.interval) * 1000
            self.samples.append((t0, lag))
            cpu, proc = (time.thread_time() - c0) * 1000, (time.process_time() - p0) * 1000
            if lag > self.worst[0]:
                self.worst = (lag, cpu, proc, t0, t1)
                self.worst_threads = _threads_in(s0, s1)
                main = threading.main_thread().native_id
                (r0, w0, _), (r1, w1, _) = s0.get(main, (0, 0, 0)), s1.get(main, (0, 0, 0))
                run, wait = (r1 - r0) / 1e6, (w1 - w0) / 1e6
                self.worst_split = (run, wait, max(0.0, (t1 - t0) * 1000 - run - wait))
                self.worst_steal = st1 - st0
            if cpu > self.busiest[1]:
                self.busiest = (lag, cpu, proc, t0, t1)


def breakdown(t0: float, t1: float) -> str:
    """Wall (and GUI thread CPU) milliseconds per phase inside [t0, t1]; nested phases overlap."""
    per: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for name, a, b, c in PHASES:
        lo, hi = max(a, t0), min(b, t1)
        if hi > lo:
            per[name] += (hi - lo) * 1000
            cpu[name] += c * 1000 * (hi - lo) / max(b - a, 1e-9)
            count[name] += 1
    return ", ".join(f"{n} {ms:.1f} ({cpu[n]:.1f} cpu) ms ×{count[n]}"
                     for n, ms in sorted(per.items(), key=lambda kv: -kv[1]))


#: Levers alternated by --ab: name -> function switching it on (True) or off (False).
LEVERS = Levers()
lever = LEVERS.register


@lever("turn")
def _turn(on: bool) -> None:
    """A loop turn between the tree's layout and its paint (MainWindow.event)."""
    from kube9_desktop.ui.main_window import MainWindow

    MainWindow.turn_between_layout_and_paint = on


@lever("fitturn")
def _fitturn(on: bool) -> None:
    """A loop turn between the column fitter's new widths and the repaint (MainWindow.event)."""
    from kube9_desktop.ui.main_window import MainWindow

    MainWindow.turn_after_refit = on


@lever("fitbusy")
def _fitbusy(on: bool) -> None:
    """Column fits at most every second while the tree loads (ColumnFitter.busy)."""
    from kube9_desktop.ui import column_fit

    column_fit.FIT_BUSY_DELAY_MS = 1000 if on else column_fit.FIT_DELAY_MS


@lever("fit")
def _fit(on: bool) -> None:
    """The column fitter's widths from the row painter's cached texts, not Qt's sizeHintForColumn (ui/row_widths)."""
    from kube9_desktop.ui.row_widths import RowWidths

    RowWidths.enabled = on


@lever("gate")
def _gate(on: bool) -> None:
    """Worker threads step aside while the window paints and lays out (kube.gui_gate)."""
    from kube9_desktop.kube.gui_gate import GATE

    GATE.enabled = on


@lever("lane")
def _lane(on: bool) -> None:
    """One list worker at a time parses and converts a page (GuiGate.lane)."""
    from kube9_desktop.kube.gui_gate import GATE

    GATE.one_lane = on


@lever("pour")
def _pour(on: bool) -> None:
    """A middle collection due while a list's rows pour in freezes the survivors instead (gc_policy.POURING_RATE),
    as measured: at 100,000 objects a second, the young collections still walked (pourfreeze off on both sides)."""
    from kube9_desktop import gc_policy

    gc_policy.POURING_RATE = 100_000 if on else 1 << 40  # the policy reads its module's constant at every check
    gc_policy.FREEZE_YOUNG_WHILE_POURING = False


_make_service = in_process.make_service


@lever("workers2")
def _workers2(on: bool) -> None:
    """Two worker threads a context instead of eight (KubeOptions.workers): fewer threads asking for the GIL."""
    def two(sim: SimProcess, backend: str, **options: Any) -> Any:
        return _make_service(sim, backend, **{"workers": 2, **options})

    in_process.make_service = two if on else _make_service


@lever("page250")
def _page250(on: bool) -> None:
    """Lists read 250 rows a request instead of 500 (KubeOptions.page_size): a page's parse holds the GIL half as
    long, and each page's rows are half the GUI thread's work."""
    def quarter(sim: SimProcess, backend: str, **options: Any) -> Any:
        return _make_service(sim, backend, **{"page_size": 250, **options})

    in_process.make_service = quarter if on else _make_service


@lever("usagesteps")
def _usagesteps(on: bool) -> None:
    """The usage read's loops over a namespace's pods step aside for the window every 256 pods (metrics.STEP_EVERY)."""
    from kube9_desktop.kube import metrics

    metrics.STEP_EVERY = 256 if on else 1 << 40


_expect_lists: Any = None


@lever("together")
def _together(on: bool) -> None:
    """A namespace's count lists' first requests sent together by one thread (KubeService.expect_lists)."""
    global _expect_lists
    from kube9_desktop.kube.service import KubeService

    if _expect_lists is None:
        _expect_lists = KubeService.expect_lists
    KubeService.expect_lists = _expect_lists if on else (lambda self, context, count: None)  # type: ignore


@lever("hold")
def _hold(on: bool) -> None:
    """A load counts as pouring for 0.5 s after the last check that saw it so (gc_policy.POURING_HOLD_S)."""
    from kube9_desktop import gc_policy

    gc_policy.POURING_HOLD_S = 0.5 if on else 0.0


@lever("pourfreeze")
def _pourfreeze(on: bool) -> None:
    """A young collection due while a list's rows pour in is a freeze alone, no walk
    (gc_policy.FREEZE_YOUNG_WHILE_POURING), as measured: pouring counted from 100,000 objects a second on both
    sides (the app now counts from 30,000: pourfreeze30)."""
    from kube9_desktop import gc_policy

    gc_policy.FREEZE_YOUNG_WHILE_POURING = on
    gc_policy.POURING_RATE = 100_000


@lever("pourfreeze30")
def _pourfreeze30(on: bool) -> None:
    """pourfreeze, and a load counted as pouring from 30,000 objects a second instead of 100,000 (the pour's first
    collections and a pour beside busy neighbours, 35,000-82,000 a second, were not counted). On in the app since
    3 Dec: the off side is the values before."""
    from kube9_desktop import gc_policy

    gc_policy.FREEZE_YOUNG_WHILE_POURING = on
    gc_policy.POURING_RATE = 30_000 if on else 100_000


@lever("switch")
def _switch(on: bool) -> None:
    """The interpreter's thread switch interval 0.5 ms instead of the app's: the GUI thread waits less for the GIL."""
    import sys as _sys

    from kube9_desktop.kube.gui_gate import SWITCH_INTERVAL_S

    _sys.setswitchinterval(0.0005 if on else SWITCH_INTERVAL_S)


@lever("switch1")
def _switch1(on: bool) -> None:
    """The app's thread switch interval (1 ms) instead of CPython's 5 ms (kube.gui_gate.hand_over_quickly)."""
    import sys as _sys

    from kube9_desktop.kube.gui_gate import SWITCH_INTERVAL_S

    _sys.setswitchinterval(SWITCH_INTERVAL_S if on else 0.005)


@lever("gen1x2")
def _gen1x2(on: bool) -> None:
    """The middle generation collected every 2nd young collection instead of every 5th (fewer survivors each)."""
    t0, _, t2 = gc.get_threshold()
    gc.set_threshold(t0, 2 if on else 5, t2)


@lever("rows")
def _rows(on: bool) -> None:
    """The tree's rows painted a row per Python call (ui/row_paint.py) instead of Qt's cell by cell."""
    from kube9_desktop.ui.row_paint import RowPainter

    RowPainter.enabled = on


_pod_specs: Any = None


@lever("specs")
def _specs(on: bool) -> None:
    """The usage columns' pod requests/limits decoded narrow in the lane (metrics.pod_specs), not as whole dicts."""
    global _pod_specs
    from kube9_desktop.kube import metrics

    if _pod_specs is None:
        _pod_specs = metrics.pod_specs

    def as_dicts(client: Any, namespace: str, page_size: int = 100) -> dict[tuple[str, str], Any]:
        return {(namespace, str(p["metadata"]["name"])): metrics.pod_resources(p)
                for page in metrics.iter_pages(client, f"/api/v1/namespaces/{namespace}/pods", "", "pods", page_size)
                for p in page}

    metrics.pod_specs = _pod_specs if on else as_dicts


def _set_show_rows(rows: int) -> None:
    """Rows a long list shows before the user scrolls on: the model's step and a new node's default window."""
    import inspect

    from kube9_desktop.model.nodes import TreeNode
    from kube9_desktop.model.shown_rows import ShownRowsModel

    ShownRowsModel.show_step = rows
    names = [n for n, p in inspect.signature(TreeNode.__init__).parameters.items()
             if p.default is not inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    defaults = list(TreeNode.__init__.__defaults__ or ())
    defaults[names.index("shown")] = rows
    TreeNode.__init__.__defaults__ = tuple(defaults)


@lever("rows1000")
def _rows1000(on: bool) -> None:
    """Fewer shown rows per layout: 1,000 instead of 2,000."""
    _set_show_rows(1000 if on else 2000)


@lever("rows500")
def _rows500(on: bool) -> None:
    """Fewer shown rows per layout: 500 instead of 2,000."""
    _set_show_rows(500 if on else 2000)


@lever("metricsbatch")
def _metricsbatch(on: bool) -> None:
    """The usage read's PodMetrics decoded 256 at a time, not in one 12-16 ms call holding the GIL."""
    from kube9_desktop.kube import metrics

    metrics.BATCHED = on


@lever("warm")
def _warm(on: bool) -> None:
    """The texts of the rows on screen laid out in the turn between a layout and its paint (RowPainter.warm)."""
    from kube9_desktop.ui.main_window import MainWindow

    MainWindow.warm_before_paint = on


@lever("signals")
def _signals(on: bool) -> None:
    """Fewer change signals: a list no view opened announces its Name cell only, and a last page's count is
    announced once with the load's end (shown_rows.STATUS_OF_REVEALED_ONLY, list_pages.ANNOUNCE_ONCE)."""
    from kube9_desktop.model import list_pages, shown_rows

    shown_rows.STATUS_OF_REVEALED_ONLY = list_pages.ANNOUNCE_ONCE = on


@lever("eighth")
def _eighth(on: bool) -> None:
    """The eighth stop's levers together: metricsbatch, warm, signals."""
    for name in ("metricsbatch", "warm", "signals"):
        LEVERS[name](on)


@lever("usagegc")
def _usagegc(on: bool) -> None:
    """The usage read keeps fewer objects for the collector: no per-container usage in the window's samples, the
    book's cells shared plain tuples on the sample's keys (``usage_gc.py``'s levers ``containers`` and ``book``)."""
    import usage_gc

    usage_gc.LEVERS["both"](on)


@lever("usagegc3")
def _usagegc3(on: bool) -> None:
    """usagegc and keys: every lever of the usage read's collections."""
    import usage_gc

    usage_gc.LEVERS["all"](on)


@lever("keys")
def _keys(on: bool) -> None:
    """A usage poll reuses the last sample's pod keys (metrics.REUSE_KEYS): no new key object a pod a poll."""
    from kube9_desktop.kube import metrics

    metrics.REUSE_KEYS = on


#: Seconds each window stays open after the last row (``--settle``).
SETTLE_S = 0.2
def _steal_ms() -> float:
    """The machine's CPU time stolen by the host so far (``/proc/stat``), ms over all CPUs."""
    try:
        with open("/proc/stat") as f:
            ticks = f.readline().split()
        return int(ticks[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _proc_cpu_ms(pid: int) -> float:
    """A process's CPU time so far (user + system, its ended threads included), ms."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _thread_kind(name: str) -> str:
    """A thread's name without its number: the list workers (``kube9-sim-admin_3``) count as one."""
    return "workers" if name.startswith("kube9-sim-admin_") else name.rstrip("0123456789_-")[:18] or "?"


def window_threads(a: dict[int, tuple[int, int, int]], b: dict[int, tuple[int, int, int]],
                   names: dict[int, str]) -> dict[str, tuple[float, float, int]]:
    """CPU and run-queue wait (ms) between two readings, and times put on a CPU, by kind of thread (threads that
    ended are not in it)."""
    main = threading.main_thread().native_id
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for tid, (r1, w1, n1) in b.items():
        r0, w0, n0 = a.get(tid, (0, 0, 0))
        kind = "GUI" if tid == main else _thread_kind(names.get(tid, "Qt thread 0"))
        out[kind][0] += (r1 - r0) / 1e6
        out[kind][1] += (w1 - w0) / 1e6
        out[kind][2] += n1 - n0
    return {k: (v[0], v[1], int(v[2])) for k, v in out.items()}


async def one_window(sim: SimProcess, ns: str) -> dict[str, Any]:
    """``in_process.open_namespace_in_window`` with the stall monitor and the phases of its worst sample."""
    from kube9_desktop.model.lag import LoopLagMonitor

    PHASES.clear()
    USAGE_READS.clear()
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    s0, steal0, simcpu0, cpu0 = _schedstat(), _steal_ms(), _proc_cpu_ms(sim.pid), time.process_time()
    ends: list[Any] = []  # the readings when the bench's monitor stops: before the window and its threads go
    stop = LoopLagMonitor.stop

    async def stopped(self: LoopLagMonitor) -> None:
        if mon.task is not None:
            mon.task.cancel()  # the probe's samples end with the bench's: not the window's shutdown
        ends.extend((_schedstat(), _steal_ms(), _proc_cpu_ms(sim.pid), time.process_time(), time.perf_counter()))
        names.update({t.native_id: t.name for t in threading.enumerate() if t.native_id is not None})
        await stop(self)

    LoopLagMonitor.stop = stopped  # type: ignore[method-assign]
    mon = StallMonitor()
    mon.task = asyncio.get_event_loop().create_task(mon._run())
    reset = LoopLagMonitor.reset

    def both(self: LoopLagMonitor) -> None:  # the bench's monitor starts counting: so does ours
        reset(self)
        mon.reset()

    LoopLagMonitor.reset = both  # type: ignore[method-assign]
    try:
        r = await in_process.open_namespace_in_window(sim, ns, settle=SETTLE_S)
    finally:
        mon.task.cancel()
        LoopLagMonitor.reset = reset  # type: ignore[method-assign]
        LoopLagMonitor.stop = stop  # type: ignore[method-assign]
    s1, steal1, simcpu1, cpu1, stopped_at = ends
    reads = ", ".join(f"{(a - mon.started) * 1000:.0f}-{(b - mon.started) * 1000:.0f}" for a, b in USAGE_READS)
    by_phase: dict[str, float] = defaultdict(float)  # GUI cpu ms by phase over the window (nested ones overlap)
    for n, _, _, c in PHASES:
        by_phase[n] += c * 1000
    totals = window_threads(s0, s1, names)
    totals["sim (cpu only)"] = (simcpu1 - simcpu0, 0.0, 0)
    totals["process (cpu only)"] = ((cpu1 - cpu0) * 1000, 0.0, 0)
    lag, cpu, proc, t0, t1 = mon.worst
    blag, bcpu, bproc, b0, b1 = mon.busiest
    gcs = [f"{ms}{n[-4:]}" for ms, n in sorted(((round((b - a) * 1000), n) for n, a, b, _ in PHASES
                                                 if n.startswith("gc gen")), reverse=True)]
    fits = sorted(c * 1000 for n, _, _, c in PHASES if n == "column fit")
    paints = [c * 1000 for n, _, _, c in PHASES if n == "view paint"]
    changes = sum(c * 1000 for n, _, _, c in PHASES if n == "model changed")
    starts = [(n[13:], (b - a) * 1000) for n, a, b, _ in PHASES if n.startswith("thread start ")]
    layouts = [c * 1000 for n, _, _, c in PHASES if n == "view layout"]
    # The longest stall once the list's last row is in (the usage columns' read, the count lists' last results).
    after = max((lag for t, lag in mon.samples if (t - mon.started) * 1000 > r["last_row_ms"]), default=0.0)
    # ... and the collections there (the usage read's objects walked: see --settle), GUI CPU ms each.
    last_row = mon.started + r["last_row_ms"] / 1000
    gc_after = [c * 1000 for n, a, _, c in PHASES if n.startswith("gc gen") and a > last_row]
    if GC_SIZES is not None:
        print(f"{'':>16}collections after the last row (ms after it, gen, objects): "
              f"{[(round((t - last_row) * 1000), g, n) for t, g, n in GC_SIZES if t > last_row]}", flush=True)
        GC_SIZES.clear()
    return {**r, "gc_ms": gcs[:3], "worst_at_ms": (t0 - mon.started) * 1000, "fits_cpu_ms": fits,
            "after_last_row_ms": after, "gc_after_cpu_ms": gc_after, "paint_max_cpu_ms": max(paints, default=0.0),
            "layout_max_cpu_ms": max(layouts, default=0.0), "changes_cpu_ms": changes,
            "probe_lag_ms": lag, "probe_cpu_ms": cpu, "probe_proc_ms": proc,
            "phases": breakdown(t0, t1),
            "busiest_cpu_ms": bcpu, "threads": mon.worst_threads, "worst_split": mon.worst_split,
            "worst_steal": mon.worst_steal,
            "thread_starts": starts, "totals": totals, "steal_ms": steal1 - steal0, "usage_reads": reads or "none",
            "monitor_ms": (stopped_at - mon.started) * 1000,
            "by_phase": ", ".join(f"{n} {c:.0f}" for n, c in sorted(by_phase.items(), key=lambda kv: -kv[1])[:12]),
            "busiest": f"lag {blag:.1f}, GUI cpu {bcpu:.1f}, process cpu {bproc:.1f} ms: {breakdown(b0, b1)}"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--windows", type=int, default=6, help="windows per variant (default 6)")
    p.add_argument("--ab", default=None, help=f"a lever to alternate with none: {', '.join(LEVERS)}")
    p.add_argument("--busy", type=int, default=0, choices=(0, 1, 2))
    p.add_argument("--quiet", action="store_true", help="no phase breakdown")
    p.add_argument("--settle", type=float, default=0.2,
                   help="seconds each window stays open after the last row (2.5: the usage read's collections too)")
    p.add_argument("--gc-sizes", action="store_true", help="print the objects of each collection "
                   "after the last row (listing them takes a little time of its own)")
    args = p.parse_args(argv)
    global SETTLE_S, GC_SIZES
    SETTLE_S = args.settle
    GC_SIZES = [] if args.gc_sizes else None
    install_probes()
    sim = SimProcess.start("--pods", str(args.pods + 7), "--namespaces", "2", "--nodes", "5", timeout=300)
    spinners = in_process.Spinners(args.busy)
    qt = in_process.Qt()
    out: dict[str | None, list[float]] = defaultdict(list)
    cpus: dict[str | None, list[float]] = defaultdict(list)
    fits: dict[str | None, list[float]] = defaultdict(list)  # every column fit's GUI cpu ms
    after: dict[str | None, list[float]] = defaultdict(list)  # the longest stall after the last row
    paints: dict[str | None, list[float]] = defaultdict(list)  # each window's longest paint, GUI cpu ms
    changes: dict[str | None, list[float]] = defaultdict(list)  # each window's change signals, GUI cpu ms
    gcs_after: dict[str | None, list[float]] = defaultdict(list)  # every collection after the last row, GUI cpu ms
    gcs_after_sum: dict[str | None, list[float]] = defaultdict(list)  # their sum, a window
    splits: dict[str | None, list[tuple[float, float, float]]] = defaultdict(list)  # worst sample's GUI split
    try:
        qt.run(one_window(sim, "default"))  # first-use costs, left out
        spinners.start()
        variants: list[str | None] = [None, args.ab] if args.ab else [None]
        for i in range(args.windows):
            for v in variants if i % 2 == 0 else variants[::-1]:
                if args.ab:
                    LEVERS[args.ab](v is not None)
                r = qt.run(one_window(sim, "default"))
                out[v].append(r["max_loop_lag_ms"])
                cpus[v].append(r["busiest_cpu_ms"])
                fits[v].extend(r["fits_cpu_ms"])
                after[v].append(r["after_last_row_ms"])
                paints[v].append(r["paint_max_cpu_ms"])
                changes[v].append(r["changes_cpu_ms"])
                gcs_after[v].extend(r["gc_after_cpu_ms"])
                gcs_after_sum[v].append(sum(r["gc_after_cpu_ms"]))
                name = f"with {v}" if v else "without"
                print(f"{name:>14}: stall {r['max_loop_lag_ms']:6.1f} ms at {r['worst_at_ms']:.0f} ms (GUI cpu "
                      f"{r['probe_cpu_ms']:.1f}, process cpu "
                      f"{r['probe_proc_ms']:.1f} in it; busiest GUI sample {r['busiest_cpu_ms']:.1f} cpu); first row "
                      f"{r['first_row_ms']:.0f} ms, last row {r['last_row_ms']:.0f} ms (longest stall after it "
                      f"{r['after_last_row_ms']:.1f} ms); longest collections "
                      f"{r['gc_ms']} ms; {len(r['fits_cpu_ms'])} column fits, longest "
                      f"{max(r['fits_cpu_ms'], default=0):.1f} ms cpu; longest paint "
                      f"{r['paint_max_cpu_ms']:.1f}, layout {r['layout_max_cpu_ms']:.1f} ms cpu; change signals "
                      f"{r['changes_cpu_ms']:.1f} ms cpu; collections after the last row "
                      f"{len(r['gc_after_cpu_ms'])}, {sum(r['gc_after_cpu_ms']):.1f} ms cpu (longest "
                      f"{max(r['gc_after_cpu_ms'], default=0):.1f}); "
                      f"load {os.getloadavg()[0]:.2f}",
                      flush=True)
                if not args.quiet:
                    print(f"{'':>16}worst sample: {r['phases']}", flush=True)
                    print(f"{'':>16}its threads (cpu+queued ms): {r['threads']}", flush=True)
                    print(f"{'':>16}busiest GUI sample: {r['busiest']}", flush=True)
                    tot = ", ".join(f"{k} {c:.0f}+{q:.0f}q" + (f" {n}x" if n else "") for k, (c, q, n) in
                                    sorted(r["totals"].items(), key=lambda kv: -kv[1][0]) if c + q >= 1)
                    print(f"{'':>16}whole window (cpu+queued ms, times on a CPU): {tot}; host steal "
                          f"{r['steal_ms']:.0f} ms",
                          flush=True)
                    print(f"{'':>16}monitored 0-{r['monitor_ms']:.0f} ms; all lists in at {r['all_lists_ms']:.0f} ms; "
                          f"usage reads (ms from the open): {r['usage_reads']}", flush=True)
                    print(f"{'':>16}threads the GUI thread started (wall ms each): "
                          f"{', '.join(f'{n} {ms:.1f}' for n, ms in r['thread_starts']) or 'none'}", flush=True)
                    print(f"{'':>16}GUI cpu by phase (ms, nested overlap): {r['by_phase']}", flush=True)
                gui_run, gui_q, gui_blocked = r["worst_split"]
                splits[v].append(r["worst_split"])
                print(f"{'':>16}worst sample's GUI thread: cpu {gui_run:.1f}, queued {gui_q:.1f}, blocked (GIL or "
                      f"its sleep) {gui_blocked:.1f} ms; host steal in it {r['worst_steal']:.0f} ms", flush=True)
    finally:
        spinners.stop()
        qt.close()
        sim.stop()
    for v, lags in out.items():
        name = f"with {v}" if v else "without"
        print(f"{name:>14}: stall median {statistics.median(lags):.1f} ms, worst {max(lags):.1f} ms (all: "
              f"{', '.join(f'{x:.0f}' for x in lags)}); busiest GUI sample median {statistics.median(cpus[v]):.1f} "
              f"ms cpu, worst {max(cpus[v]):.1f}; column fits {len(fits[v])}, GUI cpu median "
              f"{statistics.median(fits[v] or [0]):.1f} ms, worst {max(fits[v], default=0):.1f}; after the last row "
              f"median {statistics.median(after[v]):.1f}, worst {max(after[v]):.1f} ms; each window's longest paint "
              f"median {statistics.median(paints[v]):.1f}, worst {max(paints[v]):.1f} ms cpu; change signals "
              f"median {statistics.median(changes[v]):.1f} ms cpu a window; collections after the last row "
              f"{len(gcs_after[v])}, a window's median {statistics.median(gcs_after_sum[v]):.1f} ms cpu, each "
              f"median {statistics.median(gcs_after[v] or [0]):.1f}, worst {max(gcs_after[v], default=0):.1f}; "
              f"busy {args.busy}; "
              f"load {os.getloadavg()[0]:.2f}")
        sp = splits[v]
        print(f"{'':>16}worst samples' GUI thread, median: cpu {statistics.median(x[0] for x in sp):.1f}, queued "
              f"{statistics.median(x[1] for x in sp):.1f}, blocked (GIL or its 5 ms sleep) "
              f"{statistics.median(x[2] for x in sp):.1f} ms; summed over windows: cpu {sum(x[0] for x in sp):.0f}, "
              f"queued {sum(x[1] for x in sp):.0f}, blocked {sum(x[2] for x in sp):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
