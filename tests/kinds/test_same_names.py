"""Objects with the same name in different namespaces, listed together ("All namespaces", "Pinned"): each has a
path of its own (``All namespaces/Pods/NAMESPACE/NAME``), so --expand, reveal, pins and the window's expansion and
selection reach the one meant, never its namesake."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model.children import ALL_NAMESPACES
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.pins import PINNED, Pin
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess

CTX = "sim-admin"
TWIN = "twin"
SPACES = ("default", "team-a")


@pytest.fixture(scope="module")
def tsim() -> Iterator[SimProcess]:
    """A small sim with a pod named ``twin`` in two namespaces (created by kubectl, which referees the sim)."""
    s = SimProcess.start("--pods", "20", "--namespaces", "3", "--nodes", "1")
    try:
        for ns in SPACES:
            r = subprocess.run(["kubectl", "--kubeconfig", s.kubeconfig, "--context", CTX, "-n", ns, "run", TWIN,
                                "--image=busybox:1.32", "--restart=Never"], capture_output=True, text=True,
                               timeout=60)
            assert r.returncode == 0, r.stderr
        yield s
    finally:
        s.stop()


@pytest.fixture
def model(tsim: SimProcess, run: Any) -> Iterator[ClusterTreeModel]:
    svc = KubeService(load_kubeconfig(tsim.kubeconfig), kubeconfig_path=tsim.kubeconfig)
    m = ClusterTreeModel()
    m.set_service(svc)
    m.set_context(CTX, user=False)
    yield m
    run(m.shutdown())
    run(svc.aclose())


def twins(node: TreeNode | None) -> list[TreeNode]:
    assert node is not None
    return [c for c in node.children if c.type is NodeType.OBJECT and c.row is not None and c.row.name == TWIN]


def test_same_named_pods_in_two_namespaces_have_paths_of_their_own(model: ClusterTreeModel, run: Any) -> None:
    pods = f"{ALL_NAMESPACES}/Pods"
    assert run(load_tree(model, 0, [pods]), 60) == []
    both = twins(model.find(pods))
    assert sorted(n.row.namespace for n in both if n.row is not None) == sorted(SPACES)
    assert sorted(n.path()[1:] for n in both) == [(ALL_NAMESPACES, "Pods", f"{ns}/{TWIN}") for ns in sorted(SPACES)]
    for ns in SPACES:
        # A slash-separated path (--expand, reveal, history) and its parts (the window's expanded paths) alike.
        for path in (f"{pods}/{ns}/{TWIN}", (ALL_NAMESPACES, "Pods", f"{ns}/{TWIN}")):
            node = model.find(path)
            assert node is not None and node.row is not None and node.row.namespace == ns, path
        # --expand opens that pod (its containers) and not its namesake.
        assert run(load_tree(model, 0, [f"{pods}/{ns}/{TWIN}"]), 60) == []
        revealed = run(model.reveal_path(f"{pods}/{ns}/{TWIN}"), 60)
        assert revealed is not None and revealed.row is not None and revealed.row.namespace == ns
    opened = [n for n in twins(model.find(pods)) if n.expanded]
    assert len(opened) == 2 and all(n.children for n in opened)
    # The bare name is ambiguous there: --expand says it is missing rather than picking one.
    problems = run(load_tree(model, 0, [f"{pods}/{TWIN}"]), 60)
    assert problems and f"no row '{TWIN}'" in problems[0]
    # In its own namespace a name is unique: the path stays NAME.
    home = model.find(f"Namespaces/team-a/Workloads/Pods/{TWIN}")
    assert home is None or home.path()[-1] == TWIN
    assert run(load_tree(model, 0, [f"Namespaces/team-a/Workloads/Pods/{TWIN}"]), 60) == []
    home = model.find(f"Namespaces/team-a/Workloads/Pods/{TWIN}")
    assert home is not None and home.path()[-1] == TWIN and home.row is not None and home.row.namespace == "team-a"


def test_pinned_namesakes_are_told_apart(model: ClusterTreeModel, run: Any) -> None:
    model.pins = lambda ctx: [Pin("pods", ns, TWIN) for ns in SPACES] if ctx == CTX else []
    model.update_pins(CTX)
    assert run(load_tree(model, 0, [PINNED]), 60) == []
    pinned = twins(model.find(PINNED))
    assert sorted(n.path()[1:] for n in pinned) == [(PINNED, f"{ns}/{TWIN}") for ns in sorted(SPACES)]
    node = model.find(f"{PINNED}/team-a/{TWIN}")
    assert node is not None and node.row is not None and node.row.namespace == "team-a"
