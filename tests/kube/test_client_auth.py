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
