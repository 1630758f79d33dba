"""Container rows in the window: double-click opens that container's log through the registry's ``logs`` command,
the context menu offers what acts on a container, and the details pane shows its state."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

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


PAIR = "zz-pair"  # sorts after the sim's own pods: the tests above pick the first pod with two containers
PAIR_POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": PAIR, "namespace": "team-a"},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.19"}, {"name": "side", "image": "busybox:1.32"}]},
}


def kubectl_json(sim: SimProcess, *args: str) -> Any:
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", *args, "-o", "json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_container_rows_details_are_its_spec_status_and_events(qtbot: Any, service: KubeService,
                                                                 module_sim: SimProcess, make_window: Any,
                                                                 run: Any, tmp_path: Path) -> None:
    """The YAML tab shows the container's entries of the pod's spec and status; the Events tab the pod's events
    about that container (fieldPath spec.containers{side}), the same kubectl lists for that field selector."""
    if not any(p["metadata"]["name"] == PAIR for p in module_sim.request("GET", "/api/v1/namespaces/team-a/pods")
               ["items"]):
        module_sim.request("POST", "/api/v1/namespaces/team-a/pods", PAIR_POD)
    selector = f"involvedObject.name={PAIR},involvedObject.fieldPath=spec.containers{{side}}"
    want = {(e["reason"], e["message"])
            for e in kubectl_json(module_sim, "get", "events", "-n", "team-a", "--field-selector", selector)["items"]}
    assert want and all("web" not in m and "nginx" not in m for _r, m in want)  # only side's
    w = make_window(service=service)
    path = f"Namespaces/team-a/Workloads/Pods/{PAIR}"
    run(load_tree(w.model, 0, [path], expand_view=w.expand_node))
    node = w.model.find(f"{path}/side")
    assert node is not None and node.type is NodeType.CONTAINER
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(node)))
    details = w.details
    qtbot.waitUntil(lambda: "image: busybox:1.32" in details.yaml_text(), timeout=10000)
    doc = yaml.safe_load(details.yaml_text())
    pod = kubectl_json(module_sim, "get", "pod", PAIR, "-n", "team-a")
    assert doc == {"spec": next(c for c in pod["spec"]["containers"] if c["name"] == "side"),
                   "status": next(s for s in pod["status"]["containerStatuses"] if s["name"] == "side")}
    assert details.yaml_text().startswith(f"# Container side of pod team-a/{PAIR}:\n# spec.containers{{side}} ")
    qtbot.waitUntil(lambda: len(details.events.model.rows) >= len(want), timeout=10000)
    got = {(r.reason, r.message) for r in details.events.model.rows}
    assert got == want
    assert all(r.object_name == PAIR for r in details.events.model.rows)
    assert all(details.tabs.isTabEnabled(i) for i in range(details.tabs.count()))
    details.grab().save(str(tmp_path / "container-yaml.png"))
    details.tabs.setCurrentWidget(details.events)
    details.grab().save(str(tmp_path / "container-details.png"))


def test_the_all_clusters_row_summarises_the_contexts(qtbot: Any, service: KubeService, module_sim: SimProcess,
                                                       make_window: Any, run: Any, tmp_path: Path) -> None:
    """Not two blank tabs: the YAML tab lists the kubeconfig's contexts, the Events tab is off and says why."""
    w = make_window(service=service)
    fleet = next(n for n in w.model.loader.root.children if n.type is NodeType.FLEET)
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(fleet)))
    details = w.details
    qtbot.waitUntil(lambda: "contexts:" in details.yaml_text(), timeout=5000)
    doc = yaml.safe_load(details.yaml_text())
    assert [c["name"] for c in doc["contexts"]] == service.kubeconfig.names()
    assert {c["server"] for c in doc["contexts"]} == {c.server for c in service.kubeconfig.contexts}
    tokens = [t for t in (module_sim.token(n) for n in service.kubeconfig.names()) if t]
    assert tokens and not any(t in details.yaml_text() for t in tokens)  # never a credential
    events = details.tabs.indexOf(details.events)
    assert not details.tabs.isTabEnabled(events)
    assert "one cluster" in details.tabs.tabToolTip(events)
    assert details.tabs.currentWidget() is details.yaml_view
    qtbot.wait(200)  # the form's new rows are laid out
    details.grab().save(str(tmp_path / "fleet-details.png"))
    # The context's row has neither: both tabs off, each saying why; an object's row turns both on again.
    yaml_tab = details.tabs.indexOf(details.yaml_view)
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(w.model.context_node())))
    assert not details.tabs.isTabEnabled(yaml_tab) and not details.tabs.isTabEnabled(events)
    assert "select an object" in details.tabs.tabToolTip(yaml_tab)
    assert "Select an object" in details.tabs.tabToolTip(events)
    run(load_tree(w.model, 0, ["Nodes"], expand_view=w.expand_node))
    nodes = w.model.find("Nodes")
    assert nodes is not None and nodes.children
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(nodes.children[0])))
    assert details.tabs.isTabEnabled(yaml_tab) and details.tabs.isTabEnabled(events)
    qtbot.waitUntil(lambda: "kind: Node" in details.yaml_text(), timeout=10000)
