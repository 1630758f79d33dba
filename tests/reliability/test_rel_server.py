"""Server-side faults through the tree: 404 for a kind, 410 on a continue token, 429 with Retry-After, 500/503
bursts, and a huge list while the user keeps clicking.

The retry arithmetic (request counts, Retry-After waits) is checked in tests/kube/test_service.py; here the point
is what the tree shows: rows without a trace of the fault when a retry succeeded, one clear error row when it did
not, and no dialog for loads the user did not ask for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reliability_helpers import assert_healthy, error_rows, make_model, object_names

from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.model.lag import LoopLagMonitor
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.sim.process import SimProcess


def _names(sim: SimProcess, path: str) -> list[str]:
    return sorted(i["metadata"]["name"] for i in sim.request("GET", path)["items"])


def test_kind_not_served_is_one_row_and_the_rest_loads(fsim: SimProcess, services: Callable[..., Any],
                                                       run: Any) -> None:
    failures: list[Any] = []
    fsim.set_faults([{"path": "^/apis/storage.k8s.io/v1/storageclasses$", "status": 404}])
    try:
        model = make_model(services(fsim.kubeconfig), "sim-admin", failures)
        run(model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    sc = model.find("Cluster resources/StorageClasses")
    rows = error_rows(sc)
    assert len(rows) == 1 and rows[0].error is not None and rows[0].error.kind is ErrorKind.NOT_FOUND
    assert "does not serve storageclasses" in rows[0].label
    # Kept as a value, so without the frames it was raised through (they would keep pages and responses alive).
    assert rows[0].error.__traceback__ is None and rows[0].error.__cause__ is None
    assert object_names(model.find("Nodes")) == _names(fsim, "/api/v1/nodes")
    assert object_names(model.find("Cluster resources/PersistentVolumes")) == _names(fsim,
                                                                                      "/api/v1/persistentvolumes")
    assert [f[0].kind for f in failures] == [ErrorKind.NOT_FOUND]


@pytest.mark.parametrize("offer_token", [True, False], ids=["resumes-from-offered-token", "restarts-without-token"])
def test_continue_token_expiring_mid_list_is_handled_transparently(offer_token: bool, fsim: SimProcess,
                                                                   services: Callable[..., Any], run: Any) -> None:
    # Small pages: team-a has about a dozen pods, and the page after the prefetched one must hit the 410.
    svc = services(fsim.kubeconfig, page_size=3)
    failures: list[Any] = []
    model = make_model(svc, "sim-admin", failures)
    run(model.wait_idle(), 20)
    errors_before = svc.stats("sim-admin").errors
    compacted: list[int] = []

    async def compact_after_first_page() -> None:
        # The first page is in while the list is still loading (a namespace's lists load for their counts before
        # anyone opens them, so this watches the node, not the rows views are told of): move the store on and
        # compact, so the continue token of the next page is now too old.
        while True:
            pods = model.find("Namespaces/team-a/Workloads/Pods")
            if pods is not None and pods.state is LoadState.LOADING and any(
                    c.type is NodeType.OBJECT for c in pods.children):
                break
            await asyncio.sleep(0)
        dep = fsim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments")["items"][0]
        fsim.request("PATCH", f"/apis/apps/v1/namespaces/team-a/deployments/{dep['metadata']['name']}"
                     "/scale", {"spec": {"replicas": dep["spec"]["replicas"]}})
        compacted.append(fsim.compact())

    from kube9_desktop.headless import load_tree

    # A current kube-apiserver offers a token to go on from; older or aggregated API servers offer none, so the
    # list restarts from the top and the rows already shown must not show twice.
    fsim.set_expired_continue(offer_token=offer_token)
    try:
        async def both() -> None:
            watcher = asyncio.ensure_future(compact_after_first_page())
            await load_tree(model, 0, ["Namespaces/team-a/Workloads/Pods"])
            await asyncio.wait_for(watcher, 1)

        run(both(), 20)
    finally:
        fsim.set_expired_continue(offer_token=True)  # fsim is shared by the whole module
    assert compacted, "the list had only one page"
    assert svc.stats("sim-admin").errors > errors_before, "no 410 happened"
    pods = model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None and pods.state is LoadState.LOADED
    assert not error_rows(pods) and not failures
    names = [c.row.name for c in pods.children if c.row is not None]
    assert len(names) == len(set(names)) > 3, "a pod shows twice after the restart"
    assert sorted(names) == _names(fsim, "/api/v1/namespaces/team-a/pods")
    assert pods.display_label == f"Pods ({len(names)})"


def test_429_with_retry_after_is_retried_and_the_rows_appear(fsim: SimProcess, services: Callable[..., Any],
                                                             run: Any) -> None:
    failures: list[Any] = []
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 429, "retry_after": 0.2, "count": 2}])
    try:
        t0 = time.monotonic()
        model = make_model(services(fsim.kubeconfig), "sim-admin", failures)
        run(model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    assert time.monotonic() - t0 >= 0.35
    assert object_names(model.find("Nodes")) == _names(fsim, "/api/v1/nodes")
    assert not failures


def test_503_burst_retried_then_a_clear_error_then_refresh_loads(fsim: SimProcess, services: Callable[..., Any],
                                                                 run: Any) -> None:
    svc = services(fsim.kubeconfig, retries=2)
    failures: list[Any] = []
    # A short burst is absorbed by the retries.
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 503, "count": 2}])
    try:
        model = make_model(svc, "sim-admin", failures)
        run(model.wait_idle(), 20)
        assert object_names(model.find("Nodes")) and not failures
        # A longer outage ends in one clear error row (500 and 503 alike).
        fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 503},
                         {"path": "^/api/v1/namespaces$", "status": 500}])
        fsim.reset_stats()
        assert model.refresh()
        run(model.wait_idle(), 30)
        nodes, namespaces = model.find("Nodes"), model.find("Namespaces")
        assert nodes is not None and namespaces is not None
        # Refresh keeps the rows the user already sees and says that the refresh failed.
        assert nodes.note.startswith("refresh failed") and object_names(nodes)
        by_path = fsim.stats()["by_path"]
        assert by_path.get("/api/v1/nodes", 0) == 3, by_path  # one try + two retries
        errs = {f[0].status: f[0] for f in failures}
        assert set(errs) == {500, 503}
        assert "HTTP 503" in errs[503].message and errs[503].kind is ErrorKind.SERVER
        assert "try again" in errs[503].hint
        assert all(f[1] for f in failures), "a refresh is a user action: its failures open a dialog"
    finally:
        fsim.clear_faults()
    failures.clear()
    assert model.refresh()
    run(model.wait_idle(), 20)
    assert not failures and nodes.note == "" and object_names(nodes) == _names(fsim, "/api/v1/nodes")
    # Fresh (never loaded) lists show the error as a row.
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 500}])
    try:
        svc.invalidate()
        model.set_service(svc)
        model.set_context("sim-admin")
        run(model.wait_idle(), 30)
    finally:
        fsim.clear_faults()
    rows = error_rows(model.find("Nodes"))
    assert rows and "failed (HTTP 500" in rows[0].label
    assert_healthy(model, run, "sim-cert")


@pytest.fixture(scope="module")
def huge_sim() -> Iterator[SimProcess]:
    """50,000 pods on one node."""
    s = SimProcess.start("--pods", "50000", "--namespaces", "3", "--nodes", "1")
    try:
        yield s
    finally:
        s.stop()


def test_huge_list_while_the_user_keeps_clicking(huge_sim: SimProcess, services: Callable[..., Any], run: Any,
                                                 window_factory: Callable[..., Any]) -> None:
    svc = services(huge_sim.kubeconfig, page_size=5000)
    win = window_factory()
    win.show()
    win.attach_service(svc, context="sim-admin")
    run(win.model.wait_idle(), 30)
    model = win.model
    node = model.find("Nodes/node-1")
    assert node is not None
    lag = LoopLagMonitor(0.01)
    lag.start()
    t0 = time.monotonic()
    win.tree.expand(model.index_of(model.find("Nodes")))  # type: ignore[arg-type]
    win.tree.expand(model.index_of(node))
    assert node.state is LoadState.LOADING
    clicks = 0

    async def keep_clicking() -> None:
        nonlocal clicks
        while node.state is LoadState.LOADING:
            await asyncio.sleep(0.02)
            clicks += 1
            # Rows on show, a screenful above the window's last row: selecting that one scrolls to it, which shows
            # the next window (test_a_long_list_shows_more_at_the_end_and_all_when_filtering).
            objs = [c for c in node.children[:max(1, node.shown - 40)][-3:] if c.type is NodeType.OBJECT]
            if objs:
                win.tree.setCurrentIndex(model.index_of(objs[-1]))  # details of a pod
            if clicks % 10 == 0:
                win.refresh()  # impatient F5
            if clicks % 7 == 0:
                ns = model.find("Namespaces")
                if ns is not None and ns.children:
                    win.tree.expand(model.index_of(ns.children[clicks % len(ns.children)]))

    run(asyncio.gather(keep_clicking(), model.wait_idle()), 60)
    run(win.wait_details(), 15)
    took = time.monotonic() - t0
    run(lag.stop())
    names = [c.row.name for c in node.children if c.row is not None]
    print(f"50k rows in {took:.1f} s, {clicks} clicks, worst loop lag {lag.max_lag_ms:.0f} ms")
    # Every pod on the node exactly once (a few of the 50,000 are pending, on no node).
    assert len(names) == len(set(names)) > 45000
    assert node.count == len(names)
    assert clicks > 5
    assert lag.max_lag_ms < 5000, f"the window froze for {lag.max_lag_ms:.0f} ms"
    # Views see one window of the list; the rest waits until the user scrolls to it (layouts stay short).
    assert win.model.rowCount(model.index_of(node)) == node.shown < len(names)
    assert not win.errors.visible()


def test_malformed_watch_stream_is_a_protocol_error(fsim: SimProcess, services: Callable[..., Any],
                                                    run: Any) -> None:
    from kube9_desktop.kube.errors import KubeError
    from kube9_desktop.kube.rows import ListRef

    svc = services(fsim.kubeconfig)
    ref = ListRef("sim-admin", "pods", "team-a")

    async def watch_once() -> Any:
        rv = ""
        async for page in svc.list(ref):
            rv = page.resource_version
        fsim.set_faults([{"path": "^/api/v1/namespaces/team-a/pods$", "mode": "garbage"}])
        try:
            async for _ in svc.watch(ref, rv):
                pass
        except KubeError as e:
            return e
        finally:
            fsim.clear_faults()
        return None

    err = run(watch_once(), 20)
    assert err is not None and err.kind is ErrorKind.PROTOCOL, err
    assert "not valid JSON" in err.message
    assert svc.watch_threads() == 0
