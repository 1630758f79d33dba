"""The tree after a write (kube9_desktop/model/after_write.py) against a running kube9-sim."""

from __future__ import annotations

from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.model import after_write
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel

NS = "team-f"  # no other test writes here
PODS = f"Namespaces/{NS}/Workloads/Pods"


def test_a_write_while_a_reload_is_in_flight_restarts_that_reload(service_factory: Any, run: Any, sim: Any) -> None:
    """A multi-delete: the first delete's reload is still in flight when the second delete is followed. That
    reload's request may have been answered before the second delete, so it must not land: CI saw the second
    row flip from Terminating back to Running."""
    model = ClusterTreeModel()
    model.live.configure(False, 0, 0)  # lists without a watch are the ones a write reloads
    model.set_service(service_factory())
    model.set_context("sim-admin", user=True)
    run(load_tree(model, 1, [PODS]))
    pods = model.find(PODS)
    assert pods is not None and pods.state is LoadState.LOADED
    first, second = sorted(c.row.name for c in pods.children if c.row is not None)[:2]
    seen: list[str] = []  # the second victim's statuses, as every change of its row announces them
    model.dataChanged.connect(lambda *_: seen.extend(c.row.status for c in pods.children
                                                     if c.row is not None and c.row.name == second))

    sim.remove_pod(NS, first)
    after_write.mark_terminating(model, "sim-admin", [("pods", NS, first)])
    assert after_write.reload_affected(model, "sim-admin", {"pods"}, {NS}) == 1
    assert pods.state is LoadState.LOADING and pods.children  # reloading in place: the rows stay
    gen = pods.generation
    sim.remove_pod(NS, second)
    assert after_write.mark_terminating(model, "sim-admin", [("pods", NS, second)]) == 1
    # The reload in flight is restarted (its rows are dropped by generation), not skipped for being busy.
    assert after_write.reload_affected(model, "sim-admin", {"pods"}, {NS}) == 1
    assert pods.generation > gen
    run(model.wait_idle())
    names = {c.row.name for c in pods.children if c.type is NodeType.OBJECT and c.row is not None}
    assert not names & {first, second}
    assert "Terminating" in seen and "Running" not in seen[seen.index("Terminating"):]
