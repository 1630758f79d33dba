"""The registry's face in the window: context menu, actions menu, shortcuts and runs, all built from
:mod:`kube9_desktop.commands.registry`.

Nothing here knows a command by name: what a menu shows is ``REGISTRY.applicable(targets)`` grouped by
``Command.menu``; a shortcut is ``Command.shortcut``; a click runs ``runner.run_command`` with the window's
:class:`~kube9_desktop.ui.window_port.WindowPort`. Commands the user may not run are shown disabled with the reason
(asked of ``service.access`` when the menu opens, whose answers are kept per context for 60 s), never hidden.

After a write succeeds, :class:`~kube9_desktop.ui.write_follower.WriteFollower` brings the rows it touched up to
date at once (Terminating rows, reloads of lists no watch keeps current).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import logging
import shlex
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QMenu, QToolBar, QToolButton

from kube9_desktop.commands import load_all
from kube9_desktop.commands.registry import (
    REGISTRY,
    AccessChecker,
    Command,
    CommandError,
    Registry,
    Result,
    Selection,
    Target,
)
from kube9_desktop.commands.runner import (
    USAGE_ERROR,
    access_questions,
    denied_reason,
    parse_line,
    run_command,
    summarize,
)
from kube9_desktop.model import render
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.ui.write_follower import READ_VERBS, WriteFollower

__all__ = ["READ_VERBS", "CommandBridge", "kubectl_for", "target_of"]

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow
    from kube9_desktop.ui.palette import CommandPalette

log = logging.getLogger(__name__)

#: Seconds an access answer is reused for menus, for a checker that keeps none itself (``service.access`` keeps its
#: own, which the menus read: see :meth:`CommandBridge.known_reason`).
ACCESS_TTL = 60.0
CHECKING = "Checking whether you may…"
#: A result longer than this many lines (help, a drain report) also opens in a tab of the bottom dock.
LONG_RESULT_LINES = 6
#: Menu groups listed after the others (in this order); the rest keep registration order.
LAST_GROUPS = ("View", "Copy", "Help")


def is_text_shortcut(shortcut: str) -> bool:
    """A one-character punctuation shortcut (``:``), matched by the text typed rather than the key."""
    return len(shortcut) == 1 and not shortcut.isalnum() and not shortcut.isspace()


def group_rank(group: str) -> int:
    """Sort key of a menu group: the :data:`LAST_GROUPS` last, the others in registration order."""
    return LAST_GROUPS.index(group) if group in LAST_GROUPS else -1


def target_of(node: TreeNode) -> Target | None:
    """The :class:`Target` an object row stands for: a container row stands for its pod with the container
    named (``None`` for lists, groups, messages)."""
    if node.type is NodeType.CONTAINER and node.parent is not None and node.row is not None:
        pod = target_of(node.parent)
        return dataclasses.replace(pod, container=node.row.name) if pod is not None else None
    if node.type is not NodeType.OBJECT or node.kind is None or node.row is None:
        return None
    return Target(context=node.context, kind=node.kind, namespace=node.row.namespace, name=node.row.name)


def kubectl_for(cmd: Command, targets: Sequence[Target], args: argparse.Namespace | None = None) -> str | None:
    """The kubectl equivalent of running ``cmd`` on ``targets`` with ``args`` (default arguments when ``None``),
    computed before running, where the command declares one (``Command.kubectl``)."""
    fn = getattr(cmd, "kubectl", None)
    if not callable(fn):
        return None
    if args is None:
        try:
            args = cmd.parser().parse_args([])
        except CommandError:
            args = argparse.Namespace()
    try:
        text = fn(list(targets), args)
    except (AttributeError, KeyError, TypeError, ValueError):  # an argument it needs is not there yet
        return None
    return text if isinstance(text, str) and text else None


class CommandBridge(QObject):
    """Menus, shortcuts and runs of the registry's commands for one main window.

    Signals:
        finished(Command, list, Result): a command run from the window ended (tests and the benchmark wait for it).
    """

    finished = Signal(object, object, object)

    def __init__(self, window: MainWindow, registry: Registry = REGISTRY) -> None:
        super().__init__(window)
        load_all()
        self.window = window
        self.registry = registry
        self._tasks: set[asyncio.Future[Any]] = set()
        self._answers: dict[tuple[Any, ...], tuple[str | None, float]] = {}
        self.shortcut_actions: dict[str, QAction] = {}
        self.text_shortcuts: dict[str, Command] = {}
        #: The last run's kubectl equivalent (for "Copy last as kubectl").
        self.last_kubectl: str | None = None
        self.last_result: Result | None = None
        #: The palette shown (one at a time), and the command lines typed, oldest first.
        self.palette: CommandPalette | None = None
        self.history: list[str] = []
        self.follower = WriteFollower(window)
        window.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.install_shortcuts()
        window.tree.installEventFilter(self)
        self.install_toolbar()

    # ------------------------------------------------------------------ selection

    def selected_nodes(self) -> list[TreeNode]:
        """Nodes of the selected rows (first column), in view order."""
        sel = self.window.tree.selectionModel()
        if sel is None:
            return []
        rows = sorted(sel.selectedRows(0), key=lambda i: self.window.tree.visualRect(i).top())
        return [self.window.model.node(self.window._source(i)) for i in rows]

    def targets(self, nodes: Sequence[TreeNode] | None = None) -> list[Target]:
        """Targets of ``nodes`` (default: the selection) in one context; rows that are not objects are skipped."""
        nodes = self.selected_nodes() if nodes is None else nodes
        out = [t for t in (target_of(n) for n in nodes) if t is not None]
        if out:
            ctx = out[0].context
            out = [t for t in out if t.context == ctx]
        return out

    def context(self, targets: Sequence[Target] = ()) -> str | None:
        """The context a run acts in: the targets', else the one shown."""
        return targets[0].context if targets else self.window.current_context()

    def default_namespace(self) -> str | None:
        """The namespace of the selected row, for command lines that name objects as ``kind/name``."""
        for n in self.selected_nodes():
            if n.namespace:
                return n.namespace
        return None

    def commands_for(self, targets: Sequence[Target], *, targetless: bool = True,
                     palette: bool = False) -> list[Command]:
        """Commands for ``targets`` (then, with ``targetless``, the commands that take no object)."""
        out = self.registry.applicable(targets) if targets else []
        if targetless:
            out += self.registry.applicable([])
        if palette:
            out = [c for c in out if c.palette]
        # Actions first, then viewing, copying and help (stable: registration order within a group).
        return sorted(out, key=lambda c: (c.selection is Selection.NONE, group_rank(c.menu)))

    # ------------------------------------------------------------------ access

    def checker(self) -> AccessChecker | None:
        """``service.access`` (SelfSubjectAccessReview, cached) where the data layer has one."""
        svc = self.window.service
        checker = getattr(svc, "access", None) if svc is not None else None
        return checker if checker is not None and hasattr(checker, "denied") else None

    def _answer_key(self, cmd: Command, targets: Sequence[Target]) -> tuple[Any, ...]:
        needs = cmd.needs
        where = sorted({(t.kind.key, t.namespace or "") for t in targets})
        return (self.context(targets), needs, tuple(where))

    def known_reason(self, cmd: Command, targets: Sequence[Target]) -> tuple[bool, str | None]:
        """``(known, reason)``: whether the answer is at hand, and the reason the user may not (``None``: may)."""
        checker = self.checker()
        if cmd.needs is None or checker is None:
            return True, None
        known = getattr(checker, "known", None)
        ctx = self.context(targets)
        if callable(known) and ctx is not None:
            # The checker's own answers (60 s per context, dropped when the context's credentials change): a second
            # copy kept here would outlive them, by up to another 60 s.
            for access, ns in access_questions(cmd, targets):
                have, reason = known(ctx, access, ns)
                if not have or reason:
                    return have, reason
            return True, None
        hit = self._answers.get(self._answer_key(cmd, targets))
        if hit is not None and time.monotonic() - hit[1] < ACCESS_TTL:
            return True, hit[0]
        return False, None

    async def reason(self, cmd: Command, targets: Sequence[Target]) -> str | None:
        """Why the user may not run ``cmd`` on ``targets`` (``None``: may, or nothing to check)."""
        known, reason = self.known_reason(cmd, targets)
        if known:
            return reason
        ctx = self.context(targets)
        if ctx is None:
            return None
        try:
            reason = await denied_reason(cmd, targets, ctx, self.checker())
        except Exception as exc:  # a failed review must not break the menu; the run checks again
            log.info("access review failed: %s", exc)
            return None
        self._answers[self._answer_key(cmd, targets)] = (reason, time.monotonic())
        return reason

    def _resolve_access(self, pending: list[tuple[Command, Callable[[str | None], None]]],
                        targets: Sequence[Target]) -> None:
        """Ask about every pending command; each answer is applied by its callback (if its widget still lives).

        Each distinct question (what a command needs, where) is asked once, and the questions go out together:
        asked one after another, a menu of 40 commands waited for 40 round trips before its last entry said
        whether it may run (over 3 s on a loaded machine).
        """
        if not pending:
            return
        groups: dict[tuple[Any, ...], list[tuple[Command, Callable[[str | None], None]]]] = {}
        for cmd, apply in pending:
            groups.setdefault(self._answer_key(cmd, targets), []).append((cmd, apply))

        async def ask(members: list[tuple[Command, Callable[[str | None], None]]]) -> None:
            reason = await self.reason(members[0][0], targets)
            for _cmd, apply in members:
                apply(reason)

        async def ask_all() -> None:
            await asyncio.gather(*(ask(m) for m in groups.values()))

        self._spawn(ask_all())

    # ------------------------------------------------------------------ menus

    def fill_menu(self, menu: QMenu, targets: Sequence[Target], *, targetless: bool = False) -> list[QAction]:
        """Add the commands for ``targets`` to ``menu`` grouped by their ``menu`` (separators between groups),
        plus a "Copy as kubectl" submenu; returns the command actions."""
        menu.setToolTipsVisible(True)
        cmds = self.commands_for(targets, targetless=targetless)
        groups: dict[str, list[Command]] = {}
        for c in cmds:
            groups.setdefault(c.menu, []).append(c)
        actions: list[QAction] = []
        pending: list[tuple[Command, Callable[[str | None], None]]] = []
        pending_free: list[tuple[Command, Callable[[str | None], None]]] = []  # target-less commands
        order = sorted(groups, key=group_rank)
        for i, members in enumerate(groups[g] for g in order):
            if i and not menu.isEmpty():
                menu.addSeparator()
            for c in members:
                own = targets if c.selection is not Selection.NONE else []
                action = self._command_action(menu, c, own)
                actions.append(action)
                known, reason = self.known_reason(c, own)
                if known:
                    self._apply_reason(action, reason)
                elif own:
                    self._apply_reason(action, CHECKING, checking=True)
                    pending.append((c, functools.partial(self._apply_reason, action)))
                else:
                    self._apply_reason(action, CHECKING, checking=True)
                    pending_free.append((c, functools.partial(self._apply_reason, action)))
        kubectl = [(c, kubectl_for(c, targets)) for c in cmds if c.selection is not Selection.NONE]
        kubectl = [(c, k) for c, k in kubectl if k]
        if kubectl or self.last_kubectl:
            if not menu.isEmpty():
                menu.addSeparator()
            sub = menu.addMenu("Copy as kubectl")
            sub.setObjectName("copyAsKubectl")
            for c, k in kubectl:
                sub.addAction(c.title.rstrip("…."), functools.partial(self.window.port.open_view, "clipboard", k))
            if self.last_kubectl:
                if kubectl:
                    sub.addSeparator()
                last = self.last_kubectl
                sub.addAction(f"Last run: {last[:60]}", lambda: self.window.port.open_view("clipboard", last))
        self._resolve_access(pending, targets)
        self._resolve_access(pending_free, [])
        return actions

    def _command_action(self, parent: QObject, cmd: Command, targets: Sequence[Target]) -> QAction:
        text = cmd.title if not cmd.shortcut else f"{cmd.title}\t{QKeySequence(cmd.shortcut).toString()}"
        action = QAction(text, parent)
        action.setData(cmd.id)
        if cmd.icon:
            action.setIcon(render.icon(cmd.icon))
        if cmd.destructive:
            action.setProperty("destructive", True)
        action.setStatusTip(cmd.help)
        chosen = list(targets)
        action.triggered.connect(lambda _checked=False, c=cmd: self.trigger(c, chosen))
        if isinstance(parent, QMenu):
            parent.addAction(action)
        return action

    @staticmethod
    def _apply_reason(action: QAction, reason: str | None, *, checking: bool = False) -> None:
        """Enable ``action`` or disable it showing why (the tooltip and the status bar say it)."""
        if not shiboken6.isValid(action):
            return  # the menu closed meanwhile
        action.setEnabled(reason is None)
        action.setProperty("denied", None if checking else reason)
        if reason:
            action.setToolTip(reason)
            action.setStatusTip(reason)
        else:
            action.setToolTip(action.text().split("\t")[0])

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The context menu of the row at ``index`` (a view index): the selection's commands from the registry,
        then the row's own actions (Retry, Refresh this node, Copy message/name)."""
        if not index.isValid():
            return None
        w = self.window
        node = w.model.node(w._source(index))
        sel = w.tree.selectionModel()
        if sel is not None and not sel.isRowSelected(index.row(), index.parent()):
            w.tree.setCurrentIndex(index)  # a right click on an unselected row acts on that row alone
        nodes = self.selected_nodes() if sel is not None and sel.isRowSelected(index.row(), index.parent()) \
            else [node]
        menu = QMenu(w)
        menu.setObjectName("treeContextMenu")
        self._row_actions(menu, node, index)
        targets = self.targets(nodes)
        if targets:
            if not menu.isEmpty():
                menu.addSeparator()
            self.fill_menu(menu, targets)
        return menu

    def _row_actions(self, menu: QMenu, node: TreeNode, index: QModelIndex) -> None:
        """Actions on tree rows that are not objects (they have no address a command could take)."""
        from PySide6.QtGui import QGuiApplication

        from kube9_desktop.ui.menus import MESSAGE_ROWS

        w = self.window
        if node.type is NodeType.ERROR:
            source = w._source(index)
            menu.addAction(render.icon("refresh"), "Retry", lambda: w.retry(source))
        if node.type is not NodeType.OBJECT and node.expandable and node.state in (LoadState.LOADED,
                                                                                  LoadState.FAILED):
            menu.addAction(render.icon("refresh"), "Refresh this node", lambda: w.refresh_node(node))
        if node.type is not NodeType.OBJECT:
            what = "message" if node.type in MESSAGE_ROWS else "name"  # an error's or a note's text
            menu.addAction(f"Copy {what}", lambda: QGuiApplication.clipboard().setText(node.label))

    def refresh_objects(self, targets: Sequence[Target]) -> None:
        """Reload the rows of ``targets`` (the list each is in, what it holds, its details when shown)."""
        for node in self.follower.object_nodes(targets):
            self.window.refresh_row(node)

    def actions_menu(self) -> QMenu:
        """The toolbar's "Actions" menu: rebuilt from the registry for the selection each time it opens."""
        menu = QMenu("Actions", self.window)
        menu.setObjectName("actionsMenu")

        def rebuild() -> None:
            menu.clear()
            self.fill_menu(menu, self.targets(), targetless=True)

        menu.aboutToShow.connect(rebuild)
        return menu

    def install_toolbar(self) -> None:
        """An "Actions" menu in the menu bar and a button on the main toolbar (the registry's commands for the
        selection), and the window's Refresh action runs the registry's ``refresh`` (F5 is the command's now)."""
        w = self.window
        refresh = getattr(w, "refresh_action", None)
        if isinstance(refresh, QAction):
            refresh.setShortcut(QKeySequence())
            refresh.triggered.disconnect()
            refresh.triggered.connect(lambda _checked=False: self.trigger("refresh"))
        bar = w.menuBar()
        self.menu_bar_menu = self.actions_menu()
        self.menu_bar_menu.setTitle("&Actions")
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu_bar_menu)
        else:
            bar.addMenu(self.menu_bar_menu)
        tb = w.findChild(QToolBar, "mainToolbar")
        if tb is None:
            return
        self.actions_button = QToolButton(tb)
        self.actions_button.setObjectName("actionsButton")
        self.actions_button.setText("Actions")
        self.actions_button.setToolTip("Commands for the selection (Ctrl+Shift+P: the command palette)")
        self.actions_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.actions_button.setMenu(self.actions_menu())
        settings = getattr(w, "settings_action", None)
        if isinstance(settings, QAction) and settings in tb.actions():
            tb.insertWidget(settings, self.actions_button)
        else:
            tb.addWidget(self.actions_button)

    # ------------------------------------------------------------------ shortcuts

    def install_shortcuts(self) -> None:
        """One QAction per command with a shortcut: target-less commands anywhere in the window, commands on
        objects while the tree has focus."""
        for cmd in self.registry.all():
            if not cmd.shortcut:
                continue
            if is_text_shortcut(cmd.shortcut):
                # ':' is Shift+; on one keyboard and a key of its own on another: matched by the text typed.
                self.text_shortcuts[cmd.shortcut] = cmd
                continue
            action = QAction(cmd.title, self.window)
            action.setShortcut(QKeySequence(cmd.shortcut))
            action.setData(cmd.id)
            if cmd.selection is Selection.NONE:
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                self.window.addAction(action)
            else:
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.window.tree.addAction(action)
            action.triggered.connect(lambda _checked=False, c=cmd: self.trigger(c))
            self.shortcut_actions[cmd.id] = action

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Punctuation shortcuts (``:``) by the text the key typed, while the tree has focus."""
        if obj is self.window.tree and event.type() == QEvent.Type.KeyPress and self.text_shortcuts:
            assert isinstance(event, QKeyEvent)
            cmd = self.text_shortcuts.get(event.text())
            if cmd is not None and not event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                                             | Qt.KeyboardModifier.KeypadModifier):
                self.trigger(cmd)
                return True
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ running

    def trigger(self, cmd: Command | str, targets: Sequence[Target] | None = None,
                args: argparse.Namespace | None = None) -> asyncio.Future[Result] | None:
        """Run ``cmd`` on ``targets`` (default: the selection) in the background; returns the task."""
        if isinstance(cmd, str):
            cmd = self.registry.get(cmd)
        chosen = [] if cmd.selection is Selection.NONE else list(self.targets() if targets is None else targets)
        if cmd.selection is not Selection.NONE and not cmd.applies_to(chosen):
            what = ", ".join(sorted(cmd.kinds)) or "an object"
            many = "one" if cmd.selection is Selection.SINGLE else "one or more"
            self.window.show_message(f"{cmd.title.rstrip('…')}: select {many} of {what} first", 5000)
            return None
        task = self._spawn(self.run(cmd, chosen, args))
        if cmd.selection is not Selection.NONE:
            from kube9_desktop.ui.progress import ProgressWatch

            ProgressWatch(self.window, summarize(cmd, chosen), task)
        return task

    async def run(self, cmd: Command, targets: list[Target], args: argparse.Namespace | None = None) -> Result:
        """Check, confirm and run ``cmd`` through the runner; the result is shown and the tree brought up to date."""
        svc = self.window.service
        ctx = self.context(targets)
        if svc is None or ctx is None:
            return self._finish(cmd, targets, Result.failure("No cluster is open."))
        if args is None:
            try:
                args = cmd.parser().parse_args([])
            except CommandError:
                # Required arguments: let the user complete the line rather than guess.
                self.open_command_line(f"{cmd.id} {' '.join(shlex.quote(t.address) for t in targets)} ".strip()
                                       + " ")
                return self._finish(cmd, targets, Result.failure(f"{cmd.title}: type the arguments "
                                                                 f"({cmd.usage()})", exit_code=2), quiet=True)
        before = kubectl_for(cmd, targets, args)
        try:
            result = await run_command(cmd, targets, args, service=svc, context=ctx, ui=self.window.port,
                                       access=self.checker())
        except asyncio.CancelledError:
            if shiboken6.isValid(self.window):
                self._finish(cmd, targets, Result.failure(f"{summarize(cmd, targets)}: cancelled (what was done "
                                                          "stays done)"), kubectl=before)
            raise
        return self._finish(cmd, targets, result, kubectl=before)

    async def run_line(self, line: str) -> Result:
        """Run a full command line (as ``--run`` takes it) in the context shown."""
        svc = self.window.service
        ctx = self.window.current_context()
        if svc is None or ctx is None:
            return Result.failure("No cluster is open.")
        try:
            cmd, targets, args = parse_line(line, service=svc, context=ctx, registry=self.registry,
                                            default_namespace=self.default_namespace())
        except CommandError as exc:
            result = Result.failure(str(exc), exit_code=USAGE_ERROR)
            self._show(result)
            self.finished.emit(None, [], result)
            return result
        return await self.run(cmd, targets, args)

    def _finish(self, cmd: Command, targets: list[Target], result: Result, *, kubectl: str | None = None,
                quiet: bool = False) -> Result:
        self.last_result = result
        if result.kubectl or kubectl:
            self.last_kubectl = result.kubectl or kubectl
        if not quiet:
            self._show(result, cmd.title.rstrip("…"))
        if result.ok:
            self.after_write(cmd, targets)
        self.finished.emit(cmd, targets, result)
        return result

    def _show(self, result: Result, title: str = "") -> None:
        """The result in the corner notification and the status bar; a long text also in a tab of its own."""
        if not result.message:
            return
        lines = result.message.splitlines()
        if len(lines) > LONG_RESULT_LINES:
            self.window.port.open_view("text", {"title": title or "Result", "text": result.message})
            self.window.port.tell(f"{lines[0]} … ({len(lines)} lines, in the tab below)", error=not result.ok)
            return
        self.window.port.tell(result.message, error=not result.ok)

    # ------------------------------------------------------------------ the tree after a write

    def attach(self, service: Any) -> None:
        """Follow ``service``'s write events (see :class:`~kube9_desktop.ui.write_follower.WriteFollower`)."""
        self.follower.attach(service)

    def after_write(self, cmd: Command, targets: Sequence[Target]) -> None:
        """A command succeeded: bring the rows it touched up to date."""
        self.follower.after_command(cmd, targets)

    # ------------------------------------------------------------------ palette and command line

    def open_palette(self, text: str = "") -> None:
        """Open the command palette (``text`` starting with ``:`` opens it as a command line)."""
        from kube9_desktop.ui.palette import CommandPalette

        if self.palette is not None and shiboken6.isValid(self.palette):
            self.palette.close()
        self.palette = CommandPalette(self, text)
        self.palette.open()

    def open_command_line(self, line: str = "") -> None:
        """Open the palette as a command line prefilled with ``line``."""
        self.open_palette(":" + line)

    # ------------------------------------------------------------------ tasks

    def _spawn(self, coro: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("command task failed", exc_info=task.exception())

    async def shutdown(self) -> None:
        """Cancel runs still going (their dialogs close) and wait for them."""
        self.follower.detach()
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
