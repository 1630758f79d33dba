"""Run kube9-sim as a child process and talk to its /simz admin endpoints."""

from __future__ import annotations

import base64
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import orjson
import yaml


class SimProcess:
    """A kube9-sim child process (``python -m kube9_desktop.sim``).

    Use :meth:`start`; the instance is a context manager that stops the child on exit.
    """

    def __init__(self, proc: subprocess.Popen[bytes], url: str, kubeconfig: str, owns_kubeconfig: bool) -> None:
        self.proc = proc
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.kubeconfig = kubeconfig
        self.pid = proc.pid
        self._owns_kubeconfig = owns_kubeconfig
        with open(kubeconfig) as f:
            self.config: dict[str, Any] = yaml.safe_load(f)
        cluster = next(c["cluster"] for c in self.config["clusters"] if c["name"] == "kube9-sim")
        self.ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        self._ssl = ssl.create_default_context(cadata=self.ca_pem.decode())

    @classmethod
    def start(cls, *cli_args: str, kubeconfig_out: str | None = None, timeout: float = 60) -> SimProcess:
        """Starts the sim with ``cli_args`` and waits for its ready line.

        Args:
            *cli_args: Extra command-line arguments, e.g. ``"--pods", "300"``.
            kubeconfig_out: Where the kubeconfig goes (default: a temporary file removed by :meth:`stop`).
            timeout: Seconds to wait for the ready line.

        Raises:
            RuntimeError: The child exited or did not become ready in time.
        """
        owns = kubeconfig_out is None
        if kubeconfig_out is None:
            fd, kubeconfig_out = tempfile.mkstemp(prefix="kube9-sim-", suffix=".kubeconfig")
            os.close(fd)
        # A frozen (PyInstaller) app has no "-m": the executable runs the sim when its first argument is --run-sim.
        entry = ["--run-sim"] if getattr(sys, "frozen", False) else ["-m", "kube9_desktop.sim"]
        # The sim stops when its standard input ends, i.e. when this process has gone however it ended: a parent
        # killed outright (a test's or a benchmark's timeout) left sims running, a 10,000-pod one holding ~115 MB.
        cmd = [sys.executable, *entry, *cli_args, "--kubeconfig-out", kubeconfig_out, "--exit-with-parent"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        lines: list[str] = []
        ready: list[str] = []
        got = threading.Event()

        def reader() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                if not ready and line.startswith("ready https://"):
                    ready.append(line)
                    got.set()
                elif len(lines) < 200:
                    lines.append(line)
            got.set()

        # Keep draining the child's output for its whole life so it can never block on a full pipe.
        threading.Thread(target=reader, daemon=True).start()
        if not got.wait(timeout) or not ready:
            proc.kill()
            proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()
            raise RuntimeError(f"kube9-sim did not become ready: {' | '.join(lines[-5:])}")
        url = ready[0].split()[1]
        return cls(proc, url, kubeconfig_out, owns)

    # -- kubeconfig helpers ----------------------------------------------------------------------------------
    def token(self, context: str) -> str:
        """The bearer token of ``context``'s user ("" for the client-certificate context)."""
        ctx = next(c["context"] for c in self.config["contexts"] if c["name"] == context)
        user = next(u["user"] for u in self.config["users"] if u["name"] == ctx["user"])
        return str(user.get("token", ""))

    def admin_token(self) -> str:
        """The sim-admin bearer token."""
        return self.token("sim-admin")

    # -- admin API -------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float = 10) -> Any:
        """Calls the sim over HTTPS (admin token by default) and returns the decoded JSON answer."""
        data = orjson.dumps(body) if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.admin_token()}")
        if data is not None:
            # A real API server refuses a PATCH sent as plain JSON (415); a dict body is a JSON merge patch.
            kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
            req.add_header("Content-Type", kind)
        with urllib.request.urlopen(req, context=self._ssl, timeout=timeout) as resp:
            payload = resp.read()
        return orjson.loads(payload) if payload else None

    def kubectl(self, *args: str, context: str = "sim-admin", timeout: float = 60) -> str:
        """What ``kubectl --kubeconfig <the sim's> --context <context> ARGS`` prints (kubectl referees the sim in the
        tests); raises RuntimeError with kubectl's stderr when it fails."""
        out = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "--context", context, *args],
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out.stdout

    def remove_pod(self, namespace: str, name: str) -> None:
        """Makes a pod vanish for good: released from its owner (so no ReplicaSet replaces it), then deleted with
        ``gracePeriodSeconds=0`` (no Terminating phase). For tests of a list that shrinks."""
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"
        req = urllib.request.Request(self.url + path, data=b'{"metadata":{"ownerReferences":null}}', method="PATCH")
        req.add_header("Authorization", f"Bearer {self.admin_token()}")
        req.add_header("Content-Type", "application/merge-patch+json")
        with urllib.request.urlopen(req, context=self._ssl, timeout=10) as resp:
            resp.read()
        self.request("DELETE", path + "?gracePeriodSeconds=0")

    def stats(self) -> dict[str, Any]:
        """``GET /simz/stats``."""
        result: dict[str, Any] = self.request("GET", "/simz/stats")
        return result

    def reset_stats(self) -> None:
        """``POST /simz/reset``."""
        self.request("POST", "/simz/reset", {})

    def set_faults(self, faults: list[dict[str, Any]]) -> None:
        """Replaces the fault list (``POST /simz/faults``)."""
        self.request("POST", "/simz/faults", faults)

    def clear_faults(self) -> None:
        """Removes all faults."""
        self.request("DELETE", "/simz/faults")

    def set_churn(self, rate: float) -> None:
        """Sets pod changes per second."""
        self.request("POST", "/simz/churn", {"rate": rate})

    def set_metrics(self, mode: str) -> None:
        """``metrics.k8s.io``: ``available``, ``unavailable`` (503) or ``absent`` (404)."""
        self.request("POST", "/simz/metrics", {"mode": mode})

    def set_discovery(self, mode: str) -> None:
        """API discovery: ``classic`` (v1.19) or ``aggregated`` (also ``APIGroupDiscoveryList``)."""
        self.request("POST", "/simz/discovery", {"mode": mode})

    def set_log_rate(self, rate: float, namespace: str | None = None, pod: str | None = None) -> None:
        """Lines per second every container writes (of one pod when ``pod`` is given)."""
        body: dict[str, Any] = {"rate": rate}
        if pod:
            body.update(namespace=namespace, pod=pod)
        self.request("POST", "/simz/logs", body)

    def set_down_nodes(self, nodes: list[str]) -> None:
        """Nodes whose kubelet does not answer (their pods' logs fail with a 500)."""
        self.request("POST", "/simz/logs", {"down_nodes": nodes})

    def compact(self) -> int:
        """Compacts at the current resourceVersion; returns it."""
        return int(self.request("POST", "/simz/compact", {})["compacted"])

    def set_expired_continue(self, offer_token: bool) -> None:
        """Chooses how a 410 for an expired continue token looks (``POST /simz/expired-continue``).

        Args:
            offer_token: True (the default) puts a fresh ``rv:-1`` token in the Status's ``metadata.continue``
                like a modern kube-apiserver; False leaves it out, like older or aggregated API servers, so
                clients must restart the list.
        """
        self.request("POST", "/simz/expired-continue", {"offer_token": offer_token})

    def drop_connections(self) -> None:
        """Closes every open client connection."""
        self.request("POST", "/simz/drop-connections", {})

    def add_token(self, token: str, user: str, ttl_seconds: float | None = None) -> None:
        """Registers a bearer token for "admin" or "viewer"."""
        body: dict[str, Any] = {"token": token, "user": user}
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        self.request("POST", "/simz/tokens", body)

    def revoke_token(self, token: str) -> None:
        """Revokes a bearer token (it then gets 401)."""
        self.request("POST", "/simz/revoke", {"token": token})

    # -- lifecycle -------------------------------------------------------------------------------------------
    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, wait, SIGKILL after ``timeout``; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self._owns_kubeconfig:
            try:
                os.unlink(self.kubeconfig)
            except OSError:
                pass
        return self.proc.returncode

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until(self, predicate: Any, timeout: float = 5.0, interval: float = 0.05) -> bool:
        """Polls ``predicate()`` until it is truthy or ``timeout`` passes (a small test helper)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())


__all__ = ["SimProcess", "urllib"]
_ = urllib.error  # re-exported for callers catching HTTPError from SimProcess.request
