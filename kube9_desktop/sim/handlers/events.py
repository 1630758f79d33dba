"""``events.k8s.io/v1`` events: a view of the core ``v1`` Events in the store, converted as kube-apiserver does.

Both APIs serve the same objects (the recorder writes core Events), so a client of either sees every event. Tables
are the core ones (same columns); JSON lists, gets and watches convert each object with
:func:`~kube9_desktop.sim.events.to_events_v1` and take ``regarding.*`` field selectors.
"""

from __future__ import annotations

import dataclasses

import orjson

from kube9_desktop.sim.events import EVENTS, core_field_selector, to_events_v1
from kube9_desktop.sim.handlers import read, watch
from kube9_desktop.sim.handlers.base import ResourceRequest, ResourceRoute, obj_not_found, table_version
from kube9_desktop.sim.resources import ResourceType
from kube9_desktop.sim.selectors import SelectorError, combine, parse_field_selector, parse_label_selector
from kube9_desktop.sim.store import Obj


def _is_v1(rtype: ResourceType) -> bool:
    return rtype.group == "events.k8s.io"


def _as_core(req: ResourceRequest) -> ResourceRequest:
    query = dict(req.query)
    if query.get("fieldSelector"):
        query["fieldSelector"] = core_field_selector(query["fieldSelector"])
    return dataclasses.replace(req, rtype=EVENTS, query=query)


def _v1(obj: Obj) -> bytes:
    return orjson.dumps(to_events_v1(obj.to_dict()))


def serve(req: ResourceRequest) -> None:
    """List, get or watch ``events.k8s.io/v1`` events."""
    core = _as_core(req)
    table_v, _ = table_version(req.conn.headers.get("Accept", ""))
    if table_v:  # the same rows as core events
        (watch.watch if req.watch else read.get_object if req.name else read.list_objects)(core)
        return
    h, store = req.conn, req.sim.store
    if req.name and not req.watch:
        obj = store.get(EVENTS, req.namespace, req.name)
        if obj is None:
            obj_not_found(req, req.rtype, req.name)
        else:
            h.send_bytes(200, _v1(obj))
        return
    try:
        match = combine(parse_label_selector(core.query.get("labelSelector", "")),
                        parse_field_selector(core.query.get("fieldSelector", ""), "Event"),
                        (lambda o: o.name == req.name) if req.name else None)
    except SelectorError as e:
        h.send_status(400, str(e).replace("involvedObject.", "regarding."))
        return
    if not req.watch:
        items, _, _, rv = store.scan(EVENTS, req.namespace, "", match, 0)
        meta = {"selfLink": req.rtype.self_link(req.namespace), "resourceVersion": str(rv)}
        head = {"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": meta}
        h.send_bytes(200, orjson.dumps(head)[:-1] + b',"items":[' + b",".join(_v1(o) for o in items) + b"]}")
        return
    _watch(req, match)


def _watch(req: ResourceRequest, match: object) -> None:
    rv_param = req.query.get("resourceVersion", "")
    since = int(rv_param) if rv_param.isdigit() and rv_param != "0" else None
    deadline = watch.watch_deadline(req.query)
    watch.stream_watch(req, EVENTS, match, since, deadline,  # type: ignore[arg-type]
                       lambda ev_type, obj: b'{"type":"' + ev_type.encode() + b'","object":' + _v1(obj) + b"}\n")

ROUTES = [ResourceRoute(serve, frozenset({"GET", "HEAD"}), accepts=_is_v1)]
