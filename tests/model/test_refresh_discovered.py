"""Refresh re-lists a list of a kind known only from discovery (not built in, not a CRD) without losing its kind."""

from __future__ import annotations

from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel

APISERVICES = "Cluster resources/Other/apiservices"


def test_refresh_keeps_a_discovered_kinds_list(service_factory: Any, run: Any, sim_names: Any) -> None:
    """The sim's APIServices (apiregistration.k8s.io) are in no table and defined by no CRD: a Refresh made the
    service forget discovery, and the list's re-list then said "refresh failed: Unknown kind" (with a dialog)."""
    svc = service_factory()
    failures: list[KubeError] = []
    model = ClusterTreeModel()
    model.load_failed.connect(lambda e, user: failures.append(e))
    model.set_service(svc)
    model.set_context("sim-admin", user=False)
    run(load_tree(model, 1, [APISERVICES]), 60)
    node = model.find(APISERVICES)
    assert node is not None and node.kind is not None and node.kind.key not in KINDS
    names = sorted(c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None)
    assert names and names == sim_names("/apis/apiregistration.k8s.io/v1/apiservices")
    assert model.refresh("sim-admin")
    run(model.wait_idle(), 60)
    assert node.state is LoadState.LOADED and node.note == ""
    assert sorted(c.row.name for c in node.children if c.row is not None) == names
    assert failures == []
    assert svc.discovered("sim-admin") is None, "Refresh still discovers again when a folder next needs it"
    run(model.shutdown())
