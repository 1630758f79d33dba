"""Building a context's authenticated transport, and keeping its credentials current.

:class:`AuthenticatedApi` builds one :class:`~kube9_desktop.kube.transport.Transport` per context: a urllib3 pool
sized to the number of worker threads plus a few for side readers (parallel lists reuse connections and urllib3
never logs "Connection pool is full") and the ``Authorization`` header. The context's kubeconfig entries are read by
:mod:`.transport` as the official loader reads them; a user with an ``auth-provider`` or a cluster behind a
``proxy-url`` gets the official ``kubernetes`` ``ApiClient`` instead (:mod:`.library_client`, the only importer of
that package). Exec credentials are shared per context (:class:`~kube9_desktop.kube.exec_plugin.ExecAuth`): renewed
before they expire, taken over when another client of the context renewed them, re-run once after a 401. OIDC and
token files re-authenticate by rebuilding the transport. :class:`ConnectSettings` hands the TLS settings and auth
headers to connections outside the pool (exec and port-forward WebSockets). :mod:`.client` makes the requests
(retries, writes, streams).
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import urllib3

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.credentials import user_credentials, with_exec_credential
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.exec_plugin import EXPIRY_MARGIN, ExecAuth, ExecCredential, PluginProcesses
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.pool import Deadline, PoolStats, make_pool_manager
from kube9_desktop.kube.server_url import with_scheme
from kube9_desktop.kube.status_errors import kubectl_kubeconfig, transform_exception
from kube9_desktop.kube.transport import Transport, direct_settings, needs_library

__all__ = ["AuthenticatedApi", "ConnectSettings"]

#: Pooled connections kept beyond the worker threads, for readers running beside the tree (see ``_build``).
SIDE_READERS = 4

@dataclass(frozen=True)
class ConnectSettings:
    """What a connection outside the pool (exec/port-forward WebSockets) needs to reach the server as this client.

    Attributes:
        server: The API server URL (``https://host:port``, maybe with a path prefix).
        verify: Verify the server certificate (False only when the kubeconfig says insecure-skip-tls-verify).
        ca_file: CA bundle file (the loader writes ``certificate-authority-data`` to one).
        ca_data: CA certificates in PEM, when given as data.
        cert_file: Client certificate file, if any.
        key_file: Client key file, if any.
        server_name: ``tls-server-name``: the name to verify instead of the URL's host.
        headers: Authentication headers (never logged).
    """

    server: str
    verify: bool
    ca_file: str | None
    ca_data: str | None
    cert_file: str | None
    key_file: str | None
    server_name: str | None
    headers: dict[str, str] = field(default_factory=dict)


class AuthenticatedApi:
    """One kubeconfig context's authenticated transport and its credentials; thread-safe.

    The base of :class:`~kube9_desktop.kube.client.ContextClient`, which adds the requests.

    Args:
        kubeconfig: The merged kubeconfig.
        context: The context name.
        options: Timeouts, pool size, retries, exec timeout.
        exec_auth: The context's shared exec credential (another client of the same context passes its own
            :attr:`exec_auth`); a new one when None and the user has an ``exec`` plugin.
        plugins: The owner's running exec plugins (killed when the owner closes); for a new ``exec_auth``.
    """

    def __init__(self, kubeconfig: Kubeconfig, context: str, options: KubeOptions,
                 exec_auth: ExecAuth | None = None, plugins: PluginProcesses | None = None) -> None:
        self.context = context
        self.options = options
        info = kubeconfig.context(context)  # raises KubeError KUBECONFIG
        self.auth = info.auth
        self._config_dict = kubeconfig.config_for(context)
        user = self._config_dict["users"][0]["user"] if self._config_dict["users"] else {}
        #: The file kubectl needs as --kubeconfig to find this context (None: it finds it by default).
        self.kubectl_kubeconfig = kubectl_kubeconfig(kubeconfig, context)
        cluster = (self._config_dict["clusters"][0] or {}).get("cluster") or {} if self._config_dict["clusters"] \
            else {}
        self.server, self._assumed_scheme = with_scheme(info.server.rstrip("/"))
        if self._assumed_scheme and isinstance(cluster, dict):
            cluster["server"] = self.server
        # Whether an http:// server answered a TLS handshake (checked once, after a failure that suggests it).
        self._speaks_tls: bool | None = None
        self._exec_cfg: dict[str, Any] | None = user.get("exec") if isinstance(user.get("exec"), dict) else None
        self.exec_command = str(self._exec_cfg.get("command")) if self._exec_cfg else None
        self.exec_auth: ExecAuth | None = None
        if self._exec_cfg is not None:
            self.exec_auth = exec_auth or ExecAuth(self._exec_cfg, context, self.server, plugins)
        self._stats = PoolStats()
        self._lock = threading.RLock()
        self._auth_lock = threading.Lock()
        self._cred: ExecCredential | None = None  # the exec credential this client's transport is using
        self._retired: list[Transport] = []
        self._closed = False
        # The deadlines of this client's requests in flight: closing the client ends those requests at once.
        self._deadlines: set[Deadline] = set()
        self._deadlines_lock = threading.Lock()
        self._transport = self._build()

    # -- construction ----------------------------------------------------------------------------------------

    def _build(self) -> Transport:
        """Build a fresh transport (runs the exec plugin if the user has one); raises KubeError.

        Most users are read here (:func:`.transport.direct_settings`); an ``auth-provider`` or a ``proxy-url``
        goes through the official loader (:mod:`.library_client`, which imports ``kubernetes``).
        """
        config_dict = user_credentials(self._config_dict, self.context)
        if self.exec_auth is not None:
            cred = self.exec_auth.get(self.options.exec_timeout)
            self._cred = cred
            config_dict = with_exec_credential(self._config_dict, cred)
        # Sized to the worker threads so parallel requests never wait for (or discard) a pooled connection, plus
        # room for the readers that run beside the tree's workers (the usage poller, the overview, the details
        # pane's get): with exactly ``workers`` the demo logged "Connection pool is full, discarding connection"
        # and paid a fresh TLS handshake for each discarded one. The tree alone uses about ``workers``: a burst
        # sent from one thread (send_many, at most ``workers`` at once) may overlap the worker threads' requests.
        pool_size = max(1, self.options.workers) + SIDE_READERS
        transport: Transport
        try:
            if needs_library(config_dict) is None:
                settings = direct_settings(config_dict, self.context)
                transport = Transport(make_pool_manager(settings, pool_size, self._stats), settings)
            else:
                from kube9_desktop.kube.library_client import library_transport

                transport = library_transport(config_dict, self.context, pool_size, self._stats,
                                              exec_managed=self.exec_auth is not None)
        except KubeError:
            raise
        except Exception as exc:  # ConfigException, OSError (missing cert file), ValueError ...
            err = transform_exception(exc, context=self.context, server=self.server, options=self.options)
            if err.kind in (ErrorKind.UNREACHABLE, ErrorKind.UNKNOWN, ErrorKind.PROTOCOL):
                err = KubeError(
                    ErrorKind.KUBECONFIG,
                    "Kubeconfig problem",
                    f"The kubeconfig entry for context {self.context} cannot be used: {exc}"[:400],
                    hint="Check the file paths and base64 data of the cluster and user entries.",
                    context=self.context,
                    details={"error": type(exc).__name__},
                )
            raise err from None
        if not transport.settings.verify:
            # The user chose insecure-skip-tls-verify for this cluster (kubectl stays quiet about it too);
            # urllib3 would otherwise warn on every single request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        return transport

    @property
    def transport(self) -> Transport:
        """The current transport (pool and credentials)."""
        return self._transport

    def connect_settings(self) -> ConnectSettings:
        """The TLS settings and current auth headers for a connection of our own (renews exec credentials)."""
        self._sync_exec()
        transport = self._transport
        tls = transport.settings
        headers: dict[str, str] = {}
        authorization = transport.authorization()
        if authorization:
            headers["Authorization"] = authorization
        return ConnectSettings(
            server=self.server,
            verify=tls.verify,
            ca_file=tls.ca_file,
            ca_data=tls.ca_data,
            cert_file=tls.cert_file,
            key_file=tls.key_file,
            server_name=tls.server_name,
            headers=headers,
        )

    def _sync_exec(self) -> None:
        """Use the context's newest exec credential: renewed first when it is about to expire, or taken over
        when the context's other client already renewed it."""
        if self.exec_auth is None:
            return
        cred = self.exec_auth.current
        if cred is not None and cred.expires is not None and time.time() >= cred.expires - EXPIRY_MARGIN:
            cred = self.exec_auth.renew(cred, self.options.exec_timeout, rejected=False)
        if cred is not None and cred is not self._cred:
            self._adopt(cred)

    def _adopt(self, cred: ExecCredential) -> None:
        with self._auth_lock:
            if cred is self._cred:
                return
            if cred.token and self._cred is not None and self._cred.token:
                self._transport.set_bearer(cred.token)
                self._cred = cred
                return
        self._rebuild()  # client certificates from a plugin: a new client (it reads exec_auth's current one)

    def _rebuild(self) -> None:
        new = self._build()
        with self._lock:
            self._retired.append(self._transport)
            self._transport = new

    def _reauthenticate(self, seen: ExecCredential | None) -> bool:
        """After a 401: a newer exec credential (another client's or a new plugin run), or a rebuilt client for
        other auth (OIDC refreshes expired id-tokens on load, tokenFile is re-read). False when there is nothing
        newer worth a retry."""
        if self.exec_auth is not None:
            cred = self.exec_auth.renew(seen, self.options.exec_timeout, rejected=True)
            if cred is None or cred is seen:
                return False
            self._adopt(cred)
            return True
        with self._auth_lock:
            self._rebuild()
        return True
