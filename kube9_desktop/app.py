"""Application entry point: arguments, QApplication + qasync loop, wiring, orderly shutdown, headless modes.

Heavy modules (the ``kubernetes`` client via the data service, the simulator) are imported only after the window
is on screen, so the window appears quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes.util
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kube9_desktop import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.kube.service import KubeService

PROCESS_START = time.perf_counter()
log = logging.getLogger("kube9_desktop")

DEMO_SIM_ARGS = ("--pods", "2000", "--namespaces", "12", "--nodes", "5", "--churn", "2")


def process_age_ms() -> float:
    """Milliseconds since the process started (from /proc on Linux; else since this module was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
        return (now - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000
    except (OSError, ValueError, IndexError, AttributeError):
        return (time.perf_counter() - PROCESS_START) * 1000


def display_problem(env: Mapping[str, str], platform: str = sys.platform,
                    find_library: Callable[[str], str | None] = ctypes.util.find_library,
                    frozen: bool = bool(getattr(sys, "frozen", False))) -> str | None:
    """Why Qt could not open a window here, in words a user can act on; ``None`` if nothing is known to stop it.

    Qt aborts the whole process when no platform plugin can start, and on Linux it then always suggests installing
    libxcb-cursor0, even when the real cause is that there is no display at all. A frozen build carries its own
    libraries, so only the display is checked there.
    """
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM") or ""
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs ...: no desktop session needed
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not x11 and not wayland:
        return ("there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
                "Start it from a desktop session, or over ssh -X; --print-tree and --screenshot FILE need no display.")
    if not frozen and (qpa.startswith("xcb") or (not qpa and not wayland)) and find_library("xcb-cursor") is None:
        return ("Qt needs the X11 cursor library to open a window: install libxcb-cursor0 "
                "(Debian/Ubuntu: sudo apt install libxcb-cursor0; Fedora: sudo dnf install xcb-util-cursor).")
    return None


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="kube9-desktop", description="A fast, native desktop browser for "
                                "Kubernetes clusters.")
    p.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", metavar="NAME", help="context to open (default: current-context)")
    p.add_argument("--demo", action="store_true", help="start the built-in simulated cluster and browse it")
    p.add_argument("--backend", choices=("api", "kubectl"), help="how to fetch lists (default: from settings)")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--log-level", default=os.environ.get("KUBE9_LOG_LEVEL", "INFO"),
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper, help="log verbosity")
    p.add_argument("--print-tree", action="store_true",
                   help="load the tree headless through the real model and print it")
    p.add_argument("--screenshot", metavar="FILE", help="render the main window (1280x800) to a PNG and exit")
    p.add_argument("--depth", type=int, default=2, help="--print-tree/--screenshot: load every node to this depth")
    p.add_argument("--expand", action="append", default=[], metavar="PATH",
                   help="--print-tree/--screenshot: also load this slash-separated path, e.g. "
                        "Namespaces/team-a/Workloads/Pods (repeatable)")
    p.add_argument("--live-seconds", type=float, default=0.0,
                   help="--print-tree: keep the loaded tree live for this many seconds, then print it")
    p.add_argument("--run", action="append", default=[], metavar="COMMAND",
                   help="run a command headless, e.g. --run 'scale team-a/deploy/api 5' (repeatable; "
                        "--run help lists them); exits non-zero on the first failure")
    p.add_argument("--yes", action="store_true", help="--run: answer confirmations of destructive commands")
    p.add_argument("--settings-file", metavar="PATH", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--run-sim"]:
        # How a frozen build starts kube9-sim for --demo (see sim/process.py).
        from kube9_desktop.sim.cli import main as sim_main

        return sim_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.version:
        print(f"kube9-desktop {__version__}")
        return 0
    headless = bool(args.print_tree or args.screenshot or args.run)
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    else:
        problem = display_problem(os.environ)
        if problem:
            # Qt would abort the process with a hint about libxcb-cursor0, whatever the cause.
            print(f"kube9-desktop: {problem}", file=sys.stderr)
            return 2
    _setup_logging(args.log_level, to_file=not headless)
    from kube9_desktop.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before Qt and our workers start threads

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("kube9-desktop")
    app.setOrganizationName("kube9")
    app.setApplicationVersion(__version__)
    from kube9_desktop.ui.gc_driver import GcDriver

    collector = GcDriver(parent=app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_loop_exception_handler)
    try:
        with loop:
            return loop.run_until_complete(_async_main(args, app))
    except KeyboardInterrupt:
        return 130
    finally:
        collector.stop()


def _setup_logging(level: str, *, to_file: bool) -> None:
    try:
        from kube9_desktop.logs import setup_logging
    except ImportError:  # pragma: no cover - logs module missing in a partial install
        logging.basicConfig(level=level)
        return
    setup_logging(level, to_file=to_file)


def _loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Errors of tasks nobody awaited end up here: log them instead of printing tracebacks on stderr.
    exc = context.get("exception")
    log.error("event loop: %s", context.get("message"), exc_info=exc if isinstance(exc, BaseException) else None)


async def _async_main(args: argparse.Namespace, app: QApplication) -> int:
    settings = _settings_store(args)
    sim = None
    try:
        if args.print_tree or args.run:
            sim, kubeconfig = await _demo_sim(args)
            service = _make_service(args, settings, kubeconfig)
            try:
                if args.run:
                    from kube9_desktop.headless_run import run_commands

                    return await run_commands(service, args)
                from kube9_desktop.headless import print_tree

                return await print_tree(service, args, settings)
            finally:
                await service.aclose()
        return await _run_window(args, app, settings)
    finally:
        if sim is not None:
            await asyncio.get_event_loop().run_in_executor(None, sim.stop)


def _settings_store(args: argparse.Namespace) -> SettingsStore:
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore

    if args.settings_file:
        return SettingsStore(QSettings(args.settings_file, QSettings.Format.IniFormat))
    if args.print_tree or args.screenshot or args.run or args.demo:
        # Headless runs and the demo never read or write the user's own settings.
        import tempfile

        path = os.path.join(tempfile.mkdtemp(prefix="kube9-"), "settings.ini")
        return SettingsStore(QSettings(path, QSettings.Format.IniFormat))
    return SettingsStore()


async def _demo_sim(args: argparse.Namespace) -> tuple[Any, str | None]:
    """Start kube9-sim as a child process when ``--demo`` is given; returns (sim, kubeconfig path)."""
    if not args.demo:
        return None, args.kubeconfig
    from kube9_desktop.sim.process import SimProcess

    loop = asyncio.get_event_loop()
    sim = await loop.run_in_executor(None, lambda: SimProcess.start(*DEMO_SIM_ARGS))
    if not args.context:
        args.context = "sim-admin"
    return sim, sim.kubeconfig


def _make_service(args: argparse.Namespace, settings: SettingsStore, kubeconfig: str | None) -> KubeService:
    from kube9_desktop.config import schema
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    cfg = load_kubeconfig(kubeconfig, extra_paths=settings.get("kubeconfig/extra_paths"))
    backend = args.backend or settings.get("network/backend")
    return KubeService(cfg, schema.kube_options(settings.values()), backend=backend,
                       kubeconfig_path=kubeconfig)


async def _run_window(args: argparse.Namespace, app: QApplication, settings: SettingsStore) -> int:
    from kube9_desktop.ui.main_window import MainWindow

    window = MainWindow(settings)
    if args.screenshot:
        window.resize(1280, 800)
    window.show()
    shown_ms = process_age_ms()
    log.info("window shown %.0f ms after process start", shown_ms)
    if os.environ.get("KUBE9_REPORT_STARTUP"):
        print(f"startup_ms={shown_ms:.0f}", file=sys.stderr, flush=True)
    window.startup_ms = shown_ms
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.setQuitOnLastWindowClosed(False)
    sim = None
    service = None
    try:
        # Let the window paint before the heavy imports.
        await asyncio.sleep(0)
        if args.demo:
            window.show_message("Starting the demo cluster…")
        try:
            sim, kubeconfig = await _demo_sim(args)
        except Exception as exc:
            log.error("demo cluster failed to start: %s", exc)
            window.show_message(f"The demo cluster failed to start: {exc}")
            kubeconfig = args.kubeconfig
        service = _make_service(args, settings, kubeconfig)
        window.attach_service(service, context=args.context, kubeconfig_path=kubeconfig, backend=args.backend)
        if args.screenshot:
            from kube9_desktop.headless import screenshot

            return await screenshot(window, args)
        await closed.wait()
        return 0
    finally:
        await window.shutdown()
        if service is not None:
            await service.aclose()
        if sim is not None:
            await asyncio.get_event_loop().run_in_executor(None, sim.stop)
        window.deleteLater()
