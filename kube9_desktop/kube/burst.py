"""Requests a context is about to make at once, sent together by one thread (see :class:`Burst`), and a backend's
open bursts (:class:`Bursts`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kube9_desktop.kube.client import ContextClient, RequestInfo, Response
from kube9_desktop.kube.errors import ErrorKind, KubeError

T = TypeVar("T")

#: Longest a burst waits for the requests it expects before it sends those it has (seconds).
BURST_WAIT_S = 0.002


class Burst:
    """The first requests of a context prepared for its top level (:meth:`.ApiBackend.prepare`), or of the lists a
    namespace counts (:meth:`.ApiBackend.send_together`), sent together.

    The top level asks for the server version and its lists at once; each went to a worker thread of its own, and
    six threads waking up, each waiting for the GIL to send, read and parse a small answer (with the GUI thread
    and the sim on two cores), were most of the cold top level's own time. Here one thread sends them all on the
    connections ``prepare`` opened and reads the answers as they arrive (:func:`.send_many.request_many`):
    the server still has them all at once. Each answer is made into its result in that thread and handed to the
    loop as it comes. The burst takes the requests asked for until it has as many as it expects (or
    :data:`BURST_WAIT_S` passed since the first), then closes: later requests take the usual way.
    """

    def __init__(self, owner: Bursts, context: str, expect: int, unused_for: float | None = None,
                 width: int | None = None) -> None:
        self.owner = owner
        self.context = context
        self.expect = expect
        #: Requests in flight at once (``None``: as many as the context has workers; see ``request_many``).
        self.width = width
        #: ``time.monotonic()`` after which the burst, still without a request, is of no use (``None``: never).
        self.unused_after = None if unused_for is None else time.monotonic() + unused_for
        self.items: list[tuple[str, list[tuple[str, Any]], str, RequestInfo | None,
                               Callable[[ContextClient, Response], Any], asyncio.Future[Any]]] = []
        self.sent = False
        self.timer: asyncio.TimerHandle | None = None

    def unused(self) -> bool:
        """Whether the burst got no request in the time it was given (see ``unused_for``)."""
        return not self.items and self.unused_after is not None and time.monotonic() > self.unused_after

    def add(self, loop: asyncio.AbstractEventLoop, path: str, query: list[tuple[str, Any]], accept: str,
            info: RequestInfo | None, finish: Callable[[ContextClient, Response], T]) -> asyncio.Future[T]:
        """Queue one GET; ``finish`` makes its result from the 2xx response (in the burst's thread)."""
        fut: asyncio.Future[T] = loop.create_future()
        self.items.append((path, query, accept, info, finish, fut))
        if len(self.items) >= self.expect:
            self.send(loop)
        elif len(self.items) == 1:
            self.timer = loop.call_later(BURST_WAIT_S, self.send, loop)
        return fut

    def send(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the burst and send what it has, on a thread of its own."""
        if self.sent:
            return
        self.sent = True
        if self.timer is not None:
            self.timer.cancel()
        # A thread of its own, not a list worker: the workers may all be busy with the previous load's pages.
        # Not a daemon: a daemon thread still running while the interpreter finalizes (a print that ends while its
        # burst reads) posted to a loop whose Qt objects were being destroyed, and the process crashed (SIGSEGV at
        # exit, 1 in ~40 runs of --print-tree against a context that is down). The interpreter waits for this
        # thread at exit as for the list workers; the context's dropped client ends its requests.
        thread = threading.Thread(target=self._run, args=(loop, self.items), name=f"kube9-burst-{self.context[:20]}")
        self.owner.ended(self, thread)
        try:
            thread.start()
        except RuntimeError as exc:  # no new threads at interpreter shutdown
            err = KubeError(ErrorKind.UNKNOWN, "Cancelled", f"The request was cancelled ({exc}).",
                            context=self.context)
            for *_, fut in self.items:
                if not fut.done():
                    fut.set_exception(err)

    def _run(self, loop: asyncio.AbstractEventLoop, items: list[Any]) -> None:
        def settle(fut: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
            if fut.done():
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

        def post(fut: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
            if loop.is_closed():
                return  # the app ended meanwhile: nobody waits for the answer
            try:
                loop.call_soon_threadsafe(settle, fut, value, error)
            except RuntimeError:  # closed between the check and the call
                pass

        done: set[int] = set()
        try:
            client = self.owner.clients(self.context)
            for i, resp in client.request_many([(p, q, a, info) for p, q, a, info, _, _ in items], self.width):
                done.add(i)
                fut = items[i][5]
                if isinstance(resp, KubeError):
                    post(fut, None, resp)
                    continue
                try:
                    value = items[i][4](client, resp)
                except KubeError as err:
                    post(fut, None, err)
                    continue
                except Exception as exc:  # a bug reaches the caller as the list's error, as a worker's would
                    post(fut, None, exc)
                    continue
                post(fut, value, None)
        except BaseException as exc:  # KubeError from the client build, or a bug: every request not answered fails
            for i, item in enumerate(items):
                if i not in done:
                    post(item[5], None, exc)
            if not isinstance(exc, Exception):
                raise


class Bursts:
    """A backend's open bursts (a context has one at most) and the threads that sent them.

    Args:
        clients: The backend's API client of a context (blocking: it may build it).
    """

    def __init__(self, clients: Callable[[str], ContextClient]) -> None:
        self.clients = clients
        self._lock = threading.Lock()
        #: The open burst of each context (taking requests until it has those it expects).
        self.open: dict[str, Burst] = {}
        #: The thread sending each context's last burst (kept until the context is dropped).
        self.threads: dict[str, threading.Thread] = {}

    def start(self, context: str, expect: int, unused_for: float | None = None, width: int | None = None) -> None:
        """Open a burst for ``context``'s next ``expect`` requests, unless one is open and still of use (see
        :class:`Burst` for the arguments)."""
        with self._lock:
            if self._get_locked(context) is None:
                self.open[context] = Burst(self, context, expect, unused_for, width)

    def get(self, context: str) -> Burst | None:
        """The context's open burst, if any."""
        with self._lock:
            return self._get_locked(context)

    def _get_locked(self, context: str) -> Burst | None:
        burst = self.open.get(context)
        if burst is not None and burst.unused():
            # Expected requests that never came (lists answered by the cache, or already in flight): later requests,
            # a user's click away, must not wait in it.
            del self.open[context]
            return None
        return burst

    def ended(self, burst: Burst, thread: threading.Thread) -> None:
        """``burst`` takes no more requests; ``thread`` sends them."""
        with self._lock:
            if self.open.get(burst.context) is burst:
                del self.open[burst.context]
            self.threads[burst.context] = thread

    def forget(self, context: str) -> None:
        """The context is dropped: its burst and thread are no longer kept."""
        with self._lock:
            self.open.pop(context, None)
            self.threads.pop(context, None)
