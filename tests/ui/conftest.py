"""Fixtures for UI tests that need a sim of their own module (its size, seed or churn differ from the session's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def module_sim(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A sim started once per test module with the module's ``SIM_ARGS`` (kube9-sim's command line)."""
    from kube9_desktop.sim.process import SimProcess

    args = getattr(request.module, "SIM_ARGS", None)
    if args is None:
        pytest.fail(f"{request.module.__name__} uses module_sim but sets no SIM_ARGS")
    p = SimProcess.start(*args)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture()
def service(module_sim: Any) -> Iterator[Any]:
    """A KubeService (api backend) on ``module_sim``'s kubeconfig, closed after the test."""
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    svc = KubeService(load_kubeconfig(module_sim.kubeconfig), KubeOptions(), backend="api",
                      kubeconfig_path=module_sim.kubeconfig)
    yield svc
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(svc.aclose())
    finally:
        loop.close()
