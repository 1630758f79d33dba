"""``pods/{name}/log``: container logs as kube-apiserver serves them (plain text, optionally followed), and the
``/simz/logs`` admin endpoint (rates, kubelets that do not answer).

What the log holds and every refusal's wording live in :mod:`kube9_desktop.sim.logs`; this module only frames the
answer (one body, or chunks while following) and stops a follow when the client leaves or the sim stops.
"""

from __future__ import annotations

from typing import Any

from kube9_desktop.sim.handlers.base import ALL_METHODS, Request, ResourceRequest, ResourceRoute, obj_not_found
from kube9_desktop.sim.logs import LogError, read_log


def log(req: ResourceRequest) -> None:
    """Plain-text container log honouring container, previous, timestamps, sinceSeconds/sinceTime, tailLines,
    limitBytes and follow."""
    h, store, rtype, namespace, name = req.conn, req.sim.store, req.rtype, req.namespace, req.name or ""

    def get_pod() -> dict[str, Any] | None:
        obj = store.get(rtype, namespace, name)
        return None if obj is None else obj.to_dict()

    def stopping(seconds: float) -> bool:
        return req.sim.stopping.wait(seconds) or h.client_gone()

    chunks = read_log(req.sim.logbook, get_pod, req.query, stopping)
    try:
        first = next(chunks, None)
    except LogError as e:
        if e.status == 404:
            obj_not_found(req, rtype, name)
        else:
            h.send_status(e.status, e.message, reason=e.reason)
        return
    if req.query.get("follow", "").lower() not in ("true", "1"):
        h.send_bytes(200, first or b"", "text/plain")
        return
    h.start_response(200, "text/plain", extra={"Transfer-Encoding": "chunked"})
    try:
        if first:
            h.send_chunk(first)
        for chunk in chunks:
            h.send_chunk(chunk)
        h.end_chunks()
    except OSError:
        h.close_connection = True


def admin(req: Request, data: Any) -> None:
    """``/simz/logs``: POST ``{"rate": N}`` (every pod), ``{"namespace", "pod", "rate"}`` (one pod) and/or
    ``{"down_nodes": [...]}`` (kubelets that do not answer); any method reads the state."""
    book = req.sim.logbook
    if req.method == "POST":
        try:
            if "rate" in data:
                uid = None
                if data.get("pod"):
                    pods = [o for o in req.sim.store.collections["pods"].objects.values()
                            if o.name == data["pod"] and o.namespace == data.get("namespace", o.namespace)]
                    if not pods:
                        req.conn.send_status(404, f'pods "{data["pod"]}" not found', reason="NotFound")
                        return
                    uid = str(pods[0].to_dict()["metadata"].get("uid", ""))
                book.set_rate(uid, float(data["rate"]))
            if "down_nodes" in data:
                book.down_nodes = {str(n) for n in data["down_nodes"]}
        except (TypeError, ValueError) as e:
            req.conn.send_status(400, f"bad logs request: {e}")
            return
    req.conn.send_json(200, {"down_nodes": sorted(book.down_nodes)})


ROUTES = [ResourceRoute(log, ALL_METHODS, resources=frozenset({"pods"}), sub="log")]
