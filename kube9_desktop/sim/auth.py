"""Authentication (bearer tokens, client certificates, OIDC id_tokens) and a tiny RBAC model for the sim."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

#: Shared HMAC secret for sim-issued id_tokens. It is a constant on purpose: tests mint tokens in their own
#: process with :func:`mint_id_token` and the sim child process must accept them without any hand-shake.
OIDC_SECRET = b"kube9-sim-oidc-secret-not-for-production"

ADMIN = "admin"
VIEWER = "viewer"
CERT_ADMIN = "cert-admin"
VIEWER_NAMESPACE = "team-a"

# (group, resource) pairs the viewer may get/list/watch inside team-a, like a typical tenant RoleBinding.
_VIEWER_RESOURCES = {("", "pods"), ("", "pods/log"), ("", "services"), ("", "configmaps"), ("apps", "deployments")}
_VIEWER_VERBS = {"get", "list", "watch"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_id_token(exp: float, sub: str = ADMIN, issuer: str = "https://127.0.0.1/simz/oidc") -> str:
    """Creates an HS256 JWT that any kube9-sim accepts as a bearer token until ``exp``.

    Args:
        exp: Expiry as a Unix timestamp (seconds).
        sub: The user the token authenticates as ("admin" or "viewer").
        issuer: The ``iss`` claim; the sim does not check it.

    Returns:
        The compact JWT (header.payload.signature, base64url).
    """
    header = _b64url(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    payload = _b64url(
        orjson.dumps(
            {
                "iss": issuer,
                "sub": sub,
                "aud": "kube9-sim",
                "iat": int(time.time()),
                "exp": int(exp),
                "jti": secrets.token_hex(8),
            }
        )
    )
    signing_input = f"{header}.{payload}".encode()
    sig = _b64url(hmac.new(OIDC_SECRET, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def verify_id_token(token: str) -> str | None:
    """Returns the subject of a valid, unexpired sim id_token, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = _b64url(hmac.new(OIDC_SECRET, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        claims = orjson.loads(_b64url_decode(parts[1]))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or float(claims.get("exp", 0)) <= time.time():
        return None
    sub = claims.get("sub")
    return sub if sub in (ADMIN, VIEWER) else None


@dataclass
class _Token:
    user: str
    expires: float | None


class Authenticator:
    """Keeps the valid bearer tokens; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.admin_token = "sim-admin-" + secrets.token_hex(16)
        self.viewer_token = "sim-viewer-" + secrets.token_hex(16)
        # Never registered, so the server rejects it with 401.
        self.bad_token = "sim-bad-" + secrets.token_hex(16)
        self._tokens: dict[str, _Token] = {
            self.admin_token: _Token(ADMIN, None),
            self.viewer_token: _Token(VIEWER, None),
        }

    def add_token(self, token: str, user: str, ttl_seconds: float | None = None) -> None:
        """Registers ``token`` for ``user`` (optionally expiring after ``ttl_seconds``)."""
        if user not in (ADMIN, VIEWER):
            raise ValueError(f"unknown user {user!r}")
        expires = time.time() + ttl_seconds if ttl_seconds is not None else None
        with self._lock:
            self._tokens[token] = _Token(user, expires)

    def revoke(self, token: str) -> bool:
        """Forgets ``token``; returns whether it was known."""
        with self._lock:
            return self._tokens.pop(token, None) is not None

    def user_for_token(self, token: str) -> str | None:
        """Maps a bearer token to its user, or None when it is unknown, revoked or expired."""
        with self._lock:
            entry = self._tokens.get(token)
        if entry is not None:
            if entry.expires is not None and entry.expires <= time.time():
                return None
            return entry.user
        if token.count(".") == 2:
            return verify_id_token(token)
        return None


def is_admin(user: str) -> bool:
    """Whether ``user`` has cluster-admin rights (system:masters)."""
    return user in (ADMIN, CERT_ADMIN)


def allowed(user: str, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
    """Evaluates the sim's fixed RBAC rules.

    Args:
        user: Authenticated user name.
        verb: Kubernetes verb (get, list, watch, delete, patch, update, ...).
        group: API group ("" for core).
        resource: Resource name, with "/subresource" where applicable.
        namespace: Request namespace or None for cluster scope.
        name: Object name for single-object requests.
    """
    if is_admin(user):
        return True
    if user != VIEWER:
        return False
    if group == "" and resource == "namespaces":
        return verb == "get" and name == VIEWER_NAMESPACE
    return namespace == VIEWER_NAMESPACE and verb in _VIEWER_VERBS and (group, resource) in _VIEWER_RESOURCES


def forbidden_message(user: str, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> str:
    """Builds kube-apiserver's exact RBAC denial wording."""
    base = resource.split("/")[0]
    subject = f'{base} "{name}"' if name else base
    # Namespaces are cluster-scoped, so a "get namespace x" denial names no namespace.
    scope = f'in the namespace "{namespace}"' if namespace and base != "namespaces" else "at the cluster scope"
    return f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'


def resource_rules(user: str, namespace: str) -> list[dict[str, Any]]:
    """The RBAC rules of ``user`` in ``namespace``, as a SelfSubjectRulesReview reports them."""
    basic = [
        {
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        }
    ]
    if is_admin(user):
        return [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, *basic]
    rules = list(basic)
    if user == VIEWER:
        rules.append(
            {"verbs": ["get"], "apiGroups": [""], "resources": ["namespaces"], "resourceNames": [VIEWER_NAMESPACE]}
        )
        if namespace == VIEWER_NAMESPACE:
            rules.append(
                {
                    "verbs": sorted(_VIEWER_VERBS),
                    "apiGroups": [""],
                    "resources": sorted(r for g, r in _VIEWER_RESOURCES if g == ""),
                }
            )
            rules.append({"verbs": sorted(_VIEWER_VERBS), "apiGroups": ["apps"], "resources": ["deployments"]})
    return rules
