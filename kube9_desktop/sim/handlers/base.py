"""What handler modules build on: the request they receive, the routes they declare, shared answers.

A handler is a function ``(req) -> None`` that answers through ``req.conn`` (``send_bytes``, ``send_json``,
``send_status``, ``start_response`` + ``send_chunk``/``end_chunks`` for streams). A handler module declares its
routes in a module-level ``ROUTES`` list; :mod:`kube9_desktop.sim.handlers` lists the modules.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from io import BufferedIOBase
from typing import Any

from kube9_desktop.sim.connection import Connection
from kube9_desktop.sim.resources import ResourceType
from kube9_desktop.sim.state import SimState
from kube9_desktop.sim.status import REASONS, status_body

__all__ = [
    "ALL_METHODS",
    "ANY_SUB",
    "REASONS",
    "Access",
    "PathRoute",
    "Request",
    "ResourceRequest",
    "ResourceRoute",
    "method_not_allowed",
    "not_found",
    "obj_not_found",
    "status_body",
    "table_version",
]

ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
#: ``ResourceRoute.sub`` value that matches any subresource and none.
ANY_SUB = "*"
#: kube-apiserver's wording for a method a resource does not support.
NOT_ALLOWED = "the server does not allow this method on the requested resource"


@dataclass
class Request:
    """One request as handlers see it.

    Attributes:
        sim: The sim's shared state.
        conn: The connection (response writers, ``headers``, ``command``).
        method: HTTP method (``GET``, ``HEAD``, ``POST``, ``PUT``, ``PATCH``, ``DELETE``).
        path: URL path without trailing slash (``/`` for the root).
        query: Query parameters (last value wins).
        user: Authenticated user ("" for public routes).
        params: Named groups of the matched ``PathRoute`` pattern.
    """

    sim: SimState
    conn: Connection
    method: str
    path: str
    query: dict[str, str]
    user: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        """The request body (already read by the router)."""
        return self.conn.read_body()

    @property
    def upgrade(self) -> str:
        """The protocol asked for with ``Connection: Upgrade`` (e.g. ``websocket``, lower case), else ""."""
        if "upgrade" not in self.conn.headers.get("Connection", "").lower():
            return ""
        return self.conn.headers.get("Upgrade", "").strip().lower()

    def take_over(self) -> tuple[socket.socket, BufferedIOBase, BufferedIOBase]:
        """Hands the connection to the handler for another protocol (WebSocket for exec/port-forward).

        Returns the TLS socket and its buffered reader and writer (the reader may already hold bytes the
        client sent after the request head, so read through it). The handler writes its own ``101`` response
        and may run as long as it likes in this connection's thread; it should end when the peer leaves or
        ``sim.stopping`` is set (``sim.drop_connections()`` and ``stop()`` shut the socket down). When the
        handler returns, the connection is closed: no further HTTP request is read from it.
        """
        self.conn.close_connection = True
        self.conn.wfile.flush()
        return self.conn.request, self.conn.rfile, self.conn.wfile


@dataclass
class ResourceRequest(Request):
    """A request for a resource URL (``/api/v1/...`` or ``/apis/{group}/{version}/...``).

    Attributes:
        rtype: The resource type.
        namespace: From ``/namespaces/{ns}/...``; None for cluster-wide or cluster-scoped.
        name: Object name; None for the collection.
        sub: Subresource (``log``, ``scale``...); None for the object or collection.
        watch: ``?watch=1|true``.
        verb: The RBAC verb the request was authorized for (``get``, ``list``, ``watch``, ``create``...).
    """

    rtype: ResourceType = field(default=None)  # type: ignore[assignment]
    namespace: str | None = None
    name: str | None = None
    sub: str | None = None
    watch: bool = False
    verb: str = "get"


class Access(Enum):
    """Who may call a path route, and which middleware runs first."""

    #: No authentication, no latency/faults, not counted (OIDC endpoints).
    PUBLIC = "public"
    #: sim-admin token or sim-cert only (else 403); no latency/faults, not counted (/simz).
    ADMIN = "admin"
    #: Any authenticated user; latency and faults apply; counted in /simz/stats (the Kubernetes API).
    USER = "user"


@dataclass(frozen=True)
class PathRoute:
    """A fixed-path endpoint: ``pattern`` (a regex, full match, named groups → ``req.params``) + methods.

    Among routes of one access level the first whose pattern and method match wins; a path that matches
    some pattern but no method is answered 404.
    """

    pattern: str
    handler: Callable[[Request], None]
    methods: frozenset[str] = ALL_METHODS
    access: Access = Access.USER


@dataclass(frozen=True)
class ResourceRoute:
    """A route for resource URLs, matched on resource type, subresource, method, name and watch.

    Args:
        handler: Called with a :class:`ResourceRequest`.
        methods: HTTP methods served (GET routes also list HEAD to serve it).
        resources: Resource names (``pods``) served; None for every type that ``accepts``.
        accepts: Extra predicate on the resource type (e.g. "create-only review resources").
        sub: The subresource (``log``); None for the object/collection itself; ``ANY_SUB`` for both.
        named: True: only ``.../{name}``; False: only the collection; None: both.
        watch: True: only ``?watch=1``; False: only without; None: both.
        authorize: Whether RBAC is checked before the handler runs (False: the handler decides).
        verb: The RBAC verb when it is not derived from the method (kube-apiserver uses ``create`` for exec).

    Dispatch: the routes whose ``resources``/``accepts``/``sub`` fit the URL "claim" it (none: 404, like an
    unknown subresource); the first claiming route that also fits method/name/watch is chosen; RBAC is
    checked unless the chosen route says ``authorize=False`` (403); no route chosen → 405.
    """

    handler: Callable[[ResourceRequest], None]
    methods: frozenset[str] = ALL_METHODS
    resources: frozenset[str] | None = None
    accepts: Callable[[ResourceType], bool] | None = None
    sub: str | None = None
    named: bool | None = None
    watch: bool | None = None
    authorize: bool = True
    verb: str | None = None

    def claims(self, rtype: ResourceType, sub: str | None) -> bool:
        """Whether this route serves this resource type and subresource (any method)."""
        if self.resources is not None and rtype.name not in self.resources:
            return False
        if self.accepts is not None and not self.accepts(rtype):
            return False
        return self.sub == ANY_SUB or self.sub == sub

    def fits(self, method: str, name: str | None, watch: bool) -> bool:
        """Whether this route serves this method, name-or-collection and watch flag."""
        if method not in self.methods:
            return False
        if self.named is not None and self.named != (name is not None):
            return False
        return self.watch is None or self.watch == watch


def stores_objects(rtype: ResourceType) -> bool:
    """False for create-only "review" resources, which store nothing to read, watch or delete."""
    return rtype.verbs != ("create",)


# -- shared answers ----------------------------------------------------------------------------------------------
def not_found(req: Request) -> None:
    """404 for unknown paths, worded like kube-apiserver."""
    req.conn.send_status(404, "the server could not find the requested resource", details={})


def method_not_allowed(req: Request) -> None:
    """405 with kube-apiserver's exact wording."""
    req.conn.send_status(405, NOT_ALLOWED, details={})


def obj_not_found(req: Request, rtype: ResourceType, name: str) -> None:
    """404 for a missing object."""
    details: dict[str, Any] = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.name
    req.conn.send_status(
        404, f'{rtype.name}{"." + rtype.group if rtype.group else ""} "{name}" not found', details=details
    )


def table_version(accept: str) -> tuple[str | None, bool]:
    """Parses Accept: returns (Table apiVersion or None, wants PartialObjectMetadata)."""
    for alt in accept.split(","):
        params = {}
        for p in alt.split(";")[1:]:
            k, _, v = p.strip().partition("=")
            params[k.strip()] = v.strip()
        if params.get("g") != "meta.k8s.io":
            continue
        if params.get("as") == "Table" and params.get("v") in ("v1", "v1beta1"):
            return f"meta.k8s.io/{params['v']}", False
        if params.get("as") in ("PartialObjectMetadataList", "PartialObjectMetadata") and params.get("v") in (
            "v1",
            "v1beta1",
        ):
            return f"meta.k8s.io/{params['v']}", True
    return None, False
