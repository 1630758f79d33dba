"""The kubectl backend gives the same rows and errors as the API backend."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed on this machine")

Make = Callable[..., KubeService]
ADMIN = "sim-admin"


@pytest.mark.parametrize(("kind", "namespace"), [("pods", None), ("pods", "team-a"), ("nodes", None),
                                                 ("deployments", None), ("services", "team-b"),
                                                 ("namespaces", None)])
async def test_same_rows_as_api(kind: str, namespace: str | None, sim: SimProcess, kubeconfig: Kubeconfig,
                                make_service: Make) -> None:
    api = make_service(kubeconfig)
    kubectl = make_service(kubeconfig, KubeOptions(page_size=100), backend="kubectl",
                           kubeconfig_path=sim.kubeconfig)
    ref = ListRef(ADMIN, kind, namespace=namespace)
    a = await api.list_all(ref)
    b = await kubectl.list_all(ref)
    assert a

    def key(r: object) -> tuple:
        return (r.namespace, r.name, r.uid, r.status, r.severity, r.ready, r.restarts)  # type: ignore[attr-defined]

    assert sorted(map(key, a)) == sorted(map(key, b))
    assert kubectl.stats(ADMIN).requests == 1  # one kubectl process


async def test_errors_match_api(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, backend="kubectl", kubeconfig_path=sim.kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "pods", namespace="kube-system"))
    assert ei.value.kind is ErrorKind.FORBIDDEN
    assert ei.value.message == "You cannot list pods in namespace kube-system."
    assert ei.value.hint == "Check with: kubectl auth can-i list pods -n kube-system --context sim-viewer"
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-badtoken", "nodes"))
    assert ei.value.kind is ErrorKind.UNAUTHORIZED
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-down", "nodes"))
    assert ei.value.kind is ErrorKind.UNREACHABLE and "Cannot connect" in ei.value.message
    assert "refused" in ei.value.message
    with pytest.raises(KubeError) as ei:
        await svc.get(ADMIN, "pods", "team-a", "does-not-exist")
    assert ei.value.kind is ErrorKind.NOT_FOUND
    assert (await svc.version(ADMIN)).startswith("v1.")
