"""A loopback port that accepts connections and never answers: the "slow cluster" of a many-context kubeconfig.

TLS handshakes to it hang until the client's timeout, like an API server behind a congested or black-holed link.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Tarpit:
    """Listens on ``127.0.0.1`` (never beyond), accepts and holds every connection until :meth:`stop`."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kube9-sim-tarpit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def stop(self) -> None:
        """Closes the listener and every held connection."""
        self._stop.set()
        self._thread.join(2)
        for s in [*self._held, self._sock]:
            with contextlib.suppress(OSError):
                s.close()
        self._held.clear()
