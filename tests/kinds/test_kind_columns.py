"""Per-kind columns: the tree's header names the current list's own Table columns, each row shows its own cells
there, equal to what ``kubectl get`` prints, and every column sorts (numbers as numbers, ages as durations)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from kube9_desktop.headless import format_tree, load_tree
from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.ui.main_window import MainWindow

LISTS = {
    "deployments": "Namespaces/team-a/Workloads/Deployments",
    "services": "Namespaces/team-a/Network/Services",
    "events": "Namespaces/team-a/Events",
    "backups": "Namespaces/team-a/Custom resources/stable.example.com/backups",
    "databases": "Namespaces/team-a/Custom resources/stable.example.com/databases",
}


def kubectl_table(sim: Any, resource: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """``kubectl get RESOURCE -n team-a -o wide``: its header and its rows by NAME, cells found by the header's
    offsets (a cell may hold spaces: an event's message)."""
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "get", resource,
                          "-n", "team-a", "-o", "wide"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    spans = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    header = [h for _s, h in spans]
    rows = {}
    for line in lines[1:]:
        cells = {h: line[a:b].strip() for (a, h), b in zip(spans, [*[s for s, _h in spans[1:]], None], strict=True)}
        rows[cells["NAME"]] = cells
    return header, rows


def same_cell(ours: str, theirs: str) -> bool:
    """Equal, or (an age such as an event's Last Seen) within two minutes: the clock moves between the reads."""
    if ours.replace("<none>", "") == theirs.replace("<none>", ""):
        return True
    a, b = render.duration_seconds(ours), render.duration_seconds(theirs)
    return a is not None and b is not None and abs(a - b) <= 120


@pytest.fixture
def model(qapp: Any, service_factory: Any, run: Any) -> Any:
    m = ClusterTreeModel()
    m.set_service(service_factory())
    m.set_context("sim-admin", user=False)
    yield m
    run(m.shutdown())


@pytest.mark.parametrize("resource", list(LISTS))
def test_kind_cells_are_kubectls(model: ClusterTreeModel, sim: Any, run: Any, resource: str) -> None:
    path = LISTS[resource]
    assert run(load_tree(model, 0, [path])) == []
    node = model.find(path)
    assert node is not None and node.children
    assert model.follow_kind(node)  # the header now names this kind's columns
    labels = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    header, rows = kubectl_table(sim, resource)
    # Every column kubectl prints has one of ours with its name (Name and Age are the tree's own).
    ours = {str(lab).upper(): c for c, lab in enumerate(labels) if lab}
    compared = [h for h in header if h in ours and h not in ("NAME", "AGE")]
    printed = {"deployments": ["READY", "UP-TO-DATE", "AVAILABLE"],
               "services": ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
               "events": ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE", "COUNT"],
               "backups": ["SCHEDULE", "PHASE", "RETENTION"],
               "databases": ["ENGINE", "VERSION", "REPLICAS", "READY REPLICAS", "STORAGE", "ENDPOINT", "TLS",
                             "BACKUP", "PHASE"]}[resource]
    assert sorted(compared) == sorted(printed), labels
    matched = 0
    for child in node.children:
        if child.row is None or child.row.name not in rows:
            continue  # an event newer than kubectl's read
        want = rows[child.row.name]
        for h in compared:
            got = str(model.data(model.index_of(child, ours[h])))
            assert same_cell(got, want[h]), (child.row.name, h, got, want[h])
        matched += 1
    assert matched >= min(3, len(rows)) and matched >= len(node.children) // 2


def test_print_tree_prints_a_kinds_columns(model: ClusterTreeModel, sim: Any, run: Any) -> None:
    assert run(load_tree(model, 0, [LISTS["services"]])) == []
    node = model.find(LISTS["services"])
    assert node is not None
    _header, rows = kubectl_table(sim, "services")
    lines = format_tree(node)
    assert len(lines) == len(rows) + 1
    for line in lines[1:]:
        name, status, *fields = line.strip().split("\t")
        want = rows[name]
        assert status == want["TYPE"]
        assert fields == [f"Cluster-IP: {want['CLUSTER-IP']}", f"External-IP: {want['EXTERNAL-IP']}",
                          f"Port(s): {want['PORT(S)']}"]


def test_cells_sort_as_numbers_and_durations() -> None:
    def order(cells: list[str]) -> list[str]:
        return sorted(cells, key=render.cell_sort_key)

    assert order(["10", "9", "100", "<none>", "1"]) == ["1", "9", "10", "100", "<none>"]
    assert order(["1h", "45s", "3d4h", "9m", "2y", "90s"]) == ["45s", "90s", "9m", "1h", "3d4h", "2y"]
    assert order(["2/3", "10/10", "1/3"]) == ["1/3", "2/3", "10/10"]
    assert order(["10.0.0.10", "10.0.0.9", "10.0.1.1"]) == ["10.0.0.9", "10.0.0.10", "10.0.1.1"]
    assert order(["3 (5m ago)", "12", "0"]) == ["0", "3 (5m ago)", "12"]
    assert render.duration_seconds("3d4h") == 3 * 86400 + 4 * 3600 and render.duration_seconds("web") is None


def test_header_follows_the_current_list(open_in_window: Any,
                                         window: MainWindow, run: Any, qtbot: Any, tmp_path: Path) -> None:
    tree, header = window.tree, window.tree.header()

    def shown() -> list[str]:
        return [str(window.model.headerData(c, Qt.Orientation.Horizontal)) for c in range(header.count())
                if not header.isSectionHidden(c)]

    pods = open_in_window("Namespaces/team-a/Workloads/Pods")
    deployments = open_in_window("Namespaces/team-a/Workloads/Deployments")
    services = open_in_window("Namespaces/team-a/Network/Services")
    for node, want in ((pods, ["Name", "Status", "Ready", "Restarts", "Age"]),
                       (deployments, ["Name", "Status", "Ready", "Up-to-date", "Available", "Age"]),
                       (services, ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"])):
        row = next(c for c in node.children if c.type is NodeType.OBJECT)
        tree.setCurrentIndex(window._view_index(window.model.index_of(row)))
        qtbot.waitUntil(lambda want=want: [s for s in shown() if s not in ("CPU", "Memory")] == want, timeout=5000)
        # A row of another kind shows its own cells there; the tooltip names them.
        pod = next(c for c in pods.children if c.row is not None)
        tip = window.model.data(window.model.index_of(pod, render.COL_KIND), Qt.ItemDataRole.ToolTipRole)
        assert tip == f"Ready: {pod.row.ready}"  # type: ignore[union-attr]
    # A folder leaves the header as it was (the lists below it are what the columns show).
    assert services.parent is not None
    tree.setCurrentIndex(window._view_index(window.model.index_of(services.parent)))
    assert "Cluster-IP" in shown()
    window.grab().save(str(tmp_path / "columns.png"))


def test_a_kind_column_sorts_by_its_values(open_in_window: Any, window: MainWindow, run: Any, qtbot: Any) -> None:
    events = open_in_window("Namespaces/team-a/Events")
    row = next(c for c in events.children if c.type is NodeType.OBJECT)
    window.tree.setCurrentIndex(window._view_index(window.model.index_of(row)))
    labels = [window.model.headerData(c, Qt.Orientation.Horizontal) for c in range(render.COL_AGE)]
    last_seen = labels.index("Last Seen")
    window.modes.on_header_clicked(last_seen)
    assert window.tree.model() is window.proxy
    proxy = window.proxy
    parent = proxy.mapFromSource(window.model.index_of(events))
    cells = [str(proxy.data(proxy.index(r, last_seen, parent))) for r in range(proxy.rowCount(parent))]
    seconds = [render.duration_seconds(c) for c in cells]
    assert len(seconds) > 3 and None not in seconds
    assert seconds == sorted(seconds), cells  # type: ignore[type-var]
    # The sorted view (the proxy) shows the same columns: Last Seen, Reason, Object, Message, Count.
    header = window.tree.header()
    assert [header.isSectionHidden(c) for c in render.KIND_COLUMNS] == [False] * 5 + [True] * (render.KIND_SLOTS - 5)


def test_a_crd_shows_every_printer_column_kubectl_prints(open_in_window: Any, window: MainWindow, sim: Any,
                                                         qtbot: Any, tmp_path: Path) -> None:
    """A CRD with nine printer columns of priority 0 (databases.stable.example.com): the header names all nine, as
    ``kubectl get`` prints them, and shows them; the priority-1 column (``-o wide`` only) is not among them."""
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "get", "databases",
                          "-n", "team-a"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    printed = [h for h in re.split(r"\s{2,}", out.stdout.splitlines()[0].strip()) if h not in ("NAME", "AGE")]
    assert len(printed) > 6  # what the tree used to cut
    dbs = open_in_window(LISTS["databases"])
    row = next(c for c in dbs.children if c.type is NodeType.OBJECT)
    window.tree.setCurrentIndex(window._view_index(window.model.index_of(row)))
    header = window.tree.header()

    def shown_kind_columns() -> list[str]:
        return [str(window.model.headerData(c, Qt.Orientation.Horizontal)).upper() for c in render.KIND_COLUMNS
                if not header.isSectionHidden(c)]

    qtbot.waitUntil(lambda: shown_kind_columns() == printed, timeout=5000)
    assert "MAINTENANCE" not in shown_kind_columns()
    # Nine columns do not fit beside the names: Name keeps a readable width and the view scrolls sideways (a
    # stretching Name was squeezed to nothing).
    qtbot.waitUntil(lambda: header.sectionSize(render.COL_NAME) >= 150, timeout=5000)
    assert window.tree.horizontalScrollBar().maximum() > 0
    assert row.row is not None and render.kind_cell(row.row, render.COL_KIND + len(printed) - 1) == (
        row.row.cells.get("Phase") or "")
    window.grab().save(str(tmp_path / "crd-columns.png"))
