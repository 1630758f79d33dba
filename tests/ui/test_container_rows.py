"""Container rows in the window: double-click opens that container's log through the registry's ``logs`` command,
the context menu offers what acts on a container, and the details pane shows its state."""

from __future__ import annotations

from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.sim.process import SimProcess
from kube9_desktop.ui.logs_view import LogsView

SIM_ARGS = ("--pods", "60", "--namespaces", "3", "--nodes", "2", "--churn", "0")


def test_container_row_double_click_menu_and_details(qtbot: Any, service: KubeService, module_sim: SimProcess,
                                                     make_window: Any, run: Any) -> None:
    items = module_sim.request("GET", "/api/v1/pods")["items"]
    pod = next(p for p in items if len(p["spec"]["containers"]) >= 2)  # a pod with a sidecar (and an init)
    ns, name, side = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["spec"]["containers"][1]["name"]
    w = make_window(service=service)
    path = f"Namespaces/{ns}/Workloads/Pods/{name}"
    run(load_tree(w.model, 0, [path], expand_view=w.expand_node))
    node = w.model.find(f"{path}/{side}")
    assert node is not None and node.type is NodeType.CONTAINER
    index = w._view_index(w.model.index_of(node))
    assert index.isValid() and w.tree.isExpanded(index.parent())
    # The details pane shows the container's state.
    w.tree.setCurrentIndex(index)
    assert w.details.title.text() == f"Container {side}"
    # Its menu: logs and shell for that container, not what acts on the whole pod.
    menu = w.menu_for(index)
    assert menu is not None
    texts = [a.text().split("\t")[0] for a in menu.actions() if a.text()]
    assert "Logs" in texts and "Shell…" in texts
    assert not any(t.startswith(("Delete", "Evict", "Edit")) for t in texts), texts
    menu.deleteLater()
    # Double-click: the logs tab of exactly that container.
    w._on_double_click(index)
    qtbot.waitUntil(lambda: any(isinstance(t, LogsView) for t in w.bottom_dock.tabs()), timeout=10000)
    view = next(t for t in w.bottom_dock.tabs() if isinstance(t, LogsView))
    assert view.spec.name == name and view.spec.options.container == side
    assert view.container.currentData() == side
    qtbot.waitUntil(lambda: view.shown_count > 0, timeout=15000)


def test_double_clicking_an_event_row_selects_its_object(qtbot: Any, service: KubeService, module_sim: SimProcess,
                                                         make_window: Any, run: Any) -> None:
    w = make_window(service=service)
    run(load_tree(w.model, 0, ["Events"], expand_view=w.expand_node))
    events = w.model.find("Events")
    assert events is not None
    items = module_sim.request("GET", "/api/v1/pods")["items"]
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items}
    row = next(c for c in events.children if c.row is not None and c.row.cells.get("Object", "").startswith("pod/")
               and (c.row.namespace, c.row.cells["Object"][4:]) in pods)
    assert row.row is not None
    name = row.row.cells["Object"][4:]
    w._on_double_click(w._view_index(w.model.index_of(row)))
    qtbot.waitUntil(lambda: (n := w.model.node(w.source_index(w.tree.currentIndex()))) is not None
                    and n.row is not None and n.row.name == name and n.kind is not None and n.kind.key == "pods",
                    timeout=15000)
    current = w.model.node(w.source_index(w.tree.currentIndex()))
    assert current.path()[1:] == ("Namespaces", row.row.namespace, "Workloads", "Pods", name)
