"""The command line: --version, --print-tree against kube9-sim (compared with what the sim holds), --screenshot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def app(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kube9_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, check=False)


def parse(out: str) -> dict[str, list[str]]:
    """Children names by slash path, from the printed tree."""
    tree: dict[str, list[str]] = {}
    stack: list[str] = []
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        label = re.sub(r"\s*\(\d+\)$", "", line.strip().split("\t")[0])
        del stack[depth:]
        tree.setdefault("/".join(stack[1:]), []).append(label)
        stack.append(label)
    return tree


def test_version() -> None:
    r = app("--version")
    assert r.returncode == 0 and re.fullmatch(r"kube9-desktop \d+\.\d+\.\d+\n", r.stdout)


def test_print_tree_matches_the_sim(sim: Any, sim_names: Any) -> None:
    r = app("--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "--print-tree", "--depth", "2",
            "--expand", "Namespaces/team-a/Workloads/Pods")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "sim-admin\tv1.19.0"
    footer = re.fullmatch(r"# rows=(\d+) load_ms=([\d.]+) requests=(\d+) cache_hits=(\d+) cache_misses=(\d+) "
                          r"connections=(\d+) max_loop_lag_ms=([\d.]+)", lines[-1])
    assert footer is not None, lines[-1]
    assert int(footer.group(1)) == len(lines) - 1
    tree = parse(r.stdout)
    assert sorted(tree["Nodes"]) == sim_names("/api/v1/nodes")
    assert sorted(tree["Namespaces"]) == sim_names("/api/v1/namespaces")
    pods = sim_names("/api/v1/namespaces/team-a/pods")
    assert sorted(tree["Namespaces/team-a/Workloads/Pods"]) == pods
    assert f"        Pods ({len(pods)})" in lines


def test_print_tree_error_row_for_unreachable_context(sim: Any) -> None:
    r = app("--kubeconfig", sim.kubeconfig, "--context", "sim-down", "--print-tree")
    assert r.returncode == 0
    assert r.stdout.splitlines()[1].startswith("  ! Cannot connect")


def test_print_tree_unknown_path_is_reported(sim: Any) -> None:
    r = app("--kubeconfig", sim.kubeconfig, "--print-tree", "--depth", "1", "--expand", "Namespaces/nope")
    assert r.returncode == 0
    assert "no row 'nope'" in r.stderr


def test_screenshot_renders_a_real_window(sim: Any, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    r = app("--kubeconfig", sim.kubeconfig, "--screenshot", str(out), "--expand", "Namespaces/team-a/Workloads/Pods")
    assert r.returncode == 0, r.stderr
    # A task stepped inside another (a nested Qt loop run from a coroutine) is logged by the loop's handler.
    assert "Cannot enter into task" not in r.stderr and "event loop:" not in r.stderr, r.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1280, 800)
    colours = {img.pixel(x, y) for x in range(0, 1280, 8) for y in range(0, 800, 8)}
    assert len(colours) > 40
