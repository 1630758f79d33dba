"""The background tasks of one view: each referenced until it finishes, awaited or cancelled together.

asyncio keeps only a weak reference to a task, so a view must hold its own; closing the view cancels them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any


class Tasks:
    """A view's running tasks (true while any runs)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Future[Any]] = set()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run ``coro`` as a task, kept until it finishes."""
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def wait(self) -> None:
        """Wait until none runs, including any started while waiting (tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def cancel(self) -> None:
        """Cancel every one still running (the view closes)."""
        for task in list(self._running):
            task.cancel()

    def __bool__(self) -> bool:
        return bool(self._running)

    def __len__(self) -> int:
        return len(self._running)

    def __iter__(self) -> Iterator[asyncio.Future[Any]]:
        return iter(list(self._running))
