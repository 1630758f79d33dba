#!/usr/bin/env python3
"""Regenerate ``docs/overview.png`` and ``docs/diagnose.png``: the window on ``kube9-sim --scenarios`` with the
cluster overview, then a diagnosis, in the bottom dock.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/health_screenshot.py [OUT_DIR]``.
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


async def _until(pred: object, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred() and loop.time() < end:  # type: ignore[operator]
        await asyncio.sleep(0.1)


async def shoot(out: Path) -> None:
    from PySide6.QtCore import QSettings, Qt

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.headless import load_tree
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.sim.process import SimProcess
    from kube9_desktop.ui.health_views import DiagnosisPage, OverviewPage
    from kube9_desktop.ui.main_window import MainWindow

    sim = SimProcess.start("--pods", "300", "--namespaces", "5", "--nodes", "3", "--scenarios")
    tmp = tempfile.TemporaryDirectory()
    try:
        store = SettingsStore(QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))
        w = MainWindow(store)
        w.resize(1700, 1000)
        w.show()
        svc = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
        w.attach_service(svc, context="sim-admin")
        await w.model.wait_idle()
        await load_tree(w.model, 1, ["Nodes", "Namespaces/scenarios/Workloads/Pods"], expand_view=w.expand_node)
        # Two usage samples a window apart, so the selected node's history is a line.
        w.usage.refresh()
        await _until(lambda: w.model.usage is not None and bool(w.model.usage.nodes))
        await asyncio.sleep(16)
        w.usage.trackers["sim-admin"].latest.at = 0  # type: ignore[union-attr]  # due now
        w.usage.refresh()
        await _until(lambda: w.usage.polls >= 2)
        nodes = w.model.find("Nodes")
        assert nodes is not None
        w.tree.setCurrentIndex(w._view_index(w.model.index_of(nodes.children[1])))
        await asyncio.sleep(0.5)
        await w.commands.run_line("overview")
        page = next(t for t in w.bottom_dock.tabs() if isinstance(t, OverviewPage))
        await _until(lambda: page.overview is not None)
        w.resizeDocks([w.bottom_dock], [540], Qt.Orientation.Vertical)
        await asyncio.sleep(1.0)
        w.grab().save(str(out / "overview.png"), "PNG")
        await w.commands.run_line("diagnose scenarios/pod/oom-worker")
        diag = next(t for t in w.bottom_dock.tabs() if isinstance(t, DiagnosisPage))
        await _until(lambda: diag.diagnosis is not None)
        await asyncio.sleep(1.0)
        w.grab().save(str(out / "diagnose.png"), "PNG")
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
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs"))
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(Path(args.out)))
    print(f"wrote {args.out}/overview.png and diagnose.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
