"""Unit tests of the sim's pure helpers, the in-process server and the CLI process lifecycle."""

from __future__ import annotations

import base64
import http.client as httpclient
import json
import socket
import ssl
import time

import pytest
import yaml

from kube9_desktop.sim.faults import Fault
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.handlers.read import decode_continue, encode_continue
from kube9_desktop.sim.process import SimProcess
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.selectors import SelectorError, parse_field_selector, parse_label_selector
from kube9_desktop.sim.server import SimServer
from kube9_desktop.sim.store import Obj, Store
from kube9_desktop.sim.tables import human_duration


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (-5, "<invalid>"),
        (0, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 5, "3h"),
        (3 * 3600 + 25 * 60, "3h25m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (9 * 86400, "9d"),
        (800 * 86400, "2y70d"),
        (3000 * 86400, "8y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: float, want: str) -> None:
    assert human_duration(seconds) == want


def _obj(labels: dict[str, str], node: str = "n1", phase: str = "Running") -> Obj:
    return Obj(
        BY_NAME["pods"],
        {
            "metadata": {"name": "p", "namespace": "ns", "labels": labels},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": phase},
        },
    )


def test_label_selector_operators() -> None:
    a, b, none = _obj({"app": "a", "tier": "web"}), _obj({"app": "b"}), _obj({})

    def match(expr: str) -> list[bool]:
        pred = parse_label_selector(expr)
        assert pred is not None
        return [pred(o) for o in (a, b, none)]

    assert match("app=a") == [True, False, False]
    assert match("app==a") == [True, False, False]
    assert match("app!=a") == [False, True, True]
    assert match("app in (a, b)") == [True, True, False]
    assert match("app notin (a)") == [False, True, True]
    assert match("tier") == [True, False, False]
    assert match("!tier") == [False, True, True]
    assert match("app in (a,b),!tier") == [False, True, False]
    assert parse_label_selector("") is None
    with pytest.raises(SelectorError):
        parse_label_selector("app in (a")


def test_field_selector() -> None:
    pred = parse_field_selector("spec.nodeName=n1,status.phase!=Failed", "Pod")
    assert pred is not None
    assert pred(_obj({})) and not pred(_obj({}, node="n2")) and not pred(_obj({}, phase="Failed"))
    with pytest.raises(SelectorError):
        parse_field_selector("spec.nodeName=n1", "ConfigMap")


def test_continue_token_round_trip_and_shape() -> None:
    tok = encode_continue(5848, "team-a/api-1-jklg55vqft-xw9vk")
    # Byte-identical to a real kube-apiserver v1.19 token (pods-limit5-page1 sample).
    assert tok == (
        "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NTg0OCwic3RhcnQiOiJ0ZWFtLWEvYXBpLTEtamtsZzU1dnFmdC14dzl2a1x1MDAwMCJ9"
    )
    assert decode_continue(tok) == (5848, "team-a/api-1-jklg55vqft-xw9vk")
    with pytest.raises(ValueError):
        decode_continue(base64.urlsafe_b64encode(b'{"rv":1}').decode())


def test_fault_spec_parsing() -> None:
    f = Fault.from_spec("^/api/v1/nodes:503:0.25")
    assert (f.path, f.status, f.rate) == ("^/api/v1/nodes", 503, 0.25)
    f = Fault.from_spec("^/apis/apps/v1/.*:429")
    assert (f.path, f.status, f.rate) == ("^/apis/apps/v1/.*", 429, 1.0)
    f = Fault.from_spec("^/a:b:500")
    assert (f.path, f.status) == ("^/a:b", 500)
    with pytest.raises(ValueError):
        Fault.from_spec("nonsense")


@pytest.mark.parametrize(("pods", "namespaces", "nodes"), [(0, 1, 1), (7, 3, 2), (300, 12, 5), (1001, 20, 7)])
def test_generator_exact_counts_and_determinism(pods: int, namespaces: int, nodes: int) -> None:
    def build() -> Store:
        s = Store()
        Generator(nodes, namespaces, pods, seed=3, now=1_800_000_000).build(s)
        s.finish_load()
        return s

    s1, s2 = build(), build()
    assert s1.count(BY_NAME["pods"]) == pods
    assert s1.count(BY_NAME["namespaces"]) == namespaces and s1.count(BY_NAME["nodes"]) == nodes
    assert s1.collections["pods"].keys == s2.collections["pods"].keys
    assert (
        s1.collections["namespaces"].keys[: min(namespaces, 3)]
        == ["default", "kube-system", "team-a"][: min(namespaces, 3)]
    )
    if pods >= 300:
        team_a = sum(1 for k in s1.collections["pods"].keys if k.startswith("team-a/"))
        assert team_a >= pods // 6
        assert all(
            s1.count(BY_NAME[r])
            for r in (
                "deployments",
                "services",
                "configmaps",
                "secrets",
                "events",
                "statefulsets",
                "jobs",
                "cronjobs",
                "ingresses",
                "widgets",
            )
        )


def test_in_process_server() -> None:
    with SimServer(nodes=2, namespaces=3, pods=20, churn=0) as srv:
        with open(srv.kubeconfig_path) as f:
            cfg = yaml.safe_load(f)
        assert cfg["current-context"] == "sim-admin"
        assert {c["name"] for c in cfg["contexts"]} == {
            "sim-admin",
            "sim-cert",
            "sim-viewer",
            "sim-badtoken",
            "sim-down",
        }
        viewer = next(c for c in cfg["contexts"] if c["name"] == "sim-viewer")
        assert viewer["context"]["namespace"] == "team-a"
        assert all("certificate-authority-data" in c["cluster"] for c in cfg["clusters"])
        assert srv.url.startswith("https://127.0.0.1:")
        ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        ctx = ssl.create_default_context(cadata=ca)
        # The serving cert also covers the kube9-sim.internal name (for tls-server-name tests).
        ctx.check_hostname = True
        conn = httpclient.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=5)
        conn.request("GET", "/api/v1/pods", headers={"Authorization": f"Bearer {srv.auth.admin_token}"})
        assert len(json.loads(conn.getresponse().read())["items"]) == 20
        conn.close()
        raw = ssl.create_default_context(cadata=ca)
        with (
            socket.create_connection(("127.0.0.1", srv.port)) as s,
            raw.wrap_socket(s, server_hostname="kube9-sim.internal") as tls,
        ):
            assert tls.version()


def test_cli_exits_cleanly_and_closes_idle_watches() -> None:
    p = SimProcess.start("--pods", "10", "--namespaces", "3", "--nodes", "1", "--fault", "^/api/v1/nodes$:503")
    try:
        ctx = ssl.create_default_context(cadata=p.ca_pem.decode())
        conn = httpclient.HTTPSConnection("127.0.0.1", p.port, context=ctx, timeout=5)
        conn.request("GET", "/api/v1/nodes", headers={"Authorization": f"Bearer {p.admin_token()}"})
        r = conn.getresponse()
        assert r.status == 503 and json.loads(r.read())["reason"] == "ServiceUnavailable"
        conn.request("GET", "/api/v1/pods?watch=1", headers={"Authorization": f"Bearer {p.admin_token()}"})
        r = conn.getresponse()
        assert json.loads(r.readline())["type"] == "ADDED"
        assert p.stats()["open_connections"] >= 1
        conn.close()
        assert p.wait_until(lambda: p.stats()["open_connections"] <= 1, timeout=5)
    finally:
        t0 = time.monotonic()
        assert p.stop() == 0
        assert time.monotonic() - t0 < 5


def test_latency_applies_to_api_not_simz() -> None:
    with SimServer(nodes=1, namespaces=3, pods=5, latency_ms=250) as srv:
        ctx = ssl.create_default_context(cadata=srv.pki.ca_cert.decode() if srv.pki else "")
        hdrs = {"Authorization": f"Bearer {srv.auth.admin_token}"}

        def timed(path: str) -> float:
            conn = httpclient.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=5)
            t0 = time.monotonic()
            conn.request("GET", path, headers=hdrs)
            assert conn.getresponse().read()
            conn.close()
            return time.monotonic() - t0

        assert timed("/api/v1/namespaces") >= 0.25
        assert timed("/simz/stats") < 0.25
