"""The benchmarks' in-process model: one Qt application and qasync loop, a ``KubeService`` and ``ClusterTreeModel``
on a sim, and the user's moves through the tree (expand, collapse, open a namespace, the top level, the real main
window), timed as the app runs them.

``tree_load.py`` (``make bench``) measures with these; ``window_stall.py``, ``stall_probe.py``, ``cold_trace.py``,
``kinds_bench.py``, ``logs_bench.py``, ``big_cluster.py``, ``column_fit_bench.py`` and ``goals_1_2_5.py`` share
them. Qt, the model and the service are imported when first used, not with this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kube9_desktop.sim.process import SimProcess  # noqa: E402


def _spin() -> None:
    while True:
        pass


class Spinners:
    """``n`` busy neighbour processes, each keeping a core busy while started (the window's stall "with busy
    neighbours": a user's machine runs a browser, an IDE, a build)."""

    def __init__(self, n: int) -> None:
        self._procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]

    def start(self) -> None:
        for p in self._procs:
            p.start()

    def stop(self) -> None:
        """Kill and reap the started ones (safe to call whether or not :meth:`start` ran)."""
        for p in self._procs:
            if p.pid is not None:
                p.kill()
                p.join()


def rss_mb() -> float:
    """This process's resident set size, MiB (``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Qt:
    """One QApplication and qasync loop for every in-process measurement, set up as the app sets itself up: malloc
    arenas capped, garbage collected on the GUI thread only (a collection in a worker would hold the GIL, and so
    the window, for as long as it takes)."""

    def __init__(self) -> None:
        import qasync
        from PySide6.QtWidgets import QApplication

        from kube9_desktop.kube.gui_gate import hand_over_quickly
        from kube9_desktop.memory import limit_malloc_arenas, stop_source_caching
        from kube9_desktop.ui.gc_driver import GcDriver

        limit_malloc_arenas()
        self.app = QApplication.instance() or QApplication([])
        stop_source_caching()
        hand_over_quickly()
        self.collector = GcDriver(parent=self.app)
        self.loop = qasync.QEventLoop(self.app)
        asyncio.set_event_loop(self.loop)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 600) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def close(self) -> None:
        """Stop the loop's worker threads (qasync's default executor) before Qt goes away."""
        self.collector.stop()
        self.loop.close()
        asyncio.set_event_loop(None)


def make_service(sim: SimProcess, backend: str, **options: Any) -> Any:
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    return KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(**options), backend=backend,
                       kubeconfig_path=sim.kubeconfig)


def make_model(svc: Any) -> Any:
    from kube9_desktop.model.tree_model import ClusterTreeModel

    model = ClusterTreeModel()
    model.set_service(svc)
    return model


async def expand(model: Any, path: str) -> bool:
    """Expand the node at ``path`` like the view does (``fetchMore`` when it can); False if there is no such node."""
    node = model.find(path)
    if node is None:
        return False
    model.expand(node)
    await model.wait_idle()
    return True


def collapse(model: Any, path: str) -> None:
    """Collapse the node at ``path`` like the view does (its rows stay loaded)."""
    node = model.find(path)
    if node is not None:
        model.set_expanded(node, False)


def requests_of(svc: Any, contexts: tuple[str, ...] = ("sim-admin",)) -> int:
    return sum(svc.stats(c).requests for c in contexts)


async def open_namespace(model: Any, ns: str, open_row: Callable[[Any], None] | None = None,
                         settle: float = 0.0) -> dict[str, float]:
    """Open ``Namespaces/ns`` and its Workloads/Pods as a user does, Pods as soon as its row is there (while its
    list loads): times to the first pod row views are told of and to the last pod row in the tree, and the worst
    loop stall.

    Args:
        model: The tree model, its context loaded.
        ns: The namespace.
        open_row: Opens one row: a view's expand (default: what a view does, on the model alone).
        settle: Seconds the stall is still watched after the last row (a view's last layout and paint).
    """
    from kube9_desktop.kube.kinds import KINDS
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.model.nodes import NodeType

    expand = open_row or (lambda node: model.expand(node))
    pods_path = f"Namespaces/{ns}/Workloads/Pods"
    marks: dict[str, float] = {}

    def inserted(parent: Any, first: int, last: int) -> None:
        p = model.node(parent)
        if p.type is NodeType.LIST and p.kind is KINDS["pods"] and p.namespace == ns and first < len(p.children) \
                and p.children[first].type is NodeType.OBJECT:
            marks.setdefault("first", time.monotonic())

    def find(path: str) -> Any:
        node = model.find(path)
        assert node is not None, f"no {path} in the tree"
        return node

    model.rowsInserted.connect(inserted)
    monitor = LoopLagMonitor()
    monitor.start()
    await asyncio.sleep(0.02)
    monitor.reset()
    t0 = time.monotonic()
    for path in ("Namespaces", f"Namespaces/{ns}"):
        expand(find(path))
    while model.find(pods_path) is None and time.monotonic() - t0 < 30:
        await asyncio.sleep(0.001)
    for path in (f"Namespaces/{ns}/Workloads", pods_path):
        expand(find(path))
    await model.wait_idle()
    t1 = time.monotonic()
    await asyncio.sleep(settle)
    await monitor.stop()
    model.rowsInserted.disconnect(inserted)
    pods = find(pods_path)
    n = sum(1 for c in pods.children if c.type is NodeType.OBJECT)
    # loaded_at: when the list's last page went into the tree (monotonic clock)
    last = pods.loaded_at if pods.loaded_at >= t0 else t1
    return {"first_row_ms": (marks.get("first", t1) - t0) * 1000, "last_row_ms": (last - t0) * 1000,
            "all_lists_ms": (t1 - t0) * 1000, "rows": n, "max_loop_lag_ms": monitor.max_lag_ms}


async def load_top(model: Any, context: str = "sim-admin") -> dict[str, float]:
    """The model's top-level (depth 2) load of ``context``: load_ms as print-tree measures it, worst loop stall."""
    from kube9_desktop.model.lag import LoopLagMonitor

    monitor = LoopLagMonitor()
    monitor.start()
    await asyncio.sleep(0.02)
    monitor.reset()
    model.reset_timing()
    model.set_context(context, user=False)
    await model.wait_idle()
    await monitor.stop()
    ms = 0.0
    if model.first_load_at is not None and model.last_insert_at is not None:
        ms = (model.last_insert_at - model.first_load_at) * 1000
    return {"load_ms": ms, "max_loop_lag_ms": monitor.max_lag_ms}


@contextlib.asynccontextmanager
async def window_on(sim: SimProcess) -> AsyncIterator[Any]:
    """The real main window (offscreen, 1280x800) on ``sim``'s admin context with its top level loaded, and fresh
    settings; shut down and closed afterwards."""
    import tempfile

    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.ui.main_window import MainWindow

    svc = make_service(sim, "api")
    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(SettingsStore(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)))
        try:
            win.resize(1280, 800)
            win.show()
            win.attach_service(svc, context="sim-admin")
            await win.model.wait_idle()
            yield win
        finally:
            await win.shutdown()
            win.close()
            win.deleteLater()
            await svc.aclose()


async def open_namespace_in_window(sim: SimProcess, ns: str, settle: float = 0.2) -> dict[str, float]:
    """The same namespace opened in the real main window (offscreen, 1280x800), with its Pods list expanded while
    it loads, as a user who opens it at once: the view's layouts and painting are in the loop stall, and ``settle``
    seconds after the last row (the bench's 0.2: its last layout and paint; ~2.5 take in the usage columns' read)."""
    async with window_on(sim) as win:
        return await open_namespace(win.model, ns, win.expand_node, settle=settle)
