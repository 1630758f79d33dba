"""A minimal OIDC provider under ``/simz/oidc`` (no auth): discovery document and refresh_token grant."""

from __future__ import annotations

import os
import time
import urllib.parse

from kube9_desktop.sim import auth
from kube9_desktop.sim.handlers.base import Access, PathRoute, Request


def configuration(req: Request) -> None:
    """``/.well-known/openid-configuration``."""
    issuer = f"{req.sim.url}/simz/oidc"
    req.conn.send_json(
        200,
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/token",
            "authorization_endpoint": f"{issuer}/auth",
            "jwks_uri": f"{issuer}/keys",
            "response_types_supported": ["code", "id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "grant_types_supported": ["refresh_token"],
        },
    )


def token(req: Request) -> None:
    """``POST /token`` with ``grant_type=refresh_token``: a fresh id_token and refresh token."""
    issuer = f"{req.sim.url}/simz/oidc"
    form = {k: v[-1] for k, v in urllib.parse.parse_qs(req.body.decode(errors="replace")).items()}
    if form.get("grant_type") != "refresh_token":
        req.conn.send_json(400, {"error": "unsupported_grant_type"})
        return
    if not form.get("refresh_token", "").startswith("sim-refresh"):
        req.conn.send_json(400, {"error": "invalid_grant", "error_description": "unknown refresh token"})
        return
    id_token = auth.mint_id_token(time.time() + 3600, issuer=issuer)
    req.conn.send_json(
        200,
        {
            "access_token": id_token,
            "id_token": id_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "sim-refresh-" + os.urandom(8).hex(),
        },
    )


def not_found(req: Request) -> None:
    """OAuth-style 404 for anything else under /simz/oidc."""
    req.conn.send_json(404, {"error": "not_found"})


ROUTES = [
    PathRoute("/simz/oidc/\\.well-known/openid-configuration", configuration, access=Access.PUBLIC),
    PathRoute("/simz/oidc/token", token, frozenset({"POST"}), access=Access.PUBLIC),
    PathRoute("/simz/oidc.*", not_found, access=Access.PUBLIC),
]
