"""One list being fetched, followed by any number of consumers: :class:`~kube9_desktop.kube.service.KubeService`'s
in-flight de-duplication.

The service starts one fetch per list and hands every request for that list, while it runs, to the same
:class:`InFlight`: a late consumer first gets the pages already received, then waits for the rest (so a
double-click, or a prefetch racing the user's expansion, makes one request).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.rows import ListRef, Page


class InFlight:
    """One list being fetched; any number of consumers follow its pages."""

    def __init__(self, ref: ListRef) -> None:
        self.ref = ref
        self.pages: list[Page] = []
        self.done = False
        self.error: KubeError | None = None
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        #: Invalidated while in flight: its answer may predate a write, so it is neither joined nor cached.
        self.stale = False

    def publish(self) -> None:
        """Wake every follower (a page arrived, or the fetch ended)."""
        old, self.changed = self.changed, asyncio.Event()
        old.set()

    async def follow(self) -> AsyncIterator[Page]:
        """Every page from the first, as they arrive; raises (a copy of) the fetch's error at the end."""
        i = 0
        while True:
            while i < len(self.pages):
                yield self.pages[i]
                i += 1
            if self.done:
                if self.error is not None:
                    # Each follower raises its own copy: the traceback a raise attaches names this frame, which
                    # holds ``self``, so raising the stored error itself would tie the two into a cycle.
                    raise dataclasses.replace(self.error)
                return
            await self.changed.wait()
