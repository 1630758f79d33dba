#!/usr/bin/env python3
"""Regenerate ``docs/palette.png``: the window on kube9-sim with a Deployment selected and the command palette open.

Run from a checkout: ``QT_QPA_PLATFORM=offscreen python docs/palette_screenshot.py [OUT.png] [--query TEXT]``.
The palette is its own top-level window, so it is painted onto the window's image where it sits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _shot import Shot, main


async def shoot(shot: Shot) -> None:
    from PySide6.QtGui import QPainter

    from kube9_desktop.headless import load_tree

    w = shot.window
    await load_tree(w.model, 0, ["Namespaces/team-a/Workloads/Deployments"], expand_view=w.expand_node)
    deps = w.model.find("Namespaces/team-a/Workloads/Deployments")
    assert deps is not None and deps.children
    w.tree.setCurrentIndex(w.model.index_of(deps.children[0]))
    await asyncio.sleep(0.5)
    w.commands.open_palette(shot.args.query)
    palette = w.commands.palette
    assert palette is not None
    await asyncio.sleep(1.5)  # access answers arrive, the window paints
    image = w.grab()
    painter = QPainter(image)
    painter.drawPixmap(palette.geometry().topLeft() - w.geometry().topLeft(), palette.grab())
    painter.end()
    image.save(str(shot.out), "PNG")
    palette.close()


def _options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--query", default="", help="text typed into the palette")


if __name__ == "__main__":
    sys.exit(main(__doc__, "palette.png", ["--pods", "300", "--namespaces", "6", "--nodes", "3"], shoot,
                  add_args=_options))
