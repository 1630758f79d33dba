"""ANSI in log lines: colours become spans, every other control sequence is dropped."""

from __future__ import annotations

from kube9_desktop.kube import ansi

HOSTILE = (
    "start\x1b]52;c;ZXZpbA==\x07"  # OSC 52: write the clipboard
    "\x1b]0;owned title\x1b\\"  # OSC 0: window title, ST-terminated
    "\x1b[2J\x1b[H"  # clear screen, cursor home
    "\x1b[6n"  # device status report (makes a terminal answer)
    "\x1bP+q544e\x1b\\"  # DCS request
    "\x9b31m"  # C1 CSI
    "\x07\x08\r\x00"  # bell, backspace, CR, NUL
    "\x1b[31mred\x1b[0m end\t!"
)


def test_only_colours_survive_a_hostile_line() -> None:
    assert ansi.strip(HOSTILE) == "startred end\t!"
    assert ansi.sanitize(HOSTILE) == "start\x1b[31mred\x1b[0m end\t!"
    spans = ansi.spans(HOSTILE)
    assert "".join(t for t, _ in spans) == "startred end\t!"
    assert [(t, s.fg) for t, s in spans] == [("start", None), ("red", 1), (" end\t!", None)]
    assert ansi.has_controls(HOSTILE) and not ansi.has_controls("plain text\twith tab")


def test_sgr_attributes_and_colours() -> None:
    (text, style), = ansi.spans("\x1b[1;4;38;5;208mhot\x1b[22m")[:1]
    assert text == "hot" and style.bold and style.underline and style.fg == 208
    (_, rgb_style), = ansi.spans("\x1b[38;2;1;2;3;48;5;17mx")
    assert rgb_style.fg == 0x1000000 | 0x010203 and rgb_style.bg == 17
    assert ansi.rgb(1) == 0xCD3131 and ansi.rgb(0x1000000 | 0xABCDEF) == 0xABCDEF and ansi.rgb(232) == 0x080808
    assert ansi.spans("\x1b[91mbright\x1b[39mdefault") == [("bright", ansi.Style(fg=9)), ("default", ansi.PLAIN)]
    # an unterminated sequence at the end of a line is dropped, not shown
    strip = ansi.strip
    assert strip("text\x1b[31") == "text" and strip("text\x1b]52;c;abc") == "text"
