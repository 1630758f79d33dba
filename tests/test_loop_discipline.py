"""No coroutine in the package spins a nested Qt event loop.

Under qasync every task step runs from the Qt loop. A coroutine that calls ``processEvents()`` or ``exec()`` re-enters
that loop while its own step is still running; a second task scheduled meanwhile cannot be entered, asyncio raises
"Cannot enter into task ... while another task is being executed" and that task never resumes. It hung
``--screenshot`` on CI once. Modal dialogs go through ``open()`` plus a signal instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kube9_desktop

NESTED_LOOP_CALLS = {"processEvents", "exec", "exec_", "sendPostedEvents"}


def _nested_loop_calls(tree: ast.AST) -> list[tuple[str, int, str]]:
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in NESTED_LOOP_CALLS):
                found.append((fn.name, node.lineno, node.func.attr))
    return found


def test_the_scanner_finds_a_nested_loop_in_a_coroutine() -> None:
    src = "async def f(app):\n    await g()\n    app.processEvents()\n\ndef h(app):\n    app.processEvents()\n"
    assert _nested_loop_calls(ast.parse(src)) == [("f", 3, "processEvents")]


def test_no_coroutine_spins_a_nested_qt_loop() -> None:
    package = Path(kube9_desktop.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for name, line, call in _nested_loop_calls(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(package)}:{line} {name}() calls {call}()")
    assert not offenders, "\n".join(offenders)
