"""Draining a node from the window against kube9-sim, a PodDisruptionBudget in the way: the progress dialog shows
each blocked pod's retries with their growing pauses, Cancel stops the drain, and kubectl referees what stayed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.progress import ProgressDialog

#: A sim of this module's own (the drain evicts pods of every namespace on the node).
SIM_ARGS = ("--pods", "60", "--namespaces", "2", "--nodes", "2")
NODE = "node-2"


@pytest.fixture
def sim(module_sim: Any) -> Iterator[Any]:
    """The windows of this module open on its own sim (``make_window`` takes the ``sim`` fixture)."""
    yield module_sim


def blocking_budget(sim: Any) -> tuple[str, str, str]:
    """A budget that allows no disruption for an app with a running pod on :data:`NODE`: ``(ns, app, pod)``."""
    pods = json.loads(sim.kubectl("get", "pods", "-A", f"--field-selector=spec.nodeName={NODE}", "-o", "json"))
    pod = next(p for p in pods["items"] if (p["metadata"].get("ownerReferences") or [{}])[0].get("kind")
               == "ReplicaSet" and p["status"].get("phase") == "Running")
    ns, app = pod["metadata"]["namespace"], pod["metadata"]["labels"]["app"]
    sim.request("POST", f"/apis/policy/v1beta1/namespaces/{ns}/poddisruptionbudgets", {
        "apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "no-disruption"},
        "spec": {"minAvailable": "100%", "selector": {"matchLabels": {"app": app}}}})
    return ns, app, pod["metadata"]["name"]


def test_drain_shows_each_blocked_pods_retries_and_cancel_stops_it(window: MainWindow, open_in_window: Any,
                                                                    run: Any, qtbot: Any, sim: Any) -> None:
    ns, _app, blocked = blocking_budget(sim)
    nodes = open_in_window("Nodes")
    node = next(n for n in nodes.children if n.row is not None and n.row.name == NODE)
    window.tree.setCurrentIndex(window.model.index_of(node))
    task = window.commands.trigger("drain")
    assert task is not None
    qtbot.waitUntil(lambda: window.port.dialog is not None and window.port.dialog.isVisible(), timeout=10000)
    assert window.port.dialog.question_label.text() == f"Drain node {NODE}?"  # type: ignore[union-attr]
    window.port.dialog.ok_button.click()  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: isinstance(window.findChild(QDialog, "commandProgress"), ProgressDialog),
                    timeout=10000)
    dialog = window.findChild(QDialog, "commandProgress")
    assert isinstance(dialog, ProgressDialog) and not dialog.isModal()
    assert dialog.windowTitle() == f"Drain node {NODE}"

    def lines() -> str:
        return dialog.lines.toPlainText()

    def mine() -> list[str]:
        return [ln for ln in lines().splitlines() if ln.startswith(f"pod/{blocked} ")]

    # The blocked pod is named with the budget's reason, and tried again after 1 s, then after 2 s (backoff).
    qtbot.waitUntil(lambda: len(mine()) >= 2, timeout=15000)
    first, second = mine()[:2]
    assert first.startswith(f"pod/{blocked} ({ns}) blocked by its disruption budget (The disruption budget "
                            "no-disruption needs "), first
    assert first.endswith("; retrying in 1 s") and second.endswith("; retrying in 2 s"), mine()
    assert f"{NODE} cordoned" in lines().splitlines()[0]
    assert any(ln.startswith("skipping kube-system/") and ln.endswith(": DaemonSet pod") for ln in lines().splitlines())
    assert any(ln.startswith("pod/") and " evicted (" in ln for ln in lines().splitlines())  # the others went

    dialog.cancel_button.click()
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.cancelled()
    assert window.port.messages[-1] == f"Drain node {NODE}: cancelled (what was done stays done)"
    # The referee: the blocked pod was never evicted, and the node stays cordoned.
    pod = json.loads(sim.kubectl("get", "pod", blocked, "-n", ns, "-o", "json"))
    assert not pod["metadata"].get("deletionTimestamp")
    assert sim.kubectl("get", "node", NODE, "-o", "jsonpath={.spec.unschedulable}") == "true"
    # No retry after the cancel: the budget's pod is asked no more.
    asked = len([ln for ln in window.port.messages if ln.startswith(f"pod/{blocked} ")])
    run(asyncio.sleep(2.5))
    assert len([ln for ln in window.port.messages if ln.startswith(f"pod/{blocked} ")]) == asked
    # The tree shows the cordon (write events, though the command did not end well).
    qtbot.waitUntil(lambda: node.row is not None and "SchedulingDisabled" in node.row.status, timeout=5000)
    sim.kubectl("delete", "pdb", "no-disruption", "-n", ns)
    sim.kubectl("uncordon", NODE)
