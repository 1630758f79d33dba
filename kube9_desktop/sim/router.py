"""Routes every request of kube9-sim to the handler of its API area, with auth, RBAC, latency and faults.

The router knows the order of checks (public → authenticate → admin | latency, faults → path routes →
resource URLs → RBAC) and the shape of Kubernetes resource URLs; the routes themselves come from the
handler modules' ``ROUTES`` lists (:data:`kube9_desktop.sim.handlers.AREAS`).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from kube9_desktop.sim import auth, faults
from kube9_desktop.sim.connection import Connection
from kube9_desktop.sim.handlers.base import (
    Access,
    PathRoute,
    Request,
    ResourceRequest,
    ResourceRoute,
    method_not_allowed,
    not_found,
)
from kube9_desktop.sim.resources import BY_PATH
from kube9_desktop.sim.state import SimState

_VERBS = {"GET": "get", "HEAD": "get", "DELETE": "delete", "PATCH": "patch", "PUT": "update", "POST": "create"}


class Router:
    """Dispatches requests to path routes and resource routes.

    Args:
        sim: The shared state handlers get.
        areas: Handler modules, each with a ``ROUTES`` list of :class:`PathRoute`/:class:`ResourceRoute`.
    """

    def __init__(self, sim: SimState, areas: Iterable[ModuleType]) -> None:
        self.sim = sim
        self.paths: dict[Access, list[tuple[re.Pattern[str], PathRoute]]] = {a: [] for a in Access}
        self.resources: list[ResourceRoute] = []
        for area in areas:
            for route in area.ROUTES:
                self.add(route)

    def add(self, route: PathRoute | ResourceRoute) -> None:
        """Adds one route after those already added."""
        if isinstance(route, PathRoute):
            self.paths[route.access].append((re.compile(route.pattern), route))
        else:
            self.resources.append(route)

    # -- entry -----------------------------------------------------------------------------------------------
    def dispatch(self, conn: Connection) -> None:
        """Answers one request."""
        # Read the body first, whatever the route: a keep-alive connection must never see a leftover body
        # parsed as the next request.
        conn.read_body()
        parsed = urllib.parse.urlsplit(conn.path)
        path = parsed.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        req = Request(self.sim, conn, conn.command, path, query)
        public = self._matching(Access.PUBLIC, path)
        admin = None if public else self._matching(Access.ADMIN, path)
        if public is None and admin is None:
            self.sim.count_request(path)
        if public is not None:
            self._path(req, public)
            return
        user = self.authenticate(conn)
        if user is None:
            conn.send_status(401, "Unauthorized")
            return
        req.user = user
        if admin is not None:
            if not auth.is_admin(user):
                conn.send_status(403, f'forbidden: User "{user}" cannot {req.method.lower()} path "{path}"')
                return
            self._path(req, admin)
            return
        if self.sim.latency_ms:
            time.sleep(self.sim.latency_ms / 1000)
        fault = self.sim.pick_fault(path, watch=query.get("watch", "") in ("1", "true", "True"))
        if fault is not None and faults.answer(conn, fault, self.sim.stopping):
            return
        routes = self._matching(Access.USER, path)
        if routes is not None:
            self._path(req, routes)
        else:
            self._resource(req)

    def authenticate(self, conn: Connection) -> str | None:
        """Bearer token, sim id_token or client certificate → user name."""
        authz = conn.headers.get("Authorization", "")
        if authz.lower().startswith("bearer "):
            return self.sim.auth.user_for_token(authz[7:].strip())
        if authz:
            return None
        cert = conn.request.getpeercert() if hasattr(conn.request, "getpeercert") else None
        if cert:
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName" and value == auth.CERT_ADMIN:
                        return auth.CERT_ADMIN
        return None

    # -- path routes -----------------------------------------------------------------------------------------
    def _matching(self, access: Access, path: str) -> list[tuple[re.Match[str], PathRoute]] | None:
        """The routes of this access level whose pattern matches the path (any method), or None."""
        hits = [(m, r) for rx, r in self.paths[access] if (m := rx.fullmatch(path))]
        return hits or None

    def _path(self, req: Request, hits: list[tuple[re.Match[str], PathRoute]]) -> None:
        for m, route in hits:
            if req.method in route.methods:
                req.params = {k: v for k, v in m.groupdict().items() if v is not None}
                route.handler(req)
                return
        not_found(req)

    # -- resource URLs ---------------------------------------------------------------------------------------
    def _resource(self, req: Request) -> None:
        parts = req.path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            not_found(req)
            return
        namespace: str | None = None
        # /namespaces/{ns}/{resource}/... ; a bare /namespaces/{name} is a get of the Namespace itself.
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        rtype = BY_PATH.get((group, version, rest[0]))
        if rtype is None or len(rest) > 3 or (namespace is not None and not rtype.namespaced):
            not_found(req)
            return
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        claims = [r for r in self.resources if r.claims(rtype, sub)]
        if not claims:
            not_found(req)
            return
        watch = req.query.get("watch", "") in ("1", "true", "True")
        route = next((r for r in claims if r.fits(req.method, name, watch)), None)
        verb = "watch" if watch else ("list" if req.method == "GET" and name is None else _VERBS.get(req.method, "get"))
        if route is not None and route.verb:
            verb = route.verb
        rreq = ResourceRequest(
            req.sim,
            req.conn,
            req.method,
            req.path,
            req.query,
            req.user,
            rtype=rtype,
            namespace=namespace,
            name=name,
            sub=sub,
            watch=watch,
            verb=verb,
        )
        if route is None or route.authorize:
            res_name = f"{rtype.name}/{sub}" if sub else rtype.name
            if not auth.allowed(req.user, verb, group, res_name, namespace, name):
                details: dict[str, Any] = {"kind": rtype.name}
                if name:
                    details = {"name": name, "kind": rtype.name}
                if group:
                    details["group"] = group
                req.conn.send_status(
                    403, auth.forbidden_message(req.user, verb, group, res_name, namespace, name), details=details
                )
                return
        if route is None:
            # kube9-sim implements only some writes; the others get kube-apiserver's exact 405 wording.
            method_not_allowed(rreq)
            return
        route.handler(rreq)
