"""Shared fixtures: a qasync event loop on the test's QApplication, and a running kube9-sim.

pytest-qt has no qasync integration (its maintainers declined it), so :func:`qloop` runs a qasync loop on pytest-qt's
``qapp`` and :func:`run` drives a coroutine on it to completion.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The suite's sims bring new pods up at once and stop deleted ones after 1 s (kube9_desktop/sim/pod_lifecycle.py):
# tests converge fast. Tests of the pacing itself start their sim with --pod-start/ready/stop-seconds.
os.environ.setdefault("KUBE9_SIM_PACE", "0,0,1")


@pytest.fixture(autouse=True)
def gui_thread_gc(request: pytest.FixtureRequest) -> Iterator[None]:
    """Collect garbage on the GUI thread only, as the app does (kube9_desktop/ui/gc_driver.py).

    Worker threads allocate a lot; a collection they trigger could destroy a test's Qt objects from the wrong thread.
    """
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        yield
        return
    from kube9_desktop.ui.gc_driver import GcDriver

    # Nothing frozen: a test's objects frozen by a big test would outlive it (the driver's freezing has its own tests).
    driver = GcDriver(freeze_at=None)
    try:
        yield
    finally:
        driver.stop()


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync event loop running on the test's QApplication (function-scoped, closed afterwards)."""
    import qasync
    from PySide6.QtCore import QEventLoop as QtEventLoop

    class TestLoop(qasync.QEventLoop):  # type: ignore[misc]
        """A loop that counts as running for the whole test, like the app's loop.

        pytest-qt processes Qt events around each test phase; with a loop that is only "running" inside
        ``run_until_complete`` (qasync's default), task steps taken then would find no running loop.
        ``run_until_complete`` spins a nested Qt event loop instead.
        """

        def run_until_complete(self, future: Any) -> Any:
            future = asyncio.ensure_future(future, loop=self)
            if not future.done():
                waiter = QtEventLoop()
                future.add_done_callback(lambda _f: waiter.quit())
                waiter.exec()
            return future.result()

    loop = TestLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop._after_run_forever()
        loop._QEventLoop__is_running = False  # leave the "already running" state so close() is allowed
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
        del loop
        # Collect the loop's Qt objects (timers) here, on the GUI thread; a later collection could run in a worker
        # thread and Qt warns "Timers cannot be stopped from another thread".
        gc.collect()


@pytest.fixture
def run(qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``run(coro, timeout=30)`` runs a coroutine on the qasync loop and returns its result."""

    def _run(coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return _run


@pytest.fixture(scope="session")
def sim() -> Iterator[Any]:
    """One kube9-sim for the UI and model tests (300 pods, 12 namespaces, 5 nodes)."""
    from kube9_desktop.sim.process import SimProcess

    s = SimProcess.start("--pods", "300", "--namespaces", "12", "--nodes", "5")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def module_sim(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A sim started once per test module with the module's ``SIM_ARGS`` (kube9-sim's command line): for tests that
    need another size, seed or churn than the session's, or that change the cluster."""
    from kube9_desktop.sim.process import SimProcess

    args = getattr(request.module, "SIM_ARGS", None)
    if args is None:
        pytest.fail(f"{request.module.__name__} uses module_sim but sets no SIM_ARGS")
    p = SimProcess.start(*args)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def sim_names(sim: Any) -> Callable[..., list[str]]:
    """``sim_names(path, token=None)``: names the sim lists at ``path`` (the truth the tree is compared with)."""

    def _names(path: str, token: str | None = None) -> list[str]:
        body = sim.request("GET", path, token=token)
        return sorted(item["metadata"]["name"] for item in body["items"])

    return _names


@pytest.fixture
def service_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``service_factory(backend="api", kubeconfig=None, **options)``: a KubeService on ``kubeconfig`` (default: the
    sim's, started only then); all are closed after the test."""
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    made: list[Any] = []

    def _make(backend: str = "api", kubeconfig: str | None = None, **opts: Any) -> Any:
        path = kubeconfig or request.getfixturevalue("sim").kubeconfig
        svc = KubeService(load_kubeconfig(path), KubeOptions(**opts), backend=backend, kubeconfig_path=path)
        made.append(svc)
        return svc

    yield _make
    loop = asyncio.new_event_loop()
    try:
        for svc in made:
            loop.run_until_complete(svc.aclose())
    finally:
        loop.close()


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Any, service_factory: Any, run: Any) -> Callable[..., Any]:
    """``make_window(store=None, live=True, service=None, context="sim-admin")``: a shown MainWindow at its default
    size (1280x800), attached as ``context`` to ``service`` (default: one on the sim) with its first load done;
    settings in an ini file in ``tmp_path`` (the same file on each call) unless ``store`` is given, live updates off
    with ``live=False``. A module that overrides ``sim`` gets windows on its own sim.

    The window is shut down (watches, loads, timers) in pytest-qt's ``before_close_func``: pytest-qt closes and
    deletes its widgets before fixtures are torn down.
    """
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.ui.main_window import MainWindow

    def shut_down(w: Any) -> None:
        w.errors.close_all()
        run(w.shutdown())

    def _make(store: Any = None, live: bool = True, service: Any = None, context: str = "sim-admin") -> Any:
        if store is None:
            store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        if not live:
            store.set("live/enabled", False)
        w = MainWindow(store)
        qtbot.addWidget(w, before_close_func=shut_down)
        w.resize(1280, 800)
        w.show()
        if service is None:
            service = service_factory(connect_timeout=2.0)
        w.attach_service(service, context=context)
        run(w.model.wait_idle())
        return w

    return _make


@pytest.fixture
def window(make_window: Callable[..., Any]) -> Any:
    """A MainWindow on the session sim (see :func:`make_window`); modules that need another override it."""
    return make_window()


@pytest.fixture
def open_in_window(window: Any, run: Any) -> Callable[[str], Any]:
    """``open_in_window(path)``: loads the tree down to ``path``, expands that node in ``window``'s view, waits for
    its children and returns the node."""
    from kube9_desktop.headless import load_tree

    def _open(path: str) -> Any:
        run(load_tree(window.model, 0, [path], expand_view=window.expand_node))
        node = window.model.find(path)
        assert node is not None, path
        window.expand_node(node)
        # The folders opened on the way count their other lists in the background: done before the test acts, so a
        # loaded machine's loop serves the command under test rather than those (waits timed out at load 17).
        run(window.model.wait_idle())
        return node

    return _open
