"""Actions benchmark: time from a command to the tree showing its result, the API path against kubectl.

Called by ``benchmarks/tree_load.py`` (``make bench``); also runs alone: ``python benchmarks/actions.py [--smoke]``.

Two cases, each run alternately with both paths on one sim, the tree open as a user has it:

- ``scale``: a Deployment at 3 replicas, its row expanded (its pods listed under it); scale to 5; done when the
  tree shows 5 pod rows under it.
- ``delete``: a namespace's Pods open; delete one pod (grace period 0); done when its row is gone.

The API path runs the registry's command (``run_line``, as the window's palette does) on an API-backed tree that
watches what is open and follows write events (``model/after_write.py``, as the window does). The kubectl path runs
``kubectl scale`` / ``kubectl delete`` (a process), then brings the kubectl-backed tree up to date the only way it
can be: reloading the affected lists (``kubectl get``) until the result is there.

Goals (issue 10): API ≤ 0.2 of kubectl, and the result visible within 1 s.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CONTEXT = "sim-admin"
GOALS = {"ratio_max": 0.2, "visible_ms_max": 1000.0}
#: Longest wait for a result before the run counts as failed.
TIMEOUT_S = 30.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def summary(values: list[float]) -> dict[str, Any]:
    """median/min/max/n of a list of numbers."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1), "n": len(values), "values": [round(v, 1) for v in values]}


# ---------------------------------------------------------------------------------------------------- the tree


def make_tree(sim: Any, backend: str) -> tuple[Any, Any]:
    """A service and a tree model on ``sim`` (the API tree watches what it has open, as the window does)."""
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.tree_model import ClusterTreeModel

    svc = KubeService(load_kubeconfig(sim.kubeconfig), backend=backend, kubeconfig_path=sim.kubeconfig)
    model = ClusterTreeModel()
    model.set_service(svc)
    model.live.configure(backend == "api", 50, 30.0)
    return svc, model


def follow_writes(model: Any, svc: Any) -> None:
    """What the window's command bridge does with write events: Terminating rows, reloads of unwatched lists."""
    from kube9_desktop.model import after_write

    writes = getattr(svc, "writes", None)
    listeners = getattr(writes, "listeners", None)
    if not isinstance(listeners, list):
        return

    def on_write(ev: Any) -> None:
        kinds = tuple(ev.kinds)
        if ev.verb == "delete" and ev.name and kinds:
            after_write.mark_terminating(model, ev.context, [(kinds[0], ev.namespace, ev.name)])
        after_write.reload_affected(model, ev.context, set(kinds), {ev.namespace})

    listeners.append(on_write)


async def open_path(model: Any, path: str) -> Any:
    """Expand every node on ``path`` as the view does; returns the last one."""
    parts = path.split("/")
    node = None
    for i in range(1, len(parts) + 1):
        node = model.find("/".join(parts[:i]))
        if node is None:
            raise RuntimeError(f"no node {'/'.join(parts[:i])}")
        model.expand(node)
        await model.wait_idle()
    if model.service.backend_name == "api":
        model.live.start_all()
    return node


async def watched(model: Any, node: Any) -> None:
    """Wait until ``node``'s watch is connected (the API tree), so the write is seen by a running watch."""
    if model.service.backend_name != "api":
        return
    deadline = time.monotonic() + 10
    while not model.live.healthy(node) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def pod_rows(node: Any) -> list[str]:
    from kube9_desktop.model.nodes import NodeType

    return [c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None]


async def until(check: Callable[[], bool], refresh: Callable[[], Coroutine[Any, Any, None]] | None) -> bool:
    """Poll ``check`` (every 2 ms, or after each ``refresh``) until it holds or :data:`TIMEOUT_S` passes."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if check():
            return True
        if refresh is not None:
            await refresh()
        else:
            await asyncio.sleep(0.002)
    return check()


async def kubectl(sim: Any, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        shutil.which("kubectl") or "kubectl", "--kubeconfig", sim.kubeconfig, "--context", CONTEXT, *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {err.decode(errors='replace').strip()[-300:]}")


async def run_command(svc: Any, line: str) -> None:
    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.runner import run_line
    from kube9_desktop.headless_run import HeadlessPort

    load_all()
    port = HeadlessPort(yes=True, out=io.StringIO(), err=io.StringIO())
    result = await run_line(line, service=svc, context=CONTEXT, ui=port, access=getattr(svc, "access", None))
    if not result.ok:
        raise RuntimeError(f"{line}: {result.message}")


# ---------------------------------------------------------------------------------------------------- cases


def set_replicas(sim: Any, ns: str, dep: str, replicas: int) -> None:
    """Set up (not measured): the Deployment at ``replicas`` and exactly that many pods (none Terminating)."""
    import urllib.parse

    body = sim.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{dep}/scale")
    body["spec"]["replicas"] = replicas
    sim.request("PUT", f"/apis/apps/v1/namespaces/{ns}/deployments/{dep}/scale", body)
    d = sim.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{dep}")
    selector = ",".join(f"{k}={v}" for k, v in sorted(d["spec"]["selector"]["matchLabels"].items()))
    path = f"/api/v1/namespaces/{ns}/pods?labelSelector={urllib.parse.quote(selector)}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = sim.request("GET", path).get("items") or []
        if len(pods) == replicas:
            return
        for p in pods:  # pods a scale-down left Terminating: gone now, as if their grace period had passed
            if (p.get("metadata") or {}).get("deletionTimestamp"):
                name = p["metadata"]["name"]
                sim.request("DELETE", f"/api/v1/namespaces/{ns}/pods/{name}", {"gracePeriodSeconds": 0})
        time.sleep(0.05)
    raise RuntimeError(f"{dep} did not settle at {replicas} pods")


async def scale_case(sim: Any, backend: str, ns: str, dep: str) -> float:
    """ms from the scale command to 5 pod rows under the Deployment's ReplicaSet's row."""
    from kube9_desktop.model import after_write

    set_replicas(sim, ns, dep, 3)
    svc, model = make_tree(sim, backend)
    try:
        model.set_context(CONTEXT, user=True)
        await model.wait_idle()
        owner = await open_path(model, f"Namespaces/{ns}/Workloads/Deployments/{dep}")
        # The Deployment drills down to its ReplicaSet, which holds the pods (one ReplicaSet: nothing rolls here).
        rs = pod_rows(owner)
        if len(rs) != 1:
            raise RuntimeError(f"{dep} shows {len(rs)} ReplicaSets, not 1")
        node = await open_path(model, f"Namespaces/{ns}/Workloads/Deployments/{dep}/{rs[0]}")
        await watched(model, node)
        if len(pod_rows(node)) != 3:
            raise RuntimeError(f"{dep} shows {len(pod_rows(node))} pods before scaling, not 3")
        follow_writes(model, svc)

        async def reload() -> None:
            after_write.reload_affected(model, CONTEXT, after_write.affected_kinds("deployments"), {ns})
            await model.wait_idle()

        t0 = time.perf_counter()
        if backend == "api":
            await run_command(svc, f"scale {ns}/deploy/{dep} 5")
            ok = await until(lambda: len(pod_rows(node)) == 5, None)
        else:
            await kubectl(sim, "scale", f"deployment/{dep}", "--replicas=5", "-n", ns)
            ok = await until(lambda: len(pod_rows(node)) == 5, reload)
        ms = (time.perf_counter() - t0) * 1000
        if not ok:
            raise RuntimeError(f"{backend}: the tree never showed 5 pods under {dep}")
        return ms
    finally:
        await model.shutdown()
        await svc.aclose()
        set_replicas(sim, ns, dep, 3)


async def delete_case(sim: Any, backend: str, ns: str) -> float:
    """ms from the delete command to the pod's row gone from the namespace's Pods."""
    from kube9_desktop.model import after_write

    svc, model = make_tree(sim, backend)
    try:
        model.set_context(CONTEXT, user=True)
        await model.wait_idle()
        node = await open_path(model, f"Namespaces/{ns}/Workloads/Pods")
        await watched(model, node)
        victim = pod_rows(node)[-1]
        follow_writes(model, svc)

        async def reload() -> None:
            after_write.reload_affected(model, CONTEXT, {"pods"}, {ns})
            await model.wait_idle()

        t0 = time.perf_counter()
        if backend == "api":
            await run_command(svc, f"delete {ns}/pod/{victim} --grace-period 0 --force")
            ok = await until(lambda: victim not in pod_rows(node), None)
        else:
            await kubectl(sim, "delete", "pod", victim, "-n", ns, "--grace-period=0", "--force", "--wait=false")
            ok = await until(lambda: victim not in pod_rows(node), reload)
        ms = (time.perf_counter() - t0) * 1000
        if not ok:
            raise RuntimeError(f"{backend}: the row of {victim} never left the tree")
        return ms
    finally:
        await model.shutdown()
        await svc.aclose()


def pick(sim: Any) -> tuple[str, str]:
    """A namespace and one of its Deployments."""
    for ns in ("team-a", "team-b", "team-c", "default"):
        items = sim.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments").get("items") or []
        if items:
            return ns, items[0]["metadata"]["name"]
    raise RuntimeError("the sim has no deployment")


def run_actions(run: Callable[[Coroutine[Any, Any, Any]], Any], sim: Any, runs: int) -> dict[str, Any]:
    """Both cases, ``runs`` times per path, alternating which path goes first; results and goals."""
    from kube9_desktop.commands import load_all
    from kube9_desktop.commands.registry import REGISTRY

    load_all()
    missing = [c for c in ("scale", "delete") if c not in REGISTRY]
    if missing:
        return {"skipped": f"no {' / '.join(missing)} command in the registry yet"}
    ns, dep = pick(sim)
    out: dict[str, Any] = {"namespace": ns, "deployment": dep}
    for case in ("scale", "delete"):
        times: dict[str, list[float]] = {"api": [], "kubectl": []}
        errors: list[str] = []
        for i in range(runs):
            for backend in (("api", "kubectl") if i % 2 == 0 else ("kubectl", "api")):
                try:
                    coro = scale_case(sim, backend, ns, dep) if case == "scale" else delete_case(sim, backend, ns)
                    times[backend].append(run(coro))
                except (RuntimeError, OSError) as exc:
                    errors.append(str(exc))
                    log(f"actions {case} {backend}: {exc}")
        api, kc = summary(times["api"]), summary(times["kubectl"])
        ratio = round(api["median"] / kc["median"], 3) if api["median"] and kc["median"] else None
        out[case] = {"api_ms": api, "kubectl_ms": kc, "ratio_api_over_kubectl": ratio, "errors": errors}
    return out


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals, met or not."""
    out: list[dict[str, Any]] = []
    for case in ("scale", "delete"):
        r = res.get(case)
        if not r:
            continue
        ratio, api = r["ratio_api_over_kubectl"], r["api_ms"]["median"]
        out.append({"target": f"{case}: command to tree, api/kubectl ratio", "value": ratio,
                    "goal": f"<= {GOALS['ratio_max']}", "met": ratio is not None and ratio <= GOALS["ratio_max"]})
        out.append({"target": f"{case}: command to tree, api median ms", "value": api,
                    "goal": f"<= {GOALS['visible_ms_max']:.0f} ms",
                    "met": api is not None and api <= GOALS["visible_ms_max"]})
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="one run each on a small sim")
    ap.add_argument("--runs", type=int, default=None)
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.smoke else 5)
    import qasync
    from PySide6.QtWidgets import QApplication

    from kube9_desktop.sim.process import SimProcess

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sim = SimProcess.start("--pods", "60" if args.smoke else "400", "--namespaces", "4", "--nodes", "3", timeout=180)
    try:
        res = run_actions(lambda c: loop.run_until_complete(asyncio.wait_for(c, 120)), sim, runs)
    finally:
        sim.stop()
        loop.close()
    res["targets"] = targets(res)
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
