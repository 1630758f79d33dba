"""Lists, pagination, Table/JSON, selectors, parallelism and objects against the sim (watches: test_watches.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.fetch import ApiBackend
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.rows import ListRef, Page, Severity
from kube9_desktop.kube.service import TOP_LEVEL_KINDS, KubeService
from kube9_desktop.sim.process import SimProcess

SIM_PODS = 300  # matches the session sim in conftest.py

Make = Callable[..., KubeService]
ADMIN = "sim-admin"


def _plain_names(sim: SimProcess, path: str) -> list[str]:
    items = sim.request("GET", path)["items"]
    return sorted(f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items)


async def test_pagination_streams_pages(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(page_size=50))
    pages: list[Page] = []
    async for page in svc.list(ListRef(ADMIN, "pods")):
        pages.append(page)
    assert [len(p.rows) for p in pages] == [50] * (SIM_PODS // 50)
    assert pages[0].remaining == SIM_PODS - 50 and not pages[0].last and pages[-1].last
    assert not any(p.from_cache for p in pages)
    names = sorted(f"{r.namespace}/{r.name}" for p in pages for r in p.rows)
    assert names == _plain_names(sim, "/api/v1/pods")
    pod = pages[0].rows[0]
    assert pod.kind == "pods" and pod.uid and pod.created and pod.resource_version
    assert pod.cells["Status"] == pod.status and pod.ready == pod.cells["Ready"] and pod.restarts.isdigit()
    assert pod.extra["node"].startswith("node-") and pod.labels


@pytest.fixture(params=[True, False], ids=["resumes-from-offered-token", "restarts-without-token"])
def expired_continue(request: pytest.FixtureRequest, sim: SimProcess) -> Iterator[bool]:
    """Whether ``sim``'s 410 for an expired continue token offers a fresh token (a current kube-apiserver) or not
    (older or aggregated API servers); the default is restored afterwards."""
    sim.set_expired_continue(offer_token=request.param)
    yield request.param
    sim.set_expired_continue(offer_token=True)  # the sim is shared by the whole session


async def test_expired_continue_token_is_handled_transparently(expired_continue: bool, sim: SimProcess,
                                                               kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(page_size=20))
    want = sorted(i["metadata"]["uid"] for i in sim.request("GET", "/api/v1/pods")["items"])
    errors_before = svc.stats(ADMIN).errors
    uids: list[str] = []
    compacted = False
    restarted = 0
    async for page in svc.list(ListRef(ADMIN, "pods")):
        if page.restarted:
            restarted += 1
            uids = []  # the rows before are superseded by the list started over
        uids += [r.uid for r in page.rows]
        if not compacted:
            # Move the store on and compact: every continue token handed out so far is now too old. The pager
            # starts the list over (whether the 410 offers a token to continue inconsistently or not) and says so
            # on the first page of the new list.
            dep = sim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments/api")
            sim.request("PATCH", "/apis/apps/v1/namespaces/team-a/deployments/api/scale",
                        {"spec": {"replicas": dep["spec"]["replicas"]}})
            sim.compact()
            compacted = True
    assert restarted == 1
    assert len(uids) == len(set(uids)), "a row was delivered twice"
    assert sorted(uids) == want and len(uids) == SIM_PODS
    assert svc.stats(ADMIN).errors > errors_before  # the 410 really happened and was handled


@pytest.mark.parametrize("kind", ["pods", "nodes", "namespaces", "deployments", "statefulsets", "daemonsets",
                                  "replicasets", "jobs", "cronjobs", "services", "persistentvolumeclaims",
                                  "persistentvolumes", "storageclasses", "configmaps", "secrets"])
async def test_table_and_json_fallback_give_equal_rows(kind: str, kubeconfig: Kubeconfig) -> None:
    opts = KubeOptions(page_size=100)
    table, plain = ApiBackend(kubeconfig, opts), ApiBackend(kubeconfig, opts, use_table=False)
    try:
        ref = ListRef(ADMIN, kind)
        a = [r for p in [p async for p in table.list_pages(ref, KINDS[kind])] for r in p.rows]
        b = [r for p in [p async for p in plain.list_pages(ref, KINDS[kind])] for r in p.rows]
    finally:
        await table.aclose()
        await plain.aclose()

    def key(r: object) -> tuple:
        return (r.uid, r.name, r.namespace, r.status, r.severity, r.ready, r.restarts, r.created,  # type: ignore
                r.labels, r.extra.get("node"))  # type: ignore[attr-defined]

    assert a, f"the sim serves no {kind}"
    assert sorted(map(key, a)) == sorted(map(key, b))


async def test_selectors(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    everything = await svc.list_all(ListRef(ADMIN, "pods"))
    by_label = await svc.list_all(ListRef(ADMIN, "pods", namespace="team-a", label_selector="app=api"))
    expected = {r.uid for r in everything if r.namespace == "team-a" and r.labels.get("app") == "api"}
    assert by_label and {r.uid for r in by_label} == expected
    on_node = await svc.list_all(ListRef(ADMIN, "pods", field_selector="spec.nodeName=node-1"))
    assert on_node and {r.uid for r in on_node} == {r.uid for r in everything if r.extra.get("node") == "node-1"}


async def test_parallel_lists_share_the_pool(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make,
                                            caplog: pytest.LogCaptureFixture) -> None:
    workers = 4
    svc = make_service(kubeconfig, KubeOptions(workers=workers))
    await svc.version(ADMIN)  # client built, one connection open
    sim.set_faults([{"path": r"^/api/v1/namespaces/[^/]+/pods$", "latency_ms": 300}])
    sim.reset_stats()
    namespaces = [f"team-{c}" for c in "abcdefgh"]
    started = time.monotonic()
    results = await asyncio.gather(*(svc.list_all(ListRef(ADMIN, "pods", namespace=ns)) for ns in namespaces))
    elapsed = time.monotonic() - started
    assert all(results)
    # 8 lists x 300 ms on 4 workers: ~0.6 s in parallel, 2.4 s if serialized.
    assert elapsed < 1.8, elapsed
    assert svc.stats(ADMIN).connections <= workers
    assert sim.stats()["connections"] <= workers + 1  # +1: the stats request itself
    assert "Connection pool is full" not in caplog.text


async def _prepared(backend: ApiBackend, context: str) -> None:
    """Wait for everything ``prepare`` started: the client, then its spare connections."""
    await asyncio.wrap_future(backend._preparing[context])
    await asyncio.to_thread(lambda: [t.join(30) for t in backend._spare_jobs.get(context, [])])


async def test_prepare_builds_the_client_and_opens_the_top_levels_connections_without_a_request(
        sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make, caplog: pytest.LogCaptureFixture) -> None:
    svc = make_service(kubeconfig)
    sim.reset_stats()
    svc.prepare(ADMIN)
    svc.prepare("no-such-context")  # ignored: the load itself reports an unknown context
    backend = svc.backend
    assert isinstance(backend, ApiBackend)
    await _prepared(backend, ADMIN)
    assert ADMIN in backend._clients and "no-such-context" not in backend._preparing
    top = 1 + len(TOP_LEVEL_KINDS)  # the version and the top level's lists, requested at once
    assert svc.stats(ADMIN).requests == 0 and svc.stats(ADMIN).connections == top
    assert sim.stats()["requests"] <= 1  # the stats request itself
    # The context's first load, all at once as the tree makes it, opens no connection of its own.
    version, *lists = await asyncio.gather(svc.version(ADMIN),
                                           *(svc.list_all(ListRef(ADMIN, k)) for k in TOP_LEVEL_KINDS))
    assert version.startswith("v1.") and all(lists[:2])
    assert svc.stats(ADMIN).connections == top and svc.stats(ADMIN).requests == top
    assert "Connection pool is full" not in caplog.text


async def test_prepare_starts_every_worker_thread_before_the_first_request(kubeconfig: Kubeconfig,
                                                                           make_service: Make) -> None:
    """The top level's requests then run at once on threads already waiting (ThreadPoolExecutor alone started
    one thread per job only when it believed none idle: the six ran on 1-5 threads)."""
    workers = 6
    earlier = set(threading.enumerate())  # other tests' services may still be ending theirs
    svc = make_service(kubeconfig, KubeOptions(workers=workers))
    svc.prepare(ADMIN)
    backend = svc.backend
    assert isinstance(backend, ApiBackend)
    await _prepared(backend, ADMIN)
    prefix = f"kube9-{ADMIN[:20]}"
    assert sum(1 for t in threading.enumerate() if t.name.startswith(prefix) and t not in earlier) == workers


async def test_prepare_starts_no_more_threads_than_workers(kubeconfig: Kubeconfig, make_service: Make) -> None:
    """The worker that starts the others runs before its submitter has recorded it: counted without the lock,
    it saw no thread and started a second one, so ``workers=1`` ran two requests at once (the bench's one-worker
    baseline of goal 5 was then half as long in some runs, and the ratio 0.22 in one run, 0.33 in another)."""
    prefix = f"kube9-{ADMIN[:20]}"
    for workers in (1, 1, 1, 1, 1, 2, 2, 2, 3, 3):
        earlier = set(threading.enumerate())
        svc = make_service(kubeconfig, KubeOptions(workers=workers))
        svc.prepare(ADMIN)
        backend = svc.backend
        assert isinstance(backend, ApiBackend)
        await _prepared(backend, ADMIN)
        await svc.version(ADMIN)
        started = [t for t in threading.enumerate() if t.name.startswith(prefix) and t not in earlier]
        assert len(started) == workers, [t.name for t in started]
        await svc.aclose()


async def test_requests_made_while_the_spare_connections_open_wait_for_them(
        sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make, caplog: pytest.LogCaptureFixture) -> None:
    """No lead time (a context chosen and loaded at once): the requests take the connections being opened
    instead of opening more (the pool would overflow and drop them)."""
    for workers in (8, 8, 2, 1):  # the race goes either way on a given run; fewer workers than requests too
        svc = make_service(kubeconfig, KubeOptions(workers=workers))
        svc.prepare(ADMIN)
        refs = [ListRef(ADMIN, k) for k in TOP_LEVEL_KINDS]
        results = await asyncio.wait_for(asyncio.gather(svc.version(ADMIN), *(svc.list_all(r) for r in refs)), 30)
        assert results[0].startswith("v1.") and results[1] and results[2]
        assert svc.stats(ADMIN).connections <= min(workers, 1 + len(TOP_LEVEL_KINDS))
        await svc.aclose()
    assert "Connection pool is full" not in caplog.text


async def test_spare_connections_to_a_server_that_is_down_leave_the_error_to_the_load(
        kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, KubeOptions(retries=0))
    svc.prepare("sim-down")
    started = time.monotonic()
    with pytest.raises(KubeError) as ei:
        await svc.version("sim-down")
    assert ei.value.kind is ErrorKind.UNREACHABLE
    assert time.monotonic() - started < 10
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-down", "nodes"))
    assert ei.value.kind is ErrorKind.UNREACHABLE
    assert svc.stats("sim-down").requests >= 2


def test_request_many_answers_each_request_as_request_does(kubeconfig: Kubeconfig) -> None:
    """Several GETs sent from one thread, at most ``workers`` connections at once: each answer (or error) is what
    :meth:`request` gives for it, and every request is answered once."""
    import orjson

    from kube9_desktop.kube.client import JSON, TABLE_ACCEPT, RequestInfo, make_client

    client = make_client(kubeconfig, ADMIN, KubeOptions(workers=2, retries=0))
    missing = RequestInfo(verb="get", resource="pods", namespace="team-a", name="no-such-pod")
    reqs = [("/version", [], JSON, None),
            ("/api/v1/nodes", [("limit", "100")], TABLE_ACCEPT, None),
            ("/api/v1/namespaces/team-a/pods/no-such-pod", [], JSON, missing),
            ("/api/v1/namespaces", [], JSON, None),
            ("/apis/storage.k8s.io/v1/storageclasses", [], TABLE_ACCEPT, None)]
    try:
        got = list(client.request_many(reqs))
        assert sorted(i for i, _ in got) == list(range(len(reqs)))
        answers = dict(got)
        for i, (path, query, accept, info) in enumerate(reqs):
            if i == 2:
                err = answers[i]
                assert isinstance(err, KubeError) and err.kind is ErrorKind.NOT_FOUND
                with pytest.raises(KubeError) as ei:
                    client.request(path, query, accept, info)
                assert (err.kind, err.title, err.message) == (ei.value.kind, ei.value.title, ei.value.message)
                continue
            resp = answers[i]
            assert not isinstance(resp, KubeError) and resp.status == 200
            mine, theirs = orjson.loads(resp.body), orjson.loads(client.request(path, query, accept, info).body)
            assert mine.get("kind") == theirs.get("kind") and mine.get("gitVersion") == theirs.get("gitVersion")
            assert [r["cells"][0] for r in mine.get("rows", [])] == [r["cells"][0] for r in theirs.get("rows", [])]
            assert [o["metadata"]["name"] for o in mine.get("items", [])] == \
                [o["metadata"]["name"] for o in theirs.get("items", [])]
        stats = client.stats()
        assert stats.connections <= 2 and stats.requests == 2 * len(reqs)  # the 404 is the answer: not asked twice
    finally:
        client.close()


async def test_a_prepared_burst_with_fewer_requests_than_expected_is_still_sent(
        kubeconfig: Kubeconfig, make_service: Make) -> None:
    """``prepare`` expects the top level's six requests at once; a single list (another first load) is sent
    after a short wait, and the requests after it take the usual way."""
    svc = make_service(kubeconfig)
    svc.prepare(ADMIN)
    backend = svc.backend
    assert isinstance(backend, ApiBackend)
    await _prepared(backend, ADMIN)
    nodes = await asyncio.wait_for(svc.list_all(ListRef(ADMIN, "nodes")), 10)
    assert len(nodes) == 5 and not backend.bursts.open
    assert (await asyncio.wait_for(svc.version(ADMIN), 10)).startswith("v1.")
    assert svc.stats(ADMIN).requests == 2


async def test_get_version_and_custom_kinds(kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    assert (await svc.version(ADMIN)).startswith("v1.")
    pods = await svc.list_all(ListRef(ADMIN, "pods", namespace="team-a"))
    obj = await svc.get(ADMIN, "pods", "team-a", pods[0].name)
    assert obj["metadata"]["name"] == pods[0].name and obj["spec"]["containers"]
    kinds = await svc.custom_kinds(ADMIN)
    assert "widgets.example.com" in [k.key for k in kinds]
    assert svc.kind(ADMIN, "widgets.example.com").kind == "Widget"
    widgets = await svc.list_all(ListRef(ADMIN, "widgets.example.com"))
    assert widgets and all(w.kind == "widgets.example.com" for w in widgets)
    with pytest.raises(KubeError) as ei:
        await svc.get(ADMIN, "pods", "team-a", "does-not-exist")
    assert ei.value.kind is ErrorKind.NOT_FOUND and "does-not-exist" in ei.value.message


async def test_older_api_version_found_by_discovery(kubeconfig: Kubeconfig, make_service: Make) -> None:
    # The kinds table says batch/v1; the sim is a v1.19 cluster serving CronJobs only as batch/v1beta1.
    svc = make_service(kubeconfig)
    cronjobs = await svc.list_all(ListRef(ADMIN, "cronjobs", namespace="team-a"))
    assert cronjobs and all(c.status in ("Scheduled", "Active", "Suspended") for c in cronjobs)
    obj = await svc.get(ADMIN, "cronjobs", "team-a", cronjobs[0].name)
    assert obj["apiVersion"] == "batch/v1beta1"


async def test_rows_have_severity(kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig)
    pods = await svc.list_all(ListRef(ADMIN, "pods"))
    assert {r.severity for r in pods} >= {Severity.OK}
    bad = [r for r in pods if r.status in ("CrashLoopBackOff", "ImagePullBackOff", "Error")]
    assert all(r.severity is Severity.ERROR for r in bad)
    deployments = await svc.list_all(ListRef(ADMIN, "deployments"))
    assert all(d.status in ("Ready", "Scaled to 0") or d.status.endswith(" ready") for d in deployments)


async def test_pages_are_parsed_and_converted_one_worker_at_a_time(kubeconfig: Kubeconfig,
                                                                  make_service: Make) -> None:
    """Eight workers converting the pages of a namespace's lists side by side made the GUI thread wait for the GIL
    behind each of them (kube.gui_gate.GuiGate.lane): while one worker is in the lane, the others' pages wait, their
    requests already made; once it leaves they are converted."""
    from kube9_desktop.kube.gui_gate import GATE

    svc = make_service(kubeconfig, KubeOptions(page_size=1000))

    async def names(kind: str) -> list[str]:
        return [r.name async for p in svc.list(ListRef(ADMIN, kind)) for r in p.rows]

    entered = threading.Event()
    leave = threading.Event()

    def occupy() -> None:  # another worker in the middle of its page
        with GATE.lane():
            entered.set()
            leave.wait(30)

    t = threading.Thread(target=occupy, daemon=True)
    t.start()
    assert entered.wait(10)
    try:
        lists = asyncio.ensure_future(asyncio.gather(names("pods"), names("services")))
        await asyncio.sleep(1.0)
        assert not lists.done(), "a page was converted while another worker was in the lane"
    finally:
        leave.set()
        t.join(10)
    pods, services = await asyncio.wait_for(lists, 30)
    assert len(pods) == SIM_PODS and services


async def test_a_switched_off_lane_lets_every_worker_in(kubeconfig: Kubeconfig, make_service: Make) -> None:
    from kube9_desktop.kube.gui_gate import GATE

    svc = make_service(kubeconfig, KubeOptions(page_size=1000))
    GATE.one_lane = False
    try:
        with GATE.lane():  # would block a worker if the lane were one
            rows = [r async for p in svc.list(ListRef(ADMIN, "services")) for r in p.rows]
    finally:
        GATE.one_lane = True
    assert rows


def test_a_parsed_get_waits_for_the_lane_too(kubeconfig: Kubeconfig, make_service: Make) -> None:
    """The usage columns' reads of whole pods (6-7 ms of GIL a 500-pod page) parse in the lane like list pages."""
    from kube9_desktop.kube.gui_gate import GATE

    client = make_service(kubeconfig, KubeOptions()).backend.client(ADMIN)
    got: list[Any] = []
    done = threading.Event()
    with GATE.lane():
        with GATE.lane():  # the lane is re-entrant: a worker in it may parse a nested document itself
            pass
        t = threading.Thread(target=lambda: (got.append(client.get_json("/api/v1/namespaces")), done.set()),
                             daemon=True)
        t.start()
        assert not done.wait(1.0), "parsed while another worker was in the lane"
    assert done.wait(30)
    t.join(10)
    assert got[0]["kind"] == "NamespaceList" and got[0]["items"]


async def test_prepare_starts_the_deadlines_thread_before_the_first_request(kubeconfig: Kubeconfig,
                                                                             make_service: Make) -> None:
    """The thread enforcing request deadlines was started by a context's first request, and a thread's start waits
    for the thread: on the cold top level's path. ``prepare`` starts it, it stays while the first requests are
    expected (longer than an idle thread's linger), and the top level's requests start none."""
    from kube9_desktop.kube import pool

    watchdog = pool._WATCHDOG
    with watchdog._cond:  # a thread another test left lingering ends now (nothing is in flight)
        watchdog._linger_until = 0.0
        watchdog._cond.notify_all()
    deadline = time.monotonic() + 30
    while watchdog._thread is not None:
        assert time.monotonic() < deadline, "the deadlines' thread did not end while idle"
        await asyncio.sleep(0.02)
    svc = make_service(kubeconfig)
    svc.prepare(ADMIN)
    backend = svc.backend
    assert isinstance(backend, ApiBackend)
    await _prepared(backend, ADMIN)
    thread = watchdog._thread
    assert thread is not None and thread.is_alive() and svc.stats(ADMIN).requests == 0
    await asyncio.sleep(pool._Watchdog.IDLE + 0.2)
    assert watchdog._thread is thread and thread.is_alive()
    version, *lists = await asyncio.wait_for(asyncio.gather(
        svc.version(ADMIN), *(svc.list_all(ListRef(ADMIN, k)) for k in TOP_LEVEL_KINDS)), 30)
    assert version.startswith("v1.") and all(lists)
    assert watchdog._thread is thread and svc.stats(ADMIN).requests == len(TOP_LEVEL_KINDS) + 1


async def test_lists_expected_together_go_out_together_from_one_thread(sim: SimProcess, kubeconfig: Kubeconfig,
                                                                      make_service: Make) -> None:
    """Opening a namespace lists its ~28 kinds for their counts: their first requests go out together from one
    thread (KubeService.expect_lists), not from eight workers each asking for the GIL beside the window."""
    svc = make_service(kubeconfig, KubeOptions())
    kinds = ("pods", "services", "configmaps", "secrets")
    svc.expect_lists(ADMIN, len(kinds))
    rows = await asyncio.gather(*(svc.list_all(ListRef(ADMIN, k, namespace="default"), demand=False)
                                  for k in kinds))
    sent_by = svc.api_backend.bursts.threads.get(ADMIN)
    assert sent_by is not None and sent_by.name.startswith("kube9-burst-"), "the first pages went out together"
    assert svc.api_backend.bursts.get(ADMIN) is None, "the burst closed once it had them all"
    for kind, got in zip(kinds, rows, strict=True):
        path = KINDS[kind].list_path("default")
        assert sorted(r.name for r in got) == sorted(i["metadata"]["name"] for i in sim.request("GET", path)["items"])


async def test_an_expected_burst_that_gets_no_request_does_not_hold_later_ones(kubeconfig: Kubeconfig,
                                                                              make_service: Make) -> None:
    """Lists expected together that were answered by the cache (or were in flight) never reach the burst: a request
    made later, a user's click away, takes the usual way at once instead of waiting in it."""
    from kube9_desktop.kube import fetch

    svc = make_service(kubeconfig, KubeOptions())
    svc.expect_lists(ADMIN, 5)
    await asyncio.sleep(fetch.UNUSED_BURST_S * 2)
    t0 = time.monotonic()
    rows = await svc.list_all(ListRef(ADMIN, "services", namespace="default"))
    assert rows
    assert ADMIN not in svc.api_backend.bursts.threads, "sent by a worker, not by the stale burst"
    assert svc.api_backend.bursts.get(ADMIN) is None
    assert time.monotonic() - t0 < 10


async def test_a_burst_beside_the_workers_keeps_the_context_within_its_pool(sim: SimProcess, kubeconfig: Kubeconfig,
                                                                           make_service: Make) -> None:
    """A namespace's counts go out together while the workers go on (the opened list's next pages, discovery, the
    usage columns): the burst takes half the pool, so the context does not open connections beyond its pool's size
    (urllib3 opens one past it when every slot is out, and throws it away)."""
    sim.set_faults([{"path": "^/api/v1/namespaces/default/", "latency_ms": 150, "rate": 1.0}])
    try:
        svc = make_service(kubeconfig, KubeOptions(workers=4))
        # The pool's four connections opened and idle (four lists at once on the workers), as after any browsing.
        await asyncio.gather(*(svc.list_all(ListRef(ADMIN, "pods", namespace="default", label_selector=f"warm={i}"))
                               for i in range(4)))
        assert svc.stats(ADMIN).connections == 4
        together = ("pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "endpoints")
        svc.expect_lists(ADMIN, len(together))
        burst = asyncio.gather(*(svc.list_all(ListRef(ADMIN, k, namespace="default"), demand=False)
                                 for k in together))
        await asyncio.sleep(0.05)  # the burst has them all and is sending: the next lists take the workers
        assert svc.api_backend.bursts.get(ADMIN) is None
        beside = asyncio.gather(*(svc.list_all(ListRef(ADMIN, k, namespace="default"))
                                  for k in ("resourcequotas", "events")))
        await asyncio.wait_for(asyncio.gather(burst, beside), 30)
        assert svc.stats(ADMIN).connections <= 4, "no connection beyond the pool's size"
    finally:
        sim.clear_faults()
