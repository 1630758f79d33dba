"""``--print-tree``'s context prepared before Qt is imported (:func:`prepare`, :func:`take`).

A ``--print-tree`` process spent its first ~250 ms importing PySide6 and qasync and creating the application, and
only then read the kubeconfig, imported the API client (urllib3, ~50 ms of CPU) and opened the context's
connections (six TLS handshakes, ~1.2 ms of CPU each on our side and as much on the server's) right before the
top level's first request, which then waited for them. :func:`prepare` reads the kubeconfig and imports the client
first and starts opening the connections on the API backend's threads; the handshakes (their cryptography holds no
GIL) and the server's side of them then run while the interpreter imports Qt, and the run's service takes that
backend (:func:`take`, ``KubeService(api_backend=...)``).

Done on the main thread, not beside Qt's import on another: two threads running Python only take turns on the GIL
(the Python work is the same either way, and every turn costs), and the part that can run beside Qt's import is
what the backend's threads start.

Only when everything it needs is known without Qt: the settings are a headless run's defaults (no
``--settings-file``, whose values would need ``QSettings`` to read) and the kubeconfig is a file given or found
from the environment (not ``--demo``, whose sim starts later). The run takes the prepared backend only if its own
settings give the same backend, options and kubeconfig files (:meth:`Prepared.matches`); otherwise it closes it
and builds everything as before.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kube9_desktop.kube.fetch import ApiBackend
    from kube9_desktop.kube.kubeconfig import Kubeconfig

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A kubeconfig read and a context's API backend prepared before Qt was imported, and what they were made with.

    Attributes:
        kubeconfig_path: The ``--kubeconfig`` given (``None``: the environment's).
        kubeconfig: The kubeconfig read.
        backend: The backend the run will use.
        extra_paths: The extra kubeconfig files read.
        options: The data-layer options the API backend was made with.
        api: The API backend, its context being prepared (``None`` for the kubectl backend).
    """

    kubeconfig_path: str | None
    kubeconfig: Kubeconfig
    backend: str
    extra_paths: list[str]
    options: Any
    api: ApiBackend | None

    def matches(self, kubeconfig_path: str | None, backend: str, extra_paths: list[str], options: Any) -> bool:
        """Whether it was made with exactly these (the ones the run's own settings give)."""
        return (self.kubeconfig_path, self.backend, self.extra_paths, self.options) == (
            kubeconfig_path, backend, list(extra_paths), options)

    async def aclose(self) -> None:
        """Close the API backend (its connections and threads), for a run that does not take it."""
        if self.api is not None:
            await self.api.aclose()


_PREPARED: Prepared | None = None


def prepare(args: argparse.Namespace) -> Prepared | None:
    """For ``--print-tree`` with settings known without Qt (see the module's docstring): read the kubeconfig and
    start preparing the context's API backend (its client and connections, on threads of its own); returns what
    was prepared, ``None`` if nothing was. Blocking (the kubeconfig's read and the client's import), so it is
    called before Qt is imported. A failure is left for the run to meet again the usual way."""
    global _PREPARED
    if not args.print_tree or args.run or args.screenshot or args.demo or args.settings_file:
        return None
    try:
        from kube9_desktop.config import schema
        from kube9_desktop.kube.kubeconfig import collector_paused, load_kubeconfig

        values = schema.defaults()  # a headless run without --settings-file has nothing but the defaults
        backend = args.backend or values["network/backend"]
        extra = list(values["kubeconfig/extra_paths"])
        options = schema.kube_options(values)
        with collector_paused():
            cfg = load_kubeconfig(args.kubeconfig, extra)
        api = None
        if backend == "api":
            from kube9_desktop.kube.fetch import ApiBackend
            from kube9_desktop.kube.kinds import TOP_LEVEL_REQUESTS

            api = ApiBackend(cfg, options)
            context = args.context or cfg.current_context or ""
            if context in cfg.names():  # as KubeService.prepare: the load itself says what is wrong
                api.prepare(context, connections=TOP_LEVEL_REQUESTS)
    except Exception:  # whatever it is, the run reads the kubeconfig itself and says so
        log.debug("preparing the context before Qt failed", exc_info=True)
        return None
    _PREPARED = Prepared(args.kubeconfig, cfg, backend, extra, options, api)
    return _PREPARED


def take() -> Prepared | None:
    """What :func:`prepare` prepared, once (``None`` if nothing was)."""
    global _PREPARED
    prepared, _PREPARED = _PREPARED, None
    return prepared
