"""Measure how long the event loop was blocked (Qt-free; works on any asyncio loop, qasync included)."""

from __future__ import annotations

import asyncio
import time


class LoopLagMonitor:
    """Samples the event loop every ``interval`` seconds and records the worst overshoot.

    A sleep that should take 5 ms but takes 60 ms means something held the loop (and so the UI) for ~55 ms.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.max_lag_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling on the current event loop."""
        if self._task is None:
            self._task = asyncio.get_event_loop().create_task(self._run())

    def reset(self) -> None:
        """Forget the worst lag seen so far."""
        self.max_lag_ms = 0.0

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = (time.perf_counter() - t0 - self.interval) * 1000
            if lag > self.max_lag_ms:
                self.max_lag_ms = lag

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
