"""The window under load: switching contexts mid-load, an impatient Refresh, closing while loads run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from reliability_helpers import assert_healthy, object_names

from kube9_desktop.model.nodes import LoadState
from kube9_desktop.sim.process import SimProcess


def _kube9_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kube9-") and t.is_alive()]


def test_switching_contexts_mid_load_never_shows_the_old_contexts_results(
        fsim: SimProcess, services: Callable[..., Any], window_factory: Callable[..., Any], run: Any) -> None:
    svc = services(fsim.kubeconfig, retries=0)
    win = window_factory()
    win.show()
    # sim-admin's lists are slow and then fail; the user moves on before they answer.
    fsim.set_faults([{"path": "^/api/v1/nodes$", "status": 500, "latency_ms": 600},
                     {"path": "^/api/v1/namespaces$", "latency_ms": 600}])
    try:
        win.attach_service(svc, context="sim-admin")
        run(asyncio.sleep(0.1))
        win.context_box.setCurrentText("sim-cert")
        run(asyncio.sleep(0.05))
        win.context_box.setCurrentText("sim-viewer")
        run(win.model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    assert win.current_context() == "sim-viewer"
    root = win.model.context_node()
    assert root is not None and all(n.context == "sim-viewer" for n in root.walk())
    assert object_names(win.model.find("Namespaces")) == ["team-a"]
    # No dialog about a context the user already left (sim-admin's late 500 on nodes).
    shown = [e for burst in win.errors.shown for e in burst.errors]
    assert {e.context for e in shown} <= {"sim-viewer"}, [(e.context, e.message) for e in shown]
    assert win.status_context.text().strip() == "sim-viewer"
    # The admin tree loaded in the background and is there, complete, when the user comes back.
    win.context_box.setCurrentText("sim-admin")
    run(win.model.wait_idle(), 20)
    assert object_names(win.model.find("Namespaces"))


def test_refresh_pressed_ten_times_is_one_reload(fsim: SimProcess, services: Callable[..., Any],
                                                 window_factory: Callable[..., Any], run: Any) -> None:
    svc = services(fsim.kubeconfig)
    win = window_factory()
    win.attach_service(svc, context="sim-admin")
    run(win.model.wait_idle(), 20)
    fsim.set_faults([{"path": "^/api/v1/(nodes|namespaces)$", "latency_ms": 300}])
    try:
        fsim.reset_stats()
        for _ in range(10):
            win.refresh_action.trigger()
        run(asyncio.sleep(0.1))  # Refresh is the registry's command: its runs start on the loop
        assert "already in progress" in win.statusBar().currentMessage()
        run(win.model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    by_path = fsim.stats()["by_path"]
    assert by_path.get("/api/v1/nodes") == 1 and by_path.get("/api/v1/namespaces") == 1, by_path
    assert not win.errors.shown


@pytest.mark.parametrize("fault", ["stall", "latency"])
def test_closing_the_window_during_loads_exits_cleanly(
        fault: str, fsim: SimProcess, services: Callable[..., Any], window_factory: Callable[..., Any], run: Any,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    before = set(_kube9_threads())
    # Default timeouts: nothing here may wait for a 30 s read timeout.
    svc = services(fsim.kubeconfig)
    win = window_factory()
    win.show()
    spec = {"mode": "stall"} if fault == "stall" else {"latency_ms": 2000}
    fsim.set_faults([{"path": "^/api/v1/(nodes|namespaces|persistentvolumes)$", **spec}])
    try:
        closed: list[bool] = []
        win.closed.connect(lambda: closed.append(True))
        win.attach_service(svc, context="sim-admin")
        run(asyncio.sleep(0.3))
        assert win.model.busy
        t0 = time.monotonic()
        win.close()
        assert closed
        # What the app does after the window closed (app._run_window's finally).
        run(win.shutdown(), 5)
        run(svc.aclose(), 5)
        deadline = time.monotonic() + 3
        while set(_kube9_threads()) - before and time.monotonic() < deadline:
            time.sleep(0.05)
        left = set(_kube9_threads()) - before
        took = time.monotonic() - t0
    finally:
        fsim.clear_faults()
    assert not left, f"threads still running after close: {left}"
    assert took < 4
    assert not win.model.busy
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert not win.errors.visible()


def test_healthy_after_the_ui_faults(sim: SimProcess, services: Callable[..., Any], run: Any) -> None:
    from kube9_desktop.model.tree_model import ClusterTreeModel

    model = ClusterTreeModel()
    model.set_service(services(sim.kubeconfig))
    assert_healthy(model, run, "sim-admin")
    assert model.context_node() is not None and model.context_node().state is LoadState.LOADED  # type: ignore
