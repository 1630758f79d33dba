"""The command palette (Ctrl+Shift+P): fuzzy search over the commands that apply to the selection, and a command
line (text starting with ``:``, or a known command followed by arguments) that takes what ``--run`` takes.

Entries come from the registry through :class:`~kube9_desktop.ui.command_bridge.CommandBridge`; each shows its
title, shortcut and help, and commands the user may not run stay listed, greyed, with the reason. Fuzzy matching is
rapidfuzz's (``WRatio`` on title and id, plus initials such as ``cy`` for "Copy YAML" and letters in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
)
from rapidfuzz import fuzz, process, utils

from kube9_desktop.commands.registry import Command, CommandError, Selection, Target

if TYPE_CHECKING:
    from kube9_desktop.ui.command_bridge import CommandBridge

ModelIndex = QModelIndex | QPersistentModelIndex

#: Entries scoring below this are not shown.
SCORE_CUTOFF = 55.0
#: Score of a query that is the start of the title's initials ("cy": "Copy YAML").
INITIALS_SCORE = 88.0
#: Score of a query whose letters appear in order in the title or id ("tckl": "Tickle").
IN_ORDER_SCORE = 65.0

ShortcutRole = Qt.ItemDataRole.UserRole + 1
HelpRole = Qt.ItemDataRole.UserRole + 2
ReasonRole = Qt.ItemDataRole.UserRole + 3
CommandRole = Qt.ItemDataRole.UserRole + 4

CHECKING = "checking permission…"


@dataclass
class Entry:
    """One palette row: a command (or ``None`` for "run this line") and whether the user may run it."""

    command: Command | None
    text: str  # the title, or the command line
    help: str = ""
    shortcut: str = ""
    reason: str | None = None  # why the user may not; None: may
    checking: bool = False


def _in_order(query: str, text: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in query)


def rank(query: str, commands: list[Command]) -> list[Command]:
    """``commands`` matching ``query`` best first (all, in registry order, for an empty query)."""
    q = utils.default_process(query)
    if not q:
        return list(commands)
    choices = {i: f"{c.title.rstrip('…')} {c.id} {' '.join(c.aliases)}" for i, c in enumerate(commands)}
    scores = {i: s for _choice, s, i in process.extract(q, choices, scorer=fuzz.WRatio,
                                                        processor=utils.default_process, limit=None)}
    for i, text in choices.items():
        initials = "".join(w[0] for w in utils.default_process(commands[i].title).split())
        if initials.startswith(q.replace(" ", "")):
            scores[i] = max(scores.get(i, 0.0), INITIALS_SCORE)
        elif _in_order(q.replace(" ", ""), utils.default_process(text).replace(" ", "")):
            scores[i] = max(scores.get(i, 0.0), IN_ORDER_SCORE)
    keep = [i for i, s in scores.items() if s >= SCORE_CUTOFF]
    keep.sort(key=lambda i: (-scores[i], i))
    return [commands[i] for i in keep]


class PaletteModel(QAbstractListModel):
    """The palette's rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[Entry] = []

    def set_entries(self, entries: list[Entry]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def set_reason(self, command_id: str, reason: str | None) -> None:
        """An access answer arrived for ``command_id``."""
        for row, e in enumerate(self.entries):
            if e.command is not None and e.command.id == command_id:
                e.reason, e.checking = reason, False
                idx = self.index(row, 0)
                self.dataChanged.emit(idx, idx)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return e.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return e.reason or e.help or e.text
        if role == ShortcutRole:
            return e.shortcut
        if role == HelpRole:
            return CHECKING if e.checking else (e.reason or e.help)
        if role == ReasonRole:
            return e.reason
        if role == CommandRole:
            return e.command.id if e.command is not None else None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return e.text + (f" ({e.reason})" if e.reason else "")
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        # Denied entries stay selectable (the user reads why) but are drawn greyed; Enter on them explains.
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class EntryDelegate(QStyledItemDelegate):
    """Two lines per entry: title and shortcut, then help (or, greyed out, why the user may not)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        h = option.fontMetrics.height()
        return QSize(420, 2 * h + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        rect: QRect = opt.rect.adjusted(10, 4, -10, -4)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        denied = bool(index.data(ReasonRole))
        pal: QPalette = opt.palette
        text_colour = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        if denied:
            text_colour = QColor("#9a9a9a") if not selected else QColor("#dddddd")
        painter.save()
        h = rect.height() // 2
        top = QRect(rect.left(), rect.top(), rect.width(), h)
        bottom = QRect(rect.left(), rect.top() + h, rect.width(), h)
        title_font = QFont(opt.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text_colour)
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, str(index.data() or ""))
        shortcut = index.data(ShortcutRole)
        if shortcut:
            painter.setFont(opt.font)
            painter.drawText(top, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shortcut)
        small = QFont(opt.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        painter.setFont(small)
        second = QColor("#c62828") if denied and not selected else text_colour
        if not denied:
            second = pal.color(QPalette.ColorRole.HighlightedText) if selected else QColor("#6b6f76")
        painter.setPen(second)
        help_text = QFontMetrics(small).elidedText(str(index.data(HelpRole) or ""), Qt.TextElideMode.ElideRight,
                                                   bottom.width())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, help_text)
        painter.restore()


class CommandPalette(QDialog):
    """The palette over the main window.

    Args:
        bridge: The window's command bridge (registry, selection, access, runs).
        text: Initial text (``":"`` opens it as a command line).
    """

    def __init__(self, bridge: CommandBridge, text: str = "") -> None:
        super().__init__(bridge.window, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#commandPalette { border: 1px solid #8a8f98; border-radius: 4px; }")
        self.bridge = bridge
        self.targets: list[Target] = bridge.targets()
        self.commands = bridge.commands_for(self.targets, palette=True)
        self._history_pos = len(bridge.history)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.scope = QLabel(self._scope_text(), self)
        self.scope.setObjectName("paletteScope")
        self.scope.setStyleSheet("color: #6b6f76;")
        layout.addWidget(self.scope)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("paletteInput")
        self.edit.setPlaceholderText("Type to search commands · ':' for a command line (scale team-a/deploy/api 5)")
        self.edit.setClearButtonEnabled(True)
        layout.addWidget(self.edit)
        self.model = PaletteModel(self)
        self.list = QListView(self)
        self.list.setObjectName("paletteList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(EntryDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.clicked.connect(lambda _i: self.accept_current())
        layout.addWidget(self.list)
        self.status = QLabel("", self)
        self.status.setObjectName("paletteStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.edit.textChanged.connect(self.update_entries)
        self.edit.returnPressed.connect(self.accept_current)
        self.edit.installEventFilter(self)
        self.resize(560, 420)
        w = bridge.window
        self.move(w.mapToGlobal(w.rect().topLeft()).x() + max(0, (w.width() - self.width()) // 2),
                  w.mapToGlobal(w.rect().topLeft()).y() + 60)
        self.edit.setText(text)
        self.update_entries(text)
        self._ask_access()

    def _scope_text(self) -> str:
        t = self.targets
        if not t:
            return f"Commands for {self.bridge.window.current_context() or 'no context'}"
        if len(t) == 1:
            return f"Commands for {t[0].describe()}"
        kinds = {x.kind.plural for x in t}
        return f"Commands for {len(t)} {kinds.pop() if len(kinds) == 1 else 'objects'}"

    # ------------------------------------------------------------------ entries

    def is_line(self, text: str) -> bool:
        """Whether ``text`` is a command line rather than a search (``:`` first, or a command id and arguments)."""
        if text.startswith(":"):
            return True
        first, _, rest = text.strip().partition(" ")
        return bool(rest.strip()) and first in self.bridge.registry

    def update_entries(self, text: str) -> None:
        """Rebuild the rows for the text typed."""
        self.status.setText("")
        if self.is_line(text):
            line = text.removeprefix(":").strip()
            first = line.partition(" ")[0]
            hints = [c for c in self.bridge.registry.all() if c.id.startswith(first)] if first else []
            entries = [Entry(None, f"Run: {line}" if line else "Run: (type a command line)",
                             help="Enter runs it, as --run would (objects as namespace/kind/name)")]
            entries += [self._entry(c, usage=True) for c in hints[:8]]
        else:
            entries = [self._entry(c) for c in rank(text, self.commands)]
        self.model.set_entries(entries)
        if entries:
            self.list.setCurrentIndex(self.model.index(0, 0))

    def _entry(self, cmd: Command, usage: bool = False) -> Entry:
        targets = self.targets if cmd.selection is not Selection.NONE else []
        known, reason = self.bridge.known_reason(cmd, targets) if not usage else (True, None)
        shortcut = QKeySequence(cmd.shortcut).toString(QKeySequence.SequenceFormat.NativeText) if cmd.shortcut \
            else ""
        return Entry(cmd, cmd.usage() if usage else cmd.title, help=cmd.help, shortcut=shortcut, reason=reason,
                     checking=not known)

    def _ask_access(self) -> None:
        pending = [c for c in self.commands if not self.bridge.known_reason(
            c, self.targets if c.selection is not Selection.NONE else [])[0]]

        def answer(cmd: Command) -> Any:
            return lambda reason: self.model.set_reason(cmd.id, reason)

        by_scope: dict[bool, list[Any]] = {True: [], False: []}
        for c in pending:
            by_scope[c.selection is Selection.NONE].append((c, answer(c)))
        self.bridge._resolve_access(by_scope[False], self.targets)
        self.bridge._resolve_access(by_scope[True], [])

    # ------------------------------------------------------------------ keys and running

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Up/Down move in the list (or through the command-line history); Escape closes."""
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                if self.is_line(self.edit.text()) and self.bridge.history:
                    self._recall(-1 if key == Qt.Key.Key_Up else 1)
                    return True
                row = self.list.currentIndex().row() + (-1 if key == Qt.Key.Key_Up else 1)
                if 0 <= row < self.model.rowCount():
                    self.list.setCurrentIndex(self.model.index(row, 0))
                return True
        return super().eventFilter(obj, event)

    def _recall(self, step: int) -> None:
        h = self.bridge.history
        self._history_pos = max(0, min(len(h), self._history_pos + step))
        self.edit.setText(":" + (h[self._history_pos] if self._history_pos < len(h) else ""))

    def accept_current(self) -> None:
        """Run the chosen entry (or the command line); a denied entry says why and stays open."""
        text = self.edit.text()
        if self.is_line(text):
            line = text.removeprefix(":").strip()
            if not line:
                return
            try:
                from kube9_desktop.commands.runner import split_line

                split_line(line)
            except CommandError as exc:
                self.status.setText(str(exc))
                return
            self.bridge.history.append(line)
            self.accept()
            self.bridge._spawn(self.bridge.run_line(line))
            return
        idx = self.list.currentIndex()
        if not idx.isValid():
            return
        entry = self.model.entries[idx.row()]
        if entry.command is None:
            return
        if entry.reason:
            self.status.setText(entry.reason)
            return
        self.accept()
        self.bridge.trigger(entry.command, self.targets)
