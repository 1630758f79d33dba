"""The one registry of user commands, declared as data.

Every action a user can take (delete, scale, logs, exec, overview, ...) is a :class:`Command` registered here once.
The window's context menu, toolbar, keyboard shortcuts and command palette, and the headless ``--run`` are all
*views* of this registry (qutebrowser's ``cmdutils.register`` and VS Code's contributions are the model): nothing is
wired by hand in one place only.

A command's handler is an ``async`` function taking an :class:`Invocation` and returning a :class:`Result`. It talks
to the user only through ``invocation.ui`` (a :class:`UserPort`): the window implements it with dialogs and docks,
headless ``--run`` with stdout and ``--yes``. This module imports no Qt.

Adding a family of commands: write ``commands/<family>.py`` that calls :func:`command` (or ``REGISTRY.register``)
at import time, and add the module's name to ``FAMILIES`` in ``commands/__init__.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

if TYPE_CHECKING:
    from kube9_desktop.kube.kinds import Kind
    from kube9_desktop.kube.service import KubeService


class Selection(StrEnum):
    """How many objects a command acts on."""

    NONE = "none"  # no target object (overview, fleet, apply, help)
    SINGLE = "single"  # exactly one object
    MULTI = "multi"  # one or more objects of the command's kinds


@dataclass(frozen=True)
class Access:
    """The API permission a command needs, for a SelfSubjectAccessReview before it is offered.

    Attributes:
        verb: ``delete``, ``patch``, ``update``, ``create``, ``get`` ...
        resource: The plural (``pods``); ``"*"`` means the target's own kind.
        group: API group (``""`` for core); ignored when ``resource`` is ``"*"`` (the target's group is used).
        subresource: ``scale``, ``log``, ``exec``, ``eviction``, ``portforward`` or ``""``.
    """

    verb: str
    resource: str = "*"
    group: str = ""
    subresource: str = ""

    def for_kind(self, kind: Kind | None) -> Access:
        """This access with ``"*"`` resolved to ``kind``'s resource and group."""
        if self.resource != "*" or kind is None:
            return self
        return Access(self.verb, kind.plural, kind.group, self.subresource)

    def describe(self, namespace: str | None) -> str:
        """``delete pods in team-a`` (for reasons and messages)."""
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        return f"{self.verb} {what}" + (f" in {namespace}" if namespace else "")


@dataclass(frozen=True)
class Target:
    """One object a command acts on.

    Attributes:
        context: Context name.
        kind: The object's kind.
        namespace: Its namespace (``None`` for cluster-scoped kinds).
        name: Its name.
        container: A container picked in the tree (a container row), if any.
    """

    context: str
    kind: Kind
    namespace: str | None
    name: str
    container: str | None = None

    @property
    def address(self) -> str:
        """The ``[context:]namespace/kind/name`` form ``--run`` accepts (without the context)."""
        kind = self.kind.plural if not self.kind.group else f"{self.kind.plural}.{self.kind.group}"
        return f"{self.namespace}/{kind}/{self.name}" if self.namespace else f"{kind}/{self.name}"

    def describe(self) -> str:
        """``pod api-1 in team-a`` (for messages)."""
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.kind.kind.lower()} {self.name}{where}"


@dataclass(frozen=True)
class Option:
    """One of a command's own options that a confirmation can offer (taken from its argparse ``params``).

    Attributes:
        dest: The attribute it sets on the command's arguments (``grace_period``).
        flag: Its command-line spelling (``--grace-period``).
        label: What the dialog shows (its help text).
        number: True for a number (``type=int``; ``None`` means "the default"), False for a switch.
    """

    dest: str
    flag: str
    label: str
    number: bool


@dataclass(frozen=True)
class Result:
    """What a command tells the user when it ends.

    Attributes:
        ok: Whether it did what was asked.
        message: One or a few lines in the app's friendly voice ("Scaled deployment api in team-a to 5.").
        exit_code: The process status headless ``--run`` exits with (0 when ``ok``; a command like ``exec``
            passes the remote command's own status through).
        kubectl: The exact equivalent ``kubectl`` command line, where one exists (for "Copy as kubectl").
        data: A structured payload for the view that shows the result (overview, diagnosis ...), if any.
    """

    ok: bool
    message: str = ""
    exit_code: int = 0
    kubectl: str | None = None
    data: Any = None

    @classmethod
    def success(cls, message: str = "", **kw: Any) -> Result:
        """A successful result."""
        return cls(True, message, 0, **kw)

    @classmethod
    def failure(cls, message: str, exit_code: int = 1, **kw: Any) -> Result:
        """A failed result (exit status 1 unless given)."""
        return cls(False, message, exit_code or 1, **kw)


class UserPort(Protocol):
    """How a handler talks to the user; the window and headless ``--run`` each implement it."""

    interactive: bool  # True in the window (views can be opened), False headless

    async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                      options: Sequence[Option] = (), args: argparse.Namespace | None = None) -> bool:
        """Ask yes/no (headless: ``--yes`` answers; without it a destructive question is refused).

        ``options`` (the command's own, with their current values in ``args``) may be offered beside the question;
        what the user chooses is written back into ``args`` when they confirm (the window does; headless takes
        them from its command line).
        """
        ...

    async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        """Ask for a number (headless: the default); ``None`` when cancelled."""
        ...

    def tell(self, text: str) -> None:
        """Show information as it happens (headless: print a line to stdout)."""
        ...

    def open_view(self, view: str, payload: Any) -> bool:
        """Open a view (a dock tab, a page) for ``payload``; returns False where views cannot be opened."""
        ...


class AccessChecker(Protocol):
    """Answers whether the user may do something (SelfSubjectAccessReview, cached)."""

    async def denied(self, context: str, access: Access, namespace: str | None) -> str | None:
        """``None`` when allowed, else the reason in plain words ("You may not delete pods in team-a")."""
        ...


@dataclass
class Invocation:
    """One run of a command: what it acts on and how it reaches the user and the cluster.

    Attributes:
        command: The command being run.
        service: The data layer (clients, cache, kinds).
        context: The context the command runs in.
        targets: The objects selected (empty for ``Selection.NONE``).
        args: The command's own options, parsed by its ``params`` (an empty namespace if it has none).
        ui: The user port.
    """

    command: Command
    service: KubeService
    context: str
    targets: list[Target]
    args: argparse.Namespace
    ui: UserPort

    @property
    def target(self) -> Target:
        """The one target of a single-selection command."""
        return self.targets[0]


Handler = Callable[[Invocation], Awaitable[Result]]
ParamsSpec = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """One user command, declared once.

    Attributes:
        id: The name typed after ``--run`` and in the command line (``scale``, ``port-forward``).
        title: Menu and palette text ("Scale…").
        handler: The async function that does it.
        kinds: Kind keys it applies to (``pods``, ``deployments``); empty with ``Selection.NONE`` means no target,
            empty with a target selection means any kind.
        selection: How many targets it takes.
        destructive: Confirm first (headless: needs ``--yes``).
        shortcut: Default key sequence in Qt's portable text form (``Ctrl+Shift+P``, ``L``, ``Del``).
        icon: Icon file stem under ``resources/icons``.
        needs: The permission to check before offering it (``None``: nothing to check).
        params: Adds the command's own options and positionals to an argparse parser (``scale``: ``replicas``).
        menu: The context-menu group it appears in (commands of one group are listed together).
        help: One sentence for ``--run help`` and the palette's second line.
        when: Optional predicate on a target: is the command meaningful for this object now (``uncordon`` only
            on a cordoned node)? The window hides commands whose ``when`` is False; ``--run`` still runs them.
        palette: Whether the palette lists it (False for internal commands).
        aliases: Other ids it answers to.
        kubectl: Optional function ``(targets, args) -> str`` giving the exact equivalent kubectl command line
            *before* running (the window's "Copy as kubectl"); :attr:`Result.kubectl` says it after a run.
        containers: Whether it acts on one container of a pod (logs, shell): the commands offered on a container
            row of the tree, whose target names the container (:attr:`Target.container`).
    """

    id: str
    title: str
    handler: Handler
    kinds: frozenset[str] = frozenset()
    selection: Selection = Selection.SINGLE
    destructive: bool = False
    shortcut: str | None = None
    icon: str | None = None
    needs: Access | None = None
    params: ParamsSpec | None = None
    menu: str = "Actions"
    help: str = ""
    when: Callable[[Target], bool] | None = None
    palette: bool = True
    aliases: tuple[str, ...] = field(default=())
    question: Callable[[Sequence[Target]], tuple[str, str | None]] | None = None
    kubectl: Callable[[list[Target], argparse.Namespace], str | None] | None = None
    containers: bool = False

    def applies_to(self, targets: Sequence[Target]) -> bool:
        """Whether the command can act on this selection (kinds and count; not permissions)."""
        if self.selection is Selection.NONE:
            return True
        if not targets or (self.selection is Selection.SINGLE and len(targets) != 1):
            return False
        if not self.containers and any(t.container for t in targets):
            return False  # a container row offers what acts on a container, not what acts on its pod
        return not self.kinds or all(t.kind.key in self.kinds for t in targets)

    def parser(self) -> argparse.ArgumentParser:
        """An argparse parser for the command's own arguments (raises :class:`CommandError`, never exits)."""
        p = CommandParser(prog=self.id, description=self.help, add_help=False, exit_on_error=False)
        if self.params is not None:
            self.params(p)
        return p

    def options(self) -> list[Option]:
        """The command's optional numbers and switches, as a confirmation offers them (``delete``: grace period,
        force); positionals and text options are left to the command line."""
        found: list[Option] = []
        for action in self.parser()._actions:
            if not action.option_strings or action.dest == "help":
                continue
            flag = max(action.option_strings, key=len)
            label = (action.help or flag.lstrip("-").replace("-", " ")).split(" (")[0]
            if action.nargs == 0 and action.const is True:  # store_true
                found.append(Option(action.dest, flag, label, number=False))
            elif action.type is int:
                found.append(Option(action.dest, flag, label, number=True))
        return found

    def usage(self) -> str:
        """``scale ADDRESS replicas`` (for help and error messages)."""
        target = {Selection.NONE: "", Selection.SINGLE: " ADDRESS", Selection.MULTI: " ADDRESS..."}[self.selection]
        rest = self.parser().format_usage().strip().removeprefix("usage: ").removeprefix(self.id)
        return f"{self.id}{target}{rest}".rstrip()


class CommandError(Exception):
    """A command line that cannot be run: unknown command, bad arguments, bad address."""


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose errors are :class:`CommandError` values instead of ``sys.exit``."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as exc:
            raise CommandError(f"{self.prog}: {exc}") from None

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise CommandError(message or f"{self.prog}: stopped")


class Registry:
    """All commands by id, in registration order."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._aliases: dict[str, str] = {}

    def register(self, cmd: Command) -> Command:
        """Add ``cmd``; ids and shortcuts must be unique (a clash is a programming error)."""
        if cmd.id in self._commands or cmd.id in self._aliases:
            raise ValueError(f"command {cmd.id!r} registered twice")
        if cmd.shortcut and any(c.shortcut == cmd.shortcut for c in self._commands.values()):
            raise ValueError(f"shortcut {cmd.shortcut!r} of {cmd.id!r} already taken")
        self._commands[cmd.id] = cmd
        for a in cmd.aliases:
            self._aliases[a] = cmd.id
        return cmd

    def unregister(self, command_id: str) -> None:
        """Remove a command (tests)."""
        cmd = self._commands.pop(command_id)
        for a in cmd.aliases:
            self._aliases.pop(a, None)

    def get(self, command_id: str) -> Command:
        """The command ``command_id`` (or an alias); raises :class:`CommandError`."""
        cid = self._aliases.get(command_id, command_id)
        try:
            return self._commands[cid]
        except KeyError:
            raise CommandError(f"unknown command {command_id!r}; `--run help` lists the commands") from None

    def all(self) -> list[Command]:
        """Every command, in registration order."""
        return list(self._commands.values())

    def applicable(self, targets: Sequence[Target]) -> list[Command]:
        """Commands that can act on ``targets`` (with an empty selection: the target-less ones)."""
        out = []
        for c in self._commands.values():
            if not targets and c.selection is not Selection.NONE:
                continue
            if targets and c.selection is Selection.NONE:
                continue
            if c.applies_to(targets) and (c.when is None or all(c.when(t) for t in targets)):
                out.append(c)
        return out

    def __contains__(self, command_id: str) -> bool:
        return command_id in self._commands or command_id in self._aliases

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())


REGISTRY = Registry()


def command(
    id: str,
    title: str,
    *,
    registry: Registry | None = None,
    **kw: Any,
) -> Callable[[Handler], Handler]:
    """Decorator: register the decorated async handler as a command.

    Example::

        @command("scale", "Scale…", kinds=frozenset({"deployments"}), needs=Access("update", subresource="scale"),
                 params=lambda p: p.add_argument("replicas", type=int))
        async def scale(inv: Invocation) -> Result: ...
    """

    def deco(fn: Handler) -> Handler:
        (registry or REGISTRY).register(Command(id=id, title=title, handler=fn, **kw))
        return fn

    return deco
