"""Watches: chunked JSON event lines with bookmarks, timeouts and 410 for compacted revisions."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Mapping

import orjson

from kube9_desktop.sim.handlers.base import ResourceRequest, ResourceRoute, status_body, stores_objects, table_version
from kube9_desktop.sim.handlers.read import table_of_one
from kube9_desktop.sim.resources import ResourceType
from kube9_desktop.sim.selectors import (
    Predicate,
    SelectorError,
    combine,
    parse_field_selector,
    parse_label_selector,
)
from kube9_desktop.sim.store import Event, Obj, TooOld

BOOKMARK_INTERVAL = 1.0
#: kube-apiserver's cacher sends a watch with a deadline its last bookmark this long before the deadline, and none
#: after that point (``cacheWatcher.nextBookmarkTime``): a watch asked to end within 2 s gets no bookmark at all.
PRE_TIMEOUT_BOOKMARK = 2.0


def next_bookmark(now: float, deadline: float | None) -> float | None:
    """When the next bookmark is due, as kube-apiserver schedules it; ``None``: no more bookmarks on this watch."""
    due = now + BOOKMARK_INTERVAL
    if deadline is None:
        return due
    due = min(due, deadline - PRE_TIMEOUT_BOOKMARK)
    return None if due < now else due


def watch(req: ResourceRequest) -> None:
    """Streams watch events as chunked JSON lines."""
    h, rtype, name, query = req.conn, req.rtype, req.name, req.query
    try:
        match = combine(
            parse_label_selector(query.get("labelSelector", "")),
            parse_field_selector(query.get("fieldSelector", ""), rtype.kind),
            (lambda o: o.name == name) if name else None,
        )
    except SelectorError as e:
        h.send_status(400, str(e))
        return
    rv_param = query.get("resourceVersion", "")
    since = int(rv_param) if rv_param.isdigit() and rv_param != "0" else None
    if rv_param and not rv_param.isdigit():
        h.send_status(400, f'resourceVersion: Invalid value: "{rv_param}": must be an integer')
        return
    table_v, partial = table_version(h.headers.get("Accept", ""))
    include = query.get("includeObject", "Metadata")
    bookmarks = query.get("allowWatchBookmarks", "") in ("1", "true", "True")
    deadline = watch_deadline(query)
    first_table = [True]

    def encode(ev_type: str, obj: Obj) -> bytes:
        if table_v and not partial:
            payload = table_of_one(obj, table_v, include, first_table[0])
            first_table[0] = False
        elif table_v:
            payload = obj.partial()
        else:
            payload = obj.full()
        return b'{"type":"' + ev_type.encode() + b'","object":' + payload + b"}\n"

    stream_watch(req, rtype, match, since, deadline, encode, bookmarks=bookmarks)


def watch_deadline(query: Mapping[str, str]) -> float | None:
    """When a watch asked to end (``timeoutSeconds``), on the monotonic clock; ``None``: never."""
    try:
        timeout = float(query.get("timeoutSeconds") or 0)
    except ValueError:
        timeout = 0
    return time.monotonic() + timeout if timeout > 0 else None


def stream_watch(req: ResourceRequest, rtype: ResourceType, match: Predicate | None, since: int | None,
                 deadline: float | None, encode: Callable[[str, Obj], bytes], *, bookmarks: bool = False) -> None:
    """Answers with a chunked stream of the events of ``rtype`` objects that ``match`` from ``since``, each
    line made by ``encode(type, object)``, until ``deadline``, the client leaves or the sim stops (bookmarks every
    :data:`BOOKMARK_INTERVAL` with ``bookmarks``, scheduled by :func:`next_bookmark`); 410 as an ERROR event when
    ``since`` is too old."""
    h, store = req.conn, req.sim.store
    h.start_response(200, extra={"Transfer-Encoding": "chunked"})
    try:
        try:
            w, initial = store.watch(rtype, req.namespace, match, since)
        except TooOld as e:
            # Like kube-apiserver: a 200 stream holding one ERROR event, then a clean end.
            h.send_chunk(b'{"type":"ERROR","object":' + status_body(410, str(e), "Expired") + b"}\n")
            h.end_chunks()
            return
        try:
            for ev in initial:
                h.send_chunk(encode(ev.type, ev.obj))
            bookmark_at = next_bookmark(time.monotonic(), deadline) if bookmarks else None
            while not req.sim.stopping.is_set():
                wait = 0.5
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                try:
                    item = w.queue.get(timeout=max(wait, 0.01))
                except queue.Empty:
                    # Idle: notice clients that went away, or this thread would live until the next event.
                    if h.client_gone():
                        break
                    item = False  # type: ignore[assignment]
                if item is None:
                    break
                if isinstance(item, tuple):
                    msg = "The resourceVersion for the provided watch is too old."
                    h.send_chunk(b'{"type":"ERROR","object":' + status_body(410, msg, "Expired") + b"}\n")
                    break
                if isinstance(item, Event):
                    h.send_chunk(encode(item.type, item.obj))
                if bookmark_at is not None and time.monotonic() >= bookmark_at:
                    # A bookmark promises "every event up to this resourceVersion has been sent", so it may
                    # only carry the store's revision while nothing is queued for this watcher; read both
                    # under the store lock (events are published under it). Otherwise a client resuming
                    # from the bookmark would skip the events still queued.
                    with store.lock:
                        caught_up_rv = store.rv if w.queue.empty() else None
                    if caught_up_rv is not None:
                        bookmark_at = next_bookmark(time.monotonic(), deadline)
                        bm = {
                            "kind": rtype.kind,
                            "apiVersion": rtype.api_version,
                            "metadata": {"resourceVersion": str(caught_up_rv), "creationTimestamp": None},
                        }
                        h.send_chunk(b'{"type":"BOOKMARK","object":' + orjson.dumps(bm) + b"}\n")
        finally:
            store.unwatch(w)
        h.end_chunks()
    except OSError:
        h.close_connection = True


ROUTES = [ResourceRoute(watch, frozenset({"GET", "HEAD"}), accepts=stores_objects, watch=True)]
