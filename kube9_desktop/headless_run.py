"""Headless ``--run``: commands through the same registry and handlers as the window, printed.

``kube9-desktop --run 'scale team-a/deploy/api 5' --run '...' [--yes]`` runs each line in order against the real
service (no window), prints what a user would be told, and stops at the first failure with its exit status.
``--yes`` answers confirmations; without it a destructive command refuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from kube9_desktop.commands import load_all
from kube9_desktop.commands.registry import AccessChecker, Option
from kube9_desktop.commands.runner import run_line
from kube9_desktop.text import escape_output

if TYPE_CHECKING:
    from kube9_desktop.config.values import Settings
    from kube9_desktop.kube.service import KubeService


class HeadlessPort:
    """The :class:`~kube9_desktop.commands.registry.UserPort` of ``--run``: stdout for the user, ``--yes`` for
    questions.

    Args:
        yes: Answer every confirmation with yes (``--yes``).
        out: Where the user's text goes.
        err: Where refusals and problems go.
    """

    interactive = False

    def __init__(self, yes: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                 settings: Settings | None = None) -> None:
        self.yes = yes
        self.out = out
        self.err = err
        self.settings = settings

    async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                      options: Sequence[Option] = (), args: argparse.Namespace | None = None) -> bool:
        """``--yes`` answers; without it a destructive question is refused with a note on stderr (the options
        are the command line's)."""
        if self.yes:
            return True
        if destructive:
            print(f"kube9-desktop: {escape_output(question)} Refused: add --yes to confirm.", file=self.err)
            return False
        return True

    async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        """Headless takes the default (commands take their numbers as arguments)."""
        return default

    def tell(self, text: str) -> None:
        """Print a line for the user."""
        print(escape_output(text), file=self.out, flush=True)

    def open_view(self, view: str, payload: Any) -> bool:
        """No views headless: the handler prints instead. The one exception keeps no widget: ``remember-namespace``
        (``(context, namespace)``) saves to the settings file, where there is one."""
        if view == "remember-namespace" and self.settings is not None:
            context, namespace = payload
            self.settings.add_accessible_namespace(context, namespace)
            return True
        return False


async def run_commands(service: KubeService, args: argparse.Namespace, out: TextIO = sys.stdout,
                       err: TextIO = sys.stderr, access: AccessChecker | None = None,
                       settings: Settings | None = None) -> int:
    """Run every ``--run`` line in order; returns 0, or the first failure's exit status."""
    load_all()
    context = args.context or service.kubeconfig.current_context or ""
    if access is None:
        access = service.access
    port = HeadlessPort(yes=bool(args.yes), out=out, err=err, settings=settings)
    for line in args.run:
        result = await run_line(line, service=service, context=context, ui=port, access=access)
        if result.message:
            if result.ok:
                print(escape_output(result.message), file=out, flush=True)
            else:
                print(f"kube9-desktop: {escape_output(result.message)}", file=err, flush=True)
        if not result.ok:
            return result.exit_code or 1
    return 0
