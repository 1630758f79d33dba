"""A list whose later page fails keeps the rows it shows (a failure never loses the user's state), says so on its
row, is not watched while partial, and a Refresh lists it again in full; a first page that fails is an error row."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from model_helpers import until
from PySide6.QtCore import QSettings

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.headless import format_tree, load_tree
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel

PODS = "Namespaces/team-a/Workloads/Pods"
PODS_PATH = "^/api/v1/namespaces/team-a/pods$"


@pytest.fixture
def model(service_factory: Any, sim: Any, run: Any) -> Iterator[ClusterTreeModel]:
    """A model on the session sim, listing 10 rows a page with no automatic retries (a 500 fails the list)."""
    m = ClusterTreeModel()
    m.failures = []  # type: ignore[attr-defined]
    m.load_failed.connect(lambda e, user: m.failures.append(e))  # type: ignore[attr-defined]
    m.set_service(service_factory(page_size=10, retries=0))
    m.set_context("sim-admin", user=False)
    try:
        yield m
    finally:
        sim.clear_faults()
        run(m.shutdown())


def server_pod_names(sim: Any) -> list[str]:
    return sorted(p["metadata"]["name"] for p in sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"])


def objects(node: TreeNode) -> list[str]:
    return sorted(c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None)


def view_path(model: ClusterTreeModel, path: str) -> TreeNode:
    """Report every node on ``path`` as open in a view (as the window does), so loaded lists there are watched."""
    parts = path.split("/")
    node = None
    for i in range(1, len(parts) + 1):
        node = model.find("/".join(parts[:i]))
        assert node is not None, path
        model.live.note_expanded(node)
    assert node is not None
    return node


def test_a_list_whose_later_page_fails_keeps_its_rows_and_refresh_loads_it_whole(
        model: ClusterTreeModel, sim: Any, run: Any) -> None:
    everything = server_pod_names(sim)
    assert len(everything) > 10, "team-a needs more than one page of pods"
    # The first request of the list is served (the first fault only counts it); every later one on that path —
    # the continue request, and the lookup when the list is opened — fails with a 500.
    sim.set_faults([{"path": PODS_PATH, "count": 1}, {"path": PODS_PATH, "status": 500}])
    assert run(load_tree(model, 1, [PODS])) == []
    pods = view_path(model, PODS)
    assert run(until(lambda: pods.state is LoadState.LOADED and "failed" in pods.note, timeout=20.0))

    kept = objects(pods)
    assert 0 < len(kept) < len(everything), "the rows of the pages that came are kept"
    assert set(kept) <= set(everything)
    assert all(c.type is NodeType.OBJECT for c in pods.children), "no error row in place of the rows"
    assert pods.count == len(kept)
    assert pods.note.startswith(f"showing {len(kept)}")
    assert "loading the rest failed" in pods.note and "Refresh to retry" in pods.note
    assert pods.note in str(model.data(model.index_of(pods))), "the note is on the list's row"
    assert any(e.kind is ErrorKind.SERVER for e in model.failures)  # type: ignore[attr-defined]
    assert not model.live.watching(pods), "a partial list must not be watched: a watch would claim it current"
    # --print-tree's lines: the kept rows, and the note on the list's line.
    lines = format_tree(pods)
    assert pods.note in lines[0]
    assert sorted(line.strip().split("\t")[0] for line in lines[1:]) == kept

    sim.clear_faults()
    assert model.refresh("sim-admin")
    run(model.wait_idle())
    assert run(until(lambda: objects(pods) == server_pod_names(sim) and not pods.note, timeout=20.0))
    assert pods.count == len(objects(pods)) and not pods.partial
    assert run(until(lambda: model.live.watching(pods), timeout=20.0)), "loaded whole again, the list is watched"


def test_a_list_whose_first_page_fails_shows_the_error_row(model: ClusterTreeModel, sim: Any, run: Any) -> None:
    sim.set_faults([{"path": PODS_PATH, "status": 500}])
    run(load_tree(model, 1, [PODS]))
    pods = model.find(PODS)
    assert pods is not None
    assert pods.state is LoadState.FAILED
    assert [c.type for c in pods.children] == [NodeType.ERROR]
    assert not pods.partial and not pods.note


def test_print_tree_prints_the_kept_rows_and_the_note(sim: Any, tmp_path: Path) -> None:
    settings = tmp_path / "settings.ini"
    store = SettingsStore(QSettings(str(settings), QSettings.Format.IniFormat))
    store.set("network/page_size", 10)
    del store
    everything = server_pod_names(sim)
    sim.set_faults([{"path": PODS_PATH, "count": 1}, {"path": PODS_PATH, "status": 500}])
    try:
        tree = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context",
                               "sim-admin", "--settings-file", str(settings), "--print-tree", "--depth", "1",
                               "--expand", PODS], capture_output=True, text=True, timeout=180)
    finally:
        sim.clear_faults()
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith("Pods")), None)
    assert at is not None, tree.stdout
    head = lines[at].strip()
    assert "loading the rest failed" in head and "Refresh to retry" in head, head
    indent = len(lines[at]) - len(lines[at].lstrip())
    rows = []
    for line in lines[at + 1:]:
        if len(line) - len(line.lstrip()) <= indent or line.startswith("#"):
            break
        rows.append(line.strip().split("\t")[0])
    assert rows and not any(r.startswith("!") for r in rows), "the kept rows, not an error row"
    assert set(rows) <= set(everything) and len(rows) < len(everything)
    assert head.startswith(f"Pods ({len(rows)}) [showing {len(rows)}"), head
