"""The log text widget: a scroll area that paints only the visible lines, straight from the held lines.

Qt's item views lay out every row when asked to scroll to the end (QListView and QTreeView took 0.1-0.6 s per
append at 20,000-100,000 rows), and a QPlainTextEdit lays out every appended block (half a millisecond per coloured
line, about a kilobyte each). Here appending is a list extend and a scroll-bar range change; painting walks the
visible rows only. A line is its :class:`~kube9_desktop.kube.pod_logs.LogLine` (already held by the session's
ring); its colours come from :func:`kube9_desktop.kube.ansi.spans` (colours only, every other control sequence is
dropped), so nothing the container wrote reaches the screen or the clipboard as a control sequence.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from kube9_desktop.kube import ansi
from kube9_desktop.kube.pod_logs import LogLine, LogSource

#: Tag colours for merged views (readable on light and dark backgrounds).
TAG_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
_STAMP = ansi.Style(fg=0x1000000 | 0x808080)
_MATCH = QColor("#ffe066")


def json_text(text: str, pretty: bool) -> str:
    """A JSON log line indented, or as ``LEVEL message key=value ...``; the line itself when it is not JSON."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if not isinstance(obj, dict):
        return text
    if pretty:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()
    level = next((str(obj.pop(k)) for k in ("level", "lvl", "severity") if k in obj), "")
    msg = next((str(obj.pop(k)) for k in ("msg", "message") if k in obj), "")
    rest = " ".join(f"{k}={v}" for k, v in obj.items())
    return " ".join(x for x in (level.upper().ljust(5), msg, rest) if x)


class LogLines:
    """The shown lines (after the level filter), newest last, at most ``max_lines``, and how to show one."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.lines: list[LogLine] = []
        self.sources: list[LogSource] = []
        self.merged = False
        self.timestamps = False
        self.json_mode = 0  # 0 as is, 1 pretty, 2 fields
        self.find_rx: re.Pattern[str] | None = None
        self.max_chars = 80
        #: Lines dropped at the top to stay within ``max_lines`` (shown as a marker above the first line).
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.lines)

    def body(self, line: LogLine) -> str:
        """The line's text as shown (JSON transformed), control sequences still in."""
        text = line.text
        if self.json_mode and text.startswith("{"):
            text = json_text(ansi.strip(text), pretty=self.json_mode == 1)
        return text

    def spans(self, row: int) -> list[tuple[str, ansi.Style | int]]:
        """The row as spans; an ``int`` style is a tag colour index."""
        line = self.lines[row]
        out: list[tuple[str, ansi.Style | int]] = []
        if self.merged and 0 <= line.src < len(self.sources):
            out.append((self.sources[line.src].tag + " ", line.src))
        if self.timestamps and line.stamp:
            out.append((line.stamp + " ", _STAMP))
        out.extend(ansi.spans(self.body(line)))
        return out

    def plain(self, row: int) -> str:
        """The row as plain text (what copy and save give; no control sequence)."""
        line = self.lines[row]
        parts = []
        if self.merged and 0 <= line.src < len(self.sources):
            parts.append(self.sources[line.src].tag + " ")
        if self.timestamps and line.stamp:
            parts.append(line.stamp + " ")
        parts.append(ansi.strip(self.body(line)))
        return "".join(parts)

    def append(self, lines: list[LogLine]) -> int:
        """Add lines at the end; returns how many of the oldest were dropped to stay within ``max_lines``."""
        if not lines:
            return 0
        self.lines.extend(lines)
        excess = len(self.lines) - self.max_lines
        if excess > 0:
            del self.lines[:excess]
            self.dropped += excess
        longest = max(len(ln.text) for ln in lines[-2000:]) + (30 if self.timestamps else 0) + \
            (16 if self.merged else 0)
        self.max_chars = max(self.max_chars, min(longest, 4000))
        return max(0, excess)

    def count_matches(self, start: int = 0) -> int:
        """Rows from ``start`` on that match the find pattern."""
        rx = self.find_rx
        if rx is None:
            return 0
        return sum(1 for i in range(start, len(self.lines)) if rx.search(self.plain(i)))


class LogCanvas(QAbstractScrollArea):
    """Paints the visible rows of a :class:`LogLines`; the vertical scroll bar's value is the first row shown.

    Click selects a row, Shift+click extends; Ctrl+C copies the selection (plain text).

    Signals:
        at_end_changed(bool): whether the newest line is in view (autoscroll follows while it is).
    """

    copy_requested = Signal()

    def __init__(self, lines: LogLines, font: QFont, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = lines
        self.wrap = False
        self._looks: dict[ansi.Style | int, tuple[QColor | None, QColor | None, bool]] = {}
        self.anchor = -1
        self.current = -1
        self.set_font(font)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)

    def set_font(self, font: QFont) -> None:
        """The monospace font (and its bold face)."""
        self.font_ = QFont(font)
        self.bold = QFont(font)
        self.bold.setBold(True)
        self.fm = QFontMetrics(self.font_)
        self.line_h = self.fm.height()
        self.char_w = max(1, self.fm.horizontalAdvance("M"))
        self.fmf = QFontMetricsF(self.font_)
        self.cell_w = self.fmf.horizontalAdvance("M")
        probe = "MiW._{}|il0"
        #: Every ASCII character one cell wide (so a row's widths are counted, not measured: measuring shapes text).
        self.monospace = abs(self.fmf.horizontalAdvance(probe) - len(probe) * self.cell_w) < 0.01

    # -- geometry -------------------------------------------------------------------------------------------------

    def visible_rows(self) -> int:
        """Whole rows that fit (one-line rows)."""
        return max(1, self.viewport().height() // self.line_h)

    def _row_height(self, row: int, width: int) -> int:
        if not self.wrap:
            return self.line_h
        text = self.data.plain(row)
        r = self.fm.boundingRect(QRect(0, 0, max(50, width - 8), 1_000_000),
                                 int(Qt.TextFlag.TextWrapAnywhere), text)
        return max(self.line_h, r.height())

    def update_ranges(self) -> None:
        """Scroll ranges after the lines changed or the view was resized."""
        n = len(self.data)
        vs = self.verticalScrollBar()
        vs.setPageStep(self.visible_rows())
        marker = 1 if self.data.dropped else 0
        vs.setRange(0, max(0, n + marker - (1 if self.wrap else self.visible_rows())))
        hs = self.horizontalScrollBar()
        width = 0 if self.wrap else self.data.max_chars * self.char_w + 8
        hs.setPageStep(self.viewport().width())
        hs.setRange(0, max(0, width - self.viewport().width()))
        self.viewport().update()

    def at_end(self) -> bool:
        """Whether the newest line is in view."""
        vs = self.verticalScrollBar()
        return vs.value() >= vs.maximum()

    def scroll_to_end(self) -> None:
        """Show the newest lines."""
        self.update_ranges()
        vs = self.verticalScrollBar()
        if not self.wrap:
            vs.setValue(vs.maximum())
            return
        # Wrapped rows: the first row such that the rows after it fill the view.
        width, left, row = self.viewport().width(), self.viewport().height(), len(self.data) - 1
        while row > 0 and left - self._row_height(row, width) > 0:
            left -= self._row_height(row, width)
            row -= 1
        vs.setValue(max(0, row))

    def scroll_to_row(self, row: int) -> None:
        """Bring ``row`` into view (centred when it was out of view)."""
        vs = self.verticalScrollBar()
        first, rows = vs.value(), self.visible_rows()
        if not first <= row < first + rows:
            vs.setValue(max(0, row - rows // 2))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.update_ranges()

    # -- painting -------------------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        self._painted_font: QFont | None = None  # set on the painter only when they change (most rows: never)
        self._painted_pen: QColor | None = None
        pal = self.palette()
        painter.fillRect(self.viewport().rect(), pal.base())
        n = len(self.data)
        first = self.verticalScrollBar().value()
        x0 = 4 - self.horizontalScrollBar().value()
        width = self.viewport().width()
        height = self.viewport().height()
        lo, hi = sorted((self.anchor, self.current)) if self.current >= 0 else (-1, -1)
        if lo < 0:
            lo = hi
        y = 0
        row = first
        text_colour = pal.text().color()
        if first == 0 and self.data.dropped:
            # The marker above the oldest line held: older lines were dropped to stay within the limit.
            painter.setFont(self.font_)
            painter.setPen(pal.placeholderText().color())
            painter.drawText(QPoint(x0, self.fm.ascent()),
                             f"… {self.data.dropped:,} older lines dropped (limit {self.data.max_lines:,})")
            y = self.line_h
        while row < n and y < height:
            h = self._row_height(row, width)
            rect = QRect(0, y, width, h)
            selected = lo <= row <= hi and row >= 0
            if selected:
                painter.fillRect(rect, pal.highlight())
            base = pal.highlightedText().color() if selected else text_colour
            if self.wrap:
                painter.setFont(self.font_)
                painter.setPen(base)
                painter.drawText(rect.adjusted(4, 0, -4, 0), int(Qt.TextFlag.TextWrapAnywhere), self.data.plain(row))
            else:
                self._paint_row(painter, row, x0, y, base, selected)
            y += h
            row += 1
        painter.end()

    def _paint_row(self, painter: QPainter, row: int, x0: int, y: int, base: QColor, selected: bool) -> None:
        x = float(x0)
        rx = self.data.find_rx
        if rx is not None:
            plain = self.data.plain(row)
            for m in rx.finditer(plain):
                if m.end() > m.start():
                    mx = x + self._advance(plain[:m.start()])
                    painter.fillRect(QRectF(mx, y, self._advance(m.group()), self.line_h), _MATCH)
        baseline = y + self.fm.ascent()
        right = self.viewport().width()
        cell = self.cell_w
        for piece, style in self.data.spans(row):
            if x >= right:
                break
            if self.monospace and piece.isascii():
                if x < 0:  # scrolled right: what is left of the view is not drawn
                    skip = min(len(piece), int(-x // cell))
                    piece, x = piece[skip:], x + skip * cell
                if x + len(piece) * cell > right + cell:
                    # Past the right edge: only what fits is laid out (shaping is most of a row's cost).
                    piece = piece[:int((right - x) // cell) + 1]
            fg, bg, bold = self._look(style)
            w = self._advance(piece)
            if x + w >= 0:
                font = self.bold if bold else self.font_
                if font is not self._painted_font:
                    painter.setFont(font)
                    self._painted_font = font
                if bg is not None and not selected:
                    painter.fillRect(QRectF(x, y, w, self.line_h), bg)
                pen = base if selected or fg is None else fg
                if pen is not self._painted_pen:
                    painter.setPen(pen)
                    self._painted_pen = pen
                painter.drawText(QPointF(x, baseline), piece)
            x += w

    def _advance(self, text: str) -> float:
        """The width of ``text``: plain ASCII in a monospace font is its length in cells (measuring it shapes it)."""
        return len(text) * self.cell_w if self.monospace and text.isascii() else self.fmf.horizontalAdvance(text)

    def _look(self, style: ansi.Style | int) -> tuple[QColor | None, QColor | None, bool]:
        look = self._looks.get(style)
        if look is None:
            if isinstance(style, int):
                look = (QColor(TAG_COLOURS[style % len(TAG_COLOURS)]), None, True)
            else:
                look = (QColor(f"#{ansi.rgb(style.fg):06x}") if style.fg is not None else None,
                        QColor(f"#{ansi.rgb(style.bg):06x}") if style.bg is not None else None, style.bold)
            if len(self._looks) > 512:
                self._looks.clear()
            self._looks[style] = look
        return look

    # -- selection, keys ------------------------------------------------------------------------------------------

    def row_at(self, pos: QPoint) -> int:
        """The row under a viewport position (-1 below the last)."""
        width, y, row = self.viewport().width(), 0, self.verticalScrollBar().value()
        if row == 0 and self.data.dropped:
            y = self.line_h  # the dropped-lines marker
            if pos.y() < y:
                return -1
        while row < len(self.data):
            h = self._row_height(row, width)
            if pos.y() < y + h:
                return row
            y += h
            row += 1
        return -1

    def select(self, first: int, last: int | None = None) -> None:
        """Select rows ``first``..``last`` (one row when ``last`` is None)."""
        self.anchor = first
        self.current = first if last is None else last
        self.viewport().update()

    def selected_rows(self) -> range:
        """The selected rows (empty when none)."""
        if self.current < 0 or self.anchor < 0:
            return range(0)
        lo, hi = sorted((self.anchor, self.current))
        return range(lo, min(hi, len(self.data) - 1) + 1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.row_at(event.position().toPoint())
        if row < 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and self.anchor >= 0:
            self.current = row
        else:
            self.anchor = self.current = row
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.anchor >= 0:
            row = self.row_at(event.position().toPoint())
            if row >= 0:
                self.current = row
                self.viewport().update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        vs = self.verticalScrollBar()
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select(0, len(self.data) - 1)
        elif event.key() == Qt.Key.Key_End:
            self.scroll_to_end()
        elif event.key() == Qt.Key.Key_Home:
            vs.setValue(0)
        else:
            super().keyPressEvent(event)

    def shift_selection(self, dropped: int) -> None:
        """``dropped`` rows left at the top: the selection moves with its rows."""
        if dropped and self.current >= 0:
            self.anchor -= dropped
            self.current -= dropped
            if self.current < 0:
                self.anchor = self.current = -1
            else:
                self.anchor = max(0, self.anchor)
