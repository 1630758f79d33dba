"""``pods/{name}/log``: plain-text container logs, optionally followed."""

from __future__ import annotations

import time

from kube9_desktop.sim.handlers.base import ALL_METHODS, ResourceRequest, ResourceRoute, obj_not_found
from kube9_desktop.sim.logs import pod_log


def log(req: ResourceRequest) -> None:
    """Plain-text container log honouring container, tailLines, timestamps, limitBytes and follow."""
    h, store, rtype, namespace, query = req.conn, req.sim.store, req.rtype, req.namespace, req.query
    name = req.name or ""
    obj = store.get(rtype, namespace, name)
    if obj is None:
        obj_not_found(req, rtype, name)
        return
    containers = [c["name"] for c in obj.to_dict()["spec"].get("containers", [])]
    container = query.get("container", "")
    if container and container not in containers:
        h.send_status(400, f"container {container} is not valid for pod {name}", reason="BadRequest")
        return
    tail = query.get("tailLines")
    timestamps = query.get("timestamps") == "true"
    text = pod_log(obj, int(tail) if tail and tail.isdigit() else None, timestamps).encode()
    limit = query.get("limitBytes", "")
    if limit.isdigit():
        text = text[: int(limit)]
    if query.get("follow") not in ("true", "1"):
        h.send_bytes(200, text, "text/plain")
        return
    # follow: stream the backlog, then a new line every second until the client leaves or the pod goes.
    h.start_response(200, "text/plain", extra={"Transfer-Encoding": "chunked"})
    try:
        if text:
            h.send_chunk(text)
        n = 0
        while not req.sim.stopping.wait(1.0):
            if h.client_gone() or store.get(rtype, namespace, name) is None:
                break
            n += 1
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            line = f"{stamp}Z INFO {name} heartbeat seq={n}\n"
            if timestamps:
                line = f"{stamp}.000000000Z {line}"
            h.send_chunk(line.encode())
        h.end_chunks()
    except OSError:
        h.close_connection = True


ROUTES = [ResourceRoute(log, ALL_METHODS, resources=frozenset({"pods"}), sub="log")]
