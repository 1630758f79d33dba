"""Reads: list (selectors, pagination with consistent continue tokens) and get, as JSON, Table or metadata."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson

from kube9_desktop.sim import tables
from kube9_desktop.sim.handlers.base import ResourceRequest, ResourceRoute, obj_not_found, stores_objects, table_version
from kube9_desktop.sim.selectors import SelectorError, combine, parse_field_selector, parse_label_selector
from kube9_desktop.sim.store import Obj

EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)
# kube-apiserver's wording when it cannot offer a fresh token (etcd3 store: continueExpired).
EXPIRED_CONTINUE_NO_TOKEN = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter."
)


def encode_continue(rv: int, start: str) -> str:
    """An opaque continue token shaped like kube-apiserver's (base64url JSON, no padding)."""
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_continue(token: str) -> tuple[int, str]:
    """Returns (rv, start key without the trailing NUL); raises ValueError when the token is not ours."""
    data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    if not isinstance(data, dict) or data.get("v") != "meta.k8s.io/v1" or not isinstance(data.get("rv"), int):
        raise ValueError("bad continue token")
    start = str(data.get("start", ""))
    if not start.endswith("\x00"):
        raise ValueError("bad continue token")
    return data["rv"], start[:-1]


def _go_escape(data: bytes) -> bytes:
    """Escapes <, > and & like Go's encoding/json (cells hold "<none>"), for byte-faithful Table rows."""
    if b"<" in data or b">" in data or b"&" in data:
        data = data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return data


def rows(objs: list[Obj], include: str) -> bytes:
    """The ``rows`` array of a Table (``includeObject=None|Metadata|Object``)."""
    now = time.time()
    out = []
    for o in objs:
        if include == "None":
            obj_part = b"null"
        elif include == "Object":
            obj_part = o.full()
        else:
            obj_part = o.partial()
        out.append(
            b'{"cells":'
            + _go_escape(orjson.dumps(tables.render_cells(o.cells, o.ages, now)))
            + b',"object":'
            + obj_part
            + b"}"
        )
    return b"[" + b",".join(out) + b"]"


def table_of_one(obj: Obj, table_v: str, include: str, with_columns: bool) -> bytes:
    """A Table holding one object (a get, or one watch event; watches send the columns only once)."""
    meta = {"selfLink": obj.rtype.self_link(obj.namespace, obj.name), "resourceVersion": str(obj.rv)}
    cols = orjson.dumps(tables.columns(obj.rtype.kind)) if with_columns else b"null"
    return (
        b'{"kind":"Table","apiVersion":"'
        + table_v.encode()
        + b'","metadata":'
        + orjson.dumps(meta)
        + b',"columnDefinitions":'
        + cols
        + b',"rows":'
        + rows([obj], include)
        + b"}"
    )


def list_objects(req: ResourceRequest) -> None:
    """Lists with selectors, pagination, Table and PartialObjectMetadataList output."""
    h, store, rtype, namespace, query = req.conn, req.sim.store, req.rtype, req.namespace, req.query
    try:
        match = combine(
            parse_label_selector(query.get("labelSelector", "")),
            parse_field_selector(query.get("fieldSelector", ""), rtype.kind),
        )
    except SelectorError as e:
        h.send_status(400, str(e))
        return
    try:
        limit = int(query.get("limit") or 0)
    except ValueError:
        limit = 0
    start = ""
    tok_rv = -1
    token = query.get("continue", "")
    if token:
        try:
            tok_rv, start = decode_continue(token)
        except (ValueError, orjson.JSONDecodeError):
            h.send_status(400, "continue key is not valid: illegal base64 data", reason="BadRequest")
            return
        if 0 <= tok_rv < store.oldest_rv():
            if req.sim.offer_continue_token:
                h.send_status(410, EXPIRED_CONTINUE, metadata={"continue": encode_continue(-1, start)})
            else:
                h.send_status(410, EXPIRED_CONTINUE_NO_TOKEN)
            return
        if namespace is not None and rtype.namespaced:
            start = f"{namespace}/{start}"
        start += "\x00"
    rv_param = query.get("resourceVersion", "")
    if (
        rv_param
        and query.get("resourceVersionMatch") == "Exact"
        and rv_param.isdigit()
        and int(rv_param) < store.compact_rev
    ):
        h.send_status(410, "The resourceVersion for the provided list is too old.")
        return
    # Later pages are served from the first page's revision (a snapshot), as etcd does.
    at_rv = tok_rv if token and tok_rv >= 0 else None
    items, last, remaining, rv = store.scan(rtype, namespace, start, match, limit, at_rv)
    table_v, partial = table_version(h.headers.get("Accept", ""))
    meta: dict[str, Any] = {"selfLink": rtype.self_link(namespace), "resourceVersion": str(rv)}
    if last is not None:
        rel = last.split("/", 1)[1] if (namespace is not None and rtype.namespaced) else last
        meta["continue"] = encode_continue(rv, rel)
        if remaining is not None and not partial:
            meta["remainingItemCount"] = remaining
    if table_v and not partial:
        include = query.get("includeObject", "Metadata")
        body = (
            b'{"kind":"Table","apiVersion":"'
            + table_v.encode()
            + b'","metadata":'
            + orjson.dumps(meta)
            + b',"columnDefinitions":'
            + orjson.dumps(tables.columns(rtype.kind))
            + b',"rows":'
            + rows(items, include)
            + b"}"
        )
    elif table_v:
        body = (
            b'{"kind":"PartialObjectMetadataList","apiVersion":"'
            + table_v.encode()
            + b'","metadata":'
            + orjson.dumps(meta)
            + b',"items":['
            + b",".join(o.partial() for o in items)
            + b"]}"
        )
    else:
        head = {"kind": rtype.list_kind, "apiVersion": rtype.api_version, "metadata": meta}
        body = orjson.dumps(head)[:-1] + b',"items":[' + b",".join(o.item for o in items) + b"]}"
    h.send_bytes(200, body)


def get_object(req: ResourceRequest) -> None:
    """GET of one object (JSON, Table or PartialObjectMetadata)."""
    h, name = req.conn, req.name or ""
    obj = req.sim.store.get(req.rtype, req.namespace, name)
    if obj is None:
        obj_not_found(req, req.rtype, name)
        return
    table_v, partial = table_version(h.headers.get("Accept", ""))
    if table_v and partial:
        body = obj.partial()
        if table_v.endswith("v1beta1"):
            body = body.replace(b'"meta.k8s.io/v1"', b'"meta.k8s.io/v1beta1"', 1)
        h.send_bytes(200, body)
    elif table_v:
        h.send_bytes(200, table_of_one(obj, table_v, req.query.get("includeObject", "Metadata"), True))
    else:
        h.send_bytes(200, obj.full())


_GET = frozenset({"GET", "HEAD"})
ROUTES = [
    ResourceRoute(list_objects, _GET, accepts=stores_objects, named=False, watch=False),
    ResourceRoute(get_object, _GET, accepts=stores_objects, named=True, watch=False),
]
