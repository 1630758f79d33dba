"""The API server address as written in a kubeconfig: a missing scheme, or ``http://`` pointing at a TLS port.

kubectl (v1.32) sends plain HTTP to an address without a scheme, even when the cluster entry has a CA; so do we,
so the same kubeconfig behaves the same in both. What differs is the message: when such a request fails the way a
TLS port fails plain HTTP (the connection dropped, or Go's "Client sent an HTTP request to an HTTPS server"),
:mod:`.client` probes the port once (:func:`~kube9_desktop.kube.pool.speaks_tls`) and reports
:func:`wrong_scheme_error` on the first request instead of a tree's worth of "connection closed".

Libraries: none (the probe lives in :mod:`.pool`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kube9_desktop.kube.errors import ErrorKind, KubeError


def with_scheme(server: str) -> tuple[str, str]:
    """``server`` with a scheme, and the scheme added (``""`` when it had one): ``http://``, as kubectl does."""
    parts = urlsplit(server)
    if not server or (parts.scheme in ("http", "https") and parts.netloc):
        return server, ""
    return "http://" + server, "http://"


def looks_like_tls_port(server: str, err: KubeError) -> bool:
    """Whether ``err`` from a plain-HTTP ``server`` is how a TLS port answers plain HTTP (worth a probe)."""
    return server.startswith("http://") and (
        (err.kind in (ErrorKind.UNREACHABLE, ErrorKind.PROTOCOL) and err.reason in ("reset", "truncated"))
        or (err.status == 400 and "HTTPS server" in str(err.details))
    )


def wrong_scheme_error(server: str, assumed: bool, context: str) -> KubeError:
    """The kubeconfig problem: ``server`` (``http://``, written so or assumed) speaks TLS."""
    bare = server.removeprefix("http://")
    if assumed:
        what = (f"The server address {bare} of context {context} has no scheme, so plain HTTP was used (as kubectl "
                "does), but the server speaks TLS.")
    else:
        what = f"The server address of context {context} is {server}, but the server speaks TLS (HTTPS)."
    return KubeError(
        ErrorKind.KUBECONFIG,
        "Wrong scheme",
        what,
        hint=f"Write the server as https://{bare} in the kubeconfig.",
        context=context,
        details={"server": server},
    )


def note_assumed_scheme(err: KubeError, assumed: str) -> KubeError:
    """``err`` with a note that the address had no scheme, when that may be why it could not connect."""
    if assumed and err.kind in (ErrorKind.UNREACHABLE, ErrorKind.PROTOCOL, ErrorKind.TLS, ErrorKind.TIMEOUT):
        err.message += (f" (The kubeconfig's server address has no scheme; {assumed} was assumed, as kubectl does: "
                        "write the scheme out.)")
        err.args = (err.message,)
    return err
