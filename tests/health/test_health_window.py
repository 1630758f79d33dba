"""The health pages in the window: overview, diagnosis and fleet tabs opened through the registry's commands."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QUrl

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.overview import Ref
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess
from kube9_desktop.ui.health_views import DiagnosisPage, FleetPage, OverviewPage, tree_path
from kube9_desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, hsim: SimProcess, run: Any) -> Any:
    svc = KubeService(load_kubeconfig(hsim.kubeconfig), kubeconfig_path=hsim.kubeconfig)

    def shut_down(w: MainWindow) -> None:
        w.errors.close_all()
        run(w.shutdown())
        run(svc.aclose())

    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    store.set("live/enabled", False)
    w = MainWindow(store)
    qtbot.addWidget(w, before_close_func=shut_down)
    w.resize(1280, 800)
    w.show()
    w.attach_service(svc, context="sim-admin")
    run(w.model.wait_idle())
    return w


async def _until(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.05)


def _tab(window: MainWindow, cls: type) -> Any:
    return next(t for t in window.bottom_dock.tabs() if isinstance(t, cls))


def test_overview_tab_and_its_why_link(window: MainWindow, run: Any) -> None:
    run(window.commands.run_line("overview"))
    page = _tab(window, OverviewPage)
    run(_until(lambda: page.overview is not None))
    html = page.browser.toHtml()
    assert "Failing pods" in html and "crashy-api" in html and "Capacity" in html
    assert page.overview is not None and page.overview.nodes_total == 3
    # The next refresh waits for the page's cost: 15 s, or 20 times what the page took when that is longer.
    assert page.timer.interval() == max(15_000, int(page.overview.elapsed_ms * 20))
    # Opening it again brings the same tab forward (one overview per context).
    run(window.commands.run_line("overview"))
    assert sum(isinstance(t, OverviewPage) for t in window.bottom_dock.tabs()) == 1
    # "Why?" runs the diagnose command, which opens its own tab.
    page._on_link(QUrl("why:scenarios/pod/oom-worker"))
    run(_until(lambda: any(isinstance(t, DiagnosisPage) for t in window.bottom_dock.tabs())))
    diag = _tab(window, DiagnosisPage)
    run(_until(lambda: diag.diagnosis is not None))
    assert diag.diagnosis is not None and diag.diagnosis.findings[0].rule == "crash-loop"
    assert "OOMKilled" in diag.browser.toPlainText() and "Previous log" in diag.browser.toPlainText()


def test_fleet_tab_fills_rows_as_probes_end(window: MainWindow, run: Any) -> None:
    run(window.commands.run_line("fleet --contexts sim-admin,sim-down,fleet-011"))
    page = _tab(window, FleetPage)
    run(_until(lambda: len(page.rows) == 3))
    cells = {page.table.item(r, 0).text(): page.table.item(r, 1).text() for r in range(3)}
    assert cells == {"sim-admin": "yes", "sim-down": "no", "fleet-011": "no"}
    assert "plugin" in page.table.item(2, 7).text()
    page._open(1, 0)  # double-click opens the context
    assert window.current_context() == "sim-down"


def test_tree_paths() -> None:
    assert tree_path(Ref("nodes", None, "node-1")) == "Nodes/node-1"
    assert tree_path(Ref("pods", "team-a", "web-1")) == "Namespaces/team-a/Workloads/Pods/web-1"
    assert tree_path(Ref("persistentvolumeclaims", "a", "data")) == "Namespaces/a/Storage/PersistentVolumeClaims/data"


def test_usage_columns_and_history(window: MainWindow, run: Any, hsim: SimProcess, metrics_mode: Any) -> None:
    from kube9_desktop.headless import load_tree
    from kube9_desktop.model import render

    run(load_tree(window.model, 0, ["Nodes", "Namespaces/scenarios/Workloads/Pods"], expand_view=window.expand_node))
    panel = window.usage
    panel.refresh()
    run(_until(lambda: window.model.usage is not None and bool(window.model.usage.nodes)))
    nodes = window.model.find("Nodes")
    assert nodes is not None
    first = nodes.children[0]
    cpu = window.model.data(window.model.index_of(first, render.COL_CPU))
    mem = window.model.data(window.model.index_of(first, render.COL_MEM))
    assert cpu.endswith("%") and "m " in cpu and ("Mi " in mem or "Gi " in mem), (cpu, mem)
    pods = window.model.find("Namespaces/scenarios/Workloads/Pods")
    assert pods is not None
    ready = next(c for c in pods.children if c.row is not None and c.row.name == "not-ready")

    def pod_percent() -> bool:
        panel.refresh()  # a poll started before the pods list opened read no requests for it
        return str(window.model.data(window.model.index_of(ready, render.COL_CPU))).endswith("%")

    run(_until(pod_percent))  # a pod's usage is a percentage of its limit (or request)
    # The selected node's history is drawn in the details pane.
    window.tree.setCurrentIndex(window._view_index(window.model.index_of(first)))
    assert panel.chart is not None and panel.chart.isVisible()
    series = panel.trackers["sim-admin"].series("nodes", None, first.label)
    if len(series) == 1:  # one sample is a dot (a one-point line draws nothing) until the next poll
        assert "first sample" in panel.chart.caption.text()
        assert first.label not in panel.chart.caption.text()  # the pane's title names it, right above
        assert all(curve.opts["symbol"] == "o" for _, curve, _ in panel.chart.plots)
    else:
        assert "Usage over the last" in panel.chart.caption.text()
        plot, curve, _ = panel.chart.plots[0]
        xs, _ys = curve.getData()
        (x0, x1), _ = plot.viewRange()
        assert x0 == pytest.approx(xs[0]) and x1 == pytest.approx(0)  # the samples span the whole width
    # Metrics gone: said once, on the list row, with the reason as its tooltip; object rows stay empty.
    metrics_mode("absent")
    panel.trackers.clear()
    panel.refresh()
    run(_until(lambda: window.model.usage is not None and window.model.usage.unavailable is not None))
    assert window.model.data(window.model.index_of(nodes, render.COL_CPU)) == "metrics unavailable"
    from PySide6.QtCore import Qt

    assert "not installed" in window.model.data(window.model.index_of(nodes, render.COL_CPU),
                                                Qt.ItemDataRole.ToolTipRole)
    assert window.model.data(window.model.index_of(first, render.COL_CPU)) == ""


def test_selecting_the_context_row_opens_its_overview(window: MainWindow, run: Any) -> None:
    root = window.model.context_node()
    assert root is not None
    window.tree.setCurrentIndex(window._view_index(window.model.index_of(root)))
    run(_until(lambda: any(isinstance(t, OverviewPage) for t in window.bottom_dock.tabs())))
    page = _tab(window, OverviewPage)
    assert page.context == "sim-admin"


def test_a_link_selects_the_object_in_the_tree(window: MainWindow, run: Any) -> None:
    run(window.commands.run_line("overview"))
    page = _tab(window, OverviewPage)
    run(_until(lambda: page.overview is not None))
    page._on_link(QUrl("select:Namespaces/scenarios/Workloads/Pods/crashy-api"))

    def selected() -> bool:
        idx = window.tree.currentIndex()
        node = window.model.node(window.source_index(idx)) if idx.isValid() else None
        return node is not None and node.row is not None and node.row.name == "crashy-api"

    run(_until(selected))


def test_all_clusters_row_above_the_context_opens_the_fleet(window: MainWindow, run: Any, qtbot: Any) -> None:
    # The model with this row passes qtmodeltester in tests/model/test_tree_model.py (as sim-viewer: the tester
    # opens every row, which as sim-admin takes minutes).
    from PySide6.QtCore import QModelIndex, Qt

    from kube9_desktop.model.nodes import NodeType

    model = window.model
    assert model.rowCount(QModelIndex()) == 2
    top, ctx = (model.node(model.index(r, 0, QModelIndex())) for r in range(2))
    assert (top.type, top.label, ctx.type, ctx.context) == (NodeType.FLEET, "All clusters", NodeType.CONTEXT,
                                                              "sim-admin")
    assert model.context_node() is ctx and model.current_context == "sim-admin" and not model.hasChildren(
        model.index(0, 0, QModelIndex()))
    # Paths still start below the context row; refresh still reloads the context.
    node = run(model.reveal_path("Nodes/node-1"))
    assert node is not None and node.row is not None and node.row.name == "node-1"
    assert model.refresh() is True
    run(model.wait_idle(), timeout=90)
    # Selecting the row opens the All clusters tab with every context of the kubeconfig.
    window.tree.setCurrentIndex(window._view_index(model.index_of(top)))
    run(_until(lambda: any(isinstance(t, FleetPage) for t in window.bottom_dock.tabs())))
    page = _tab(window, FleetPage)
    assert page.contexts == window.service.kubeconfig.names()  # type: ignore[union-attr]
    assert window.details.title.text() == "All clusters"
    row = page.contexts.index("sim-cert")
    run(_until(lambda: "sim-cert" in page.rows))
    # A click on a context's name switches to it; the All clusters row stays on top.
    rect = page.table.visualItemRect(page.table.item(row, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    run(_until(lambda: window.current_context() == "sim-cert"))
    assert window.context_box.currentText() == "sim-cert"
    assert model.node(model.index(0, 0, QModelIndex())) is top
    assert model.node(model.index(1, 0, QModelIndex())).context == "sim-cert"
    assert model.context_node() is not None and model.context_node().context == "sim-cert"  # type: ignore[union-attr]


def test_usage_waits_for_an_open_list_to_arrive_and_reads_its_namespace_only(window: MainWindow, run: Any) -> None:
    """No usage poll while an open list's pages still arrive (it would parse beside them, sharing the GIL with the
    window); once in, the poll reads the pods' metrics of the namespace shown, not the cluster's."""
    from kube9_desktop.headless import load_tree
    from kube9_desktop.model.nodes import LoadState

    run(load_tree(window.model, 0, ["Namespaces/scenarios/Workloads/Pods"], expand_view=window.expand_node))
    panel = window.usage
    run(_until(lambda: not panel._tasks))  # a poll the expansion started is over
    pods = window.model.find("Namespaces/scenarios/Workloads/Pods")
    assert pods is not None
    polls = panel.polls
    pods.state = LoadState.LOADING  # as while its pages arrive
    panel.refresh()
    assert not panel._tasks and panel._soon.isActive()  # asked again shortly, not now
    pods.state = LoadState.LOADED
    panel.refresh()
    run(_until(lambda: panel.polls > polls))
    sample = panel.trackers["sim-admin"].latest
    assert sample is not None and sample.scope == frozenset({"scenarios"})
    assert sample.pods and {ns for ns, _ in sample.pods} == {"scenarios"}


def test_usage_chart_spans_the_samples_it_has(qtbot: Any) -> None:
    """Two samples 15 s apart drew a short line against the right edge of a one-minute plot, under a caption that
    repeated the pane's title; the x axis now covers the samples and the caption what they cover."""
    import time

    from kube9_desktop.kube.metrics import Usage
    from kube9_desktop.ui.usage_panel import UsageChart

    chart = UsageChart()
    qtbot.addWidget(chart)
    now = time.time()
    chart.show_series("Pod api-1", [(now - 30, Usage(100, 2**20)), (now - 15, Usage(120, 2**21)),
                                    (now, Usage(90, 2**20))])
    assert chart.caption.text().startswith("Usage over the last 30 s (3 samples") and "api-1" not in \
        chart.caption.text()
    for plot, curve, _label in chart.plots:
        xs, _ = curve.getData()
        (x0, x1), _ = plot.viewRange()
        assert x0 == pytest.approx(xs[0], abs=1e-3) and x1 == pytest.approx(0, abs=1e-3)
    assert chart.plots[0][2].text() == "CPU 90m (min 90m, max 120m)"
    chart.show_series("Pod api-1", [(now - 600, Usage(1, 1)), (now, Usage(2, 2))])
    assert "last 10 min (2 samples" in chart.caption.text()


def test_closing_the_window_waits_for_a_running_usage_read_and_shows_nothing(window: MainWindow, run: Any) -> None:
    """A poll's read runs in a worker thread that cancelling its task does not stop: the window's shutdown waits for
    it (it parsed ~0.5 s of a 10,000-pod namespace's specs into the next window's first second), and what it read
    is not shown on the closing window; no poll starts after."""
    import threading

    from kube9_desktop.headless import load_tree

    run(load_tree(window.model, 0, ["Namespaces/scenarios/Workloads/Pods"], expand_view=window.expand_node))
    panel = window.usage
    run(_until(lambda: not panel._tasks))
    release = threading.Event()
    read = panel._read

    def slow_read(*args: Any) -> Any:
        release.wait(10)  # the read is still running when the window closes
        return read(*args)

    panel._read = slow_read  # type: ignore[method-assign]
    polls, book = panel.polls, window.model.usage
    panel.refresh()
    assert panel._tasks, "a poll is running"
    panel.shutdown()
    threading.Timer(0.3, release.set).start()
    run(panel.finish())
    assert not panel._tasks and panel.polls == polls + 1, "shutdown waited for the read to end"
    assert window.model.usage is book, "what the read got is not shown on the closing window"
    panel.refresh()
    assert not panel._tasks, "no poll after shutdown"
