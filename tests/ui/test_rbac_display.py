"""As sim-viewer (read-only on team-a), every write command is shown disabled with the server's reason, in the
context menu and in the palette; reads stay enabled; a run is refused with the same words. kubectl auth can-i
referees the answers."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QSettings

from kube9_desktop.commands.registry import REGISTRY
from kube9_desktop.config.store import SettingsStore
from kube9_desktop.headless import load_tree
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.ui.command_bridge import READ_VERBS
from kube9_desktop.ui.main_window import MainWindow


@pytest.fixture
def viewer(qtbot: Any, tmp_path: Path, service_factory: Any, run: Any) -> MainWindow:
    def shut_down(w: MainWindow) -> None:
        w.errors.close_all()
        run(w.shutdown())

    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    w = MainWindow(store)
    qtbot.addWidget(w, before_close_func=shut_down)
    w.resize(1280, 800)
    w.show()
    svc = service_factory(connect_timeout=2.0)
    assert getattr(svc, "access", None) is not None, "the data layer has no access checker (service.access)"
    w.attach_service(svc, context="sim-viewer")
    run(w.model.wait_idle())
    return w


def can_i(sim: Any, verb: str, resource: str, ns: str) -> bool:
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-viewer", "auth", "can-i",
                          verb, resource, "-n", ns], capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "yes"


def writes_of(targets: list[Any]) -> list[Any]:
    return [c for c in REGISTRY.applicable(targets) if c.needs is not None and c.needs.verb not in READ_VERBS]


@pytest.mark.parametrize("path", ["Namespaces/team-a/Workloads/Pods", "Namespaces/team-a/Workloads/Deployments"])
def test_viewer_sees_every_write_disabled_with_the_reason(viewer: MainWindow, run: Any, qtbot: Any, sim: Any,
                                                           path: str) -> None:
    run(load_tree(viewer.model, 0, [path], expand_view=viewer.expand_node))
    folder = viewer.model.find(path)
    assert folder is not None and folder.children
    node = folder.children[0]
    viewer.tree.setCurrentIndex(viewer.model.index_of(node))
    targets = viewer.commands.targets([node])
    writes = writes_of(targets)
    assert writes, "no write command applies (the action commands are not registered)"
    menu = viewer.menu_for(viewer.model.index_of(node))
    assert menu is not None
    by_id = {a.data(): a for a in menu.actions() if a.data()}

    def answered() -> bool:
        return all(by_id[c.id].property("denied") is not None or by_id[c.id].isEnabled() for c in writes)

    qtbot.waitUntil(answered, timeout=5000)
    for c in writes:
        a = by_id[c.id]
        assert c.needs is not None
        resource = c.needs.for_kind(node.kind).resource
        assert not can_i(sim, c.needs.verb, resource, "team-a")  # the referee agrees it is forbidden
        assert not a.isEnabled(), c.id
        assert a.toolTip().startswith("You may not ") and "team-a" in a.toolTip(), (c.id, a.toolTip())
    reads = [c for c in REGISTRY.applicable(targets) if c.needs is not None and c.needs.verb == "get"]
    for c in reads:
        qtbot.waitUntil(by_id[c.id].isEnabled, timeout=5000)
    # The palette says the same.
    viewer.commands.open_palette("")
    palette = viewer.commands.palette
    assert palette is not None
    ids = {c.id for c in writes}
    qtbot.waitUntil(lambda: all(e.reason for e in palette.model.entries if e.command and e.command.id in ids),
                    timeout=5000)
    # A run is refused with the same words before anything is asked or sent.
    result = run(viewer.commands.run_line(f"delete {targets[0].address}"))
    assert not result.ok and result.message == f"You may not delete {node.kind.plural} in team-a"  # type: ignore
    assert viewer.port.dialog is None


def test_new_credentials_for_the_context_are_asked_about_at_once(viewer: MainWindow, run: Any, qtbot: Any, sim: Any,
                                                                 tmp_path: Path) -> None:
    """The kubeconfig reloaded with another user for the context: its menus ask again instead of showing the old
    user's answers until they expire."""
    path = "Namespaces/team-a/Workloads/Pods"
    run(load_tree(viewer.model, 0, [path], expand_view=viewer.expand_node))
    folder = viewer.model.find(path)
    assert folder is not None and folder.children
    index = viewer.model.index_of(folder.children[0])
    viewer.tree.setCurrentIndex(index)

    def delete_action() -> Any:
        menu = viewer.menu_for(index)
        assert menu is not None
        return next(a for a in menu.actions() if a.data() == "delete")

    first = delete_action()
    qtbot.waitUntil(lambda: first.property("denied") is not None, timeout=5000)
    assert not first.isEnabled() and first.toolTip() == "You may not delete pods in team-a"
    config = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for c in config["contexts"]:
        if c["name"] == "sim-viewer":
            c["context"]["user"] = "sim-admin"
    (tmp_path / "admin-now").write_text(yaml.safe_dump(config))
    assert viewer.service is not None
    viewer.service.set_kubeconfig(load_kubeconfig(str(tmp_path / "admin-now")))
    assert can_i_as(str(tmp_path / "admin-now"), "delete", "pods", "team-a")  # the referee: now allowed
    again = delete_action()
    qtbot.waitUntil(again.isEnabled, timeout=5000)


def can_i_as(kubeconfig: str, verb: str, resource: str, ns: str) -> bool:
    out = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--context", "sim-viewer", "auth", "can-i",
                          verb, resource, "-n", ns], capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "yes"
