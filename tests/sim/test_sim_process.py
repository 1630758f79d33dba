"""SimProcess: the sim child never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from kube9_desktop.sim.process import SimProcess


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state in /proc says it has ended.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_sim_stops_when_its_parent_is_killed_outright() -> None:
    """SIGKILL gives the parent no chance to stop the sim; the sim sees its standard input end and stops itself
    (before, such a sim ran on, orphaned, holding its port and memory)."""
    parent_code = textwrap.dedent("""
        import sys, time
        from kube9_desktop.sim.process import SimProcess
        sim = SimProcess.start("--pods", "5", "--namespaces", "1", "--nodes", "1")
        print(sim.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        sim_pid = int(parent.stdout.readline())
        assert _alive(sim_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while _alive(sim_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(sim_pid), "the sim outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if "sim_pid" in locals() and _alive(sim_pid):
            os.kill(sim_pid, signal.SIGKILL)


def test_stop_still_ends_the_sim_and_closes_its_input() -> None:
    sim = SimProcess.start("--pods", "5", "--namespaces", "1", "--nodes", "1")
    assert sim.request("GET", "/version")["major"] == "1"
    assert sim.stop() == 0
    assert sim.proc.stdin is not None and sim.proc.stdin.closed
