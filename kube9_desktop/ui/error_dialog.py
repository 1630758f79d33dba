"""Errors the user should hear about, one notice per burst: an inline banner above the tree, and a non-modal
Details window on demand.

A burst is every error that arrives while its banner is up, or within a few seconds of the burst's last error,
until the user starts something new (:meth:`ErrorNotices.begin_burst`). Whatever the cause (300 broken contexts in
a kubeconfig, twenty lists failing with the same 401), a burst is one banner: the first error in full, a count of
repeats and of other problems, and all of them (bounded) behind Details. Nothing takes the focus or blocks the
window, and every text shown is bounded (a kubeconfig with 20,000 contexts once made a 209 KB hint).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.model import render

#: Characters and lines of a message or hint shown in the banner (the rest is behind Details).
BANNER_CHARS = 400
BANNER_LINES = 4
#: Characters and lines of one error's text in the Details window.
DETAIL_CHARS = 2000
DETAIL_LINES = 20
#: Distinct errors a burst keeps (later ones are only counted) and lists in the Details window.
KEPT = 100
LISTED = 50


def bounded(text: str, chars: int = BANNER_CHARS, lines: int = BANNER_LINES) -> str:
    """``text`` cut to ``lines`` lines and ``chars`` characters, saying how much was left out."""
    parts = text.splitlines() or [""]
    out = "\n".join(parts[:lines])
    cut = len(parts) > lines
    if len(out) > chars:
        out, cut = out[:chars], True
    if not cut:
        return out
    return f"{out.rstrip()} … ({len(text) - len(out):,} more characters)"


def error_details(error: KubeError) -> str:
    """The raw details of one error: status code, reason and the server's Status object, as JSON."""
    head: dict[str, object] = {"kind": error.kind.value, "status": error.status, "reason": error.reason,
                               "context": error.context}
    body: dict[str, object] = {k: v for k, v in head.items() if v}
    if error.details:
        body["details"] = error.details
    return bounded(json.dumps(body, indent=2, default=str), DETAIL_CHARS * 4, DETAIL_LINES * 4)


@dataclass
class Burst:
    """The errors of one burst, distinct ones in arrival order with how often each came.

    Attributes:
        errors: The distinct errors kept (at most :data:`KEPT`).
        counts: How often each identity arrived.
        dropped: Distinct errors beyond :data:`KEPT`, counted only.
        last: ``time.monotonic()`` of the latest error.
    """

    errors: list[KubeError] = field(default_factory=list)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    dropped: int = 0
    last: float = 0.0

    def add(self, error: KubeError) -> None:
        """Count one more error into the burst."""
        key = error.identity
        if key in self.counts:
            self.counts[key] += 1
        elif len(self.errors) < KEPT:
            self.counts[key] = 1
            self.errors.append(error)
        else:
            self.dropped += 1
        self.last = time.monotonic()

    @property
    def error(self) -> KubeError:
        """The first error: the one shown in full."""
        return self.errors[0]

    @property
    def count(self) -> int:
        """How often the first error arrived."""
        return self.counts[self.error.identity]

    @property
    def others(self) -> int:
        """Distinct errors besides the first."""
        return len(self.errors) - 1 + self.dropped

    def summary(self) -> str:
        """"This happened 3 times. 299 other problems." (empty for a single error)."""
        parts = []
        if self.count > 1:
            parts.append(f"This happened {self.count} times.")
        if self.others:
            parts.append(f"{self.others:,} other problem{'s' if self.others > 1 else ''} — see Details.")
        return " ".join(parts)

    def details_text(self) -> str:
        """Every error of the burst (the first :data:`LISTED`), each with its raw details."""
        out = []
        for e in self.errors[:LISTED]:
            n = self.counts[e.identity]
            head = f"{e.title}" + (f" — {e.context}" if e.context else "") + (f" (×{n})" if n > 1 else "")
            out.append("\n".join(x for x in (head, bounded(e.message, DETAIL_CHARS, DETAIL_LINES),
                                              bounded(e.hint, DETAIL_CHARS, DETAIL_LINES), error_details(e)) if x))
        rest = len(self.errors) - LISTED + self.dropped
        if rest > 0:
            out.append(f"… and {rest:,} more.")
        return "\n\n".join(out)


class ErrorBanner(QFrame):
    """The inline notice above the tree: icon, title, message, hint, counts, Details and a close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Its own text colour too: on a dark theme the palette's light text would not read on the light background.
        self.setStyleSheet("#errorBanner { background: #fdecea; border: 1px solid #e6a5a0; border-radius: 4px; }"
                           "#errorBanner QLabel { color: #3b1512; }")
        self.burst: Burst | None = None
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 6, 6, 6)
        icon = QLabel(self)
        icon.setPixmap(render.icon("error").pixmap(24, 24))
        outer.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.title_label = QLabel(self)
        self.message_label = QLabel(self)
        self.hint_label = QLabel(self)
        # What to do is the part to act on: in the text colour (a pale grey was hard to read), set apart in italics.
        hint_font = self.hint_label.font()
        hint_font.setItalic(True)
        self.hint_label.setFont(hint_font)
        self.count_label = QLabel(self)
        for w in (self.title_label, self.message_label, self.hint_label, self.count_label):
            w.setWordWrap(True)
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.addWidget(w)
        self.title_label.setTextFormat(Qt.TextFormat.RichText)
        for w in (self.message_label, self.hint_label, self.count_label):
            w.setTextFormat(Qt.TextFormat.PlainText)  # server text is never markup
        outer.addLayout(text, 1)
        self.details_button = QPushButton("Details…", self)
        self.details_button.setToolTip("Every error of this burst, with the server's answer")
        outer.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        outer.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_burst(self, burst: Burst) -> None:
        """Show ``burst`` (replacing what was shown)."""
        self.burst = burst
        self.update_text()
        self.show()

    def update_text(self) -> None:
        """Show the burst's current counts."""
        b = self.burst
        if b is None:
            return
        e = b.error
        self.title_label.setText(f"<b>{_esc(bounded(e.title, 120, 1))}</b>"
                                 + (f" — {_esc(bounded(e.context, 120, 1))}" if e.context else ""))
        self.message_label.setText(bounded(e.message))
        self.hint_label.setText(bounded(e.hint))
        self.hint_label.setVisible(bool(e.hint))
        self.count_label.setText(b.summary())
        self.count_label.setVisible(bool(self.count_label.text()))

    # The first error and its count, as a dialog of one error offered them.
    @property
    def error(self) -> KubeError:
        """The error shown in full."""
        assert self.burst is not None
        return self.burst.error

    @property
    def count(self) -> int:
        """How often the error shown arrived in this burst."""
        return self.burst.count if self.burst is not None else 0

    def details_text(self) -> str:
        """The Details window's text for this burst."""
        return self.burst.details_text() if self.burst is not None else ""


class ErrorDialog(QDialog):
    """The Details window of a burst: non-modal, every error with its raw details (bounded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setWindowTitle("kube9 — Errors")
        self.setMinimumSize(520, 360)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

    def show_burst(self, burst: Burst) -> None:
        """Show ``burst``'s errors."""
        self.setWindowTitle(f"kube9 — {bounded(burst.error.title, 80, 1)}"
                            + (f" and {burst.others:,} more" if burst.others else ""))
        self.text.setPlainText(burst.details_text())


class ErrorNotices:
    """Shows a window's errors, one banner per burst (see the module docstring).

    Attributes:
        window_seconds: An error within this many seconds of the burst's last one joins the burst, even when its
            banner was dismissed.
        shown: Every burst shown, oldest first.
    """

    window_seconds = 3.0

    def __init__(self, banner: ErrorBanner, parent: QWidget) -> None:
        self.banner = banner
        self._parent = parent
        self._burst: Burst | None = None
        self._new_burst = False
        self._dialog: ErrorDialog | None = None
        self.shown: list[Burst] = []
        banner.details_button.clicked.connect(self.open_details)

    def begin_burst(self) -> None:
        """A new user action starts: its errors are a new burst (a repeat of the error on screen counts up)."""
        self._new_burst = True

    def show(self, error: KubeError) -> Burst:
        """Show ``error``: into the current burst, or as a new burst's banner."""
        burst = self._burst
        now = time.monotonic()
        joins = burst is not None and (
            (not self._new_burst and (not self.banner.isHidden() or now - burst.last < self.window_seconds))
            # The user tried again and got the same error: the notice says how often, rather than a fresh one.
            or (not self.banner.isHidden() and error.identity in burst.counts)
        )
        self._new_burst = False
        if burst is not None and joins:
            burst.add(error)
            self.banner.update_text()
        else:
            burst = Burst()
            burst.add(error)
            self._burst = burst
            self.shown.append(burst)
            self.banner.show_burst(burst)
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.show_burst(burst)
        return burst

    def context_left(self, context: str) -> None:
        """The user switched away from ``context``: a banner about it alone is dismissed (its error rows stay in
        its tree), and what comes next is a new burst."""
        self.begin_burst()
        burst = self._burst
        if burst is not None and all(e.context == context for e in burst.errors):
            self.banner.hide()

    def open_details(self) -> ErrorDialog | None:
        """Open (or raise) the non-modal Details window of the current burst."""
        if self._burst is None:
            return None
        if self._dialog is None:
            self._dialog = ErrorDialog(self._parent)
        self._dialog.show_burst(self._burst)
        self._dialog.show()
        self._dialog.activateWindow()  # already open behind the window: bring it forward
        return self._dialog

    @property
    def dialog(self) -> ErrorDialog | None:
        """The Details window, once opened."""
        return self._dialog

    def visible(self) -> list[ErrorBanner]:
        """The notices on screen: the banner, when shown."""
        return [self.banner] if not self.banner.isHidden() else []

    def close_all(self) -> None:
        """Dismiss the banner and close the Details window."""
        self.banner.hide()
        if self._dialog is not None:
            self._dialog.close()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
