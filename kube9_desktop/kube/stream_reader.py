"""A thread that reads one HTTP stream at a time (a log, a watch) and stops at once when closed from any thread.

Qt-free; the event feed (:mod:`.events`) and a container's log reader (:mod:`.pod_logs`) are built on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StreamReader:
    """Runs :meth:`_run` in a daemon thread named ``name``; :meth:`close` also closes the stream being read, so a
    read blocked in the thread returns at once."""

    def __init__(self, name: str) -> None:
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start reading."""
        self.thread.start()

    def close(self) -> None:
        """Stop now (also a read blocked in the reader thread); safe from any thread, twice."""
        self._closed.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed.is_set()

    @contextmanager
    def _reading(self, stream: Any) -> Iterator[Any]:
        """``stream`` is the one :meth:`close` closes while the block runs; closed when the block ends."""
        with self._lock:
            self._stream = stream
        try:
            yield stream
        finally:
            stream.close()
            with self._lock:
                self._stream = None

    def _run(self) -> None:
        """The thread's work (subclasses)."""
        raise NotImplementedError
