"""Exec credential plugins: run a kubeconfig user's ``exec`` command and parse the ExecCredential it prints.

Plugins are run here rather than by the official ``kubernetes`` loader, because the loader only *logs* a failing
plugin and then sends unauthenticated requests; we turn every failure into a clear ``EXEC_PLUGIN`` error, and
:class:`ExecAuth` shares one credential between a context's clients, renews it before its
``expirationTimestamp`` and re-runs the plugin once on a 401 (the caller, :mod:`.client`, decides when).

Each plugin runs in a process group of its own; the :class:`PluginProcesses` of its owner kills the group on
timeout and when the owner closes, and starts no plugin after that. What a plugin prints is bounded and redacted
before it reaches a message.

Libraries: this module owns ``subprocess`` use for plugins and imports neither ``kubernetes`` nor ``urllib3``
(those are owned by :mod:`.client`, :mod:`.pool` and :mod:`.status_errors`); its failures are ``KubeError``.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from kube9_desktop.kube.credentials import token_problem
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import find_executable, search_dirs
from kube9_desktop.kube.redact import bounded_text, redact

log = logging.getLogger(__name__)

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


#: Bytes of a plugin's standard output kept: an ExecCredential is a few KB (a client certificate and key).
STDOUT_LIMIT = 4 * 1024 * 1024
#: Bytes of a plugin's standard error kept for the message; the rest is read and dropped, so a plugin printing
#: megabytes neither blocks on a full pipe nor fills memory.
STDERR_KEEP = 64 * 1024


class PluginProcesses:
    """The exec plugins one owner (a backend) runs, so they can all be stopped when it closes.

    Each plugin runs in a session (so a process group) of its own; :meth:`close` kills every running group, the
    plugins' children with them (a shell script's ``sleep``, a browser-login helper), and no plugin starts after
    it: closing the app never waits for a hung plugin, nor runs one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a plugin in its own process group; raises OSError, or RuntimeError once closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("closed")
            child = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            self._running.add(child)
            return child

    def finished(self, child: subprocess.Popen[bytes]) -> None:
        """``child`` was reaped."""
        with self._lock:
            self._running.discard(child)

    def close(self) -> None:
        """Kill every running plugin's process group; refuse to start any more."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for child in running:
            kill_group(child)


def kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``child``'s process group (it leads one: ``start_new_session``), or ``child`` alone if that fails."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        try:
            child.kill()
        except OSError:
            pass


#: Plugins of owners that did not pass their own :class:`PluginProcesses`.
DEFAULT_PROCESSES = PluginProcesses()


def _collect(child: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes, bool, bool]:
    """Read a plugin's output until it exits or ``timeout`` passes.

    Returns:
        (stdout up to :data:`STDOUT_LIMIT` + 1 bytes, the first :data:`STDERR_KEEP` bytes of stderr, whether it
        timed out, whether stdout was cut).
    """
    assert child.stdout is not None and child.stderr is not None
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    out_cut = False
    with selectors.DefaultSelector() as sel:
        sel.register(child.stdout, selectors.EVENT_READ, "out")
        sel.register(child.stderr, selectors.EVENT_READ, "err")
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), True, out_cut
            for key, _ in sel.select(left):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                elif key.data == "out":
                    if len(out) <= STDOUT_LIMIT:
                        out += data
                    else:
                        out_cut = True
                elif len(err) < STDERR_KEEP:
                    err += data[: STDERR_KEEP - len(err)]
    try:
        child.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return bytes(out), bytes(err), True, out_cut
    return bytes(out), bytes(err), False, out_cut


def _first_lines(text: str, n: int = 5) -> str:
    return bounded_text(text, max_lines=n)


def run_exec_plugin(exec_cfg: dict[str, Any], context: str, server: str, timeout: float,
                    processes: PluginProcesses | None = None) -> ExecCredential:
    """Run a kubeconfig ``exec`` plugin and parse its ExecCredential; raises KubeError ``EXEC_PLUGIN``.

    Args:
        exec_cfg: The kubeconfig user's ``exec`` mapping.
        context: The context (for messages).
        server: The cluster URL (for plugins that ask for cluster info).
        timeout: Seconds the plugin may run before its process group is killed.
        processes: The owner's running plugins (killed when it closes); :data:`DEFAULT_PROCESSES` when None.
    """
    procs = processes if processes is not None else DEFAULT_PROCESSES
    command = str(exec_cfg.get("command") or "")
    args = [str(a) for a in exec_cfg.get("args") or []]
    api_version = str(exec_cfg.get("apiVersion") or "client.authentication.k8s.io/v1beta1")
    install_hint = str(exec_cfg.get("installHint") or "").strip()
    base_hint = install_hint or f"Check that '{command}' works when run in a terminal."

    def fail(message: str, status: int | None = None, stderr: str = "") -> KubeError:
        # Plugins print id/refresh tokens and client secrets on stderr: redacted, and bounded, wherever shown.
        details: dict[str, Any] = {"command": command, "args": [redact(a) for a in args], "exit_status": status}
        if stderr:
            details["stderr"] = redact(stderr)
        return KubeError(
            ErrorKind.EXEC_PLUGIN,
            "Credential plugin failed",
            redact(message),
            hint=redact(bounded_text(base_hint, max_lines=5)),
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
    closing = (f"The credential plugin '{command}' for context {context} was not run: kube9 is closing.")
    try:
        # A session of its own, so a timeout kills the plugin's children too (a shell script's `sleep`, a
        # browser-login helper) instead of leaving them holding our pipes.
        child = procs.start([path, *args], env)
    except RuntimeError:
        raise fail(closing) from None
    except OSError as exc:
        raise fail(
            f"The credential plugin '{command}' for context {context} could not be started: {exc.strerror or exc}."
        ) from None
    try:
        out, errb, timed_out, out_cut = _collect(child, timeout)
        if timed_out or procs.closed:
            kill_group(child)
    finally:
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:  # unkillable (D state): leave it, never hang on it
            log.warning("credential plugin %s (pid %d) did not exit after SIGKILL", command, child.pid)
        procs.finished(child)
    if procs.closed:
        raise fail(closing.replace("was not run", "was stopped"))
    if timed_out:
        err = errb.decode("utf-8", "replace")
        first = _first_lines(err)
        raise fail(
            f"The credential plugin '{command}' for context {context} did not finish within {timeout:g} s "
            "and was stopped." + (f"\n{first}" if first else ""),
            None,
            first,
        ) from None
    if out_cut:
        raise fail(
            f"The credential plugin '{command}' for context {context} printed more than "
            f"{STDOUT_LIMIT // (1024 * 1024)} MB, which is not an ExecCredential.",
            child.returncode,
            _first_lines(errb.decode("utf-8", "replace")),
        )
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
    problem = token_problem(token) if isinstance(token, str) else None
    if problem:
        raise fail(
            f"The credential plugin '{command}' for context {context} returned a token containing {problem}, "
            "which cannot be sent in an HTTP header.",
            proc.returncode,
        )
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
        processes: The owner's running plugins (killed when it closes); :data:`DEFAULT_PROCESSES` when None.
    """

    def __init__(self, exec_cfg: dict[str, Any], context: str, server: str,
                 processes: PluginProcesses | None = None) -> None:
        self.exec_cfg = exec_cfg
        self.context = context
        self.server = server
        self.processes = processes
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
                self._cred = run_exec_plugin(self.exec_cfg, self.context, self.server, timeout, self.processes)
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
            cred = run_exec_plugin(self.exec_cfg, self.context, self.server, timeout, self.processes)
            self._stale = (token, time.monotonic()) if rejected and token is not None and cred.token == token \
                else None
            self._cred = cred
            return cred
