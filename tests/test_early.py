"""``--print-tree``'s data service started before Qt is imported (kube9_desktop/early.py), against the sim."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop import early
from kube9_desktop.app import _make_service, build_parser

CONTEXT = "sim-admin"


def _until(cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _settings(tmp_path: Path, **values: Any) -> Any:
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore

    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    if values:
        store.apply(values)
    return store


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> Any:
    yield
    early.take()  # a test that failed half-way leaves no service for the next one


def test_a_print_tree_run_prepares_its_context_on_a_thread_of_its_own(sim: Any, run: Any) -> None:
    """The service is created and the top level's connections opened (six TLS handshakes with the sim) without a
    request and without Qt's event loop; the run then takes it once."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", CONTEXT, "--print-tree",
                                      "--backend", "api"])
    started = early.start(args)
    assert started is not None
    service = started.future.result(timeout=60)
    try:
        _until(lambda: service.stats(CONTEXT).open_connections == 6)
        stats = service.stats(CONTEXT)
        assert (stats.connections, stats.requests) == (6, 0)
        assert early.take() is started and early.take() is None
    finally:
        run(service.aclose())


@pytest.mark.parametrize("extra", [["--settings-file", "s.ini"], ["--demo"], ["--run", "help"], []])
def test_nothing_starts_early_unless_a_print_tree_needs_only_defaults(extra: list[str], sim: Any,
                                                                      tmp_path: Path) -> None:
    """Settings from a file need Qt to read, --demo's kubeconfig comes from a sim started later, and other modes
    prepare no context: none of them starts a service early."""
    argv = ["--kubeconfig", sim.kubeconfig, *[str(tmp_path / a) if a == "s.ini" else a for a in extra]]
    if "--run" not in extra:
        argv.append("--print-tree" if extra else "--version")
    assert early.start(build_parser().parse_args(argv)) is None
    assert early.take() is None


def test_the_run_takes_the_early_service_only_if_its_settings_are_the_ones_it_was_built_with(
        sim: Any, run: Any, tmp_path: Path) -> None:
    """Same settings: the run's service is the prepared one (its connections already open). Other settings (a
    larger page size): a service of its own, and the early one is closed (no connection left open)."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", CONTEXT, "--print-tree"])
    started = early.start(args)
    assert started is not None
    service = run(_make_service(args, _settings(tmp_path / "a"), sim.kubeconfig), 60)
    try:
        assert service is started.future.result()
    finally:
        run(service.aclose())

    started = early.start(args)
    assert started is not None
    prepared = started.future.result(timeout=60)
    _until(lambda: prepared.stats(CONTEXT).open_connections == 6)
    service = run(_make_service(args, _settings(tmp_path / "b", **{"network/page_size": 777}), sim.kubeconfig),
                  60)
    try:
        assert service is not prepared and service.options.page_size == 777
        assert prepared.stats(CONTEXT).open_connections == 0
    finally:
        run(service.aclose())


def test_an_early_service_that_failed_is_built_again_by_the_run(sim: Any, run: Any, tmp_path: Path) -> None:
    """Whatever stopped the early build, the run builds its service the usual way (and meets the problem there)."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", CONTEXT, "--print-tree"])
    failing = early.EarlyService(sim.kubeconfig, CONTEXT, "no-such-backend")
    failing.run()
    assert isinstance(failing.future.exception(), ValueError)
    early._EARLY = failing
    service = run(_make_service(args, _settings(tmp_path), sim.kubeconfig), 60)
    try:
        assert service.backend_name == "api" and CONTEXT in service.kubeconfig.names()
        assert early.take() is None
    finally:
        run(service.aclose())
