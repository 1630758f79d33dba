"""SelfSubjectAccessReview / SelfSubjectRulesReview, answered from the sim's RBAC rules (JSON or protobuf)."""

from __future__ import annotations

from typing import Any

import orjson

from kube9_desktop.sim import auth, proto
from kube9_desktop.sim.handlers.base import ANY_SUB, ResourceRequest, ResourceRoute, method_not_allowed, stores_objects

_NON_RESOURCE_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/"]


def review(req: ResourceRequest) -> None:
    """Answers a review (POST only) for the requesting user."""
    h, rtype, user = req.conn, req.rtype, req.user
    if req.method != "POST":
        method_not_allowed(req)
        return
    try:
        if "protobuf" in h.headers.get("Content-Type", ""):
            spec = proto.review_spec(rtype.kind, req.body)
        else:
            spec = orjson.loads(req.body).get("spec") or {}
    except (orjson.JSONDecodeError, AttributeError, ValueError, KeyError):
        h.send_status(400, f"the object provided is unrecognized (must be of type {rtype.kind})")
        return
    status: dict[str, Any]
    if rtype.kind == "SelfSubjectRulesReview":
        rules = auth.resource_rules(user, str(spec.get("namespace", "")))
        non_resource = [{"verbs": ["get"], "nonResourceURLs": list(_NON_RESOURCE_URLS)}]
        if auth.is_admin(user):
            non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
        status = {"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": False}
    else:
        ra = spec.get("resourceAttributes")
        if ra:
            res = ra.get("resource", "") + (f"/{ra['subresource']}" if ra.get("subresource") else "")
            allowed = auth.allowed(
                user,
                ra.get("verb", ""),
                ra.get("group", ""),
                res,
                ra.get("namespace") or None,
                ra.get("name") or None,
            )
        else:
            allowed = auth.is_admin(user) or (spec.get("nonResourceAttributes") or {}).get("verb") == "get"
        status = {"allowed": allowed}
        if allowed and not auth.is_admin(user):
            status["reason"] = 'RBAC: allowed by RoleBinding "viewer/team-a" of Role "viewer" to User "viewer"'
    h.send_json(
        201,
        {
            "kind": rtype.kind,
            "apiVersion": rtype.api_version,
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        },
    )


# Every user may ask what they may do, so no RBAC check; the route owns every URL under a review resource.
ROUTES = [ResourceRoute(review, accepts=lambda rt: not stores_objects(rt), sub=ANY_SUB, authorize=False)]
