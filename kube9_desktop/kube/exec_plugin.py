"""Exec credential plugins: run a kubeconfig user's ``exec`` command and parse the ExecCredential it prints.

Plugins are run here rather than by the official ``kubernetes`` loader, because the loader only *logs* a failing
plugin and then sends unauthenticated requests; we turn every failure into a clear ``EXEC_PLUGIN`` error, and
:class:`ExecAuth` shares one credential between a context's clients, renews it before its
``expirationTimestamp`` and re-runs the plugin once on a 401 (the caller, :mod:`.client`, decides when).

Libraries: this module owns ``subprocess`` use for plugins and imports neither ``kubernetes`` nor ``urllib3``
(those are owned by :mod:`.client`, :mod:`.pool` and :mod:`.status_errors`); its failures are ``KubeError``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import find_executable, search_dirs

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")

# Refresh exec tokens this long before they expire, so no request is sent with a token about to lapse.
EXPIRY_MARGIN = 10.0

#: Seconds during which a plugin that answered a 401 with the very token just rejected is not run again for that
#: token. Long enough to cover one Refresh's parallel requests (each would otherwise re-run it); short enough that
#: after logging in again in a terminal, the next Refresh picks the new token up.
STALE_TOKEN_QUIET = 10.0


@dataclass
class ExecCredential:
    """What an exec plugin returned."""

    token: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    expires: float | None = None  # epoch seconds


def _first_lines(text: str, n: int = 5) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[:n])


def run_exec_plugin(exec_cfg: dict[str, Any], context: str, server: str, timeout: float) -> ExecCredential:
    """Run a kubeconfig ``exec`` plugin and parse its ExecCredential; raises KubeError ``EXEC_PLUGIN``."""
    command = str(exec_cfg.get("command") or "")
    args = [str(a) for a in exec_cfg.get("args") or []]
    api_version = str(exec_cfg.get("apiVersion") or "client.authentication.k8s.io/v1beta1")
    install_hint = str(exec_cfg.get("installHint") or "").strip()
    base_hint = install_hint or f"Check that '{command}' works when run in a terminal."

    def fail(message: str, status: int | None = None, stderr: str = "") -> KubeError:
        details: dict[str, Any] = {"command": command, "args": args, "exit_status": status}
        if stderr:
            details["stderr"] = stderr
        return KubeError(
            ErrorKind.EXEC_PLUGIN,
            "Credential plugin failed",
            message,
            hint=base_hint,
            details=details,
            context=context,
        )

    if not command:
        raise fail(f"The exec credential plugin of context {context} has no command.")
    if api_version not in EXEC_API_VERSIONS:
        raise fail(
            f"The credential plugin '{command}' uses apiVersion {api_version}, which is not supported "
            f"(use {' or '.join(EXEC_API_VERSIONS)})."
        )
    path = find_executable(command)
    if path is None:
        raise fail(
            f"The credential plugin '{command}' for context {context} was not found "
            f"(searched PATH and {', '.join(search_dirs()[:3])}, ...)."
        )
    env = dict(os.environ)
    for item in exec_cfg.get("env") or []:
        if isinstance(item, dict) and "name" in item:
            env[str(item["name"])] = str(item.get("value", ""))
    exec_info: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if exec_cfg.get("provideClusterInfo"):
        exec_info["spec"]["cluster"] = {"server": server}
    env["KUBERNETES_EXEC_INFO"] = orjson.dumps(exec_info).decode()
    try:
        # A session of its own, so a timeout kills the plugin's children too (a shell script's `sleep`, a
        # browser-login helper) instead of leaving them holding our pipes.
        child = subprocess.Popen(
            [path, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise fail(
            f"The credential plugin '{command}' for context {context} could not be started: {exc.strerror or exc}."
        ) from None
    try:
        out, errb = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            child.kill()
        out, errb = child.communicate()
        err = errb.decode("utf-8", "replace")
        raise fail(
            f"The credential plugin '{command}' for context {context} did not finish within {timeout:g} s "
            "and was stopped." + (f"\n{_first_lines(err)}" if err.strip() else ""),
            None,
            _first_lines(err),
        ) from None
    proc = subprocess.CompletedProcess(child.args, child.returncode, out, errb)
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        first = _first_lines(stderr)
        raise fail(
            f"The credential plugin '{command}' for context {context} failed with exit status "
            f"{proc.returncode}." + (f"\n{first}" if first else ""),
            proc.returncode,
            first,
        )
    try:
        cred = orjson.loads(proc.stdout)
        if not isinstance(cred, dict) or cred.get("kind") != "ExecCredential":
            raise ValueError("not an ExecCredential")
        status = cred.get("status") or {}
        if not isinstance(status, dict):
            raise ValueError("status is not a mapping")
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise fail(
            f"The credential plugin '{command}' for context {context} printed output that is not an "
            f"ExecCredential ({exc}).",
            proc.returncode,
            _first_lines(stderr),
        ) from None
    if cred.get("apiVersion") and cred["apiVersion"] != api_version:
        raise fail(
            f"The credential plugin '{command}' answered with apiVersion {cred['apiVersion']} but the "
            f"kubeconfig asked for {api_version}.",
            proc.returncode,
        )
    token = status.get("token")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if not token and not (cert and key):
        raise fail(
            f"The credential plugin '{command}' for context {context} returned neither a token nor a "
            "client certificate and key.",
            proc.returncode,
            _first_lines(stderr),
        )
    expires = None
    if status.get("expirationTimestamp"):
        from kube9_desktop.kube.convert import parse_time

        expires = parse_time(status["expirationTimestamp"])
        if expires is not None and expires <= time.time():
            # Using it would only earn a 401, and re-running the plugin before every request would not help.
            raise fail(
                f"The credential plugin '{command}' for context {context} returned a credential that already "
                f"expired ({status['expirationTimestamp']}); you may need to log in again.",
                proc.returncode,
                _first_lines(stderr),
            )
    return ExecCredential(token=token or None, client_cert=cert, client_key=key, expires=expires)


class ExecAuth:
    """A context's exec plugin and the credential it last handed out, shared by all clients of that context.

    client-go keeps one credential per plugin configuration for the whole process, and so do we: the list client
    and the watch client of a context share one, so a cloud login helper (which may be slow, or open a browser)
    runs once rather than once per client. Thread-safe; the plugin runs in the calling (worker) thread.

    Args:
        exec_cfg: The kubeconfig user's ``exec`` mapping.
        context: The context name (for messages).
        server: The cluster URL (passed to plugins that ask for cluster info).
    """

    def __init__(self, exec_cfg: dict[str, Any], context: str, server: str) -> None:
        self.exec_cfg = exec_cfg
        self.context = context
        self.server = server
        self._lock = threading.Lock()
        self._cred: ExecCredential | None = None
        # The token a re-run handed back although the server had just rejected it (plugins cache their tokens),
        # and when: another 401 for it soon after is not worth another run (nor an interactive plugin's prompt).
        self._stale: tuple[str, float] | None = None

    @property
    def current(self) -> ExecCredential | None:
        """The credential last handed out (None before the first run)."""
        return self._cred

    def get(self, timeout: float) -> ExecCredential:
        """The current credential, running the plugin first if there is none yet; raises KubeError."""
        with self._lock:
            if self._cred is None:
                self._cred = run_exec_plugin(self.exec_cfg, self.context, self.server, timeout)
            return self._cred

    def renew(self, seen: ExecCredential | None, timeout: float, *, rejected: bool) -> ExecCredential | None:
        """A newer credential than ``seen``: another client's run if there was one since, else a new run.

        Args:
            seen: The credential the caller used.
            timeout: Seconds the plugin may run.
            rejected: Whether the server answered ``seen`` with 401 (else it is merely about to expire).

        Returns:
            The credential to use now; ``seen`` itself when running the plugin again is pointless: it handed
            out this very token in answer to a 401 less than :data:`STALE_TOKEN_QUIET` seconds ago.

        Raises:
            KubeError: ``EXEC_PLUGIN`` when the plugin fails.
        """
        with self._lock:
            if self._cred is not seen:
                return self._cred
            token = seen.token if seen is not None else None
            if rejected and token is not None and self._stale is not None and self._stale[0] == token \
                    and time.monotonic() - self._stale[1] < STALE_TOKEN_QUIET:
                return seen
            cred = run_exec_plugin(self.exec_cfg, self.context, self.server, timeout)
            self._stale = (token, time.monotonic()) if rejected and token is not None and cred.token == token \
                else None
            self._cred = cred
            return cred
