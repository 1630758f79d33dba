"""The only module that imports ``kubernetes`` and ``urllib3``: pooled per-context API clients and error
mapping.

One :class:`ContextClient` per kubeconfig context wraps one official ``ApiClient`` built by the official
per-context loader into a fresh ``Configuration`` (never the process-global default, which races between
contexts). Its urllib3 pool is sized to the number of worker threads, so parallel lists reuse connections and
urllib3 never logs "Connection pool is full". Every request carries a (connect, read) timeout; responses are
read
raw (``_preload_content=False``) and parsed with orjson by the calling worker thread.

Exec credential plugins are run here rather than by the official loader, because the loader only *logs* a
failing
plugin and then sends unauthenticated requests; we turn every failure into a clear ``EXEC_PLUGIN`` error,
refresh
tokens before their ``expirationTimestamp``, and re-run the plugin once on a 401.

:func:`transform_exception` and :func:`error_from_status` are the one place where library exceptions and
Kubernetes ``Status`` bodies become :class:`~kube9_desktop.kube.errors.KubeError` values.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import new_client_from_config_dict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context, resolve_cert_reqs

from kube9_desktop.kube.backend import ContextStats, KubeOptions, StatsRecorder
from kube9_desktop.kube.errors import ErrorKind, KubeError, forbidden_error
from kube9_desktop.kube.kubeconfig import Kubeconfig, find_executable, search_dirs

log = logging.getLogger(__name__)

# The first connection encodes its host name with the "idna" codec, whose module is imported lazily on first use,
# in a worker thread, under the import lock, through PySide's import hook (which inspects each module's source):
# milliseconds on the cold path of the first tree load. Import it with this module instead.
"kube9".encode("idna")

JSON = "application/json"
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")

# Refresh exec tokens this long before they expire, so no request is sent with a token about to lapse.
_EXPIRY_MARGIN = 10.0

#: Seconds during which a plugin that answered a 401 with the very token just rejected is not run again for that
#: token. Long enough to cover one Refresh's parallel requests (each would otherwise re-run it); short enough that
#: after logging in again in a terminal, the next Refresh picks the new token up.
STALE_TOKEN_QUIET = 10.0


@dataclass
class RequestInfo:
    """What a request was for, so errors can be worded for the user ("You cannot list pods ...").

    Attributes:
        verb: ``list``, ``get``, ``watch``.
        resource: Plural resource name (``pods``).
        group: API group (``""`` for core).
        version: API version.
        namespace: Namespace, or ``None`` for cluster-wide / cluster-scoped.
        name: Object name for ``get``.
    """

    verb: str = "get"
    resource: str = ""
    group: str = ""
    version: str = ""
    namespace: str | None = None
    name: str | None = None
    namespaced: bool = True

    @property
    def resource_ref(self) -> str:
        """``pods`` or ``deployments.apps`` (what kubectl accepts)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


@dataclass
class _Stats(StatsRecorder):
    # Every connection the pools opened and still hold, so closing the client can abort requests in flight.
    live: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)


# ------------------------------------------------------------------------------------------------------------
# Error mapping


def _status_body(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


_FORBIDDEN_RE = re.compile(
    r'cannot (\S+) resource "([^"]+)" in API group "([^"]*)"'
    r'(?: in the namespace "([^"]+)"| at the cluster scope)?'
)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_status(
    status: int,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    *,
    context: str,
    server: str,
    info: RequestInfo | None = None,
    exec_command: str | None = None,
) -> KubeError:
    """A KubeError for an HTTP error response (``Status`` body parsed when present).

    Args:
        status: HTTP status code.
        body: The raw response body.
        headers: Response headers (for ``Retry-After``).
        context: The kubeconfig context.
        server: The API server URL.
        info: What the request was for.
        exec_command: The context's exec plugin, named in the 401 hint.
    """
    st = _status_body(body)
    reason = st.get("reason", "") or ""
    server_msg = st.get("message", "") or ""
    details: dict[str, Any] = st or ({"body": body[:500].decode("utf-8", "replace")} if body else {})
    info = info or RequestInfo()
    retry_after = _retry_after(headers)
    base: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "details": details,
        "context": context,
        "retry_after": retry_after,
    }
    if status == 401:
        hint = (
            f"Re-authenticate (the credential plugin '{exec_command}' may need you to log in again), "
            "then press Refresh."
            if exec_command
            else "Re-authenticate or update the credentials in your kubeconfig, then press Refresh."
        )
        return KubeError(
            ErrorKind.UNAUTHORIZED,
            "Not authorized",
            f"The server rejected the credentials for context {context} (expired or invalid).",
            hint=hint,
            **base,
        )
    if status == 403:
        m = _FORBIDDEN_RE.search(server_msg)
        verb, resource, group, ns = (
            (m.group(1), m.group(2), m.group(3), m.group(4))
            if m
            else (info.verb, info.resource, info.group, info.namespace)
        )
        all_ns = bool(info.namespaced and info.resource == resource and not info.namespace)
        fields = {k: v for k, v in base.items() if k != "context"}
        return forbidden_error(verb, resource, group, ns, all_namespaces=all_ns, context=context, **fields)
    if status == 404:
        if (
            info.verb in ("list", "watch")
            and info.resource
            and (not st.get("details") or not (st.get("details") or {}).get("name"))
        ):
            return KubeError(
                ErrorKind.NOT_FOUND,
                "Not served",
                f"This cluster does not serve {info.resource_ref}/{info.version}.",
                hint="The API may be disabled, removed in this Kubernetes version, or its CRD deleted.",
                **base,
            )
        what = f"{info.resource_ref} {info.name!r}" if info.name else (server_msg or "The object")
        where = f" in namespace {info.namespace}" if info.namespace else ""
        return KubeError(
            ErrorKind.NOT_FOUND,
            "Not found",
            f"{what} was not found{where}." if info.name else (server_msg or "Not found."),
            hint="It may have been deleted; press Refresh.",
            **base,
        )
    if status == 409:
        return KubeError(
            ErrorKind.CONFLICT,
            "Conflict",
            server_msg or "The object was changed by someone else.",
            hint="Reload the object and try again.",
            **base,
        )
    if status == 410:
        return KubeError(
            ErrorKind.GONE,
            "Expired",
            server_msg or "The list or watch position expired.",
            hint="Press Refresh to load a fresh list.",
            **base,
        )
    if status in (400, 422):
        return KubeError(
            ErrorKind.INVALID,
            "Invalid request",
            server_msg or f"The server rejected the request (HTTP {status}).",
            hint="Check the values you entered.",
            **base,
        )
    if status == 429:
        return KubeError(
            ErrorKind.THROTTLED,
            "Server busy",
            f"The API server for context {context} is throttling requests (HTTP 429).",
            hint="Wait a moment and press Refresh.",
            **base,
        )
    if status >= 500:
        return KubeError(
            ErrorKind.SERVER,
            "Server error",
            f"The API server {server} failed (HTTP {status}" + (f": {server_msg}" if server_msg else "") + ").",
            hint="The cluster may be overloaded or restarting; try again in a moment.",
            **base,
        )
    return KubeError(
        ErrorKind.UNKNOWN, f"HTTP {status}", server_msg or f"Unexpected HTTP {status} from {server}.", **base
    )


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.__cause__ or cur.__context__
        cur = nxt
    return out


_SECRET_RE = re.compile(
    r"(?i)(bearer|basic)(\s+)[^\s'\"]+|((?:token|password|secret|key)[\"']?\s*[:=]\s*[\"']?)[^\s'\",}]+"
)


def redact(text: str) -> str:
    """Remove bearer/basic credentials and ``token=...``-style secrets from a message."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return f"{m.group(1)}{m.group(2)}<redacted>"
        return f"{m.group(3)}<redacted>"

    return _SECRET_RE.sub(sub, text)


def transform_exception(
    exc: BaseException,
    *,
    context: str,
    server: str,
    info: RequestInfo | None = None,
    options: KubeOptions | None = None,
    exec_command: str | None = None,
) -> KubeError:
    """Convert any exception from the client stack into a KubeError (never leaks credentials).

    Handles ApiException (with a Status body), urllib3's connection/timeout/protocol/TLS errors, ssl errors,
    the loader's ConfigException, OSError and JSON errors.
    """
    err = _transform(exc, context=context, server=server, info=info, options=options, exec_command=exec_command)
    err.message = redact(err.message)
    err.hint = redact(err.hint)
    err.details = {k: redact(v) if isinstance(v, str) else v for k, v in err.details.items()}
    err.args = (err.message,)
    return err


def _transform(
    exc: BaseException,
    *,
    context: str,
    server: str,
    info: RequestInfo | None = None,
    options: KubeOptions | None = None,
    exec_command: str | None = None,
) -> KubeError:
    if isinstance(exc, KubeError):
        if not exc.context:
            exc.context = context
        return exc
    opts = options or KubeOptions()
    base: dict[str, Any] = {"context": context, "details": {"error": type(exc).__name__, "server": server}}
    if isinstance(exc, ApiException):
        if exc.status:
            body = exc.body if isinstance(exc.body, bytes) else (exc.body or "").encode()
            return error_from_status(
                int(exc.status),
                body,
                exc.headers,
                context=context,
                server=server,
                info=info,
                exec_command=exec_command,
            )
        text = str(exc.reason or "")
        if "SSL" in text or "CERTIFICATE" in text.upper():
            return _tls_error(text, context, server)
        return KubeError(ErrorKind.UNKNOWN, "Request failed", f"Request to {server} failed: {text[:200]}", **base)
    if isinstance(exc, ConfigException):
        return KubeError(
            ErrorKind.KUBECONFIG,
            "Kubeconfig problem",
            f"The kubeconfig entry for context {context} cannot be used: {exc}",
            hint="Fix the context's cluster or user entry in the kubeconfig.",
            **base,
        )
    if isinstance(exc, orjson.JSONDecodeError | UnicodeDecodeError):
        return KubeError(
            ErrorKind.PROTOCOL,
            "Bad response",
            f"The server {server} sent a response that is not valid JSON.",
            hint="A proxy or load balancer in front of the API server may be interfering.",
            **base,
        )
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, ssl.SSLError | urllib3.exceptions.SSLError | ssl.CertificateError):
            return _tls_error(str(e), context, server)
    for e in chain:
        if isinstance(e, urllib3.exceptions.ProxyError):
            inner = next((x for x in chain if isinstance(x, ConnectionRefusedError)), None)
            return KubeError(
                ErrorKind.UNREACHABLE,
                "Proxy failed",
                f"Cannot connect to {server} through the proxy"
                + (" (connection refused)" if inner else f": {e}")
                + ".",
                hint="Check the cluster's proxy-url in the kubeconfig.",
                **base,
            )
    for e in chain:
        if type(e).__name__ == "NameResolutionError" or isinstance(e, socket.gaierror):
            host = urlsplit(server).hostname or server
            return KubeError(
                ErrorKind.DNS,
                "Unknown host",
                f"The host name {host} of context {context} does not resolve (DNS).",
                hint="Check the server address in the kubeconfig, and your VPN/DNS settings.",
                **base,
            )
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower():
            return KubeError(
                ErrorKind.UNREACHABLE,
                "Cannot connect",
                f"Cannot connect to {server} (connection refused). Is the cluster running?",
                hint="Start the cluster or tunnel, or check the server address in the kubeconfig.",
                **base,
            )
    for e in chain:
        if (
            isinstance(e, urllib3.exceptions.ConnectTimeoutError)
            and not isinstance(e, urllib3.exceptions.NewConnectionError)
        ) or (isinstance(e, TimeoutError | socket.timeout) and "connect" in str(e).lower()):
            return KubeError(
                ErrorKind.TIMEOUT,
                "Timed out",
                f"Connecting to {server} timed out after {opts.connect_timeout:g} s.",
                hint="Check the VPN/network, or raise the connect timeout in Settings.",
                **base,
            )
    for e in chain:
        if isinstance(e, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout):
            return KubeError(
                ErrorKind.TIMEOUT,
                "Timed out",
                f"The server {server} did not answer within {opts.read_timeout:g} s.",
                hint="The cluster may be overloaded; raise the read timeout in Settings or try again.",
                **base,
            )
    if any(type(e).__name__ == "IncompleteRead" for e in chain):
        # Headers arrived, then the connection closed before the body was complete: a truncated answer.
        return KubeError(
            ErrorKind.PROTOCOL,
            "Bad response",
            f"The server {server} closed the connection in the middle of a response (the answer was cut off).",
            hint="Try again; a proxy or load balancer may be cutting responses off.",
            reason="truncated",
            **base,
        )
    for e in chain:
        if isinstance(
            e,
            urllib3.exceptions.ProtocolError | ConnectionResetError | ConnectionAbortedError | BrokenPipeError,
        ) or type(e).__name__ == "RemoteDisconnected":
            return KubeError(
                ErrorKind.UNREACHABLE,
                "Connection lost",
                f"The connection to {server} was closed unexpectedly.",
                hint="Try again; a proxy or load balancer may be dropping connections.",
                reason="reset",
                **base,
            )
    for e in chain:
        if isinstance(e, urllib3.exceptions.NewConnectionError | OSError):
            return KubeError(
                ErrorKind.UNREACHABLE,
                "Cannot connect",
                f"Cannot connect to {server} ({e}).",
                hint="Check the network and the server address in the kubeconfig.",
                **base,
            )
    if isinstance(exc, ValueError):
        return KubeError(ErrorKind.PROTOCOL, "Bad response", f"Unexpected response from {server}: {exc}"[:300], **base)
    return KubeError(ErrorKind.UNKNOWN, "Unexpected error", f"{type(exc).__name__}: {exc}"[:300], **base)


def _tls_error(text: str, context: str, server: str) -> KubeError:
    low = text.lower()
    if "key_values_mismatch" in low or "key values mismatch" in low:
        msg = f"The client key of context {context} does not match its client certificate."
        hint = (
            "Set client-key (or client-key-data) in the kubeconfig's user entry to the key that belongs to "
            "client-certificate."
        )
    elif any(t in low for t in ("wrong version number", "wrong_version_number", "record layer failure",
                                "record_layer_failure", "unknown protocol", "http request")):
        msg = f"The server {server} does not speak TLS; it looks like a plain HTTP server on an https URL."
        hint = "Check the port and scheme of the server address in the kubeconfig."
    elif "hostname" in low or "ip address mismatch" in low or "doesn't match" in low:
        msg = f"The certificate of {server} is not valid for that host name."
        hint = "Set tls-server-name in the cluster entry, or use a server address the certificate covers."
    elif "verify failed" in low or "certificate" in low:
        msg = f"The certificate of {server} could not be verified (unknown or wrong certificate authority)."
        hint = (
            "Set certificate-authority (or certificate-authority-data) for the cluster in the kubeconfig "
            "to the cluster's CA."
        )
    else:
        msg = f"The TLS handshake with {server} failed."
        hint = "Check the cluster's certificate settings and client certificate in the kubeconfig."
    return KubeError(
        ErrorKind.TLS,
        "Certificate problem",
        msg,
        hint=hint,
        context=context,
        details={"error": text[:300], "server": server},
    )


# ------------------------------------------------------------------------------------------------------------
# Exec credential plugins


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


# ------------------------------------------------------------------------------------------------------------
# The pooled client


def _counting_pool_classes(stats: _Stats) -> dict[str, type]:
    """Pool classes that count new TCP connections into ``stats`` (urllib3 has no hook for it)."""

    def make(base: type) -> type:
        base_new_conn = base._new_conn  # type: ignore[attr-defined]

        def _new_conn(self: Any) -> Any:
            conn = base_new_conn(self)
            with stats.lock:
                stats.connections += 1
                stats.live.add(conn)
            return conn

        return type(f"Counting{base.__name__}", (base,), {"_new_conn": _new_conn})

    return {"http": make(HTTPConnectionPool), "https": make(HTTPSConnectionPool)}


def _share_ssl_context(pool_kw: dict[str, Any]) -> None:
    """Build the context's TLS settings into one ``SSLContext`` shared by all its pooled connections.

    Without it urllib3 creates an ``SSLContext`` and re-reads the CA (and client certificate) files for every new
    connection, on the worker thread that is about to do the handshake: ~1 ms of GIL-holding work per connection,
    multiplied by a cold burst of parallel lists. The shared context carries exactly the same verification
    (``CERT_REQUIRED`` and host name checks unless the kubeconfig says insecure-skip-tls-verify; the same CA and
    client certificate); urllib3 still checks ``tls-server-name`` / host names as before.

    When the files cannot be loaded here, nothing changes: urllib3 then fails on connect exactly as before, with
    the error mapping that path already has.
    """
    if pool_kw.get("ssl_context") is not None:
        return
    ca_file = pool_kw.get("ca_certs")
    ca_data = pool_kw.get("ca_cert_data")
    cert_file = pool_kw.get("cert_file")
    key_file = pool_kw.get("key_file")
    try:
        ctx = create_urllib3_context(cert_reqs=resolve_cert_reqs(pool_kw.get("cert_reqs")))
        if ca_file or ca_data:
            ctx.load_verify_locations(cafile=ca_file or None, cadata=ca_data or None)
        elif ctx.verify_mode != ssl.CERT_NONE:
            ctx.load_default_certs()
        if cert_file:
            ctx.load_cert_chain(cert_file, key_file or None)
    except (OSError, ValueError, ssl.SSLError):
        log.debug("TLS settings not shareable; urllib3 builds them per connection", exc_info=True)
        return
    for key in ("ca_certs", "ca_cert_data", "cert_file", "key_file"):
        pool_kw.pop(key, None)
    pool_kw["ssl_context"] = ctx


class Response:
    """A completed raw response: status, headers and the body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body parsed with orjson."""
        return orjson.loads(self.body)


class ContextClient:
    """One pooled, authenticated client for one kubeconfig context; thread-safe.

    Args:
        kubeconfig: The merged kubeconfig.
        context: The context name.
        options: Timeouts, pool size, retries, exec timeout.
        exec_auth: The context's shared exec credential (another client of the same context passes its own
            :attr:`exec_auth`); a new one when None and the user has an ``exec`` plugin.
    """

    def __init__(self, kubeconfig: Kubeconfig, context: str, options: KubeOptions,
                 exec_auth: ExecAuth | None = None) -> None:
        self.context = context
        self.options = options
        info = kubeconfig.context(context)  # raises KubeError KUBECONFIG
        self.server = info.server.rstrip("/")
        self.auth = info.auth
        self._config_dict = kubeconfig.config_for(context)
        user = self._config_dict["users"][0]["user"] if self._config_dict["users"] else {}
        self._exec_cfg: dict[str, Any] | None = user.get("exec") if isinstance(user.get("exec"), dict) else None
        self.exec_command = str(self._exec_cfg.get("command")) if self._exec_cfg else None
        self.exec_auth: ExecAuth | None = None
        if self._exec_cfg is not None:
            self.exec_auth = exec_auth or ExecAuth(self._exec_cfg, context, self.server)
        self._stats = _Stats()
        self._lock = threading.RLock()
        self._auth_lock = threading.Lock()
        self._cred: ExecCredential | None = None  # the exec credential this client's ApiClient is using
        self._retired: list[ApiClient] = []
        self._closed = False
        self._api = self._build()

    # -- construction ----------------------------------------------------------------------------------------

    def _build(self) -> ApiClient:
        """Build a fresh ApiClient (runs the exec plugin if the user has one); raises KubeError."""
        config_dict = {**self._config_dict}
        token_file = self._config_dict["users"][0]["user"].get("tokenFile") if self._config_dict["users"] else None
        if token_file and not self._config_dict["users"][0]["user"].get("token"):
            # Read (and re-read on re-authentication) like client-go: surrounding whitespace is not part of it.
            try:
                with open(token_file, encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as exc:
                raise KubeError(
                    ErrorKind.KUBECONFIG,
                    "Kubeconfig problem",
                    f"The tokenFile {token_file} of context {self.context} cannot be read ({exc.strerror or exc}).",
                    hint="Fix the tokenFile path in the kubeconfig.",
                    context=self.context,
                ) from None
            user0 = {k: v for k, v in self._config_dict["users"][0]["user"].items() if k != "tokenFile"}
            user0["token"] = token
            config_dict["users"] = [{"name": self._config_dict["users"][0]["name"], "user": user0}]
        if self.exec_auth is not None:
            cred = self.exec_auth.get(self.options.exec_timeout)
            self._cred = cred
            user: dict[str, Any] = {k: v for k, v in self._config_dict["users"][0]["user"].items() if k != "exec"}
            if cred.token:
                user["token"] = cred.token
            else:
                user["client-certificate-data"] = base64.b64encode(str(cred.client_cert).encode()).decode()
                user["client-key-data"] = base64.b64encode(str(cred.client_key).encode()).decode()
            config_dict["users"] = [{"name": self._config_dict["users"][0]["name"], "user": user}]
        cfg = Configuration()
        # Sized to the worker threads so parallel requests never wait for (or discard) a pooled connection.
        cfg.connection_pool_maxsize = max(1, self.options.workers)
        # No urllib3-level retries: our own loop retries with backoff, Retry-After and correct error mapping.
        cfg.retries = False
        try:
            api = new_client_from_config_dict(
                config_dict=config_dict, context=self.context, persist_config=False, client_configuration=cfg
            )
        except Exception as exc:  # ConfigException, OSError (missing cert file), ValueError ...
            err = transform_exception(exc, context=self.context, server=self.server, options=self.options)
            if err.kind in (ErrorKind.UNREACHABLE, ErrorKind.UNKNOWN, ErrorKind.PROTOCOL):
                err = KubeError(
                    ErrorKind.KUBECONFIG,
                    "Kubeconfig problem",
                    f"The kubeconfig entry for context {self.context} cannot be used: {exc}"[:400],
                    hint="Check the file paths and base64 data of the cluster and user entries.",
                    context=self.context,
                    details={"error": type(exc).__name__},
                )
            raise err from None
        if self.exec_auth is not None:
            # The loader installs a hook that re-applies its own (stale) token before every request; we manage
            # exec tokens ourselves.
            cfg.refresh_api_key_hook = None
        if not cfg.verify_ssl:
            # The user chose insecure-skip-tls-verify for this cluster (kubectl stays quiet about it too);
            # urllib3 would otherwise warn on every single request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        pool_manager = api.rest_client.pool_manager
        pool_manager.pool_classes_by_scheme = _counting_pool_classes(self._stats)
        _share_ssl_context(pool_manager.connection_pool_kw)
        api.user_agent = "kube9-desktop"
        return api

    @property
    def api(self) -> ApiClient:
        """The current official ApiClient."""
        return self._api

    def _sync_exec(self) -> None:
        """Use the context's newest exec credential: renewed first when it is about to expire, or taken over
        when the context's other client already renewed it."""
        if self.exec_auth is None:
            return
        cred = self.exec_auth.current
        if cred is not None and cred.expires is not None and time.time() >= cred.expires - _EXPIRY_MARGIN:
            cred = self.exec_auth.renew(cred, self.options.exec_timeout, rejected=False)
        if cred is not None and cred is not self._cred:
            self._adopt(cred)

    def _adopt(self, cred: ExecCredential) -> None:
        with self._auth_lock:
            if cred is self._cred:
                return
            if cred.token and self._cred is not None and self._cred.token:
                self._api.configuration.api_key["BearerToken"] = f"Bearer {cred.token}"
                self._cred = cred
                return
        self._rebuild()  # client certificates from a plugin: a new client (it reads exec_auth's current one)

    def _rebuild(self) -> None:
        new = self._build()
        with self._lock:
            self._retired.append(self._api)
            self._api = new

    def _reauthenticate(self, seen: ExecCredential | None) -> bool:
        """After a 401: a newer exec credential (another client's or a new plugin run), or a rebuilt client for
        other auth (OIDC refreshes expired id-tokens on load, tokenFile is re-read). False when there is nothing
        newer worth a retry."""
        if self.exec_auth is not None:
            cred = self.exec_auth.renew(seen, self.options.exec_timeout, rejected=True)
            if cred is None or cred is seen:
                return False
            self._adopt(cred)
            return True
        with self._auth_lock:
            self._rebuild()
        return True

    # -- requests --------------------------------------------------------------------------------------------

    def stats(self) -> ContextStats:
        """A snapshot of this context's counters."""
        return self._stats.snapshot()

    def record_latency(self, ms: float) -> None:
        """Record the latency of one list page request."""
        with self._stats.lock:
            self._stats.latencies.append(ms)

    def _timeout(self, read: float | None = None) -> tuple[float, float]:
        return (self.options.connect_timeout, read if read is not None else self.options.read_timeout)

    def open(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        read_timeout: float | None = None,
    ) -> Any:
        """Start a GET and return the raw urllib3 response unread (for watch streams); raises on failure.

        The caller must read and ``release_conn()`` it. Status errors are not raised here.
        """
        self._sync_exec()
        api = self._api
        params = api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query) or None,
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        with self._stats.lock:
            self._stats.requests += 1
        resp = api.call_api(*params, _request_timeout=self._timeout(read_timeout))
        return resp.response

    def request(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        info: RequestInfo | None = None,
        read_timeout: float | None = None,
    ) -> Response:
        """GET ``path`` with retries; returns the 2xx response with its body read; raises KubeError.

        429 is retried after ``Retry-After`` and 5xx / dropped connections with exponential backoff and
        jitter,
        up to ``options.retries`` times; a 401 triggers one re-authentication and one retry.
        """
        attempt = 0
        reauthed = False
        while True:
            err: KubeError
            self._sync_exec()
            seen = self._cred
            try:
                raw = self.open(path, query, accept, read_timeout)
                try:
                    body = raw.data
                finally:
                    raw.release_conn()
                with self._stats.lock:
                    self._stats.bytes_received += len(body or b"")
                status = raw.status
                if 200 <= status < 300:
                    return Response(status, raw.headers, body)
                err = error_from_status(
                    status,
                    body,
                    raw.headers,
                    context=self.context,
                    server=self.server,
                    info=info,
                    exec_command=self.exec_command,
                )
            except Exception as exc:
                err = transform_exception(
                    exc,
                    context=self.context,
                    server=self.server,
                    info=info,
                    options=self.options,
                    exec_command=self.exec_command,
                )
            if err.kind is ErrorKind.UNAUTHORIZED and not reauthed and self.auth in ("exec", "oidc", "token-file"):
                reauthed = True
                try:
                    renewed = self._reauthenticate(seen)
                except KubeError as auth_err:
                    self._count_error()
                    raise auth_err from None
                if renewed:
                    continue
            retry = err.kind in (ErrorKind.THROTTLED, ErrorKind.SERVER) or (
                err.kind in (ErrorKind.UNREACHABLE, ErrorKind.PROTOCOL) and err.reason in ("reset", "truncated")
            )
            if retry and attempt < self.options.retries and not self._closed:
                attempt += 1
                if err.retry_after is not None:
                    delay = min(err.retry_after, 30.0)
                else:
                    delay = min(0.2 * 2 ** (attempt - 1), 5.0) * (0.5 + random.random())
                log.debug("context %s: %s %s, retry %d in %.2fs", self.context, path, err.kind, attempt, delay)
                time.sleep(delay)
                continue
            self._count_error()
            raise err

    def _count_error(self) -> None:
        with self._stats.lock:
            self._stats.errors += 1

    def get_json(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        accept: str = JSON,
        info: RequestInfo | None = None,
    ) -> Any:
        """GET and parse with orjson (in the calling worker thread); raises KubeError."""
        resp = self.request(path, query, accept, info)
        try:
            return orjson.loads(resp.body)
        except orjson.JSONDecodeError as exc:
            raise transform_exception(exc, context=self.context, server=self.server) from None

    def set_options(self, options: KubeOptions) -> None:
        """New timeouts/retries apply to the next request (pool size applies to new clients)."""
        self.options = options

    def close(self) -> None:
        """Close the pooled connections of this client (and of clients retired by re-authentication)."""
        with self._lock:
            self._closed = True
            for api in [*self._retired, self._api]:
                try:
                    api.close()
                except Exception:  # closing must never fail the caller
                    log.debug("closing client for %s failed", self.context, exc_info=True)
            self._retired.clear()
        # The pools close idle connections only. A worker blocked reading from a server that never answers would
        # keep its thread (and the app's exit) waiting for the read timeout: shut those sockets down, so the read
        # ends now and the thread finishes.
        with self._stats.lock:
            conns = list(self._stats.live)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except (OSError, ValueError):
                    pass


def make_client(kubeconfig: Kubeconfig, context: str, options: KubeOptions,
                exec_auth: ExecAuth | None = None) -> ContextClient:
    """Create a :class:`ContextClient` (sharing ``exec_auth`` when given), converting any failure into a
    KubeError."""
    try:
        return ContextClient(kubeconfig, context, options, exec_auth)
    except KubeError:
        raise
    except Exception as exc:
        raise transform_exception(exc, context=context, server="", options=options) from None
