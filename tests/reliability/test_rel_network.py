"""Network faults as the user sees them: DNS, a server that never answers, a connection closed mid-response,
malformed JSON, and TLS problems (wrong CA, host name mismatch, plain HTTP on an https URL).

Connection refused is covered by tests/model/test_tree_model.py (sim-down) and the acceptance check.
"""

from __future__ import annotations

import base64
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reliability_helpers import assert_healthy, context_error, error_rows, make_model, object_names

from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.model.lag import LoopLagMonitor
from kube9_desktop.model.nodes import LoadState
from kube9_desktop.sim.certs import generate_pki
from kube9_desktop.sim.process import SimProcess


@pytest.fixture
def plain_http_server() -> Iterator[int]:
    """A plain-HTTP server on 127.0.0.1 (answers every request with 200 and a tiny body); yields its port."""

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


def test_dns_name_that_does_not_resolve(sim: SimProcess, services: Callable[..., Any],
                                        write_kubeconfig: Callable[..., str], run: Any) -> None:
    path = write_kubeconfig(sim, cluster={"server": "https://kube9-no-such-host.invalid:6443"})
    model = make_model(services([path, sim.kubeconfig], connect_timeout=3.0), "test")
    run(model.wait_idle(), 20)
    row = context_error(model)
    assert row.error is not None and row.error.kind is ErrorKind.DNS
    assert "kube9-no-such-host.invalid" in row.label and "does not resolve" in row.label
    assert "VPN" in row.error.hint or "DNS" in row.error.hint
    assert_healthy(model, run, "sim-admin")


def test_server_that_never_answers_times_out_and_the_loop_stays_free(
        fsim: SimProcess, services: Callable[..., Any], run: Any) -> None:
    lag = LoopLagMonitor(0.005)
    svc = services(fsim.kubeconfig, read_timeout=1.0, retries=0)
    fsim.set_faults([{"path": "^/api/v1/nodes$", "mode": "stall"}])
    try:
        lag.start()
        t0 = time.monotonic()
        model = make_model(svc, "sim-admin")
        run(model.wait_idle(), 20)
        took = time.monotonic() - t0
        run(lag.stop())
    finally:
        fsim.clear_faults()
    nodes = model.find("Nodes")
    rows = error_rows(nodes)
    assert rows and rows[0].error is not None and rows[0].error.kind is ErrorKind.TIMEOUT
    assert "did not answer within 1 s" in rows[0].label
    assert "read timeout" in rows[0].error.hint
    # The rest of the context loaded while nodes stalled; the read timeout fired promptly.
    assert object_names(model.find("Namespaces"))
    assert took < 8
    assert lag.max_lag_ms < 300, f"event loop blocked for {lag.max_lag_ms:.0f} ms"
    # Retrying once the server answers again loads the nodes.
    assert nodes is not None
    model.retry(model.index_of(rows[0]))
    run(model.wait_idle(), 20)
    assert nodes.state is LoadState.LOADED and object_names(nodes)


@pytest.mark.parametrize("mode", ["close", "garbage"])
def test_truncated_or_malformed_response_is_a_protocol_error(mode: str, fsim: SimProcess,
                                                             services: Callable[..., Any], run: Any) -> None:
    svc = services(fsim.kubeconfig, retries=1)
    fsim.set_faults([{"path": "^/api/v1/nodes$", "mode": mode}])
    try:
        model = make_model(svc, "sim-admin")
        run(model.wait_idle(), 20)
    finally:
        fsim.clear_faults()
    rows = error_rows(model.find("Nodes"))
    assert rows and rows[0].error is not None, [c.label for c in model.find("Nodes").children]  # type: ignore
    assert rows[0].error.kind is ErrorKind.PROTOCOL
    assert "not valid JSON" in rows[0].label or "closed" in rows[0].label
    assert object_names(model.find("Namespaces"))
    assert_healthy(model, run, "sim-cert")


def _other_ca() -> str:
    return base64.b64encode(generate_pki().ca_cert).decode()


@pytest.mark.parametrize(
    ("cluster", "expect"),
    [
        ("wrong-ca", ["could not be verified", "certificate authority"]),
        ({"tls-server-name": "wrong.example.com"}, ["not valid for that host name"]),
        ("plain-http", ["does not speak TLS", "plain HTTP", "scheme"]),
    ],
    ids=["wrong-ca", "hostname-mismatch", "plain-http-on-https"],
)
def test_tls_problems(cluster: Any, expect: list[str], sim: SimProcess, services: Callable[..., Any],
                      write_kubeconfig: Callable[..., str], run: Any, plain_http_server: int) -> None:
    if cluster == "wrong-ca":
        cluster = {"certificate-authority-data": _other_ca()}
    elif cluster == "plain-http":
        cluster = {"server": f"https://127.0.0.1:{plain_http_server}"}
    path = write_kubeconfig(sim, cluster=cluster)
    model = make_model(services([path, sim.kubeconfig], connect_timeout=3.0, read_timeout=3.0), "test")
    run(model.wait_idle(), 20)
    row = context_error(model)
    assert row.error is not None
    assert row.error.kind is ErrorKind.TLS
    text = row.label + " " + row.error.hint
    for e in expect:
        assert e.lower() in text.lower(), text
    assert_healthy(model, run, "sim-admin")
