"""kube/narrow.py and overview.list_pods: the narrow decoding reads what the full objects say, page by page."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import orjson
from health_recorded import recorded

from kube9_desktop.kube import narrow
from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.metrics import pod_resources
from kube9_desktop.kube.overview import list_pods, pod_failure
from kube9_desktop.sim.process import SimProcess


def test_small_pages_list_every_pod_once_like_kubectl(hsim: SimProcess, hclient: ContextClient, kubectl: Any) -> None:
    hsim.reset_stats()
    pods = list_pods(hclient, page_size=37)
    # One list, paged: ceil(N / 37) requests, each asked for with the previous page's token.
    assert hsim.stats()["by_path"]["/api/v1/pods"] == -(-len(pods) // 37)
    out = kubectl("get", "pods", "-A", "-o", "json")
    assert out.returncode == 0, out.stderr
    theirs = json.loads(out.stdout)["items"]
    # The sim churns: compare names present in both reads only when the counts agree; names are stable.
    keys = [(p.metadata.namespace, p.metadata.name) for p in pods]
    assert len(keys) == len(set(keys))
    assert len(keys) > 37 * 3
    common = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in theirs} & set(keys)
    assert len(common) >= 0.9 * len(keys)


def test_narrow_page_reads_the_same_as_full_objects(hclient: ContextClient) -> None:
    body = hclient.request("/api/v1/pods", [("limit", 200)]).body
    full = orjson.loads(body)
    items, cont = narrow.pod_page(body)
    assert cont == full["metadata"].get("continue", "")
    assert narrow.continue_token(body) == cont
    now = time.time()
    assert len(items) == len(full["items"]) > 0
    for small, whole in zip(items, full["items"], strict=True):
        assert small.metadata.name == whole["metadata"]["name"]
        assert small == narrow.pod(whole)
        assert pod_failure(small, now) == pod_failure(whole, now)
        assert pod_resources(small) == pod_resources(whole)
        assert [c.restartCount for c in small.status.containerStatuses] == [
            c.get("restartCount", 0) for c in whole["status"].get("containerStatuses", [])]


def test_token_from_the_head_or_none_when_items_come_first() -> None:
    head_first = b'{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc"},"items":[{"metadata":{}}]}'
    assert narrow.continue_token(head_first) == "abc"
    items_first = b'{"items":[],"metadata":{"continue":"abc"}}'
    assert narrow.continue_token(items_first) is None
    assert narrow.pod_page(items_first) == ([], "abc")


def test_recorded_failing_pods_are_named_from_the_narrow_fields() -> None:
    want = {"crashy-api": ("CrashLoopBackOff", "last exit code 1 (Error), 17 restarts"),
            "oom-worker": ("CrashLoopBackOff", "last exit code 137 (OOMKilled)"),
            "image-typo": ("ImagePullBackOff", "container main"),
            "init-stuck": ("Init:CrashLoopBackOff", "container migrate: last exit code 2"),
            "too-big": ("Pending", "2 Insufficient memory."),
            "evicted-report": ("Evicted", "The node was low on resource: memory.")}
    for name, (status, detail) in want.items():
        rec = recorded(name)
        got = pod_failure(narrow.pod(rec["obj"]), rec["now"])
        assert got is not None and got[0] == status and detail in got[1], (name, got)
    rec = recorded("not-ready")
    assert pod_failure(narrow.pod(rec["obj"]), rec["now"]) is None


def test_a_malformed_pod_keeps_its_name() -> None:
    p = narrow.pod({"metadata": {"name": "x", "namespace": "a"}, "spec": {"containers": "not a list"}})
    assert (p.metadata.namespace, p.metadata.name) == ("a", "x")


def test_pod_metrics_read_narrowly_equal_the_full_objects(hclient: ContextClient) -> None:
    """The pods' metrics decoded straight from the bytes (issue 15 goal 4) read what the parsed objects say."""
    from kube9_desktop.kube.metrics import GROUP_VERSION, parse_pod_metrics, parse_pod_metrics_body

    body = hclient.send("GET", f"/apis/{GROUP_VERSION}/pods").body
    full = parse_pod_metrics(orjson.loads(body))
    narrowed = parse_pod_metrics_body(body)
    assert len(full[0]) > 10 and narrowed == full
    namespaces = {ns for ns, _ in narrowed[0]}
    assert all(ns is sys.intern(ns) for ns, _ in narrowed[0]) and len(namespaces) > 1  # one string a namespace
    # Without the containers' usage (the window's samples): the same sums, no per-container dicts.
    assert parse_pod_metrics_body(body, containers=False) == (full[0], {})


def test_malformed_pod_metrics_are_a_protocol_error() -> None:
    import pytest

    from kube9_desktop.kube.errors import ErrorKind, KubeError
    from kube9_desktop.kube.metrics import parse_pod_metrics_body

    with pytest.raises(KubeError) as err:
        parse_pod_metrics_body(b'{"items": [{"metadata": 7}]}')
    assert err.value.kind is ErrorKind.PROTOCOL


def test_pod_metrics_decode_a_batch_at_a_time(hclient: ContextClient) -> None:
    """The usage read decodes a namespace's pod metrics a batch per call (one call held the GIL 12-16 ms for 10,000
    pods): the batches are the whole list's items, in order, and a malformed item in a later batch, or a body that
    is not JSON, is a protocol error."""
    import pytest

    from kube9_desktop.kube.errors import ErrorKind, KubeError
    from kube9_desktop.kube.metrics import GROUP_VERSION

    body = hclient.send("GET", f"/apis/{GROUP_VERSION}/pods").body
    whole = narrow.pod_metrics(body)
    batches = list(narrow.pod_metrics_batches(body, batch=7))
    assert len(whole) > 14 and all(len(b) == 7 for b in batches[:-1]) and 0 < len(batches[-1]) <= 7
    assert [m for b in batches for m in b] == whole
    assert list(narrow.pod_metrics_batches(b'{"items": []}')) == []

    good = b'{"metadata": {"name": "a", "namespace": "n"}, "containers": []}'
    late = b'{"items": [' + b",".join([good] * 5 + [b'{"metadata": 7}']) + b"]}"
    got = narrow.pod_metrics_batches(late, batch=4)
    assert [m.metadata.name for m in next(got)] == ["a"] * 4  # the first batch is read before the bad item
    with pytest.raises(KubeError) as err:
        next(got)
    assert err.value.kind is ErrorKind.PROTOCOL
    with pytest.raises(KubeError) as err:
        list(narrow.pod_metrics_batches(b'{"items": [{"metadata": '))
    assert err.value.kind is ErrorKind.PROTOCOL
