"""Fixtures for the data-layer tests: one kube9-sim child process per session, kubeconfig writers, services."""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import Kubeconfig, load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

SIM_PODS = 300


@pytest.fixture(scope="session")
def sim() -> Iterator[SimProcess]:
    """A kube9-sim with 300 pods, 12 namespaces, 5 nodes (HTTPS on 127.0.0.1)."""
    proc = SimProcess.start("--pods", str(SIM_PODS), "--namespaces", "12", "--nodes", "5")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
def _clean_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the sim starts without faults or churn."""
    yield
    if "sim" in request.fixturenames:
        s: SimProcess = request.getfixturevalue("sim")
        s.clear_faults()
        s.set_churn(0)


@pytest.fixture
def kubeconfig(sim: SimProcess) -> Kubeconfig:
    """The sim's own kubeconfig, loaded."""
    return load_kubeconfig(sim.kubeconfig)


@pytest.fixture
def ca_file(sim: SimProcess, tmp_path: Path) -> str:
    """The sim's CA certificate as a PEM file."""
    p = tmp_path / "ca.crt"
    p.write_bytes(sim.ca_pem)
    return str(p)


def sim_config(sim: SimProcess) -> dict[str, Any]:
    """A deep copy of the sim's kubeconfig dict."""
    return copy.deepcopy(sim.config)


def b64(data: bytes | str) -> str:
    """Base64 text of ``data``."""
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


@pytest.fixture
def write_config(sim: SimProcess, tmp_path: Path) -> Callable[..., str]:
    """Write a one-context kubeconfig for the sim; returns its path.

    Call as ``write_config(user={...}, cluster={...overrides...}, name="ctx")``.
    """
    counter = {"n": 0}

    def write(user: dict[str, Any], cluster: dict[str, Any] | None = None, name: str = "test",
              drop_ca: bool = False) -> str:
        base = next(c["cluster"] for c in sim.config["clusters"] if c["name"] == "kube9-sim")
        cl = dict(base)
        if drop_ca:
            cl.pop("certificate-authority-data", None)
        cl.update(cluster or {})
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": name,
               "clusters": [{"name": "c", "cluster": cl}], "users": [{"name": "u", "user": user}],
               "contexts": [{"name": name, "context": {"cluster": "c", "user": "u", "namespace": "default"}}]}
        counter["n"] += 1
        p = tmp_path / f"kubeconfig-{counter['n']}.yaml"
        p.write_text(yaml.safe_dump(cfg))
        os.chmod(p, 0o600)
        return str(p)

    return write


@pytest.fixture
async def make_service() -> AsyncIterator[Callable[..., KubeService]]:
    """Factory for KubeService instances that are closed after the test."""
    made: list[KubeService] = []

    def make(kc: Kubeconfig, options: KubeOptions | None = None, backend: str = "api",
             kubeconfig_path: str | None = None) -> KubeService:
        svc = KubeService(kc, options or KubeOptions(), backend=backend, kubeconfig_path=kubeconfig_path)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        await svc.aclose()
