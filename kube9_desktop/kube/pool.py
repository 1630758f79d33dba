"""Connection-pool plumbing under a context's ``ApiClient``: counted connections and one shared TLS context.

urllib3 has no hook for "a connection was opened", so :func:`counting_pool_classes` installs pool subclasses that
count new connections into a context's :class:`PoolStats` (the status bar's figure) and keep each live one, so
closing the client can shut down sockets a worker is blocked on. :func:`share_ssl_context` builds the context's
TLS settings once instead of once per connection.

Libraries: this module alone extends ``urllib3``'s pool classes and builds its ``SSLContext``; :mod:`.client`
alone builds and calls ``kubernetes``' ``ApiClient`` and :mod:`.status_errors` alone maps their exceptions. None of
them lets an exception of either library out.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import weakref
from dataclasses import dataclass, field
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context, resolve_cert_reqs

from kube9_desktop.kube.backend import ContextStats, StatsRecorder

log = logging.getLogger(__name__)

# The first connection encodes its host name with the "idna" codec, whose module is imported lazily on first use,
# in a worker thread, under the import lock, through PySide's import hook (which inspects each module's source):
# milliseconds on the cold path of the first tree load. Import it with this module instead.
"kube9".encode("idna")


@dataclass
class PoolStats(StatsRecorder):
    """A context's counters plus the connections its pools hold.

    Attributes:
        live: Every connection the pools opened and still hold (weakly).
    """

    # Every connection the pools opened and still hold, so closing the client can abort requests in flight.
    live: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)

    def open_connections(self) -> int:
        """Connections with a socket now (one refused or closed has none; the pool may still hold its object)."""
        with self.lock:
            conns = list(self.live)
        return sum(1 for c in conns if getattr(c, "sock", None) is not None)

    def snapshot(self) -> ContextStats:
        """The counters now, with the connections open now."""
        return dataclasses.replace(super().snapshot(), open_connections=self.open_connections())


def counting_pool_classes(stats: PoolStats) -> dict[str, type]:
    """Pool classes that count new TCP connections into ``stats`` (urllib3 has no hook for it)."""

    def make(base: type) -> type:
        base_new_conn = base._new_conn  # type: ignore[attr-defined]

        def _new_conn(self: Any) -> Any:
            conn = base_new_conn(self)
            with stats.lock:
                stats.connections += 1
                stats.live.add(conn)
            return conn

        return type(f"Counting{base.__name__}", (base,), {"_new_conn": _new_conn})

    return {"http": make(HTTPConnectionPool), "https": make(HTTPSConnectionPool)}


def share_ssl_context(pool_kw: dict[str, Any]) -> None:
    """Build the context's TLS settings into one ``SSLContext`` shared by all its pooled connections.

    Without it urllib3 creates an ``SSLContext`` and re-reads the CA (and client certificate) files for every new
    connection, on the worker thread that is about to do the handshake: ~1 ms of GIL-holding work per connection,
    multiplied by a cold burst of parallel lists. The shared context carries exactly the same verification
    (``CERT_REQUIRED`` and host name checks unless the kubeconfig says insecure-skip-tls-verify; the same CA and
    client certificate); urllib3 still checks ``tls-server-name`` / host names as before.

    When the files cannot be loaded here, nothing changes: urllib3 then fails on connect exactly as before, with
    the error mapping that path already has.
    """
    if pool_kw.get("ssl_context") is not None:
        return
    ca_file = pool_kw.get("ca_certs")
    ca_data = pool_kw.get("ca_cert_data")
    cert_file = pool_kw.get("cert_file")
    key_file = pool_kw.get("key_file")
    try:
        ctx = create_urllib3_context(cert_reqs=resolve_cert_reqs(pool_kw.get("cert_reqs")))
        if ca_file or ca_data:
            ctx.load_verify_locations(cafile=ca_file or None, cadata=ca_data or None)
        elif ctx.verify_mode != ssl.CERT_NONE:
            ctx.load_default_certs()
        if cert_file:
            ctx.load_cert_chain(cert_file, key_file or None)
    except (OSError, ValueError, ssl.SSLError):
        log.debug("TLS settings not shareable; urllib3 builds them per connection", exc_info=True)
        return
    for key in ("ca_certs", "ca_cert_data", "cert_file", "key_file"):
        pool_kw.pop(key, None)
    pool_kw["ssl_context"] = ctx
