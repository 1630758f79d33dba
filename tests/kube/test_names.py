"""Names from the server go into request paths percent-encoded, and names no API server accepts are refused
before any request (a namespace ``?watch=1&x=`` must not become a query string, a name ``../secrets/x`` must not
climb out of its collection), on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.names import name_problem, namespace_problem
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

Make = Callable[..., KubeService]


def test_every_path_segment_is_percent_encoded() -> None:
    pods = KINDS["pods"]
    assert pods.list_path("?watch=1&x=") == "/api/v1/namespaces/%3Fwatch%3D1%26x%3D/pods"
    assert pods.object_path("../secrets/x", "team-a") == "/api/v1/namespaces/team-a/pods/..%2Fsecrets%2Fx"
    assert pods.object_path("web-1", "team-a") == "/api/v1/namespaces/team-a/pods/web-1"  # valid names unchanged
    assert KINDS["deployments"].list_path("a#b") == "/apis/apps/v1/namespaces/a%23b/deployments"


@pytest.mark.parametrize(("name", "problem"), [
    ("../secrets/x", "it contains '/'"), ("..", "it is '..'"), ("a%2Fb", "it contains '%'"), ("", "it is empty"),
    ("x" * 254, "longer than 253"), ("a\nb", "control characters"),
])
def test_invalid_names_say_why(name: str, problem: str) -> None:
    assert problem in (name_problem(name) or "")


def test_valid_names_pass() -> None:
    for name in ("web-1", "system:controller:job-controller", "kube-root-ca.crt", "x" * 253, "A_b"):
        assert name_problem(name) is None, name
    assert namespace_problem("team-a") is None
    assert namespace_problem("?watch=1&x=") and namespace_problem("Team") and namespace_problem("a" * 64)


@pytest.mark.parametrize("backend", ["api", "kubectl"])
async def test_a_hostile_namespace_is_refused_before_any_request(
        sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make, backend: str) -> None:
    svc = make_service(kubeconfig, backend=backend, kubeconfig_path=sim.kubeconfig)
    sim.reset_stats()
    with pytest.raises(KubeError) as info:
        await svc.list_all(ListRef("sim-admin", "pods", "?watch=1&x="))
    assert info.value.kind is ErrorKind.INVALID and info.value.context == "sim-admin"
    assert "namespace name '?watch=1&x='" in info.value.message and "not a valid Kubernetes name" in \
        info.value.message
    with pytest.raises(KubeError):
        await svc.get("sim-admin", "pods", "?watch=1&x=", "web-1")
    with pytest.raises(KubeError) as info:
        await svc.get("sim-admin", "pods", "team-a", "../secrets/x")
    assert info.value.kind is ErrorKind.INVALID and "it contains '/'" in info.value.message
    assert sim.stats()["requests"] == 0


async def test_a_valid_object_is_still_fetched(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    pod = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"][0]
    obj = await svc.get("sim-admin", "pods", "team-a", pod["metadata"]["name"])
    assert obj["metadata"]["uid"] == pod["metadata"]["uid"]
