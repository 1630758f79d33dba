"""List every pod cluster-wide through the data layer (no UI): time per run and peak RSS.

    python benchmarks/list_pods.py --pods 2000 --backend api
    python benchmarks/list_pods.py --pods 50000 --namespaces 40 --nodes 50 --backend api

Starts its own kube9-sim; each run clears the cache first, so every run makes real requests.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


async def measure(kubeconfig: str, backend: str, runs: int) -> list[float]:
    svc = KubeService(load_kubeconfig(kubeconfig), KubeOptions(), backend=backend, kubeconfig_path=kubeconfig)
    times: list[float] = []
    try:
        await svc.version("sim-admin")
        for _ in range(runs):
            svc.invalidate()
            t0 = time.perf_counter()
            rows = await svc.list_all(ListRef("sim-admin", "pods"))
            times.append(time.perf_counter() - t0)
            print(f"  {backend}: {len(rows)} pods in {times[-1]:.3f} s", flush=True)
    finally:
        await svc.aclose()
    return times


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--namespaces", type=int, default=12)
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--backend", choices=("api", "kubectl"), default="api")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    with SimProcess.start("--pods", str(a.pods), "--namespaces", str(a.namespaces), "--nodes", str(a.nodes)) as sim:
        times = asyncio.run(measure(sim.kubeconfig, a.backend, a.runs))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{a.backend}: {a.pods} pods, median {statistics.median(times):.3f} s over {len(times)} runs, "
          f"peak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
