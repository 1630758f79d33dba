"""The official loader, for the kubeconfig users kube9 does not read itself (an ``auth-provider``, a ``proxy-url``).

:func:`library_transport` builds a ``kubernetes`` ``ApiClient`` with the official per-context loader into a fresh
``Configuration`` (never the process-global default, which races between contexts) and hands its urllib3 pool and
its ``Authorization`` header (the loader's refresh hook runs before each request, as the ``ApiClient`` runs it:
OIDC refreshes an expired id-token there) to the requests as a :class:`~kube9_desktop.kube.transport.Transport`.

Libraries: this module alone imports ``kubernetes`` (0.2-0.35 s of imports, paid only by processes that have such
a user); exceptions of the loader are the caller's to map (:func:`.status_errors.transform_exception`).
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiClient, Configuration
from kubernetes.config.kube_config import new_client_from_config_dict

from kube9_desktop.kube.pool import PoolStats, counting_pool_classes, share_ssl_context
from kube9_desktop.kube.transport import DirectSettings, Transport

__all__ = ["LibraryTransport", "library_transport"]


class LibraryTransport(Transport):
    """A :class:`Transport` over an official ``ApiClient``: the loader's configuration keeps the credentials."""

    def __init__(self, api: ApiClient) -> None:
        cfg = api.configuration
        super().__init__(
            api.rest_client.pool_manager,
            DirectSettings(
                host=cfg.host,
                verify=bool(cfg.verify_ssl),
                ca_file=cfg.ssl_ca_cert or None,
                ca_data=cfg.ca_cert_data or None,
                cert_file=cfg.cert_file or None,
                key_file=cfg.key_file or None,
                server_name=cfg.tls_server_name or None,
            ),
        )
        self.api = api

    def authorization(self) -> str | None:
        """The header as ``ApiClient.param_serialize`` sets it (running the loader's refresh hook)."""
        cfg = self.api.configuration
        if "BearerToken" not in cfg.api_key and "authorization" not in cfg.api_key:
            return None
        value: str | None = cfg.get_api_key_with_prefix("BearerToken", alias="authorization")
        return value

    def set_bearer(self, token: str) -> None:
        """Use a new bearer token (an exec plugin's)."""
        self.api.configuration.api_key["BearerToken"] = f"Bearer {token}"

    def close(self) -> None:
        """Close the client's pool."""
        self.api.close()


def library_transport(config_dict: dict[str, Any], context: str, maxsize: int, stats: PoolStats,
                      exec_managed: bool) -> LibraryTransport:
    """Build the context's client with the official loader; raises the loader's exceptions.

    Args:
        config_dict: The one-context kubeconfig dict (tokenFile read, exec credential applied).
        context: The context name.
        maxsize: Connections kept per host (the worker threads).
        stats: The context's counters (counting pool classes).
        exec_managed: The user has an exec plugin whose tokens kube9 renews (the loader's hook would re-apply
            its own stale one before every request).
    """
    cfg = Configuration()
    # Sized to the worker threads so parallel requests never wait for (or discard) a pooled connection.
    cfg.connection_pool_maxsize = max(1, maxsize)
    # No urllib3-level retries: our own loop retries with backoff, Retry-After and correct error mapping.
    cfg.retries = False
    api = new_client_from_config_dict(config_dict=config_dict, context=context, persist_config=False,
                                      client_configuration=cfg)
    if exec_managed:
        cfg.refresh_api_key_hook = None
    pool_manager = api.rest_client.pool_manager
    pool_manager.pool_classes_by_scheme = counting_pool_classes(stats)
    share_ssl_context(pool_manager.connection_pool_kw)
    return LibraryTransport(api)
