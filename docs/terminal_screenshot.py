#!/usr/bin/env python3
"""Regenerate ``docs/terminal.png``: the window on kube9-sim with a shell tab running ``top`` beside the tree.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/terminal_screenshot.py [OUT.png]``. The shell is
opened the way a user does (the ``exec`` command through the window's user port); the dock sits on the right.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


async def shoot(out: Path) -> None:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.runner import run_line
    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.headless import load_tree
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.sim.process import SimProcess
    from kube9_desktop.ui.main_window import MainWindow
    from kube9_desktop.ui.terminal_view import TerminalView
    from kube9_desktop.ui.window_port import WindowPort

    sim = SimProcess.start("--pods", "300", "--namespaces", "6", "--nodes", "3")
    tmp = tempfile.TemporaryDirectory()
    try:
        store = SettingsStore(QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))
        w = MainWindow(store)
        w.resize(1400, 800)
        w.show()
        svc = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
        w.attach_service(svc, context="sim-admin")
        await w.model.wait_idle()
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
        result = await run_line(f"exec team-a/pod/{name}", service=svc, context="sim-admin", ui=WindowPort(w))
        assert result.ok, result.message
        view = next(t for t in w.bottom_dock.tabs() if isinstance(t, TerminalView))
        w.details.hide()  # the tree and the shell side by side
        w.resizeDocks([w.bottom_dock], [720], Qt.Orientation.Horizontal)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if "/ #" in view.terminal.text():
                break
        QTest.keyClicks(view.terminal, "colors")
        QTest.keyClick(view.terminal, Qt.Key.Key_Return)
        await asyncio.sleep(0.5)
        QTest.keyClicks(view.terminal, "top")
        QTest.keyClick(view.terminal, Qt.Key.Key_Return)
        await asyncio.sleep(1.5)
        w.grab().save(str(out), "PNG")
        w.close()
        await w.shutdown()
        await svc.aclose()
    finally:
        sim.stop()
        tmp.cleanup()


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / "terminal.png"))
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(Path(args.out)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
