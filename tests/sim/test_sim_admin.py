"""The /simz admin endpoints: faults, stats, churn, tokens, OIDC, dropping connections; and scale."""

from __future__ import annotations

import base64
import http.client as httpclient
import json
import socket
import ssl
import time
import urllib.parse
from typing import Any

import pytest

from kube9_desktop.sim import mint_id_token
from kube9_desktop.sim.process import SimProcess


def test_fault_429_with_retry_after(clean_msim: SimProcess, mhttp: Any) -> None:
    clean_msim.set_faults([{"path": "^/api/v1/nodes", "status": 429, "rate": 1.0, "retry_after": 2, "count": 2}])
    for _ in range(2):
        r = mhttp("/api/v1/nodes")
        assert r.status == 429 and r.headers["Retry-After"] == "2"
        st = r.json()
        assert st["kind"] == "Status" and st["reason"] == "TooManyRequests" and st["code"] == 429
    assert mhttp("/api/v1/nodes").status == 200  # count exhausted
    assert mhttp("/api/v1/namespaces").status == 200  # other paths unaffected
    faults = mhttp("/simz/faults").json()["faults"]
    assert faults[0]["applied"] == 2


def test_fault_500_rate_and_latency(clean_msim: SimProcess, mhttp: Any) -> None:
    clean_msim.set_faults([{"path": "^/api/v1/namespaces$", "status": 500, "rate": 0.5}])
    codes = [mhttp("/api/v1/namespaces").status for _ in range(40)]
    assert set(codes) == {200, 500} and 5 < codes.count(500) < 35
    r = next(r for r in (mhttp("/api/v1/namespaces") for _ in range(40)) if r.status == 500)
    assert r.json()["reason"] == "InternalError"
    clean_msim.set_faults([{"path": "^/version", "latency_ms": 300}])
    t0 = time.monotonic()
    assert mhttp("/version").status == 200
    assert time.monotonic() - t0 >= 0.3


def test_fault_stall_close_garbage(clean_msim: SimProcess, mhttp: Any) -> None:
    clean_msim.set_faults([{"path": "^/api/v1/nodes$", "mode": "stall"}])
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        mhttp("/api/v1/nodes", timeout=0.5)
    assert time.monotonic() - t0 < 3
    clean_msim.set_faults([{"path": "^/api/v1/nodes$", "mode": "close"}])
    with pytest.raises((httpclient.IncompleteRead, ConnectionError, ssl.SSLError)):
        mhttp("/api/v1/nodes")
    clean_msim.set_faults([{"path": "^/api/v1/nodes$", "mode": "garbage"}])
    r = mhttp("/api/v1/nodes")
    assert r.status == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    clean_msim.clear_faults()
    assert mhttp("/api/v1/nodes").status == 200
    assert mhttp("/simz/faults", method="POST", body=[{"path": "(", "status": 500}]).status == 400


def test_fault_silent_holds_watches_open_and_serves_lists(clean_msim: SimProcess, mhttp: Any) -> None:
    """A ``silent`` fault answers a watch's headers and then nothing, past its own timeoutSeconds; lists and gets on
    the same path are served as usual (issue 14 item 4)."""
    watch = "/api/v1/namespaces/team-a/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
    t0 = time.monotonic()
    r = mhttp(watch, timeout=5)
    assert r.status == 200 and b"ADDED" in r.body and time.monotonic() - t0 < 3  # healthy: ends after 1 s
    clean_msim.set_faults([{"path": "^/api/v1/namespaces/team-a/pods$", "mode": "silent"}])
    assert mhttp("/api/v1/namespaces/team-a/pods").status == 200
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        mhttp(watch, timeout=2.5)
    assert time.monotonic() - t0 >= 2.4
    assert clean_msim.request("GET", "/simz/faults")["faults"][0]["applied"] == 1
    clean_msim.clear_faults()


def test_stats_count_requests_and_connections(clean_msim: SimProcess, mhttp: Any) -> None:
    clean_msim.reset_stats()
    for _ in range(3):
        mhttp("/api/v1/nodes")
    mhttp("/api/v1/namespaces")
    s = clean_msim.stats()
    assert s["requests"] == 4 and s["by_path"] == {"/api/v1/nodes": 3, "/api/v1/namespaces": 1}
    # Each helper call opens a fresh TCP connection; the stats calls themselves add theirs.
    assert 4 <= s["connections"] <= 6
    clean_msim.reset_stats()
    s = clean_msim.stats()
    assert s["requests"] == 0 and s["by_path"] == {} and s["connections"] <= 2


def test_keep_alive_reuses_one_connection(clean_msim: SimProcess) -> None:
    ctx = ssl.create_default_context(cadata=clean_msim.ca_pem.decode())
    clean_msim.reset_stats()
    before = clean_msim.stats()["connections"]
    conn = httpclient.HTTPSConnection("127.0.0.1", clean_msim.port, context=ctx, timeout=5)
    for _ in range(5):
        conn.request("GET", "/api/v1/nodes", headers={"Authorization": f"Bearer {clean_msim.admin_token()}"})
        assert conn.getresponse().read()
    conn.close()
    s = clean_msim.stats()
    assert s["requests"] == 5 and s["connections"] - before == 2  # ours + the stats call


def test_churn_endpoint_drives_watch_traffic(clean_msim: SimProcess, mhttp: Any) -> None:
    assert mhttp("/simz/churn").json() == {"rate": 0.0}
    rv = mhttp("/api/v1/pods?limit=1").json()["metadata"]["resourceVersion"]
    ctx = ssl.create_default_context(cadata=clean_msim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", clean_msim.port, context=ctx, timeout=5)
    conn.request(
        "GET",
        f"/api/v1/pods?watch=1&resourceVersion={rv}",
        headers={"Authorization": f"Bearer {clean_msim.admin_token()}"},
    )
    resp = conn.getresponse()
    clean_msim.set_churn(100)
    assert mhttp("/simz/churn").json() == {"rate": 100.0}
    types = {json.loads(resp.readline())["type"] for _ in range(30)}
    clean_msim.set_churn(0)
    conn.close()
    assert "MODIFIED" in types and types <= {"ADDED", "MODIFIED", "DELETED"}
    assert int(mhttp("/api/v1/pods?limit=1").json()["metadata"]["resourceVersion"]) > int(rv)


def test_expired_continue_can_offer_no_token(clean_msim: SimProcess, mhttp: Any) -> None:
    old = base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":1,"start":"team-a/x\\u0000"}').decode()
    assert mhttp("/simz/expired-continue").json() == {"offer_token": True}
    r = mhttp(f"/api/v1/pods?limit=5&continue={old}")
    assert r.status == 410 and r.json()["metadata"]["continue"]  # the default: a fresh token is offered
    clean_msim.set_expired_continue(offer_token=False)
    assert mhttp("/simz/expired-continue").json() == {"offer_token": False}
    r = mhttp(f"/api/v1/pods?limit=5&continue={old}")
    assert r.status == 410
    # kube-apiserver's Status when it cannot offer a token: empty metadata, the shorter message.
    assert r.body == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The provided continue '
        b"parameter is too old to display a consistent list result. You can start a new list without the "
        b'continue parameter.","reason":"Expired","code":410}'
    )
    # Tokens that have not expired still page on.
    first = mhttp("/api/v1/pods?limit=5").json()
    assert mhttp(f"/api/v1/pods?limit=5&continue={first['metadata']['continue']}").status == 200
    assert mhttp("/simz/expired-continue", method="POST", body={"offer_token": "no"}).status == 400
    assert mhttp("/simz/expired-continue").json() == {"offer_token": False}  # a bad request changes nothing
    clean_msim.set_expired_continue(offer_token=True)
    assert mhttp(f"/api/v1/pods?limit=5&continue={old}").json()["metadata"]["continue"]


def test_tokens_and_revoke(clean_msim: SimProcess, mhttp: Any) -> None:
    assert mhttp("/api/v1/nodes", token="exec-plugin-token").status == 401
    clean_msim.add_token("exec-plugin-token", "admin")
    assert mhttp("/api/v1/nodes", token="exec-plugin-token").status == 200
    clean_msim.add_token("exec-viewer", "viewer")
    assert mhttp("/api/v1/nodes", token="exec-viewer").status == 403
    assert mhttp("/api/v1/namespaces/team-a/pods", token="exec-viewer").status == 200
    clean_msim.revoke_token("exec-plugin-token")
    r = mhttp("/api/v1/nodes", token="exec-plugin-token")
    assert r.status == 401 and r.json()["reason"] == "Unauthorized"
    clean_msim.add_token("short-lived", "admin", ttl_seconds=0.3)
    assert mhttp("/api/v1/nodes", token="short-lived").status == 200
    time.sleep(0.4)
    assert mhttp("/api/v1/nodes", token="short-lived").status == 401


def test_oidc_discovery_refresh_and_id_tokens(clean_msim: SimProcess, mhttp: Any) -> None:
    disc = mhttp("/simz/oidc/.well-known/openid-configuration", token=None).json()
    assert disc["issuer"] == f"{clean_msim.url}/simz/oidc"
    assert disc["token_endpoint"] == f"{clean_msim.url}/simz/oidc/token"
    form = urllib.parse.urlencode(
        {"grant_type": "refresh_token", "refresh_token": "sim-refresh-1", "client_id": "kube9"}
    ).encode()
    r = mhttp(
        "/simz/oidc/token",
        token=None,
        method="POST",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 200, r.body
    tok = r.json()
    assert tok["refresh_token"].startswith("sim-refresh") and tok["id_token"].count(".") == 2
    assert mhttp("/api/v1/nodes", token=tok["id_token"]).status == 200
    bad = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": "nope"}).encode()
    assert mhttp("/simz/oidc/token", token=None, method="POST", body=bad).status == 400
    assert mhttp("/api/v1/nodes", token=mint_id_token(time.time() + 60)).status == 200
    assert mhttp("/api/v1/nodes", token=mint_id_token(time.time() - 1)).status == 401
    forged = mint_id_token(time.time() + 60)[:-4] + "AAAA"
    assert mhttp("/api/v1/nodes", token=forged).status == 401


def test_drop_connections_ends_watches(clean_msim: SimProcess) -> None:
    ctx = ssl.create_default_context(cadata=clean_msim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", clean_msim.port, context=ctx, timeout=5)
    conn.request(
        "GET",
        "/api/v1/nodes?watch=1&resourceVersion=0",
        headers={"Authorization": f"Bearer {clean_msim.admin_token()}"},
    )
    resp = conn.getresponse()
    for _ in range(3):
        assert json.loads(resp.readline())["type"] == "ADDED"
    clean_msim.drop_connections()
    t0 = time.monotonic()
    with pytest.raises((httpclient.IncompleteRead, ConnectionError, ssl.SSLError, ValueError, OSError)):
        while resp.readline():
            pass
        raise ConnectionError("stream ended")
    assert time.monotonic() - t0 < 3
    assert clean_msim.stats()["requests"] >= 0  # the sim still serves


def test_scale_subresource(clean_msim: SimProcess, mhttp: Any) -> None:
    dep = mhttp("/apis/apps/v1/namespaces/team-a/deployments?limit=1").json()["items"][0]
    name = dep["metadata"]["name"]
    path = f"/apis/apps/v1/namespaces/team-a/deployments/{name}/scale"
    sc = mhttp(path).json()
    assert sc["kind"] == "Scale" and sc["apiVersion"] == "autoscaling/v1"
    assert sc["spec"]["replicas"] == dep["spec"]["replicas"] and sc["status"]["selector"] == f"app={name}"
    merge = {"Content-Type": "application/merge-patch+json"}

    def running() -> int:
        pods = mhttp(f"/api/v1/namespaces/team-a/pods?labelSelector=app%3D{name}").json()["items"]
        return sum(1 for p in pods if not p["metadata"].get("deletionTimestamp"))

    want = dep["spec"]["replicas"] + 2
    r = mhttp(path, method="PATCH", body={"spec": {"replicas": want}}, headers=merge)
    assert r.status == 200 and r.json()["spec"]["replicas"] == want
    assert mhttp(f"/apis/apps/v1/namespaces/team-a/deployments/{name}").json()["spec"]["replicas"] == want
    # The controllers make the pods follow (asynchronously, as in a real cluster).
    assert clean_msim.wait_until(lambda: running() == want)
    r = mhttp(
        path,
        method="PUT",
        body={
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": "team-a"},
            "spec": {"replicas": 1},
        },
    )
    assert r.status == 200 and r.json()["spec"]["replicas"] == 1
    assert clean_msim.wait_until(lambda: running() == 1)
    sts = mhttp("/apis/apps/v1/statefulsets?limit=1").json()["items"][0]
    spath = f"/apis/apps/v1/namespaces/{sts['metadata']['namespace']}/statefulsets/{sts['metadata']['name']}/scale"
    assert mhttp(spath, method="PATCH", body={"spec": {"replicas": 5}}, headers=merge).json()["spec"]["replicas"] == 5
    assert mhttp(path, method="PATCH", body={"spec": {"replicas": -1}}, headers=merge).status == 422
    # A plain JSON body is not a patch format (kube-apiserver answers 415).
    assert mhttp(path, method="PATCH", body={"spec": {"replicas": 2}}).status == 415
