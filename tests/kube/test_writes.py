"""kube/writes.py and kube/access.py against kube9-sim over sockets: preconditions, the only safe retries, a
timed-out write's unknown outcome, cache invalidation, write events, the write log, access reviews."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from kube9_desktop.commands.registry import Access
from kube9_desktop.kube import access
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.kube.writes import WriteEvent
from kube9_desktop.sim.process import SimProcess

CM = KINDS["configmaps"]
DEPLOY = KINDS["deployments"]


#: A sim of this module's own (``module_sim``): these tests write.
SIM_ARGS = ("--pods", "60", "--namespaces", "3", "--nodes", "2")


@pytest.fixture
async def svc(module_sim: SimProcess) -> AsyncIterator[KubeService]:
    module_sim.clear_faults()
    s = KubeService(load_kubeconfig(module_sim.kubeconfig), KubeOptions(read_timeout=2.0),
                    kubeconfig_path=module_sim.kubeconfig)
    try:
        yield s
    finally:
        module_sim.clear_faults()
        await s.aclose()


def cm(name: str, value: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "team-a"},
            "data": {"k": value}}


async def test_replace_with_a_stale_resource_version_is_a_conflict(svc: KubeService) -> None:
    w = svc.writes
    made = await w.create("sim-admin", CM, "team-a", cm("w-409", "1"))
    newer = await w.replace("sim-admin", CM, "team-a", "w-409", dict(made, data={"k": "2"}))
    assert newer["metadata"]["resourceVersion"] != made["metadata"]["resourceVersion"]
    with pytest.raises(KubeError) as e:
        await w.replace("sim-admin", CM, "team-a", "w-409", dict(made, data={"k": "3"}))
    assert e.value.kind is ErrorKind.CONFLICT and e.value.status == 409
    assert "the object has been modified; please apply your changes to the latest version" in e.value.message
    assert (await w.get("sim-admin", CM, "team-a", "w-409"))["data"] == {"k": "2"}


async def test_429_with_retry_after_is_retried_other_failures_are_not(module_sim: SimProcess, svc: KubeService) -> None:
    w = svc.writes
    await w.create("sim-admin", CM, "team-a", cm("w-retry", "1"))
    path = "/api/v1/namespaces/team-a/configmaps/w-retry"
    module_sim.set_faults([{"path": f"^{path}$", "status": 429, "retry_after": 0.2, "count": 1}])
    module_sim.reset_stats()
    await w.patch("sim-admin", CM, "team-a", "w-retry", {"data": {"k": "2"}})
    assert module_sim.stats()["by_path"][path] == 2  # refused once before anything was done, then sent again
    module_sim.set_faults([{"path": f"^{path}$", "status": 500, "count": 1}])
    module_sim.reset_stats()
    with pytest.raises(KubeError) as e:
        await w.patch("sim-admin", CM, "team-a", "w-retry", {"data": {"k": "3"}})
    # A 500 may have acted: no retry.
    assert e.value.kind is ErrorKind.SERVER and module_sim.stats()["by_path"][path] == 1


async def test_a_write_that_times_out_has_an_unknown_outcome_and_is_read_again(module_sim: SimProcess,
                                                                             svc: KubeService) -> None:
    w = svc.writes
    await w.create("sim-admin", CM, "team-a", cm("w-slow", "1"))
    path = "/api/v1/namespaces/team-a/configmaps/w-slow"
    # The PATCH waits 3 s (longer than the 2 s read timeout) and is then applied; the re-read is not delayed.
    module_sim.set_faults([{"path": f"^{path}$", "latency_ms": 3000, "count": 1}])
    module_sim.reset_stats()
    with pytest.raises(KubeError) as e:
        await w.patch("sim-admin", CM, "team-a", "w-slow", {"data": {"k": "2"}})
    err = e.value
    assert err.kind is ErrorKind.TIMEOUT and err.title == "Outcome unknown" and err.reason == "outcome-unknown"
    assert "may or may not have been applied" in err.message and "Read again: it exists" in err.message
    assert err.details["current"]["metadata"]["name"] == "w-slow"
    assert module_sim.stats()["by_path"][path] == 2  # the write once, the re-read once: never repeated


async def test_connection_refused_is_retried_then_reported(svc: KubeService) -> None:
    with pytest.raises(KubeError) as e:
        await svc.writes.patch("sim-down", CM, "team-a", "x", {"data": {}})
    assert e.value.kind is ErrorKind.UNREACHABLE and e.value.reason == "refused"


async def test_a_write_drops_cached_lists_tells_listeners_and_is_logged(module_sim: SimProcess, svc: KubeService,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    pods_ref = ListRef(context="sim-admin", kind="pods", namespace="team-a")
    deps_ref = ListRef(context="sim-admin", kind="deployments", namespace="team-a")
    await svc.list_all(pods_ref)
    deps = await svc.list_all(deps_ref)
    assert svc.cache.peek(pods_ref) is not None and svc.cache.peek(deps_ref) is not None
    events: list[WriteEvent] = []
    svc.writes.listeners.append(events.append)
    name = deps[0].name
    with caplog.at_level(logging.INFO, logger="kube9_desktop.kube.writes"):
        scale = await svc.writes.scale("sim-admin", DEPLOY, "team-a", name, 3)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3
    assert svc.cache.peek(pods_ref) is None and svc.cache.peek(deps_ref) is None
    assert events == [WriteEvent("sim-admin", ("deployments", "replicasets", "pods"), "team-a", name, "patch")]
    logged = [r.getMessage() for r in caplog.records]
    assert f"write context=sim-admin verb=patch object=deployments.apps team-a/{name}/scale result=200" in logged
    assert not any("replicas" in m or "Bearer" in m for m in logged)  # never a body or a credential


async def test_dry_run_changes_nothing(svc: KubeService) -> None:
    out = await svc.writes.create("sim-admin", CM, "team-a", cm("w-dry", "1"), dry_run=True)
    assert out["data"] == {"k": "1"}
    with pytest.raises(KubeError) as e:
        await svc.writes.get("sim-admin", CM, "team-a", "w-dry")
    assert e.value.kind is ErrorKind.NOT_FOUND


async def test_access_reviews_are_cached_per_context(svc: KubeService, monkeypatch: pytest.MonkeyPatch) -> None:
    acc = svc.access
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") == "You may not delete pods in team-a"
    assert await acc.denied("sim-viewer", Access("list", "pods"), "team-a") is None
    assert await acc.denied("sim-admin", Access("delete", "pods"), "team-a") is None
    assert await acc.denied("sim-viewer", Access("patch", "deployments", "apps", "scale"), "team-a") == (
        "You may not patch deployments/scale in team-a")
    sent = acc.requests
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") is not None
    assert acc.requests == sent
    acc.forget("sim-viewer")
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") is not None
    assert acc.requests == sent + 1
    # Kept for 60 s, not for ever: an answer older than the TTL is asked again.
    assert access.TTL == 60.0
    monkeypatch.setattr(access, "TTL", 0.0)
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") is not None
    assert acc.requests == sent + 2
    # A review that cannot be made does not block: the write itself will say what the server thinks.
    assert await acc.denied("sim-down", Access("delete", "pods"), "team-a") is None


async def test_access_answers_go_with_the_credentials_they_were_given_for(module_sim: SimProcess, svc: KubeService,
                                                                          tmp_path: Path) -> None:
    """A reloaded kubeconfig that gives a context other credentials drops that context's answers at once."""
    acc = svc.access
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") == "You may not delete pods in team-a"
    assert acc.known("sim-viewer", Access("delete", "pods"), "team-a") == (True, "You may not delete pods in team-a")
    config = yaml.safe_load(Path(module_sim.kubeconfig).read_text())
    for c in config["contexts"]:
        if c["name"] == "sim-viewer":
            c["context"]["user"] = "sim-admin"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    svc.set_kubeconfig(load_kubeconfig(str(path)))
    assert acc.known("sim-viewer", Access("delete", "pods"), "team-a") == (False, None)
    assert await acc.denied("sim-viewer", Access("delete", "pods"), "team-a") is None
