"""The log view: one tab of the bottom dock showing a pod's (or a workload's merged) container log.

The reading happens in :class:`~kube9_desktop.kube.log_session.LogSession`'s threads; this widget only drains what
arrived, on a timer, and appends it to a :class:`~kube9_desktop.ui.log_list.LogCanvas` that paints only the visible
lines, so following 5,000 lines/s or holding 100,000 lines never stalls the window.

Lines are untrusted: they are shown through :func:`kube9_desktop.kube.ansi.spans` (colours kept, every other
control sequence dropped), so neither the view nor the clipboard ever sees an escape sequence.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import deque
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube import ansi
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.log_session import LogSession, LogSpec, log_client, render_line
from kube9_desktop.kube.pod_logs import ALL_CONTAINERS, LogLine, LogOptions, Notice
from kube9_desktop.ui.log_list import LogCanvas, LogLines
from kube9_desktop.ui.views import ViewHost, register_view

#: How often arrived lines are drained and shown (ms).
TICK_MS = 100
SINCE_CHOICES = (("All", None), ("1m", 60), ("5m", 300), ("1h", 3600))
_ERROR_RE = re.compile(r"\b(error|err|fatal|panic|exception|critical|crit)\b", re.IGNORECASE)
_WARN_RE = re.compile(r"\b(error|err|fatal|panic|exception|critical|crit|warn|warning)\b", re.IGNORECASE)


class LogsView(QWidget):
    """A log tab: controls, the text, notices, and "N new lines — jump to end" while scrolled up.

    Args:
        service: The data layer (for the context's API client).
        spec: What to show.
        max_lines: Lines kept (the ring and the text's block limit).
    """

    #: A session's start finished in its thread (carried to the GUI thread).
    started = Signal(object)

    def __init__(self, service: Any, spec: LogSpec, max_lines: int = 100_000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.spec = spec
        self.max_lines = max_lines
        self.session: LogSession | None = None
        self._threads: list[threading.Thread] = []
        self._pending: deque[LogLine] = deque()
        self._unseen = 0
        self._matches = 0
        self._notices: list[Notice] = []
        self._closed = False
        self.lines_received = 0
        self.setWindowTitle(spec.title)
        self.setProperty("dock_key", ("logs", spec.context, spec.namespace, spec.kind, spec.name))
        self._build()
        self.started.connect(self._on_started)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.restart()

    # -- widgets --------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        o = self.spec.options
        self.container = QComboBox()
        self.container.setToolTip("Which container's log (init and ephemeral containers too)")
        self.container.addItem("Default container", None)
        if o.container == ALL_CONTAINERS:
            self.container.addItem("All containers", ALL_CONTAINERS)
            self.container.setCurrentIndex(1)
        elif o.container:
            self.container.addItem(o.container, o.container)
            self.container.setCurrentIndex(1)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(o.follow)
        self.previous = QCheckBox("Previous")
        self.previous.setToolTip("The log of the container's previous run (why it restarted)")
        self.previous.setChecked(o.previous)
        self.since = QComboBox()
        for label, secs in SINCE_CHOICES:
            self.since.addItem(label, secs)
        if o.since_seconds:
            self.since.addItem(f"{o.since_seconds}s", o.since_seconds)
            self.since.setCurrentIndex(self.since.count() - 1)
        self.since.setToolTip("Only lines newer than this")
        self.tail = QSpinBox()
        self.tail.setRange(0, 1_000_000)
        self.tail.setGroupSeparatorShown(True)
        self.tail.setSpecialValueText("all")
        self.tail.setValue(o.tail if o.tail is not None else 0)
        self.tail.setPrefix("tail ")
        self.tail.setToolTip("Lines of each container to start with (all: the whole log)")
        self.timestamps = QCheckBox("Timestamps")
        self.timestamps.setChecked(self.spec.timestamps)
        self.wrap = QCheckBox("Wrap")
        self.json = QComboBox()
        self.json.addItems(["JSON as is", "JSON pretty", "JSON fields"])
        self.json.setToolTip("Show JSON lines as they are, indented, or as level, message and fields")
        self.level = QComboBox()
        self.level.addItems(["All lines", "Warnings and errors", "Errors"])
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the selection (or every shown line) as plain text")
        self.save_button = QToolButton()
        self.save_button.setText("Save…")
        controls = QHBoxLayout()
        for w in (self.container, self.follow, self.previous, self.since, self.tail, self.timestamps, self.wrap,
                  self.json, self.level):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.copy_button)
        controls.addWidget(self.save_button)

        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Find (Ctrl+F)")
        self.find_edit.setClearButtonEnabled(True)
        self.regex = QCheckBox("Regex")
        self.find_prev = QToolButton()
        self.find_prev.setText("▲")
        self.find_prev.setToolTip("Previous match (Shift+Enter)")
        self.find_next = QToolButton()
        self.find_next.setText("▼")
        self.find_next.setToolTip("Next match (Enter)")
        self.matches = QLabel("")
        finder = QHBoxLayout()
        finder.addWidget(self.find_edit, 1)
        finder.addWidget(self.regex)
        finder.addWidget(self.find_prev)
        finder.addWidget(self.find_next)
        finder.addWidget(self.matches)

        self.model = LogLines(self.max_lines)
        self.lines_view = LogCanvas(self.model, QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.lines_view.copy_requested.connect(self.copy)
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        self.jump = QPushButton("")
        self.jump.setFlat(True)
        self.jump.hide()
        self.status = QLabel("")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.jump)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(controls)
        layout.addLayout(finder)
        layout.addWidget(self.notice)
        layout.addWidget(self.lines_view, 1)
        layout.addLayout(bottom)

        for w in (self.follow, self.previous):
            w.toggled.connect(self.restart)
        self.container.activated.connect(self.restart)
        self.since.activated.connect(self.restart)
        self.tail.editingFinished.connect(self._tail_changed)
        for w in (self.timestamps,):
            w.toggled.connect(self.rebuild)
        self.wrap.toggled.connect(self.rebuild)
        self.json.currentIndexChanged.connect(self.rebuild)
        self.level.currentIndexChanged.connect(self.rebuild)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.save)
        self.find_edit.textChanged.connect(self._highlight_all)
        self.regex.toggled.connect(self._highlight_all)
        self.find_edit.returnPressed.connect(self.find_forward)
        self.find_next.clicked.connect(self.find_forward)
        self.find_prev.clicked.connect(self.find_backward)
        self.jump.clicked.connect(self.jump_to_end)
        self.lines_view.verticalScrollBar().valueChanged.connect(self._scrolled)
        for seq, slot in ((QKeySequence.StandardKey.Find, self.focus_find), ("F3", self.find_forward),
                          ("Shift+F3", self.find_backward)):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        back = QShortcut(QKeySequence("Shift+Return"), self.find_edit)
        back.setContext(Qt.ShortcutContext.WidgetShortcut)
        back.activated.connect(self.find_backward)

    # -- sessions -------------------------------------------------------------------------------------------------

    def options(self) -> LogOptions:
        """The read options the controls say."""
        tail = self.tail.value() or None
        return LogOptions(container=self.container.currentData(), follow=self.follow.isChecked(),
                          previous=self.previous.isChecked(), since_seconds=self.since.currentData(), tail=tail)

    def _tail_changed(self) -> None:
        if self.session is not None and self.options().tail != self.session.options.tail:
            self.restart()

    def restart(self, *_: object) -> None:
        """Close the current streams and read again with the controls' options (the text starts over)."""
        if self._closed:
            return
        self._close_session()
        self.model.lines = []
        self.model.dropped = 0
        self.lines_view.select(-1)
        self.lines_view.update_ranges()
        self._pending.clear()
        self._unseen = self._matches = 0
        self._notices = []
        self._show_notices()
        self.jump.hide()
        kind = KINDS[self.spec.kind]
        session = LogSession(None, self.spec.namespace, kind, self.spec.name,  # type: ignore[arg-type]
                             self.options(), self.max_lines)
        self.session = session
        self.status.setText("Reading…")

        def start() -> None:
            try:
                session.client = log_client(self.service, self.spec.context)
            except KubeError as err:
                session.fail(err.message)
            else:
                session.start()
            try:
                self.started.emit(session)
            except RuntimeError:  # the tab is gone (deleted without close_streams): nobody will read this
                session.close()

        t = threading.Thread(target=start, name=f"kube9-logs-start-{self.spec.name}", daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()
        self._timer.start()

    def _on_started(self, session: LogSession) -> None:
        if session is not self.session or self._closed:
            session.close()
            return
        for name, what in session.containers:
            if self.container.findData(name) < 0:
                self.container.addItem(f"{name} ({what})" if what else name, name)
        if session.containers and self.container.findData(ALL_CONTAINERS) < 0:
            self.container.addItem("All containers", ALL_CONTAINERS)

    def _close_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def close_streams(self) -> None:
        """Close every stream of this tab at once (the dock calls it when the tab or the window closes)."""
        self._closed = True
        self._close_session()
        with contextlib.suppress(RuntimeError):  # closed after Qt deleted the widget: the streams are what matters
            self._timer.stop()

    # -- lines in -------------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        s = self.session
        if s is None:
            return
        got = s.drain()
        self.lines_received += len(got.lines)
        self._pending.extend(got.lines)
        # More waiting than the tab can hold: the oldest would be trimmed on arrival anyway.
        while len(self._pending) > self.max_lines:
            self._pending.popleft()
            self.model.dropped += 1
        if got.notices:
            self._notices = (self._notices + got.notices)[-4:]
            self._show_notices()
        if self._pending:
            self._render_pending()
        self._update_status()
        if s.finished and not self._pending and s.options.follow is False and got.lines == []:
            # a plain read is complete: drain whatever the merge still held, then stop ticking
            rest = s.drain(final=True)
            if rest.lines or rest.notices:
                self._pending.extend(rest.lines)
                self._notices = (self._notices + rest.notices)[-4:]
                self._show_notices()
                self._render_pending()
            self._update_status()
            self._timer.stop()

    @property
    def shown_count(self) -> int:
        """Lines shown now (after the level filter)."""
        return len(self.model.lines)

    def _passes(self, line: LogLine) -> bool:
        level = self.level.currentIndex()
        return not level or (_ERROR_RE if level == 2 else _WARN_RE).search(line.text) is not None

    def _render_pending(self) -> None:
        s = self.session
        if s is not None:
            self.model.sources = s.sources
            self.model.merged = s.merged
        lines = [ln for ln in self._pending if self._passes(ln)] if self.level.currentIndex() else list(self._pending)
        self._pending.clear()
        if not lines:
            return
        canvas = self.lines_view
        at_end = canvas.at_end()
        first = len(self.model.lines)
        dropped = self.model.append(lines)
        canvas.shift_selection(dropped)
        first -= dropped  # rows trimmed at the top shift the new ones up
        if self.model.find_rx is not None:
            self._matches += self.model.count_matches(max(0, first))
            self.matches.setText(f"{self._matches:,} matches")
        if at_end:
            canvas.scroll_to_end()
        else:
            vs = canvas.verticalScrollBar()
            keep = max(0, vs.value() - dropped)  # the lines in view stay in view while older ones drop
            canvas.update_ranges()
            vs.setValue(keep)
            self._unseen += len(lines)
            self.jump.setText(f"{self._unseen:,} new lines — jump to end")
            self.jump.show()

    def rebuild(self, *_: object) -> None:
        """Show the held lines again (a display option changed: timestamps, JSON, level filter)."""
        if self.session is None:
            return
        self.model.timestamps = self.timestamps.isChecked()
        self.model.json_mode = self.json.currentIndex()
        self._set_wrap(self.wrap.isChecked())
        self._unseen = 0
        self.jump.hide()
        held = [ln for ln in self.session.ring if self._passes(ln)]
        self.model.lines = held[-self.max_lines:]
        self.model.dropped = self.session.ring.dropped
        self.lines_view.select(-1)
        self._highlight_all()
        self.lines_view.scroll_to_end()
        self._update_status()

    def _show_notices(self) -> None:
        if not self._notices:
            self.notice.hide()
            return
        worst = "error" if any(n.level == "error" for n in self._notices) else \
            "warning" if any(n.level == "warning" for n in self._notices) else "info"
        colour = {"error": "#b00020", "warning": "#8a5a00", "info": ""}[worst]
        self.notice.setStyleSheet(f"color: {colour};" if colour else "")
        self.notice.setText("\n".join(dict.fromkeys(n.text for n in self._notices)))
        self.notice.show()

    def _update_status(self) -> None:
        s = self.session
        if s is None:
            return
        parts = [f"{self.shown_count:,} lines"]
        if s.ring.dropped:
            parts.append(f"{s.ring.dropped:,} older lines dropped (limit {self.max_lines:,})")
        if len(s.sources) > 1:
            parts.append(f"{len(s.sources)} containers")
        if s.options.follow and not s.finished:
            parts.append("following")
        self.status.setText(" · ".join(parts))

    # -- scrolling, wrap ------------------------------------------------------------------------------------------

    def _scrolled(self, value: int) -> None:
        if self.lines_view.at_end() and self._unseen:
            self._unseen = 0
            self.jump.hide()

    def jump_to_end(self) -> None:
        """Scroll to the newest line and resume autoscroll."""
        self.lines_view.scroll_to_end()
        self._unseen = 0
        self.jump.hide()

    def _set_wrap(self, on: bool) -> None:
        # Wrapped or multi-line (pretty JSON) rows have their own heights; otherwise every row is one line high.
        self.lines_view.wrap = on or self.json.currentIndex() == 1
        self.lines_view.update_ranges()

    @property
    def wrapping(self) -> bool:
        """Whether rows wrap at the view's width."""
        return self.lines_view.wrap

    # -- find -----------------------------------------------------------------------------------------------------

    def focus_find(self) -> None:
        """Ctrl+F: put the cursor in the find field."""
        self.find_edit.setFocus()
        self.find_edit.selectAll()

    def _pattern(self) -> re.Pattern[str] | None:
        text = self.find_edit.text()
        if not text:
            return None
        try:
            return re.compile(text if self.regex.isChecked() else re.escape(text), re.IGNORECASE)
        except re.error:
            return None

    def _highlight_all(self, *_: object) -> None:
        """Highlight every match of the find field in the shown lines and count them."""
        rx = self._pattern()
        self.model.find_rx = rx
        self.lines_view.viewport().update()
        if rx is None:
            self._matches = 0
            self.matches.setText("" if not self.find_edit.text() else "bad pattern")
            return
        self._matches = self.model.count_matches()
        self.matches.setText(f"{self._matches:,} matches")

    def find_forward(self) -> bool:
        """Select the next line with a match (wrapping around)."""
        return self._find(backward=False)

    def find_backward(self) -> bool:
        """Select the previous line with a match (wrapping around)."""
        return self._find(backward=True)

    def _find(self, backward: bool) -> bool:
        rx = self._pattern()
        n = len(self.model.lines)
        if rx is None or not n:
            return False
        cur = self.lines_view.current
        start = cur if 0 <= cur < n else (n if backward else -1)
        step = -1 if backward else 1
        for k in range(1, n + 1):
            row = (start + step * k) % n
            if rx.search(self.model.plain(row)):
                self.lines_view.select(row)
                self.lines_view.scroll_to_row(row)
                return True
        return False

    # -- copy, save -----------------------------------------------------------------------------------------------

    def shown_text(self) -> str:
        """The shown lines as plain text (no control sequence can be in it)."""
        return "\n".join(self.model.plain(i) for i in range(len(self.model.lines)))

    def copy(self) -> None:
        """Copy the selected lines, or every shown line, as plain text."""
        rows = self.lines_view.selected_rows()
        text = "\n".join(self.model.plain(r) for r in rows) if rows else self.shown_text()
        QGuiApplication.clipboard().setText(text)

    def save(self) -> None:
        """Ask where, then write the held lines (plain text) in a background thread."""
        dialog = QFileDialog(self, "Save log", f"{self.spec.name}.log")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(self.save_to)
        dialog.open()
        self._dialog = dialog

    def save_to(self, path: str) -> threading.Thread:
        """Write the held lines to ``path`` (plain text: colours and control sequences removed)."""
        s = self.session
        lines = list(s.ring) if s is not None else []
        sources = list(s.sources) if s is not None else []
        merged = s.merged if s is not None else False
        stamps = self.timestamps.isChecked()

        def write() -> None:
            with open(path, "w", encoding="utf-8") as f:
                for ln in lines:
                    src = sources[ln.src] if 0 <= ln.src < len(sources) else None
                    f.write(ansi.strip(render_line(ln, src, timestamps=stamps, prefix=merged)) + "\n")

        t = threading.Thread(target=write, name="kube9-logs-save", daemon=True)
        self._threads.append(t)
        t.start()
        return t


@register_view("logs")
def logs_view(host: ViewHost, payload: LogSpec) -> QWidget | None:
    """A log tab for ``payload``."""
    settings = getattr(host, "settings", None)
    max_lines = 100_000
    if settings is not None:
        try:
            max_lines = int(settings.get("logs/max_lines"))
        except (KeyError, TypeError, ValueError):
            pass
    return LogsView(host.service, payload, max_lines)
