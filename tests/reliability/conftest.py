"""Fixtures for the fault matrix: a dedicated kube9-sim for faults, services on any kubeconfig, model helpers.

Tests that inject faults use :func:`fsim` (one sim per test module, never the session sim) and always clear the
faults in ``finally``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from reliability_helpers import sim_config

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


@pytest.fixture(scope="module")
def fsim() -> Iterator[SimProcess]:
    """A small sim of this test module's own, for faults (60 pods, 4 namespaces, 2 nodes)."""
    s = SimProcess.start("--pods", "60", "--namespaces", "4", "--nodes", "2")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def services(qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., KubeService]]:
    """``services(kubeconfig_path, backend="api", **options)``: a KubeService closed after the test."""
    made: list[KubeService] = []

    def make(path: str | list[str], backend: str = "api", **opts: Any) -> KubeService:
        paths = path if isinstance(path, list) else [path]
        kc = load_kubeconfig(paths[0], extra_paths=paths[1:])
        svc = KubeService(kc, KubeOptions(**opts), backend=backend, kubeconfig_path=paths[0])
        made.append(svc)
        return svc

    yield make
    for svc in made:
        qloop.run_until_complete(svc.aclose())


@pytest.fixture
def write_kubeconfig(tmp_path: Path) -> Callable[..., str]:
    """``write_kubeconfig(sim, name="test", user=None, cluster=None, drop=())``: a one-context kubeconfig.

    Based on the sim's ``kube9-sim`` cluster and the admin token; ``cluster``/``user`` entries override, ``drop``
    removes cluster keys. Returns the file path.
    """
    counter = iter(range(1, 1000))

    def write(sim: SimProcess, name: str = "test", user: dict[str, Any] | None = None,
              cluster: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> str:
        cfg = sim_config(sim)
        base = next(c["cluster"] for c in cfg["clusters"] if c["name"] == "kube9-sim")
        cl = {k: v for k, v in base.items() if k not in drop}
        cl.update(cluster or {})
        usr = user if user is not None else {"token": sim.admin_token()}
        out = {"apiVersion": "v1", "kind": "Config", "current-context": name,
               "clusters": [{"name": f"{name}-cluster", "cluster": cl}],
               "users": [{"name": f"{name}-user", "user": usr}],
               "contexts": [{"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user",
                                                       "namespace": "default"}}]}
        p = tmp_path / f"kubeconfig-{next(counter)}.yaml"
        p.write_text(yaml.safe_dump(out))
        os.chmod(p, 0o600)
        return str(p)

    return write


@pytest.fixture
def window_factory(qtbot: Any, tmp_path: Path, qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    """``window_factory()``: a MainWindow with an ini settings file in tmp_path; shut down after the test."""
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.ui.main_window import MainWindow

    made: list[Any] = []

    def make() -> Any:
        settings = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        win = MainWindow(settings)
        made.append(win)
        return win

    yield make
    for win in made:
        win.errors.close_all()
        qloop.run_until_complete(win.shutdown())
        win.close()
        win.deleteLater()
