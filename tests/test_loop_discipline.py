"""No coroutine in the package spins a nested Qt event loop.

Under qasync every task step runs from the Qt loop. A coroutine that calls ``processEvents()``, ``exec()`` or a modal
convenience dialog (``QMessageBox.question`` ...) re-enters that loop while its own step is still running; a second
task scheduled meanwhile cannot be entered, asyncio raises "Cannot enter into task ... while another task is being
executed" and that task never resumes. It hung ``--screenshot`` on CI once. Dialogs shown from coroutines use
``open()``; questions are asked in the slot, before the coroutine starts.

The check follows our own synchronous helpers: a coroutine calling a method that calls ``QMessageBox.question``
is caught too (by name, across the package).
"""

from __future__ import annotations

import ast
from pathlib import Path

import kube9_desktop

NESTED_LOOP_METHODS = {"processEvents", "exec", "exec_", "sendPostedEvents"}
MODAL_STATICS = {
    "QMessageBox": {"question", "warning", "information", "critical", "about"},
    "QInputDialog": {"getText", "getInt", "getDouble", "getItem", "getMultiLineText"},
    "QFileDialog": {"getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"},
    "QColorDialog": {"getColor"},
    "QFontDialog": {"getFont"},
}


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def _spins_loop(call: ast.Call) -> bool:
    f = call.func
    if not isinstance(f, ast.Attribute):
        return False
    if f.attr in NESTED_LOOP_METHODS:
        return True
    return isinstance(f.value, ast.Name) and f.attr in MODAL_STATICS.get(f.value.id, set())


def _own_calls(fn: ast.AST) -> list[ast.Call]:
    """Calls in ``fn``'s body, not in functions nested in it (those run when they are called)."""
    calls: list[ast.Call] = []
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return calls


def nested_loop_calls(trees: list[ast.AST]) -> list[tuple[str, int, str]]:
    """(coroutine, line, call) for every call in a coroutine that spins a nested loop, directly or through a
    synchronous function of ``trees`` (matched by name)."""
    sync = [fn for t in trees for fn in ast.walk(t) if isinstance(fn, ast.FunctionDef)]
    blocking: set[str] = set()
    changed = True
    while changed:  # a function calling a blocking function blocks too
        changed = False
        for fn in sync:
            if fn.name not in blocking and any(_spins_loop(c) or _called_name(c) in blocking
                                               for c in _own_calls(fn)):
                blocking.add(fn.name)
                changed = True
    found = []
    for t in trees:
        for fn in ast.walk(t):
            if isinstance(fn, ast.AsyncFunctionDef):
                for c in _own_calls(fn):
                    if _spins_loop(c) or _called_name(c) in blocking:
                        found.append((fn.name, c.lineno, _called_name(c) or "?"))
    return found


def test_the_scanner_finds_nested_loops_directly_and_through_helpers() -> None:
    src = """
async def f(app):
    await g()
    app.processEvents()

def h(app):
    app.processEvents()

def ask(self):
    return QMessageBox.question(self, "?", "?")

def ask_twice(self):
    return self.ask() and self.ask()

async def copy(self):
    if self.ask_twice():
        pass

    def later():  # only defined here, not run in the coroutine
        QMessageBox.warning(None, "", "")

async def fine(self):
    box = QMessageBox()
    box.open()
"""
    assert sorted(nested_loop_calls([ast.parse(src)])) == [("copy", 16, "ask_twice"), ("f", 4, "processEvents")]


def test_no_coroutine_spins_a_nested_qt_loop() -> None:
    package = Path(kube9_desktop.__file__).parent
    trees = [ast.parse(p.read_text(), str(p)) for p in sorted(package.rglob("*.py"))]
    assert not nested_loop_calls(trees)
