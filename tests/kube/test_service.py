"""KubeService: cache behaviour, in-flight de-duplication, prefetch, and the error mapping against the sim."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.fetch import ApiBackend
from kube9_desktop.kube.kinds import DEFAULT_TTLS, Category, Kind, TtlClass
from kube9_desktop.kube.kubeconfig import Kubeconfig, load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

Make = Callable[..., KubeService]
ADMIN = "sim-admin"


def _requests(sim: SimProcess, path: str) -> int:
    return int(sim.stats()["by_path"].get(path, 0))


async def test_cache_hit_makes_no_request(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    ref = ListRef(ADMIN, "nodes")
    first = await svc.list_all(ref)
    sim.reset_stats()
    pages = [p async for p in svc.list(ref)]
    assert len(pages) == 1 and pages[0].from_cache and pages[0].last
    assert [r.uid for r in pages[0].rows] == [r.uid for r in first]
    assert _requests(sim, "/api/v1/nodes") == 0
    stats = svc.cache_stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1) and stats.hit_rate == 0.5


async def test_cache_ttl_expiry_invalidate_and_ttl_zero(sim: SimProcess, kubeconfig: Kubeconfig,
                                                        make_service: Make) -> None:
    ttls = dict(DEFAULT_TTLS)
    ttls[TtlClass.VOLATILE] = 0.3
    svc = make_service(kubeconfig, KubeOptions(ttls=ttls))
    pods = ListRef(ADMIN, "pods", namespace="team-a")
    sim.reset_stats()
    await svc.list_all(pods)
    await svc.list_all(pods)
    assert _requests(sim, "/api/v1/namespaces/team-a/pods") == 1
    time.sleep(0.35)
    await svc.list_all(pods)  # expired → fetched again
    assert _requests(sim, "/api/v1/namespaces/team-a/pods") == 2
    assert svc.cache_stats().evictions >= 1
    # Invalidate by context / kind / namespace.
    nodes = ListRef(ADMIN, "nodes")
    await svc.list_all(nodes)
    svc.invalidate(context=ADMIN, kind="pods", namespace="team-a")
    assert svc.cache.peek(pods) is None and svc.cache.peek(nodes) is not None
    svc.invalidate(context=ADMIN)
    assert svc.cache_stats().entries == 0
    # Events are never cached (TTL class "never").
    events = ListRef(ADMIN, "events", namespace="team-a")
    await svc.list_all(events)
    await svc.list_all(events)
    assert svc.cache.peek(events) is None
    # A TTL set to 0 in settings disables caching at once, also for what is already stored.
    await svc.list_all(nodes)
    ttls[TtlClass.CLUSTER] = 0
    svc.set_options(KubeOptions(ttls=ttls))
    sim.reset_stats()
    await svc.list_all(nodes)
    assert _requests(sim, "/api/v1/nodes") == 1


async def test_inflight_dedupe(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(page_size=100))
    sim.set_faults([{"path": r"^/api/v1/pods$", "latency_ms": 200}])
    sim.reset_stats()
    ref = ListRef(ADMIN, "pods")
    a, b = await asyncio.gather(svc.list_all(ref), svc.list_all(ref))
    assert len(a) == len(b) == 300 and [r.uid for r in a] == [r.uid for r in b]
    assert _requests(sim, "/api/v1/pods") == 3  # one paged list (3 pages), not two


async def test_invalidate_detaches_a_list_in_flight(sim: SimProcess, kubeconfig: Kubeconfig,
                                                    make_service: Make) -> None:
    """A list started before a write may answer with the state before it: after ``invalidate`` a new request
    starts its own list instead of joining it, and the older answer is not cached."""
    svc = make_service(kubeconfig, KubeOptions(page_size=1000))
    sim.set_faults([{"path": r"^/api/v1/pods$", "latency_ms": 300}])
    ref = ListRef(ADMIN, "pods")
    sim.reset_stats()
    await svc.list_all(ref)
    one = _requests(sim, "/api/v1/pods")  # the requests of one whole list (its pages)
    svc.invalidate(context=ADMIN, kind="pods")
    sim.reset_stats()
    before = asyncio.ensure_future(svc.list_all(ref))
    await asyncio.sleep(0.1)  # the first request is on its way
    svc.invalidate(context=ADMIN, kind="pods")
    after = await svc.list_all(ref)
    await before
    assert _requests(sim, "/api/v1/pods") == 2 * one  # not joined
    cached = svc.cache.get(ref, count=False)
    assert cached is not None and [r.uid for r in cached.rows] == [r.uid for r in after]


async def test_late_consumer_gets_earlier_pages(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(page_size=100))
    sim.set_faults([{"path": r"^/api/v1/pods$", "latency_ms": 150}])
    ref = ListRef(ADMIN, "pods")
    first = svc.list(ref)
    page1 = await first.__anext__()
    late = await svc.list_all(ref)  # joins after page 1 arrived
    rest = [r for p in [p async for p in first] for r in p.rows]
    assert [r.uid for r in page1.rows + rest] == [r.uid for r in late]


async def test_prefetch_and_warm(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    svc.warm(ADMIN)
    svc.prefetch([ListRef(ADMIN, "deployments", namespace="team-a"), ListRef("no-such-context", "pods")])
    for _ in range(100):
        if svc.cache_stats().entries >= 6:
            break
        await asyncio.sleep(0.05)
    for kind in ("nodes", "namespaces", "persistentvolumes", "storageclasses", "customresourcedefinitions"):
        assert svc.cache.peek(ListRef(ADMIN, kind)) is not None, kind
    sim.reset_stats()
    pages = [p async for p in svc.list(ListRef(ADMIN, "deployments", namespace="team-a"))]
    assert pages[0].from_cache and _requests(sim, "/apis/apps/v1/namespaces/team-a/deployments") == 0


# -- errors -----------------------------------------------------------------------------------------------------


async def test_401(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-badtoken", "nodes"))
    err = ei.value
    assert err.kind is ErrorKind.UNAUTHORIZED and err.status == 401 and err.context == "sim-badtoken"
    assert err.message == "The server rejected the credentials for context sim-badtoken (expired or invalid)."
    assert "Re-authenticate" in err.hint
    assert sim.token("sim-badtoken") not in repr(err)


async def test_403(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "pods", namespace="kube-system"))
    err = ei.value
    assert err.kind is ErrorKind.FORBIDDEN and err.status == 403 and err.reason == "Forbidden"
    assert err.message == "You cannot list pods in namespace kube-system."
    # The sim's kubeconfig is not a file kubectl reads by default: the hint names it.
    assert err.hint == ("Check with: kubectl auth can-i list pods -n kube-system --context sim-viewer "
                        f"--kubeconfig {sim.kubeconfig}")
    assert err.details.get("kind") == "Status"
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "pods"))
    assert ei.value.message == "You cannot list pods in all namespaces."
    assert ei.value.hint.endswith(f"list pods -A --context sim-viewer --kubeconfig {sim.kubeconfig}")
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "deployments", namespace="kube-system"))
    assert ei.value.message == "You cannot list deployments.apps in namespace kube-system."
    assert len(await svc.list_all(ListRef("sim-viewer", "pods", namespace="team-a"))) > 0


@pytest.mark.parametrize("default", [False, True], ids=["other-file", "default-file"])
async def test_403_hint_runs_as_printed(default: bool, sim: SimProcess, make_service: Make,
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The can-i hint is a command that works as printed: --kubeconfig only when kubectl needs it."""
    # kubectl's default files: KUBECONFIG (the sim's file, or one that does not define the context).
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", sim.kubeconfig if default else str(other))
    svc = make_service(load_kubeconfig(sim.kubeconfig))
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "pods", namespace="kube-system"))
    hint = ei.value.hint
    assert ("--kubeconfig" in hint) is not default, hint
    argv = shlex.split(hint.removeprefix("Check with: "))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=os.environ.copy())
    assert r.stdout.strip() == "no", (argv, r.stdout, r.stderr)  # kubectl found the context and asked the sim


async def test_404_on_a_list(kubeconfig: Kubeconfig) -> None:
    gizmos = Kind(key="gizmos.example.com", kind="Gizmo", group="example.com", version="v1", plural="gizmos",
                  namespaced=True, category=Category.CUSTOM, label="gizmos", ttl=TtlClass.STABLE, icon="custom")
    backend = ApiBackend(kubeconfig, KubeOptions())
    try:
        with pytest.raises(KubeError) as ei:
            async for _ in backend.list_pages(ListRef(ADMIN, gizmos.key), gizmos):
                pass
    finally:
        await backend.aclose()
    assert ei.value.kind is ErrorKind.NOT_FOUND
    assert ei.value.message == "This cluster does not serve gizmos.example.com/v1."


async def test_unknown_kind_and_context(kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef(ADMIN, "gizmos.example.com"))
    assert ei.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("no-such-context", "pods"))
    assert ei.value.kind is ErrorKind.KUBECONFIG
    with pytest.raises(KubeError):
        await svc.version("no-such-context")


async def test_429_retried_with_retry_after(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    await svc.version(ADMIN)
    sim.set_faults([{"path": r"^/api/v1/namespaces$", "status": 429, "retry_after": 0.3, "count": 2}])
    sim.reset_stats()
    started = time.monotonic()
    rows = await svc.list_all(ListRef(ADMIN, "namespaces"))
    assert len(rows) == 12
    assert time.monotonic() - started >= 0.55  # waited Retry-After twice
    assert _requests(sim, "/api/v1/namespaces") == 3
    # Retries run out → THROTTLED.
    sim.set_faults([{"path": r"^/api/v1/nodes$", "status": 429, "retry_after": 0.05}])
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef(ADMIN, "nodes"))
    assert ei.value.kind is ErrorKind.THROTTLED and ei.value.retry_after == 0.05


async def test_500_retried_then_server_error(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(retries=2))
    sim.set_faults([{"path": r"^/api/v1/nodes$", "status": 500}])
    sim.reset_stats()
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef(ADMIN, "nodes"))
    assert ei.value.kind is ErrorKind.SERVER and ei.value.status == 500
    assert _requests(sim, "/api/v1/nodes") == 3
    sim.set_faults([{"path": r"^/api/v1/namespaces$", "status": 503, "count": 1}])
    assert len(await svc.list_all(ListRef(ADMIN, "namespaces"))) == 12


async def test_connection_refused(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-down", "nodes"))
    err = ei.value
    assert err.kind is ErrorKind.UNREACHABLE
    assert "Cannot connect" in err.message and "refused" in err.message
    assert kubeconfig.context("sim-down").server in err.message


async def test_read_timeout(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(read_timeout=0.5))
    sim.set_faults([{"path": r"^/api/v1/nodes$", "mode": "stall"}])
    started = time.monotonic()
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef(ADMIN, "nodes"))
    assert ei.value.kind is ErrorKind.TIMEOUT and "0.5 s" in ei.value.message
    assert time.monotonic() - started < 3


async def test_garbage_and_dropped_connection(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(retries=1))
    sim.set_faults([{"path": r"^/api/v1/nodes$", "mode": "garbage"}])
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef(ADMIN, "nodes"))
    assert ei.value.kind is ErrorKind.PROTOCOL
    sim.set_faults([{"path": r"^/api/v1/namespaces$", "mode": "close", "count": 1}])
    assert len(await svc.list_all(ListRef(ADMIN, "namespaces"))) == 12  # retried after the dropped connection
    sim.clear_faults()
    sim.drop_connections()
    assert len(await svc.list_all(ListRef(ADMIN, "persistentvolumes"))) >= 0


async def test_set_kubeconfig_drops_changed_contexts(sim: SimProcess, kubeconfig: Kubeconfig,
                                                     make_service: Make, write_config: Callable[..., str]) -> None:
    from kube9_desktop.kube.kubeconfig import load_kubeconfig

    svc = make_service(kubeconfig)
    await svc.list_all(ListRef(ADMIN, "nodes"))
    await svc.list_all(ListRef("sim-cert", "nodes"))
    svc.set_kubeconfig(load_kubeconfig(sim.kubeconfig))  # unchanged: client and cache kept
    assert svc.cache.peek(ListRef(ADMIN, "nodes")) is not None and svc.stats(ADMIN).requests > 0
    svc.set_kubeconfig(load_kubeconfig(write_config({"token": sim.admin_token()}, name=ADMIN)))
    assert svc.cache.peek(ListRef(ADMIN, "nodes")) is None and svc.stats(ADMIN).requests == 0
    assert [c.name for c in svc.contexts()] == [ADMIN]
    assert len(await svc.list_all(ListRef(ADMIN, "nodes"))) == 5
