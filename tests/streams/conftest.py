"""Fixtures for exec and port-forward tests: a small sim these tests may change (pods deleted, kubelets down)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.exec import stream_client
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


@pytest.fixture(scope="module")
def ssim() -> Iterator[SimProcess]:
    """A sim per test module (60 pods, 3 namespaces, 2 nodes)."""
    with SimProcess.start("--pods", "60", "--namespaces", "3", "--nodes", "2", "--seed", "5") as p:
        yield p


@pytest.fixture(scope="module")
def service(ssim: SimProcess) -> Iterator[KubeService]:
    svc = KubeService(load_kubeconfig(ssim.kubeconfig), KubeOptions(), kubeconfig_path=ssim.kubeconfig)
    yield svc
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(svc.aclose())
    finally:
        loop.close()


@pytest.fixture(scope="module")
def client(service: KubeService) -> ContextClient:
    """The sim-admin context's client."""
    return stream_client(service, "sim-admin")


def _running_pods(sim: SimProcess, ns: str = "team-a") -> list[dict[str, Any]]:
    """Running pods whose container runs."""
    items = sim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
    return [
        p
        for p in items
        if p["status"]["phase"] == "Running"
        and "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    ]


@pytest.fixture
def running_pods() -> Callable[..., list[dict[str, Any]]]:
    """``running_pods(sim, ns="team-a")``: the pods whose container runs."""
    return _running_pods
