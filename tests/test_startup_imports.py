"""What the window imports before it is first shown stays light: the data layer (urllib3, and the kubernetes package,
~0.25-0.5 s to import, for the users that need its loader) is loaded behind the window, never by the window's own
modules or the command families."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

CHECK = """
import sys
import kube9_desktop.app
import kube9_desktop.ui.main_window
from kube9_desktop.commands import load_all
load_all()
print(sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")))
"""


def _printed(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (offscreen Qt); the run must succeed."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_window_modules_and_command_families_do_not_import_kubernetes() -> None:
    assert _printed(CHECK) == "[]"


def test_the_window_module_imports_no_http_yaml_or_decoder_library() -> None:
    """The main window's own modules and the command families (both imported before its first paint) leave urllib3,
    PyYAML, msgspec, rapidfuzz, websocket-client and statistics to the code that uses them (together ~0.1-0.2 s of
    imports before the window showed; the command families brought PyYAML, msgspec and statistics)."""
    code = ("import sys, kube9_desktop.app, kube9_desktop.ui.main_window; from kube9_desktop.commands import load_all; "
            "load_all(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3', 'yaml', "
            "'msgspec', 'rapidfuzz', 'websocket', 'statistics', 'fractions', 'difflib')))")
    assert _printed(code) == "[]"


def test_the_command_families_leave_their_workers_to_their_runs() -> None:
    """The families are imported before the window's first paint (menus and shortcuts come from the registry); what
    their commands run on (the diagnosis rules and the overview's decoders, the fleet's probes, the exec and
    port-forward clients, the YAML round trip, quick open's index, hmac for a random suffix, ctypes) is imported
    when a command runs: ~25 ms of CPU before the first paint. The details pane's events table imports the events'
    reader (with orjson) and the log session with the first events it shows: ~20 ms more."""
    code = ("import sys, kube9_desktop.app, kube9_desktop.ui.main_window; from kube9_desktop.commands import load_all; "
            "load_all(); print(sorted(m for m in sys.modules if m in ('kube9_desktop.kube.diagnose', "
            "'kube9_desktop.kube.overview', 'kube9_desktop.kube.fleet', 'kube9_desktop.kube.exec', "
            "'kube9_desktop.kube.portforward', 'kube9_desktop.kube.forward_target', 'kube9_desktop.kube.edit', "
            "'kube9_desktop.kube.manifests', 'kube9_desktop.kube.name_search', 'kube9_desktop.model.quick_index', "
            "'kube9_desktop.kube.ansi', "
            "'secrets', 'ctypes.util', 'kube9_desktop.kube.events', 'kube9_desktop.kube.log_session', "
            "'kube9_desktop.kube.pod_logs', 'orjson')))")
    assert _printed(code) == "[]"


def test_the_api_backend_does_not_import_it() -> None:
    """Lists of the common kubeconfig users go without it (kube/transport.py); the users that need its loader
    import it (tests/kube/test_transport.py checks both)."""
    code = "import sys, kube9_desktop.kube.fetch; print('kubernetes' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]


REPORT = """
import atexit, os, sys
atexit.register(lambda: os.write(2, ("imported:" + ",".join(sorted(
    m for m in sys.modules if m == "kubernetes" or m.startswith(("kubernetes.", "kube9_desktop.kube.fetch",
                                                                 "kube9_desktop.kube.client"))))).encode()))
from kube9_desktop.app import main
sys.exit(main(sys.argv[1:]))
"""


def test_run_help_imports_no_data_layer(tmp_path: Path) -> None:
    """``--run help`` needs no cluster: neither the API client nor the ``kubernetes`` package is imported (the
    service is still made: the registry's commands take it, and it makes no client until a request)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KUBECONFIG=str(tmp_path / "none"))
    proc = subprocess.run([sys.executable, "-c", REPORT, "--run", "help"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "scale" in proc.stdout  # it did list the commands
    assert proc.stderr.rstrip().endswith("imported:"), proc.stderr[-2000:]


def test_the_window_reports_first_paint_and_top_level_loaded(sim: Any, tmp_path: Path) -> None:
    """``KUBE9_REPORT_STARTUP=1`` (what benchmarks/startup_bench.py reads): the window's first paint comes after
    ``show()`` returned and before the top level was loaded, and the top level did load (its lists are in the
    screenshot's tree). The numbers themselves are the benchmark's business."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KUBE9_REPORT_STARTUP="1")
    shot = tmp_path / "w.png"
    proc = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context",
                           "sim-admin", "--settings-file", str(tmp_path / "s.ini"), "--screenshot", str(shot)],
                          capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = {k: float(v) for k, v in re.findall(r"(startup|shown|toplevel)_ms=(\d+)", proc.stderr)}
    assert set(said) == {"startup", "shown", "toplevel"}, proc.stderr[-2000:]
    assert 0 < said["shown"] <= said["startup"] <= said["toplevel"]
    assert shot.stat().st_size > 0


LIGHT = """
import atexit, os, sys
atexit.register(lambda: os.write(2, ("imported:" + ",".join(sorted(
    m for m in sys.modules if m in ("ctypes.util", "logging.handlers", "pickle", "platformdirs")))).encode()))
from kube9_desktop.app import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_headless_run_starts_without_find_library_or_the_log_file_modules(tmp_path: Path) -> None:
    """Every process caps malloc's arenas before its threads start: glibc is opened by its soname, not found by
    ``ctypes.util.find_library`` (which runs ``ldconfig -p`` in a child process, ~10 ms of wall time before the
    window's first paint). A headless run writes no log file: the rotating handler (and pickle with it) and the
    platform's directories are not imported."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KUBECONFIG=str(tmp_path / "none"))
    proc = subprocess.run([sys.executable, "-c", LIGHT, "--run", "help"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.rstrip().endswith("imported:"), proc.stderr[-2000:]


def test_the_tree_usage_columns_do_not_import_the_overview() -> None:
    """The usage columns read nodes page by page (``metrics.iter_pages``); the overview's decoders and events reader
    (~20 ms of imports in every ``--print-tree`` that shows nodes) are the overview's own."""
    code = ("import sys; from kube9_desktop.kube import metrics; import kube9_desktop.ui.usage_panel; "
            "assert callable(metrics.iter_pages) and callable(metrics.tree_figures); "
            "print(sorted(m for m in sys.modules if m in ('kube9_desktop.kube.overview', "
            "'kube9_desktop.kube.events')))")
    assert _printed(code) == "[]"


QT_REPORT = """
import atexit, os, sys
atexit.register(lambda: os.write(2, ("qt:" + ",".join(sorted(
    m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync")))).encode()))
from kube9_desktop.app import main
sys.exit(main(sys.argv[1:]))
"""


def test_headless_modes_import_no_qt(sim: Any, tmp_path: Path) -> None:
    """``--print-tree`` and ``--run`` run on a plain asyncio loop: PySide6, its shiboken and qasync are never
    imported (~200 ms of a 0.4 s ``--print-tree`` process, issue 20 goal 2), and the tree still loads."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    runs = (["--print-tree", "--depth", "2"], ["--run", "help"],
            ["--run", "overview"])
    for args in runs:
        proc = subprocess.run([sys.executable, "-c", QT_REPORT, "--kubeconfig", sim.kubeconfig, "--context",
                               "sim-admin", *args], capture_output=True, text=True, env=env, timeout=180)
        assert proc.stderr.rstrip().endswith("qt:"), (args, proc.stderr[-2000:])
        assert proc.returncode in (0, 1), (args, proc.stderr[-2000:])
    tree = subprocess.run([sys.executable, "-c", QT_REPORT, "--kubeconfig", sim.kubeconfig, "--context",
                           "sim-admin", "--print-tree", "--depth", "2", "--settings-file", str(tmp_path / "s.ini")],
                          capture_output=True, text=True, env=env, timeout=180)
    assert tree.returncode == 0, tree.stderr[-2000:]
    assert "Namespaces (" in tree.stdout and "rows=" in tree.stdout
    # A settings file is read with QtCore's reader (the window's format): QtCore only, no application, no qasync.
    qt = tree.stderr.rstrip().rpartition("qt:")[2].split(",")
    assert "qasync" not in qt and "PySide6.QtWidgets" not in qt and "PySide6.QtGui" not in qt, qt
