"""kube9-sim's container logs and events, refereed by the real kubectl (and raw HTTP where kubectl hides the API)."""

from __future__ import annotations

import http.client as httpclient
import json
import ssl
import time
from typing import Any

import pytest
from test_sim_kubectl import KUBECTL, kc, lines  # tests/sim is on sys.path (pytest's prepend import mode)

from kube9_desktop.sim.process import SimProcess

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (not on PATH nor /usr/bin)")


def pods(sim: SimProcess, ns: str = "team-a") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = sim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
    return items


def pod_where(sim: SimProcess, pred: Any, ns: str = "team-a") -> dict[str, Any]:
    found = [p for p in pods(sim, ns) if pred(p)]
    assert found, "the sim has no such pod"
    return found[0]


def state(p: dict[str, Any]) -> dict[str, Any]:
    css = p["status"].get("containerStatuses") or [{}]
    return dict(css[0].get("state") or {})


def running(p: dict[str, Any]) -> bool:
    return "running" in state(p) and len(p["spec"]["containers"]) == 1


def test_tail_timestamps_and_since(sim: SimProcess) -> None:
    name = pod_where(sim, running)["metadata"]["name"]
    out = kc(sim, "logs", "-n", "team-a", name, "--tail", "7").stdout
    assert len(out.splitlines()) == 7
    again = kc(sim, "logs", "-n", "team-a", name, "--tail", "7", "--timestamps").stdout.splitlines()
    stamps = [line.split(" ", 1)[0] for line in again]
    assert all(s.endswith("Z") and "T" in s for s in stamps) and stamps == sorted(stamps)
    # the same lines with their timestamps (the log may have grown by a line in between)
    assert [line.split(" ", 1)[1] for line in again][:6] == out.splitlines()[-6:] or \
        [line.split(" ", 1)[1] for line in again] == out.splitlines()
    # recent first: the log grows while the test runs, so everything read after it holds every recent line
    recent = kc(sim, "logs", "-n", "team-a", name, "--since", "20s").stdout.splitlines()
    everything = kc(sim, "logs", "-n", "team-a", name).stdout.splitlines()
    assert 0 < len(recent) < len(everything) and recent[-1] in everything[-3:]
    assert recent == everything[everything.index(recent[0]):][:len(recent)]
    # kubelet's sinceTime is inclusive: asking from a line's own timestamp starts with that line
    t = again[3].split(" ", 1)[0]
    body = sim_get(sim, f"/api/v1/namespaces/team-a/pods/{name}/log?timestamps=true&sinceTime={t}")
    assert body.decode().splitlines()[0] == again[3]
    # limitBytes cuts the body
    assert len(sim_get(sim, f"/api/v1/namespaces/team-a/pods/{name}/log?limitBytes=25")) == 25


def test_content_is_realistic_and_deterministic(sim: SimProcess) -> None:
    names = [p["metadata"]["name"] for p in pods(sim) if running(p)][:12]
    text = "".join(kc(sim, "logs", "-n", "team-a", n, "--tail", "60").stdout for n in names)
    assert "\x1b[" in text, "some containers colour their levels"
    assert any(line.startswith("{") and json.loads(line)["level"] for line in text.splitlines())
    assert "ERROR" in text or '"level":"error"' in text
    first = kc(sim, "logs", "-n", "team-a", names[0], "--tail", "40", "--timestamps").stdout.splitlines()
    second = kc(sim, "logs", "-n", "team-a", names[0], "--tail", "60", "--timestamps").stdout.splitlines()
    assert set(first[:30]) <= set(second), "the same lines on every read"


def test_previous_of_a_crashing_container_ends_with_a_stack_trace(sim: SimProcess) -> None:
    crash = pod_where(sim, lambda p: state(p).get("waiting", {}).get("reason") == "CrashLoopBackOff",
                      ns=_ns_with(sim, "CrashLoopBackOff"))
    ns, name = crash["metadata"]["namespace"], crash["metadata"]["name"]
    prev = kc(sim, "logs", "-n", ns, name, "--previous").stdout
    assert "goroutine 1 [running]:" in prev and prev.splitlines()[0]
    healthy = pod_where(sim, lambda p: running(p) and not p["status"]["containerStatuses"][0]["restartCount"])
    r = kc(sim, "logs", "-n", "team-a", healthy["metadata"]["name"], "--previous", check=False)
    assert r.returncode == 1
    assert (f'previous terminated container "main" in pod "{healthy["metadata"]["name"]}" not found'
            in r.stderr)


def _ns_with(sim: SimProcess, reason: str) -> str:
    for ns in ("team-a", "team-b", "default", "kube-system", *[f"team-{c}" for c in "cdefghij"]):
        try:
            items = pods(sim, ns)
        except Exception:
            continue
        if any(state(p).get("waiting", {}).get("reason") == reason for p in items):
            return ns
    pytest.fail(f"no pod waiting with {reason}")


def test_waiting_container_answers_like_the_apiserver(sim: SimProcess) -> None:
    ns = _ns_with(sim, "ContainerCreating")
    p = pod_where(sim, lambda p: state(p).get("waiting", {}).get("reason") == "ContainerCreating", ns=ns)
    name = p["metadata"]["name"]
    r = kc(sim, "logs", "-n", ns, name, check=False)
    assert r.returncode == 1
    assert f'container "main" in pod "{name}" is waiting to start: ContainerCreating' in r.stderr


def test_several_containers_need_one_named(sim: SimProcess) -> None:
    p = pod_where(sim, lambda p: len(p["spec"]["containers"]) > 1)
    name = p["metadata"]["name"]
    status, body = sim_get_status(sim, f"/api/v1/namespaces/team-a/pods/{name}/log")
    assert status == 400
    assert json.loads(body)["message"] == (
        f"a container name must be specified for pod {name}, choose one of: [main metrics] "
        "or one of the init containers: [init-config]"
    )
    # kubectl picks the default container itself; -c and --all-containers read the others
    assert kc(sim, "logs", "-n", "team-a", name, "--tail", "1").stdout.strip()
    both = kc(sim, "logs", "-n", "team-a", name, "--all-containers", "--prefix", "--tail", "2").stdout
    for c in ("main", "metrics", "init-config"):
        assert sum(line.startswith(f"[pod/{name}/{c}]") for line in both.splitlines()) == 2
    r = kc(sim, "logs", "-n", "team-a", name, "-c", "nope", check=False)
    assert r.returncode == 1 and f"container nope is not valid for pod {name}" in r.stderr


def test_a_deployment_log_and_follow_at_a_set_rate(sim: SimProcess) -> None:
    deploy = sim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments")["items"][0]["metadata"]["name"]
    r = kc(sim, "logs", "-n", "team-a", f"deploy/{deploy}", "--tail", "3")
    assert len(r.stdout.splitlines()) == 3
    name = pod_where(sim, running)["metadata"]["name"]
    sim.set_log_rate(50, "team-a", name)
    try:
        r = kc(sim, "logs", "-n", "team-a", name, "-f", "--tail", "0", "--request-timeout", "2s", check=False,
               timeout=30)
    finally:
        sim.set_log_rate(0.5, "team-a", name)
    # two seconds at 50 lines/s: roughly a hundred new lines, each printed once
    got = r.stdout.splitlines()
    assert 40 <= len(got) <= 160 and len(set(got)) == len(got)


def test_kubelet_down_is_a_500_naming_the_node_address(sim: SimProcess) -> None:
    p = pod_where(sim, running)
    name, node = p["metadata"]["name"], p["spec"]["nodeName"]
    sim.set_down_nodes([node])
    try:
        r = kc(sim, "logs", "-n", "team-a", name, check=False)
    finally:
        sim.set_down_nodes([])
    assert r.returncode == 1 and "dial tcp" in r.stderr and ":10250" in r.stderr
    assert kc(sim, "logs", "-n", "team-a", name, "--tail", "1").stdout


def test_events_in_both_apis_and_by_object(sim: SimProcess) -> None:
    core = lines(kc(sim, "get", "events", "-n", "team-a", "--no-headers").stdout)
    v1 = lines(kc(sim, "get", "events.v1.events.k8s.io", "-n", "team-a", "--no-headers").stdout)
    assert core and len(core) == len(v1)
    assert lines(kc(sim, "events", "-n", "team-a").stdout)
    raw = sim.request("GET", "/apis/events.k8s.io/v1/namespaces/team-a/events")
    ev = raw["items"][0]
    assert raw["kind"] == "EventList" and ev["apiVersion"] == "events.k8s.io/v1" and "regarding" in ev
    uid = ev["regarding"]["uid"]
    by_uid = sim.request("GET", f"/apis/events.k8s.io/v1/namespaces/team-a/events?fieldSelector=regarding.uid%3D{uid}")
    core_by_uid = sim.request("GET", f"/api/v1/namespaces/team-a/events?fieldSelector=involvedObject.uid%3D{uid}")
    assert {e["metadata"]["name"] for e in by_uid["items"]} == {e["metadata"]["name"] for e in core_by_uid["items"]}
    assert all(e["regarding"]["uid"] == uid for e in by_uid["items"])


def test_churn_and_deletes_record_events_with_counts(msim: SimProcess) -> None:
    before = {e["metadata"]["name"] for e in msim.request("GET", "/api/v1/events")["items"]}
    victim = pod_where(msim, running)
    name = victim["metadata"]["name"]
    msim.request("DELETE", f"/api/v1/namespaces/team-a/pods/{name}")
    msim.set_churn(40)
    try:
        time.sleep(2.5)
    finally:
        msim.set_churn(0)
    items = msim.request("GET", "/api/v1/events")["items"]
    new = [e for e in items if e["metadata"]["name"] not in before]
    reasons = {e["reason"] for e in new}
    assert {"Killing", "Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons
    killed = [e for e in new if e["involvedObject"]["name"] == name]
    assert killed and killed[0]["reason"] == "Killing" and killed[0]["message"] == "Stopping container main"
    assert all(e["count"] >= 1 and e["lastTimestamp"] for e in new)
    out = kc(msim, "get", "events", "-A", "--field-selector", f"involvedObject.name={name}", "--no-headers").stdout
    assert "Killing" in out


def sim_get_status(sim: SimProcess, path: str) -> tuple[int, bytes]:
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    conn = httpclient.HTTPSConnection("127.0.0.1", sim.port, context=ctx, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {sim.admin_token()}"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def sim_get(sim: SimProcess, path: str) -> bytes:
    status, body = sim_get_status(sim, path)
    assert status == 200, body
    return body
