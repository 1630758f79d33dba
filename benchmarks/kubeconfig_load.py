"""A large kubeconfig: parse time with libyaml's loader and the pure-Python one, kubectl for reference, and the
longest stall of the app's event loop while the app loads it (issue 9 item 20: 10 MB took 7.5 s on the GUI thread).

    python benchmarks/kubeconfig_load.py [--contexts 20000] [--runs 3]

Prints one JSON object. Goals: the app's loop never stalls for the parse (``max_loop_stall_ms`` stays near a
frame, whatever the file's size), and the C loader is used where PyYAML has it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kube9_desktop.kube import kubeconfig
from kube9_desktop.sim.big_kubeconfig import write_big_kubeconfig


def timed(fn: object, runs: int) -> float:
    """Median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def loop_stall_while_loading(path: Path) -> tuple[float, float]:
    """(seconds, worst loop stall in ms) of the app's own kubeconfig load on a qasync loop, as the window does it."""
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    import kube9_desktop.kube.service  # noqa: F401 - imported first: the import is start-up's cost, not the file's
    from kube9_desktop.app import _make_service, build_parser
    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.model.lag import LoopLagMonitor
    from kube9_desktop.ui.gc_driver import GcDriver

    app = QApplication.instance() or QApplication([])
    collector = GcDriver(parent=app)  # as the app runs: the collector works on the GUI thread only
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    scratch = tempfile.mkdtemp(prefix="kube9-bench-")
    settings = SettingsStore(QSettings(os.path.join(scratch, "s.ini"), QSettings.Format.IniFormat))
    args = build_parser().parse_args(["--kubeconfig", str(path)])

    async def run() -> tuple[float, float]:
        monitor = LoopLagMonitor()
        monitor.start()
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        service = await _make_service(args, settings, str(path))
        took = time.perf_counter() - t0
        await monitor.stop()
        await service.aclose()
        return took, monitor.max_lag_ms

    try:
        with loop:
            return loop.run_until_complete(run())
    finally:
        collector.stop()


def main() -> int:
    """Run the measurements and print them as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contexts", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="kube9-bench-") as d:
        path = Path(d) / "big.yaml"
        size = write_big_kubeconfig(path, a.contexts)
        result: dict[str, object] = {"bytes": size, "contexts": a.contexts, "runs": a.runs,
                                     "load_avg_1m": os.getloadavg()[0], "libyaml": yaml.__with_libyaml__}
        took, stall = loop_stall_while_loading(path)
        result["app_load_s"] = round(took, 2)
        result["max_loop_stall_ms"] = round(stall, 1)
        default = kubeconfig._YAML_LOADER
        for name, loader in (("c_loader_s", getattr(yaml, "CSafeLoader", None)), ("python_loader_s", yaml.SafeLoader)):
            if loader is None:
                continue
            kubeconfig._YAML_LOADER = loader
            result[name] = round(timed(lambda: kubeconfig.load_kubeconfig(str(path)), a.runs), 2)
        kubeconfig._YAML_LOADER = default
        result["kubectl_get_contexts_s"] = round(timed(lambda: subprocess.run(
            ["kubectl", "--kubeconfig", str(path), "config", "get-contexts", "-o", "name"], capture_output=True,
            check=False), a.runs), 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
