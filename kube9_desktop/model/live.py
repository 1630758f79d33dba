"""Live tree: watch the lists the user has open and update their rows in place (TTL cache + watch hybrid).

A loaded list the user is looking at gets a watch from its list's ``resourceVersion``. Events are coalesced per
node and applied at most every :attr:`LiveUpdates.flush_interval` seconds through
:func:`~kube9_desktop.model.reconcile.apply_changes` (binary search by the list's order, so a
change costs O(log n) even in a 5,000-row list); a re-list after a 410 goes through
:func:`~kube9_desktop.model.reconcile.reconcile`. Either way unchanged rows keep their
:class:`~kube9_desktop.model.nodes.TreeNode` (selection and expansion survive) and only the rows that changed emit
signals. While a watch is healthy its cache entry is marked fresh and kept equal to the rows shown, so
it neither expires nor costs a re-list.

Failure handling:

* 410 Gone (a compacted position, as an ERROR event or a status) → re-list, reconcile, re-watch from the new list.
* A dropped connection or any other failure → reconnect with jittered exponential backoff; the cache entry falls
  back to its TTL at once, and after :attr:`LiveUpdates.pause_after` failures in a row the node shows
  ``live updates paused — retrying``.
* The server ending the stream (``timeoutSeconds``) → re-watch silently from the last event or bookmark.
* A watch that stops delivering with its connection open (nothing, not even a bookmark, past its short
  ``timeoutSeconds`` plus a margin: ``WATCH_SILENT``) → the node says ``live updates paused — retrying`` at once,
  the list is re-listed and reconciled, and the note stays until the new watch delivers something.

Limits: at most ``max_watches`` watches per context (the least recently viewed beyond it fall back to TTL), and a
collapsed node's watch stops ``grace_seconds`` after the collapse.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
import weakref
from typing import TYPE_CHECKING

from kube9_desktop.kube.errors import PAUSED_NOTE, WATCH_SILENT, ErrorKind, KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import ListRef, Row, WatchEvent
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.ports import LiveHost

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)


#: Failures that retrying cannot fix: the list simply stays on TTL refresh.
PERMANENT = frozenset({ErrorKind.FORBIDDEN, ErrorKind.KUBECTL, ErrorKind.NOT_FOUND, ErrorKind.KUBECONFIG})


class _Watch:
    """One node's watch: its task, its position and the events waiting to be applied."""

    def __init__(self, node: TreeNode, ref: ListRef, kind: Kind, viewed_at: float, burst: int) -> None:
        self.node = node
        self.ref = ref
        self.kind = kind
        self.gen = node.generation
        self.viewed_at = viewed_at
        self.task: asyncio.Task[None] | None = None
        self.rv = ""  # the position received (events up to it are applied or pending)
        self.applied_rv = ""  # the position the tree shows (every event up to it applied)
        self.pending: dict[str, tuple[str, Row]] = {}
        self.pending_events = 0
        self.flush_handle: asyncio.TimerHandle | None = None
        #: When the last ``burst`` flushes were (see ``LiveUpdates.flush_burst``).
        self.flushes: collections.deque[float] = collections.deque(maxlen=burst)
        self.mirror_handle: asyncio.TimerHandle | None = None
        self.last_mirror = 0.0
        self.stop_handle: asyncio.TimerHandle | None = None
        self.failures = 0
        self.healthy = False
        self.silent = False  # went silent: re-listed, healthy again once a new watch delivers something

    def forget_task(self, task: asyncio.Task[None]) -> None:
        """Done callback: drop the finished task (its exception's traceback holds ``_run``'s frame, so ``self``)."""
        if self.task is task:
            self.task = None


class LiveUpdates:
    """Keeps the lists the user has open live; owned by the loader (``model.live`` is the same object).

    It reaches the tree only through its :class:`~kube9_desktop.model.ports.LiveHost` (the loader). The loader
    calls :meth:`track` when a list finished loading and :meth:`untrack` when a node leaves the tree; the window
    reports expansion with :meth:`note_expanded` / :meth:`note_collapsed`. Headless mode calls
    :meth:`start_all` (every loaded list counts as viewed).

    Attributes:
        enabled: Whether lists are watched at all (setting ``live/enabled``).
        max_watches: Concurrent watches per context (setting ``live/max_watches``).
        grace_seconds: Seconds a collapsed node keeps its watch (setting ``live/grace_seconds``).
        events_applied: Watch events applied to the tree so far (ADDED/MODIFIED/DELETED, not bookmarks).
        relists: Re-lists after a 410.
        reconnects: Watches re-opened after a failure.
        silences: Watches that went silent (connection open, nothing arriving) and were dropped.
    """

    #: Events of one node are applied at most this often on average (seconds) ...
    flush_interval = 0.1
    #: ... over this many flushes: a few may follow each other at once (a pod deleted: Terminating, then gone; a
    #: Deployment scaled: its new pods, then their start), and the second no longer waits out the interval (the
    #: bench's delete- and scale-to-rows times were 15 or 110 ms, run by run). Churn still gets one flush per
    #: interval on average.
    flush_burst = 3
    #: The first event after a quiet spell waits this long for the ones right behind it (seconds): a controller's
    #: events come together (a Deployment scaled 3 → 5 adds two pods within a millisecond), and applied one by one
    #: the second waited out :attr:`flush_interval` (the bench's scale-to-rows time was 20 or 120 ms, run by run).
    first_event_wait = 0.005
    #: The watched list's cache entry is brought up to date at most this often (seconds).
    mirror_interval = 1.0
    #: Failures in a row after which the node says its live updates are paused.
    pause_after = 3
    #: First reconnect delay and its cap (seconds); each delay is jittered by ×0.5–1.5.
    backoff_base = 0.5
    backoff_max = 30.0

    def __init__(self, host: LiveHost) -> None:
        self._host = host
        self.enabled = True
        self.max_watches = 20
        self.grace_seconds = 30.0
        self.events_applied = 0
        self.relists = 0
        self.reconnects = 0
        self.silences = 0
        self._watches: dict[TreeNode, _Watch] = {}
        # Loaded lists that could be watched → when they were last viewed.
        self._tracked: weakref.WeakKeyDictionary[TreeNode, float] = weakref.WeakKeyDictionary()
        self._expanded: weakref.WeakSet[TreeNode] = weakref.WeakSet()
        self._auto = False

    # ------------------------------------------------------------------ what the model and the window call

    def configure(self, enabled: bool, max_watches: int, grace_seconds: float) -> None:
        """Apply the ``live/*`` settings at once (turning live updates off stops every watch)."""
        self.enabled = bool(enabled)
        self.max_watches = max(1, int(max_watches))
        self.grace_seconds = max(0.0, float(grace_seconds))
        if not self.enabled:
            for w in list(self._watches.values()):
                self._stop(w)
            return
        for context in {w.ref.context for w in self._watches.values()}:
            self._enforce_limit(context, room=0)
        for node, _ in sorted(self._tracked.items(), key=lambda kv: kv[1]):
            if node not in self._watches and self._viewed(node):
                self._start(node)

    def track(self, node: TreeNode) -> None:
        """``node`` finished loading (or reloading): watch it if the user is looking at it."""
        if not self._watchable(node):
            return
        now = time.monotonic()
        self._tracked[node] = max(now, self._tracked.get(node, 0.0))
        w = self._watches.get(node)
        svc = self._host.service
        entry = svc.cache.peek(node.ref) if svc is not None and node.ref is not None else None
        if w is not None and entry is not None and entry.resource_version not in ("", w.rv, w.applied_rv):
            # Re-listed (Refresh): the rows now stand at the new list's position; watch on from there.
            self._stop(w, mirror=False)
        if self._viewed(node):
            self._start(node, checked=True)

    def untrack(self, node: TreeNode) -> None:
        """``node`` left the tree (removed, context dropped): stop its watch now."""
        self._tracked.pop(node, None)
        w = self._watches.get(node)
        if w is not None:
            self._stop(w)

    def note_expanded(self, node: TreeNode) -> None:
        """The view expanded ``node``: it and its expanded, loaded descendants are viewed (again)."""
        self._expanded.add(node)
        now = time.monotonic()
        for n in list(self._tracked.keys()):
            if not _under(n, node) or not self._viewed(n):
                continue
            self._tracked[n] = now
            w = self._watches.get(n)
            if w is not None:
                w.viewed_at = now
                if w.stop_handle is not None:
                    w.stop_handle.cancel()
                    w.stop_handle = None
            else:
                self._start(n)

    def note_collapsed(self, node: TreeNode) -> None:
        """The view collapsed ``node``: its watches (and those below it) stop after the grace period."""
        self._expanded.discard(node)
        if self._auto:
            return
        for w in list(self._watches.values()):
            if not _under(w.node, node) or w.stop_handle is not None:
                continue
            if self.grace_seconds <= 0:
                self._stop(w)
            else:
                w.stop_handle = asyncio.get_event_loop().call_later(self.grace_seconds, self._stop, w)

    def start_all(self) -> None:
        """Headless: every loaded list counts as viewed; over the limit the lists opened (``--expand``) win, then
        the most recently loaded.

        Loaded-last alone was not enough: a namespace's ~28 lists loaded for their counts could all finish after
        the one the user asked for, and the twenty kept watching were those (the acceptance check's Pods, never
        watched, ended with 8 pods that were gone and 12 missing).
        """
        self._auto = True
        now = time.monotonic()
        for node, _ in sorted(self._tracked.items(), key=lambda kv: (kv[0].expanded, kv[1])):
            if not self._host.attached(node):
                continue
            if node.expanded:
                self._tracked[node] = now  # viewed last: the limit drops the others first
            self._start(node)

    async def settle(self) -> None:
        """Apply every event received so far (let the readers hand over what they have, then flush)."""
        for _ in range(3):
            await asyncio.sleep(0.02)
        for w in list(self._watches.values()):
            self._flush(w)
            self._mirror(w)

    def count(self, context: str | None = None) -> int:
        """Healthy watches (of ``context``, or of all contexts) — the status bar's "N live"."""
        return sum(1 for w in self._watches.values() if w.healthy and (context is None or w.ref.context == context))

    def watching(self, node: TreeNode) -> bool:
        """Whether ``node`` has a watch (healthy or reconnecting)."""
        return node in self._watches

    def healthy(self, node: TreeNode) -> bool:
        """Whether ``node``'s watch is connected and keeping it current."""
        w = self._watches.get(node)
        return w is not None and w.healthy

    async def shutdown(self) -> None:
        """Stop every watch and wait until their tasks and reader threads have ended."""
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        for w in list(self._watches.values()):
            self._stop(w)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        svc = self._host.service
        deadline = time.monotonic() + 3.0
        while svc is not None and svc.watch_threads() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ internals

    def _service(self) -> KubeService | None:
        svc = self._host.service
        return svc if svc is not None and svc.backend_name == "api" else None

    def _watchable(self, node: TreeNode) -> bool:
        if node.ref is None or node.state is not LoadState.LOADED or node.type not in (NodeType.LIST,
                                                                                         NodeType.OBJECT):
            return False
        # An error row or a partial-list note is not a list a watch can keep current, nor is a list whose later
        # page failed (it lacks the rest).
        # The member looked up once: ``NodeType.OBJECT`` inside the loop is an Enum class attribute lookup per row
        # (10,000 rows: 1.2-1.9 ms instead of 0.27).
        obj = NodeType.OBJECT
        return not node.partial and all(c.type is obj for c in node.children)

    def _viewed(self, node: TreeNode) -> bool:
        if self._auto:
            return True
        n: TreeNode | None = node
        while n is not None and n.type not in (NodeType.CONTEXT, NodeType.ROOT):
            if n not in self._expanded:
                return False
            n = n.parent
        return n is not None

    def _start(self, node: TreeNode, checked: bool = False) -> None:
        """Watch ``node``; ``checked``: the caller has just found it watchable (a 10,000-row list's check walks every
        row: ~1 ms of the GUI thread in the step that inserts its last page)."""
        svc = self._service()
        if not self.enabled or svc is None or node.ref is None:
            return
        w = self._watches.get(node)
        now = time.monotonic()
        if w is not None:
            if self._host.is_live(node, w.gen):
                w.viewed_at = now
                return
            self._stop(w, mirror=False)  # the node was reset since: its old watch is moot
        if not checked and not self._watchable(node):
            return
        try:
            kind = svc.kind(node.ref.context, node.ref.kind)
        except KubeError:
            return
        if svc.cache.ttl(kind.ttl) <= 0:
            return  # never cached (events): there is no cache entry to keep fresh, the list stays as loaded
        self._enforce_limit(node.ref.context, room=1)
        w = _Watch(node, node.ref, kind, self._tracked.get(node, now), self.flush_burst)
        self._watches[node] = w
        w.task = asyncio.get_event_loop().create_task(self._run(w, svc), name=f"kube9-live-{node.ref.kind}")
        # A finished task keeps its exception (a cancellation): let go of it, or watch, task and stream form a
        # cycle that only a full collection frees.
        w.task.add_done_callback(w.forget_task)
        self._host.notify_activity()

    def _enforce_limit(self, context: str, room: int) -> None:
        """Stop the least recently viewed watches of ``context`` until ``room`` more fit under the limit."""
        mine = sorted((w for w in self._watches.values() if w.ref.context == context), key=lambda w: w.viewed_at)
        while mine and len(mine) + room > self.max_watches:
            self._stop(mine.pop(0))

    def _stop(self, w: _Watch, mirror: bool = True) -> None:
        """End ``w`` now; its list falls back to TTL refresh.

        Args:
            w: The watch.
            mirror: Leave the cache entry equal to the tree (False when a newer list just replaced both).
        """
        if mirror and w.pending and self._alive(w):
            self._flush(w)  # what arrived is applied, so the tree and the entry stand at the position received
        if w.mirror_handle is not None:
            if mirror:
                self._mirror(w)  # the entry is served until its TTL runs out: make it what the tree shows
            else:
                w.mirror_handle.cancel()
                w.mirror_handle = None
        if self._watches.get(w.node) is w:
            del self._watches[w.node]
        for handle in (w.flush_handle, w.stop_handle):
            if handle is not None:
                handle.cancel()
        w.flush_handle = w.stop_handle = None
        if w.task is not None and not w.task.done() and w.task is not asyncio.current_task():
            w.task.cancel()
        self._release(w)
        if w.node.note == PAUSED_NOTE:
            w.node.note = ""
            self._host.changed(w.node)
        self._host.notify_activity()

    def _release(self, w: _Watch) -> None:
        w.healthy = False
        svc = self._host.service
        if svc is not None and w.node.match is None:
            svc.cache.keep_fresh(w.ref, False)

    def _alive(self, w: _Watch) -> bool:
        return self._watches.get(w.node) is w and self._host.is_live(w.node, w.gen)

    async def _run(self, w: _Watch, svc: KubeService) -> None:
        try:
            rv = await self._position(w, svc)
            while self._alive(w):
                started = time.monotonic()
                got = False
                try:
                    async with contextlib.aclosing(svc.watch(w.ref, rv)) as events:
                        async for ev in events:
                            if not got:
                                got = True
                                w.silent = False
                                self._healthy(w, svc)
                            if ev.resource_version:
                                rv = w.rv = ev.resource_version
                            if ev.row is not None and ev.type in ("ADDED", "MODIFIED", "DELETED"):
                                self._queue(w, ev)
                            elif not w.pending:
                                w.applied_rv = w.rv  # a bookmark with nothing waiting: the tree is at it
                    # The server ended the stream (timeoutSeconds): re-watch from the last position, quietly —
                    # unless it ended at once without a word, which is a failure in disguise (backoff).
                    if not got and time.monotonic() - started < 1.0:
                        await self._failed(w, svc, None)
                    elif not got:
                        # Ending the stream when its timeoutSeconds asked is the server delivering: a silent watch
                        # never ends. It may be all a quiet list gets: kube-apiserver sends no bookmark in a
                        # watch's last 2 s, so a short watch over a list nobody changes carries no event at all.
                        w.silent = False
                        self._healthy(w, svc)
                except KubeError as err:
                    if err.kind is ErrorKind.GONE:
                        self._flush(w)
                        try:
                            rv = await self._relist(w, svc)
                        except KubeError as relist_err:
                            if relist_err.kind in PERMANENT:
                                return
                            await self._failed(w, svc, relist_err)  # the next watch gets 410 and re-lists again
                        continue
                    if err.reason == WATCH_SILENT:
                        try:
                            rv = await self._silent(w, svc, err)
                        except KubeError as relist_err:
                            if relist_err.kind in PERMANENT:
                                return
                            await self._failed(w, svc, relist_err)
                        continue
                    if err.kind in PERMANENT:
                        log.info("watch %s stopped: %s", w.ref, err.one_line())
                        return
                    await self._failed(w, svc, err)
        except asyncio.CancelledError:
            raise
        except KubeError as err:  # the initial position could not be had: stay on TTL refresh
            log.info("watch %s not started: %s", w.ref, err.one_line())
        finally:
            if self._watches.get(w.node) is w:
                self._stop(w)

    async def _position(self, w: _Watch, svc: KubeService) -> str:
        """Where the watch starts: the cached list's resourceVersion (re-listing when there is none)."""
        while True:
            entry = svc.cache.peek(w.ref)
            if entry is not None and entry.resource_version:
                rows = [c.row for c in w.node.children if c.row is not None]
                match = w.node.match
                want = entry.rows if match is None else [r for r in entry.rows if match(r)]
                # Usually the very Row objects the node was built from; otherwise bring the node up to the entry.
                if len(rows) != len(want) or any(a is not b for a, b in zip(rows, want, strict=True)):
                    self._host.reconcile(w.node, entry.rows, w.kind)
                    self._host.changed(w.node)
                w.rv = w.applied_rv = entry.resource_version
                self._healthy(w, svc)
                return w.rv
            try:
                return await self._relist(w, svc)
            except KubeError as err:
                if err.kind in PERMANENT:
                    raise
                await self._failed(w, svc, err)

    async def _relist(self, w: _Watch, svc: KubeService) -> str:
        """Re-list after a lost position and reconcile the rows in place; returns the new position."""
        self.relists += 1
        rows, rv = await svc.relist(w.ref)
        if not self._alive(w):
            return rv  # the run loop sees the node is gone and ends
        w.pending.clear()
        w.pending_events = 0
        self._host.reconcile(w.node, rows, w.kind)
        self._host.changed(w.node)
        w.rv = w.applied_rv = rv
        self._healthy(w, svc)
        return rv

    async def _silent(self, w: _Watch, svc: KubeService, err: KubeError) -> str:
        """``w`` stopped delivering: say so now, re-list what it missed, and watch on from the new list."""
        self.silences += 1
        log.info("watch %s went silent: %s", w.ref, err.one_line())
        w.silent = True
        if w.healthy:
            self._release(w)  # its cache entry falls back to its TTL: nothing keeps it current now
            self._host.notify_activity()
        if w.node.note != PAUSED_NOTE and self._alive(w):
            w.node.note = PAUSED_NOTE
            self._host.changed(w.node)
        return await self._relist(w, svc)

    def _healthy(self, w: _Watch, svc: KubeService) -> None:
        if w.silent:
            return  # re-listed after a silence: the next watch has to deliver something first
        if w.failures:
            self.reconnects += 1
        w.failures = 0
        if not w.healthy:
            w.healthy = True
            if w.node.match is not None:
                pass  # a drill-down shows part of the list: the namespace's whole list keeps the entry, not it
            elif not svc.cache.keep_fresh(w.ref, True):
                rows = [c.row for c in w.node.children if c.row is not None]
                svc.cache.put(w.ref, w.kind, rows, w.applied_rv)
                svc.cache.keep_fresh(w.ref, True)
            self._host.notify_activity()
        if w.node.note == PAUSED_NOTE:
            w.node.note = ""
            self._host.changed(w.node)

    async def _failed(self, w: _Watch, svc: KubeService, err: KubeError | None) -> None:
        """Count a failure, fall back to TTL, say so after several, and wait a jittered backoff."""
        w.failures += 1
        if w.healthy:
            self._release(w)
            self._host.notify_activity()
        if err is not None:
            log.debug("watch %s failed (%d): %s", w.ref, w.failures, err.one_line())
        if w.failures >= self.pause_after and w.node.note != PAUSED_NOTE and self._alive(w):
            w.node.note = PAUSED_NOTE
            self._host.changed(w.node)
        delay = min(self.backoff_base * 2 ** (w.failures - 1), self.backoff_max) * (0.5 + random.random())
        await asyncio.sleep(delay)

    def _queue(self, w: _Watch, ev: WatchEvent) -> None:
        assert ev.row is not None
        w.pending[ev.row.uid] = (ev.type, ev.row)
        w.pending_events += 1
        if w.flush_handle is None:
            delay = self.first_event_wait
            if len(w.flushes) == w.flushes.maxlen:  # the burst is spent: one flush per interval on average
                delay = max(delay, w.flushes[0] + len(w.flushes) * self.flush_interval - time.monotonic())
            w.flush_handle = asyncio.get_event_loop().call_later(delay, self._flush, w)

    def _flush(self, w: _Watch) -> None:
        """Apply ``w``'s coalesced events in place and mirror the rows into the cache entry."""
        if w.flush_handle is not None:
            w.flush_handle.cancel()
            w.flush_handle = None
        if not w.pending or not self._alive(w):
            return
        node = w.node
        if node.state is not LoadState.LOADED or self._host.changing:
            # A reload is being applied: try again shortly rather than interleave with it.
            w.flush_handle = asyncio.get_event_loop().call_later(self.flush_interval, self._flush, w)
            return
        pending, w.pending = w.pending, {}
        self._host.apply_changes(node, pending.values(), w.kind)
        self._host.changed(node)
        self.events_applied += w.pending_events
        w.pending_events = 0
        w.applied_rv = w.rv
        now = time.monotonic()
        w.flushes.append(now)
        if now - w.last_mirror >= self.mirror_interval:
            self._mirror(w)
        elif w.mirror_handle is None:
            w.mirror_handle = asyncio.get_event_loop().call_later(self.mirror_interval, self._mirror, w)

    def _mirror(self, w: _Watch) -> None:
        """Make the cache entry equal to what the tree shows, at the position of the last event applied.

        At most once per :attr:`mirror_interval`: copying a 5,000-row list on every flush would cost more than
        applying the events.
        """
        if w.mirror_handle is not None:
            w.mirror_handle.cancel()
            w.mirror_handle = None
        w.last_mirror = time.monotonic()
        svc = self._host.service
        if svc is None or not self._alive(w) or w.node.state is not LoadState.LOADED or w.node.match is not None:
            return  # (a drill-down's rows are part of the entry's list: they never replace it)
        rows = [c.row for c in w.node.children if c.row is not None]
        # The position the rows stand at: a watch resumed from the entry then replays nothing and misses nothing.
        if not svc.cache.touch(w.ref, rows, w.applied_rv):
            svc.cache.put(w.ref, w.kind, rows, w.applied_rv)
            if w.healthy:
                svc.cache.keep_fresh(w.ref, True)


def _under(node: TreeNode, ancestor: TreeNode) -> bool:
    n: TreeNode | None = node
    while n is not None:
        if n is ancestor:
            return True
        n = n.parent
    return False
