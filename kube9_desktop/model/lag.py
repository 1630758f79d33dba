"""Measure how long the event loop was blocked (Qt-free; works on any asyncio loop, qasync included)."""

from __future__ import annotations

import asyncio
import time


class LoopLagMonitor:
    """Samples the event loop every ``interval`` seconds and records the worst overshoot.

    A sleep that should take 5 ms but takes 60 ms means something held the loop (and so the UI) for ~55 ms.

    ``max_cpu_ms`` is the most CPU time the loop's thread spent within one sample: the part of a stall that is the
    process's own work, as opposed to waiting for a core (on a loaded machine the overshoot includes the time the
    thread was not running at all).
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.max_lag_ms = 0.0
        self.max_cpu_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling on the current event loop."""
        if self._task is None:
            self._task = asyncio.get_event_loop().create_task(self._run())

    def reset(self) -> None:
        """Forget the worst lag seen so far."""
        self.max_lag_ms = 0.0
        self.max_cpu_ms = 0.0

    async def _run(self) -> None:
        while True:
            t0, c0 = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.interval)
            lag = (time.perf_counter() - t0 - self.interval) * 1000
            if lag > self.max_lag_ms:
                self.max_lag_ms = lag
            cpu = (time.thread_time() - c0) * 1000
            if cpu > self.max_cpu_ms:
                self.max_cpu_ms = cpu

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
