"""A list's pages becoming rows against a running kube9-sim (:mod:`kube9_desktop.model.list_pages`): fetchMore
returns at once, a list open while it loads gets its first page at once and its shown window in one insert."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from model_helpers import child_names, make_model, open_path

from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel


@contextlib.contextmanager
def team_a_pods_unloaded(model: ClusterTreeModel, sim: Any, latency_ms: int) -> Iterator[TreeNode]:
    """team-a's loaded Pods list, back to UNLOADED with the cache dropped; until the block ends the sim delays
    that one list by ``latency_ms`` (so its next load is seen in flight)."""
    pods = model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None
    sim.set_faults([{"path": "^/api/v1/namespaces/team-a/pods$", "latency_ms": latency_ms, "rate": 1.0}])
    try:
        model.service.invalidate()  # type: ignore[union-attr]
        pods.generation += 1
        model._clear_children(pods)
        pods.state = LoadState.UNLOADED
        yield pods
    finally:
        sim.clear_faults()


def test_fetch_more_returns_at_once_and_shows_loading(service_factory: Any, run: Any, sim: Any) -> None:
    model = make_model(service_factory())
    open_path(model, run, "Namespaces/team-a", depth=1)
    with team_a_pods_unloaded(model, sim, latency_ms=400) as pods:
        idx = model.index_of(pods)
        assert model.canFetchMore(idx)
        t0 = time.perf_counter()
        model.fetchMore(idx)
        assert time.perf_counter() - t0 < 0.05, "fetchMore must not block"
        assert pods.state is LoadState.LOADING
        assert not model.canFetchMore(idx), "canFetchMore must be false while a load is in flight"
        assert [c.type for c in pods.children] == [NodeType.LOADING]
        assert model.data(model.index(0, 0, idx)) == "Loading…"
        run(model.wait_idle())
        assert pods.state is LoadState.LOADED and pods.children[0].type is NodeType.OBJECT


def test_a_list_open_while_it_loads_shows_its_first_page_then_fills_its_window_in_one_insert(
        service_factory: Any, run: Any, sim: Any, sim_names: Any) -> None:
    """Every insert a view sees under an open row costs it a layout of all that row's shown rows and a repaint: a
    list opened while it loads gets its first page at once, then the rest of its shown window in one insert; rows
    past the window wait (views are not told of them) until the user scrolls on."""
    model = make_model(service_factory(page_size=10))
    model.show_step = 25
    inserts: list[int] = []

    def on_insert(parent: Any, first: int, last: int) -> None:
        if model.node(parent).label == "Pods" and model.node(parent).namespace == "team-a":
            inserts.append(last - first + 1)

    model.rowsInserted.connect(on_insert)
    open_path(model, run, "Namespaces/team-a/Workloads", depth=1)
    with team_a_pods_unloaded(model, sim, latency_ms=150) as pods:
        inserts.clear()
        index = model.index_of(pods)
        model.fetchMore(index)  # the view opens it: it loads while open
        model.set_expanded(pods, True)
        run(model.wait_idle())
    want = sim_names("/api/v1/namespaces/team-a/pods")
    assert len(want) > 40
    assert child_names(pods) == want
    assert inserts == [1, 10, 15], inserts  # "Loading…", the first page, the rest of the window
    assert model.rowCount(index) == 25 and pods.hidden_rows == len(want) - 25
    assert model.show_more(pods) == min(25, len(want) - 25) and inserts[-1] == min(25, len(want) - 25)
