"""How a context's kubeconfig user entry becomes the credentials :mod:`.client` hands to the official loader.

A ``tokenFile`` is read (and re-read on every rebuild, as client-go does); an exec plugin's credential replaces
the ``exec`` entry; a token that no HTTP header can carry is refused here, before any request, as a kubeconfig
problem (the library would fail later with "Invalid header value" or a ``latin-1`` encoding error). Messages name
the problem, never the token. Libraries: none.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import ErrorKind, KubeError

if TYPE_CHECKING:
    from kube9_desktop.kube.exec_plugin import ExecCredential


def token_problem(token: str) -> str | None:
    """What in ``token`` cannot go into an ``Authorization`` header (None when it can), never the token itself."""
    for ch in token:
        o = ord(ch)
        if ch in "\r\n":
            return "a line break"
        if (o < 32 and ch != "\t") or o == 127:
            return f"a control character (U+{o:04X})"
        if o > 255:
            return f"a character that is not Latin-1 (U+{o:04X})"
    return None


def user_credentials(config_dict: dict[str, Any], context: str) -> dict[str, Any]:
    """``config_dict`` (one context's kubeconfig) with its ``tokenFile`` read into ``token``; raises KubeError.

    Raises:
        KubeError: ``KUBECONFIG`` when the tokenFile cannot be read or the token cannot be sent.
    """
    out = {**config_dict}
    entry = config_dict["users"][0] if config_dict.get("users") else None
    user = entry["user"] if entry else {}
    token_file = user.get("tokenFile")
    from_file = bool(token_file) and not user.get("token")
    if from_file:
        # Read (and re-read on re-authentication) like client-go: surrounding whitespace is not part of it.
        try:
            with open(str(token_file), encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as exc:
            raise KubeError(
                ErrorKind.KUBECONFIG,
                "Kubeconfig problem",
                f"The tokenFile {token_file} of context {context} cannot be read ({exc.strerror or exc}).",
                hint="Fix the tokenFile path in the kubeconfig.",
                context=context,
            ) from None
        user = {k: v for k, v in user.items() if k != "tokenFile"}
        user["token"] = token
        assert entry is not None
        out["users"] = [{"name": entry["name"], "user": user}]
    static = user.get("token")
    if isinstance(static, str) and (problem := token_problem(static)):
        where = f"token in the tokenFile {token_file}" if from_file else "token"
        raise KubeError(
            ErrorKind.KUBECONFIG,
            "Kubeconfig problem",
            f"The {where} of context {context} contains {problem}, which cannot be sent in an HTTP header.",
            hint="Fix the token in the kubeconfig's user entry (a stray line break or a pasted character).",
            context=context,
        )
    return out


def with_exec_credential(config_dict: dict[str, Any], cred: ExecCredential) -> dict[str, Any]:
    """``config_dict`` with its user's ``exec`` entry replaced by what the plugin returned."""
    entry = config_dict["users"][0]
    user: dict[str, Any] = {k: v for k, v in entry["user"].items() if k != "exec"}
    if cred.token:
        user["token"] = cred.token
    else:
        user["client-certificate-data"] = base64.b64encode(str(cred.client_cert).encode()).decode()
        user["client-key-data"] = base64.b64encode(str(cred.client_key).encode()).decode()
    return {**config_dict, "users": [{"name": entry["name"], "user": user}]}
