"""The log tab against a sim of its own: every control, merged logs, hostile lines, and closing its streams."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from kube9_desktop.kube.log_session import LogSpec
from kube9_desktop.kube.pod_logs import ALL_CONTAINERS, LogOptions
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess
from kube9_desktop.ui.logs_view import LogsView

SIM_ARGS = ("--pods", "120", "--namespaces", "3", "--nodes", "3", "--seed", "9")


def pods(sim: SimProcess) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
    return items


def running(sim: SimProcess, i: int = 0) -> str:
    return str([p["metadata"]["name"] for p in pods(sim) if len(p["spec"]["containers"]) == 1
                and "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})][i])


def make(qtbot: Any, service: KubeService, name: str, kind: str = "pods", **opts: Any) -> LogsView:
    spec = LogSpec("sim-admin", "team-a", kind, name, LogOptions(**{"tail": 1000, **opts}))
    v = LogsView(service, spec, max_lines=opts.pop("max_lines", 100_000) if "max_lines" in opts else 100_000)
    qtbot.addWidget(v, before_close_func=lambda w: w.close_streams())
    v.resize(1100, 500)
    v.show()
    return v


def test_a_pod_log_shows_kubectls_lines_without_control_sequences(qtbot: Any, service: KubeService,
                                                                  module_sim: SimProcess) -> None:
    name = running(module_sim)
    v = make(qtbot, service, name, tail=30)
    qtbot.waitUntil(lambda: v.shown_count == 30, timeout=10000)
    text = v.shown_text()
    assert "\x1b" not in text and len(text.splitlines()) == 30
    assert name in text
    # the raw lines had colours: they became formats, not characters
    assert any("\x1b[" in ln.text for ln in v.session.ring) or "{" in text  # type: ignore[union-attr]
    assert "30 lines" in v.status.text()


def test_controls_restart_or_redraw(qtbot: Any, service: KubeService, module_sim: SimProcess) -> None:
    name = running(module_sim)
    v = make(qtbot, service, name, tail=20)
    qtbot.waitUntil(lambda: v.shown_count == 20, timeout=10000)
    v.timestamps.setChecked(True)
    first = v.shown_text().splitlines()[0]
    assert first[:4].isdigit() and "T" in first.split(" ")[0] and first.split(" ")[0].endswith("Z")
    v.timestamps.setChecked(False)
    v.tail.setValue(5)
    v._tail_changed()
    qtbot.waitUntil(lambda: v.shown_count == 5, timeout=10000)
    v.level.setCurrentIndex(2)  # errors only
    assert all(("ERROR" in ln or "error" in ln) for ln in v.shown_text().splitlines() if ln)
    v.level.setCurrentIndex(0)
    v.json.setCurrentIndex(2)  # fields
    assert not any(ln.startswith("{") for ln in v.shown_text().splitlines())
    v.json.setCurrentIndex(0)
    v.since.setCurrentIndex(1)  # 1m
    v.restart()
    v.tail.setValue(0)
    v._tail_changed()
    qtbot.waitUntil(lambda: v.session is not None and v.session.finished and v.shown_count > 0, timeout=10000)
    assert 10 <= v.shown_count <= 40, "a minute at half a line per second"
    v.wrap.setChecked(True)
    assert v.wrapping
    v.grab()  # paints wrapped rows


def test_find_highlights_all_and_moves(qtbot: Any, service: KubeService, module_sim: SimProcess) -> None:
    v = make(qtbot, service, running(module_sim), tail=200)
    qtbot.waitUntil(lambda: v.shown_count == 200, timeout=10000)
    v.find_edit.setText("seq=1")
    n = v._matches
    assert n >= 11 and v.matches.text() == f"{n:,} matches"  # seq=1, seq=10..19, seq=100.. among the last 200
    v.grab()  # paints the highlights
    v.regex.setChecked(True)
    v.find_edit.setText(r"seq=\d*7$")
    assert 0 < v._matches <= 21
    assert v.find_forward()
    line1 = v.lines_view.current
    assert v.model.plain(line1).rstrip().endswith("7")
    assert v.find_forward() and v.lines_view.current > line1
    assert v.find_backward() and v.lines_view.current == line1
    v.copy()
    assert QGuiApplication.clipboard().text() == v.model.plain(line1)
    v.find_edit.setText("([")
    assert v.matches.text() == "bad pattern"


def test_container_picker_previous_and_errors(qtbot: Any, service: KubeService, module_sim: SimProcess) -> None:
    multi = next(p for p in pods(module_sim) if len(p["spec"]["containers"]) > 1
                 and "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
                 )["metadata"]["name"]
    v = make(qtbot, service, multi, tail=3)
    qtbot.waitUntil(lambda: v.container.findData(ALL_CONTAINERS) >= 0, timeout=10000)
    labels = [v.container.itemText(i) for i in range(v.container.count())]
    assert "init-config (init)" in labels and "metrics" in labels
    v.container.setCurrentIndex(v.container.findData(ALL_CONTAINERS))
    v.restart()
    qtbot.waitUntil(lambda: v.shown_count == 9, timeout=10000)
    assert {ln.split(" ", 1)[0] for ln in v.shown_text().splitlines()} == {"main", "metrics", "init-config"}
    healthy = running(module_sim)
    w = make(qtbot, service, healthy, previous=True)
    qtbot.waitUntil(lambda: w.notice.isVisible(), timeout=10000)
    assert w.notice.text().startswith("No previous log") and "b00020" in w.notice.styleSheet()


def test_merged_deployment_follow_autoscroll_pause_and_close(qtbot: Any, service: KubeService,
                                                            module_sim: SimProcess, tmp_path: Path) -> None:
    deploys = module_sim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments")["items"]
    d = max(deploys, key=lambda d: d["spec"]["replicas"])["metadata"]["name"]
    base = module_sim.stats()["open_connections"]
    module_sim.set_log_rate(10)
    try:
        v = make(qtbot, service, d, kind="deployments", tail=5, follow=True)
        qtbot.waitUntil(lambda: v.session is not None and len(v.session.sources) >= 2
                        and v.shown_count >= 5 * len(v.session.sources), timeout=15000)
        tags = {s.tag for s in v.session.sources}  # type: ignore[union-attr]
        assert all(v.shown_text().splitlines()[i].split(" ", 1)[0] in tags for i in range(5))
        # scrolled up: new lines are counted, not scrolled to
        sb = v.lines_view.verticalScrollBar()
        qtbot.waitUntil(lambda: sb.maximum() > 5, timeout=10000)
        sb.setValue(0)
        qtbot.waitUntil(lambda: v.jump.isVisible(), timeout=10000)
        assert "new lines — jump to end" in v.jump.text() and sb.value() == 0
        v.jump.click()
        assert sb.value() == sb.maximum() and not v.jump.isVisible()
        v.grab()
        qtbot.waitUntil(lambda: module_sim.stats()["open_connections"] >= base + 2, timeout=5000)
        # copy and save are plain text
        v.copy()
        assert "\x1b" not in QGuiApplication.clipboard().text()
        out = tmp_path / "x.log"
        v.save_to(str(out)).join(5)
        saved = out.read_text().splitlines()
        assert len(saved) == len(v.session.ring) and saved[0].startswith("[pod/")  # type: ignore[union-attr]
        t0 = time.monotonic()
        v.close_streams()
        qtbot.waitUntil(lambda: module_sim.stats()["open_connections"] <= base + 1, timeout=5000)
        assert time.monotonic() - t0 < 5
    finally:
        module_sim.set_log_rate(0.5)


def test_ring_bound_in_the_view(qtbot: Any, service: KubeService, module_sim: SimProcess) -> None:
    spec = LogSpec("sim-admin", "team-a", "pods", running(module_sim), LogOptions(tail=None))
    v = LogsView(service, spec, max_lines=50)
    qtbot.addWidget(v, before_close_func=lambda w: w.close_streams())
    qtbot.waitUntil(lambda: v.session is not None and v.session.finished and v.shown_count > 0, timeout=10000)
    qtbot.waitUntil(lambda: not v._timer.isActive(), timeout=5000)
    assert len(v.model) == 50 and len(v.session.ring) == 50  # type: ignore[union-attr]
    assert "older lines dropped (limit 50)" in v.status.text()
    # the text says so too, above the oldest line held
    assert v.model.dropped == v.session.ring.dropped > 0  # type: ignore[union-attr]
    v.lines_view.verticalScrollBar().setValue(0)
    v.grab()
    assert v.lines_view.row_at(v.lines_view.rect().topLeft()) == -1  # the marker row is not a line


def test_l_on_a_pod_opens_a_log_tab_and_quitting_closes_it(qtbot: Any, service: KubeService, module_sim: SimProcess,
                                                           make_window: Any, run: Any) -> None:
    from kube9_desktop.headless import load_tree

    w = make_window(service=service)
    run(load_tree(w.model, 0, ["Namespaces/team-a/Workloads/Pods"], expand_view=w.expand_node))
    name = running(module_sim)
    pods = w.model.find("Namespaces/team-a/Workloads/Pods")
    node = next(c for c in pods.children if c.row is not None and c.row.name == name)
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(node)))
    w.tree.setFocus()
    assert w.commands.shortcut_actions["logs"].shortcut().toString() == "L"
    w.commands.shortcut_actions["logs"].trigger()
    qtbot.waitUntil(lambda: any(isinstance(t, LogsView) for t in w.bottom_dock.tabs()), timeout=10000)
    view = next(t for t in w.bottom_dock.tabs() if isinstance(t, LogsView))
    assert view.windowTitle() == f"Logs {name}"
    qtbot.waitUntil(lambda: view.shown_count > 0, timeout=10000)
    view.follow.setChecked(True)
    qtbot.waitUntil(lambda: view.session is not None and bool(view.session.streams)
                    and not view.session.streams[0].done.is_set() and view.session.streams[0].started, timeout=10000)
    stream = view.session.streams[0]  # type: ignore[union-attr]
    run(w.shutdown())
    stream.thread.join(5)
    assert not stream.thread.is_alive(), "the window's shutdown closed the tab's stream"
