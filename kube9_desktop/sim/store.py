"""The sim's object store: pre-serialized objects, a global resourceVersion, watch fan-out and compaction."""

from __future__ import annotations

import bisect
import collections
import heapq
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from kube9_desktop.sim import tables
from kube9_desktop.sim.resources import RESOURCES, ResourceType

HISTORY_SIZE = 50_000


class Obj:
    """One stored object, immutable once built; every change produces a new ``Obj``.

    Only the JSON bytes are kept (not the dict), which keeps 50,000 pods at a few hundred MB at most; the dict is
    re-parsed on the rare write paths.
    """

    __slots__ = (
        "_meta_end",
        "_meta_start",
        "ages",
        "cells",
        "fields",
        "item",
        "key",
        "labels",
        "name",
        "namespace",
        "rtype",
        "rv",
    )

    def __init__(self, rtype: ResourceType, d: dict[str, Any]) -> None:
        md = d["metadata"]
        self.rtype = rtype
        self.name: str = md["name"]
        self.namespace: str | None = md.get("namespace") if rtype.namespaced else None
        self.key = f"{self.namespace}/{self.name}" if self.namespace else self.name
        self.rv = int(md.get("resourceVersion") or 0)
        self.labels: dict[str, str] = md.get("labels") or {}
        spec: dict[str, Any] = d.get("spec") or {}
        status: dict[str, Any] = d.get("status") or {}
        self.fields = {"metadata.name": self.name, "metadata.namespace": self.namespace or ""}
        kind = rtype.kind
        if kind == "Pod":
            self.fields["spec.nodeName"] = spec.get("nodeName", "")
            self.fields["status.phase"] = status.get("phase", "")
            self.fields["spec.restartPolicy"] = spec.get("restartPolicy", "")
            self.fields["spec.schedulerName"] = spec.get("schedulerName", "")
            self.fields["status.podIP"] = status.get("podIP", "")
        elif kind == "Event":
            inv = d.get("involvedObject") or {}
            for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
                self.fields[f"involvedObject.{f}"] = str(inv.get(f, ""))
            self.fields["reason"] = d.get("reason", "")
            self.fields["source"] = (d.get("source") or {}).get("component", "")
            self.fields["type"] = d.get("type", "")
        elif kind == "Secret":
            self.fields["type"] = d.get("type", "")
        elif kind == "Namespace":
            self.fields["status.phase"] = status.get("phase", "")
        elif kind == "Node":
            self.fields["spec.unschedulable"] = "true" if spec.get("unschedulable") else "false"
        elif kind == "ReplicaSet":
            self.fields["status.replicas"] = str(status.get("replicas", 0))
        elif kind == "Job":
            self.fields["status.successful"] = str(status.get("succeeded", 0))
        meta = orjson.dumps(md)
        rest = {k: v for k, v in d.items() if k not in ("metadata", "kind", "apiVersion")}
        # Custom resources are stored as unstructured JSON, so even list items carry apiVersion/kind.
        head = self._head() if rtype.custom else b"{"
        head += b'"metadata":'
        # Only the concatenation is kept: orjson's own result buffers carry ~4 KiB of slack each, which
        # made the metadata copy alone cost ~250 MB at 50,000 pods. The metadata is sliced out on demand.
        self.item = head + meta + (b"," + orjson.dumps(rest)[1:] if rest else b"}")
        self._meta_start = len(head)
        self._meta_end = len(head) + len(meta)
        self.cells, self.ages = tables.cells(rtype.kind, d)

    @property
    def meta(self) -> bytes:
        """The ``metadata`` JSON."""
        return self.item[self._meta_start : self._meta_end]

    def full(self) -> bytes:
        """The object as GET and watch return it (with kind and apiVersion)."""
        if self.rtype.custom:
            return self.item
        return self._head() + self.item[1:]

    def _head(self) -> bytes:
        if self.rtype.custom:
            return f'{{"apiVersion":"{self.rtype.api_version}","kind":"{self.rtype.kind}",'.encode()
        return f'{{"kind":"{self.rtype.kind}","apiVersion":"{self.rtype.api_version}",'.encode()

    def partial(self) -> bytes:
        """The object as a ``PartialObjectMetadata``."""
        return b'{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":' + self.meta + b"}"

    def to_dict(self) -> dict[str, Any]:
        """A fresh mutable copy of the object (without kind/apiVersion)."""
        d: dict[str, Any] = orjson.loads(self.item)
        return d


@dataclass
class Collection:
    """All objects of one resource type, with their keys kept sorted like etcd's key order."""

    objects: dict[str, Obj] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)


@dataclass
class Event:
    """A watch event."""

    type: str
    obj: Obj
    #: The object as it was before this event (None for ADDED); lets paginated lists rewind to a snapshot.
    prev: Obj | None = None


Matcher = Callable[[Obj], bool]


class Watcher:
    """A live watch: receives matching events through ``queue`` (None means "closed by the server")."""

    def __init__(self, rtype: ResourceType, namespace: str | None, match: Matcher | None) -> None:
        self.rtype = rtype
        self.namespace = namespace
        self.match = match
        self.queue: queue.SimpleQueue[Event | tuple[str, int] | None] = queue.SimpleQueue()

    def wants(self, obj: Obj) -> bool:
        """Whether ``obj`` belongs to this watch."""
        return (self.namespace is None or obj.namespace == self.namespace) and (self.match is None or self.match(obj))


class TooOld(Exception):
    """The requested resourceVersion has been compacted away."""

    def __init__(self, rv: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {rv} ({oldest})")
        self.rv = rv
        self.oldest = oldest


class Store:
    """Thread-safe object store with a global, monotonically increasing resourceVersion."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rv = 0
        self.compact_rev = 0
        self.collections: dict[str, Collection] = {r.name: Collection() for r in RESOURCES}
        self.history: collections.deque[tuple[int, Event]] = collections.deque()
        # Watch resourceVersions below this can no longer be replayed from history.
        self.history_floor = 0
        self.watchers: set[Watcher] = set()

    # -- loading ---------------------------------------------------------------------------------------------
    def next_rv(self) -> int:
        """Allocates the next resourceVersion (call under ``lock``)."""
        self.rv += 1
        return self.rv

    def load(self, rtype: ResourceType, d: dict[str, Any]) -> Obj:
        """Adds an object at start-up (no watch event); keys are sorted once by :meth:`finish_load`."""
        d["metadata"]["resourceVersion"] = str(self.next_rv())
        obj = Obj(rtype, d)
        self.collections[rtype.name].objects[obj.key] = obj
        return obj

    def finish_load(self) -> None:
        """Sorts keys and sets the compaction revision to "now", like a freshly compacted etcd."""
        for c in self.collections.values():
            c.keys = sorted(c.objects)
        self.compact_rev = self.rv
        self.history_floor = self.rv

    # -- reads -----------------------------------------------------------------------------------------------
    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> Obj | None:
        """One object or None."""
        key = f"{namespace}/{name}" if rtype.namespaced else name
        return self.collections[rtype.name].objects.get(key)

    def count(self, rtype: ResourceType) -> int:
        """Number of objects of a type."""
        return len(self.collections[rtype.name].keys)

    def oldest_rv(self) -> int:
        """The oldest resourceVersion lists and watches can still be served from."""
        return max(self.compact_rev, self.history_floor)

    def _changes_since(self, rtype: ResourceType, rv: int) -> dict[str, Obj | None]:
        """Key → state at ``rv`` (None: did not exist) for every object of ``rtype`` changed after ``rv``."""
        changes: dict[str, Obj | None] = {}
        for ev_rv, ev in reversed(self.history):
            if ev_rv <= rv:
                break
            if ev.obj.rtype is rtype:
                # Walking newest to oldest, the last write wins: the state before the earliest change.
                changes[ev.obj.key] = ev.prev
        return changes

    def scan(
        self,
        rtype: ResourceType,
        namespace: str | None,
        start_key: str,
        match: Matcher | None,
        limit: int,
        at_rv: int | None = None,
    ) -> tuple[list[Obj], str | None, int | None, int]:
        """A page of a list in key order.

        Args:
            rtype: Resource type.
            namespace: Restrict to one namespace (None: all).
            start_key: Full key to start at (inclusive); "" for the beginning.
            match: Optional selector predicate.
            limit: Page size; 0 means unlimited.
            at_rv: Serve the list as of this resourceVersion (continued pages), rewinding later changes from the
                watch history like etcd serves a paginated list from one snapshot. None: current state.

        Returns:
            (items, last key when more items follow else None, remaining count when known, resourceVersion).
        """
        with self.lock:
            col = self.collections[rtype.name]
            keys = col.keys
            lo_key, hi_key = "", None
            if namespace is not None and rtype.namespaced:
                lo_key, hi_key = namespace + "/", namespace + "0"  # "0" is the character after "/"
            lo = bisect.bisect_left(keys, max(lo_key, start_key))
            hi = bisect.bisect_left(keys, hi_key) if hi_key is not None else len(keys)
            objs = col.objects
            rv = self.rv
            changes: dict[str, Obj | None] = {}
            if at_rv is not None and at_rv < self.rv:
                changes = self._changes_since(rtype, at_rv)
                rv = at_rv
            if changes:
                return self._scan_snapshot(col, lo, hi, max(lo_key, start_key), hi_key, changes, match, limit, rv)
            items: list[Obj] = []
            i = lo
            if match is None:
                end = hi if limit <= 0 else min(hi, lo + limit)
                items = [objs[k] for k in keys[lo:end]]
                i = end
            else:
                while i < hi:
                    o = objs[keys[i]]
                    i += 1
                    if match(o):
                        items.append(o)
                        if 0 < limit <= len(items):
                            break
            more = i < hi
            if more and match is not None:
                # Only promise a continue token if something actually matches further on.
                more = any(match(objs[k]) for k in keys[i:hi])
            remaining = (hi - i) if (more and match is None) else None
            last = items[-1].key if (more and items) else None
            return items, last, remaining, rv

    @staticmethod
    def _scan_snapshot(
        col: Collection,
        lo: int,
        hi: int,
        start: str,
        hi_key: str | None,
        changes: dict[str, Obj | None],
        match: Matcher | None,
        limit: int,
        rv: int,
    ) -> tuple[list[Obj], str | None, int | None, int]:
        """The slow path of :meth:`scan`: current keys merged with objects deleted since the snapshot."""
        objs = col.objects
        gone = sorted(
            k
            for k, o in changes.items()
            if o is not None and k not in objs and k >= start and (hi_key is None or k < hi_key)
        )
        current = (col.keys[i] for i in range(lo, hi))
        items: list[Obj] = []
        rest = 0
        for key in heapq.merge(current, gone):
            o = changes[key] if key in changes else objs[key]
            if o is None or (match is not None and not match(o)):
                continue
            if 0 < limit <= len(items):
                rest += 1
                if match is not None:
                    break  # with a selector the count is not reported, one more match is enough
                continue
            items.append(o)
        last = items[-1].key if rest else None
        return items, last, (rest if rest and match is None else None), rv

    # -- writes ----------------------------------------------------------------------------------------------
    def _publish(self, ev: Event) -> None:
        self.history.append((ev.obj.rv, ev))
        if len(self.history) > HISTORY_SIZE:
            rv, _ = self.history.popleft()
            self.history_floor = rv
        for w in list(self.watchers):
            if w.rtype is ev.obj.rtype and w.wants(ev.obj):
                w.queue.put(ev)

    def put(self, rtype: ResourceType, d: dict[str, Any]) -> Obj:
        """Creates or replaces an object, bumping its resourceVersion and notifying watchers."""
        with self.lock:
            d["metadata"]["resourceVersion"] = str(self.next_rv())
            obj = Obj(rtype, d)
            col = self.collections[rtype.name]
            prev = col.objects.get(obj.key)
            existed = prev is not None
            col.objects[obj.key] = obj
            if not existed:
                bisect.insort(col.keys, obj.key)
            self._publish(Event("MODIFIED" if existed else "ADDED", obj, prev))
            return obj

    def delete(
        self, rtype: ResourceType, namespace: str | None, name: str, final: dict[str, Any] | None = None
    ) -> Obj | None:
        """Removes an object; the DELETED event carries a fresh resourceVersion like kube-apiserver's.

        Args:
            final: The object as the DELETED event shows it (e.g. with ``deletionTimestamp``); default: as stored.
        """
        with self.lock:
            col = self.collections[rtype.name]
            key = f"{namespace}/{name}" if rtype.namespaced else name
            old = col.objects.pop(key, None)
            if old is None:
                return None
            idx = bisect.bisect_left(col.keys, key)
            if idx < len(col.keys) and col.keys[idx] == key:
                del col.keys[idx]
            d = final if final is not None else old.to_dict()
            d["metadata"]["resourceVersion"] = str(self.next_rv())
            gone = Obj(rtype, d)
            self._publish(Event("DELETED", gone, old))
            return gone

    # -- watch -----------------------------------------------------------------------------------------------
    def watch(
        self, rtype: ResourceType, namespace: str | None, match: Matcher | None, since: int | None
    ) -> tuple[Watcher, list[Event]]:
        """Registers a watcher.

        Args:
            rtype: Resource type.
            namespace: Namespace filter or None.
            match: Selector predicate.
            since: Replay events after this resourceVersion; None means "synthetic ADDED for current state".

        Returns:
            The watcher and the initial events to send before live ones.

        Raises:
            TooOld: ``since`` is older than the compaction revision or the retained history.
        """
        w = Watcher(rtype, namespace, match)
        with self.lock:
            if since is None:
                items, _, _, _ = self.scan(rtype, namespace, "", match, 0)
                initial = [Event("ADDED", o) for o in items]
            else:
                oldest = self.oldest_rv()
                if since < oldest:
                    raise TooOld(since, oldest)
                initial = [ev for rv, ev in self.history if rv > since and ev.obj.rtype is rtype and w.wants(ev.obj)]
            self.watchers.add(w)
        return w, initial

    def unwatch(self, w: Watcher) -> None:
        """Removes a watcher."""
        with self.lock:
            self.watchers.discard(w)

    def compact(self) -> int:
        """Compacts at the current revision and ends every open watch with a 410 ERROR."""
        with self.lock:
            self.compact_rev = self.rv
            self.history.clear()
            self.history_floor = self.rv
            for w in self.watchers:
                w.queue.put(("expired", self.rv))
            self.watchers.clear()
            return self.rv

    def close_watchers(self) -> None:
        """Ends every open watch stream (server shutdown / dropped connections)."""
        with self.lock:
            for w in self.watchers:
                w.queue.put(None)
            self.watchers.clear()
