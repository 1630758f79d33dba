"""A context's transport: the pooled connections, the TLS files and the ``Authorization`` header its requests use.

Most kubeconfig users (a token, a tokenFile, client certificates, basic auth, an exec plugin's token or
certificate) need nothing of the ``kubernetes`` package: :func:`direct_transport` reads the context's cluster and
user entries the way its loader does (``kubernetes.config.kube_config``: data before files, base64 data written to
private temporary files when a file is needed, TLS settings only for ``https`` servers, ``insecure-skip-tls-verify``,
``tls-server-name``) and builds the urllib3 pool through :mod:`.pool`. Importing the package cost 0.2-0.35 s of CPU
in every process that talks to a cluster (its ``__init__`` imports the config loader with requests-oauthlib, the
API response models with pydantic, ``dynamic``, ``stream``, ``watch`` ...), more than the whole top level's load.

Users with an ``auth-provider`` (OIDC refresh, gcp, azure) and clusters reached through a ``proxy-url`` are left to
the official loader (:mod:`.library_client`), which implements them: :func:`needs_library` says which.

Libraries: none here (the pool is :mod:`.pool`'s, the loader :mod:`.library_client`'s).
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from kube9_desktop.kube.errors import ErrorKind, KubeError

__all__ = ["DirectSettings", "Transport", "direct_settings", "needs_library"]


@dataclass(frozen=True)
class DirectSettings:
    """What a request needs from a context's kubeconfig entries.

    Attributes:
        host: The server URL (no trailing slash).
        verify: Verify the server certificate.
        ca_file: CA bundle file.
        ca_data: CA certificates in PEM (from ``certificate-authority-data``).
        cert_file: Client certificate file.
        key_file: Client key file.
        server_name: ``tls-server-name``.
        authorization: The ``Authorization`` header value (``Bearer ...`` / ``Basic ...``), None without one.
    """

    host: str
    verify: bool = True
    ca_file: str | None = None
    ca_data: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    authorization: str | None = None


class Transport:
    """A built client's pool and credentials, as the requests use them; thread-safe.

    Args:
        pool_manager: The urllib3 pool manager (counting pool classes, shared TLS context).
        settings: The TLS settings and the initial ``Authorization`` header.
    """

    def __init__(self, pool_manager: Any, settings: DirectSettings) -> None:
        self.pool_manager = pool_manager
        self.settings = settings
        self._authorization = settings.authorization

    @property
    def host(self) -> str:
        """The server URL requests go to (paths are appended)."""
        return self.settings.host

    def authorization(self) -> str | None:
        """The ``Authorization`` header value for the next request (None: none is sent)."""
        return self._authorization

    def set_bearer(self, token: str) -> None:
        """Use a new bearer token from now on (an exec plugin's renewed one)."""
        self._authorization = f"Bearer {token}"

    def close(self) -> None:
        """Close the pooled connections."""
        self.pool_manager.clear()


def needs_library(config_dict: dict[str, Any]) -> str | None:
    """Why the context needs the official loader (an ``auth-provider``, a ``proxy-url``), None when it does not."""
    user = ((config_dict.get("users") or [{}])[0] or {}).get("user") or {}
    cluster = ((config_dict.get("clusters") or [{}])[0] or {}).get("cluster") or {}
    if isinstance(user, dict) and "auth-provider" in user:
        return "auth-provider"
    if isinstance(cluster, dict) and "proxy-url" in cluster:
        return "proxy-url"
    return None


def direct_settings(config_dict: dict[str, Any], context: str) -> DirectSettings:
    """The TLS settings and ``Authorization`` header of a one-context kubeconfig dict, read as the official loader
    reads them (its tokenFile already read and its exec credential already applied: :mod:`.credentials`).

    Raises:
        KubeError: ``KUBECONFIG`` for a file that does not exist or data that is not base64.
    """
    user = ((config_dict.get("users") or [{}])[0] or {}).get("user") or {}
    cluster = ((config_dict.get("clusters") or [{}])[0] or {}).get("cluster") or {}
    host = str(cluster.get("server") or "http://localhost").rstrip("/")
    authorization: str | None = None
    token = user.get("token")
    if token:
        authorization = f"Bearer {token}"
    elif "username" in user and "password" in user:
        basic = base64.b64encode(f"{user['username']}:{user['password']}".encode("latin-1")).decode()
        authorization = f"Basic {basic}"
    ca_file = ca_data = cert_file = key_file = None
    if host.startswith("https"):
        ca_file, ca_data = _file_or_data(cluster, "certificate-authority", context, pem_ok=True)
        cert_file, _ = _file_or_data(user, "client-certificate", context)
        key_file, _ = _file_or_data(user, "client-key", context)
    verify = not cluster["insecure-skip-tls-verify"] if "insecure-skip-tls-verify" in cluster else True
    server_name = cluster.get("tls-server-name") or None
    return DirectSettings(host=host, verify=bool(verify), ca_file=ca_file, ca_data=ca_data, cert_file=cert_file,
                          key_file=key_file, server_name=server_name, authorization=authorization)


def _file_or_data(entry: dict[str, Any], key: str, context: str, pem_ok: bool = False) -> tuple[str | None, str | None]:
    """``(file, pem_text)`` of ``key`` / ``key-data`` in ``entry``: data wins over a file, as in the loader; with
    ``pem_ok`` PEM data is returned as text (no file written), else data goes to a private temporary file."""
    data_key = f"{key}-data"
    if data_key in entry:
        data = entry[data_key]
        if not data:
            return None, None
        try:
            raw = base64.b64decode(data if isinstance(data, bytes) else str(data).encode(), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise _problem(context, f"{data_key} is not valid base64 ({exc})") from None
        if pem_ok and raw.lstrip().startswith(b"-----BEGIN"):
            return None, raw.decode("ascii", "replace")
        return _temp_file(raw), None
    path = entry.get(key)
    if not path:
        return None, None
    path = os.path.normpath(str(path))
    if not os.path.isfile(path):
        raise _problem(context, f"File does not exist: {path}")
    return path, None


def _problem(context: str, what: str) -> KubeError:
    return KubeError(
        ErrorKind.KUBECONFIG,
        "Kubeconfig problem",
        f"The kubeconfig entry for context {context} cannot be used: {what}"[:400],
        hint="Check the file paths and base64 data of the cluster and user entries.",
        context=context,
    )


_temp_lock = threading.Lock()
_temp_dir: str | None = None
_temp_files: dict[bytes, str] = {}


def _temp_file(content: bytes) -> str:
    """A file holding ``content`` (certificate or key) in a private directory removed at exit; one per content."""
    global _temp_dir
    with _temp_lock:
        name = _temp_files.get(content)
        if name is not None and os.path.isfile(name):
            return name
        if _temp_dir is None or not os.path.isdir(_temp_dir):
            _temp_dir = tempfile.mkdtemp(prefix="kube9-tls-")  # mode 0700: only this user reads the keys
            atexit.register(shutil.rmtree, _temp_dir, True)
        fd, name = tempfile.mkstemp(dir=_temp_dir)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        _temp_files[content] = name
        return name
