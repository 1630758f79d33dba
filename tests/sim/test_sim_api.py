"""Wire-level checks of kube9-sim against the shapes recorded from a real kube-apiserver."""

from __future__ import annotations

import base64
import json
from typing import Any

from kube9_desktop.sim.process import SimProcess

TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
PARTIAL = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
SIM_PODS = 300  # must match the ``sim`` fixture


def all_pages(http: Any, path: str, limit: int, accept: str | None = None) -> list[dict[str, Any]]:
    pages, token = [], ""
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&continue={token}" if token else "")
        r = http(url, accept=accept)
        assert r.status == 200, r.body
        page = r.json()
        pages.append(page)
        token = page["metadata"].get("continue", "")
        if not token:
            return pages


def test_version_health_and_discovery(http: Any) -> None:
    v = http("/version").json()
    assert v["gitVersion"] == "v1.19.0" and v["major"] == "1" and v["minor"] == "19"
    r = http("/healthz")
    assert r.status == 200 and r.body == b"ok" and r.headers["Content-Type"].startswith("text/plain")
    assert b"[+]etcd ok" in http("/readyz?verbose").body
    assert http("/livez").body == b"ok"
    api = http("/api", accept=AGGREGATED)
    assert api.status == 200 and api.headers["Content-Type"] == "application/json"
    assert api.json()["kind"] == "APIVersions" and api.json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in http("/apis", accept=AGGREGATED).json()["groups"]}
    assert {"apps", "batch", "networking.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "example.com"} <= set(
        groups
    )
    core = {r["name"]: r for r in http("/api/v1").json()["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["namespaced"] is True
    assert "pods/log" in core and core["nodes"]["namespaced"] is False
    apps = http("/apis/apps/v1").json()
    assert apps["groupVersion"] == "apps/v1" and apps["apiVersion"] == "v1"
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert scale["group"] == "autoscaling" and scale["kind"] == "Scale"
    assert any(r["name"] == "widgets" for r in http("/apis/example.com/v1").json()["resources"])
    assert http("/openapi/v2").status == 404


def test_list_shape_matches_real_apiserver(http: Any) -> None:
    page = http("/api/v1/pods?limit=5").json()
    assert page["kind"] == "PodList" and page["apiVersion"] == "v1"
    assert list(page["metadata"]) == ["selfLink", "resourceVersion", "continue", "remainingItemCount"]
    assert page["metadata"]["remainingItemCount"] == SIM_PODS - 5
    item = page["items"][0]
    assert "kind" not in item and list(item)[:3] == ["metadata", "spec", "status"]
    token = json.loads(base64.urlsafe_b64decode(page["metadata"]["continue"] + "=="))
    assert token["v"] == "meta.k8s.io/v1" and token["rv"] == int(page["metadata"]["resourceVersion"])
    assert token["start"] == f"{item['metadata']['namespace']}/{page['items'][-1]['metadata']['name']}\x00"
    keys = [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in page["items"]]
    assert keys == sorted(keys)


def test_pagination_covers_everything_once(http: Any) -> None:
    pages = all_pages(http, "/api/v1/pods", 37)
    names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for pg in pages for p in pg["items"]]
    assert len(names) == SIM_PODS == len(set(names))
    assert [pg["metadata"].get("remainingItemCount") for pg in pages[:2]] == [SIM_PODS - 37, SIM_PODS - 74]
    assert "remainingItemCount" not in pages[-1]["metadata"]
    # Every page reports the first page's revision (served from one snapshot, like etcd).
    assert {pg["metadata"]["resourceVersion"] for pg in pages} == {pages[0]["metadata"]["resourceVersion"]}
    ns_pages = all_pages(http, "/api/v1/namespaces/team-a/pods", 10)
    ns_names = [p["metadata"]["name"] for pg in ns_pages for p in pg["items"]]
    assert len(ns_names) == len(http("/api/v1/namespaces/team-a/pods").json()["items"]) >= 40
    token = json.loads(base64.urlsafe_b64decode(ns_pages[0]["metadata"]["continue"] + "=="))
    assert "/" not in token["start"]  # relative to the namespace, like kube-apiserver


def test_invalid_continue_token_is_410_or_400(http: Any) -> None:
    old = base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":1,"start":"team-a/x\\u0000"}').decode()
    r = http(f"/api/v1/pods?limit=5&continue={old}")
    assert r.status == 410
    st = r.json()
    assert st["reason"] == "Expired" and st["code"] == 410
    assert st["message"].startswith("The provided continue parameter is too old")
    fresh = json.loads(base64.urlsafe_b64decode(st["metadata"]["continue"] + "=="))
    assert fresh["rv"] == -1 and fresh["start"] == "team-a/x\x00"
    # The fresh token lets the client carry on (inconsistently), like the real server.
    assert http(f"/api/v1/pods?limit=5&continue={st['metadata']['continue']}").status == 200
    assert http("/api/v1/pods?limit=5&continue=garbage!!").status in (400, 410)


def test_label_selectors(http: Any) -> None:
    pods = http("/api/v1/namespaces/team-a/pods").json()["items"]
    apps = sorted({p["metadata"]["labels"]["app"] for p in pods})
    a, b = apps[0], apps[1]

    def names(sel: str) -> set[str]:
        r = http(f"/api/v1/namespaces/team-a/pods?labelSelector={sel}")
        assert r.status == 200, r.body
        return {p["metadata"]["name"] for p in r.json()["items"]}

    def want(pred: Any) -> set[str]:
        return {p["metadata"]["name"] for p in pods if pred(p["metadata"].get("labels", {}))}

    assert names(f"app%3D{a}") == want(lambda lb: lb.get("app") == a) != set()
    assert names(f"app%3D%3D{a}") == want(lambda lb: lb.get("app") == a)
    assert names(f"app!%3D{a}") == want(lambda lb: lb.get("app") != a)
    assert names(f"app%20in%20({a},{b})") == want(lambda lb: lb.get("app") in (a, b))
    assert names(f"app%20notin%20({a},{b})") == want(lambda lb: lb.get("app") not in (a, b))
    assert names("pod-template-hash") == want(lambda lb: "pod-template-hash" in lb)
    assert names("!pod-template-hash") == want(lambda lb: "pod-template-hash" not in lb) != set()
    assert names(f"app%3D{a},pod-template-hash") == want(lambda lb: lb.get("app") == a and "pod-template-hash" in lb)
    # Selectors are honoured with pagination too, without remainingItemCount.
    page = http(f"/api/v1/pods?limit=2&labelSelector=app%3D{a}").json()
    assert len(page["items"]) == 2 and "remainingItemCount" not in page["metadata"]


def test_field_selectors(http: Any) -> None:
    pods = http("/api/v1/pods").json()["items"]

    def key(p: dict[str, Any]) -> tuple[str, str]:
        return p["metadata"]["namespace"], p["metadata"]["name"]

    def keys(sel: str) -> set[tuple[str, str]]:
        r = http(f"/api/v1/pods?fieldSelector={sel}")
        assert r.status == 200, r.body
        return {key(p) for p in r.json()["items"]}

    assert keys("spec.nodeName%3Dnode-3") == {key(p) for p in pods if p["spec"].get("nodeName") == "node-3"} != set()
    running = {key(p) for p in pods if p["status"]["phase"] == "Running"}
    assert keys("status.phase%3DRunning") == running
    assert keys("status.phase!%3DRunning") == {key(p) for p in pods} - running != set()
    first = pods[0]["metadata"]
    assert keys(f"metadata.name%3D%3D{first['name']},metadata.namespace%3D{first['namespace']}") == {
        (first["namespace"], first["name"])
    }
    assert len(keys("metadata.namespace%3Dteam-a")) == len([p for p in pods if p["metadata"]["namespace"] == "team-a"])
    r = http("/api/v1/pods?fieldSelector=spec.bogus%3Dx")
    assert r.status == 400 and r.json()["reason"] == "BadRequest"


def test_table_pods(http: Any) -> None:
    t = http("/api/v1/pods?limit=5", accept=TABLE).json()
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    cols = [c["name"] for c in t["columnDefinitions"]]
    assert cols == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    assert [c["priority"] for c in t["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert t["metadata"]["remainingItemCount"] == SIM_PODS - 5 and t["metadata"]["continue"]
    row = t["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["apiVersion"] == "meta.k8s.io/v1"
    assert set(row["object"]) == {"kind", "apiVersion", "metadata"}
    name, ready, status, restarts, age = row["cells"][:5]
    assert name == row["object"]["metadata"]["name"]
    assert ready.count("/") == 1 and isinstance(restarts, int) and status
    assert age[-1] in "smhdy" and age[0].isdigit()
    raw = http("/api/v1/pods?limit=5", accept=TABLE).body
    assert b'"\\u003cnone\\u003e"' in raw and b"<none>" not in raw  # Go's JSON escaping, like the samples
    statuses = {r["cells"][2] for r in http("/api/v1/pods", accept=TABLE).json()["rows"]}
    assert {"Running", "CrashLoopBackOff"} <= statuses
    # includeObject variants.
    full = http("/api/v1/namespaces/team-a/pods?limit=1&includeObject=Object", accept=TABLE).json()
    assert full["rows"][0]["object"]["kind"] == "Pod" and "spec" in full["rows"][0]["object"]
    none = http("/api/v1/namespaces/team-a/pods?limit=1&includeObject=None", accept=TABLE).json()
    assert none["rows"][0]["object"] is None
    beta = http("/api/v1/nodes", accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io").json()
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"


def test_table_columns_for_other_kinds(http: Any) -> None:
    def cols(path: str) -> list[str]:
        return [c["name"] for c in http(path, accept=TABLE).json()["columnDefinitions"] if c["priority"] == 0]

    assert cols("/api/v1/nodes") == ["Name", "Status", "Roles", "Age", "Version"]
    assert cols("/apis/apps/v1/deployments") == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert cols("/apis/batch/v1beta1/cronjobs") == ["Name", "Schedule", "Suspend", "Active", "Last Schedule", "Age"]
    assert cols("/api/v1/services") == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    assert cols("/api/v1/namespaces") == ["Name", "Status", "Age"]
    assert cols("/apis/example.com/v1/widgets") == ["Name", "Age"]
    nodes = http("/api/v1/nodes", accept=TABLE).json()["rows"]
    assert nodes[0]["cells"][:3] == ["node-1", "Ready", "control-plane,master"] and nodes[0]["cells"][4] == "v1.19.0"


def test_partial_object_metadata_list(http: Any) -> None:
    r = http("/api/v1/pods?limit=5", accept=PARTIAL).json()
    assert r["kind"] == "PartialObjectMetadataList" and r["apiVersion"] == "meta.k8s.io/v1"
    assert all(set(i) == {"kind", "apiVersion", "metadata"} for i in r["items"]) and len(r["items"]) == 5
    assert r["metadata"]["continue"]


def test_get_and_errors(http: Any) -> None:
    page = http("/api/v1/namespaces/team-a/pods?limit=1").json()
    name = page["items"][0]["metadata"]["name"]
    pod = http(f"/api/v1/namespaces/team-a/pods/{name}").json()
    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1" and pod["metadata"]["name"] == name
    r = http("/api/v1/namespaces/team-a/pods/does-not-exist")
    assert r.status == 404 and r.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "does-not-exist" not found',
        "reason": "NotFound",
        "details": {"name": "does-not-exist", "kind": "pods"},
        "code": 404,
    }
    r = http("/api/v1/foos")
    assert r.status == 404 and r.json()["message"] == "the server could not find the requested resource"
    assert http("/apis/nope.example/v1").status == 404
    # POST goes to a collection; to a named object it is not allowed (kube-apiserver's 405).
    r = http("/api/v1/namespaces/team-a/configmaps/x", method="POST", body={"metadata": {"name": "x"}})
    assert r.status == 405 and r.json()["reason"] == "MethodNotAllowed"
    r = http("/api/v1/namespaces", token=None)
    assert r.status == 401 and r.json()["message"] == "Unauthorized"
    dep = http("/apis/apps/v1/namespaces/team-a/deployments?limit=1").json()["items"][0]
    got = http(f"/apis/apps/v1/namespaces/team-a/deployments/{dep['metadata']['name']}").json()
    assert got["kind"] == "Deployment" and got["apiVersion"] == "apps/v1"
    one = http(f"/api/v1/namespaces/team-a/pods/{name}", accept=TABLE).json()
    assert one["kind"] == "Table" and one["rows"][0]["cells"][0] == name


def test_viewer_wording(sim: SimProcess, http: Any) -> None:
    v = sim.token("sim-viewer")
    r = http("/api/v1/pods", token=v)
    assert r.status == 403 and r.json()["message"] == (
        'pods is forbidden: User "viewer" cannot list resource "pods" in API group "" at the cluster scope'
    )
    r = http("/api/v1/namespaces/team-b/pods/x", token=v)
    assert r.json()["message"] == (
        'pods "x" is forbidden: User "viewer" cannot get resource "pods" in API group "" in the namespace "team-b"'
    )
    r = http("/apis/apps/v1/namespaces/team-a/statefulsets", token=v)
    assert r.status == 403 and 'in API group "apps" in the namespace "team-a"' in r.json()["message"]
    assert http("/api/v1/namespaces/team-a", token=v).status == 200
    assert http("/api/v1/namespaces/team-b", token=v).status == 403
    assert http("/simz/stats", token=v).status == 403


def test_pod_log(http: Any) -> None:
    name = http("/api/v1/namespaces/team-a/pods?limit=1").json()["items"][0]["metadata"]["name"]
    r = http(f"/api/v1/namespaces/team-a/pods/{name}/log?tailLines=7")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.body.decode()
    assert len(text.splitlines()) == 7 and name in text
    assert len(http(f"/api/v1/namespaces/team-a/pods/{name}/log").body.decode().splitlines()) > 7
    assert http("/api/v1/namespaces/team-a/pods/nope/log").status == 404


def test_self_subject_reviews(sim: SimProcess, http: Any) -> None:
    def can(token: str, **attrs: str) -> bool:
        body = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "spec": {"resourceAttributes": attrs},
        }
        r = http("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token=token, method="POST", body=body)
        assert r.status == 201, r.body
        allowed: bool = r.json()["status"]["allowed"]
        return allowed

    viewer = sim.token("sim-viewer")
    assert can("admin", verb="list", resource="nodes")
    assert can(viewer, verb="list", resource="pods", namespace="team-a")
    assert can(viewer, verb="get", resource="pods", subresource="log", namespace="team-a")
    assert not can(viewer, verb="list", resource="pods", namespace="kube-system")
    assert not can(viewer, verb="list", resource="nodes")
    assert not can(viewer, verb="delete", resource="pods", namespace="team-a")
    rr = http(
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        token=viewer,
        method="POST",
        body={"spec": {"namespace": "team-a"}},
    ).json()
    assert any("pods" in r["resources"] and "list" in r["verbs"] for r in rr["status"]["resourceRules"])
    assert http("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").status == 405


def test_event_field_selectors_for_describe(http: Any) -> None:
    events = http("/api/v1/namespaces/team-a/events").json()["items"]
    assert events
    inv = events[0]["involvedObject"]
    sel = f"involvedObject.name%3D{inv['name']},involvedObject.namespace%3Dteam-a,involvedObject.uid%3D{inv['uid']}"
    got = http(f"/api/v1/namespaces/team-a/events?fieldSelector={sel}").json()["items"]
    assert got and all(e["involvedObject"]["name"] == inv["name"] for e in got)
    assert len(got) == len([e for e in events if e["involvedObject"]["uid"] == inv["uid"]])
    r = http("/api/v1/events?fieldSelector=bogus%3D1")
    assert r.status == 400 and r.json()["message"] == "field label not supported: bogus"


def test_pod_log_container_and_follow(sim: SimProcess, http: Any) -> None:
    import http.client as httpclient
    import ssl

    name = http("/api/v1/namespaces/team-a/pods?limit=1").json()["items"][0]["metadata"]["name"]
    r = http(f"/api/v1/namespaces/team-a/pods/{name}/log?container=nope")
    assert r.status == 400 and r.json()["message"] == f"container nope is not valid for pod {name}"
    assert len(http(f"/api/v1/namespaces/team-a/pods/{name}/log?container=main&limitBytes=10").body) == 10
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", sim.port, context=ctx, timeout=5)
    try:
        conn.request(
            "GET",
            f"/api/v1/namespaces/team-a/pods/{name}/log?follow=true&tailLines=1",
            headers={"Authorization": f"Bearer {sim.admin_token()}"},
        )
        resp = conn.getresponse()
        assert resp.status == 200
        first = resp.readline()
        assert name.encode() in first
        sim.set_log_rate(20, "team-a", name)  # the next line comes within a twentieth of a second
        try:
            live = resp.readline()
            assert live.endswith(b"\n") and live != first
        finally:
            sim.set_log_rate(0.5, "team-a", name)
    finally:
        conn.close()
