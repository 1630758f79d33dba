"""Names that go into request paths: checked against Kubernetes' rules, and percent-encoded.

Object and namespace names come from the server (or from whatever stands between it and us). A name such as
``../secrets/x`` or a namespace ``?watch=1&x=`` built into a path unencoded would change what is requested: a
client that normalises dot segments (urllib3 does) asks for a Secret instead of a Pod. So every path segment is
percent-encoded (:func:`segment`), and a name no Kubernetes API server accepts is refused before any request
(:func:`check_object_ref`), with a message that says why.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from kube9_desktop.kube.errors import ErrorKind, KubeError

#: A namespace is a DNS-1123 label (kube-apiserver's ValidateNamespaceName).
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

#: Longest name of any object (a DNS-1123 subdomain; path-segment names of other kinds are bounded the same way).
MAX_NAME = 253
#: Longest namespace name.
MAX_NAMESPACE = 63

_HINT = ("A Kubernetes API server never returns such a name: if it came from the server, the server (or a proxy "
         "in front of it) is misbehaving.")


def segment(text: str) -> str:
    """``text`` percent-encoded as one URL path segment (``/``, ``?``, ``#``, ``%`` ... included)."""
    return quote(text, safe="")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an object's name, or ``None`` when it can.

    The rules every kind shares (apimachinery's ``IsValidPathSegmentName`` plus the 253-character bound); kinds
    with stricter rules (DNS subdomains) are a subset of these, so no valid name is refused.
    """
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME:
        return f"it is longer than {MAX_NAME} characters"
    if name in (".", ".."):
        return f"it is '{name}'"
    for bad in ("/", "%"):
        if bad in name:
            return f"it contains '{bad}'"
    if any(c.isspace() or not c.isprintable() for c in name):
        return "it contains spaces or control characters"
    return None


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` cannot be a namespace's name (a DNS-1123 label), or ``None`` when it can."""
    if not namespace:
        return "it is empty"
    if len(namespace) > MAX_NAMESPACE:
        return f"it is longer than {MAX_NAMESPACE} characters"
    if not _DNS_LABEL.fullmatch(namespace):
        return "only lower-case letters, digits and '-' are allowed, starting and ending with a letter or digit"
    return None


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message: control characters escaped, bounded."""
    out = text if len(text) <= limit else text[:limit] + "…"
    return repr(out)


def invalid_name_error(what: str, name: str, problem: str, context: str = "") -> KubeError:
    """The error for a name that was refused before any request."""
    return KubeError(ErrorKind.INVALID, "Invalid name",
                     f"The {what} name {shown(name)} is not a valid Kubernetes name ({problem}); kube9 does not "
                     "request it.", _HINT, reason="InvalidName", context=context)


def check_namespace(namespace: str | None, context: str = "") -> None:
    """Raise :class:`KubeError` (``INVALID``) when ``namespace`` (if any) is not a valid namespace name."""
    if namespace is None:
        return
    problem = namespace_problem(namespace)
    if problem is not None:
        raise invalid_name_error("namespace", namespace, problem, context)


def check_object_ref(kind_name: str, namespace: str | None, name: str, context: str = "") -> None:
    """Raise :class:`KubeError` (``INVALID``) when the namespace or the name of an object cannot be valid.

    Args:
        kind_name: The kind, for the message (``Pod``).
        namespace: The object's namespace, ``None`` for cluster-scoped objects.
        name: The object's name.
        context: The kubeconfig context, for the error.
    """
    check_namespace(namespace, context)
    problem = name_problem(name)
    if problem is not None:
        raise invalid_name_error(kind_name, name, problem, context)
