"""Fixtures for the health tests: a kube9-sim with the diagnose scenarios, metrics and a dozen fleet contexts."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import ContextClient, make_client
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


@pytest.fixture(scope="session")
def hsim() -> Iterator[SimProcess]:
    """300 pods, 4 namespaces (+ ``scenarios``), 3 nodes, 12 ``fleet-NNN`` contexts."""
    with SimProcess.start("--pods", "300", "--namespaces", "4", "--nodes", "3", "--scenarios", "--contexts", "12",
                          "--seed", "3") as p:
        yield p


@pytest.fixture
def metrics_mode(hsim: SimProcess) -> Iterator[Any]:
    """Switch metrics.k8s.io for one test; back to available afterwards."""
    yield hsim.set_metrics
    hsim.set_metrics("available")


@pytest.fixture
def hclient(hsim: SimProcess) -> Iterator[ContextClient]:
    """An admin client of the scenario sim."""
    c = make_client(load_kubeconfig(hsim.kubeconfig), "sim-admin", KubeOptions())
    yield c
    c.close()


@pytest.fixture
def hservice(hsim: SimProcess) -> Iterator[KubeService]:
    """A data-layer service over the scenario sim's kubeconfig."""
    svc = KubeService(load_kubeconfig(hsim.kubeconfig), KubeOptions())
    yield svc
    asyncio.run(svc.aclose())


@pytest.fixture
def kubectl(hsim: SimProcess) -> Any:
    """Run kubectl against the scenario sim: ``kubectl("get", "pods", "-A")`` → CompletedProcess."""

    def run(*args: str, context: str = "sim-admin") -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", hsim.kubeconfig, "--context", context, *args],
                              capture_output=True, text=True, timeout=60)

    return run
