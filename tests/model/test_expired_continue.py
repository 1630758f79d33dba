"""A list whose continue token expires while it loads (a busy big cluster) ends with exactly the server's rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel

PODS = "Namespaces/team-a/Workloads/Pods"
PODS_API = "/api/v1/namespaces/team-a/pods"


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[Any]:
    """~500 pods in team-a served with some latency, so a 20-row paged list takes long enough to expire under it."""
    from kube9_desktop.sim.process import SimProcess

    s = SimProcess.start("--pods", "1500", "--namespaces", "3", "--nodes", "3", "--churn", "0",
                         "--latency-ms", "30", "--pod-start-seconds", "0", "--pod-ready-seconds", "0")
    yield s
    s.stop()


@pytest.mark.parametrize("offer_token", [True, False], ids=["410-offers-a-token", "410-without-a-token"])
def test_expired_continue_ends_with_the_servers_rows(offer_token: bool, slow_sim: Any, run: Any) -> None:
    slow_sim.set_expired_continue(offer_token=offer_token)
    svc = KubeService(load_kubeconfig(slow_sim.kubeconfig), KubeOptions(page_size=20))
    model = ClusterTreeModel()
    model.set_service(svc)
    model.set_context("sim-admin", user=False)
    deleted: list[str] = []

    async def delete_a_shown_row_and_compact() -> None:
        # Once the first rows are in (more pages to come): delete a pod already delivered, then compact. The next
        # continue token is too old (410); the pod's ReplicaSet creates a replacement the old snapshot lacks.
        while True:
            node = model.find(PODS)
            rows = [c.row for c in node.children if c.row is not None] if node is not None else []
            if rows:
                assert node is not None and node.state is LoadState.LOADING, "the list loaded before it could expire"
                deleted.append(rows[0].name)
                await asyncio.to_thread(slow_sim.request, "DELETE", f"{PODS_API}/{rows[0].name}?gracePeriodSeconds=0")
                await asyncio.to_thread(slow_sim.compact)
                return
            await asyncio.sleep(0.002)

    async def scenario() -> None:
        poke = asyncio.ensure_future(delete_a_shown_row_and_compact())
        await load_tree(model, 1, [PODS])
        await asyncio.wait_for(poke, 30)
        await model.wait_idle()

    try:
        errors_before = svc.stats("sim-admin").errors
        run(scenario())
        node = model.find(PODS)
        assert node is not None and node.state is LoadState.LOADED
        assert svc.stats("sim-admin").errors > errors_before  # the 410 happened
        shown = [c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None]
        want = {i["metadata"]["name"] for i in slow_sim.request("GET", PODS_API)["items"]}
        assert deleted and deleted[0] not in want
        assert len(shown) == len(set(shown)), "a row is shown twice"
        assert set(shown) == want, (set(shown) - want, want - set(shown))  # no ghost, no missing replacement
        assert node.count == len(want)
    finally:
        slow_sim.set_expired_continue(offer_token=True)
        run(model.shutdown())
        run(svc.aclose())
