"""CPU/Memory usage in the window: the tree's usage columns, refreshed every 15 s only while the window shows a list
that has them, and a 15-minute history of the selected node or pod drawn in the details pane.

The history is plotted with pyqtgraph: it draws on PySide6-Essentials (QtCharts would need PySide6-Addons, a few
hundred MB more installed) and is a ~10 MB pure-Python package on numpy; it is imported the first time a chart is
shown, so start-up does not pay for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.metrics import (
    MetricsTracker,
    Resources,
    Unavailable,
    Usage,
    format_cpu,
    format_memory,
    node_allocatable,
)
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.usage import WORKLOAD_KINDS, UsageBook

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

REFRESH_MS = 15_000
#: Seconds the nodes' allocatable and the pods' requests/limits are reused (they change rarely; usage never is).
SPEC_TTL_S = 300.0
#: Whole pods a request when their requests and limits are read: a page of them is ~40 objects a pod, alive while it
#: is read, and a young collection on the GUI thread meanwhile walked them all (500 pods: 14-19 ms).
SPEC_PAGE = 100
#: The window's samples keep each pod's per-container usage (nothing here reads it; True: the bench's A/B).
CONTAINERS = False
_USAGE_KINDS = frozenset({"nodes", "pods"}) | WORKLOAD_KINDS


def _pod_scope(lists: list[TreeNode]) -> frozenset[str] | None:
    """The namespaces whose pods' usage the open ``lists`` show (a workload's is its pods'); ``None``: every one.

    A list across namespaces (``All namespaces``) needs them all; a window showing one namespace of a 150,000-pod
    cluster reads that namespace's pods' metrics, not the cluster's.
    """
    scope: set[str] = set()
    for n in lists:
        if n.kind is None or n.kind.key == "nodes":
            continue
        if n.ref is None or not n.ref.namespace:
            return None
        scope.add(n.ref.namespace)
    return frozenset(scope)


class UsageChart(QWidget):
    """Two sparklines (CPU, memory) of one object's last 15 minutes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg  # here, not at module import: the window starts without numpy and pyqtgraph

        pg.setConfigOptions(antialias=True, background=None, foreground="#6b7280")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.caption = QLabel()
        self.caption.setWordWrap(True)  # the pane may be narrower than the caption (it was cut mid-word)
        lay.addWidget(self.caption)
        self.plots = []
        for colour in ("#5b8def", "#2e9d4c"):
            w = pg.PlotWidget()
            w.setFixedHeight(40)
            w.hideAxis("bottom")
            w.hideAxis("left")  # a sparkline: the caption carries the figures
            w.setMouseEnabled(x=False, y=False)
            w.hideButtons()
            curve = w.plot(pen=pg.mkPen(colour, width=2), fillLevel=0, brush=pg.mkBrush(colour + "33"))
            label = QLabel()
            self.plots.append((w, curve, label))
            lay.addWidget(label)
            lay.addWidget(w)

    def show_series(self, title: str, series: list[tuple[float, Usage]]) -> None:
        """Plot ``series`` (oldest first); x is minutes before now, over the history so far (at most 15 min)."""
        now = time.time()
        xs = [(t - now) / 60 for t, _ in series]
        cpu = [u.cpu for _, u in series]
        mem = [u.memory for _, u in series]
        # The pane's title right above names the object: the caption says only what the lines cover.
        self.setToolTip(title)
        if len(series) > 1:
            secs = -xs[0] * 60
            covered = f"{round(secs)} s" if secs < 90 else f"{round(secs / 60)} min"
            self.caption.setText(f"Usage over the last {covered} ({len(series)} samples, one every 15 s)")
        else:
            self.caption.setText("Usage: first sample; the history grows every 15 s")
        # The x axis spans the samples there are (not a fixed minute): two samples 15 s apart drew a short line
        # squeezed against the right edge of an empty plot.
        span = -xs[0] if xs and xs[0] < 0 else 1.0
        for (w, curve, label), ys, fmt, name in zip(self.plots, (cpu, mem), (format_cpu, format_memory),
                                                     ("CPU", "Memory"), strict=True):
            # One sample is no line (a line needs two points): it is drawn as a dot at "now" until the next one.
            colour = curve.opts["pen"].color()
            curve.setData(xs, ys, symbol="o" if len(ys) == 1 else None, symbolSize=7, symbolPen=None,
                          symbolBrush=colour)
            w.setXRange(-span, 0, padding=0)
            w.setYRange(0, max(ys) * 1.15 if ys and max(ys) > 0 else 1, padding=0)
            if ys:
                label.setText(f"{name} {fmt(ys[-1])} (min {fmt(min(ys))}, max {fmt(max(ys))})")


#: The tree must be at least this wide to show the usage columns: narrower, names keep the width (issue 14 item 21)
#: and the selection's history in the details pane still shows usage.
MIN_TREE_WIDTH = 700


class UsagePanel(QObject):
    """Owns the metrics trackers of the window's contexts, the refresh timer and the details pane's chart."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.trackers: dict[str, MetricsTracker] = {}
        self._alloc: dict[str, tuple[float, dict[str, Usage]]] = {}
        self._res: dict[tuple[str, str], tuple[float, dict[tuple[str, str], Resources]]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self.chart: UsageChart | None = None
        self._last_context: TreeNode | None = None
        self._tasks_ui: set[asyncio.Future[Any]] = set()
        self._closing = False  # shutdown() was called: a poll ending shows nothing
        self.timer = QTimer(window)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.polls = 0
        # A list opened (or a context shown) gets its figures soon, not at the next tick.
        self._soon = QTimer(window)
        self._soon.setSingleShot(True)
        self._soon.setInterval(300)
        self._soon.timeout.connect(self.refresh)
        window.tree.expanded.connect(lambda _i: self._soon.start())
        window.tree.installEventFilter(self)
        self.sync_columns()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """The tree was resized: show or hide the usage columns."""
        if event.type() == QEvent.Type.Resize:
            self.sync_columns()
        return False

    def sync_columns(self) -> None:
        """Usage columns only with figures (or a reason) to show and room for them beside whole names."""
        from kube9_desktop.model import render

        book = self.window.model.usage
        has = book is not None and (book.unavailable is not None or bool(book.nodes or book.pods))
        show = has and self.window.tree.width() >= MIN_TREE_WIDTH
        header = self.window.tree.header()
        for col in render.USAGE_COLUMNS:
            hidden = not show or (col == render.COL_MEM and book is not None and book.unavailable is not None)
            if header.isSectionHidden(col) != hidden:
                header.setSectionHidden(col, hidden)

    def refresh_soon(self) -> None:
        """Refresh shortly (coalesced): the context changed or a list opened."""
        self._soon.start()

    # -- what is shown -------------------------------------------------------------------------------------------
    def shown_lists(self) -> list[TreeNode]:
        """The open lists of the shown context whose rows have usage columns."""
        root = self.window.model.context_node()
        if root is None:
            return []
        return [n for n in root.branches() if n.type is NodeType.LIST and n.expanded and n.kind is not None
                and n.kind.key in _USAGE_KINDS]

    def refresh(self) -> None:
        """One refresh, if the window is on screen, shows a list with usage and no poll is running."""
        w = self.window
        if self._closing or self._tasks or not w.isVisible() or w.isMinimized() or w.service is None:
            return
        ctx = w.current_context()
        lists = self.shown_lists()
        if ctx is None or not lists:
            return
        if any(n.state is LoadState.LOADING for n in lists):
            # Not while an open list is still arriving: the metrics and the pods' specs would be parsed beside
            # its pages (the worker threads share the GIL with the window) and the figures land on rows that are
            # being inserted. Once it is in, the figures follow within a moment.
            self._soon.start()
            return
        namespaces = sorted({n.ref.namespace for n in lists if n.kind is not None and n.kind.key == "pods"
                             and n.ref is not None and n.ref.namespace})
        task = asyncio.ensure_future(self._poll(ctx, namespaces, _pod_scope(lists)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self, ctx: str, namespaces: list[str], scope: frozenset[str] | None) -> None:
        service = self.window.service
        if service is None:
            return
        try:
            # The book is built in the worker too: a figure per pod of the sample is string formatting that held
            # the window ~50 ms for 10,000 pods when it ran on the GUI thread.
            book = await asyncio.to_thread(self._read, service, ctx, namespaces, scope)
        except KubeError as err:
            book = UsageBook.build(ctx, Unavailable(f"metrics could not be read: {err.message}"), {}, {})
        self.polls += 1
        if self._closing or self.window.current_context() != ctx:
            return
        self.window.model.set_usage(book)
        self.sync_columns()
        self.show_selected()

    def _read(self, service: Any, ctx: str, namespaces: list[str], scope: frozenset[str] | None) -> UsageBook:
        """Worker thread: the figures from a sample (or the reason), the nodes' allocatable, the shown pods'
        requests/limits; pods' usage of the namespaces in ``scope`` only (``None``: every namespace)."""
        from kube9_desktop.kube import metrics
        from kube9_desktop.kube.metrics import api_client, iter_pages, pod_specs

        tracker = self.trackers.get(ctx)
        if tracker is None:
            tracker = self.trackers[ctx] = MetricsTracker(api_client(service, ctx), containers=CONTAINERS)
        got = tracker.poll(namespaces=scope)
        if isinstance(got, Unavailable):
            return UsageBook.build(ctx, got, {}, {})
        now = time.time()
        cached = self._alloc.get(ctx)
        if cached is None or now - cached[0] > SPEC_TTL_S:
            # Page by page: only the allocatable of each node is kept (5,000 nodes as objects are ~100 MB).
            alloc = {str(n["metadata"]["name"]): node_allocatable(n)
                     for page in iter_pages(tracker.client, "/api/v1/nodes", "", "nodes") for n in page}
            cached = self._alloc[ctx] = (now, alloc)
        res: dict[tuple[str, str], Resources] = {}
        keys = None
        for ns in namespaces:
            entry = self._res.get((ctx, ns))
            if entry is None or now - entry[0] > SPEC_TTL_S:
                if keys is None:  # the specs keyed by the sample's own keys: no second key object per pod
                    keys = {k: k for k in got.pods} if metrics.REUSE_KEYS else {}
                entry = self._res[(ctx, ns)] = (now, pod_specs(tracker.client, ns, SPEC_PAGE, keys))
            res.update(entry[1])
        return UsageBook.build(ctx, got, cached[1], res)

    # -- the details pane's chart ----------------------------------------------------------------------------------
    def show_selected(self, index: QModelIndex | None = None) -> None:
        """Show the history of the selected node or pod under the details pane's title (hide it otherwise)."""
        w = self.window
        idx = index if index is not None else w.tree.currentIndex()
        node = w.model.node(w.source_index(idx)) if idx is not None and idx.isValid() else None
        ctx = w.current_context()
        page = {NodeType.CONTEXT: "overview", NodeType.FLEET: "fleet"}
        if index is not None and node is not None and node.type in page and node is not self._last_context:
            # Selecting the cluster's own row opens its overview, the "All clusters" row the fleet (through the
            # registry, like the menu does).
            self._last_context = node
            task = asyncio.ensure_future(w.commands.run_line(page[node.type]))
            self._tasks_ui.add(task)
            task.add_done_callback(self._tasks_ui.discard)
        elif index is not None and node is not None and node.type not in page:
            self._last_context = None
        tracker = self.trackers.get(ctx or "")
        if node is None or node.row is None or node.kind is None or node.kind.key not in ("nodes", "pods") \
                or tracker is None:
            if self.chart is not None:
                self.chart.hide()
            return
        series = tracker.series(node.kind.key, node.row.namespace, node.row.name)
        if not series:
            if self.chart is not None:
                self.chart.hide()
            return
        if self.chart is None:
            try:
                self.chart = UsageChart(w.details)
            except ImportError:  # pyqtgraph missing: the columns still work
                log.warning("pyqtgraph is not installed: no usage history chart")
                return
            layout = w.details.layout()
            if isinstance(layout, QVBoxLayout):
                layout.insertWidget(1, self.chart)
        self.chart.show_series(f"{node.kind.kind} {node.row.name}", series)
        self.chart.show()

    def shutdown(self) -> None:
        """Stop the timers; a poll running is left to finish its read (see :meth:`finish`) and shows nothing."""
        self._closing = True
        self.timer.stop()
        self._soon.stop()
        for t in self._tasks_ui:
            t.cancel()

    async def finish(self, timeout: float = 5.0) -> None:
        """Wait for a running poll's read (after :meth:`shutdown`).

        Cancelling the task awaiting it does not stop the worker thread: a read of a 10,000-pod namespace's pod
        specs went on parsing (~0.5 s of CPU) after its window had closed, in the next window's first second
        (``window_stall.py``: one window in three twice as slow). The read's requests have deadlines; what is
        still running after ``timeout`` is cancelled as before.
        """
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for t in self._tasks:
            t.cancel()
