"""A terminal emulator widget: pyte's VT100/xterm state machine drawn by a QWidget.

:class:`TermScreen` is a ``pyte.Screen`` with what pyte leaves out: a scrollback (lines scrolled off the top
are kept; pyte's ``HistoryScreen`` wraps every call and parses 4x slower), the alternate screen (``?1049``,
``?1047``, ``?47``: ``vi``/``top`` draw there and leave the shell's screen as it was) and the safety rules: an
OSC 52 clipboard write never reaches us (pyte only dispatches OSC 0/1/2), a title with control characters is
ignored, and terminal queries (device attributes, cursor position report) get no reply (``write_process_input`` is
never connected to the session).

:class:`TerminalWidget` draws the screen in the system's fixed font (16 ANSI colours, 256 colours, true colour,
bold, italics, underline, reverse, the cursor), keeps a scrollback (wheel, Shift+PgUp/PgDn), selects with the
mouse, copies with Ctrl+Shift+C, pastes with Ctrl+Shift+V (several lines ask first), sends every key as an xterm
does (arrows in normal and application mode, Tab, Ctrl-letters, Alt, function keys) through ``send``, and reports
its size in cells through ``resized`` when it changes.
"""

from __future__ import annotations

import copy
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyte
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QInputMethodEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QMessageBox, QWidget

#: The 16 ANSI colours (xterm's defaults), by pyte's names ("brown" is pyte's name for yellow).
PALETTE = {
    "black": "#000000",
    "red": "#cd0000",
    "green": "#00cd00",
    "brown": "#cdcd00",
    "blue": "#3b78ff",
    "magenta": "#cd00cd",
    "cyan": "#00cdcd",
    "white": "#e5e5e5",
    "brightblack": "#7f7f7f",
    "brightred": "#ff0000",
    "brightgreen": "#00ff00",
    "brightbrown": "#ffff00",
    "brightblue": "#5c5cff",
    "brightmagenta": "#ff00ff",
    "bfightmagenta": "#ff00ff",  # pyte's spelling for background 105
    "brightcyan": "#00ffff",
    "brightwhite": "#ffffff",
}
DEFAULT_FG = QColor("#d0d0d0")
DEFAULT_BG = QColor("#1e1e1e")
SELECTION_BG = QColor("#264f78")
_ALT_MODES = {1049, 1047, 47}


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


@dataclass
class _History:
    top: deque[Any]


class TermScreen(pyte.Screen):
    """pyte's screen with a scrollback, an alternate screen and titles without control characters."""

    def __init__(self, columns: int, lines: int, history: int = 5000) -> None:
        self.history = _History(deque(maxlen=history))
        self.scrolled = 0  # lines pushed into the history so far
        super().__init__(columns, lines)
        self.alternate = False
        self._saved: tuple[Any, Any, Any] | None = None
        self.title = ""
        self.ignored: list[str] = []  # what was refused, for tests and the curious

    def set_title(self, param: str) -> None:
        if _has_control(param):
            self.ignored.append("title")
            return
        self.title = param[:200]

    def set_icon_name(self, param: str) -> None:
        pass  # never shown; also where pyte routes OSC 1x colour queries

    def write_process_input(self, data: str) -> None:
        # Replies to queries (DA, DSR/CPR) would type into the shell on the remote side's behalf: never sent.
        self.ignored.append("query")

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and _ALT_MODES & set(modes):
            self._enter_alternate()
            modes = tuple(m for m in modes if m not in _ALT_MODES)
        if modes:
            super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and _ALT_MODES & set(modes):
            self._leave_alternate()
            modes = tuple(m for m in modes if m not in _ALT_MODES)
        if modes:
            super().reset_mode(*modes, **kwargs)

    def _enter_alternate(self) -> None:
        if self.alternate:
            return
        self._saved = (copy.deepcopy(self.buffer), copy.copy(self.cursor), (self.cursor.x, self.cursor.y))
        self.alternate = True
        self.erase_in_display(2)
        self.cursor_position()

    def _leave_alternate(self) -> None:
        if not self.alternate or self._saved is None:
            return
        buffer, cursor, (x, y) = self._saved
        self.alternate = False
        self.buffer.clear()
        for row, line in buffer.items():
            if row < self.lines:
                self.buffer[row] = line
        self.cursor = cursor
        self.cursor.x, self.cursor.y = min(x, self.columns - 1), min(y, self.lines - 1)
        self._saved = None
        self.dirty.update(range(self.lines))

    def index(self) -> None:
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and not self.alternate:
            # The top line scrolls off: keep it (the alternate screen keeps no scrollback, like xterm's).
            self.history.top.append(self.buffer[0])
            self.scrolled += 1
        super().index()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Like xterm, a screen losing rows first drops the rows below the cursor; only the rows the cursor
        would leave the screen by scroll off the top (into the history).

        pyte drops the top rows whatever the cursor's row. A shell's first prompt sits on row 0: when the dock
        got smaller after the prompt arrived (a loaded machine lays the tab out late), the prompt was deleted
        and the tab showed an empty screen until the user pressed Enter.
        """
        lines = lines or self.lines
        if lines < self.lines:
            off_top = max(0, self.cursor.y - (lines - 1))
            if not self.alternate:
                for y in range(off_top):
                    self.history.top.append(self.buffer[y])
                    self.scrolled += 1
            kept = {y - off_top: line for y, line in self.buffer.items() if off_top <= y < off_top + lines}
            self.buffer.clear()
            self.buffer.update(kept)
            self.cursor.y -= off_top
            self.lines = lines
            self.dirty.update(range(lines))
            self.set_margins()
        super().resize(lines, columns)

    def history_lines(self) -> list[Any]:
        """Lines scrolled off the top, oldest first."""
        return list(self.history.top)


def _color(name: str, default: QColor, bold: bool = False) -> QColor:
    if name == "default":
        return default
    if bold and name in PALETTE and not name.startswith("bright"):
        name = "bright" + name
    hexa = PALETTE.get(name)
    if hexa is not None:
        return QColor(hexa)
    if len(name) == 6:
        c = QColor("#" + name)
        if c.isValid():
            return c
    return default


_KEYS = {
    Qt.Key.Key_Return: "\r",
    Qt.Key.Key_Enter: "\r",
    Qt.Key.Key_Backspace: "\x7f",
    Qt.Key.Key_Tab: "\t",
    Qt.Key.Key_Backtab: "\x1b[Z",
    Qt.Key.Key_Escape: "\x1b",
    Qt.Key.Key_Insert: "\x1b[2~",
    Qt.Key.Key_Delete: "\x1b[3~",
    Qt.Key.Key_PageUp: "\x1b[5~",
    Qt.Key.Key_PageDown: "\x1b[6~",
    Qt.Key.Key_F1: "\x1bOP",
    Qt.Key.Key_F2: "\x1bOQ",
    Qt.Key.Key_F3: "\x1bOR",
    Qt.Key.Key_F4: "\x1bOS",
    Qt.Key.Key_F5: "\x1b[15~",
    Qt.Key.Key_F6: "\x1b[17~",
    Qt.Key.Key_F7: "\x1b[18~",
    Qt.Key.Key_F8: "\x1b[19~",
    Qt.Key.Key_F9: "\x1b[20~",
    Qt.Key.Key_F10: "\x1b[21~",
    Qt.Key.Key_F11: "\x1b[23~",
    Qt.Key.Key_F12: "\x1b[24~",
}
#: Cursor keys: CSI form normally, SS3 form in application cursor mode (DECCKM), which ``vi`` and ``top`` set.
_CURSOR = {
    Qt.Key.Key_Up: "A",
    Qt.Key.Key_Down: "B",
    Qt.Key.Key_Right: "C",
    Qt.Key.Key_Left: "D",
    Qt.Key.Key_Home: "H",
    Qt.Key.Key_End: "F",
}
DECCKM = 1 << 5  # pyte shifts private modes by 5 bits
_KEY_SEQ = {k.value: v for k, v in _KEYS.items()}
_CURSOR_SEQ = {k.value: v for k, v in _CURSOR.items()}
_K = Qt.Key


def _with_modifiers(seq: str, param: int) -> str:
    """xterm's form of a cursor or function key with Shift/Alt/Ctrl: ``ESC [ 1 ; m A``, ``ESC [ 15 ; m ~``."""
    if seq.endswith("~"):
        return f"{seq[:-1]};{param}~"
    return f"\x1b[1;{param}{seq[-1]}"  # ESC O P / ESC [ A and the like: the final letter keeps its meaning


def key_bytes(key: int, mods: Qt.KeyboardModifier, text: str, app_cursor: bool = False) -> bytes:
    """What an xterm sends for this key press ("" when nothing)."""
    ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
    alt = bool(mods & Qt.KeyboardModifier.AltModifier)
    shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
    # xterm's modifier parameter (1 + Shift + 2 Alt + 4 Ctrl): Ctrl+Left moves a word back in bash and readline.
    param = 1 + shift + 2 * alt + 4 * ctrl
    key = int(getattr(key, "value", key))
    if key in _CURSOR_SEQ:
        if param > 1:
            return _with_modifiers("A" + _CURSOR_SEQ[key], param).encode()
        return (("\x1bO" if app_cursor else "\x1b[") + _CURSOR_SEQ[key]).encode()
    if key in _KEY_SEQ:
        seq = _KEY_SEQ[key]
        if param > 1 and (seq.endswith("~") or seq.startswith("\x1bO")):
            return _with_modifiers(seq, param).encode()
        return (("\x1b" if alt else "") + seq).encode()
    if ctrl and _K.Key_A.value <= key <= _K.Key_Z.value:
        return (("\x1b" if alt else "") + chr(key - _K.Key_A.value + 1)).encode()
    if ctrl and key in (_K.Key_BracketLeft.value, _K.Key_Backslash.value, _K.Key_BracketRight.value):
        return bytes([0x1B + (key - _K.Key_BracketLeft.value)])
    if ctrl and key in (_K.Key_Space.value, _K.Key_At.value):
        return b"\x00"
    if text:
        return (("\x1b" if alt else "") + text).encode("utf-8")
    return b""


class TerminalWidget(QWidget):
    """Draws a :class:`TermScreen`; keys go out through ``send``; size changes come out of ``resized``.

    Args:
        cols: Initial width in cells.
        rows: Initial height in cells.
        parent: Qt parent.

    Attributes:
        send: Called with the bytes of every key press and paste (set by the owner).
    """

    resized = Signal(int, int)  # cols, rows
    pasted = Signal(str)

    def __init__(self, cols: int = 80, rows: int = 24, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vt = TermScreen(cols, rows)
        self.stream = pyte.ByteStream(self.vt)
        self.send: Callable[[bytes], None] = lambda data: None
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.setFont(font)
        self._metrics()
        self.back = 0  # lines scrolled back into the history
        self._sel: tuple[tuple[int, int], tuple[int, int]] | None = None  # (row, col) in document coordinates
        self._sel_anchor: tuple[int, int] | None = None
        self.readonly = False
        self._resize_timer = QTimer(self, singleShot=True, interval=60)
        self._resize_timer.timeout.connect(self._emit_size)
        self._last_size = (cols, rows)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        self.setMinimumSize(self.cw * 20, self.ch * 5)

    def _metrics(self) -> None:
        fm = QFontMetrics(self.font())
        self.cw = max(1, fm.horizontalAdvance("M"))
        self.ch = max(1, fm.height())
        self.ascent = fm.ascent()

    def sizeHint(self) -> QSize:
        return QSize(self.cw * 80, self.ch * 24)

    # -- data in ----------------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Remote output → screen (GUI thread); only the rows that changed are repainted."""
        s = self.vt
        before = (s.cursor.y, s.alternate, s.scrolled)
        s.dirty.clear()
        self.stream.feed(data)
        if self.back and not s.alternate:
            self.back = min(self.back, len(s.history.top))
        if self.back or before[1] != s.alternate or before[2] != s.scrolled or len(s.dirty) > s.lines // 2:
            self.update()
        else:
            # An echoed key changes one row: repainting only it keeps typing fast on a big terminal.
            for y in {*s.dirty, before[0], s.cursor.y}:
                if 0 <= y < s.lines:
                    self.update(0, y * self.ch, self.width(), self.ch)
        s.dirty.clear()

    def text(self) -> str:
        """The visible screen as text (lines without trailing blanks)."""
        return "\n".join(line.rstrip() for line in self.vt.display)

    # -- geometry ---------------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        cols = max(2, self.width() // self.cw)
        rows = max(2, self.height() // self.ch)
        if (cols, rows) != (self.vt.columns, self.vt.lines):
            self.vt.resize(rows, cols)
            self._resize_timer.start()
        super().resizeEvent(event)

    def _emit_size(self) -> None:
        size = (self.vt.columns, self.vt.lines)
        if size != self._last_size:
            self._last_size = size
            self.resized.emit(*size)

    # -- painting ---------------------------------------------------------------------------------------------
    def _lines(self) -> list[Any]:
        """The rows to draw: history lines when scrolled back, then the screen."""
        s = self.vt
        rows = [s.buffer[y] for y in range(s.lines)]
        if self.back and not s.alternate:
            hist = s.history_lines()[-self.back :]
            rows = (hist + rows)[: s.lines]
        return rows

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        area = event.rect()
        p.fillRect(area, DEFAULT_BG)
        s = self.vt
        base_font = self.font()
        bold_font = QFont(base_font)
        bold_font.setBold(True)
        lines = self._lines()
        first_doc_row = len(s.history.top) - self.back if not s.alternate else 0
        cols, cw, chh = s.columns, self.cw, self.ch
        selecting = self._sel is not None
        y0 = max(0, area.top() // chh)
        y1 = min(len(lines) - 1, area.bottom() // chh)
        for y in range(y0, y1 + 1):
            line = lines[y]
            row = first_doc_row + y
            x = 0
            while x < cols:
                ch = line[x]
                key = (ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.reverse)
                selected = selecting and self._selected(row, x)
                run = [ch.data or " "]
                x2 = x + 1
                while x2 < cols:
                    c2 = line[x2]
                    if (c2.fg, c2.bg, c2.bold, c2.italics, c2.underscore, c2.reverse) != key:
                        break
                    if selecting and self._selected(row, x2) != selected:
                        break
                    run.append(c2.data or " ")
                    x2 += 1
                fg = _color(ch.fg, DEFAULT_FG, ch.bold)
                bg = _color(ch.bg, DEFAULT_BG)
                if ch.reverse:
                    fg, bg = bg if ch.bg != "default" else DEFAULT_BG, fg
                if selected:
                    bg = SELECTION_BG
                if bg != DEFAULT_BG:
                    p.fillRect(QRect(x * cw, y * chh, (x2 - x) * cw, chh), bg)
                text = "".join(run)
                if text.strip():
                    f = bold_font if ch.bold else base_font
                    f.setItalic(bool(ch.italics))
                    f.setUnderline(bool(ch.underscore))
                    p.setFont(f)
                    p.setPen(fg)
                    p.drawText(QPoint(x * cw, y * chh + self.ascent), text)
                x = x2
        if not s.cursor.hidden and self.back == 0:
            cur = QRect(s.cursor.x * cw, s.cursor.y * chh, cw, chh)
            if self.hasFocus():
                p.fillRect(cur, QColor(220, 220, 220, 160))
            else:
                p.setPen(QColor(220, 220, 220))
                p.drawRect(cur.adjusted(0, 0, -1, -1))
        p.end()

    # -- selection and clipboard ------------------------------------------------------------------------------
    def _doc_pos(self, pos: QPoint) -> tuple[int, int]:
        s = self.vt
        first = len(s.history.top) - self.back if not s.alternate else 0
        row = max(0, min(s.lines - 1, pos.y() // self.ch))
        col = max(0, min(s.columns - 1, pos.x() // self.cw))
        return first + row, col

    def _selected(self, row: int, col: int) -> bool:
        if self._sel is None:
            return False
        (r1, c1), (r2, c2) = self._sel
        return (r1, c1) <= (row, col) <= (r2, c2)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._sel_anchor = self._doc_pos(event.position().toPoint())
            self._sel = None
            self.update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            self.paste(QGuiApplication.clipboard().text(mode=QGuiApplication.clipboard().Mode.Selection))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._sel_anchor is not None:
            here = self._doc_pos(event.position().toPoint())
            a = self._sel_anchor
            self._sel = (min(a, here), max(a, here))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._sel_anchor = None
        if self._sel is not None:
            text = self.selected_text()
            cb = QGuiApplication.clipboard()
            if cb.supportsSelection():
                cb.setText(text, mode=cb.Mode.Selection)

    def select(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        """Selects from ``start`` to ``end`` (row, col) in document rows (history first)."""
        self._sel = (min(start, end), max(start, end))
        self.update()

    def selected_text(self) -> str:
        """The selection's text (rows joined with newlines, trailing blanks dropped)."""
        if self._sel is None:
            return ""
        s = self.vt
        doc = (s.history_lines() if not s.alternate else []) + [s.buffer[y] for y in range(s.lines)]
        (r1, c1), (r2, c2) = self._sel
        out = []
        for r in range(r1, min(r2, len(doc) - 1) + 1):
            line = doc[r]
            a = c1 if r == r1 else 0
            b = c2 if r == r2 else s.columns - 1
            out.append("".join((line[c].data or " ") for c in range(a, b + 1)).rstrip())
        return "\n".join(out)

    def copy(self) -> None:
        """Ctrl+Shift+C."""
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self, text: str | None = None) -> None:
        """Ctrl+Shift+V: sends the clipboard; text of several lines asks first."""
        if text is None:
            text = QGuiApplication.clipboard().text()
        if not text or self.readonly:
            return
        if "\n" in text.rstrip("\n") or text.count("\n") > 1:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Paste several lines?",
                f"The clipboard holds {text.count(chr(10)) + 1} lines; each line break runs what precedes it "
                "in the shell.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                self,
            )
            box.setObjectName("multiline-paste")
            box.setInformativeText(text[:400] + ("…" if len(text) > 400 else ""))
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.finished.connect(lambda r: self._send_paste(text) if r == QMessageBox.StandardButton.Yes else None)
            box.open()
            return
        self._send_paste(text)

    def _send_paste(self, text: str) -> None:
        data = text.replace("\r\n", "\r").replace("\n", "\r")
        if (2004 << 5) in self.vt.mode:  # bracketed paste (pyte shifts private modes by 5 bits)
            data = f"\x1b[200~{data}\x1b[201~"
        self.send(data.encode("utf-8"))
        self.pasted.emit(text)

    # -- keys -------------------------------------------------------------------------------------------------
    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab belongs to the shell

    def event(self, event: QEvent) -> bool:
        # Keys typed into the shell are the shell's: the window's shortcuts (S opens a shell, Del deletes ...) must
        # not fire while the terminal has focus. Only the command palette stays reachable.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            palette = event.key() == Qt.Key.Key_P and event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if not palette:
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        key = event.key()
        shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        if (mods & shift_ctrl) == shift_ctrl and key == Qt.Key.Key_C:
            self.copy()
            return
        if (mods & shift_ctrl) == shift_ctrl and key == Qt.Key.Key_V:
            self.paste()
            return
        if mods & Qt.KeyboardModifier.ShiftModifier and key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.scroll_by(self.vt.lines // 2 * (1 if key == Qt.Key.Key_PageUp else -1))
            return
        if self.readonly:
            return
        data = key_bytes(key, mods, event.text(), app_cursor=DECCKM in self.vt.mode)
        if data:
            if self.back:
                self.back = 0
                self.update()
            self._sel = None
            self.send(data)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        # Composed text (dead keys, CJK input methods) arrives here, not as key presses.
        text = event.commitString()
        if text and not self.readonly:
            self.send(text.encode("utf-8"))
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() // 40
        self.scroll_by(steps)

    def scroll_by(self, lines: int) -> None:
        """Moves the view into the scrollback (positive: back) and out."""
        if self.vt.alternate:
            return
        self.back = max(0, min(len(self.vt.history.top), self.back + lines))
        self.update()
