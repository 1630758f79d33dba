"""The terminal widget (pyte drawn by Qt) alone, and the shell tab against kube9-sim."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontDatabase, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from kube9_desktop.kube.exec import ExecSpec, stream_client
from kube9_desktop.ui.terminal import DEFAULT_BG, PALETTE, SELECTION_BG, TerminalWidget, key_bytes
from kube9_desktop.ui.terminal_view import TerminalView


@pytest.fixture
def term(qtbot: Any) -> Iterator[tuple[TerminalWidget, list[bytes]]]:
    w = TerminalWidget(80, 24)
    qtbot.addWidget(w)
    sent: list[bytes] = []
    w.send = sent.append
    yield w, sent


def test_colours_bold_and_reverse_land_on_the_cells(term: Any) -> None:
    w, _ = term
    w.feed(b"\x1b[31mred\x1b[0m \x1b[1;44mbold-on-blue\x1b[0m \x1b[7mrev\x1b[0m \x1b[38;5;208morange\x1b[0m")
    line = w.vt.buffer[0]
    assert (line[0].data, line[0].fg) == ("r", "red")
    assert line[4].bold and line[4].bg == "blue"
    assert line[17].reverse
    assert line[21].fg == "ff8700"
    w.resize(800, 400)
    img = w.grab().toImage()

    def cell_colours(col: int) -> set[str]:
        return {img.pixelColor(x, y).name() for x in range(col * w.cw, (col + 1) * w.cw) for y in range(w.ch)}

    assert PALETTE["red"] in set().union(*(cell_colours(c) for c in range(3)))  # the glyphs of "red" are red
    assert cell_colours(4) >= {PALETTE["blue"]}  # the background behind "bold-on-blue" is blue
    assert DEFAULT_BG.name() not in cell_colours(17)  # reverse video: the cell's background is the foreground
    assert PALETTE["red"] not in cell_colours(5)


def test_the_font_is_the_systems_fixed_font(term: Any) -> None:
    w, _ = term
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert w.font().family() == fixed.family() and w.font().fixedPitch() == fixed.fixedPitch()
    assert w.cw == QFontMetrics(w.font()).horizontalAdvance("M")


def test_the_alternate_screen_is_drawn_on_and_left_as_it_was(term: Any) -> None:
    w, _ = term
    w.feed(b"$ before\r\n$ ")
    w.feed(b"\x1b[?1049h\x1b[H\x1b[2Jtop screen\x1b[5;1Hrow five")
    assert w.vt.alternate and "top screen" in w.text() and "before" not in w.text()
    w.feed(b"\x1b[?1049l")
    assert not w.vt.alternate
    assert w.text().splitlines()[:2] == ["$ before", "$"]
    assert "top screen" not in w.text()
    assert (w.vt.cursor.x, w.vt.cursor.y) == (2, 1)


def test_clipboard_writes_control_char_titles_and_queries_are_ignored(term: Any, qapp: Any) -> None:
    w, sent = term
    QGuiApplication.clipboard().setText("untouched")
    w.feed(b"\x1b]0;fine title\x07")
    assert w.vt.title == "fine title"
    w.feed(
        b"\x1b]52;c;aGFja2VkIGNsaXBib2FyZA==\x07"  # OSC 52: set the clipboard
        b"\x1b]0;evil\x01title\x07"  # a title with a control character
        b"\x1b[c\x1b[6n\x1b[>c"  # device attributes, cursor position report
        b"after"
    )
    assert QGuiApplication.clipboard().text() == "untouched"
    assert w.vt.title == "fine title"
    assert sent == []  # no reply typed into the shell
    assert "title" in w.vt.ignored and "query" in w.vt.ignored
    assert "after" in w.text()


@pytest.mark.parametrize(
    ("key", "mods", "text", "app", "want"),
    [
        (Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier, "", False, b"\x1b[A"),
        (Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier, "", True, b"\x1bOA"),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, "", False, b"\x1b[D"),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, "\t", False, b"\t"),
        (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier, "\x03", False, b"\x03"),
        (Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier, "\x04", False, b"\x04"),
        (Qt.Key.Key_F1, Qt.KeyboardModifier.NoModifier, "", False, b"\x1bOP"),
        (Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier, "", False, b"\x1b[15~"),
        (Qt.Key.Key_F12, Qt.KeyboardModifier.NoModifier, "", False, b"\x1b[24~"),
        (Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier, "\x08", False, b"\x7f"),
        (Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier, "b", False, b"\x1bb"),
        (Qt.Key.Key_Eacute, Qt.KeyboardModifier.NoModifier, "é", False, "é".encode()),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier, "", False, b"\x1b[1;5D"),  # a word back in bash
        (Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier, "", True, b"\x1b[1;3C"),
        (Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier, "", False, b"\x1b[1;2A"),
        (Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier, "", False, b"\x1b[1;2P"),
        (Qt.Key.Key_F5, Qt.KeyboardModifier.ControlModifier, "", False, b"\x1b[15;5~"),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier, "", False, b"\x1b[3;5~"),
        (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier, "", False, b"\x1b[Z"),
        (Qt.Key.Key_Up, Qt.KeyboardModifier.KeypadModifier, "", False, b"\x1b[A"),  # the keypad's arrow is an arrow
    ],
)
def test_keys_are_sent_as_an_xterm_sends_them(key: Any, mods: Any, text: str, app: bool, want: bytes) -> None:
    assert key_bytes(key, mods, text, app_cursor=app) == want


def test_key_presses_reach_send_and_tab_stays_in_the_terminal(term: Any, qtbot: Any) -> None:
    w, sent = term
    w.show()
    w.setFocus()
    qtbot.keyClicks(w, "ls")
    qtbot.keyClick(w, Qt.Key.Key_Tab)
    qtbot.keyClick(w, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(w, Qt.Key.Key_Up)
    w.feed(b"\x1b[?1h")  # application cursor keys, as vi sets them
    qtbot.keyClick(w, Qt.Key.Key_Up)
    assert b"".join(sent) == b"ls\t\x03\x1b[A\x1bOA"


def test_a_size_change_is_reported_in_cells(term: Any, qtbot: Any) -> None:
    w, _ = term
    w.show()
    with qtbot.waitSignal(w.resized, timeout=2000) as sig:
        w.resize(w.cw * 100 + 3, w.ch * 30 + 2)
    assert sig.args == [100, 30]
    assert (w.vt.columns, w.vt.lines) == (100, 30)


def test_a_shrinking_screen_keeps_the_prompt_and_scrolls_only_what_the_cursor_needs(term: Any) -> None:
    """pyte drops the top rows on a shrink: a prompt on row 0 (a shell's first), painted (every row then exists)
    before the dock got smaller, vanished (a loaded-machine flake of the window's shell test)."""
    w, _ = term
    w.feed(b"/ # ")
    w.grab()  # painting reads every row
    w.vt.resize(10, 80)
    assert w.text().splitlines()[0] == "/ #" and w.vt.cursor.y == 0
    w.feed(b"\r\n".join(f"out {i}".encode() for i in range(12)))  # the cursor on row 9, the screen full
    top = len(w.vt.history.top)
    w.grab()
    w.vt.resize(4, 80)  # now the cursor's row is kept: the 6 rows above the new screen go to the history
    assert w.text().splitlines() == ["out 8", "out 9", "out 10", "out 11"] and w.vt.cursor.y == 3
    assert len(w.vt.history.top) == top + 6


def test_selection_copies_with_ctrl_shift_c(term: Any, qtbot: Any) -> None:
    w, _ = term
    w.show()
    w.feed(b"first line\r\nsecond line\r\n")
    top = len(w.vt.history.top)
    w.select((top, 0), (top + 1, 5))
    qtbot.keyClick(w, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "first line\nsecond"


def test_a_mouse_drag_selects_and_ctrl_shift_c_copies_it(term: Any, qtbot: Any) -> None:
    w, sent = term
    w.show()
    w.feed(b"$ echo picked words\r\npicked words\r\n$ ")
    y = w.ch + w.ch // 2  # the second row
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=QPoint(w.cw * 0 + 1, y))
    qtbot.mouseMove(w, QPoint(w.cw * 6 + 1, y))
    qtbot.mouseMove(w, QPoint(w.cw * 11 + 1, y))
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=QPoint(w.cw * 11 + 1, y))
    assert w.selected_text() == "picked words"
    QGuiApplication.clipboard().setText("before")
    qtbot.keyClick(w, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "picked words"
    assert sent == []  # copying types nothing into the shell
    img = w.grab().toImage()
    assert img.pixelColor(w.cw * 3, w.ch + 1).name() == SELECTION_BG.name()  # the selection is drawn
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))  # a click without a drag clears it
    assert w.selected_text() == ""


def test_scrollback_shows_lines_that_left_the_screen(term: Any, qtbot: Any) -> None:
    w, sent = term
    w.feed(b"".join(f"line {i}\r\n".encode() for i in range(100)))
    assert "line 0" not in w.text()
    qtbot.keyClick(w, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ShiftModifier)  # the keyboard's way back
    top_row = "".join(w._lines()[0][x].data for x in range(10)).rstrip()
    assert w.back == w.vt.lines // 2 and sent == [] and top_row == "line 65"  # 77 lines left: 12 back from there
    qtbot.keyClick(w, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
    assert w.back == 0
    w.scroll_by(1000)
    assert w.back == len(w.vt.history.top) > 0
    assert w._lines()[0][0].data + w._lines()[0][1].data == "li"
    w.grab()


def test_a_multi_line_paste_asks_first(term: Any, qtbot: Any) -> None:
    w, sent = term
    w.show()
    QGuiApplication.clipboard().setText("echo one")
    qtbot.keyClick(w, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert sent == [b"echo one"]
    sent.clear()
    QGuiApplication.clipboard().setText("rm -rf /tmp/x\necho two\n")
    qtbot.keyClick(w, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    box = w.findChild(QMessageBox, "multiline-paste")
    assert box is not None and box.isVisible() and sent == []
    box.button(QMessageBox.StandardButton.Yes).click()
    assert sent == [b"rm -rf /tmp/x\recho two\r"]


# -- the shell tab against the sim --------------------------------------------------------------------------------
@pytest.fixture
def shell(qtbot: Any, sim: Any, service_factory: Any) -> Iterator[TerminalView]:
    pods = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
    pod = next(
        p["metadata"]["name"]
        for p in pods
        if "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    )
    svc = service_factory()
    view = TerminalView(stream_client(svc, "sim-admin"), ExecSpec("sim-admin", "team-a", pod, "main", ("sh",)))
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    yield view
    view.close_streams()
    view.shutdown()


def wait_screen(qtbot: Any, view: TerminalView, text: str, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: text in view.terminal.text(), timeout=timeout)


def type_line(qtbot: Any, terminal: Any, line: str) -> None:
    """Types ``line`` into the terminal and presses Return."""
    qtbot.keyClicks(terminal, line)
    qtbot.keyClick(terminal, Qt.Key.Key_Return)


def test_a_shell_tab_runs_typed_commands_resizes_and_shows_how_it_ended(shell: TerminalView, qtbot: Any) -> None:
    t = shell.terminal
    wait_screen(qtbot, shell, "/ #")
    type_line(qtbot, t, "echo hi there")
    wait_screen(qtbot, shell, "\nhi there")
    qtbot.wait(200)  # the resize is debounced
    type_line(qtbot, t, "stty size")
    wait_screen(qtbot, shell, f"{t.vt.lines} {t.vt.columns}")
    shell.resize(700, 400)
    qtbot.waitUntil(lambda: t._last_size == (t.vt.columns, t.vt.lines), timeout=2000)
    type_line(qtbot, t, "stty size")
    wait_screen(qtbot, shell, f"{t.vt.lines} {t.vt.columns}")
    type_line(qtbot, t, "sleep 20")
    qtbot.wait(300)
    start = time.monotonic()
    qtbot.keyClick(t, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    wait_screen(qtbot, shell, "^C")
    assert time.monotonic() - start < 3
    type_line(qtbot, t, "nosuchcmd")
    wait_screen(qtbot, shell, "nosuchcmd: command not found")
    type_line(qtbot, t, "exit 127")
    qtbot.waitUntil(lambda: shell.result is not None, timeout=5000)
    assert shell.status.text() == "exited with code 127: command not found"
    wait_screen(qtbot, shell, "[exited with code 127: command not found]")


def test_top_in_the_shell_tab_uses_the_alternate_screen(shell: TerminalView, qtbot: Any) -> None:
    t = shell.terminal
    wait_screen(qtbot, shell, "/ #")
    type_line(qtbot, t, "echo marker")
    wait_screen(qtbot, shell, "\nmarker")
    type_line(qtbot, t, "top")
    wait_screen(qtbot, shell, "q quits")
    assert t.vt.alternate and "marker" not in t.text()
    qtbot.keyClick(t, Qt.Key.Key_Q)
    qtbot.waitUntil(lambda: not t.vt.alternate, timeout=5000)
    assert "marker" in t.text()


def test_sequences_from_the_shell_that_a_terminal_must_ignore_are_ignored(shell: TerminalView, qtbot: Any) -> None:
    # The sim's `sequences` writes an OSC 52 clipboard write, a title with control characters and terminal queries.
    t = shell.terminal
    sent: list[bytes] = []
    send = t.send
    t.send = lambda data: (sent.append(data), send(data))  # type: ignore[method-assign]
    QGuiApplication.clipboard().setText("untouched")
    wait_screen(qtbot, shell, "/ #")
    type_line(qtbot, t, "sequences")
    wait_screen(qtbot, shell, "\nsequences done")
    assert QGuiApplication.clipboard().text() == "untouched"
    assert t.vt.title == "" and "title" in t.vt.ignored and "query" in t.vt.ignored
    assert b"".join(sent) == b"sequences\r"  # what was typed, and no reply to the queries
    type_line(qtbot, t, "echo still here")
    wait_screen(qtbot, shell, "\nstill here")


def _pod_where(sim: Any, pred: Any) -> tuple[str, str]:
    for ns in ("team-a", "team-b", "default", "kube-system"):
        for p in sim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"]:
            if p["spec"].get("nodeName") and pred(p):
                return ns, p["metadata"]["name"]
    raise AssertionError("no such pod in the sim")


def _running(p: dict[str, Any]) -> bool:
    return "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})


@pytest.mark.parametrize("case", ["forbidden", "not running", "no shell", "kubelet down"])
def test_errors_show_in_the_tab(case: str, qtbot: Any, sim: Any, service_factory: Any) -> None:
    context = "sim-viewer" if case == "forbidden" else "sim-admin"
    if case == "not running":
        ns, pod = _pod_where(sim, lambda p: p["status"]["phase"] != "Succeeded" and not _running(p))
    elif case == "no shell":
        ns, pod = _pod_where(sim, lambda p: _running(p) and p["spec"]["containers"][0]["image"].startswith("k8s.gcr"))
    else:
        ns, pod = _pod_where(sim, _running)
    want = {
        "forbidden": f"Permission denied: You may not run commands in pods in {ns} (create pods/exec).  Check with: "
        f"kubectl auth can-i create pods/exec -n {ns}",
        "not running": f"Container not running: The container main of pod {pod} in {ns} is not running",
        "no shell": f"No shell found: Container main of pod {pod} has no shell",
        "kubelet down": f"Kubelet unreachable: The API server could not reach the kubelet of the node running pod "
        f"{pod}.  The node may be down",
    }[case]
    svc = service_factory()
    if case == "kubelet down":
        sim.request("POST", "/simz/kubelet", {"reachable": False})
    try:
        view = TerminalView(stream_client(svc, context), ExecSpec(context, ns, pod, "main"))
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.result is not None, timeout=5000)
    finally:
        sim.request("POST", "/simz/kubelet", {"reachable": True})
    assert view.status.text().startswith(want), view.status.text()
    assert view.status.property("failed") is True and view.terminal.readonly
    # Said where the eye is, too (compared without blanks: the line wraps at the terminal's width); the tab stays.
    assert f"[{want}".replace(" ", "") in view.terminal.text().replace("\n", "").replace(" ", "")
    view.shutdown()


def test_window_shortcuts_do_not_fire_while_the_terminal_has_the_keys(term: Any, qapp: Any) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    w, _ = term
    for key, mods, text in (
        (Qt.Key.Key_S, Qt.KeyboardModifier.NoModifier, "s"),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier, ""),
        (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier, "C"),
    ):
        ev = QKeyEvent(QEvent.Type.ShortcutOverride, key, mods, text)
        ev.ignore()
        qapp.sendEvent(w, ev)
        assert ev.isAccepted(), key
    palette = QKeyEvent(
        QEvent.Type.ShortcutOverride,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    palette.ignore()
    qapp.sendEvent(w, palette)
    assert not palette.isAccepted()


def test_reconnect_replaces_the_session_and_the_old_ones_end_is_ignored(shell: TerminalView, qtbot: Any) -> None:
    t = shell.terminal
    wait_screen(qtbot, shell, "/ #")
    shell.command_edit.setText("sh")
    shell.reconnect()  # the old session is closed while alive: its late "closed" must not end the new one
    qtbot.waitUntil(lambda: shell.status.text().startswith("Connected"), timeout=5000)
    qtbot.wait(300)
    assert shell.result is None and not t.readonly
    type_line(qtbot, t, "echo again")
    wait_screen(qtbot, shell, "\nagain")


def test_a_flood_is_parsed_in_slices_so_the_window_keeps_its_turns(qtbot: Any) -> None:
    from kube9_desktop.ui.terminal_view import DRAIN_BYTES

    view = TerminalView(None, ExecSpec("sim-admin", "team-a", "p", "main", ("sh",)))
    qtbot.addWidget(view)
    fed: list[int] = []
    feed = view.terminal.feed
    view.terminal.feed = lambda data: (fed.append(len(data)), feed(data))  # type: ignore[method-assign]
    flood = b"".join(b"%6d flooding the terminal\r\n" % i for i in range(4000))
    view._output(1, flood)  # what the session's reader thread does
    qtbot.waitUntil(lambda: sum(fed) == len(flood), timeout=60000)
    assert max(fed) <= DRAIN_BYTES and len(fed) >= len(flood) // DRAIN_BYTES
    assert "3999 flooding the terminal" in view.terminal.text()
    assert len(view.terminal.vt.history.top) > 3000


def test_composed_text_from_an_input_method_is_sent(term: Any, qapp: Any) -> None:
    from PySide6.QtGui import QInputMethodEvent

    w, sent = term
    ev = QInputMethodEvent()
    ev.setCommitString("ñé")
    qapp.sendEvent(w, ev)
    assert sent == ["ñé".encode()]
