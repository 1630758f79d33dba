"""Application entry point: arguments, QApplication + qasync loop, wiring, orderly shutdown, headless modes.

Heavy modules (the ``kubernetes`` client via the data service, the simulator) are imported only after the window
is on screen, so the window appears quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kube9_desktop import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.config.values import Settings
    from kube9_desktop.kube.service import KubeService

PROCESS_START = time.perf_counter()
log = logging.getLogger("kube9_desktop")

EXIT_CODES_HELP = """exit status:
  0    the window was closed; --print-tree: the tree loaded
  1    --print-tree: the context failed to load (unreachable, credentials rejected, TLS ...)
  2    no such context (or none given and no current-context), bad arguments, or no display for the window
  3    --print-tree: an --expand path does not exist
  130  stopped by Ctrl+C (SIGINT); 143: stopped by SIGTERM (both shut down cleanly, like closing the window)"""

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


#: What the window needs on Debian/Ubuntu under X11 beyond a desktop session: every library Qt's xcb platform plugin
#: links (``ldd`` of ``PySide6/Qt/plugins/platforms/libqxcb.so``), by package. The README shows the same line.
XCB_APT_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
                    "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1",
                    "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxcb1", "libx11-6", "libx11-xcb1",
                    "libxkbcommon-x11-0", "libxkbcommon0", "libfontconfig1", "libfreetype6", "libegl1", "libgl1",
                    "libdbus-1-3", "libglib2.0-0")

# Debian packages whose names do not follow from the library's soname.
_PACKAGE_OF = {"libGLdispatch.so.0": "libglvnd0", "libglib-2.0.so.0": "libglib2.0-0",
               "libgthread-2.0.so.0": "libglib2.0-0"}


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``, by Debian's naming rule (``libxcb-icccm.so.4`` →
    ``libxcb-icccm4``, ``libxkbcommon-x11.so.0`` → ``libxkbcommon-x11-0``)."""
    if soname in _PACKAGE_OF:
        return _PACKAGE_OF[soname]
    base, _, version = soname.partition(".so.")
    base = base.lower()
    if not version:
        return base
    return f"{base}-{version}" if base[-1:].isdigit() else f"{base}{version}"


def qt_xcb_plugin() -> str | None:
    """Qt's X11 platform plugin as installed with PySide6 (found without importing PySide6), or ``None``."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    for location in (spec.submodule_search_locations or []) if spec else []:
        plugin = os.path.join(location, "Qt", "plugins", "platforms", "libqxcb.so")
        if os.path.isfile(plugin):
            return plugin
    return None


def missing_libraries(plugin: str | None = None) -> list[str] | None:
    """The libraries ``ldd`` says ``plugin`` (default: Qt's xcb plugin) needs and cannot find, in ``ldd``'s order;
    ``None`` when that cannot be told (no ``ldd``, no plugin)."""
    import shutil
    import subprocess

    plugin = plugin or qt_xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return None
    try:
        out = subprocess.run([ldd, plugin], capture_output=True, text=True, timeout=15, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = [line.split("=>")[0].strip() for line in out.splitlines() if "=> not found" in line]
    return list(dict.fromkeys(found))


def display_problem(env: Mapping[str, str], platform: str = sys.platform,
                    find_library: Callable[[str], str | None] | None = None,
                    frozen: bool = bool(getattr(sys, "frozen", False)),
                    missing_libs: Callable[[], list[str] | None] = missing_libraries) -> str | None:
    """Why Qt could not open a window here, in words a user can act on; ``None`` if nothing is known to stop it.

    Qt aborts the whole process when no platform plugin can start, and on Linux it then always suggests installing
    libxcb-cursor0, even when the real cause is that there is no display at all, or another of the xcb plugin's
    libraries is missing (``libxcb-icccm4``, ``libxcb-keysyms1`` ...): every library ``ldd`` reports missing is
    named, with the packages to install. A frozen build carries its own libraries, so only the display is checked
    there. ``find_library`` defaults to :func:`ctypes.util.find_library` (imported only when asked: ~7 ms of
    imports every process paid before).
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
    if frozen or not (qpa.startswith("xcb") or (not qpa and not wayland)):
        return None
    missing = missing_libs()
    if missing is None:  # ldd could not tell: check the one library desktops most often lack
        if find_library is None:
            import ctypes.util

            find_library = ctypes.util.find_library
        missing = [] if find_library("xcb-cursor") else ["libxcb-cursor.so.0"]
    if not missing:
        return None
    packages = list(dict.fromkeys(debian_package(m) for m in missing))
    return (f"Qt's X11 plugin cannot start: {len(missing)} of its libraries {'is' if len(missing) == 1 else 'are'} "
            f"missing ({', '.join(missing)}). Debian/Ubuntu: sudo apt install {' '.join(packages)} "
            "(the README lists every package the window needs; Fedora: the xcb-util-* packages).")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="kube9-desktop", description="A fast, native desktop browser for "
                                "Kubernetes clusters.", epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", metavar="NAME",
                   help="context to open (default: the one you used last in the window, else the kubeconfig's "
                        "current-context; headless modes: current-context; --demo: sim-admin)")
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
    if args.run:
        # --run may change the cluster: its writes go to the app log as the window's do (opened on the first one).
        from kube9_desktop.logs import log_writes_to_file

        log_writes_to_file(args.log_level)
    from kube9_desktop.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before Qt and our workers start threads
    from kube9_desktop.kube.gui_gate import hand_over_quickly

    hand_over_quickly()  # the GUI thread waits less for the GIL a worker holds
    if args.print_tree or args.run:
        return _main_headless(args)
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    from kube9_desktop.memory import stop_source_caching

    stop_source_caching()  # PySide6 would keep the source of every module imported from now on
    app.setApplicationName("kube9-desktop")
    app.setOrganizationName("kube9")
    app.setApplicationVersion(__version__)
    from kube9_desktop.ui.gc_driver import GcDriver

    collector = GcDriver(parent=app)
    loop = qasync.QEventLoop(app)
    return _drive(loop, lambda stop: _async_main(args, app, stop), collector.stop)


def _main_headless(args: argparse.Namespace) -> int:
    """``--print-tree`` and ``--run`` on a plain asyncio loop: no Qt is imported (PySide6, qasync and a
    QApplication were ~200 ms of a 0.4 s ``--print-tree`` process). The tree is the window's all the same
    (:class:`~kube9_desktop.model.tree_core.PlainTree`: its loader and shown windows without the Qt model)."""
    from kube9_desktop.gc_policy import LoopGcDriver

    loop = asyncio.new_event_loop()
    collector = LoopGcDriver(loop)  # collections on this thread only, as the window's GcDriver makes them
    try:
        return _drive(loop, lambda stop: _headless(args, stop), collector.stop)
    finally:
        asyncio.set_event_loop(None)


def _drive(loop: asyncio.AbstractEventLoop, main: Callable[[Stop], Coroutine[Any, Any, int]],
           stop_collector: Callable[[], object]) -> int:
    """Run ``main`` on ``loop`` to its end, then end whatever it left running and close the loop; returns its exit
    status. Signals ask ``main`` to stop (:class:`Stop`); the collector is stopped last."""
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_loop_exception_handler)
    stop = Stop(loop)
    try:
        try:
            return loop.run_until_complete(main(stop))
        finally:
            _finish(loop)
            loop.close()
    except KeyboardInterrupt:  # Ctrl+C before the handlers were installed: nothing was started yet
        return 130
    except BrokenPipeError:
        # Headless output piped into a reader that stopped (`--run help | head`): what was asked is done or
        # cancelled; no traceback. Python's own flush of stdout at exit must not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        stop.uninstall()
        stop_collector()


class Stop:
    """SIGINT (Ctrl+C) and SIGTERM ask for the same clean shutdown as closing the window.

    Python's own SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be (or never, while Qt
    waits in C), and SIGTERM's default ends the process at once: a ``--demo`` sim was orphaned and its kubeconfig
    left behind. The loop's handlers run as ordinary callbacks instead; whoever runs the app sets :attr:`action`
    (close the window, cancel a headless run). A second signal restores the default, so a third one kills.

    Attributes:
        signum: The first signal received, or ``None``.
        action: What the first signal does.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.signum: int | None = None
        self.action: Callable[[], object] | None = None
        self._loop = loop
        self._installed: list[int] = []
        for sig in self.SIGNALS:
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
                continue
            self._installed.append(sig)

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + (self.signum or 0)

    def _on_signal(self, sig: int) -> None:
        if self.signum is not None:
            log.warning("second %s: the next one ends the process at once", signal.Signals(sig).name)
            self.uninstall()
            return
        self.signum = sig
        log.info("%s: shutting down", signal.Signals(sig).name)
        if self.action is not None:
            self.action()

    def uninstall(self) -> None:
        """Give the signals back their default behaviour."""
        for sig in self._installed:
            with contextlib.suppress(Exception):
                self._loop.remove_signal_handler(sig)
        self._installed.clear()


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does before closing its loop: end every task left, then async generators and the executor.

    A task left pending (a kubectl run a cancelled load left behind) would otherwise be collected after the loop
    and Qt's timers are gone ("Exception ignored … _SimpleTimer already deleted", "Loop … is closed").
    """
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())


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


async def _async_main(args: argparse.Namespace, app: QApplication, stop: Stop) -> int:
    settings, scratch = _settings_store(args)
    try:
        status = await _run_window(args, app, settings, stop)
        return stop.exit_status if stop.signum is not None else status
    finally:
        if scratch is not None:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)


async def _headless(args: argparse.Namespace, stop: Stop) -> int:
    """``--print-tree`` and ``--run``; a signal cancels the run, and the sim and service still close.

    Headless runs never read or write the user's own settings: only a ``--settings-file`` given is used (QtCore's
    settings reader, then: the window's file format), else the defaults, kept in memory.
    """
    from kube9_desktop.config.values import ini_settings, memory_settings

    if args.settings_file:
        settings = ini_settings(args.settings_file)
        from kube9_desktop.memory import stop_source_caching

        stop_source_caching()  # QtCore is imported now: see the window's
    else:
        settings = memory_settings()
    task = asyncio.current_task()
    assert task is not None
    stop.action = task.cancel
    sim = None
    try:
        sim, kubeconfig = await _demo_sim(args)
        service = await _make_service(args, settings, kubeconfig, need_client=bool(args.print_tree))
        if args.print_tree:
            # The context's client is built in a worker while the tree model is set up.
            service.prepare(args.context or service.kubeconfig.current_context or "")
        try:
            if args.run:
                from kube9_desktop.headless_run import run_commands

                # Headless runs keep no settings of the user's: only a settings file given remembers anything.
                return await run_commands(service, args, settings=settings if args.settings_file else None)
            from kube9_desktop.headless import print_tree

            return await print_tree(service, args, settings)
        finally:
            forwards = sys.modules.get("kube9_desktop.kube.portforward")  # none was started if it is not loaded
            if forwards is not None:
                await asyncio.to_thread(forwards.FORWARDS.stop_all)
            await service.aclose()
    except asyncio.CancelledError:
        if stop.signum is None:
            raise
        return stop.exit_status
    finally:
        stop.action = None
        if sim is not None:
            await asyncio.get_running_loop().run_in_executor(None, sim.stop)


def _settings_store(args: argparse.Namespace) -> tuple[SettingsStore, str | None]:
    """The settings to use, and a scratch directory to remove at exit (``None`` if none was made).

    ``--screenshot`` never reads or writes the user's own settings. ``--demo`` starts from a copy of them — the user's
    cache, network and live-update choices apply — and never writes them back: the demo's context and window state
    are not the user's.
    """
    import tempfile

    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore

    def ini(path: str) -> QSettings:
        return QSettings(path, QSettings.Format.IniFormat)

    if args.screenshot:
        if args.settings_file:
            return SettingsStore(ini(args.settings_file)), None
        scratch = tempfile.mkdtemp(prefix="kube9-")
        return SettingsStore(ini(os.path.join(scratch, "settings.ini"))), scratch
    user = ini(args.settings_file) if args.settings_file else QSettings("kube9", "kube9-desktop")
    if not args.demo:
        return SettingsStore(user), None
    scratch = tempfile.mkdtemp(prefix="kube9-demo-")
    copy = ini(os.path.join(scratch, "settings.ini"))
    for key in user.allKeys():
        copy.setValue(key, user.value(key))
    copy.remove("window/last_context")  # the demo opens its own cluster
    copy.sync()
    return SettingsStore(copy), scratch


async def _demo_sim(args: argparse.Namespace) -> tuple[Any, str | None]:
    """Start kube9-sim as a child process when ``--demo`` is given; returns (sim, kubeconfig path).

    Cancelled while the sim starts (a signal), it waits for the start to finish in its thread and stops the sim,
    which would otherwise outlive the app.
    """
    if not args.demo:
        return None, args.kubeconfig
    from kube9_desktop.sim.process import SimProcess

    loop = asyncio.get_running_loop()
    starting = loop.run_in_executor(None, lambda: SimProcess.start(*DEMO_SIM_ARGS))
    try:
        sim = await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            started = await starting
            await loop.run_in_executor(None, started.stop)
        raise
    if not args.context:
        args.context = "sim-admin"
    return sim, sim.kubeconfig


async def _make_service(args: argparse.Namespace, settings: SettingsStore | Settings, kubeconfig: str | None,
                        need_client: bool = True) -> KubeService:
    """The data service on the merged kubeconfig, read and parsed in a worker thread: a 10 MB file took 7.5 s, and
    the window must keep painting meanwhile.

    With ``need_client`` (and the API backend) the API client's modules are imported in another worker meanwhile:
    they bring the ``kubernetes`` package, 0.25-0.5 s of imports that would otherwise run on the GUI thread at the
    first request (the window frozen that long). ``--run`` does not: its commands import what they use.
    """
    from kube9_desktop.config import schema
    from kube9_desktop.kube.kubeconfig import load_kubeconfig_async
    from kube9_desktop.kube.service import KubeService

    backend = args.backend or settings.get("network/backend")
    read = load_kubeconfig_async(kubeconfig, settings.get("kubeconfig/extra_paths"))
    if need_client and backend == "api":
        import importlib

        cfg, _ = await asyncio.gather(read, asyncio.to_thread(importlib.import_module, "kube9_desktop.kube.fetch"))
    else:
        cfg = await read
    return KubeService(cfg, schema.kube_options(settings.values()), backend=backend,
                       kubeconfig_path=kubeconfig)


def watch_first_paint(window: Any, done: Callable[[float], None]) -> None:
    """Call ``done(ms after process start)`` once ``window`` is first painted (the whole paint pass of its first
    expose, which shows it on screen): measured one loop turn after its first paint event."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.window() is window:
                qapp = QApplication.instance()
                if qapp is not None:
                    qapp.removeEventFilter(self)
                QTimer.singleShot(0, lambda: done(process_age_ms()))
                self.deleteLater()
            return False

    qapp = QApplication.instance()
    if qapp is not None:
        qapp.installEventFilter(FirstPaint(window))  # parented to the window: lives as long as it


async def _report_top_level(window: Any) -> None:
    """``toplevel_ms=``: when the context's top level (its root's lists, as the window opens it) was loaded."""
    model = window.model
    await model.wait_idle()
    ms = process_age_ms()
    if model.last_insert_at is not None:
        ms -= (time.monotonic() - model.last_insert_at) * 1000
    print(f"toplevel_ms={ms:.0f}", file=sys.stderr, flush=True)


async def _run_window(args: argparse.Namespace, app: QApplication, settings: SettingsStore, stop: Stop) -> int:
    from kube9_desktop.ui.main_window import MainWindow

    window = MainWindow(settings)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    # A signal closes the window as its close button does (state saved, then the same shutdown below); one that
    # came before the window existed ends the wait at once.
    stop.action = window.close
    if stop.signum is not None:
        closed.set()
    if args.screenshot:
        window.resize(1280, 800)
    report = bool(os.environ.get("KUBE9_REPORT_STARTUP"))

    def painted(ms: float) -> None:
        log.info("window on screen (first paint) %.0f ms after process start", ms)
        if report:  # with the CPU time it took: on a busy machine the wall time is mostly waiting for a core
            print(f"startup_ms={ms:.0f} startup_cpu_ms={time.process_time() * 1000:.0f}", file=sys.stderr,
                  flush=True)
        window.startup_ms = ms

    watch_first_paint(window, painted)
    window.show()
    shown_ms = process_age_ms()
    if report:
        print(f"shown_ms={shown_ms:.0f}", file=sys.stderr, flush=True)
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
        if closed.is_set():  # closed (or signalled) while the demo cluster started
            return 0
        service = await _make_service(args, settings, kubeconfig)
        window.attach_service(service, context=args.context, kubeconfig_path=kubeconfig, backend=args.backend)
        if report:
            await _report_top_level(window)
        if args.screenshot:
            from kube9_desktop.headless import screenshot

            return await screenshot(window, args)
        await closed.wait()
        return 0
    finally:
        stop.action = None
        await window.shutdown()
        if service is not None:
            await service.aclose()
        if sim is not None:
            await asyncio.get_running_loop().run_in_executor(None, sim.stop)
        window.deleteLater()
