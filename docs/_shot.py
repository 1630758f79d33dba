"""What every ``docs/*_screenshot.py`` script does around its own steps: parse OUT, start kube9-sim, open the window
on it with throw-away settings, wait for the first load, run the script's ``shoot``, and shut everything down.

Each script passes its steps to :func:`main`; run one from a checkout:
``QT_QPA_PLATFORM=offscreen python docs/NAME_screenshot.py [OUT]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the checkout's package, not an installed one
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass
class Shot:
    """What a script's ``shoot`` works with: the sim, the shown window, its service, the parsed arguments."""

    sim: Any
    window: Any
    service: Any
    args: argparse.Namespace

    @property
    def out(self) -> Path:
        """Where the image (or, for scripts writing several, the directory) goes."""
        return Path(self.args.out)


async def until(pred: Callable[[], object], timeout: float = 30.0) -> bool:
    """Waits until ``pred()`` holds (polled every 0.1 s) or ``timeout`` passes; returns whether it held."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() >= end:
            return False
        await asyncio.sleep(0.1)
    return True


async def _session(sim: Any, args: argparse.Namespace, size: tuple[int, int],
                   shoot: Callable[[Shot], Awaitable[None]]) -> None:
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        store = SettingsStore(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        w = MainWindow(store)
        w.resize(*size)
        w.show()
        svc = KubeService(load_kubeconfig(sim.kubeconfig), kubeconfig_path=sim.kubeconfig)
        w.attach_service(svc, context=args.context)
        try:
            await w.model.wait_idle()
            await shoot(Shot(sim, w, svc, args))
        finally:
            w.close()
            await w.shutdown()
            await svc.aclose()


def main(
    doc: str,
    default_out: str,
    sim_args: Sequence[str],
    shoot: Callable[[Shot], Awaitable[None]],
    *,
    size: tuple[int, int] = (1280, 800),
    add_args: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Runs one screenshot script.

    Args:
        doc: The script's docstring (its first paragraph is the ``--help`` text).
        default_out: OUT when none is given, relative to ``docs/``.
        sim_args: kube9-sim's command line (``--pods 300 ...``).
        shoot: The script's steps on the attached, loaded window.
        size: The window's size.
        add_args: Adds the script's own options.

    Returns:
        The process exit status.
    """
    import qasync
    from PySide6.QtWidgets import QApplication

    from kube9_desktop.sim.process import SimProcess

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / default_out))
    ap.add_argument("--context", default="sim-admin")
    if add_args is not None:
        add_args(ap)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing the window at the end must not stop the loop first
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sim = SimProcess.start(*sim_args)
    try:  # the sim stops however the run ends (a loop stopped early never reaches the coroutine's finally)
        with loop:
            loop.run_until_complete(_session(sim, args, size, shoot))
    finally:
        sim.stop()
    print(f"wrote {args.out}")
    return 0
