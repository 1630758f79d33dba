"""Fixtures for UI tests on a sim of their own module (``module_sim``, in tests/conftest.py: its size, seed or churn
differ from the session's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest


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
