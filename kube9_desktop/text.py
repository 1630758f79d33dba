"""Untrusted text (names and messages from a server, file paths) made safe to show.

A hostile server chooses its object names: a newline forges a row of ``--print-tree`` output, an ESC sequence
reaches the terminal, and a bidi override (U+202E) reorders what the window shows so ``gpj.exe`` reads ``exe.jpg``.
Nothing here imports Qt.
"""

from __future__ import annotations

import re

#: Unicode's explicit bidi formatting characters (embeddings, overrides, isolates, marks).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# C0 and C1 controls and DEL (tab and newline included: they separate columns and rows), the Unicode line and
# paragraph separators, and the bidi controls.
_TERMINAL_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def escape_controls(text: str) -> str:
    """``text`` for a terminal or a line-based file: every control character as a visible escape (``\\n``,
    ``\\x1b``, ``\\u202e``), so one value stays on one line and sends the terminal nothing."""
    return _TERMINAL_UNSAFE.sub(_escape, text)


def show_bidi(text: str) -> str:
    """``text`` for the window: each bidi control as a visible ``⟨U+202E⟩`` instead of reordering the text."""
    return _BIDI.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


_LINE_BREAKS = frozenset("\t\n\v\f\r\u2028\u2029")


def show_one_line(text: str) -> str:
    """``text`` for one line of the window (a row's cell, a title, a field): line breaks and tabs as spaces (a
    newline in a name drew a second, forged line), every other control character and each bidi control as a
    visible ``⟨U+001B⟩`` (an ESC or a U+202E must neither hide nor reorder what is shown)."""
    return _TERMINAL_UNSAFE.sub(_show_code, text)


def _show_code(match: re.Match[str]) -> str:
    ch = match.group()
    return " " if ch in _LINE_BREAKS else f"⟨U+{ord(ch):04X}⟩"


# SGR (colour and style) sequences: the only control sequences a headless command passes through, as kubectl logs
# does, so a coloured log line prints the same as kubectl's.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_OUTPUT_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


def escape_output(text: str) -> str:
    """``text`` for a command's output on a terminal: lines and tabs kept, colour (SGR) sequences kept, every other
    control character (ESC of a cursor, title or clipboard sequence, CR, bidi controls) as a visible escape."""
    out: list[str] = []
    pos = 0
    for m in _SGR.finditer(text):
        out.append(_OUTPUT_UNSAFE.sub(_escape, text[pos:m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(_OUTPUT_UNSAFE.sub(_escape, text[pos:]))
    return "".join(out)
