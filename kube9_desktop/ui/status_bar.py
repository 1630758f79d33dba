"""The window's status bar: the context shown, its own load time, requests, cache hit rate and open connections.

Every number is the shown context's: a switch shows that context's last load time (not the previous context's),
its hit rate, and the connections its pools hold open now (a dead cluster attempted 36 and held none).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from kube9_desktop.model.nodes import LoadState, TreeNode

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.tree_model import ClusterTreeModel


class LoadTimes:
    """How long each context's tree took to load (or to fail), measured per context.

    A measurement starts when a context's tree starts loading (first shown, or Refresh) and ends when nothing
    under its root is loading any more; contexts loading in the background are measured on their own.
    """

    def __init__(self) -> None:
        self._pending: dict[str, tuple[TreeNode, float]] = {}
        self._done: dict[str, tuple[float, bool]] = {}

    def start(self, context: str, root: TreeNode) -> None:
        """A load of ``context``'s tree (rooted at ``root``) starts now."""
        self._pending[context] = (root, time.monotonic())

    def pending(self, context: str) -> bool:
        """Whether ``context``'s load is still being measured."""
        return context in self._pending

    def check(self) -> None:
        """End the measurements whose trees finished loading."""
        for ctx, (root, started) in list(self._pending.items()):
            if any(n.state is LoadState.LOADING for n in root.branches()):
                continue
            del self._pending[ctx]
            self._done[ctx] = ((time.monotonic() - started) * 1000.0, root.state is LoadState.FAILED)

    def result(self, context: str) -> tuple[float, bool] | None:
        """``(milliseconds, failed)`` of ``context``'s last finished load, if any."""
        return self._done.get(context)


class StatusBar:
    """The labels of the window's status bar and what they show.

    Args:
        bar: The window's QStatusBar.
        model: The tree model (for the context shown and its live updates).
        service: Returns the window's data service (``None`` before it has one).
    """

    def __init__(self, bar: QStatusBar, model: ClusterTreeModel,
                 service: Callable[[], KubeService | None]) -> None:
        self.bar = bar
        self.model = model
        self.service = service
        self.times = LoadTimes()
        # Loads finish in bursts (a namespace opens twenty lists): the numbers follow at most ten times a second,
        # as each update re-lays out the status bar (up to 15 ms with the stylesheet); and once a second anyway.
        self._soon = QTimer(bar)
        self._soon.setSingleShot(True)
        self._soon.setInterval(100)
        self._soon.timeout.connect(self.update)
        model.activity.connect(self._update_soon)
        self._timer = QTimer(bar)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.update)
        self._timer.start()
        self.context = QLabel("No context")
        self.load = QLabel("")
        self.requests = QLabel("")
        self.cache = QLabel("")
        self.conn = QLabel("")
        self.warning = QLabel("")
        self.warning.setObjectName("statusWarning")
        self.warning.setStyleSheet("color: #b35c00; font-weight: bold;")
        for w in (self.context, self.load, self.requests, self.cache, self.conn):
            bar.addPermanentWidget(w)
        bar.addWidget(self.warning)

    def _update_soon(self) -> None:
        if not self._soon.isActive():
            self._soon.start()

    def stop(self) -> None:
        """Stop updating (the window is closing)."""
        self._timer.stop()
        self._soon.stop()

    def update(self) -> None:
        """Show the current numbers of the context shown."""
        service = self.service()
        ctx = self.model.current_context
        self.context.setText(f"  {ctx}  " if ctx else "No context")
        self.times.check()
        if service is None or ctx is None:
            return
        try:
            stats = service.stats(ctx)
            cache = service.cache_stats(ctx)
        except Exception:  # a context that vanished with a kubeconfig reload: nothing to show for it
            return
        result = self.times.result(ctx)
        if self.times.pending(ctx):
            self.load.setText("Loading…")
        elif result is not None:
            self.load.setText(f"{'Failed after' if result[1] else 'Loaded in'} {result[0]:.0f} ms")
        else:
            self.load.setText("")
        unit = "kubectl runs" if service.backend_name == "kubectl" else "requests"
        self.requests.setText(f"{stats.requests} {unit}")
        self.cache.setText(f"Cache hit rate {cache.hit_rate * 100:.0f}% ({cache.entries} lists)")
        self.conn.setText(f"{stats.open_connections} open connections · {self.model.live.count(ctx)} live")
        self.conn.setToolTip(f"Connections open now, for lists and watches (the list pool opened "
                             f"{stats.connections} since start); live: lists kept current by a watch")
