"""``--print-tree`` against hostile names and failures: control characters escaped, exit codes that say what failed.

A hostile server is kube9-sim behind a small rewriting proxy (plain HTTP on 127.0.0.1, real sockets both ways) that
renames node ``node-1`` in every response the app receives, as a compromised server or proxy could.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube9_desktop.headless import EXIT_CONTEXT_FAILED, EXIT_NO_CONTEXT, EXIT_OK, EXIT_PATH_MISSING

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
#: A newline that would forge an error row, an ESC sequence (colour, then a terminal title), a bidi override.
HOSTILE = "node-1\n  ! forged error row\x1b[31m\x1b]0;owned\x07\u202egpj.exe"


def app(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kube9_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, check=False)


@pytest.fixture
def hostile_kubeconfig(sim: Any, tmp_path: Path) -> Iterator[str]:
    """A kubeconfig whose context ``hostile`` reaches the sim through a proxy that renames node-1 to HOSTILE."""
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    old, new = b'"node-1"', json.dumps(HOSTILE).encode()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            conn = http.client.HTTPSConnection("127.0.0.1", sim.port, context=ctx, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
                conn.request("GET", self.path, headers=headers)
                resp = conn.getresponse()
                body = resp.read().replace(old, new)
            finally:
                conn.close()
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.getheader("Content-Type") or "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "hostile",
           "clusters": [{"name": "proxy", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
           "users": [{"name": "admin", "user": {"token": sim.admin_token()}}],
           "contexts": [{"name": "hostile", "context": {"cluster": "proxy", "user": "admin"}}]}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    try:
        yield str(path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_print_tree_escapes_control_characters_in_names(hostile_kubeconfig: str) -> None:
    """A newline in a name forged an error row and ESC sequences reached the terminal: every printed value now keeps
    to its own line with its control characters shown as escapes."""
    r = app("--kubeconfig", hostile_kubeconfig, "--print-tree", "--depth", "1")
    assert r.returncode == EXIT_OK, r.stderr
    lines = r.stdout.splitlines()
    assert not any(line.lstrip().startswith("! forged") for line in lines), lines
    assert not any(ch in r.stdout + r.stderr for ch in "\x1b\x07\u202e")
    at = next(i for i, line in enumerate(lines) if line.startswith("  Nodes ("))
    nodes = lines[at + 1:at + 3]
    assert nodes[0].split("\t")[:2] == ["    node-1\\n  ! forged error row\\x1b[31m\\x1b]0;owned\\x07\\u202egpj.exe",
                                        "Ready"], nodes
    assert nodes[1].startswith("    node-2\t")
    assert len(lines) == int(lines[-1].split()[1].removeprefix("rows=")) + 1  # the footer counts every row


def test_exit_codes_say_what_failed(sim: Any) -> None:
    """--print-tree exited 0 when the context failed, did not exist or an --expand path was missing."""
    kc = sim.kubeconfig
    ok = app("--kubeconfig", kc, "--context", "sim-admin", "--print-tree", "--depth", "1")
    assert ok.returncode == EXIT_OK, ok.stderr
    for context in ("sim-down", "sim-badtoken"):
        r = app("--kubeconfig", kc, "--context", context, "--print-tree", "--depth", "1")
        assert r.returncode == EXIT_CONTEXT_FAILED, (context, r.stderr)
        assert r.stdout.splitlines()[1].startswith("  ! ")  # the tree still shows the failure
        assert f"context '{context}': " in r.stderr
    r = app("--kubeconfig", kc, "--context", "no-such", "--print-tree", "--depth", "1")
    assert r.returncode == EXIT_NO_CONTEXT
    assert "no usable context named 'no-such' (contexts: sim-admin, " in r.stderr
    r = app("--kubeconfig", kc, "--context", "sim-admin", "--print-tree", "--depth", "1",
            "--expand", "Namespaces/no-such-ns/Workloads")
    assert r.returncode == EXIT_PATH_MISSING
    assert "--expand Namespaces/no-such-ns/Workloads: no row 'no-such-ns' under 'Namespaces'" in r.stderr
    assert {EXIT_OK, EXIT_CONTEXT_FAILED, EXIT_NO_CONTEXT, EXIT_PATH_MISSING} == {0, 1, 2, 3}
    helptext = app("--help").stdout
    assert all(f"{code} " in helptext for code in ("0", "1", "2", "3", "130"))


def test_skipped_files_are_reported_on_stderr(sim: Any, tmp_path: Path) -> None:
    """A binary file among KUBECONFIG's files ended the run with a traceback; now each skipped file is one stderr
    line and the good file's tree is printed."""
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(os.urandom(2048) + b"\xff")
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- list\n")
    env = {**ENV, "KUBECONFIG": os.pathsep.join([str(garbage), str(listy), sim.kubeconfig])}
    r = subprocess.run([sys.executable, "-m", "kube9_desktop", "--context", "sim-admin", "--print-tree",
                        "--depth", "1"], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert r.returncode == EXIT_OK and "Traceback" not in r.stderr, r.stderr
    assert any(line.startswith("  Nodes (") for line in r.stdout.splitlines())
    err = r.stderr.splitlines()
    assert any(line.startswith(f"kube9-desktop: {garbage}: is not a text file") for line in err), err
    assert any(line.startswith(f"kube9-desktop: {listy}: is not a kubeconfig: its top level is a list") for line in err)
    # The same file among Settings' extra kubeconfig files.
    from PySide6.QtCore import QSettings

    ini = tmp_path / "settings.ini"
    qs = QSettings(str(ini), QSettings.Format.IniFormat)
    qs.setValue("kubeconfig/extra_paths", json.dumps([str(garbage)]))
    qs.sync()
    extra = app("--kubeconfig", sim.kubeconfig, "--settings-file", str(ini), "--context", "sim-admin",
                "--print-tree", "--depth", "1")
    assert extra.returncode == EXIT_OK and "Traceback" not in extra.stderr, extra.stderr
    assert f"kube9-desktop: {garbage}: is not a text file" in extra.stderr
    alone = app("--kubeconfig", str(garbage), "--context", "sim-admin", "--print-tree", "--depth", "1")
    assert alone.returncode == EXIT_NO_CONTEXT and "Traceback" not in alone.stderr
    lines = alone.stderr.splitlines()
    why = next(i for i, line in enumerate(lines) if str(garbage) in line)
    assert why < next(i for i, line in enumerate(lines) if "no usable context named 'sim-admin'" in line)


def test_window_shows_bidi_overrides_visibly(hostile_kubeconfig: str, run: Any, qtbot: Any) -> None:
    """In the window a U+202E in a name reordered the row's text ("exe.jpg"); the model shows it as ⟨U+202E⟩."""
    from PySide6.QtCore import Qt

    from kube9_desktop.headless import load_tree
    from kube9_desktop.kube.backend import KubeOptions
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.tree_model import ClusterTreeModel

    service = KubeService(load_kubeconfig(hostile_kubeconfig), KubeOptions())
    model = ClusterTreeModel()
    try:
        model.set_service(service)
        model.set_context("hostile", user=False)
        run(load_tree(model, 1, ["Nodes"]), 60)
        nodes = model.find("Nodes")
        assert nodes is not None
        hostile = next(c for c in nodes.children if c.row is not None and c.row.name == HOSTILE)
        index = model.index_of(hostile)
        shown = model.data(index, Qt.ItemDataRole.DisplayRole)
        assert "\u202e" not in shown and shown.endswith("⟨U+202E⟩gpj.exe"), repr(shown)
        # One line, as it reads: the newline drew a second line starting "! forged error row" under node-1's, and
        # the ESC and BEL went to the font as boxes or nothing.
        assert shown == "node-1   ! forged error row⟨U+001B⟩[31m⟨U+001B⟩]0;owned⟨U+0007⟩⟨U+202E⟩gpj.exe", repr(shown)
        assert "\u202e" not in model.data(index, Qt.ItemDataRole.ToolTipRole)
    finally:
        run(model.shutdown())
        run(service.aclose())


def test_print_tree_exits_as_soon_as_it_has_printed_when_the_server_is_silent(tmp_path: Path) -> None:
    """A server that accepts and never answers: --print-tree reports the read timeout, then exits. A request of the
    top level sent just as the context failed waited out one more read timeout after the tree was printed (25 s
    of them before requests stopped being made again after the close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "x",
           "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{listener.getsockname()[1]}"}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "s.ini").write_text("[network]\nread_timeout=3\n")
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "kube9_desktop", "--kubeconfig", str(tmp_path / "k.yaml"),
                                 "--settings-file", str(tmp_path / "s.ini"), "--print-tree", "--depth", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        assert proc.stdout is not None
        out = ""
        for line in proc.stdout:  # the tree, up to its footer: printed (the pipe ends only with the process)
            out += line
            if line.startswith("# rows="):
                break
        printed = time.monotonic()
        _, err = proc.communicate(timeout=60)
        exited = time.monotonic()
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()
    assert proc.returncode == EXIT_CONTEXT_FAILED, err
    assert "did not answer within 3 s (the read timeout)" in out, out
    assert printed - t0 < 15, printed - t0
    assert exited - printed < 1.5, f"the process lived on {exited - printed:.1f} s after printing"
