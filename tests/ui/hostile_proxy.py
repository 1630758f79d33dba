"""A real HTTP server in front of kube9-sim that lies the way a hostile server (or proxy) would.

It forwards every GET to the sim with the sim's admin token, but can rename objects in list answers (a pod called
``../secrets/x``) and answer one path with another path's object (a Pod's GET answered with a Secret). It records
every request path exactly as it arrived, so a test sees what the client really asked for.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import yaml

from kube9_desktop.sim.process import SimProcess


class HostileProxy:
    """``with HostileProxy(sim, tmp_path) as proxy``: ``proxy.kubeconfig`` has one context, ``hostile``.

    Attributes:
        renames: Object name → the name the proxy gives it in list answers.
        swaps: Request path → the path whose answer is sent instead.
        paths: Every request path received, raw (query included).
    """

    def __init__(self, sim: SimProcess, tmp_path: Path) -> None:
        self.sim = sim
        self.renames: dict[str, str] = {}
        self.swaps: dict[str, str] = {}
        self.paths: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.paths.append(self.path)
                path, _, query = self.path.partition("?")
                upstream = proxy.swaps.get(path, path) + (f"?{query}" if query else "")
                status, ctype, body = proxy.forward(upstream, self.headers.get("Accept", "application/json"))
                body = proxy.rename(body) if ctype.startswith("application/json") else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.kubeconfig = str(tmp_path / "hostile.yaml")
        Path(self.kubeconfig).write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "hostile",
            "clusters": [{"name": "hostile", "cluster": {"server": f"http://127.0.0.1:{self.server.server_port}"}}],
            "users": [{"name": "hostile", "user": {"token": "not-checked"}}],
            "contexts": [{"name": "hostile", "context": {"cluster": "hostile", "user": "hostile"}}],
        }))

    def forward(self, path: str, accept: str) -> tuple[int, str, bytes]:
        req = urllib.request.Request(self.sim.url + path, headers={
            "Accept": accept, "Authorization": f"Bearer {self.sim.admin_token()}"})
        try:
            with urllib.request.urlopen(req, context=self.sim._ssl, timeout=10) as resp:
                return resp.status, resp.headers.get("Content-Type", "application/json"), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", "application/json"), err.read()

    def rename(self, body: bytes) -> bytes:
        if not self.renames:
            return body
        doc = orjson.loads(body)
        if not isinstance(doc, dict):
            return body
        for row in doc.get("rows") or []:  # a Table
            meta = (row.get("object") or {}).get("metadata") or {}
            if meta.get("name") in self.renames:
                meta["name"] = row["cells"][0] = self.renames[meta["name"]]
        for item in doc.get("items") or []:
            meta = item.get("metadata") or {}
            if meta.get("name") in self.renames:
                meta["name"] = self.renames[meta["name"]]
        return orjson.dumps(doc)

    def __enter__(self) -> HostileProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
