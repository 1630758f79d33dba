"""What the window imports before it is first shown stays light: the kubernetes package (~0.25-0.5 s to import) is
loaded behind the window, with the data layer, never by the window's own modules or the command families."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import sys
import kube9_desktop.app
import kube9_desktop.ui.main_window
from kube9_desktop.commands import load_all
load_all()
print(sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")))
"""


def test_window_modules_and_command_families_do_not_import_kubernetes() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]", proc.stdout[:500]


def test_the_data_layer_still_imports_it() -> None:
    """The check above can fail: the service's client module does import the package."""
    code = "import sys, kube9_desktop.kube.service; print('kubernetes' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]
