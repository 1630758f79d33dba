"""``kube9-desktop --run`` as a user runs it (a process) against kube9-sim: a destructive command refuses without
``--yes`` and changes nothing, ``--yes`` lets it run, several ``--run`` go in order and stop at the first failure
with its exit status, a refused write says why; kubectl referees the cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kube9_desktop.sim.process import SimProcess

#: A sim of this module's own (``module_sim``): these tests write.
SIM_ARGS = ("--pods", "40", "--namespaces", "3", "--nodes", "2")


def app(sim: SimProcess, *runs: str, yes: bool = False, context: str = "sim-admin",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context", context]
    for line in runs:
        args += ["--run", line]
    if yes:
        args.append("--yes")
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, **(env or {})))


def pods(sim: SimProcess) -> list[str]:
    items = json.loads(sim.kubectl("get", "pods", "-n", "team-a", "-o", "json"))["items"]
    return [p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")]


def test_a_destructive_run_needs_yes(module_sim: SimProcess) -> None:
    victim = pods(module_sim)[0]
    r = app(module_sim, f"delete team-a/pod/{victim}")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"kube9-desktop: Delete pod {victim} in team-a? Refused: add --yes to confirm.",
        f"kube9-desktop: Delete pod {victim} in team-a: not confirmed, nothing done"]
    assert victim in pods(module_sim)  # the referee: nothing was sent
    r = app(module_sim, f"delete team-a/pod/{victim}", yes=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Deleted pod {victim} in team-a (terminating, 30 s grace period).\n"
    assert victim not in pods(module_sim)


def test_runs_go_in_order_and_stop_at_the_first_failure(module_sim: SimProcess) -> None:
    dep = json.loads(module_sim.kubectl("get", "deploy", "-n", "team-a", "-o", "json"))["items"][0]
    name, was = dep["metadata"]["name"], dep["spec"]["replicas"]
    r = app(module_sim, f"scale team-a/deploy/{name} {was + 1}", "scale team-a/deploy/no-such 2",
            f"scale team-a/deploy/{name} {was + 5}")
    assert r.returncode == 1
    assert r.stdout == f"Scaled deployment {name} in team-a from {was} to {was + 1}.\n"
    assert r.stderr.startswith("kube9-desktop: ") and "no-such" in r.stderr
    # The third line never ran.
    assert module_sim.kubectl("get", "deploy", name, "-n", "team-a", "-o", "jsonpath={.spec.replicas}") == str(was + 1)
    # A line that cannot be read is a usage error (2), before anything is sent.
    r = app(module_sim, f"scale team-a/deploy/{name} many")
    assert r.returncode == 2 and "invalid int value: 'many'" in r.stderr


def test_a_refused_write_says_why_and_exits_non_zero(module_sim: SimProcess) -> None:
    victim = pods(module_sim)[0]
    r = app(module_sim, f"delete team-a/pod/{victim}", yes=True, context="sim-viewer")
    assert r.returncode == 1 and r.stderr == "kube9-desktop: You may not delete pods in team-a\n"
    assert victim in pods(module_sim)


def test_writes_of_a_run_go_to_the_app_log_without_bodies_or_credentials(module_sim: SimProcess,
                                                                          tmp_path: Path) -> None:
    """A script's writes are in the same log as the window's (platformdirs: $XDG_STATE_HOME/kube9-desktop/log)."""
    r = app(module_sim, "cordon node/node-1", "uncordon node/node-1", env={"XDG_STATE_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "kube9-desktop" / "log" / "kube9-desktop.log").read_text()
    writes = [ln.split(" write ", 1)[1] for ln in text.splitlines() if " write context=" in ln]
    assert writes == ["context=sim-admin verb=patch object=nodes node-1 result=200"] * 2, text
    assert module_sim.admin_token() not in text and "unschedulable" not in text
