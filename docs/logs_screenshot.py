#!/usr/bin/env python3
"""Regenerate ``docs/logs.png``: the window on kube9-sim with a Deployment's pods' logs merged by time in the bottom
dock, next to the tree with a pod opened to its containers.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/logs_screenshot.py [OUT.png]``. The log tab is opened the
way a user does (the ``logs`` command through the window's user port, following).
"""

from __future__ import annotations

import asyncio
import sys

from _shot import Shot, main, until


async def shoot(shot: Shot) -> None:
    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.runner import run_line
    from kube9_desktop.headless import load_tree
    from kube9_desktop.ui.logs_view import LogsView
    from kube9_desktop.ui.window_port import WindowPort

    w, sim = shot.window, shot.sim
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
    result = await run_line(f"logs team-a/deploy/{dep} --tail 40 -f", service=shot.service,
                            context=shot.args.context, ui=WindowPort(w))
    assert result.ok, result.message
    view = next(t for t in w.bottom_dock.tabs() if isinstance(t, LogsView))
    await until(lambda: view.shown_count >= 60, timeout=10)
    await asyncio.sleep(0.5)
    w.grab().save(str(shot.out), "PNG")


if __name__ == "__main__":
    sys.exit(main(__doc__, "logs.png", ["--pods", "200", "--namespaces", "4", "--nodes", "3"], shoot,
                  size=(1280, 860)))
