"""Pins: objects and namespaces pinned per context, kept in the settings, shown in a "Pinned" group at the top of
the tree as real object rows; Pin / Unpin / "Show in its place" are registry commands; pins survive a restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from kube9_desktop.commands.registry import REGISTRY
from kube9_desktop.config import schema
from kube9_desktop.headless import load_tree
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.pins import PINNED, Pin, PinBook, parse_all
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.quick_open import QuickOpen

CTX = "sim-admin"


SIM_ARGS = ("--pods", "40", "--namespaces", "4", "--nodes", "2")


@pytest.fixture(scope="module")
def sim(module_sim: SimProcess) -> SimProcess:
    """This module's own small sim (``module_sim``) in place of the session's: ``make_window``'s windows are on it."""
    return module_sim


def names(sim: SimProcess, path: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in sim.request("GET", path)["items"])


def rows_of(node: TreeNode | None) -> list[tuple[str, str | None, str]]:
    assert node is not None
    return [(c.kind.key, c.row.namespace, c.row.name) for c in node.children
            if c.type is NodeType.OBJECT and c.kind is not None and c.row is not None]


def test_pins_are_stored_per_context_as_texts() -> None:
    stored: dict[str, list[str]] = {}
    book = PinBook(lambda: stored, lambda v: (stored.clear(), stored.update(v)))
    pod, ns, node = Pin("pods", "team-a", "web-1"), Pin("namespaces", None, "team-a"), Pin("nodes", None, "n1")
    assert book.pin("c1", [pod, ns, pod]) == [pod, ns]
    assert book.pin("c1", [ns, node]) == [node]
    assert stored == {"c1": ["team-a/pods/web-1", "namespaces/team-a", "nodes/n1"]}
    assert book.pins("c2") == [] and book.is_pinned("c1", ns) and not book.is_pinned("c2", ns)
    assert book.unpin("c1", [ns, Pin("pods", "x", "y")]) == [ns]
    assert book.unpin("c1", [pod, node]) == [pod, node] and stored == {}
    assert parse_all(["a/b/c", "bad", "x//y", "k/n", "a/b/c"]) == [Pin("b", "a", "c"), Pin("k", None, "n")]
    # The setting is declared once and edited as text in the Settings dialog.
    assert schema.validate("tree/pins", "c1=team-a/pods/web-1,nodes/n1") == {"c1": ["team-a/pods/web-1", "nodes/n1"]}
    with pytest.raises(ValueError, match="Pinned objects"):
        schema.validate("tree/pins", "no equals sign")


def test_the_pinned_group_holds_the_real_rows(sim: SimProcess, run: Any) -> None:
    # (Qt's model tester checks the group's rows coming and going: tests/model/test_tree_model.py pins too.)
    svc = KubeService(load_kubeconfig(sim.kubeconfig))
    model = ClusterTreeModel()
    pod = names(sim, "/api/v1/namespaces/team-a/pods")[0]
    dep = names(sim, "/apis/apps/v1/namespaces/team-a/deployments")[0]
    node_name = names(sim, "/api/v1/nodes")[0]
    pins = [Pin("pods", "team-a", pod), Pin("deployments", "team-a", dep), Pin("nodes", None, node_name),
            Pin("pods", "team-a", "no-such-pod")]
    model.pins = lambda ctx: list(pins) if ctx == CTX else []
    model.set_service(svc)
    model.set_context(CTX, user=True)
    try:
        run(load_tree(model, 1, [f"{PINNED}/team-a/{dep}"]), 60)
        root = model.context_node()
        assert root is not None and root.children[0].label == PINNED
        group = root.children[0]
        assert rows_of(group) == [("pods", "team-a", pod), ("deployments", "team-a", dep), ("nodes", None, node_name)]
        notes = [c.label for c in group.children if c.type is NodeType.NOTE]
        assert notes == ["team-a/pods/no-such-pod — not found (deleted?)"]
        # The real rows: the same object (uid, status) as in its own place; a pinned Deployment drills down.
        run(load_tree(model, 0, ["Namespaces/team-a/Workloads/Pods"]), 60)
        real = next(c for c in model.find("Namespaces/team-a/Workloads/Pods").children  # type: ignore[union-attr]
                    if c.row is not None and c.row.name == pod)
        pinned_pod = group.children[0]
        assert pinned_pod.row is not None and real.row is not None and pinned_pod.row.uid == real.row.uid
        assert pinned_pod.kind is real.kind
        pinned_dep = group.children[1]
        assert rows_of(pinned_dep) and all(k == "replicasets" for k, _n, _m in rows_of(pinned_dep))
        # Pins change: rows of pins kept keep their nodes (expansion survives), gone ones leave, new ones come.
        pins[:] = [Pin("deployments", "team-a", dep), Pin("namespaces", None, "team-b")]
        model.update_pins(CTX)
        run(model.wait_idle(), 60)
        assert rows_of(group) == [("deployments", "team-a", dep), ("namespaces", None, "team-b")]
        assert group.children[0] is pinned_dep and pinned_dep.children
        pins[:] = []
        model.update_pins(CTX)
        run(model.wait_idle(), 60)
        assert root.children[0].label != PINNED
        pins[:] = [Pin("nodes", None, node_name)]
        model.update_pins(CTX)
        run(model.wait_idle(), 60)
        assert root.children[0].label == PINNED and rows_of(root.children[0]) == [("nodes", None, node_name)]
        # Refresh looks the rows up again (in place).
        kept = root.children[0].children[0]
        model.refresh()
        run(model.wait_idle(), 60)
        assert root.children[0].children[0] is kept
    finally:
        run(model.shutdown())
        run(svc.aclose())


def selected(w: MainWindow) -> TreeNode | None:
    idx = w.tree.currentIndex()
    return w.model.node(w.source_index(idx)) if idx.isValid() else None


def test_pin_from_the_menu_survives_a_restart(sim: SimProcess, make_window: Any, qtbot: Any, run: Any) -> None:
    w = make_window()
    pods = names(sim, "/api/v1/namespaces/team-b/pods")
    rs = names(sim, "/apis/apps/v1/namespaces/team-b/replicasets")[0]
    dep = next(d for d in names(sim, "/apis/apps/v1/namespaces/team-b/deployments") if rs.startswith(d + "-"))
    pod = next(p for p in pods if p.startswith(rs + "-"))
    # A pod under its Deployment's ReplicaSet (a drill-down row): a real row, its menu offers Pin.
    w.reveal_path(f"Namespaces/team-b/Workloads/Deployments/{dep}/{rs}/{pod}")
    qtbot.waitUntil(lambda: (n := selected(w)) is not None and n.row is not None and n.row.name == pod,
                    timeout=20000)
    drill_row = selected(w)
    assert drill_row is not None and drill_row.parent is not None and drill_row.parent.kind is not None
    assert drill_row.parent.kind.key == "replicasets"
    menu = w.menu_for(w.tree.currentIndex())
    assert menu is not None
    titles = [a.text().split("\t")[0] for a in menu.actions()]
    assert "Pin to top" in titles and "Unpin" not in titles
    task = w.commands.trigger("pin")
    qtbot.waitUntil(lambda: task is not None and task.done(), timeout=10000)
    assert task is not None and task.result().ok
    assert w.settings.get("tree/pins") == {CTX: [f"team-b/pods/{pod}"]}
    root = w.model.context_node()
    assert root is not None
    qtbot.waitUntil(lambda: root.children[0].label == PINNED and bool(rows_of(root.children[0])), timeout=20000)
    pinned = root.children[0].children[0]
    w.expand_node(root.children[0])
    # Quick open finds the pod (met first as the pinned row) in its own place.
    assert w.port.open_view("quick-open", pod)
    box = next(b for b in QApplication.topLevelWidgets() if isinstance(b, QuickOpen) and b.isVisible())
    hits = [e for e in box.index.search(pod, 5) if e.name == pod]
    assert hits and hits[0].path == ("Namespaces", "team-b", "Workloads", "Pods", pod)
    box.close()
    idx = w._view_index(w.model.index_of(pinned))
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    w.tree.selectionModel().setCurrentIndex(idx, flags)  # (the pinned row alone, whatever keys earlier tests left)
    titles = [a.text().split("\t")[0] for a in w.menu_for(idx).actions()]  # type: ignore[union-attr]
    assert "Unpin" in titles and "Pin to top" not in titles and "Show in its place" in titles
    # Show in its place: the row in its namespace's Pods list is selected.
    task = w.commands.trigger("reveal")
    qtbot.waitUntil(lambda: (n := selected(w)) is not None and n is not pinned and n.row is not None
                    and n.row.name == pod, timeout=20000)
    assert selected(w).path()[1:] == ("Namespaces", "team-b", "Workloads", "Pods", pod)  # type: ignore[union-attr]
    # Back (Alt+Left) goes to the pinned row, then to the drill-down row: history covers both.
    w.port.open_view("history", -1)
    qtbot.waitUntil(lambda: selected(w) is pinned, timeout=20000)
    w.port.open_view("history", -1)
    qtbot.waitUntil(lambda: selected(w) is drill_row, timeout=20000)
    w.close()

    # A fresh window on the same settings file shows the pin.
    w2 = make_window()  # (the same settings file)
    root2 = w2.model.context_node()
    assert root2 is not None

    async def shown() -> None:
        while not (root2.children and root2.children[0].label == PINNED and rows_of(root2.children[0])):
            await asyncio.sleep(0.05)

    run(shown(), 30)
    assert rows_of(root2.children[0]) == [("pods", "team-b", pod)]
    assert REGISTRY.get("unpin").applies_to(w2.commands.targets([root2.children[0].children[0]]))
    task = w2.commands.trigger("unpin", w2.commands.targets([root2.children[0].children[0]]))
    qtbot.waitUntil(lambda: task is not None and task.done(), timeout=10000)
    qtbot.waitUntil(lambda: root2.children[0].label != PINNED, timeout=10000)
    assert w2.settings.get("tree/pins") == {}
    w2.close()
