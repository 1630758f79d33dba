"""Fixtures for the kube9-sim tests: one read-only sim per session and one that tests may mutate."""

from __future__ import annotations

import http.client as httpclient
import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kube9_desktop.sim.process import SimProcess

SIM_PODS = 300
SIM_NAMESPACES = 12
SIM_NODES = 5


@dataclass
class Resp:
    """A raw HTTP answer from the sim."""

    status: int
    headers: httpclient.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


HttpFn = Callable[..., Resp]


@pytest.fixture(scope="session")
def sim() -> Iterator[SimProcess]:
    """A sim shared by read-only tests: nothing may change its objects."""
    with SimProcess.start(
        "--pods", str(SIM_PODS), "--namespaces", str(SIM_NAMESPACES), "--nodes", str(SIM_NODES), "--seed", "7"
    ) as p:
        yield p


@pytest.fixture(scope="session")
def msim() -> Iterator[SimProcess]:
    """A sim that tests may mutate (delete pods, compact, faults, churn, tokens)."""
    with SimProcess.start("--pods", "300", "--namespaces", "5", "--nodes", "3") as p:
        yield p


@pytest.fixture()
def clean_msim(msim: SimProcess) -> Iterator[SimProcess]:
    """``msim`` with faults and churn cleared and expired continue tokens answered the default way, before and
    after the test."""
    msim.clear_faults()
    msim.set_churn(0)
    msim.set_expired_continue(offer_token=True)
    yield msim
    msim.clear_faults()
    msim.set_churn(0)
    msim.set_expired_continue(offer_token=True)


def _ssl_for(p: SimProcess) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=p.ca_pem.decode())


def make_http(p: SimProcess) -> HttpFn:
    """Builds ``http(path, token=admin, accept=None, method="GET", body=None, timeout=10) -> Resp``."""
    ctx = _ssl_for(p)

    def call(
        path: str,
        token: str | None = "admin",
        accept: str | None = None,
        method: str = "GET",
        body: Any = None,
        timeout: float = 10,
        headers: dict[str, str] | None = None,
    ) -> Resp:
        conn = httpclient.HTTPSConnection("127.0.0.1", p.port, context=ctx, timeout=timeout)
        hdrs = dict(headers or {})
        if token == "admin":
            token = p.admin_token()
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if accept:
            hdrs["Accept"] = accept
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            return Resp(r.status, r.headers, r.read())
        finally:
            conn.close()

    return call


@pytest.fixture(scope="session")
def http_for() -> Callable[[SimProcess], HttpFn]:
    """Builds the raw HTTPS request function for any sim (tests that start a sim of their own)."""
    return make_http


@pytest.fixture(scope="session")
def http(sim: SimProcess) -> HttpFn:
    """Raw HTTPS requests against the read-only sim."""
    return make_http(sim)


@pytest.fixture(scope="session")
def mhttp(msim: SimProcess) -> HttpFn:
    """Raw HTTPS requests against the mutable sim."""
    return make_http(msim)


@pytest.fixture(scope="session")
def ssl_ctx(sim: SimProcess) -> ssl.SSLContext:
    """An SSL context trusting the read-only sim's CA."""
    return _ssl_for(sim)
