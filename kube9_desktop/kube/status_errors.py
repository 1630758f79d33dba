"""HTTP error responses and library exceptions become :class:`~kube9_desktop.kube.errors.KubeError` values.

:func:`error_from_status` maps a Kubernetes ``Status`` response (or any non-2xx answer) and
:func:`transform_exception` maps whatever the client stack raised (``kubernetes``' ``ApiException`` and
``ConfigException``, urllib3's connection/timeout/protocol/TLS errors, ``ssl`` and ``socket`` errors, JSON errors)
into one error each, with a message and a hint for the user. :func:`~kube9_desktop.kube.redact.scrub` keeps
credentials out of every message and bounds it.

Who owns ``kubernetes`` and ``urllib3``: the API client is split into one module per job, and these libraries are
imported by those modules only, each for its own job. :mod:`.client_auth` alone builds ``ApiClient`` and
:mod:`.client` alone calls it; :mod:`.pool` alone extends urllib3's connection pools; this module alone *recognises*
their exception classes (it imports them for ``isinstance`` and never makes a request). Nothing outside these
imports either library,
and no exception of theirs leaves them.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import ssl
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec
from urllib.parse import urlsplit

import orjson

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError, forbidden_error
from kube9_desktop.kube.redact import bounded_text, redact, scrub

if TYPE_CHECKING:
    from kube9_desktop.kube.kubeconfig import Kubeconfig

__all__ = [
    "RequestInfo",
    "bounded_text",
    "deadline_error",
    "error_from_status",
    "format_wait",
    "kubectl_kubeconfig",
    "redact",
    "scrub",
    "too_large_error",
    "transform_exception",
]


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


def format_wait(seconds: float) -> str:
    """A server's Retry-After as people say it: ``3 s``, ``2 min``, ``1 h``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600, 1):g} h"


_P = ParamSpec("_P")


def _scrubbed(transform: Callable[_P, KubeError]) -> Callable[_P, KubeError]:
    """``transform`` with every error it returns scrubbed of credentials (one place for all its ``return``s)."""

    @functools.wraps(transform)
    def scrubbed(*args: _P.args, **kwargs: _P.kwargs) -> KubeError:
        return scrub(transform(*args, **kwargs))

    return scrubbed


@_scrubbed
def error_from_status(
    status: int,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    *,
    context: str,
    server: str,
    info: RequestInfo | None = None,
    exec_command: str | None = None,
    kubeconfig: str | None = None,
) -> KubeError:
    """A KubeError for an HTTP error response (``Status`` body parsed when present), the server's text in it
    redacted and bounded.

    Args:
        status: HTTP status code.
        body: The raw response body.
        headers: Response headers (for ``Retry-After``).
        context: The kubeconfig context.
        server: The API server URL.
        info: What the request was for.
        exec_command: The context's exec plugin, named in the 401 hint.
        kubeconfig: The file kubectl needs as ``--kubeconfig`` to find the context (see :func:`kubectl_kubeconfig`),
            named in the 403 hint.
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
        return forbidden_error(verb, resource, group, ns, all_namespaces=all_ns, context=context,
                               kubeconfig=kubeconfig, **fields)
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
    asks = f" It asks to retry in {format_wait(retry_after)}." if retry_after else ""
    if status == 429:
        return KubeError(
            ErrorKind.THROTTLED,
            "Server busy",
            f"The API server for context {context} is throttling requests (HTTP 429).{asks}",
            hint="Wait until then and press Refresh." if asks else "Wait a moment and press Refresh.",
            **base,
        )
    if status >= 500:
        return KubeError(
            ErrorKind.SERVER,
            "Server error",
            f"The API server {server} failed (HTTP {status}" + (f": {server_msg}" if server_msg else "") + ")."
            + asks,
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


@_scrubbed
def transform_exception(
    exc: BaseException,
    *,
    context: str,
    server: str,
    info: RequestInfo | None = None,
    options: KubeOptions | None = None,
    exec_command: str | None = None,
    read_timeout: float | None = None,
    kubeconfig: str | None = None,
) -> KubeError:
    """Convert any exception from the client stack into a KubeError (never leaks credentials).

    Handles ApiException (with a Status body), urllib3's connection/timeout/protocol/TLS errors, ssl errors,
    the loader's ConfigException, OSError and JSON errors. A timeout names the timeout that fired and its value
    (``read_timeout``: the one the request used, when not the options' default).
    """
    if isinstance(exc, KubeError):
        if not exc.context:
            exc.context = context
        return exc
    # The libraries' classes are looked up, not imported: ``kubernetes/__init__`` loads its whole client and config
    # packages (~0.25-0.5 s) and urllib3 ~0.05 s, this module is imported by the window's modules (which must not
    # wait for them before the window is first shown) and by the kubectl backend (which never loads them). An
    # exception of a library means the library is loaded already.
    ApiException: Any = _loaded("kubernetes.client.exceptions", "ApiException")
    ConfigException: Any = _loaded("kubernetes.config.config_exception", "ConfigException")
    urllib3: Any = _Urllib3()

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
                kubeconfig=kubeconfig,
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
                # Nothing was sent: a write refused here may be retried (kube/writes.py).
                reason="refused",
                **base,
            )
    for e in chain:
        if isinstance(e, TimeoutError | socket.timeout) and "handshake" in str(e).lower():
            # urllib3 reports this as a *read* timeout, but the TLS handshake runs under the connect timeout.
            return KubeError(
                ErrorKind.TIMEOUT,
                "Timed out",
                f"The TLS handshake with {server} timed out: no answer within the connect timeout "
                f"({opts.connect_timeout:g} s).",
                hint="Something accepts connections there but does not answer TLS: check the server address and "
                "port in the kubeconfig, your VPN/proxy, or raise the connect timeout in Settings.",
                reason="connect_timeout",
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
                f"Connecting to {server} timed out: no connection within the connect timeout "
                f"({opts.connect_timeout:g} s).",
                hint="Check the VPN/network and the server address, or raise the connect timeout in Settings.",
                reason="connect_timeout",
                **base,
            )
    for e in chain:
        if isinstance(e, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout):
            read = read_timeout if read_timeout is not None else opts.read_timeout
            return KubeError(
                ErrorKind.TIMEOUT,
                "Timed out",
                f"The server {server} did not answer within {read:g} s (the read timeout).",
                hint="The cluster may be overloaded; raise the read timeout in Settings or try again.",
                reason="read_timeout",
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


def deadline_error(server: str, seconds: float, context: str, info: RequestInfo | None = None) -> KubeError:
    """The request's total deadline passed while the server was still (slowly) answering."""
    what = f" to {info.verb} {info.resource_ref}" if info is not None and info.resource else ""
    return KubeError(
        ErrorKind.TIMEOUT,
        "Timed out",
        f"The server {server} did not finish answering the request{what} within {seconds:g} s (the request "
        "deadline); it is sending very slowly.",
        hint="The cluster or a proxy in front of it may be overloaded; try again, or raise the request deadline "
        "in Settings.",
        reason="deadline",
        context=context,
        details={"server": server, "deadline_s": seconds},
    )


def too_large_error(server: str, limit: int, context: str, info: RequestInfo | None = None,
                    size: int | None = None) -> KubeError:
    """A response body larger than the configured maximum (refused rather than read into memory)."""
    what = f" to {info.verb} {info.resource_ref}" if info is not None and info.resource else ""
    mb = limit / (1024 * 1024)
    size_text = f" ({size / (1024 * 1024):.0f} MB)" if size is not None else ""
    return KubeError(
        ErrorKind.PROTOCOL,
        "Response too large",
        f"The response of {server}{what} is too large{size_text}: more than {mb:g} MB, the maximum response "
        "size.",
        hint="Raise the maximum response size in Settings (Network) if this is expected, or lower the page size.",
        reason="too_large",
        context=context,
        details={"server": server, "limit_bytes": limit, **({"size_bytes": size} if size is not None else {})},
    )


class _Never(Exception):
    """Stands for an exception class of a library that is not loaded: nothing is an instance of it."""


def _loaded(module: str, name: str) -> type[BaseException]:
    """The class ``module.name`` if ``module`` is loaded, else :class:`_Never`."""
    cls = getattr(sys.modules.get(module), name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else _Never


class _Urllib3:
    """``urllib3.exceptions`` as :func:`transform_exception` reads it: :class:`_Never` while urllib3 is not loaded."""

    def __init__(self) -> None:
        self.exceptions = self
        for name in ("SSLError", "ProxyError", "ConnectTimeoutError", "NewConnectionError", "ReadTimeoutError",
                     "ProtocolError"):
            setattr(self, name, _loaded("urllib3.exceptions", name))


def kubectl_kubeconfig(kubeconfig: Kubeconfig, context: str) -> str | None:
    """The file kubectl needs as ``--kubeconfig`` to find ``context``: None when it is in a file kubectl reads by
    default (``KUBECONFIG``, else ``~/.kube/config``), else the absolute path of the file that defines it."""
    try:
        source = kubeconfig.context(context).source
    except KubeError:
        return None
    if not source:
        return None
    from kube9_desktop.kube.kubeconfig import default_paths  # (yaml: not before the window is shown)

    path = os.path.abspath(os.path.expanduser(source))
    defaults = {os.path.abspath(os.path.expanduser(p)) for p in default_paths()}
    return None if path in defaults else path
