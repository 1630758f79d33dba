"""Text from outside (a plugin's stderr, a server's Status message, kubectl's stderr) made safe to show and log.

:func:`redact` removes credentials, :func:`bounded_text` keeps the first lines within a size (cheap even for a
10 MB line), and :func:`scrub` applies both to a :class:`~kube9_desktop.kube.errors.KubeError` on its way out of
the data layer: every error built from outside text passes it. Libraries: none.
"""

from __future__ import annotations

import re
from typing import Any

from kube9_desktop.kube.errors import KubeError

_SECRET_RE = re.compile(
    r"(?i)(bearer|basic)(\s+)[^\s'\"]+"
    # A key naming a secret, then its value: id_token=..., "client_secret": "...", \"refresh_token\":\"...
    # (matched from the keyword on, not from the key's start: a leading [\w.-]* backtracks quadratically)
    # ("key" only as a credential's name: "key: Invalid value" is a validation message)
    r"|((?:token|password|passwd|secret|credential|assertion|cookie"
    r"|(?:api|private|client|access|signing|encryption)[_-]?key)[\w.-]{0,40}\\?[\"']?\s*[:=]\s*"
    r"\\?[\"']?)[^\s'\",}&\\]+"
)
_JWT_RE = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_PEM_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_LONG_B64_RE = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")

#: A value of at most this many digits after a secret's key name is shown: a status code or a count, never a
#: credential worth hiding (golang.org/x/oauth2 writes "cannot fetch token: 400 Bad Request").
_NO_SECRET_DIGITS = 3

#: Characters of outside text (a plugin's stderr, a server's message) kept before it is redacted and shown.
TEXT_LIMIT = 2000


def _long_b64(m: re.Match[str]) -> str:
    s = m.group(0)
    # Tokens and keys mix cases and digits; hashes (lowercase hex), UUIDs and paths do not.
    if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
        return "<redacted>"
    return s


def redact(text: str) -> str:
    """Remove credentials from text shown or logged: bearer/basic credentials, values of ``*token*`` /
    ``*secret*`` / ``*password*`` / ``*key*`` keys, JWTs, private keys and long base64 runs."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return f"{m.group(1)}{m.group(2)}<redacted>"
        value = m.group(0)[len(m.group(3)):]
        if len(value) <= _NO_SECRET_DIGITS and value.isdigit():
            return m.group(0)  # an HTTP status or a count ("cannot fetch token: 400 Bad Request"), no credential
        return f"{m.group(3)}<redacted>"

    text = _PEM_RE.sub("<redacted private key>", text)
    text = _JWT_RE.sub("<redacted>", text)
    text = _SECRET_RE.sub(sub, text)
    return _LONG_B64_RE.sub(_long_b64, text)


def bounded_text(text: str, max_lines: int = 5, max_chars: int = TEXT_LIMIT, line_chars: int = 300) -> str:
    """The first non-empty lines of ``text``, each and all cut to a bound: cheap even for a 10 MB line."""
    head = text[: max_chars * 2]
    lines: list[str] = []
    total = 0
    for ln in head.strip().splitlines():
        if not ln.strip():
            continue
        if len(lines) == max_lines or total >= max_chars:
            lines.append("…")
            break
        ln = ln.rstrip()
        if len(ln) > line_chars:
            ln = ln[:line_chars] + "…"
        lines.append(ln)
        total += len(ln)
    else:
        if len(text) > len(head) and lines:
            lines.append("…")
    return "\n".join(lines)


def scrub(err: KubeError) -> KubeError:
    """``err`` with outside text redacted and bounded in its message, hint and details (nested too)."""
    err.message = redact(err.message if len(err.message) <= TEXT_LIMIT else err.message[:TEXT_LIMIT] + "…")
    err.hint = redact(err.hint if len(err.hint) <= TEXT_LIMIT else err.hint[:TEXT_LIMIT] + "…")
    # A Status's metadata (the continue token a 410 offers, resource versions) is data the client acts on, and
    # no credential.
    err.details = {k: v if k == "metadata" else _scrub_value(v, 1) for k, v in err.details.items()}
    err.args = (err.message,)
    return err


def _scrub_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return redact(value if len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT] + "…")
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {k: _scrub_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, depth + 1) for v in value[:100]]
    return value
