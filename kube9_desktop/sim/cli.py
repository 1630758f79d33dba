"""Command line: ``kube9-sim [--nodes 5] [--namespaces 12] [--pods 2000] ...``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from kube9_desktop.sim.faults import Fault
from kube9_desktop.sim.pod_lifecycle import PACE_ENV, Pace
from kube9_desktop.sim.server import SimServer


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="kube9-sim", description="A simulated Kubernetes API server on 127.0.0.1.")
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--namespaces", type=int, default=12)
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--kubeconfig-out", default=None, help="where to write the kubeconfig (default: a temp file)")
    p.add_argument("--latency-ms", type=float, default=0, help="latency added to every API response")
    p.add_argument("--churn", type=float, default=0, help="random pod changes per second")
    p.add_argument(
        "--fault", action="append", default=[], metavar="PATH_REGEX:STATUS[:RATE]", help="inject a fault (repeatable)"
    )
    p.add_argument("--metrics", choices=("available", "unavailable", "absent"), default="available",
                   help="metrics.k8s.io: served, registered but failing (503), or not installed (404)")
    p.add_argument("--discovery", choices=("classic", "aggregated"), default="classic",
                   help="API discovery as v1.19 serves it (classic) or also aggregated (apidiscovery.k8s.io v2)")
    p.add_argument("--contexts", type=int, default=0, metavar="N",
                   help="add N fleet-NNN contexts to the kubeconfig (some dead, slow or with a missing plugin)")
    pace = Pace.default()
    p.add_argument("--pod-start-seconds", type=float, default=pace.start, metavar="S",
                   help="how long a new pod is Pending/ContainerCreating before it runs (default %(default)s; "
                        f"{PACE_ENV}=START,READY,STOP sets the three defaults)")
    p.add_argument("--pod-ready-seconds", type=float, default=pace.ready, metavar="S",
                   help="how long a running new pod takes to pass its readiness probe (default %(default)s)")
    p.add_argument("--pod-stop-seconds", type=float, default=pace.stop, metavar="S",
                   help="how long a deleted pod stays Terminating, capped by its grace period (default %(default)s)")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop when standard input ends (the process that started the sim has gone, however it ended)")
    p.add_argument("--scenarios", action="store_true",
                   help="add namespace 'scenarios': pods and workloads failing in every way diagnose explains")
    return p


def _stop_at_end_of_input(done: threading.Event) -> None:
    """Set ``done`` when standard input ends: the parent holds the pipe's other end, and the kernel closes it when
    the parent exits, also when it was killed (SIGKILL, a test run's timeout) and could not stop the sim itself."""
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered reader at interpreter
    # shutdown makes Python abort ("could not acquire lock for <stdin>").
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    done.set()


def main(argv: list[str] | None = None) -> int:
    """Runs the sim until SIGINT/SIGTERM; prints one ``ready URL kubeconfig=FILE`` line when serving."""
    args = build_parser().parse_args(argv)
    try:
        faults = [Fault.from_spec(s) for s in args.fault]
    except ValueError as e:
        print(f"kube9-sim: {e}", file=sys.stderr)
        return 2
    if args.pods < 0 or args.nodes < 1 or args.namespaces < 1:
        print("kube9-sim: --pods must be >= 0, --nodes and --namespaces >= 1", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if args.exit_with_parent:
        threading.Thread(target=_stop_at_end_of_input, args=(done,), name="sim-parent-watch", daemon=True).start()
    sim = SimServer(
        nodes=args.nodes,
        namespaces=args.namespaces,
        pods=args.pods,
        seed=args.seed,
        port=args.port,
        latency_ms=args.latency_ms,
        churn=args.churn,
        kubeconfig_out=args.kubeconfig_out,
        faults=faults,
        metrics=args.metrics,
        discovery=args.discovery,
        contexts=args.contexts,
        scenarios=args.scenarios,
    )
    sim.controllers.set_pace(Pace(args.pod_start_seconds, args.pod_ready_seconds, args.pod_stop_seconds))
    sim.start()
    print(f"ready {sim.url} kubeconfig={sim.kubeconfig_path}", flush=True)
    while not done.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
