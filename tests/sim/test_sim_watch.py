"""Watch streams: events on changes, resourceVersion handling, bookmarks, timeouts and 410s."""

from __future__ import annotations

import http.client as httpclient
import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kube9_desktop.sim.process import SimProcess

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@contextmanager
def watch(
    sim: SimProcess, path: str, accept: str | None = None, timeout: float = 5
) -> Iterator[httpclient.HTTPResponse]:
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", sim.port, context=ctx, timeout=timeout)
    headers = {"Authorization": f"Bearer {sim.admin_token()}"}
    if accept:
        headers["Accept"] = accept
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    try:
        yield resp
    finally:
        conn.close()


def next_event(resp: httpclient.HTTPResponse) -> dict[str, Any]:
    line = resp.readline()
    assert line, "watch stream ended"
    ev: dict[str, Any] = json.loads(line)
    return ev


def list_rv(mhttp: Any, path: str) -> tuple[str, list[dict[str, Any]]]:
    body = mhttp(path).json()
    return body["metadata"]["resourceVersion"], body["items"]


def test_watch_sees_delete_and_rv0_replays_state(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, pods = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    victim = pods[0]["metadata"]["name"]
    with watch(clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}") as resp:
        assert resp.status == 200 and resp.headers["Transfer-Encoding"] == "chunked"
        r = mhttp(f"/api/v1/namespaces/team-a/pods/{victim}?gracePeriodSeconds=0", method="DELETE")
        assert r.status == 200 and r.json()["metadata"]["name"] == victim
        ev = next_event(resp)
        assert ev["type"] == "DELETED" and ev["object"]["kind"] == "Pod"
        assert ev["object"]["metadata"]["name"] == victim
        assert int(ev["object"]["metadata"]["resourceVersion"]) > int(rv)
    assert mhttp(f"/api/v1/namespaces/team-a/pods/{victim}").status == 404
    _, now = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    with watch(clean_msim, "/api/v1/namespaces/team-a/pods?watch=true&resourceVersion=0") as resp:
        seen = {next_event(resp)["object"]["metadata"]["name"] for _ in now}
    assert seen == {p["metadata"]["name"] for p in now} and victim not in seen


def test_watch_replays_history_after_rv(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, pods = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    victim = pods[-1]["metadata"]["name"]
    assert mhttp(f"/api/v1/namespaces/team-a/pods/{victim}?gracePeriodSeconds=0", method="DELETE").status == 200
    # Started after the change, from the older resourceVersion: the event is replayed.
    with watch(clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}") as resp:
        ev = next_event(resp)
    assert ev["type"] == "DELETED" and ev["object"]["metadata"]["name"] == victim


def test_watch_table_rows(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, pods = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    with watch(clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}", accept=TABLE) as resp:
        mhttp(f"/api/v1/namespaces/team-a/pods/{pods[1]['metadata']['name']}?gracePeriodSeconds=0", method="DELETE")
        ev = next_event(resp)
    assert ev["type"] == "DELETED" and ev["object"]["kind"] == "Table"
    assert [c["name"] for c in ev["object"]["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert ev["object"]["rows"][0]["cells"][0] == pods[1]["metadata"]["name"]
    assert ev["object"]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_watch_label_selector_filters(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, pods = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    app = pods[0]["metadata"]["labels"]["app"]
    other = next(p for p in pods if p["metadata"]["labels"]["app"] != app)["metadata"]["name"]
    mine = next(p for p in pods if p["metadata"]["labels"]["app"] == app)["metadata"]["name"]
    with watch(
        clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}&labelSelector=app%3D{app}"
    ) as resp:
        mhttp(f"/api/v1/namespaces/team-a/pods/{other}?gracePeriodSeconds=0", method="DELETE")
        mhttp(f"/api/v1/namespaces/team-a/pods/{mine}?gracePeriodSeconds=0", method="DELETE")
        ev = next_event(resp)
    assert ev["object"]["metadata"]["name"] == mine


def test_timeout_seconds_ends_stream_cleanly(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, _ = list_rv(mhttp, "/api/v1/nodes")
    t0 = time.monotonic()
    with watch(clean_msim, f"/api/v1/nodes?watch=1&resourceVersion={rv}&timeoutSeconds=1") as resp:
        assert resp.read() == b""  # clean chunked end, no events
    assert 0.8 < time.monotonic() - t0 < 4


def test_bookmarks(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, _ = list_rv(mhttp, "/api/v1/nodes")
    with watch(
        clean_msim, f"/api/v1/nodes?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=5"
    ) as resp:
        ev = next_event(resp)
    assert ev["type"] == "BOOKMARK" and ev["object"]["kind"] == "Node"
    assert int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_bookmarks_stop_two_seconds_before_the_deadline(clean_msim: SimProcess, mhttp: Any) -> None:
    """kube-apiserver's schedule (``cacheWatcher.nextBookmarkTime``): a watch's last bookmark comes 2 s before its
    ``timeoutSeconds`` ends it, so a 1 s watch over a list nobody changes delivers nothing but its end."""
    rv, _ = list_rv(mhttp, "/api/v1/nodes")
    t0 = time.monotonic()
    with watch(clean_msim, f"/api/v1/nodes?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                           "&timeoutSeconds=1") as resp:
        assert resp.read() == b""
    assert 0.8 < time.monotonic() - t0 < 4
    t0 = time.monotonic()
    arrivals = []
    with watch(clean_msim, f"/api/v1/nodes?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                           "&timeoutSeconds=4", timeout=10) as resp:
        for line in iter(resp.readline, b""):
            assert json.loads(line)["type"] == "BOOKMARK"
            arrivals.append(time.monotonic() - t0)
    assert arrivals and max(arrivals) < 2.9, arrivals  # due at 1 s and 2 s (checked every 0.5 s), none after


def test_bookmark_never_overtakes_an_unsent_event(clean_msim: SimProcess, mhttp: Any) -> None:
    """A bookmark says "every event up to here has been sent": a client resuming from it must lose nothing."""
    rv, _ = list_rv(mhttp, "/api/v1/pods")
    clean_msim.set_churn(400)
    try:
        events: list[tuple[str, int]] = []
        with watch(clean_msim, f"/api/v1/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                               "&timeoutSeconds=6", timeout=10) as resp:
            for line in iter(resp.readline, b""):
                ev = json.loads(line)
                events.append((ev["type"], int(ev["object"]["metadata"]["resourceVersion"])))
    finally:
        clean_msim.set_churn(0)
    marks = [i for i, (t, _) in enumerate(events) if t == "BOOKMARK"]
    assert len(marks) >= 2 and len(events) > 200, (len(marks), len(events))
    for i in marks:
        late = [r for t, r in events[i + 1:] if t != "BOOKMARK" and r <= events[i][1]]
        assert not late, f"bookmark at rv {events[i][1]} sent before events {late[:5]}"


def test_compaction_gives_410(clean_msim: SimProcess, mhttp: Any) -> None:
    rv, _ = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    page = mhttp("/api/v1/pods?limit=3").json()
    with watch(clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}") as open_watch:
        mhttp(
            "/api/v1/namespaces/team-a/pods/"
            + mhttp("/api/v1/namespaces/team-a/pods?limit=1").json()["items"][0]["metadata"]["name"]
            + "?gracePeriodSeconds=0",
            method="DELETE",
        )
        compacted = clean_msim.compact()
        ev = next_event(open_watch)
        assert ev["type"] == "DELETED"
        ev = next_event(open_watch)
        while ev["type"] in ("ADDED", "MODIFIED"):  # the ReplicaSet's replacement pod may come first
            ev = next_event(open_watch)
        assert ev["type"] == "ERROR" and ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
        assert open_watch.readline() == b""
    assert compacted > int(rv)
    with watch(clean_msim, f"/api/v1/namespaces/team-a/pods?watch=1&resourceVersion={rv}") as resp:
        assert resp.status == 200
        ev = next_event(resp)
        assert resp.readline() == b""
    assert ev == {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f"too old resource version: {rv} ({compacted})",
            "reason": "Expired",
            "code": 410,
        },
    }
    r = mhttp(f"/api/v1/pods?limit=3&continue={page['metadata']['continue']}")
    assert r.status == 410 and r.json()["reason"] == "Expired"
    # Lists and watches from the fresh revision work again.
    rv2, _ = list_rv(mhttp, "/api/v1/namespaces/team-a/pods")
    with watch(clean_msim, f"/api/v1/nodes?watch=1&resourceVersion={rv2}&timeoutSeconds=1") as resp:
        assert resp.read() == b""


def test_pagination_is_a_snapshot_despite_changes(clean_msim: SimProcess, mhttp: Any) -> None:
    base = "/api/v1/namespaces/team-a/pods"
    before = mhttp(base).json()
    names = [p["metadata"]["name"] for p in before["items"]]
    assert len(names) >= 12
    page = mhttp(f"{base}?limit=5").json()
    assert page["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    # Change things after the first page: delete one already returned and one still to come, add pods.
    assert mhttp(f"{base}/{names[0]}?gracePeriodSeconds=0", method="DELETE").status == 200
    assert mhttp(f"{base}/{names[-3]}?gracePeriodSeconds=0", method="DELETE").status == 200
    dep = mhttp("/apis/apps/v1/namespaces/team-a/deployments?limit=1").json()["items"][0]
    mhttp(
        f"/apis/apps/v1/namespaces/team-a/deployments/{dep['metadata']['name']}/scale",
        method="PATCH",
        body={"spec": {"replicas": dep["spec"]["replicas"] + 3}},
    )
    got = [p["metadata"]["name"] for p in page["items"]]
    token = page["metadata"]["continue"]
    second = True
    while token:
        nxt = mhttp(f"{base}?limit=5&continue={token}").json()
        assert nxt["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        if second:
            assert nxt["metadata"]["remainingItemCount"] == len(names) - 10
            second = False
        got += [p["metadata"]["name"] for p in nxt["items"]]
        token = nxt["metadata"].get("continue", "")
    assert got == names
    # A fresh list sees the changes.
    now = {p["metadata"]["name"] for p in mhttp(base).json()["items"]}
    assert names[0] not in now and names[-3] not in now and len(now) > len(names) - 2
