"""Back / Forward (Alt+Left / Alt+Right) through the rows selected, in the window."""

from __future__ import annotations

from typing import Any

from kube9_desktop.commands.registry import REGISTRY
from kube9_desktop.ui.history import SelectionHistory


def test_back_and_forward_select_the_rows_selected_before(sim: Any, make_window: Any, qtbot: Any) -> None:
    w = make_window()

    def selected() -> str | None:
        n = w.model.node(w.source_index(w.tree.currentIndex()))
        return n.row.name if n is not None and n.row is not None else None

    pods = [p["metadata"]["name"] for p in sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]][:2]
    nodes = [n["metadata"]["name"] for n in sim.request("GET", "/api/v1/nodes")["items"]][:1]
    for path, name in ((f"Namespaces/team-a/Workloads/Pods/{pods[0]}", pods[0]), (f"Nodes/{nodes[0]}", nodes[0]),
                       (f"Namespaces/team-a/Workloads/Pods/{pods[1]}", pods[1])):
        w.reveal_path(path)
        qtbot.waitUntil(lambda name=name: selected() == name, timeout=20000)
    assert REGISTRY.get("back").shortcut == "Alt+Left" and REGISTRY.get("forward").shortcut == "Alt+Right"
    for step, want in ((-1, nodes[0]), (-1, pods[0]), (1, nodes[0]), (1, pods[1])):
        w.port.open_view("history", step)
        qtbot.waitUntil(lambda want=want: selected() == want, timeout=20000)
    # A new selection after going back drops the forward part.
    w.port.open_view("history", -1)
    qtbot.waitUntil(lambda: selected() == nodes[0], timeout=20000)
    w.reveal_path(f"Namespaces/team-a/Workloads/Pods/{pods[0]}")
    qtbot.waitUntil(lambda: selected() == pods[0], timeout=20000)
    h = w.selection_history  # type: ignore[attr-defined]
    assert h.step(1) is None and [p.rsplit("/", 1)[-1] for _c, p in h.entries] == [pods[0], nodes[0], pods[0]]


def test_history_drops_the_forward_part_and_skips_repeats() -> None:
    h = SelectionHistory()
    for p in ("a", "b", "b", "c"):
        h.record("ctx", p)
    assert [p for _c, p in h.entries] == ["a", "b", "c"]
    assert h.step(-1) == ("ctx", "b")
    h.record("ctx", "b")  # the selection going back made: not recorded again
    h.record("ctx", "d")
    assert [p for _c, p in h.entries] == ["a", "b", "d"] and h.step(1) is None
