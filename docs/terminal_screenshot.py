#!/usr/bin/env python3
"""Regenerate ``docs/terminal.png``: the window on kube9-sim with a shell tab running ``top`` beside the tree.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/terminal_screenshot.py [OUT.png]``. The shell is
opened the way a user does (the ``exec`` command through the window's user port); the dock sits on the right.
"""

from __future__ import annotations

import asyncio
import sys

from _shot import Shot, main, until


async def shoot(shot: Shot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.runner import run_line
    from kube9_desktop.headless import load_tree
    from kube9_desktop.ui.terminal_view import TerminalView
    from kube9_desktop.ui.window_port import WindowPort

    w, sim = shot.window, shot.sim
    await load_tree(w.model, 0, ["Namespaces/team-a/Workloads/Pods"], expand_view=w.expand_node)
    pods = w.model.find("Namespaces/team-a/Workloads/Pods")
    assert pods is not None and pods.children
    name = next(
        p["metadata"]["name"]
        for p in sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
        if "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})
    )
    row = next(c for c in pods.children if c.label == name)
    w.tree.setCurrentIndex(w.model.index_of(row))
    w.tree.scrollTo(w.model.index_of(row))
    load_all()
    w.removeDockWidget(w.bottom_dock)
    w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, w.bottom_dock)
    result = await run_line(f"exec team-a/pod/{name}", service=shot.service, context=shot.args.context,
                            ui=WindowPort(w))
    assert result.ok, result.message
    view = next(t for t in w.bottom_dock.tabs() if isinstance(t, TerminalView))
    w.details.hide()  # the tree and the shell side by side
    w.resizeDocks([w.bottom_dock], [720], Qt.Orientation.Horizontal)
    await until(lambda: "/ #" in view.terminal.text(), timeout=5)
    QTest.keyClicks(view.terminal, "colors")
    QTest.keyClick(view.terminal, Qt.Key.Key_Return)
    await asyncio.sleep(0.5)
    QTest.keyClicks(view.terminal, "top")
    QTest.keyClick(view.terminal, Qt.Key.Key_Return)
    await asyncio.sleep(1.5)
    w.grab().save(str(shot.out), "PNG")


if __name__ == "__main__":
    sys.exit(main(__doc__, "terminal.png", ["--pods", "300", "--namespaces", "6", "--nodes", "3"], shoot,
                  size=(1400, 800)))
