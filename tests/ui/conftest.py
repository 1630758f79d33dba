"""Fixtures for UI tests on a sim of their own module (``module_sim``, in tests/conftest.py: its size, seed or churn
differ from the session's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture()
def service(module_sim: Any, service_factory: Callable[..., Any]) -> Any:
    """A KubeService (api backend) on ``module_sim``'s kubeconfig, closed after the test."""
    return service_factory(kubeconfig=module_sim.kubeconfig)
