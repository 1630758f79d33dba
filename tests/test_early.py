"""``--print-tree``'s context prepared before Qt is imported (kube9_desktop/early.py), against the sim."""

from __future__ import annotations

import time
from collections.abc import Iterator
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
def _nothing_left_behind(run: Any) -> Iterator[None]:
    yield
    prepared = early.take()  # a test that failed half-way leaves nothing prepared for the next one
    if prepared is not None:
        run(prepared.aclose())


def test_a_print_tree_run_opens_its_context_connections_before_qt(sim: Any, run: Any) -> None:
    """The kubeconfig is read and the top level's connections opened (six TLS handshakes with the sim) without a
    request and without an event loop; the run then takes them once."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", CONTEXT, "--print-tree",
                                      "--backend", "api"])
    prepared = early.prepare(args)
    assert prepared is not None and prepared.api is not None
    try:
        assert CONTEXT in prepared.kubeconfig.names()
        _until(lambda: prepared.api is not None and prepared.api.stats(CONTEXT).open_connections == 6)
        stats = prepared.api.stats(CONTEXT)
        assert (stats.connections, stats.requests) == (6, 0)
        assert early.take() is prepared and early.take() is None
    finally:
        run(prepared.aclose())


@pytest.mark.parametrize("extra", [["--settings-file", "s.ini"], ["--demo"], ["--run", "help"], []])
def test_nothing_is_prepared_unless_a_print_tree_needs_only_defaults(extra: list[str], sim: Any,
                                                                     tmp_path: Path) -> None:
    """Settings from a file need Qt to read, --demo's kubeconfig comes from a sim started later, and other modes
    open no context: none of them prepares anything."""
    argv = ["--kubeconfig", sim.kubeconfig, *[str(tmp_path / a) if a == "s.ini" else a for a in extra]]
    if "--run" not in extra:
        argv.append("--print-tree" if extra else "--version")
    assert early.prepare(build_parser().parse_args(argv)) is None
    assert early.take() is None


def test_the_run_takes_what_was_prepared_only_if_its_settings_are_the_ones_it_was_made_with(
        sim: Any, run: Any, tmp_path: Path) -> None:
    """Same settings: the run's service lists through the prepared backend (its connections already open: the top
    level opens none). Other settings (a larger page size): a service of its own, and the prepared backend is closed
    (no connection left open)."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", CONTEXT, "--print-tree"])
    prepared = early.prepare(args)
    assert prepared is not None and prepared.api is not None
    service = run(_make_service(args, _settings(tmp_path / "a"), sim.kubeconfig), 60)
    try:
        assert service.api_backend is prepared.api and service.kubeconfig is prepared.kubeconfig
        _until(lambda: service.stats(CONTEXT).open_connections == 6)
        assert run(service.version(CONTEXT), 60).startswith("v")
        assert service.stats(CONTEXT).connections == 6  # the request took a prepared connection
    finally:
        run(service.aclose())

    prepared = early.prepare(args)
    assert prepared is not None and prepared.api is not None
    api = prepared.api
    _until(lambda: api.stats(CONTEXT).open_connections == 6)
    service = run(_make_service(args, _settings(tmp_path / "b", **{"network/page_size": 777}), sim.kubeconfig),
                  60)
    try:
        assert service.api_backend is not api and service.options.page_size == 777
        assert api.stats(CONTEXT).open_connections == 0
    finally:
        run(service.aclose())


def test_a_context_the_kubeconfig_lacks_opens_nothing_and_the_run_says_so_as_before(sim: Any, run: Any,
                                                                                   tmp_path: Path) -> None:
    """An unknown context: nothing is connected ahead, and the run's service is made on the kubeconfig read (the
    print then reports the context as missing, as without this)."""
    args = build_parser().parse_args(["--kubeconfig", sim.kubeconfig, "--context", "no-such", "--print-tree"])
    prepared = early.prepare(args)
    assert prepared is not None and prepared.api is not None
    assert prepared.api.stats("no-such").connections == 0
    service = run(_make_service(args, _settings(tmp_path), sim.kubeconfig), 60)
    try:
        assert "no-such" not in service.kubeconfig.names() and CONTEXT in service.kubeconfig.names()
    finally:
        run(service.aclose())
