"""Building a context's ApiClient (client_auth.AuthenticatedApi): kubeconfig problems, connect settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import make_client
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.sim.process import SimProcess


def test_connect_settings_carry_the_token_and_the_tls_settings(sim: SimProcess,
                                                               write_config: Callable[..., str]) -> None:
    token = sim.admin_token()
    kc = load_kubeconfig(write_config(user={"token": token}, cluster={"tls-server-name": "localhost"}))
    client = make_client(kc, "test", KubeOptions())
    try:
        settings = client.connect_settings()
        assert settings.headers == {"Authorization": f"Bearer {token}"}
        assert settings.server == client.server and settings.server.startswith("https://127.0.0.1:")
        assert settings.verify and settings.server_name == "localhost"
        assert settings.ca_file or settings.ca_data  # the sim's CA, written to a file by the loader
        # The same client answers a request with that token (the sim checks it).
        assert client.get_json("/version").get("gitVersion")
    finally:
        client.close()


def test_a_missing_client_certificate_file_is_a_kubeconfig_problem(write_config: Callable[..., str]) -> None:
    kc = load_kubeconfig(write_config(user={"client-certificate": "/nonexistent/kube9.crt",
                                            "client-key": "/nonexistent/kube9.key"}))
    with pytest.raises(KubeError) as ei:
        make_client(kc, "test", KubeOptions())
    assert ei.value.kind is ErrorKind.KUBECONFIG and ei.value.context == "test", ei.value


def test_readers_beside_the_workers_do_not_overflow_the_pool(sim: SimProcess, write_config: Callable[..., str],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """The usage poller and the overview read beside the tree's ``workers`` threads: with a pool of exactly
    ``workers`` the demo logged "Connection pool is full, discarding connection" (and re-did a TLS handshake)."""
    import threading

    from kube9_desktop.kube.client_auth import SIDE_READERS

    workers = 2
    kc = load_kubeconfig(write_config(user={"token": sim.admin_token()}))
    client = make_client(kc, "test", KubeOptions(workers=workers))
    sim.set_faults([{"path": r"^/version$", "latency_ms": 300}])  # all requests overlap
    try:
        threads = [threading.Thread(target=client.get_json, args=("/version",)) for _ in range(workers + SIDE_READERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        # Returned to the pool, not discarded: the same connections serve the next round.
        assert "Connection pool is full" not in caplog.text
    finally:
        sim.set_faults([])
        client.close()
