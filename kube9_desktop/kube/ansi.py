"""ANSI in log lines (Qt-free): colours kept as spans, every other control sequence removed.

A container's log is untrusted text. Its SGR colour sequences (``ESC [ ... m``) are worth rendering; anything else
(cursor movement, OSC 52 clipboard writes, window titles, device queries, bare C0/C1 controls) could drive a terminal
or the clipboard, so it never leaves this module. A hand-written scanner rather than a terminal emulator (pyte):
log lines are single lines without cursor addressing, and all a view needs is "text in this colour".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CSI (any final byte), OSC (ended by BEL or ST, or unterminated), DCS/SOS/PM/APC strings, other two-byte ESC
# sequences, a lone ESC, and every C0/C1 control but TAB.
_SEQ = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f-\x9a\x9c-\x9f]"
)
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")


@dataclass(frozen=True)
class Style:
    """A text style from SGR codes. Colours: 0-255 (xterm palette) or ``0x1000000 | rgb``; None = default."""

    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False


PLAIN = Style()


def has_controls(text: str) -> bool:
    """Whether ``text`` holds any escape or control character (the fast path skips parsing otherwise)."""
    return _SEQ.search(text) is not None


def strip(text: str) -> str:
    """``text`` without any escape sequence or control character (TAB kept)."""
    if "\x1b" not in text and text.isprintable():
        return text
    return _SEQ.sub("", text)


def sanitize(text: str) -> str:
    """``text`` with its SGR colour sequences kept and everything else removed (for printing to a terminal)."""
    if "\x1b" not in text and text.isprintable():
        return text
    out: list[str] = []
    pos = 0
    for m in _SEQ.finditer(text):
        out.append(text[pos:m.start()])
        if _SGR.fullmatch(m.group()):
            out.append(m.group())
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def spans(text: str) -> list[tuple[str, Style]]:
    """``text`` as ``(piece, style)`` spans: SGR applied, every other sequence dropped."""
    if "\x1b" not in text and text.isprintable():
        return [(text, PLAIN)] if text else []
    out: list[tuple[str, Style]] = []
    style = PLAIN
    pos = 0
    for m in _SEQ.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], style))
        sgr = _SGR.fullmatch(m.group())
        if sgr is not None:
            style = apply_sgr(style, sgr.group(1))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], style))
    return out


def apply_sgr(style: Style, params: str) -> Style:
    """``style`` after the SGR parameters ``params`` (``"1;31"``); unknown codes are ignored."""
    codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")] if params else [0]
    fg, bg, bold, italic, underline = style.fg, style.bg, style.bold, style.italic, style.underline
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            fg, bg, bold, italic, underline = None, None, False, False, False
        elif c == 1:
            bold = True
        elif c == 3:
            italic = True
        elif c == 4:
            underline = True
        elif c == 22:
            bold = False
        elif c == 23:
            italic = False
        elif c == 24:
            underline = False
        elif 30 <= c <= 37:
            fg = c - 30
        elif 90 <= c <= 97:
            fg = c - 90 + 8
        elif c == 39:
            fg = None
        elif 40 <= c <= 47:
            bg = c - 40
        elif 100 <= c <= 107:
            bg = c - 100 + 8
        elif c == 49:
            bg = None
        elif c in (38, 48) and i + 1 < len(codes):
            colour: int | None = None
            if codes[i + 1] == 5 and i + 2 < len(codes):
                colour, i = codes[i + 2] & 0xFF, i + 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                r, g, b = (min(255, x) for x in codes[i + 2:i + 5])
                colour, i = 0x1000000 | (r << 16) | (g << 8) | b, i + 4
            if c == 38:
                fg = colour
            else:
                bg = colour
        i += 1
    return Style(fg, bg, bold, italic, underline)


_BASE16 = (
    0x000000, 0xCD3131, 0x0DBC79, 0xE5E510, 0x2472C8, 0xBC3FBC, 0x11A8CD, 0xE5E5E5,
    0x666666, 0xF14C4C, 0x23D18B, 0xF5F543, 0x3B8EEA, 0xD670D6, 0x29B8DB, 0xFFFFFF,
)


def rgb(colour: int) -> int:
    """A :class:`Style` colour as 0xRRGGBB (the xterm 256-colour palette for indexed colours)."""
    if colour & 0x1000000:
        return colour & 0xFFFFFF
    if colour < 16:
        return _BASE16[colour]
    if colour < 232:
        c = colour - 16
        steps = (0, 95, 135, 175, 215, 255)
        return (steps[c // 36] << 16) | (steps[(c // 6) % 6] << 8) | steps[c % 6]
    v = 8 + (colour - 232) * 10
    return (v << 16) | (v << 8) | v
