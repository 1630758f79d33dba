"""Events (Qt-free): listed and watched straight from the server, never cached, as rows newest first.

``events.k8s.io/v1`` is asked first and core ``v1`` events are the fallback for servers without it (what kubectl
does); both are read into one :class:`EventRow` shape. An :class:`EventFeed` lists, then watches from the list's
``resourceVersion`` in a thread of its own, re-listing after a 410, and hands the consumer upserts and deletions.
Its watches are the list watches' (:class:`~kube9_desktop.kube.backend.WatchDeadline`: bookmarks, a short
``timeoutSeconds``, silence past it is a dropped watch): a silent one is reported paused and re-listed.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from kube9_desktop.kube.backend import WatchDeadline
from kube9_desktop.kube.errors import WATCH_SILENT, ErrorKind, KubeError
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.status_errors import RequestInfo
from kube9_desktop.kube.stream_reader import StreamReader

if TYPE_CHECKING:
    from kube9_desktop.kube.client import ContextClient

#: (group/version path prefix, field prefix for the involved object) in the order tried.
_APIS = (("/apis/events.k8s.io/v1", "regarding"), ("/api/v1", "involvedObject"))


@dataclass(frozen=True)
class EventQuery:
    """Which events: a namespace's (None: every namespace), optionally only those about one object.

    Attributes:
        namespace: The namespace, or None for the whole cluster.
        object_kind: The involved object's kind (``Pod``), "" for every event.
        object_name: The involved object's name.
        object_uid: Its uid (the field selector used when known).
        field_path: Only events about this part of the object (``spec.containers{main}``: one container of a pod,
            as the kubelet records them), "" for all.
    """

    namespace: str | None = None
    object_kind: str = ""
    object_name: str = ""
    object_uid: str = ""
    field_path: str = ""

    @classmethod
    def for_target(cls, kind_key: str, namespace: str | None, name: str) -> EventQuery:
        """Events of a namespace (``namespaces/NAME``) or about one object."""
        if kind_key == "namespaces":
            return cls(namespace=name)
        from kube9_desktop.kube.kinds import KINDS

        kind = KINDS[kind_key].kind if kind_key in KINDS else kind_key
        return cls(namespace=namespace, object_kind=kind, object_name=name)

    def with_uid(self, uid: str) -> EventQuery:
        """The same query narrowed to the object's uid."""
        return replace(self, object_uid=uid)

    def field_selector(self, prefix: str) -> str:
        """The ``fieldSelector`` for the API whose object field is ``prefix`` (``regarding``/``involvedObject``)."""
        part = f",{prefix}.fieldPath={self.field_path}" if self.field_path else ""
        if self.object_uid:
            return f"{prefix}.uid={self.object_uid}{part}"
        if self.object_name:
            return f"{prefix}.kind={self.object_kind},{prefix}.name={self.object_name}{part}"
        return ""


@dataclass(frozen=True)
class EventRow:
    """One event as the views show it.

    Attributes:
        uid: The Event object's uid (row identity).
        name: The Event object's name.
        namespace: Its namespace.
        last_seen: Unix seconds of the last occurrence (0 if unknown).
        type: ``Normal`` or ``Warning``.
        reason: ``BackOff``, ``Scheduled`` ...
        object_kind: The involved object's kind.
        object_name: Its name.
        object_namespace: Its namespace.
        object_uid: Its uid.
        message: The message.
        count: How many times it happened.
    """

    uid: str
    name: str
    namespace: str
    last_seen: float
    type: str
    reason: str
    object_kind: str
    object_name: str
    object_namespace: str
    object_uid: str
    message: str
    count: int

    @property
    def object(self) -> str:
        """``pod/api-1`` as kubectl prints it."""
        return f"{self.object_kind.lower()}/{self.object_name}"

    @property
    def warning(self) -> bool:
        """Whether it is a Warning."""
        return self.type == "Warning"


def _secs(text: Any) -> float:
    if not text or not isinstance(text, str):
        return 0.0
    base = text[:19]
    try:
        secs = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0
    frac = text[20:].rstrip("Z").split("+")[0] if len(text) > 20 and text[19] == "." else ""
    return secs + (float("0." + frac) if frac.isdigit() else 0.0)


#: The fields the two Event APIs name differently: (the object, the last timestamp, the count, the text).
_V1_FIELDS = ("regarding", "deprecatedLastTimestamp", "deprecatedCount", "note")
_CORE_FIELDS = ("involvedObject", "lastTimestamp", "count", "message")


def event_row(ev: dict[str, Any]) -> EventRow:
    """A core ``v1`` or ``events.k8s.io/v1`` Event as a row (kubectl's Last Seen rule: the newest timestamp)."""
    md = ev.get("metadata") or {}
    v1 = "regarding" in ev or "note" in ev or str(ev.get("apiVersion", "")).startswith("events.k8s.io")
    regarding, last_timestamp, count_field, text = _V1_FIELDS if v1 else _CORE_FIELDS
    obj = ev.get(regarding) or {}
    series = ev.get("series") or {}
    last = (_secs(series.get("lastObservedTime")) or _secs(ev.get(last_timestamp))
            or _secs(ev.get("eventTime")) or _secs(md.get("creationTimestamp")))
    count = int(series.get("count") or ev.get(count_field) or 1)
    message = ev.get(text) or ""
    return EventRow(
        uid=str(md.get("uid", "")), name=str(md.get("name", "")), namespace=str(md.get("namespace", "")),
        last_seen=last, type=str(ev.get("type", "")), reason=str(ev.get("reason", "")),
        object_kind=str(obj.get("kind", "")), object_name=str(obj.get("name", "")),
        object_namespace=str(obj.get("namespace", "") or md.get("namespace", "")),
        object_uid=str(obj.get("uid", "")), message=" ".join(str(message).split()), count=count,
    )


def event_rows(items: list[dict[str, Any]], now: float | None = None) -> list[EventRow]:
    """Rows newest first (ties by name, for a stable order)."""
    rows = [event_row(e) for e in items]
    rows.sort(key=lambda r: (-r.last_seen, r.name))
    return rows


def age(seconds: float) -> str:
    """kubectl's short age: ``45s``, ``12m``, ``3h``, ``2d``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def format_rows(rows: list[EventRow], now: float | None = None) -> str:
    """Rows as a text table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, COUNT."""
    t = time.time() if now is None else now
    table = [("LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")]
    table += [(age(t - r.last_seen) if r.last_seen else "<unknown>", r.type, r.reason, r.object, str(r.count),
               r.message) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "   " + row[5]
                     for row in table)


def _path(api: str, namespace: str | None) -> str:
    return f"{api}/namespaces/{segment(namespace)}/events" if namespace else f"{api}/events"


def list_events(client: ContextClient, query: EventQuery) -> list[dict[str, Any]]:
    """Every event matching ``query`` (blocking; events.k8s.io/v1, else core v1); raises KubeError."""
    items, _, _ = _list(client, query)
    return items


def _list(client: ContextClient, query: EventQuery) -> tuple[list[dict[str, Any]], str, str]:
    """``(items, resourceVersion, api prefix)``."""
    last: KubeError | None = None
    for api, prefix in _APIS:
        q: list[tuple[str, str]] = []
        sel = query.field_selector(prefix)
        if sel:
            q.append(("fieldSelector", sel))
        info = RequestInfo(verb="list", resource="events", group="events.k8s.io" if "k8s.io" in api else "",
                           version="v1", namespace=query.namespace)
        try:
            data = client.get_json(_path(api, query.namespace), q, info=info)
        except KubeError as err:
            if err.kind is ErrorKind.NOT_FOUND and api != _APIS[-1][0]:
                last = err
                continue  # an older server without events.k8s.io/v1
            raise
        md = data.get("metadata") or {}
        return list(data.get("items") or []), str(md.get("resourceVersion", "")), api
    assert last is not None
    raise last


class EventFeed(StreamReader):
    """Lists and then watches events in a thread; ``on_reset(rows)`` after each (re)list, ``on_change(kind, row)``
    for each watch event (``ADDED``/``MODIFIED``/``DELETED``), ``on_error(text)`` when it gives up, and
    ``on_paused(paused)`` when its watch went silent (True: it re-lists and watches again) and when a watch after
    that delivers again (False).

    Callbacks run in the feed's thread: a Qt consumer re-posts them to the GUI thread.
    """

    def __init__(self, client: ContextClient, query: EventQuery,
                 on_reset: Callable[[list[EventRow]], None],
                 on_change: Callable[[str, EventRow], None],
                 on_error: Callable[[str], None],
                 on_paused: Callable[[bool], None] | None = None) -> None:
        super().__init__("kube9-events")
        self.client = client
        self.query = query
        self._on_reset = on_reset
        self._on_change = on_change
        self._on_error = on_error
        self._on_paused = on_paused
        self.paused = False
        #: Watches that went silent (connection open, nothing arriving) and were dropped.
        self.silences = 0

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            try:
                items, rv, api = _list(self.client, self.query)
            except KubeError as err:
                failures += 1
                if not self._backed_off(err, failures):
                    return
                continue
            self._on_reset(event_rows(items))
            try:
                self._watch(api, rv)
                failures = 0
            except KubeError as err:
                if err.reason == WATCH_SILENT:
                    # Not a failure to back off from: the silence took its deadline already. Re-list now; the
                    # note stays until a new watch delivers something.
                    self.silences += 1
                    self._pause(True)
                    continue
                if err.kind is not ErrorKind.GONE:
                    failures += 1
                    if not self._backed_off(err, failures):
                        return

    def _pause(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            if self._on_paused is not None and not self._closed.is_set():
                self._on_paused(paused)

    def _backed_off(self, err: KubeError, failures: int) -> bool:
        """After ``err``, the ``failures``-th failure in a row: waits before another try and returns True, or gives
        up (tells ``on_error`` unless closed) and returns False when ``err`` is final or too many came."""
        if not err.retriable or failures > 5:
            if not self._closed.is_set():
                self._on_error(err.message)
            return False
        self._closed.wait(min(2.0 ** failures, 30.0))
        return True

    def _watch(self, api: str, rv: str) -> None:
        """Watch until the server ends the stream (then re-list), raising KubeError on failure.

        Raises:
            KubeError: ``GONE`` for a lost position (re-list), ``WATCH_SILENT`` for a stream that stopped
                delivering with its connection open (re-list), any other request failure.
        """
        prefix = dict(_APIS)[api]
        deadline = WatchDeadline.of(self.client.options)
        q = [("watch", "true"), ("resourceVersion", rv), *deadline.query()]
        sel = self.query.field_selector(prefix)
        if sel:
            q.append(("fieldSelector", sel))
        while not self._closed.is_set():
            started = time.monotonic()
            stream = self.client.stream(_path(api, self.query.namespace), q, timeout=deadline.silence)
            with self._reading(stream):
                if self._closed.is_set():
                    return
                try:
                    for raw in stream.iter_lines():
                        if self._closed.is_set():
                            return
                        if not raw.strip():
                            continue
                        self._pause(False)  # anything at all, a bookmark too: this watch delivers
                        rv = self._event(raw, rv)
                except KubeError as err:
                    # The stream was open: a read timing out now is the server sending nothing past its deadline.
                    if err.kind is ErrorKind.TIMEOUT and not self._closed.is_set():
                        where = f" in namespace {self.query.namespace}" if self.query.namespace else ""
                        raise deadline.silent_error(f"events{where}", self.client.context) from None
                    raise
            # Ending the stream when its timeoutSeconds asked is delivering too (a silent watch never ends; a short
            # watch gets no bookmark in its last 2 s) - not ending it at once without a word.
            if time.monotonic() - started >= 1.0:
                self._pause(False)
            q = [(k, rv if k == "resourceVersion" else v) for k, v in q]

    def _event(self, raw: bytes, rv: str) -> str:
        """Hand one watch line to the consumer; returns the position after it."""
        ev = orjson.loads(raw)
        typ, obj = ev.get("type"), ev.get("object") or {}
        if typ == "ERROR":
            code = int(obj.get("code") or 0)
            raise KubeError(ErrorKind.GONE if code == 410 else ErrorKind.SERVER, "Watch ended",
                            str(obj.get("message", "")), status=code)
        if typ in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
        if typ in ("ADDED", "MODIFIED", "DELETED"):
            self._on_change(typ, event_row(obj))
        return rv
