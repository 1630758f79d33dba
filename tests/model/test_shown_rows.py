"""The shown window of the tree against a running kube9-sim (:mod:`kube9_desktop.model.shown_rows`): views hear
only of the rows they can see, changes are announced cell by cell, long lists grow window by window."""

from __future__ import annotations

from typing import Any

import pytest
from model_helpers import make_model, open_path

from kube9_desktop.model import render
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel


def test_a_list_no_view_has_open_keeps_its_rows_from_views_until_it_is_opened(service_factory: Any,
                                                                               run: Any) -> None:
    """QTreeView repaints its whole viewport when a closed row gets its first children and lays the whole tree out
    again when any row anywhere is removed. A list loaded only for its count tells views nothing of its rows, nor of
    their changes, until it is opened; then they appear in one insert."""
    model = make_model(service_factory(page_size=10))
    model.show_step = 10
    inserts: list[int] = []
    removes: list[int] = []
    model.rowsInserted.connect(lambda p, first, last: inserts.append(last - first + 1)
                               if model.node(p).label == "Pods" else None)
    model.rowsRemoved.connect(lambda p, first, last: removes.append(last - first + 1)
                              if model.node(p).label == "Pods" else None)
    open_path(model, run, "Namespaces/team-b", depth=1)
    pods = model.find("Namespaces/team-b/Workloads/Pods")
    assert pods is not None and not pods.expanded and pods.state is LoadState.LOADED
    index = model.index_of(pods)
    assert len(pods.children) > 15 and pods.count == len(pods.children)
    assert inserts == [] and model.rowCount(index) == 0 and model.hasChildren(index)
    assert render.cell_text(pods, render.COL_NAME) == f"Pods ({len(pods.children)})"
    assert render.cell_text(pods, render.COL_STATUS) == ""  # no "first 0 shown"
    model._remove(pods, 0, 0)  # a pod deleted while the list is closed: views hear nothing of it
    assert removes == [] and model.rowCount(index) == 0
    model.set_expanded(pods, True)
    run(model.wait_idle())
    assert inserts == [10] and model.rowCount(index) == 10
    assert render.cell_text(pods, render.COL_STATUS) == "first 10 shown"


def test_changes_are_announced_cell_by_cell(service_factory: Any, run: Any) -> None:
    """Given a range of cells, QTreeView repaints its whole viewport (20-30 ms full of rows); a loading list's
    count changes with every page, so changes are announced one cell at a time (a view then repaints that row)."""
    model = make_model(service_factory(page_size=10))
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda tl, br, roles=None: changes.append((tl.row(), tl.column(), br.row(),
                                                                          br.column())))
    open_path(model, run, "Namespaces/team-a/Workloads/Pods")
    assert len(changes) > 10
    assert all((r1, c1) == (r2, c2) for r1, c1, r2, c2 in changes), changes[:5]
    # A list's change (its count while it loads) is its name cell alone; only object rows change more.
    assert {c for _, c, _, _ in changes} == {render.COL_NAME, render.COL_STATUS}
    pods = model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None
    changes.clear()
    row = pods.children[0].row
    assert row is not None
    model.changed(pods.children[0])  # an object's row: every cell it can show may have changed
    kind_cols = max(len(row.columns), render.ANNOUNCED_KIND_SLOTS)  # not the slots no kind of its fills
    assert {c for _, c, _, _ in changes} == {c for c in range(model.columnCount())
                                             if not render.COL_KIND + kind_cols <= c < render.COL_AGE}
    assert {render.COL_NAME, render.COL_STATUS, render.COL_READY, render.COL_AGE, render.COL_CPU} <= {
        c for _, c, _, _ in changes}


@pytest.fixture(scope="module")
def window_sim() -> Any:
    """A sim of our own: the windowed-list test deletes pods."""
    from kube9_desktop.sim.process import SimProcess

    s = SimProcess.start("--pods", "90", "--namespaces", "3", "--nodes", "1")
    yield s
    s.stop()


def test_a_long_list_keeps_its_shown_window_consistent(window_sim: Any, run: Any) -> None:
    """Views see ``children[:shown]`` of a long list, while rows inside and behind the window are removed and
    re-listed, more rows are shown, and then all of them (Qt's model tester watches the same in
    test_model_passes_qt_model_tester_while_loading)."""
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model import render

    svc = KubeService(load_kubeconfig(window_sim.kubeconfig))
    model = ClusterTreeModel()
    model.set_service(svc)
    model.set_context("sim-admin", user=False)
    open_path(model, run, "Namespaces/team-a/Workloads", depth=1, timeout=120)
    pods = model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None
    assert pods.state is LoadState.LOADED and model.rowCount(model.index_of(pods)) == 0  # loaded, never opened
    model.show_step = 6
    open_path(model, run, "Namespaces/team-a/Workloads/Pods", timeout=120)  # opened: its first 6 rows show
    index = model.index_of(pods)
    names = [c.row.name for c in pods.children if c.row is not None]
    assert len(names) > 14 and model.rowCount(index) == 6 and pods.hidden_rows == len(names) - 6
    assert render.cell_text(pods, render.COL_NAME) == f"Pods ({len(names)})"
    assert render.cell_text(pods, render.COL_STATUS) == "first 6 shown"
    assert model.index_of(pods.children[5]).isValid() and not model.index_of(pods.children[6]).isValid()
    # Delete a shown pod and two waiting ones; Refresh re-lists and reconciles in place.
    for victim in (names[1], names[10], names[-1]):
        window_sim.remove_pod("team-a", victim)
    model.refresh()
    run(model.wait_idle(), 120)
    left = [c.row.name for c in pods.children if c.row is not None]
    assert sorted(left) == sorted(set(names) - {names[1], names[10], names[-1]})
    assert model.rowCount(index) == 5  # the shown pod went; the waiting ones stay waiting
    assert model.show_more(pods) == 6 and model.rowCount(index) == 11
    waiting = sum(n.hidden_rows for n in model.context_node().walk())  # type: ignore[union-attr]
    assert pods.hidden_rows == len(left) - 11 and waiting > pods.hidden_rows  # and lists never opened
    assert model.show_everything() == waiting and model.rowCount(index) == len(left)
    assert render.cell_text(pods, render.COL_NAME) == f"Pods ({len(left)})"
    # A windowed list whose reload fails: its rows make way for one error row, which views see.
    from kube9_desktop.kube.errors import ErrorKind, KubeError

    pods.shown = 3
    model._fail(pods, KubeError(ErrorKind.SERVER, "Server error", "The server failed."), user=False)
    assert [c.type for c in pods.children] == [NodeType.ERROR] and model.rowCount(index) == 1
    assert pods.shown >= 3 and model.index_of(pods.children[0]).isValid()
    run(model.shutdown())
    run(svc.aclose())


def test_a_count_list_is_announced_once_and_by_its_name_alone(service_factory: Any, run: Any) -> None:
    """A namespace's count lists (loaded while no view has them open) change views nothing but their Name cell
    (``Deployments (3)``): their Status is empty until they are opened, and a list of one page tells its count once,
    with the end of its load (each signal is ~50 µs of QTreeView's C++ while the namespace opens). Once a list is
    opened and windowed, its Status ("first 10 shown") is announced with its name."""
    from collections import Counter

    model = make_model(service_factory(page_size=500))
    model.show_step = 10
    cells: Counter[tuple[str, int]] = Counter()
    model.dataChanged.connect(lambda tl, br, roles=None: cells.update([(model.node(tl).label, tl.column())])
                              if model.node(tl).type is NodeType.LIST else None)
    open_path(model, run, "Namespaces/team-b", depth=1)
    ns = model.find("Namespaces/team-b")
    assert ns is not None
    lists = [n for n in ns.branches() if n.type is NodeType.LIST and n.state is LoadState.LOADED]
    closed = [n for n in lists if not n.revealed]
    assert len(closed) > 10 and all(n.count is not None and n.count < 500 for n in closed)  # one page each
    assert {col for (label, col) in cells if label in {n.label for n in closed}} == {render.COL_NAME}
    assert all(cells[(n.label, render.COL_NAME)] == 1 for n in closed), cells

    pods = model.find("Namespaces/team-b/Workloads/Pods")
    assert pods is not None and pods.count is not None and pods.count > 10
    model.set_expanded(pods, True)
    run(model.wait_idle())
    assert pods.revealed and pods.hidden_rows
    cells.clear()
    model.changed(pods)
    assert set(cells) == {("Pods", render.COL_NAME), ("Pods", render.COL_STATUS)}
