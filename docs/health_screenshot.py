#!/usr/bin/env python3
"""Regenerate ``docs/overview.png`` and ``docs/diagnose.png``: the window on ``kube9-sim --scenarios`` with the
cluster overview, then a diagnosis, in the bottom dock.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/health_screenshot.py [OUT_DIR]``.
"""

from __future__ import annotations

import asyncio
import sys

from _shot import Shot, main, until


async def shoot(shot: Shot) -> None:
    from PySide6.QtCore import Qt

    from kube9_desktop.headless import load_tree
    from kube9_desktop.ui.health_views import DiagnosisPage, OverviewPage

    w = shot.window
    await load_tree(w.model, 1, ["Nodes", "Namespaces/scenarios/Workloads/Pods"], expand_view=w.expand_node)
    # Two usage samples a window apart, so the selected node's history is a line.
    w.usage.refresh()
    await until(lambda: w.model.usage is not None and bool(w.model.usage.nodes))
    await asyncio.sleep(16)
    w.usage.trackers[shot.args.context].latest.at = 0  # due now
    w.usage.refresh()
    await until(lambda: w.usage.polls >= 2)
    nodes = w.model.find("Nodes")
    assert nodes is not None
    w.tree.setCurrentIndex(w._view_index(w.model.index_of(nodes.children[1])))
    await asyncio.sleep(0.5)
    await w.commands.run_line("overview")
    page = next(t for t in w.bottom_dock.tabs() if isinstance(t, OverviewPage))
    await until(lambda: page.overview is not None)
    w.resizeDocks([w.bottom_dock], [540], Qt.Orientation.Vertical)
    await asyncio.sleep(1.0)
    w.grab().save(str(shot.out / "overview.png"), "PNG")
    await w.commands.run_line("diagnose scenarios/pod/oom-worker")
    diag = next(t for t in w.bottom_dock.tabs() if isinstance(t, DiagnosisPage))
    await until(lambda: diag.diagnosis is not None)
    await asyncio.sleep(1.0)
    w.grab().save(str(shot.out / "diagnose.png"), "PNG")


if __name__ == "__main__":
    sys.exit(main(__doc__, ".", ["--pods", "300", "--namespaces", "5", "--nodes", "3", "--scenarios"], shoot,
                  size=(1700, 1000)))
