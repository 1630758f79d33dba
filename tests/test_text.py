"""Text from outside made safe for a terminal: headless command output keeps lines and colours, nothing else."""

from __future__ import annotations

import asyncio
import io

from kube9_desktop.headless_run import HeadlessPort
from kube9_desktop.text import escape_output


def test_command_output_keeps_lines_tabs_and_colours() -> None:
    text = "a\tb\n\x1b[31merror\x1b[0m done"
    assert escape_output(text) == text


def test_command_output_escapes_every_other_control_sequence() -> None:
    hostile = "x\x1b]52;c;ZXZpbA==\x07y\x1b[2Jz\rw\u202eq"
    out = escape_output(hostile)
    assert "\x1b]" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "\x1b[2J" not in out  # a cursor/erase sequence is not a colour
    assert out == "x\\x1b]52;c;ZXZpbA==\\x07y\\x1b[2Jz\\rw\\u202eq"


def test_headless_port_prints_what_it_tells_escaped() -> None:
    out, err = io.StringIO(), io.StringIO()
    port = HeadlessPort(yes=False, out=out, err=err)
    port.tell("pod \x1b]0;owned\x07 deleted")
    assert out.getvalue() == "pod \\x1b]0;owned\\x07 deleted\n"
    assert asyncio.run(port.confirm("Delete pod \x1b[2Jx?")) is False
    assert "\\x1b[2J" in err.getvalue() and "--yes" in err.getvalue()


def test_one_line_for_the_window_shows_controls_and_keeps_text() -> None:
    from kube9_desktop.text import show_one_line

    assert show_one_line("web-7d9f8-x2x1q") == "web-7d9f8-x2x1q"
    assert show_one_line("café 数据 — 3/4 ready") == "café 数据 — 3/4 ready"  # text of any script is text
    assert show_one_line("a\nb\tc\r\u2028d") == "a b c  d"
    assert show_one_line("\x1b[2J\x07\x9b\u202egpj.exe\u2066") == "⟨U+001B⟩[2J⟨U+0007⟩⟨U+009B⟩⟨U+202E⟩gpj.exe⟨U+2066⟩"
