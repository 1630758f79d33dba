"""The malloc arena cap (kube9_desktop.memory), checked in a fresh interpreter through glibc's own report."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

PROBE = r"""
import ctypes, re, sys, tempfile, threading
if sys.argv[1] == "cap":
    from kube9_desktop.memory import limit_malloc_arenas
    assert limit_malloc_arenas()
together = threading.Barrier(8)
def work():
    keep = [bytearray(3000) for _ in range(2000)]  # above Python's small-object size: glibc malloc serves it
    # All eight alive at once: a thread that starts after another ended takes over its free arena, so on a loaded
    # CI machine (threads run one after another) the uncapped run counted 2 arenas and the test failed.
    together.wait(timeout=30)
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile(suffix=".xml") as f:
    fp = libc.fopen(f.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(len(re.findall(r'<heap nr="\d+">', open(f.name).read())))
"""


def arenas(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc arenas exist on Linux only")
def test_worker_threads_share_two_malloc_arenas() -> None:
    assert arenas("default") > 2  # each new thread gets its own arena up to 8 per core: what the cap is for
    assert arenas("cap") <= 2


SOURCE_PROBE = r"""
import linecache, sys
from PySide6.QtCore import QCoreApplication
sys.path.insert(0, sys.argv[2])
if sys.argv[1] == "stop":
    from kube9_desktop.memory import stop_source_caching
    assert stop_source_caching()
import shibokensupport.feature as feature
import k9_probe_plain, k9_probe_qt
print(sum(1 for f in linecache.cache if "k9_probe_" in f), "k9_probe_qt" in feature.pyside_feature_dict,
      "k9_probe_plain" in feature.pyside_feature_dict)
"""


def test_modules_imported_after_pyside_are_not_kept_as_source(tmp_path: Any) -> None:
    """PySide6 reads every module imported after it for ``__feature__`` use; by default the source stays in
    linecache for good (~37 MB once the data layer's libraries are imported). Stopped, PySide6 marks the same
    modules and nothing is cached."""
    (tmp_path / "k9_probe_plain.py").write_text("X = 1\n" * 2000)
    (tmp_path / "k9_probe_qt.py").write_text("import PySide6.QtCore\nY = 2\n")
    got = {}
    for mode in ("default", "stop"):
        out = subprocess.run([sys.executable, "-c", SOURCE_PROBE, mode, str(tmp_path)], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert out.returncode == 0, out.stderr
        got[mode] = out.stdout.split()
    assert got["default"][0] == "2" and got["stop"][0] == "0"
    assert got["default"][1:] == got["stop"][1:]  # the same modules count as using PySide6
