"""Runs one command line through the registry: the path ``--run``, the window's command line and the palette share.

Order of a run: parse the line (``COMMAND [ADDRESS...] [ARGS]``), resolve the addresses to targets, check the
command fits the selection, ask the server whether the user may (SelfSubjectAccessReview, through an
:class:`AccessChecker`), confirm destructive commands, then call the handler. Every failure comes back as a
:class:`Result` (exit status 2 for a command line that cannot be read), never as an exception.
"""

from __future__ import annotations

import argparse
import logging
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kube9_desktop.commands.address import parse_address
from kube9_desktop.commands.registry import (
    REGISTRY,
    Access,
    AccessChecker,
    Command,
    CommandError,
    Invocation,
    Registry,
    Result,
    Selection,
    Target,
    UserPort,
)
from kube9_desktop.kube.errors import KubeError

if TYPE_CHECKING:
    from kube9_desktop.kube.kinds import Kind
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

USAGE_ERROR = 2


def known_kinds(service: KubeService, context: str) -> list[Kind]:
    """The kinds addresses may name in ``context``: the service's table for it (built-ins, discovered kinds)."""
    return list(service.known_kinds(context))


def split_line(line: str) -> list[str]:
    """Shell-like words of a command line; raises :class:`CommandError` on unbalanced quotes."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise CommandError(f"cannot read the command line {line!r}: {exc}") from None


def _looks_like_address(word: str) -> bool:
    return "/" in word and not word.startswith(("-", "/", ".")) and "=" not in word


def parse_line(line: str, *, service: KubeService, context: str, registry: Registry = REGISTRY,
               default_namespace: str | None = None) -> tuple[Command, list[Target], argparse.Namespace]:
    """Read ``COMMAND [ADDRESS...] [ARGS]`` into the command, its targets and its parsed arguments.

    Raises:
        CommandError: unknown command, bad address, bad or missing arguments, a selection the command does not
            take.
    """
    words = split_line(line)
    if not words:
        raise CommandError("empty command line; `--run help` lists the commands")
    cmd = registry.get(words[0])
    rest = words[1:]
    addresses: list[str] = []
    if cmd.selection is Selection.SINGLE:
        if not rest or rest[0].startswith("-"):
            raise CommandError(f"{cmd.id} needs an object: {cmd.usage()}")
        addresses, rest = rest[:1], rest[1:]
    elif cmd.selection is Selection.MULTI:
        while rest and _looks_like_address(rest[0]):
            addresses.append(rest.pop(0))
        if not addresses:
            raise CommandError(f"{cmd.id} needs one or more objects: {cmd.usage()}")
    contexts = [c.name for c in service.contexts()]
    kinds = known_kinds(service, context)
    targets = [parse_address(a, default_context=context, contexts=contexts, kinds=kinds,
                             default_namespace=default_namespace) for a in addresses]
    if len({t.context for t in targets}) > 1:
        raise CommandError(f"{cmd.id}: all objects must be in one context")
    if not cmd.applies_to(targets):
        kinds_text = ", ".join(sorted(cmd.kinds)) or "any kind"
        got = ", ".join(sorted({t.kind.plural for t in targets}))
        raise CommandError(f"{cmd.id} applies to {kinds_text}, not {got}")
    args = cmd.parser().parse_args(rest)
    return cmd, targets, args


def summarize(cmd: Command, targets: Sequence[Target]) -> str:
    """"Delete 12 pods in team-a" / "Delete pod api-1 in team-a" - the question a destructive command asks."""
    verb = cmd.title.rstrip("…. ")
    if len(targets) == 1:
        return f"{verb} {targets[0].describe()}"
    kinds = {t.kind.plural for t in targets}
    spaces = {t.namespace for t in targets}
    what = kinds.pop() if len(kinds) == 1 else "objects"
    where = f" in {next(iter(spaces))}" if len(spaces) == 1 and None not in spaces else ""
    return f"{verb} {len(targets)} {what}{where}"


def access_questions(cmd: Command, targets: Sequence[Target]) -> list[tuple[Access, str | None]]:
    """The distinct ``(access, namespace)`` questions running ``cmd`` on ``targets`` asks (none without ``needs``)."""
    if cmd.needs is None:
        return []
    out: list[tuple[Access, str | None]] = []
    one: list[Target | None] = list(targets) or [None]
    for t in one:
        q = (cmd.needs.for_kind(t.kind if t else None), t.namespace if t else None)
        if q not in out:
            out.append(q)
    return out


async def denied_reason(cmd: Command, targets: Sequence[Target], context: str,
                        checker: AccessChecker | None) -> str | None:
    """Why the user may not run ``cmd`` on ``targets`` (``None`` when allowed or nothing to check)."""
    if checker is None:
        return None
    for access, ns in access_questions(cmd, targets):
        reason = await checker.denied(context, access, ns)
        if reason:
            return reason
    return None


async def run_command(cmd: Command, targets: list[Target], args: argparse.Namespace, *, service: KubeService,
                      context: str, ui: UserPort, access: AccessChecker | None = None,
                      confirmed: bool = False) -> Result:
    """Check, confirm and run ``cmd`` (the window calls this with the selection's targets).

    Args:
        confirmed: The caller already asked the user (the window's own dialog); skip the generic question.
    """
    reason = await denied_reason(cmd, targets, context, access)
    if reason:
        return Result.failure(reason)
    if cmd.destructive and not confirmed:
        question, typed = (cmd.question(targets) if cmd.question is not None
                           else (summarize(cmd, targets) + "?", None))
        if not await ui.confirm(question, destructive=True, type_to_confirm=typed, options=cmd.options(),
                                args=args):
            return Result.failure(f"{summarize(cmd, targets)}: not confirmed, nothing done", exit_code=1)
    inv = Invocation(command=cmd, service=service, context=context, targets=targets, args=args, ui=ui)
    try:
        return await cmd.handler(inv)
    except KubeError as exc:
        return Result.failure(exc.one_line())
    except CommandError as exc:
        return Result.failure(str(exc), exit_code=USAGE_ERROR)


async def run_line(line: str, *, service: KubeService, context: str, ui: UserPort,
                   access: AccessChecker | None = None, registry: Registry = REGISTRY,
                   default_namespace: str | None = None) -> Result:
    """Parse and run one command line; every failure comes back as a :class:`Result`."""
    try:
        cmd, targets, args = parse_line(line, service=service, context=context, registry=registry,
                                        default_namespace=default_namespace)
    except CommandError as exc:
        return Result.failure(str(exc), exit_code=USAGE_ERROR)
    ctx = targets[0].context if targets else context
    return await run_command(cmd, targets, args, service=service, context=ctx, ui=ui, access=access)
