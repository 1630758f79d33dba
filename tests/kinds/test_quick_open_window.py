"""Quick open in the window (Ctrl+P): the box finds a pod of a namespace not opened yet by a fragment of its name,
Enter reveals it in the tree and selects it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from kube9_desktop.ui.quick_open import QuickOpen


def test_quick_open_reveals_a_pod_in_an_unopened_namespace(sim: Any, make_window: Any, qtbot: Any,
                                                           tmp_path: Path) -> None:
    w = make_window()
    pods = sim.request("GET", "/api/v1/namespaces/team-b/pods")["items"]
    pod = pods[len(pods) // 2]["metadata"]["name"]
    assert w.model.find(f"Namespaces/team-b/Workloads/Pods/{pod}") is None  # not loaded yet
    # What the open command (Ctrl+P) does in the window.
    assert w.port.open_view("quick-open", pod[:-4])
    box = next(b for b in QApplication.topLevelWidgets() if isinstance(b, QuickOpen) and b.isVisible())
    qtbot.waitUntil(lambda: box.results.count() > 0 and box.results.item(0).text().startswith(pod), timeout=20000)
    box.grab().save(str(tmp_path / "quick_open.png"))
    box.go()
    qtbot.waitUntil(lambda: (n := w.model.node(w.source_index(w.tree.currentIndex()))) is not None
                    and n.row is not None and n.row.name == pod, timeout=20000)
    assert w.model.node(w.source_index(w.tree.currentIndex())).path() == (
        "sim-admin", "Namespaces", "team-b", "Workloads", "Pods", pod)
