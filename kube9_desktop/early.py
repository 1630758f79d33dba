"""The data service of a ``--print-tree`` run, started before Qt is imported (:func:`start`, :func:`take`).

A ``--print-tree`` process spent its first ~250 ms importing PySide6 and qasync and creating the application, and
only then read the kubeconfig, imported the API client (urllib3, ~50 ms of CPU) and opened the context's
connections (six TLS handshakes, ~1.5 ms of CPU each on each side), right before the top level's first request.
The handshakes' cryptography (in C, without the GIL) and the server's side of them can run while the interpreter
imports Qt, so :func:`start` does all of it on a thread of its own as soon as the command line is parsed, and
``--print-tree`` takes the prepared service (:func:`take`) when it gets there.

Only when everything it needs is known without Qt: the settings are a headless run's defaults (no
``--settings-file``, whose values would need ``QSettings`` to read) and the kubeconfig is a file given or found
from the environment (not ``--demo``, whose sim starts later). The run takes the service only if it was built with
exactly the backend, options and kubeconfig files its own settings give (:meth:`EarlyService.matches`); otherwise
it closes it and builds its own as before.
"""

from __future__ import annotations

import argparse
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService


class EarlyService:
    """A data service being built on a thread of its own (:meth:`run`), and what it was built with.

    Attributes:
        kubeconfig: The ``--kubeconfig`` path given (``None``: the environment's).
        context: The ``--context`` given (``None``: the kubeconfig's current context).
        backend: The ``--backend`` given (``None``: the settings' default).
        built_with: The backend, extra kubeconfig files and options it was built with (set by :meth:`run`).
        future: Resolves to the prepared service, or to the exception that stopped it.
    """

    def __init__(self, kubeconfig: str | None, context: str | None, backend: str | None) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.backend = backend
        self.built_with: tuple[str, list[str], Any] | None = None
        self.future: Future[KubeService] = Future()

    def run(self) -> None:
        """Read the kubeconfig, create the service and prepare its context (the thread's body)."""
        try:
            from kube9_desktop.config import schema
            from kube9_desktop.kube.kubeconfig import collector_paused, load_kubeconfig
            from kube9_desktop.kube.service import KubeService

            values = schema.defaults()  # a headless run without --settings-file has nothing but the defaults
            backend = self.backend or values["network/backend"]
            extra = list(values["kubeconfig/extra_paths"])
            options = schema.kube_options(values)
            self.built_with = (backend, extra, options)
            if backend == "api":
                import kube9_desktop.kube.fetch  # noqa: F401  (the API client's modules: urllib3, ~50 ms of CPU)
            with collector_paused():
                cfg = load_kubeconfig(self.kubeconfig, extra)
            service = KubeService(cfg, options, backend=backend, kubeconfig_path=self.kubeconfig)
            service.prepare(self.context or cfg.current_context or "")
        except BaseException as exc:  # whatever it is, the run builds its own service and meets it there
            self.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.future.set_result(service)

    def matches(self, backend: str, extra_paths: list[str], options: Any) -> bool:
        """Whether it was built with exactly these (the ones the run's own settings give)."""
        return self.built_with == (backend, list(extra_paths), options)


_EARLY: EarlyService | None = None


def start(args: argparse.Namespace) -> EarlyService | None:
    """Start building ``--print-tree``'s data service on a thread of its own if everything it needs is known
    without Qt (see the module's docstring); returns it, or ``None``."""
    global _EARLY
    if not args.print_tree or args.run or args.screenshot or args.demo or args.settings_file:
        return None
    early = EarlyService(args.kubeconfig, args.context, args.backend)
    # A daemon: reading a kubeconfig on a hung file system must not keep the process from exiting.
    threading.Thread(target=early.run, name="kube9-early", daemon=True).start()
    _EARLY = early
    return early


def take() -> EarlyService | None:
    """The service :func:`start` started, once (``None`` if none was)."""
    global _EARLY
    early, _EARLY = _EARLY, None
    return early
