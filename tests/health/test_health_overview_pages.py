"""kube/overview.py's data path: pod pages fetched ahead by their own thread, workloads decoded narrowly, pods
tallied page by page; each against the sim over real sockets."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest
from health_recorded import recorded

from kube9_desktop.kube import narrow
from kube9_desktop.kube import overview as ov
from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


def _pod_pages_served(sim: SimProcess) -> int:
    return int(sim.stats()["by_path"].get("/api/v1/pods", 0))


def _fetchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kube9-overview-pods")]


def test_a_page_that_fails_midway_raises_in_the_consumer_after_the_pages_before(
        hsim: SimProcess, hclient: ContextClient) -> None:
    hsim.reset_stats()
    pages = ov.iter_pod_pages(hclient, page_size=10)
    first = next(pages)
    assert len(first) == 10
    hsim.set_faults([{"path": "^/api/v1/pods$", "status": 403}])
    try:
        got = [first]
        with pytest.raises(KubeError) as caught:
            for page in pages:
                got.append(page)
        assert caught.value.status == 403
        # The pages fetched before the fault (at most the ones waiting ahead) arrive whole, in order, once each.
        assert 1 <= len(got) <= 2 + ov._AHEAD
        names = [(p.metadata.namespace, p.metadata.name) for page in got for p in page]
        assert len(names) == len(set(names)) == 10 * len(got)
    finally:
        hsim.clear_faults()
    assert not _fetchers()


def test_closing_early_stops_the_fetcher_after_the_pages_ahead(hsim: SimProcess, hclient: ContextClient) -> None:
    hsim.reset_stats()
    pages = ov.iter_pod_pages(hclient, page_size=10)
    assert len(next(pages)) == 10
    # Give the fetcher time to run ahead as far as it may (it must not read the whole 300-pod list).
    deadline = time.monotonic() + 10
    while _pod_pages_served(hsim) < 1 + ov._AHEAD and time.monotonic() < deadline:
        time.sleep(0.02)
    pages.close()
    assert not _fetchers()
    served = _pod_pages_served(hsim)
    assert 1 + ov._AHEAD <= served <= 2 + ov._AHEAD
    time.sleep(0.2)
    assert _pod_pages_served(hsim) == served


def test_workload_page_reads_what_the_full_objects_say(hclient: ContextClient) -> None:
    for path in ("/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/apps/v1/daemonsets"):
        body = hclient.request(path, [("limit", 500)]).body
        full = orjson.loads(body)
        items, cont = narrow.workload_page(body)
        assert cont == full["metadata"].get("continue", "")
        assert len(items) == len(full["items"]) > 0
        for small, whole in zip(items, full["items"], strict=True):
            assert small == narrow.workload(whole)
            assert small.metadata.name == whole["metadata"]["name"]
            assert small.status.readyReplicas == whole["status"].get("readyReplicas", 0)
        kind = path.rsplit("/", 1)[1]
        assert ov._workload_entries(kind, items) == ov._workload_entries(kind, full["items"])


def test_recorded_stuck_rollout_narrow_or_dict_gives_the_same_entry() -> None:
    deploy = recorded("stuck-rollout")["obj"]
    entries = ov._workload_entries("deployments", [narrow.workload(deploy)])
    assert entries == ov._workload_entries("deployments", [deploy])
    assert entries[0].status == "0/1 ready" and "ProgressDeadlineExceeded" in entries[0].detail


def test_tally_page_by_page_equals_the_whole_list(hclient: ContextClient) -> None:
    now = time.time()
    pods = ov.list_pods(hclient, page_size=500)
    whole = ov.build("x", {"pods": pods}, None, now=now)
    tally = ov.PodTally(now)
    for page in ov.iter_pod_pages(hclient, page_size=23):
        tally.add(page)
    paged = ov.build("x", {}, None, now=now, pods=tally)
    # The sim churns between the two reads: compare what churn does not move (names are stable, counts may not).
    assert abs(paged.pods_total - whole.pods_total) <= 5
    assert {e.ref.name for e in paged.failing} & {e.ref.name for e in whole.failing}
    assert paged.capacity.requests.cpu > 0
    # The same pods tallied at once and in pages of any size give the same page.
    again = ov.PodTally(now)
    for i in range(0, len(pods), 7):
        again.add(pods[i:i + 7])
    split = ov.build("x", {}, None, now=now, pods=again)
    for field in ("pods_total", "phases", "failing", "restarts", "capacity"):
        assert getattr(split, field) == getattr(whole, field), field


def test_version_failure_still_fails_the_whole_page(hsim: SimProcess, hservice: KubeService) -> None:
    hsim.set_faults([{"path": "^/version$", "status": 403}])
    try:
        with pytest.raises(KubeError) as caught:
            ov.gather(hservice, "sim-admin")
        assert caught.value.status == 403
    finally:
        hsim.clear_faults()
    page: Any = ov.gather(hservice, "sim-admin")
    assert page.version == "v1.19.0" and page.pods_total > 0
