"""The benchmark script works: ``benchmarks/tree_load.py --smoke`` (tiny sims, one run) writes valid JSON.

Timings are benchmarks, not tests: nothing here asserts on a number's size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_writes_valid_json(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "tree_load.py"), "--smoke", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["mode"] == "smoke"
    assert {"platform", "cpus", "python"} <= set(data["machine"])
    assert data["bytecode"]["precompiled"] is True  # measured as installed: compiled, whatever the environment
    for backend in ("api", "kubectl"):
        load = data["cold_load"]["50"][backend]["load_ms"]
        assert {"median", "min", "max", "n"} <= set(load) and load["n"] == 1
        session = data["session"][backend]
        assert 0.0 <= session["hit_rate"] <= 1.0 and session["requests"] > 0
        ns = data["namespace_open"]["50"][backend]
        assert ns["rows"] == 50 and "first_row_ms" in ns and "last_row_ms" in ns
    window = data["namespace_open"]["50"]["api"]["window"]  # the same open in the real window
    assert window["rows"] == 50 and window["max_loop_lag_ms"]["n"] == 1
    assert isinstance(data["cold_load"]["50"]["ratio_api_over_kubectl"], float)
    assert isinstance(data["parallel_vs_sequential"]["ratio"], float)
    logs = data["logs"]
    assert logs["tail_1000"]["lines"] == 1000 and isinstance(logs["tail_1000"]["ratio_1000_lines"], float)
    assert logs["follow_5000_per_s"]["lines_held"] == 5000 and logs["follow_5000_per_s"]["lines_received"] > 0
    for case in ("scale", "delete"):  # command to tree, both paths (benchmarks/actions.py)
        act = data["actions"][case]
        assert act["api_ms"]["n"] == 1 and act["kubectl_ms"]["n"] == 1, act["errors"]
        assert isinstance(act["ratio_api_over_kubectl"], float)
    shell = data["exec"]  # keystroke to echo in a shell tab, port-forward against kubectl (benchmarks/exec_bench.py)
    assert shell["keystroke_echo"]["keys"] == 50 and {"p50_ms", "p95_ms"} <= set(shell["keystroke_echo"])
    for how in ("port_forward", "port_forward_apart"):
        assert isinstance(shell[how]["throughput_ratio"], float), shell[how]["kubectl"]
    assert isinstance(shell["port_forward"]["first_byte_ratio"], float)
    assert {"shell: keystroke to echo p95 ms", "port-forward first byte, api/kubectl"} <= {
        t["target"] for t in data["targets"]}
    assert data["targets"] and all({"target", "value", "goal", "met"} <= set(t) for t in data["targets"])


def test_window_stall_script_runs() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "window_stall.py"), "--pods", "50", "--windows", "2",
           "--busy", "0", "--busy", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for busy in (0, 1):  # a mode with a spinning neighbour process too
        assert f"50 pods, 2 windows, {busy} busy: longest stall median" in proc.stdout, proc.stdout
