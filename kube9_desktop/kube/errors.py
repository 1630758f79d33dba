"""Every failure the data layer can meet, as one value: :class:`KubeError`.

The views never see a ``kubernetes`` or ``urllib3`` exception. :mod:`.status_errors` converts them (and HTTP
error responses) into a ``KubeError`` carrying a short title, a plain-language message and an actionable hint,
which the tree model turns into an error row and the window into a dialog.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What went wrong, coarsely; drives the icon, the retry policy and the wording."""

    UNAUTHORIZED = "unauthorized"  # 401: credentials rejected or expired
    FORBIDDEN = "forbidden"  # 403: RBAC says no
    NOT_FOUND = "not_found"  # 404: object or API not served
    CONFLICT = "conflict"  # 409
    GONE = "gone"  # 410: expired continue token / resourceVersion
    INVALID = "invalid"  # 400 / 422
    THROTTLED = "throttled"  # 429 after retries ran out
    SERVER = "server"  # 5xx after retries ran out
    UNREACHABLE = "unreachable"  # connection refused / reset / no route
    DNS = "dns"  # host name does not resolve
    TIMEOUT = "timeout"  # connect or read timeout
    TLS = "tls"  # certificate verification / handshake failure
    KUBECONFIG = "kubeconfig"  # the kubeconfig itself is broken
    EXEC_PLUGIN = "exec_plugin"  # credential plugin missing / failed / garbage
    KUBECTL = "kubectl"  # kubectl backend failure that maps to nothing above
    PROTOCOL = "protocol"  # malformed or truncated response
    UNKNOWN = "unknown"


#: ``KubeError.reason`` of a watch that stopped delivering: its connection stayed open, but nothing (no event, no
#: bookmark, not the end its ``timeoutSeconds`` asked for) arrived in time. The watch is dropped and re-listed.
WATCH_SILENT = "WatchSilent"

#: What a live view (a tree list, an events table) says while its watch keeps failing or went silent.
PAUSED_NOTE = "live updates paused — retrying"


@dataclass(eq=False)
class KubeError(Exception):
    """A failure as the user should see it.

    Attributes:
        kind: The coarse category.
        title: A few words for a dialog title or the start of an error row ("Permission denied").
        message: One or two plain sentences ("You cannot list pods in namespace kube-system.").
        hint: What to do about it ("Check with: kubectl auth can-i list pods -n kube-system").
        status: The HTTP status code, when there was one.
        reason: The Kubernetes Status ``reason`` (``Forbidden``, ``Expired`` ...), when there was one.
        details: The server's raw Status object (or other diagnostic data) for the dialog's Details section;
            never contains credentials.
        context: The kubeconfig context the failure belongs to.
        retry_after: Seconds the server asked us to wait (429/503), if any.
    """

    kind: ErrorKind
    title: str
    message: str
    hint: str = ""
    status: int | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    context: str = ""
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def retriable(self) -> bool:
        """Whether an automatic retry may succeed (throttling, server errors, timeouts, dropped connections)."""
        return self.kind in (ErrorKind.THROTTLED, ErrorKind.SERVER, ErrorKind.TIMEOUT, ErrorKind.PROTOCOL) or (
            self.kind is ErrorKind.UNREACHABLE and self.status is None and self.reason == "reset"
        )

    @property
    def identity(self) -> tuple[str, str, str]:
        """Errors with the same identity arriving together are shown in one dialog."""
        return (self.context, self.kind.value, self.message)

    def detached(self) -> KubeError:
        """This error without the stack it was raised through, ready to be kept as a value; returns ``self``.

        A kept exception keeps every frame of its traceback alive with their locals (responses, pages of rows),
        and those frames usually hold the error again: a reference cycle only a full garbage collection frees,
        which under a large tree is rare. Errors stored on nodes and in-flight lists therefore carry no
        traceback and no chained cause; the log got both when the error was raised.
        """
        self.__traceback__ = None
        self.__cause__ = None
        self.__context__ = None
        self.__suppress_context__ = True
        return self

    def one_line(self) -> str:
        """The message as one line, for an error row or the headless tree printout."""
        return " ".join(self.message.split())


def forbidden_error(verb: str, resource: str, group: str, namespace: str | None, *, all_namespaces: bool,
                    context: str, kubeconfig: str | None = None, **fields: Any) -> KubeError:
    """The 403 as users read it: "You cannot list pods in namespace kube-system." plus how to check.

    Both backends (the API path parsing the Status, the kubectl path parsing stderr) word it the same way.

    Args:
        verb: The denied verb (``list``).
        resource: The resource (``pods``).
        group: Its API group (``""`` for the core group).
        namespace: The namespace the request was in, if any.
        all_namespaces: The request listed a namespaced kind across all namespaces.
        context: The kubeconfig context.
        kubeconfig: The kubeconfig file to name with ``--kubeconfig`` (when kubectl would not find the context
            without it).
        **fields: Further KubeError fields (status, reason, details, retry_after).
    """
    ref = f"{resource}.{group}" if group else resource
    if namespace:
        where, flag = f" in namespace {namespace}", f" -n {namespace}"
    elif all_namespaces:
        where, flag = " in all namespaces", " -A"
    else:
        where, flag = "", ""
    return KubeError(
        ErrorKind.FORBIDDEN,
        "Permission denied",
        f"You cannot {verb} {ref}{where}.",
        hint=f"Check with: kubectl auth can-i {verb} {ref}{flag} --context {shlex.quote(context)}"
        + (f" --kubeconfig {shlex.quote(kubeconfig)}" if kubeconfig else ""),
        context=context,
        **fields,
    )
