"""The kubectl backend gives the same rows and errors as the API backend."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed on this machine")

Make = Callable[..., KubeService]
ADMIN = "sim-admin"


@pytest.mark.parametrize(("kind", "namespace"), [("pods", None), ("pods", "team-a"), ("nodes", None),
                                                 ("deployments", None), ("services", "team-b"),
                                                 ("namespaces", None)])
async def test_same_rows_as_api(kind: str, namespace: str | None, sim: SimProcess, kubeconfig: Kubeconfig,
                                make_service: Make) -> None:
    api = make_service(kubeconfig)
    kubectl = make_service(kubeconfig, KubeOptions(page_size=100), backend="kubectl",
                           kubeconfig_path=sim.kubeconfig)
    ref = ListRef(ADMIN, kind, namespace=namespace)
    a = await api.list_all(ref)
    b = await kubectl.list_all(ref)
    assert a

    def key(r: object) -> tuple:
        return (r.namespace, r.name, r.uid, r.status, r.severity, r.ready, r.restarts)  # type: ignore[attr-defined]

    assert sorted(map(key, a)) == sorted(map(key, b))
    assert kubectl.stats(ADMIN).requests == 1  # one kubectl process


async def test_errors_match_api(sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make) -> None:
    svc = make_service(kubeconfig, backend="kubectl", kubeconfig_path=sim.kubeconfig)
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-viewer", "pods", namespace="kube-system"))
    assert ei.value.kind is ErrorKind.FORBIDDEN
    assert ei.value.message == "You cannot list pods in namespace kube-system."
    assert ei.value.hint == ("Check with: kubectl auth can-i list pods -n kube-system --context sim-viewer "
                             f"--kubeconfig {sim.kubeconfig}")
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-badtoken", "nodes"))
    assert ei.value.kind is ErrorKind.UNAUTHORIZED
    with pytest.raises(KubeError) as ei:
        await svc.list_all(ListRef("sim-down", "nodes"))
    assert ei.value.kind is ErrorKind.UNREACHABLE and "Cannot connect" in ei.value.message
    assert "refused" in ei.value.message
    with pytest.raises(KubeError) as ei:
        await svc.get(ADMIN, "pods", "team-a", "does-not-exist")
    assert ei.value.kind is ErrorKind.NOT_FOUND
    assert (await svc.version(ADMIN)).startswith("v1.")


async def test_kubectl_processes_are_capped_so_a_refresh_does_not_starve_the_machine(
        sim: SimProcess, kubeconfig: Kubeconfig, make_service: Make, tmp_path: Path) -> None:
    # A real kubectl behind a wrapper that logs when each process starts and ends.
    log = tmp_path / "spawns.log"
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\necho "+ $(date +%s%N)" >> {log}\n"{shutil.which("kubectl")}" "$@"\nrc=$?\n'
                       f'echo "- $(date +%s%N)" >> {log}\nexit $rc\n')
    wrapper.chmod(0o755)
    svc = make_service(kubeconfig, KubeOptions(kubectl=str(wrapper), workers=8), backend="kubectl",
                       kubeconfig_path=sim.kubeconfig)
    refs = [ListRef(ADMIN, kind, namespace=ns) for ns in ("team-a", "team-b", "team-c")
            for kind in ("pods", "deployments", "services", "configmaps")]
    lists = await asyncio.gather(*(svc.list_all(r) for r in refs))
    assert all(isinstance(rows, list) for rows in lists) and lists[0]
    events = sorted((int(t), +1 if sign == "+" else -1) for sign, t in (ln.split() for ln in log.read_text().split(
        "\n") if ln))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert len(events) == 2 * len(refs)
    cap = svc.backend.max_processes()  # type: ignore[attr-defined]
    assert cap == min(8, 2 * (os.cpu_count() or 1))
    assert 1 < peak <= cap, f"{peak} kubectl processes ran at once (cap {cap})"


async def test_a_run_cancelled_twice_still_reaps_its_kubectl(sim: SimProcess, kubeconfig: Kubeconfig,
                                                             make_service: Make, tmp_path: Path) -> None:
    """The app's shutdown cancels every task left, a run already cancelled (and reaping its kubectl) included. The
    run ended with kubectl's exit still on its way; arriving after the loop closed, it printed "Loop … that handles
    pid … is closed" (test_app_lifecycle.py's kubectl-backend test, now and then on loaded runs)."""
    import psutil

    pids = tmp_path / "pids"
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> {pids}\nexec sleep 60\n')  # a kubectl that hangs
    wrapper.chmod(0o755)
    svc = make_service(kubeconfig, KubeOptions(kubectl=str(wrapper)), backend="kubectl",
                       kubeconfig_path=sim.kubeconfig)
    from kube9_desktop.kube.kinds import kind

    async def one_list() -> None:  # the backend's own run (the service shares it among callers)
        async for _ in svc.backend.list_pages(ListRef(ADMIN, "pods", namespace="team-a"), kind("pods")):
            pass

    task = asyncio.ensure_future(one_list())
    for _ in range(500):
        if pids.exists() and pids.read_text().strip():
            break
        await asyncio.sleep(0.01)
    pid = int(pids.read_text().split()[0])
    task.cancel()
    await asyncio.sleep(0)  # the run is now in its cancellation handler, killing and reaping kubectl
    task.cancel()  # the shutdown's cancel of every task left
    with pytest.raises(asyncio.CancelledError):
        await task
    # Reaped before the run ended: not running, not even a zombie the loop has yet to hear about.
    assert not psutil.pid_exists(pid), psutil.Process(pid).status()


async def test_closing_reaps_a_kubectl_being_started_and_starts_no_more(sim: SimProcess, kubeconfig: Kubeconfig,
                                                                       make_service: Make, tmp_path: Path) -> None:
    """The app's shutdown cancels every task left, a kubectl being started included: asyncio's clean-up then reaped
    it with Popen.poll() before its child watcher did ("Unknown child process pid …, will report returncode 255",
    1 in 5 loaded runs of test_app_lifecycle's kubectl test). Closing the backend first finishes those starts."""
    import psutil

    from kube9_desktop.kube.kinds import kind

    wrapper = tmp_path / "kubectl"
    wrapper.write_text('#!/bin/sh\nexec sleep 60\n')
    wrapper.chmod(0o755)
    svc = make_service(kubeconfig, KubeOptions(kubectl=str(wrapper)), backend="kubectl",
                       kubeconfig_path=sim.kubeconfig)
    ref = ListRef(ADMIN, "pods", namespace="team-a")

    async def one_list() -> None:
        async for _ in svc.backend.list_pages(ref, kind("pods")):
            pass

    task = asyncio.ensure_future(one_list())
    for _ in range(500):  # until kubectl is being started
        if svc.backend._spawning:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0)
    spawn = next(iter(svc.backend._spawning))  # type: ignore[attr-defined]
    await svc.backend.aclose()
    assert not psutil.pid_exists(spawn.result().pid)  # killed and reaped by the close itself
    with pytest.raises(KubeError):
        await task
    with pytest.raises(KubeError) as ei:  # closed: no new kubectl
        await one_list()
    assert ei.value.title == "Closed"
