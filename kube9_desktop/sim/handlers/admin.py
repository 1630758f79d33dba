"""The ``/simz`` admin endpoints for tests and benchmarks (sim-admin token or sim-cert; JSON in and out)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import orjson

from kube9_desktop.sim.faults import Fault
from kube9_desktop.sim.handlers import logs
from kube9_desktop.sim.handlers.base import ALL_METHODS, Access, PathRoute, Request, not_found
from kube9_desktop.sim.resources import BY_PATH

AdminHandler = Callable[[Request, Any], None]
_POST = frozenset({"POST"})


def stats(req: Request, data: Any) -> None:
    """``GET /simz/stats``."""
    sim = req.sim
    with sim.stats_lock:
        req.conn.send_json(
            200,
            {
                "requests": sim.requests,
                "connections": sim.connections,
                "open_connections": len(sim.open_socks),
                "by_path": dict(sim.by_path),
                "resourceVersion": sim.store.rv,
                "pods": sim.store.count(BY_PATH[("", "v1", "pods")]),
                "churn": sim.churner.rate,
            },
        )


def reset(req: Request, data: Any) -> None:
    """``POST /simz/reset``: zero the counters."""
    sim = req.sim
    with sim.stats_lock:
        sim.requests = 0
        sim.connections = 0
        sim.by_path = {}
    req.conn.send_json(200, {"ok": True})


def faults(req: Request, data: Any) -> None:
    """``/simz/faults``: POST replaces, DELETE clears, any other method reads."""
    sim = req.sim
    if req.method == "POST":
        try:
            items = data if isinstance(data, list) else data.get("faults", [data])
            new = [Fault.from_dict(x) for x in items]
        except (KeyError, ValueError, TypeError, re.error) as e:
            req.conn.send_status(400, f"bad fault: {e}")
            return
        with sim.fault_lock:
            sim.faults = new
    elif req.method == "DELETE":
        with sim.fault_lock:
            sim.faults = []
    with sim.fault_lock:
        req.conn.send_json(200, {"faults": [f.to_dict() for f in sim.faults]})


def churn(req: Request, data: Any) -> None:
    """``/simz/churn``: POST sets the rate, any method reads it."""
    if req.method == "POST":
        req.sim.churner.rate = float(data.get("rate", 0))
    req.conn.send_json(200, {"rate": req.sim.churner.rate})


def expired_continue(req: Request, data: Any) -> None:
    """``/simz/expired-continue``: whether a 410 for an expired continue token offers a fresh one."""
    if req.method == "POST":
        offer = data.get("offer_token", True) if isinstance(data, dict) else None
        if not isinstance(offer, bool):
            req.conn.send_status(400, "offer_token must be true or false")
            return
        req.sim.offer_continue_token = offer
    req.conn.send_json(200, {"offer_token": req.sim.offer_continue_token})


def compact(req: Request, data: Any) -> None:
    """``POST /simz/compact``: open watches get a 410 ERROR."""
    req.conn.send_json(200, {"compacted": req.sim.store.compact()})


def drop_connections(req: Request, data: Any) -> None:
    """``POST /simz/drop-connections``: answers, then closes every client connection (this one too)."""
    req.conn.send_json(200, {"ok": True})
    req.conn.wfile.flush()
    req.conn.close_connection = True
    threading.Thread(target=req.sim.drop_connections, daemon=True).start()


def add_token(req: Request, data: Any) -> None:
    """``POST /simz/tokens``."""
    try:
        req.sim.auth.add_token(str(data["token"]), str(data.get("user", "admin")), data.get("ttl_seconds"))
    except (KeyError, ValueError) as e:
        req.conn.send_status(400, f"bad token request: {e}")
        return
    req.conn.send_json(200, {"ok": True})


def revoke(req: Request, data: Any) -> None:
    """``POST /simz/revoke``."""
    req.conn.send_json(200, {"revoked": req.sim.auth.revoke(str(data.get("token", "")))})


def discovery(req: Request, data: Any) -> None:
    """``/simz/discovery``: GET the discovery mode; POST ``{"mode": "classic"|"aggregated"}`` to switch it."""
    if req.method == "POST":
        mode = data.get("mode")
        if mode not in ("classic", "aggregated"):
            req.conn.send_status(400, 'mode must be "classic" or "aggregated"')
            return
        req.sim.discovery = mode
    req.conn.send_json(200, {"mode": req.sim.discovery})


def unknown(req: Request, data: Any) -> None:
    """Any other /simz path or method."""
    not_found(req)


def _route(pattern: str, fn: AdminHandler, methods: frozenset[str] = ALL_METHODS) -> PathRoute:
    def handle(req: Request) -> None:
        # Every /simz body must be JSON (or empty), whatever the endpoint, so a typo'd call fails loudly.
        try:
            data = orjson.loads(req.body) if req.body.strip() else {}
        except orjson.JSONDecodeError:
            req.conn.send_status(400, "request body is not valid JSON")
            return
        fn(req, data)

    handle.__doc__ = fn.__doc__
    return PathRoute(pattern, handle, methods, Access.ADMIN)


ROUTES = [
    _route("/simz/stats", stats, frozenset({"GET"})),
    _route("/simz/reset", reset, _POST),
    _route("/simz/faults", faults),
    _route("/simz/churn", churn),
    _route("/simz/expired-continue", expired_continue),
    _route("/simz/compact", compact, _POST),
    _route("/simz/drop-connections", drop_connections, _POST),
    _route("/simz/tokens", add_token, _POST),
    _route("/simz/revoke", revoke, _POST),
    _route("/simz/logs", logs.admin),
    _route("/simz/discovery", discovery, frozenset({"GET", "POST"})),
    # Last: the whole /simz prefix is admin-only (403 before 404), like the single handler it replaced.
    _route("/simz.*", unknown),
]
