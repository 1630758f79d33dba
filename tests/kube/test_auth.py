"""Every authentication and transport option of a kubeconfig, against the sim over real HTTPS."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import select
import socket
import socketserver
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kube9_desktop.kube import exec_plugin as client_mod
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.auth import mint_id_token
from kube9_desktop.sim.certs import generate_pki
from kube9_desktop.sim.process import SimProcess

Make = Callable[..., KubeService]


async def node_names(make_service: Make, path: str, options: KubeOptions | None = None,
                     context: str = "test") -> list[str]:
    svc = make_service(load_kubeconfig(path), options)
    rows = await svc.list_all(ListRef(context, "nodes"))
    return sorted(r.name for r in rows)


NODES = [f"node-{i}" for i in range(1, 6)]


async def test_token(sim: SimProcess, make_service: Make, write_config: Callable[..., str]) -> None:
    assert await node_names(make_service, write_config({"token": sim.admin_token()})) == NODES


async def test_token_file(sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                          tmp_path: Path) -> None:
    tf = tmp_path / "token"
    tf.write_text(sim.admin_token() + "\n")
    assert await node_names(make_service, write_config({"tokenFile": str(tf)})) == NODES


async def test_client_cert_files_and_data(sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                                          tmp_path: Path) -> None:
    user = next(u["user"] for u in sim.config["users"] if u["name"] == "sim-cert")
    crt, key = tmp_path / "c.crt", tmp_path / "c.key"
    crt.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    assert await node_names(make_service, write_config({"client-certificate": str(crt),
                                                        "client-key": str(key)})) == NODES
    assert await node_names(make_service, sim.kubeconfig, context="sim-cert") == NODES


async def test_certificate_authority_file(sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                                          ca_file: str) -> None:
    path = write_config({"token": sim.admin_token()}, cluster={"certificate-authority": ca_file}, drop_ca=True)
    assert await node_names(make_service, path) == NODES


async def test_insecure_skip_tls_verify(sim: SimProcess, make_service: Make,
                                        write_config: Callable[..., str]) -> None:
    path = write_config({"token": sim.admin_token()}, cluster={"insecure-skip-tls-verify": True}, drop_ca=True)
    assert await node_names(make_service, path) == NODES


async def test_wrong_ca_is_tls_error(sim: SimProcess, make_service: Make, write_config: Callable[..., str]) -> None:
    other_ca = base64.b64encode(generate_pki().ca_cert).decode()
    path = write_config({"token": sim.admin_token()}, cluster={"certificate-authority-data": other_ca})
    with pytest.raises(KubeError) as ei:
        await node_names(make_service, path)
    err = ei.value
    assert err.kind is ErrorKind.TLS
    assert sim.url in err.message and "certificate-authority" in err.hint
    assert sim.admin_token() not in repr(err.details) + err.message + err.hint


async def test_tls_server_name(sim: SimProcess, make_service: Make, write_config: Callable[..., str]) -> None:
    good = write_config({"token": sim.admin_token()},
                        cluster={"server": f"https://localhost:{sim.port}", "tls-server-name": "kube9-sim.internal"})
    assert await node_names(make_service, good) == NODES
    bad = write_config({"token": sim.admin_token()}, cluster={"tls-server-name": "not-in-the-cert.example"})
    with pytest.raises(KubeError) as ei:
        await node_names(make_service, bad)
    assert ei.value.kind is ErrorKind.TLS and "tls-server-name" in ei.value.hint


class _ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.tunnels = 0
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b" ", 2)[:2]
        if method != b"CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        host, port = target.decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.server.tunnels += 1  # type: ignore[attr-defined]
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        socks = [sock, upstream]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 10)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is sock else sock).sendall(data)
        finally:
            upstream.close()


@pytest.fixture
def proxy() -> Iterator[_ConnectProxy]:
    server = _ConnectProxy()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


async def test_proxy_url(sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                         proxy: _ConnectProxy) -> None:
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    path = write_config({"token": sim.admin_token()}, cluster={"proxy-url": url})
    assert await node_names(make_service, path) == NODES
    assert proxy.tunnels >= 1


# -- exec plugins -----------------------------------------------------------------------------------------------

PLUGIN = """#!/bin/sh
# Test credential plugin: prints token <prefix>-<run number>; checks args, env and KUBERNETES_EXEC_INFO.
echo run >> "$COUNT_FILE"
n=$(wc -l < "$COUNT_FILE" | tr -d ' ')
[ "$1" = "--flag" ] || { echo "plugin: missing --flag" >&2; exit 3; }
case "$KUBERNETES_EXEC_INFO" in *"$WANT_API"*) ;; *) echo "plugin: no exec info" >&2; exit 4;; esac
exp=""
if [ -n "$EXPIRES_IN" ]; then
  exp=",\\"expirationTimestamp\\":\\"$(date -u -d "+$EXPIRES_IN seconds" +%Y-%m-%dT%H:%M:%SZ)\\""
fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s-%s"%s}}' "$WANT_API" "$PREFIX" "$n" "$exp"
"""


def _script(tmp_path: Path, name: str, body: str) -> str:
    p = tmp_path / name
    p.write_text(body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def _exec_user(command: str, api: str, prefix: str, count_file: Path, expires_in: str = "",
               hint: str | None = None) -> dict:
    cfg: dict = {"apiVersion": api, "command": command, "args": ["--flag"],
                 "env": [{"name": "COUNT_FILE", "value": str(count_file)}, {"name": "WANT_API", "value": api},
                         {"name": "PREFIX", "value": prefix}, {"name": "EXPIRES_IN", "value": expires_in}]}
    if hint is not None:
        cfg["installHint"] = hint
    return {"exec": cfg}


@pytest.mark.parametrize("api", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
async def test_exec_plugin(api: str, sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                           tmp_path: Path) -> None:
    prefix = f"exec-{uuid.uuid4().hex[:8]}"
    sim.add_token(f"{prefix}-1", "admin")
    plugin = _script(tmp_path, "plugin.sh", PLUGIN)
    count = tmp_path / "count"
    path = write_config(_exec_user(plugin, api, prefix, count))
    assert await node_names(make_service, path) == NODES
    assert count.read_text().count("run") == 1


def _counting_plugin_service(make_service: Make, write_config: Callable[..., str], tmp_path: Path, prefix: str,
                             expires_in: str = "") -> tuple[KubeService, Path]:
    """A service whose context ``test`` logs in through PLUGIN (run n hands out the token ``<prefix>-n``), and the
    file that counts the plugin's runs."""
    count = tmp_path / "count"
    path = write_config(_exec_user(_script(tmp_path, "p.sh", PLUGIN), "client.authentication.k8s.io/v1", prefix,
                                   count, expires_in=expires_in))
    return make_service(load_kubeconfig(path)), count


async def test_exec_token_refreshed_before_expiry(sim: SimProcess, make_service: Make,
                                                 write_config: Callable[..., str], tmp_path: Path) -> None:
    prefix = f"exp-{uuid.uuid4().hex[:8]}"
    sim.add_token(f"{prefix}-1", "admin", ttl_seconds=13)
    sim.add_token(f"{prefix}-2", "admin")
    # The plugin's expiry has whole seconds: 12-13 s left when it runs, so the first list has 2 s before the 10 s
    # refresh margin (with 11 s, as before, a slow first list could already be inside it: a flaky second run).
    svc, count = _counting_plugin_service(make_service, write_config, tmp_path, prefix, expires_in="13")
    await svc.list_all(ListRef("test", "nodes"))
    assert count.read_text().count("run") == 1
    time.sleep(3.2)  # now within the 10 s refresh margin of the 13 s token
    await svc.list_all(ListRef("test", "namespaces"))
    assert count.read_text().count("run") == 2
    assert svc.stats("test").errors == 0  # refreshed before, not after a 401


async def test_exec_401_reruns_plugin_once(sim: SimProcess, make_service: Make, write_config: Callable[..., str],
                                           tmp_path: Path) -> None:
    prefix = f"rev-{uuid.uuid4().hex[:8]}"
    sim.add_token(f"{prefix}-1", "admin")
    sim.add_token(f"{prefix}-2", "admin")
    svc, count = _counting_plugin_service(make_service, write_config, tmp_path, prefix)
    await svc.list_all(ListRef("test", "nodes"))
    sim.revoke_token(f"{prefix}-1")
    assert len(await svc.list_all(ListRef("test", "namespaces"))) == 12
    assert count.read_text().count("run") == 2
    # Both tokens revoked: one re-run, one retry, then UNAUTHORIZED naming the plugin.
    sim.revoke_token(f"{prefix}-2")
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("test", "pods", namespace="default"))
    assert ei.value.kind is ErrorKind.UNAUTHORIZED and "p.sh" in ei.value.hint
    assert count.read_text().count("run") == 3


async def _watch_rows(svc: KubeService, ref: ListRef, n: int) -> int:
    """Watch ``ref`` from resourceVersion 0 (an ADDED event per existing object) until ``n`` rows arrived."""
    rows = 0
    async with asyncio.timeout(10), contextlib.aclosing(svc.watch(ref, "0")) as events:
        async for ev in events:
            rows += ev.row is not None
            if rows >= n:
                break
    return rows


async def test_watches_share_the_exec_credential_of_their_context(sim: SimProcess, make_service: Make,
                                                                  write_config: Callable[..., str],
                                                                  tmp_path: Path) -> None:
    prefix = f"share-{uuid.uuid4().hex[:8]}"
    sim.add_token(f"{prefix}-1", "admin")
    sim.add_token(f"{prefix}-2", "admin")
    svc, count = _counting_plugin_service(make_service, write_config, tmp_path, prefix)
    await svc.list_all(ListRef("test", "nodes"))
    # Watches have a connection pool of their own, but not a login of their own.
    assert await _watch_rows(svc, ListRef("test", "pods", namespace="team-a"), 3) == 3
    assert count.read_text().count("run") == 1
    # A 401 on a list re-runs the plugin once; the watch then uses that new token without a run of its own.
    sim.revoke_token(f"{prefix}-1")
    assert len(await svc.list_all(ListRef("test", "namespaces"))) == 12
    assert await _watch_rows(svc, ListRef("test", "pods", namespace="team-b"), 3) == 3
    assert count.read_text().count("run") == 2
    assert svc.stats("test").errors == 0


async def test_a_plugin_handing_back_a_rejected_token_is_not_rerun_until_the_user_can_have_logged_in(
        sim: SimProcess, make_service: Make, write_config: Callable[..., str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "STALE_TOKEN_QUIET", 0.5)
    # Like a cloud login helper: it hands out the token its own cache holds until the user logs in again.
    cache, count = tmp_path / "token-cache", tmp_path / "count"
    credential = '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}'
    plugin = _script(tmp_path, "login-helper",
                     f"#!/bin/sh\necho run >> {count}\nprintf '{credential}' \"$(cat {cache})\"\n")
    old, new = f"cached-{uuid.uuid4().hex[:8]}", f"relogin-{uuid.uuid4().hex[:8]}"
    sim.add_token(old, "admin")
    cache.write_text(old)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin}}
    svc = make_service(load_kubeconfig(write_config(user)))
    await svc.list_all(ListRef("test", "nodes"))
    sim.revoke_token(old)
    # The first 401 re-runs the plugin; it hands back the same token, which fails again, and so does the next list.
    for ref in (ListRef("test", "namespaces"), ListRef("test", "pods", namespace="team-a")):
        with pytest.raises(KubeError) as ei:
            await svc.list_all(ref)
        assert ei.value.kind is ErrorKind.UNAUTHORIZED and "login-helper" in ei.value.hint
    assert count.read_text().count("run") == 2, "a 401 for the token the plugin just handed back runs it again"
    # The user logs in again; once the quiet time is over, the next 401 runs the plugin and picks the token up.
    sim.add_token(new, "admin")
    cache.write_text(new)
    time.sleep(0.6)
    assert len(await svc.list_all(ListRef("test", "namespaces"))) == 12
    assert count.read_text().count("run") == 3


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("#!/bin/sh\necho 'error: you must log in first' >&2\necho 'second line' >&2\nexit 1\n",
         ["exit status 1", "you must log in first", "second line"]),
        ("#!/bin/sh\necho 'this is not json'\n", ["not an ExecCredential"]),
        ("#!/bin/sh\nsleep 30\n", ["did not finish within 1 s"]),
    ],
    ids=["exit1", "garbage", "hang"],
)
async def test_exec_failures(body: str, expect: list[str], sim: SimProcess, make_service: Make,
                             write_config: Callable[..., str], tmp_path: Path) -> None:
    plugin = _script(tmp_path, "failing-plugin", body)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
                     "installHint": "Install failing-plugin from example.com"}}
    started = time.monotonic()
    with pytest.raises(KubeError) as ei:
        await node_names(make_service, write_config(user), KubeOptions(exec_timeout=1.0))
    err = ei.value
    assert err.kind is ErrorKind.EXEC_PLUGIN
    assert "failing-plugin" in err.message and err.hint == "Install failing-plugin from example.com"
    for text in expect:
        assert text in err.message
    assert time.monotonic() - started < 10
    assert sim.stats()["requests"] >= 0  # the sim is still fine


async def test_hanging_plugin_runs_once_for_parallel_lists(make_service: Make, write_config: Callable[..., str],
                                                           tmp_path: Path) -> None:
    count = tmp_path / "count"
    plugin = _script(tmp_path, "slow-plugin", f"#!/bin/sh\necho run >> {count}\nsleep 30\n")
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin}}
    svc = make_service(load_kubeconfig(write_config(user)), KubeOptions(exec_timeout=1.0))
    started = time.monotonic()
    results = await asyncio.gather(*(svc.list_all(ListRef("test", k)) for k in ("nodes", "namespaces", "pods")),
                                   return_exceptions=True)
    assert all(isinstance(r, KubeError) and r.kind is ErrorKind.EXEC_PLUGIN for r in results)
    assert count.read_text().count("run") == 1 and time.monotonic() - started < 5


async def test_exec_missing_command(make_service: Make, write_config: Callable[..., str]) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kube9-no-such-plugin",
                     "installHint": "brew install kube9-no-such-plugin"}}
    with pytest.raises(KubeError) as ei:
        await node_names(make_service, write_config(user))
    assert ei.value.kind is ErrorKind.EXEC_PLUGIN
    assert "kube9-no-such-plugin" in ei.value.message and "not found" in ei.value.message
    assert ei.value.hint == "brew install kube9-no-such-plugin"


# -- OIDC -------------------------------------------------------------------------------------------------------


async def test_oidc_refreshes_expired_id_token(sim: SimProcess, make_service: Make,
                                               write_config: Callable[..., str], ca_file: str) -> None:
    expired = mint_id_token(time.time() - 60)
    user = {"auth-provider": {"name": "oidc", "config": {
        "client-id": "kube9", "client-secret": "secret", "id-token": expired,
        "refresh-token": "sim-refresh-test", "idp-issuer-url": f"{sim.url}/simz/oidc",
        "idp-certificate-authority": ca_file}}}
    assert await node_names(make_service, write_config(user)) == NODES


async def test_oidc_valid_token(sim: SimProcess, make_service: Make, write_config: Callable[..., str]) -> None:
    user = {"auth-provider": {"name": "oidc", "config": {
        "client-id": "kube9", "id-token": mint_id_token(time.time() + 600),
        "idp-issuer-url": f"{sim.url}/simz/oidc"}}}
    assert await node_names(make_service, write_config(user)) == NODES
