"""The context's transport read from the kubeconfig without the ``kubernetes`` package (transport.py), against
the official loader and client as referees, and the sim over real HTTPS."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.kube_config import KubeConfigLoader

from kube9_desktop.kube.client import url_query
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.transport import direct_settings, needs_library
from kube9_desktop.sim.auth import mint_id_token
from kube9_desktop.sim.process import SimProcess

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def one_context(user: dict[str, Any], cluster: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}


def official(config: dict[str, Any]) -> Configuration:
    cfg = Configuration()
    KubeConfigLoader(config_dict=config, active_context="c").load_and_set(cfg)
    return cfg


@pytest.mark.parametrize("user", [
    {"token": "abc.def"},
    {"username": "ann", "password": "s3cr:t é"},
    {"token": "abc", "username": "ann", "password": "x"},  # the token wins, as in the loader
    {},
])
def test_authorization_header_is_the_official_loaders(user: dict[str, Any]) -> None:
    config = one_context(user, {"server": "https://127.0.0.1:6443/prefix/"})
    cfg = official(config)
    ours = direct_settings(config, "c")
    assert ours.authorization == cfg.api_key.get("BearerToken")
    assert ours.host == cfg.host == "https://127.0.0.1:6443/prefix"


def test_tls_settings_are_the_official_loaders(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    cert.write_bytes(b"cert")
    key.write_bytes(b"key")
    cluster = {"server": "https://h:1", "certificate-authority-data": base64.b64encode(PEM).decode(),
               "insecure-skip-tls-verify": False, "tls-server-name": "api.example"}
    config = one_context({"client-certificate": str(cert), "client-key-data": base64.b64encode(b"KEY").decode()},
                         cluster)
    cfg = official(config)
    ours = direct_settings(config, "c")
    assert ours.cert_file == cfg.cert_file == str(cert)
    assert ours.key_file is not None and Path(ours.key_file).read_bytes() == Path(cfg.key_file).read_bytes() == b"KEY"
    assert oct(os.stat(ours.key_file).st_mode & 0o077) == "0o0"  # nobody else reads a key
    # PEM data stays in memory (the loader writes it to a file: same certificates)
    assert ours.ca_file is None and ours.ca_data is not None
    assert ours.ca_data.encode() == Path(cfg.ssl_ca_cert).read_bytes()
    assert (ours.verify, ours.server_name) == (cfg.verify_ssl, cfg.tls_server_name) == (True, "api.example")
    # data wins over a file; a plain-http server gets no TLS files at all
    both = one_context({}, {"server": "https://h:1", "certificate-authority": "/nonexistent",
                            "certificate-authority-data": base64.b64encode(PEM).decode()})
    assert direct_settings(both, "c").ca_data is not None
    plain = direct_settings(one_context({"client-certificate": "/nonexistent"}, {"server": "http://h:1"}), "c")
    assert (plain.cert_file, plain.ca_file, plain.ca_data) == (None, None, None)
    insecure = direct_settings(one_context({}, {"server": "https://h:1", "insecure-skip-tls-verify": True}), "c")
    assert insecure.verify is False


@pytest.mark.parametrize("cluster", [
    {"server": "https://h:1", "certificate-authority": "/nonexistent/ca.crt"},
    {"server": "https://h:1", "certificate-authority-data": "%%% not base64 %%%"},
])
def test_a_missing_file_or_bad_data_is_a_kubeconfig_problem(cluster: dict[str, Any]) -> None:
    with pytest.raises(KubeError) as ei:
        direct_settings(one_context({}, cluster), "c")
    assert ei.value.kind is ErrorKind.KUBECONFIG and ei.value.context == "c"


def test_only_auth_providers_and_proxies_need_the_official_loader() -> None:
    assert needs_library(one_context({"token": "t"}, {"server": "https://h:1"})) is None
    assert needs_library(one_context({"auth-provider": {"name": "oidc"}}, {"server": "https://h:1"})) == "auth-provider"
    assert needs_library(one_context({}, {"server": "https://h:1", "proxy-url": "http://p:3128"})) == "proxy-url"


def test_query_strings_are_encoded_as_the_official_client_encodes_them() -> None:
    query = [("labelSelector", "app in (a,b),tier!=web"), ("fieldSelector", "metadata.name=x/y"),
             ("limit", 100), ("watch", True), ("allowWatchBookmarks", False), ("continue", "eyJ2Ijoi+/=")]
    assert url_query(query) == ApiClient().parameters_to_url_query(query, None)


PROBE = """
import asyncio, sys
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService

async def main():
    svc = KubeService(load_kubeconfig(sys.argv[1]), KubeOptions(), backend="api")
    try:
        rows = await svc.list_all(ListRef(sys.argv[2], "nodes"))
    finally:
        await svc.aclose()
    print(len(rows), "kubernetes" in sys.modules)

asyncio.run(main())
"""


def test_the_api_backend_imports_kubernetes_only_for_a_user_that_needs_its_loader(
        sim: SimProcess, write_config: Callable[..., str]) -> None:
    """A token user's lists run without the package (0.2-0.35 s of imports); an OIDC user's load it (the check
    can fail both ways)."""
    oidc = {"auth-provider": {"name": "oidc", "config": {
        "client-id": "kube9", "id-token": mint_id_token(time.time() + 600), "idp-issuer-url": f"{sim.url}/simz/oidc"}}}
    for path, context, imported in ((sim.kubeconfig, "sim-admin", "False"), (write_config(oidc), "test", "True")):
        proc = subprocess.run([sys.executable, "-c", PROBE, path, context], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.split() == ["5", imported], (context, proc.stdout, proc.stderr[-1000:])
