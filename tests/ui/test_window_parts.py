"""The window's parts against a running kube9-sim (issue 14 items 17, 21, 22, 23, 26): one inline notice per burst
of errors with bounded texts and no modal dialog; Name takes the spare width and the filter survives a narrow
window; the status bar's numbers belong to the context shown; Esc, the right-click Refresh and the menu bar."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialog, QToolButton, QTreeView

from kube9_desktop import __version__, logs
from kube9_desktop.config.store import SettingsStore
from kube9_desktop.headless import load_tree
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.column_fit import MIN_SECTION
from kube9_desktop.ui.main_window import MainWindow


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path, run: Any) -> Any:
    made: list[tuple[MainWindow, KubeService]] = []

    def make(paths: list[str], context: str | None = "sim-admin", width: int = 1280) -> MainWindow:
        w = MainWindow(SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
        svc = KubeService(load_kubeconfig(paths[0], extra_paths=paths[1:]), kubeconfig_path=paths[0])

        def shut_down(win: MainWindow) -> None:
            win.errors.close_all()
            run(win.shutdown())
            run(svc.aclose())

        qtbot.addWidget(w, before_close_func=shut_down)
        w.resize(width, 700)
        w.show()
        w.attach_service(svc, context=context)
        run(w.model.wait_idle())
        made.append((w, svc))
        return w

    return make


def dialogs_on_screen() -> list[QDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def expand(window: MainWindow, run: Any, path: str) -> TreeNode:
    run(load_tree(window.model, 0, [path], expand_view=window.expand_node))
    node = window.model.find(path)
    assert node is not None, path
    window.expand_node(node)
    return node


def _kubeconfig(tmp_path: Path, name: str, contexts: list[dict[str, Any]]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "contexts": contexts,
                                    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                                    "users": [{"name": "u", "user": {"token": "t"}}]}))
    return str(path)


# ---------------------------------------------------------------------------------------------- 17, 22: notices

def test_300_broken_contexts_make_one_notice_not_300_dialogs(sim: Any, make_window: Any, tmp_path: Path) -> None:
    broken = _kubeconfig(tmp_path, "broken", [{"name": f"broken-{i}", "context": {"cluster": f"gone-{i}",
                                                                                   "user": "u"}}
                                              for i in range(300)])
    window = make_window([sim.kubeconfig, broken])
    assert dialogs_on_screen() == []
    notices = window.errors.visible()
    assert len(notices) == 1
    assert "broken-0" in notices[0].message_label.text()
    assert "299 other problems" in notices[0].count_label.text()
    details = window.errors.open_details()
    assert details is not None and not details.isModal()
    text = details.text.toPlainText()
    assert "broken-49" in text and "broken-50'" not in text and "… and 250 more." in text
    assert len(text) < 60_000


def test_a_huge_kubeconfig_makes_a_bounded_hint(sim: Any, make_window: Any, tmp_path: Path) -> None:
    """1,000 contexts of 200-character names (200 KB of names, like the 20,000-context file that made a 209 KB
    hint): the unknown-context notice lists a few and says how many more."""
    many = _kubeconfig(tmp_path, "many", [{"name": f"ctx-{i:04d}-" + "x" * 191, "context": {"cluster": "c",
                                                                                           "user": "u"}}
                                          for i in range(1000)])
    window = make_window([many], context="no-such-context")
    notice = window.errors.visible()[0]
    assert notice.error.title == "Unknown context"
    hint = notice.hint_label.text()
    assert len(hint) <= 500 and "ctx-0000-" in hint and "more" in hint, hint
    assert "1,000" in notice.error.hint or "990 more" in notice.error.hint
    assert len(notice.error.hint) < 1500
    details = window.errors.open_details()
    assert details is not None and len(details.text.toPlainText()) < 10_000


def test_errors_of_the_users_actions_open_no_dialog_and_count_up(sim: Any, make_window: Any, run: Any,
                                                                   qtbot: Any) -> None:
    window = make_window([sim.kubeconfig])
    window.context_box.setCurrentText("sim-down")  # the user's own action
    run(window.model.wait_idle())
    assert dialogs_on_screen() == [] and QApplication.activeModalWidget() is None
    assert [n.message_label.text() for n in window.errors.visible()] and \
        "refused" in window.errors.visible()[0].message_label.text()
    for _ in range(3):  # Refresh, three times: the same notice counts up, no new one
        window.refresh_action.trigger()
        run(window.model.wait_idle())
    notices = window.errors.visible()
    assert len(notices) == 1 and notices[0].count >= 4 and "times" in notices[0].count_label.text()
    assert dialogs_on_screen() == []
    # The window stays usable: Details opens a window that blocks nothing, and switching away works.
    details = window.errors.open_details()
    assert details is not None and details.isVisible() and not details.isModal()
    assert QApplication.activeModalWidget() is None
    window.context_box.setCurrentText("sim-admin")
    run(window.model.wait_idle())
    assert window.model.current_context == "sim-admin"
    assert window.errors.visible() == []  # a notice about sim-down alone goes when sim-down is left


# ---------------------------------------------------------------------------------------------- 21: narrow windows

def test_name_takes_the_spare_width_and_other_columns_fit(sim: Any, make_window: Any, run: Any,
                                                           qtbot: Any) -> None:
    window = make_window([sim.kubeconfig], width=800)
    expand(window, run, "Namespaces/team-a/Workloads/Pods")
    tree, header = window.tree, window.tree.header()
    fits = window.column_fit.fits
    # A paint schedules a fit: the rows' own first paint may have been fitted already while expand() ran (a
    # loaded machine), and then nothing repaints on its own.
    tree.viewport().update()
    qtbot.waitUntil(lambda: window.column_fit.fits > fits, timeout=3000)
    qtbot.wait(300)  # a fit that changed widths repaints, and fits once more
    for col in (render.COL_STATUS, render.COL_READY, render.COL_RESTARTS, render.COL_AGE):
        fit = max(tree.sizeHintForColumn(col), header.sectionSizeHint(col))
        assert header.sectionSize(col) == fit, (col, header.sectionSize(col), fit)
    # At 800 px every pod name on screen is shown whole (the columns used to keep 370 px and leave Name 90).
    pods = window.model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None
    need = max(_whole_width(tree, window._view_index(window.model.index_of(c))) for c in pods.children[:10])
    assert need <= header.sectionSize(render.COL_NAME), (need, header.sectionSize(render.COL_NAME))


def test_deployment_names_stay_whole_beside_the_kind_and_usage_columns(sim: Any, make_window: Any, run: Any,
                                                                        qtbot: Any) -> None:
    """Deployments add three kind columns and the usage columns their sums: at 1280 px with the details pane the
    names showed as "…" (the fitted columns took all the width); now the widest columns give way to Name. (Here
    with a wider details pane: this sim's short values leave more room than the demo's.)"""
    window = make_window([sim.kubeconfig], width=1280)
    window.splitter.setSizes([560, 720])  # the user widened the details pane
    deps = expand(window, run, "Namespaces/team-a/Workloads/Deployments")
    tree, header = window.tree, window.tree.header()
    window.tree.setCurrentIndex(window.model.index_of(deps.children[0]))
    qtbot.wait(300)  # painted with the sums
    window.column_fit.fit()
    need = max(_whole_width(tree, window._view_index(window.model.index_of(c))) for c in deps.children[:10])
    assert need <= header.sectionSize(render.COL_NAME), (need, header.sectionSize(render.COL_NAME))
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= tree.viewport().width() + 1  # no column pushed out
    # A name too long for its column keeps its distinguishing tail (generated names differ at the end).
    assert tree.textElideMode() == Qt.TextElideMode.ElideMiddle


def _whole_width(tree: QTreeView, index: QModelIndex) -> int:
    """The Name width that shows the row at ``index`` unelided by Qt's own measure: its indentation and the view's
    size hint for the cell (icon, margins and text), which is 8 px more than the fonts' width + 16 + 8."""
    return tree.visualRect(index).left() + tree.sizeHintForIndex(index).width()


def _rows_on_screen(window: MainWindow, parent: TreeNode) -> list[tuple[int, str, int]]:
    """``(left, label, whole)`` of ``parent``'s child rows on screen: ``left`` their indentation, ``whole`` the
    Name width that shows the label unelided by Qt's own measure (icon, margins and text)."""
    tree = window.tree
    rows = []
    index = tree.indexAt(tree.viewport().rect().topLeft())
    while index.isValid() and tree.visualRect(index).top() < tree.viewport().height():
        node = window.model.node(window.source_index(index))
        if node.parent is parent:
            left = tree.visualRect(index).left()
            rows.append((left, node.label, _whole_width(tree, index)))
        index = tree.indexBelow(index)
    return rows


def test_pod_names_stay_whole_with_deployments_open_too(sim: Any, make_window: Any, run: Any,
                                                        qtbot: Any) -> None:
    """At 800 px with Pods and then Deployments open, the header names the Deployments' columns: "Up-to-date" and
    "Available" have one-digit or no cells on the pod rows, and kept their titles' 170 px while the pod names
    showed as "sche…j8mk" (Name at 200 px). Now the titles elide to the cells (the tooltip has them) first."""
    window = make_window([sim.kubeconfig], width=800)
    pods = expand(window, run, "Namespaces/team-a/Workloads/Pods")
    deps = expand(window, run, "Namespaces/team-a/Workloads/Deployments")
    tree, header = window.tree, window.tree.header()
    tree.setCurrentIndex(window._view_index(window.model.index_of(deps)))  # the user opened it: its columns
    assert window.model.headerData(render.COL_KIND + 2, Qt.Orientation.Horizontal) == "Available"
    fits = window.column_fit.fits
    tree.viewport().update()
    qtbot.waitUntil(lambda: window.column_fit.fits > fits and not window.column_fit.pending, timeout=5000)
    window.column_fit.fit()  # the rows on screen now (a fit's repaint may have scrolled nothing, but be sure)
    rows = _rows_on_screen(window, pods)
    assert len(rows) >= 10, rows
    fm = tree.fontMetrics()
    name = header.sectionSize(render.COL_NAME)
    need = max(left + 16 + 8 + fm.horizontalAdvance(label) for left, label, _whole in rows)
    assert need <= name, (need, name)
    # The kind columns are as wide as their cells, narrower than their titles, which the tooltips say whole.
    cells = window.column_fit.widths(render.KIND_COLUMNS[:3])
    for col in render.KIND_COLUMNS[:3]:
        assert header.sectionSize(col) == cells[col] < header.sectionSizeHint(col), col
        title = window.model.headerData(col, Qt.Orientation.Horizontal)
        assert window.tree.model().headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == title
    assert header.textElideMode() == Qt.TextElideMode.ElideRight  # "Avail…", not a clipped "Av"
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    others = [c for c in shown if c != render.COL_NAME]
    assert sum(header.sectionSize(c) for c in shown) <= tree.viewport().width() + 1
    # By Qt's own measure (8 px more than the fonts' width above) a name still elided is one for which no column
    # has anything left to give: every other one is as narrow as its cells and Name has the rest. (Here the two
    # longest "scheduler-…" names lack 5 px: Status holds "CrashLoopBackOff".)
    fitted = window.column_fit.widths(tuple(others))
    if any(whole > name for _left, _label, whole in rows):
        assert all(header.sectionSize(c) == max(fitted[c], MIN_SECTION) for c in others)
        assert name == tree.viewport().width() - sum(header.sectionSize(c) for c in others)


def test_usage_columns_come_in_fitted(sim: Any, make_window: Any, run: Any, qtbot: Any) -> None:
    """The CPU and Memory columns appear when the first figures arrive: they came back at the header's default
    width and Name stretched into what was left (~150 px at 800 px) until the next fit, up to 1 s later."""
    window = make_window([sim.kubeconfig])
    tree, header = window.tree, window.tree.header()
    assert header.isSectionHidden(render.COL_CPU)
    expand(window, run, "Namespaces/team-a/Workloads/Pods")
    # Checked as soon as the columns are shown (the fit must come with them, not after a timer).
    qtbot.waitUntil(lambda: not header.isSectionHidden(render.COL_CPU), timeout=30000)
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    widths = {c: header.sectionSize(c) for c in shown}
    window.column_fit.fit()  # a fit now changes nothing: it was made
    assert {c: header.sectionSize(c) for c in shown} == widths
    assert sum(widths.values()) <= tree.viewport().width() + 1


def test_share_gives_narrow_columns_their_width_and_splits_the_rest() -> None:
    from kube9_desktop.ui.column_fit import MIN_COLUMN, name_floor, name_width, share

    assert share({1: 50, 2: 80}, 500) == {1: 50, 2: 80}
    assert share({1: 50, 2: 300, 3: 400}, 450) == {1: 50, 2: 200, 3: 200}
    assert share({1: 400, 2: 400}, 20) == {1: MIN_COLUMN, 2: MIN_COLUMN}
    assert share({1: 130, 2: 300, 3: 400}, 450, keep=(1,)) == {1: 130, 2: 160, 3: 160}  # Status stays whole
    assert share({1: 400, 2: 100}, 300, keep=(1,)) == {1: 150, 2: 100}  # ... up to half the room
    assert name_width(100, 760) == 100 and name_width(500, 760) == 304 and name_width(500, 450) == 200
    assert name_floor(100, 760) == 100 and name_floor(500, 760) == 253 and name_floor(500, 450) == 200


def test_fit_widths_elides_titles_before_names() -> None:
    from kube9_desktop.ui.column_fit import fit_widths

    cells, titles = {1: 144, 2: 30, 3: 18}, {1: 61, 2: 59, 3: 79}
    assert fit_widths(cells, titles, 300, 600) == (300, {1: 144, 2: 59, 3: 79})  # room for every title
    assert fit_widths(cells, titles, 300, 520) == (300, {1: 144, 2: 44, 3: 32})  # the titles share what is left
    assert fit_widths(cells, titles, 311, 500) == (200, {1: 144, 2: 30, 3: 18})  # none: Name takes the rest
    assert fit_widths(cells, titles, 311, 300) == (200, {1: 52, 2: 30, 3: 18})  # then the widest cells give way


def test_a_narrow_window_overflows_the_toolbar_and_keeps_the_filter(sim: Any, make_window: Any, run: Any,
                                                                      qtbot: Any) -> None:
    window = make_window([sim.kubeconfig], width=420)
    team = expand(window, run, "Namespaces/team-a")
    qtbot.wait(50)
    ext = window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is not None and ext.isVisible()  # the » menu holds what does not fit
    assert window.filter_box.isVisible() and window.filter_box.width() >= 150
    window.activateWindow()
    window.tree.setFocus()
    window.tree.setCurrentIndex(window.model.index_of(team))
    qtbot.keyClick(window.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.filter_box
    qtbot.keyClicks(QApplication.focusWidget(), "team")
    assert window.filter_box.text() == "team"
    assert window.tree.isExpanded(window._view_index(window.model.index_of(team)))  # nothing typed into the tree


# ---------------------------------------------------------------------------------------------- 23: status bar

def _ms(label: str) -> float:
    m = re.search(r"(\d+) ms", label)
    assert m, label
    return float(m.group(1))


def test_the_status_bar_shows_the_shown_contexts_own_numbers(sim: Any, make_window: Any, run: Any,
                                                              qtbot: Any) -> None:
    sim.set_faults([{"path": "^/api/v1/namespaces$", "latency_ms": 800}])
    try:
        window = make_window([sim.kubeconfig])
    finally:
        sim.clear_faults()
    window._update_status()
    admin_ms = _ms(window.status_load.text())
    assert window.status_load.text().startswith("Loaded in") and admin_ms >= 800
    # Expanding the same lists again: sim-admin's lookups hit the cache.
    for _ in range(3):
        expand(window, run, "Namespaces/team-a/Workloads/Pods")
    window.context_box.setCurrentText("sim-cert")
    run(window.model.wait_idle())
    window._update_status()
    cert_ms = _ms(window.status_load.text())
    assert cert_ms < 800, window.status_load.text()
    svc = window.service
    assert svc is not None
    own, overall = svc.cache_stats("sim-cert"), svc.cache_stats()
    assert own.hit_rate != overall.hit_rate
    assert window.status_cache.text().startswith(f"Cache hit rate {own.hit_rate * 100:.0f}% ")
    # Back to sim-admin (its tree was kept): its own load time, not sim-cert's nor the instant re-show's.
    window.context_box.setCurrentText("sim-admin")
    run(window.model.wait_idle())
    window._update_status()
    assert _ms(window.status_load.text()) == admin_ms
    # Connections: the ones open now. A dead cluster tries several and holds none.
    stats = svc.stats("sim-admin")
    assert stats.open_connections > 0  # the list pool's and the watches' (live updates hold theirs open)
    assert window.status_conn.text().startswith(f"{stats.open_connections} open connections")
    window.context_box.setCurrentText("sim-down")
    run(window.model.wait_idle())
    window._update_status()
    assert svc.stats("sim-down").connections > 0
    assert window.status_conn.text().startswith("0 open connections"), window.status_conn.text()
    assert window.status_load.text().startswith("Failed after")


# ---------------------------------------------------------------------------------------------- 26: window parts

def test_esc_clears_the_filter_from_the_filter_and_from_the_tree(sim: Any, make_window: Any, run: Any,
                                                                  qtbot: Any) -> None:
    window = make_window([sim.kubeconfig])
    expand(window, run, "Namespaces/team-a/Workloads/Pods")
    window.activateWindow()
    window.filter_box.setFocus()
    qtbot.keyClicks(window.filter_box, "api")
    assert window.tree.model() is window.proxy
    qtbot.keyClick(window.filter_box, Qt.Key.Key_Escape)
    assert window.filter_box.text() == "" and window.tree.model() is window.model
    window.filter_box.setText("api")
    window.tree.setFocus()
    qtbot.keyClick(window.tree, Qt.Key.Key_Escape)
    assert window.filter_box.text() == "" and window.tree.model() is window.model


def test_right_click_refresh_on_a_resource_row_reloads_it(sim: Any, make_window: Any, run: Any) -> None:
    window = make_window([sim.kubeconfig])
    pods = expand(window, run, "Namespaces/team-a/Workloads/Pods")
    pod = pods.children[0]
    assert pod.type is NodeType.OBJECT
    window.tree.setCurrentIndex(window.model.index_of(pod))
    run(window.details.wait())
    menu = window.menu_for(window.model.index_of(pod))
    assert menu is not None
    refresh = next(a for a in menu.actions() if a.text() == "Refresh")
    sim.reset_stats()
    refresh.trigger()
    run(window.model.wait_idle())
    run(window.details.wait())
    by_path = sim.stats()["by_path"]
    assert by_path.get("/api/v1/namespaces/team-a/pods", 0) >= 1, by_path  # its list, fetched again
    assert by_path.get(f"/api/v1/namespaces/team-a/pods/{pod.row.name}", 0) == 1, by_path  # type: ignore[union-attr]


def test_menu_bar_file_view_help(sim: Any, make_window: Any, qtbot: Any) -> None:
    window = make_window([sim.kubeconfig])
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert [m for m in menus if m in ("File", "View", "Help")] == ["File", "View", "Help"]
    names = list(menus)
    assert names[0] == "File" and names[-1] == "Help"  # (the registry adds Actions between)
    file_items = {a.text().replace("&", ""): a for a in menus["File"].actions() if a.text()}  # type: ignore[union-attr]
    assert file_items["Quit"].shortcut().toString() == "Ctrl+Q"
    view_items = [a.text().replace("&", "") for a in menus["View"].actions() if a.text()]  # type: ignore[union-attr]
    assert {"Refresh", "Find…", "Clear filter", "Details pane"} <= set(view_items)
    about = next(a for a in menus["Help"].actions() if "About" in a.text())  # type: ignore[union-attr]
    about.trigger()
    box = window.about_box
    assert box is not None and box.isVisible() and not box.isModal()
    assert __version__ in box.text() and str(logs.log_dir()) in box.text()
    box.close()
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    file_items["Quit"].trigger()
    assert closed == [True]

