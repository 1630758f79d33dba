#!/usr/bin/env python3
"""Regenerate ``docs/logs.png``: the window on kube9-sim with a Deployment's pods' logs merged by time in the bottom
dock, next to the tree with a pod opened to its containers.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/logs_screenshot.py [OUT.png]``. The log tab is opened the
way a user does (the ``logs`` command through the window's user port, following).
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
    from PySide6.QtCore import QSettings

    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.runner import run_line
    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.headless import load_tree
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.sim.process import SimProcess
    from kube9_desktop.ui.logs_view import LogsView
    from kube9_desktop.ui.main_window import MainWindow
    from kube9_desktop.ui.window_port import WindowPort

    sim = SimProcess.start("--pods", "200", "--namespaces", "4", "--nodes", "3")
    tmp = tempfile.TemporaryDirectory()
    try:
        store = SettingsStore(QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))
        w = MainWindow(store)
        w.resize(1280, 860)
        w.show()
        svc = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
        w.attach_service(svc, context="sim-admin")
        await w.model.wait_idle()
        deploys = sim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments")["items"]
        dep = next(d["metadata"]["name"] for d in deploys if (d["spec"].get("replicas") or 0) >= 3)
        sim.set_log_rate(4, "team-a")
        await load_tree(w.model, 0, [f"Namespaces/team-a/Workloads/Deployments/{dep}"], expand_view=w.expand_node)
        owner = w.model.find(f"Namespaces/team-a/Workloads/Deployments/{dep}")
        assert owner is not None and owner.children
        # The drill-down shows the Deployment's ReplicaSets and their pods; the first pod opened to its containers.
        pod = next(n for n in owner.walk() if n.kind is not None and n.kind.key == "pods" and n.row is not None)
        await load_tree(w.model, 0, ["/".join(pod.path()[1:])], expand_view=w.expand_node)
        w.tree.setCurrentIndex(w._view_index(w.model.index_of(pod.children[0] if pod.children else pod)))
        w.tree.scrollTo(w._view_index(w.model.index_of(owner)))
        load_all()
        result = await run_line(f"logs team-a/deploy/{dep} --tail 40 -f", service=svc, context="sim-admin",
                                ui=WindowPort(w))
        assert result.ok, result.message
        view = next(t for t in w.bottom_dock.tabs() if isinstance(t, LogsView))
        for _ in range(100):
            await asyncio.sleep(0.1)
            if view.shown_count >= 60:
                break
        await asyncio.sleep(0.5)
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
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / "logs.png"))
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
