"""kube9-sim's writes over real sockets: wording and semantics as kube-apiserver (samples in
``/work/shared/apiserver-samples``), and the real kubectl's write commands as the referee."""

from __future__ import annotations

import http.client as httpclient
import json
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.sim.process import SimProcess

KUBECTL = shutil.which("kubectl") or shutil.which("kubectl", path="/usr/bin")
MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
JSONPATCH = {"Content-Type": "application/json-patch+json"}
APPLY = {"Content-Type": "application/apply-patch+yaml"}


@pytest.fixture(scope="module")
def wsim() -> Iterator[SimProcess]:
    """A sim of its own: these tests write."""
    with SimProcess.start("--pods", "150", "--namespaces", "4", "--nodes", "3") as p:
        yield p


@pytest.fixture(scope="module")
def h(wsim: SimProcess, http_for: Any) -> Any:
    return http_for(wsim)


def kc(sim: SimProcess, *args: str, context: str = "sim-admin", check: bool = True,
       stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None, "kubectl is the referee of these tests and must be installed"
    r = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig, "--context", context, *args], capture_output=True,
                       text=True, timeout=60, input=stdin)
    if check:
        assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
    return r


def first_deployment(h: Any, ns: str = "team-a") -> dict[str, Any]:
    items = h(f"/apis/apps/v1/namespaces/{ns}/deployments").json()["items"]
    return next(d for d in items if d["spec"]["replicas"] >= 2)


def live_pods(h: Any, ns: str, selector: str) -> list[dict[str, Any]]:
    items = h(f"/api/v1/namespaces/{ns}/pods?labelSelector={selector}").json()["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def make_cm(h: Any, name: str, data: dict[str, str]) -> dict[str, Any]:
    r = h("/api/v1/namespaces/team-a/configmaps", method="POST",
          body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    assert r.status == 201, r.body
    return dict(r.json())


def test_put_with_stale_resource_version_is_409_with_real_wording(h: Any) -> None:
    cm = make_cm(h, "sample-cm", {"a": "1"})
    stale = dict(cm, data={"a": "2"})
    assert h("/api/v1/namespaces/team-a/configmaps/sample-cm", method="PUT", body=stale).status == 200
    r = h("/api/v1/namespaces/team-a/configmaps/sample-cm", method="PUT", body=dict(cm, data={"a": "3"}))
    assert r.status == 409
    assert r.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Operation cannot be fulfilled on configmaps "sample-cm": the object has been modified; please '
                   "apply your changes to the latest version and try again",
        "reason": "Conflict", "details": {"name": "sample-cm", "kind": "configmaps"}, "code": 409,
    }
    assert h("/api/v1/namespaces/team-a/configmaps/sample-cm").json()["data"] == {"a": "2"}


def test_put_negative_replicas_is_422_with_field_causes(h: Any) -> None:
    dep = first_deployment(h)
    name = dep["metadata"]["name"]
    dep["spec"]["replicas"] = -1
    r = h(f"/apis/apps/v1/namespaces/team-a/deployments/{name}", method="PUT", body=dep)
    assert r.status == 422
    body = r.json()
    assert body["message"] == (f'Deployment.apps "{name}" is invalid: spec.replicas: Invalid value: -1: must be '
                               "greater than or equal to 0")
    assert body["details"] == {"name": name, "group": "apps", "kind": "Deployment", "causes": [
        {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0",
         "field": "spec.replicas"}]}


def test_create_conflicts_invalid_names_and_dry_run(h: Any) -> None:
    r = h("/api/v1/namespaces", method="POST", body={"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": "team-a"}})
    assert r.status == 409 and r.json()["message"] == 'namespaces "team-a" already exists'
    assert r.json()["reason"] == "AlreadyExists"
    r = h("/api/v1/namespaces/team-a/configmaps", method="POST", body={"metadata": {"name": "Bad_Name"}})
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "metadata.name"
    assert r.json()["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
                                          '"Bad_Name": a DNS-1123 subdomain must consist of')
    r = h("/api/v1/namespaces/team-a/configmaps?dryRun=All", method="POST",
          body={"metadata": {"name": "dry"}, "data": {"x": "y"}})
    assert r.status == 201 and r.json()["data"] == {"x": "y"} and "resourceVersion" not in r.json()["metadata"]
    assert r.json()["metadata"]["managedFields"][0]["fieldsV1"] == {"f:data": {".": {}, "f:x": {}}}
    assert h("/api/v1/namespaces/team-a/configmaps/dry").status == 404
    r = h("/api/v1/namespaces/team-a/configmaps", method="POST", body=b"{not json")
    assert r.status == 400 and r.json()["message"].startswith(
        "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error")


def test_patches_merge_strategic_json(h: Any) -> None:
    make_cm(h, "patched", {"a": "1", "b": "2"})
    path = "/api/v1/namespaces/team-a/configmaps/patched"
    assert h(path, method="PATCH", body={"data": {"b": None, "c": "3"}}, headers=MERGE).json()["data"] == {
        "a": "1", "c": "3"}
    r = h(path, method="PATCH", body=[{"op": "replace", "path": "/data/a", "value": "9"}], headers=JSONPATCH)
    assert r.status == 200 and r.json()["data"]["a"] == "9"
    r = h(path, method="PATCH", body=[{"op": "replace", "path": "/data/nope/x", "value": "1"}], headers=JSONPATCH)
    assert r.status == 422 and r.json()["message"] == "the server rejected our request due to an error in our request"
    assert h(path, method="PATCH", body={"data": {}}).status == 415  # application/json is not a patch format
    dep = first_deployment(h)
    name = dep["metadata"]["name"]
    container = dep["spec"]["template"]["spec"]["containers"][0]["name"]
    # Strategic merge keeps the container list and merges by name (a merge patch would replace it).
    r = h(f"/apis/apps/v1/namespaces/team-a/deployments/{name}", method="PATCH", headers=STRATEGIC,
          body={"spec": {"template": {"spec": {"containers": [{"name": container, "image": "nginx:9"}]}}}})
    assert r.status == 200
    got = r.json()["spec"]["template"]["spec"]["containers"]
    assert len(got) == 1 and got[0]["image"] == "nginx:9" and got[0].get("ports")
    assert r.json()["metadata"]["generation"] == dep["metadata"].get("generation", 1) + 1
    assert any(m["manager"] == "unknown" or m["manager"] for m in r.json()["metadata"]["managedFields"])


def test_server_side_apply_create_conflict_force(h: Any) -> None:
    base = "/api/v1/namespaces/team-a/configmaps/sample-apply"
    doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sample-apply\n  namespace: team-a\ndata:\n  k: a\n"
    r = h(base + "?fieldManager=manager-a", method="PATCH", body=doc, headers=APPLY)
    assert r.status == 201
    assert r.json()["metadata"]["managedFields"] == [{
        "manager": "manager-a", "operation": "Apply", "apiVersion": "v1",
        "time": r.json()["metadata"]["managedFields"][0]["time"], "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:k": {}}}}]
    other = doc.replace(b"k: a", b"k: b")
    r = h(base + "?fieldManager=kube9-desktop", method="PATCH", body=other, headers=APPLY)
    assert r.status == 409
    assert r.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "manager-a": .data.k', "reason": "Conflict",
        "details": {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "manager-a"',
                                "field": ".data.k"}]}, "code": 409,
    }
    r = h(base + "?fieldManager=kube9-desktop&force=true", method="PATCH", body=other, headers=APPLY)
    assert r.status == 200 and r.json()["data"] == {"k": "b"}
    assert [m["manager"] for m in r.json()["metadata"]["managedFields"]] == ["kube9-desktop"]
    # Same value: shared ownership, no conflict.
    assert h(base + "?fieldManager=manager-a", method="PATCH", body=other, headers=APPLY).status == 200
    assert h(base, method="PATCH", body=other, headers=APPLY).status == 400  # fieldManager is required


def test_pod_graceful_delete_terminating_then_gone_and_force(wsim: SimProcess, h: Any) -> None:
    pods = h("/api/v1/namespaces/team-a/pods").json()["items"]
    running = [p for p in pods if p["spec"].get("nodeName") and p["status"]["phase"] == "Running"]
    victim, stuck = running[0]["metadata"]["name"], running[1]["metadata"]["name"]
    r = h(f"/api/v1/namespaces/team-a/pods/{victim}", method="DELETE")
    assert r.status == 200
    md = r.json()["metadata"]
    assert md["deletionGracePeriodSeconds"] == 30 and md["deletionTimestamp"]
    again = h(f"/api/v1/namespaces/team-a/pods/{victim}", method="DELETE")
    assert again.status == 200 and again.json()["metadata"]["deletionTimestamp"] == md["deletionTimestamp"]
    # The sim's containers stop about a second after SIGTERM; then the pod is gone.
    assert wsim.wait_until(lambda: h(f"/api/v1/namespaces/team-a/pods/{victim}").status == 404, timeout=10)
    # A pod whose containers never stop stays Terminating until it is force-deleted.
    h(f"/api/v1/namespaces/team-a/pods/{stuck}", method="PATCH", headers=MERGE,
      body={"metadata": {"annotations": {"sim.kube9.io/stuck-terminating": "true"}}})
    assert h(f"/api/v1/namespaces/team-a/pods/{stuck}", method="DELETE").status == 200
    time.sleep(1.5)
    assert h(f"/api/v1/namespaces/team-a/pods/{stuck}").json()["metadata"]["deletionTimestamp"]
    r = h(f"/api/v1/namespaces/team-a/pods/{stuck}?gracePeriodSeconds=0", method="DELETE")
    assert r.status == 200 and r.json()["metadata"]["deletionGracePeriodSeconds"] == 0
    assert h(f"/api/v1/namespaces/team-a/pods/{stuck}").status == 404


def test_delete_deployment_background_takes_replicasets_and_pods(wsim: SimProcess, h: Any) -> None:
    dep = first_deployment(h, "team-b")
    name, uid = dep["metadata"]["name"], dep["metadata"]["uid"]
    r = h(f"/apis/apps/v1/namespaces/team-b/deployments/{name}", method="DELETE",
          body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
    assert r.status == 200
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                        "details": {"name": name, "group": "apps", "kind": "deployments", "uid": uid}}
    assert wsim.wait_until(lambda: not h(f"/apis/apps/v1/namespaces/team-b/replicasets?labelSelector=app%3D{name}")
                           .json()["items"] and not h(f"/api/v1/namespaces/team-b/pods?labelSelector=app%3D{name}")
                           .json()["items"], timeout=10)


def test_eviction_and_disruption_budget(wsim: SimProcess, h: Any) -> None:
    dep = first_deployment(h, "default")
    app = dep["metadata"]["name"]
    pod = live_pods(h, "default", f"app%3D{app}")[0]["metadata"]["name"]
    ev = {"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": pod, "namespace": "default"}}
    r = h(f"/api/v1/namespaces/default/pods/{pod}/eviction", method="POST", body=ev)
    assert r.status == 201 and r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                            "status": "Success", "code": 201}
    pdb = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "sample-pdb"},
           "spec": {"minAvailable": "100%", "selector": {"matchLabels": {"app": app}}}}
    assert h("/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets", method="POST", body=pdb).status == 201
    ready = [p for p in live_pods(h, "default", f"app%3D{app}") if p["status"]["phase"] == "Running"
             and all(c["ready"] for c in p["status"]["containerStatuses"])]
    other = ready[0]["metadata"]["name"]
    r = h(f"/api/v1/namespaces/default/pods/{other}/eviction", method="POST",
          body=dict(ev, metadata={"name": other, "namespace": "default"}))
    assert r.status == 429
    body = r.json()
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["reason"] == "TooManyRequests" and body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert "sample-pdb" in body["details"]["causes"][0]["message"]
    assert h(f"/api/v1/namespaces/default/pods/{other}").json()["metadata"].get("deletionTimestamp") is None
    assert wsim.wait_until(lambda: h("/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets/sample-pdb")
                           .json().get("status", {}).get("disruptionsAllowed") == 0)
    assert h("/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets/sample-pdb", method="DELETE").status == 200


def test_access_reviews_and_viewer_refused(wsim: SimProcess, h: Any) -> None:
    def review(token: str | None, verb: str, resource: str, ns: str = "team-a") -> dict[str, Any]:
        body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "resource": resource}}}
        r = h("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", method="POST", body=body, token=token)
        assert r.status == 201
        return dict(r.json()["status"])

    viewer = wsim.token("sim-viewer")
    assert review(viewer, "delete", "pods") == {"allowed": False}
    assert review(viewer, "list", "pods")["allowed"] is True
    assert review("admin", "delete", "pods") == {"allowed": True}
    pod = h("/api/v1/namespaces/team-a/pods?limit=1").json()["items"][0]["metadata"]["name"]
    r = h(f"/api/v1/namespaces/team-a/pods/{pod}", method="DELETE", token=viewer)
    assert r.status == 403 and r.json()["message"] == (
        f'pods "{pod}" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace '
        '"team-a"')


# -- kubectl as the referee ------------------------------------------------------------------------------------------
def test_kubectl_scale_rollout_restart_and_status(wsim: SimProcess, h: Any) -> None:
    dep = first_deployment(h)["metadata"]["name"]
    kc(wsim, "scale", "-n", "team-a", f"deploy/{dep}", "--replicas=4")
    assert wsim.wait_until(lambda: len(live_pods(h, "team-a", f"app%3D{dep}")) == 4)
    # The controllers say what they did, as Events (kubectl describe shows them).
    events = kc(wsim, "get", "events", "-n", "team-a", f"--field-selector=involvedObject.name={dep}").stdout
    assert "ScalingReplicaSet" in events and "to 4" in events
    before = {p["metadata"]["name"] for p in live_pods(h, "team-a", f"app%3D{dep}")}
    kc(wsim, "rollout", "restart", "-n", "team-a", f"deploy/{dep}")
    out = kc(wsim, "rollout", "status", "-n", "team-a", f"deploy/{dep}", "--timeout=20s").stdout
    assert "successfully rolled out" in out
    after = {p["metadata"]["name"] for p in live_pods(h, "team-a", f"app%3D{dep}")}
    assert len(after) == 4 and not (after & before)
    ann = h(f"/apis/apps/v1/namespaces/team-a/deployments/{dep}").json()["spec"]["template"]["metadata"]
    assert "kubectl.kubernetes.io/restartedAt" in ann["annotations"]
    sts = h("/apis/apps/v1/namespaces/team-a/statefulsets").json()["items"][0]["metadata"]["name"]
    kc(wsim, "rollout", "restart", "-n", "team-a", f"sts/{sts}")
    assert "complete" in kc(wsim, "rollout", "status", "-n", "team-a", f"sts/{sts}", "--timeout=30s").stdout


def test_kubectl_delete_cordon_drain_with_budget(wsim: SimProcess, h: Any) -> None:
    pod = live_pods(h, "team-a", "")[0]["metadata"]["name"]
    kc(wsim, "delete", "-n", "team-a", f"pod/{pod}", "--wait=false")
    assert kc(wsim, "get", "-n", "team-a", f"pod/{pod}", "-o", "jsonpath={.metadata.deletionTimestamp}",
              check=False).stdout or kc(wsim, "get", "-n", "team-a", f"pod/{pod}", check=False).returncode != 0
    kc(wsim, "cordon", "node-3")
    assert h("/api/v1/nodes/node-3").json()["spec"]["unschedulable"] is True
    kc(wsim, "uncordon", "node-3")
    assert not h("/api/v1/nodes/node-3").json()["spec"].get("unschedulable")
    # A budget that allows no disruption: kubectl drain retries and finally gives up on that pod.
    on_node = [p for p in live_pods(h, "team-a", "") if p["spec"].get("nodeName") == "node-2"
               and p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"]
    app = on_node[0]["metadata"]["labels"]["app"]
    kc(wsim, "apply", "--validate=false", "-f", "-", stdin=(
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: block\n  namespace: team-a\n"
        f"spec:\n  minAvailable: '100%'\n  selector:\n    matchLabels:\n      app: {app}\n"))
    r = kc(wsim, "drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=3s", check=False)
    assert r.returncode != 0 and "disruption budget" in r.stderr
    assert h("/api/v1/nodes/node-2").json()["spec"]["unschedulable"] is True
    kc(wsim, "delete", "-n", "team-a", "pdb/block")
    kc(wsim, "drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=30s")
    left = [p for p in h("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2").json()["items"]
            if not p["metadata"].get("deletionTimestamp")
            and p["metadata"].get("ownerReferences", [{}])[0].get("kind") != "DaemonSet"]
    assert left == []
    kc(wsim, "uncordon", "node-2")


def test_kubectl_apply_server_side_and_auth_can_i(wsim: SimProcess) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kc-ssa\n  namespace: team-a\ndata:\n  k: v\n"
    assert "serverside-applied" in kc(wsim, "apply", "--server-side", "--validate=false", "-f", "-",
                                      stdin=doc).stdout
    r = kc(wsim, "apply", "--server-side", "--validate=false", "--field-manager=other", "-f", "-",
           stdin=doc.replace("k: v", "k: w"), check=False)
    assert r.returncode != 0 and 'conflict with "kubectl"' in r.stderr
    kc(wsim, "apply", "--server-side", "--validate=false", "--field-manager=other", "--force-conflicts", "-f", "-",
       stdin=doc.replace("k: v", "k: w"))
    assert kc(wsim, "get", "cm", "kc-ssa", "-n", "team-a", "-o", "jsonpath={.data.k}").stdout == "w"
    assert kc(wsim, "auth", "can-i", "delete", "pods", "-n", "team-a", context="sim-viewer",
              check=False).stdout.strip() == "no"
    assert kc(wsim, "auth", "can-i", "list", "pods", "-n", "team-a", context="sim-viewer").stdout.strip() == "yes"
    r = kc(wsim, "scale", "-n", "team-a", "deploy/api", "--replicas=1", context="sim-viewer", check=False)
    assert r.returncode != 0 and "forbidden" in r.stderr


def watched(wsim: SimProcess, path: str, rv: str) -> list[tuple[str, str]]:
    """``(type, name)`` of every event a watch from ``rv`` replays (the server ends the stream after 1 s)."""
    ctx = ssl.create_default_context(cadata=wsim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", wsim.port, context=ctx, timeout=10)
    try:
        conn.request("GET", f"{path}?watch=1&resourceVersion={rv}&timeoutSeconds=1",
                     headers={"Authorization": f"Bearer {wsim.admin_token()}"})
        resp = conn.getresponse()
        assert resp.status == 200
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    finally:
        conn.close()
    return [(e["type"], e["object"]["metadata"]["name"]) for e in events if e["type"] != "BOOKMARK"]


def test_every_write_emits_its_watch_event_and_a_dry_run_none(wsim: SimProcess, h: Any) -> None:
    cms = "/api/v1/namespaces/team-b/configmaps"
    rv = h(cms).json()["metadata"]["resourceVersion"]
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ev"}, "data": {"a": "1"}}
    r = h(cms, method="POST", body=doc)
    assert r.status == 201, r.body
    made = r.json()
    r = h(f"{cms}/ev", method="PUT", body=dict(made, data={"a": "2"}))
    assert r.status == 200, r.body
    put = r.json()
    assert h(f"{cms}/ev?dryRun=All", method="PUT", body=dict(put, data={"a": "dry"})).status == 200
    assert h(f"{cms}/ev", method="PATCH", body={"data": {"b": "3"}}, headers=MERGE).status == 200
    assert h(f"{cms}/ev", method="PATCH", body=[{"op": "remove", "path": "/data/b"}], headers=JSONPATCH).status == 200
    assert h(f"{cms}/ev?fieldManager=m", method="PATCH", headers=APPLY,
             body=b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ev\ndata:\n  c: '4'\n").status == 200
    assert h(f"{cms}/ev?dryRun=All", method="DELETE").status == 200
    assert h(f"{cms}/ev", method="DELETE").status == 200
    got = [e for e in watched(wsim, cms, rv) if e[1] == "ev"]
    # One event a write, in order; the dry runs changed nothing and said nothing.
    assert got == [("ADDED", "ev"), *[("MODIFIED", "ev")] * 4, ("DELETED", "ev")], got
    # The scale subresource and an eviction are writes to their objects too.
    dep = first_deployment(h, "team-b")
    name, replicas = dep["metadata"]["name"], dep["spec"]["replicas"]
    deps = "/apis/apps/v1/namespaces/team-b/deployments"
    rv = h(deps).json()["metadata"]["resourceVersion"]
    assert h(f"{deps}/{name}/scale", method="PATCH", headers=MERGE,
             body={"spec": {"replicas": replicas + 1}}).status == 200
    assert ("MODIFIED", name) in watched(wsim, deps, rv)
    pods = "/api/v1/namespaces/team-b/pods"
    rv = h(pods).json()["metadata"]["resourceVersion"]
    pod = live_pods(h, "team-b", f"app%3D{name}")[0]["metadata"]["name"]
    assert h(f"{pods}/{pod}/eviction", method="POST", body={
        "apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": pod, "namespace": "team-b"}},
    ).status == 201
    assert ("MODIFIED", pod) in watched(wsim, pods, rv)  # Terminating
