#!/usr/bin/env python3
"""Regenerate ``docs/palette.png``: the window on kube9-sim with a Deployment selected and the command palette open.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/palette_screenshot.py [OUT.png] [--query TEXT]``.
The palette is its own top-level window, so it is painted onto the window's image where it sits.
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


async def shoot(sim: object, out: Path, query: str, context: str) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QPainter

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.headless import load_tree
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.ui.main_window import MainWindow

    tmp = tempfile.TemporaryDirectory()
    try:
        store = SettingsStore(QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))
        w = MainWindow(store)
        w.resize(1280, 800)
        w.show()
        kubeconfig = str(sim.kubeconfig)  # type: ignore[attr-defined]
        svc = KubeService(load_kubeconfig(kubeconfig), kubeconfig_path=kubeconfig)
        w.attach_service(svc, context=context)
        await w.model.wait_idle()
        await load_tree(w.model, 0, ["Namespaces/team-a/Workloads/Deployments"], expand_view=w.expand_node)
        deps = w.model.find("Namespaces/team-a/Workloads/Deployments")
        assert deps is not None and deps.children
        w.tree.setCurrentIndex(w.model.index_of(deps.children[0]))
        await asyncio.sleep(0.5)
        w.commands.open_palette(query)
        palette = w.commands.palette
        assert palette is not None
        await asyncio.sleep(1.5)  # access answers arrive, the window paints
        image = w.grab()
        painter = QPainter(image)
        painter.drawPixmap(palette.geometry().topLeft() - w.geometry().topLeft(), palette.grab())
        painter.end()
        image.save(str(out), "PNG")
        palette.close()
        w.close()
        await w.shutdown()
        await svc.aclose()
    finally:
        tmp.cleanup()


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / "palette.png"))
    ap.add_argument("--query", default="", help="text typed into the palette")
    ap.add_argument("--context", default="sim-admin")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing the window at the end must not stop the loop first
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from kube9_desktop.sim.process import SimProcess

    sim = SimProcess.start("--pods", "300", "--namespaces", "6", "--nodes", "3")
    try:  # the sim stops however the run ends (a loop stopped early never reaches the coroutine's finally)
        with loop:
            loop.run_until_complete(shoot(sim, Path(args.out), args.query, args.context))
    finally:
        sim.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
