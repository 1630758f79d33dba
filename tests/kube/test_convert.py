"""Row building and Status parsing on recorded kube-apiserver responses (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from kube9_desktop.kube.client import RequestInfo, error_from_status, redact
from kube9_desktop.kube.convert import pod_status, row_from_object, rows_from_list
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.rows import Severity

SAMPLES = Path("/work/shared/apiserver-samples")
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="recorded apiserver samples are not available")


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@needs_samples
def test_pod_table_sample() -> None:
    body = orjson.loads(_sample("pods-table-limit5-page1.body"))
    rows = rows_from_list(KINDS["pods"], body)
    assert len(rows) == 5
    r = rows[0]
    assert (r.name, r.namespace, r.status, r.ready, r.restarts) == ("api-1-jklg55vqft-5p68n", "team-a", "Running",
                                                                    "1/1", "0")
    assert r.severity is Severity.OK and r.extra["node"] == "node-4" and r.cells["IP"] == "10.244.71.87"
    assert r.uid == "1247b604-d38b-4977-b604-8740fd46a3ce" and r.created is not None
    assert body["metadata"]["remainingItemCount"] == 1995


@needs_samples
def test_other_table_samples() -> None:
    nodes = rows_from_list(KINDS["nodes"], orjson.loads(_sample("nodes-table.body")))
    assert nodes[0].status == "Ready" and nodes[0].namespace is None and nodes[0].cells["Roles"] == "master"
    deps = rows_from_list(KINDS["deployments"], orjson.loads(_sample("deployments-table-team-a.body")))
    assert deps[0].status == "Ready" and deps[0].ready == "5/5" and deps[0].cells["Up-to-date"] == "5"
    cron = rows_from_list(KINDS["cronjobs"], orjson.loads(_sample("cronjobs-table-team-a.body")))
    assert cron[0].status == "Scheduled" and cron[0].cells["Suspend"] == "False"


@needs_samples
def test_plain_list_sample_matches_table() -> None:
    table = rows_from_list(KINDS["pods"], orjson.loads(_sample("pods-table-limit5-page1.body")))
    plain = rows_from_list(KINDS["pods"], orjson.loads(_sample("pods-limit5-page1.body")))
    assert [(r.uid, r.status, r.ready, r.restarts, r.extra) for r in table] == [
        (r.uid, r.status, r.ready, r.restarts, r.extra) for r in plain]


def _pod(**status: object) -> dict:
    return {"metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", **status}}


def test_pod_status_like_kubectl() -> None:
    running = {"ready": True, "restartCount": 1, "state": {"running": {}}}
    crash = {"ready": False, "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    assert pod_status(_pod(containerStatuses=[running, running])) == ("Running", 2, 2, 2)
    assert pod_status(_pod(containerStatuses=[running, crash]))[0] == "CrashLoopBackOff"
    init = _pod(initContainerStatuses=[{"restartCount": 0, "state": {"terminated": {"exitCode": 1,
                                                                                      "reason": "Error"}}}])
    init["spec"]["initContainers"] = [{"name": "i"}]
    assert pod_status(init)[0] == "Init:Error"
    waiting_init = _pod(initContainerStatuses=[{"restartCount": 0, "state": {"running": {}}}])
    waiting_init["spec"]["initContainers"] = [{"name": "i"}, {"name": "j"}]
    assert pod_status(waiting_init)[0] == "Init:0/2"
    deleting = _pod(containerStatuses=[running])
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert pod_status(deleting)[0] == "Terminating"
    done = _pod(containerStatuses=[{"ready": False, "restartCount": 0,
                                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    done["status"]["phase"] = "Succeeded"
    row = row_from_object(KINDS["pods"], done)
    assert row.status == "Completed" and row.severity is Severity.OK and row.ready == "0/2"
    evicted = _pod(reason="Evicted")
    evicted["status"]["phase"] = "Failed"
    assert row_from_object(KINDS["pods"], evicted).severity is Severity.ERROR


@needs_samples
@pytest.mark.parametrize(
    ("sample", "info", "kind", "message"),
    [
        ("err-401-bad-token.body", RequestInfo("list", "pods"), ErrorKind.UNAUTHORIZED,
         "The server rejected the credentials for context ctx (expired or invalid)."),
        ("err-403-viewer-nodes.body", RequestInfo("list", "nodes", namespaced=False), ErrorKind.FORBIDDEN,
         "You cannot list nodes."),
        ("err-403-viewer-pods-all.body", RequestInfo("list", "pods"), ErrorKind.FORBIDDEN,
         "You cannot list pods in all namespaces."),
        ("err-404-unknown-resource.body", RequestInfo("list", "widgets", "example.com", "v1"), ErrorKind.NOT_FOUND,
         "This cluster does not serve widgets.example.com/v1."),
        ("err-404-missing-pod.body", RequestInfo("get", "pods", "", "v1", "team-a", "does-not-exist"),
         ErrorKind.NOT_FOUND, "pods 'does-not-exist' was not found in namespace team-a."),
        ("err-409-exists.body", RequestInfo("create", "namespaces"), ErrorKind.CONFLICT,
         'namespaces "team-a" already exists'),
        ("err-410-expired-continue.body", RequestInfo("list", "pods"), ErrorKind.GONE, None),
        ("err-422-invalid.body", RequestInfo("create", "configmaps"), ErrorKind.INVALID, None),
        ("err-400-bad-json.body", RequestInfo("create", "configmaps"), ErrorKind.INVALID, None),
    ],
)
def test_status_samples(sample: str, info: RequestInfo, kind: ErrorKind, message: str | None) -> None:
    body = _sample(sample)
    status = orjson.loads(body)["code"]
    err = error_from_status(status, body, {}, context="ctx", server="https://k8s:6443", info=info)
    assert err.kind is kind and err.status == status and err.reason == orjson.loads(body)["reason"]
    if message is not None:
        assert err.message == message
    if kind is ErrorKind.GONE:
        assert err.details["metadata"]["continue"]  # the Status's fresh continue token is kept for resuming


def test_retry_after_and_redaction() -> None:
    err = error_from_status(429, b"", {"Retry-After": "2"}, context="c", server="https://x")
    assert err.kind is ErrorKind.THROTTLED and err.retry_after == 2.0
    assert redact("header b'Bearer abc.def'") == "header b'Bearer <redacted>'"


def test_rows_of_one_list_share_what_repeats() -> None:
    """Compact rows: values that repeat from row to row are one object (memory at 150,000 pods), yet every row
    reads as before."""

    def table_row(i: int) -> dict:
        name = f"web-{i}"
        return {"cells": [name, "1/1", "Running", 0, f"10.0.0.{i}", "node-1"],
                "object": {"metadata": {"name": name, "namespace": "team-a", "uid": f"u{i}",
                                        "labels": {"app": "web", "pod-template-hash": "5f7b"},
                                        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5f7b",
                                                             "uid": "rs-uid-1"}]}}}

    cols = [{"name": n} for n in ("Name", "Ready", "Status", "Restarts", "IP", "Node")]
    # Each row parsed on its own, as pages are: the parser gives every row its own copies.
    a, b = (rows_from_list(KINDS["pods"], orjson.loads(orjson.dumps({"kind": "Table", "columnDefinitions": cols,
                                                                      "rows": [table_row(i)]})))[0] for i in (1, 2))
    assert (a.name, a.status, a.ready, a.restarts, a.namespace, a.extra, a.labels) == (
        "web-1", "Running", "1/1", "0", "team-a", {"node": "node-1"}, {"app": "web", "pod-template-hash": "5f7b"})
    assert b.name == "web-2" and b.cells["IP"] == "10.0.0.2"
    assert a.labels is b.labels and a.extra is b.extra and a.namespace is b.namespace
    assert a.cells["Status"] is b.cells["Status"] and a.cells["Node"] is b.cells["Node"]
    assert a.cells["Name"] is a.name
    assert a.owners == ("rs-uid-1",) and a.owners is b.owners  # one ReplicaSet's pods: one tuple, one uid string


# apimachinery's own table for duration.HumanDuration (pkg/util/duration/duration_test.go), which kubectl prints.
_HOUR = 3600


@pytest.mark.parametrize(("seconds", "text"), [
    (1, "1s"), (70, "70s"), (190, "3m10s"), (70 * 60, "70m"), (47 * _HOUR, "47h"), (49 * _HOUR, "2d1h"),
    ((8 * 24 + 2) * _HOUR, "8d"), (367 * 24 * _HOUR, "367d"), ((365 * 2 * 24 + 25) * _HOUR, "2y1d"),
    ((365 * 2 * 24) * _HOUR, "2y"), ((365 * 8 * 24 + 2) * _HOUR, "8y"),
])
def test_human_age_matches_kubectl(seconds: int, text: str) -> None:
    from kube9_desktop.kube.convert import human_age, parse_age

    assert human_age(seconds) == text
    assert parse_age(text) is not None
