"""kube/fleet.py: every context probed in parallel, dead and slow ones isolated, credential problems named."""

from __future__ import annotations

import asyncio
import time

from kube9_desktop.kube.fleet import FleetRow, format_text, probe_all
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.sim.process import SimProcess


def test_fleet_with_dead_slow_and_broken_contexts(hsim: SimProcess) -> None:
    kc = load_kubeconfig(hsim.kubeconfig)
    names = kc.names()
    arrivals: list[tuple[float, FleetRow]] = []
    started = time.monotonic()
    rows = asyncio.run(probe_all(kc, names, on_row=lambda r: arrivals.append((time.monotonic() - started, r))))
    assert [r.context for r in rows] == names
    by = {r.context: r for r in rows}
    nodes = len(hsim.request("GET", "/api/v1/nodes")["items"])
    live = [n for n in names if n in ("sim-admin", "sim-cert") or (n.startswith("fleet-") and int(n[6:]) % 5 != 0
                                                                    and int(n[6:]) % 7 != 0 and int(n[6:]) % 11 != 0)]
    for n in live:
        assert by[n].reachable and by[n].version == "v1.19.0" and by[n].nodes_total == nodes, by[n]
        assert by[n].failing_pods and by[n].failing_pods > 0 and by[n].latency_ms is not None
    for n in ("sim-down", "fleet-005", "fleet-010"):
        assert not by[n].reachable and "connection refused" in by[n].problem
    assert not by["fleet-007"].reachable and "timed out" in by["fleet-007"].problem  # a port that never answers
    assert by["fleet-011"].auth_problem and "kube9-sim-no-such-plugin" in by["fleet-011"].problem
    assert by["sim-badtoken"].auth_problem and "credentials rejected" in by["sim-badtoken"].problem
    assert by["sim-viewer"].reachable and by["sim-viewer"].auth_problem and "forbidden" in by["sim-viewer"].problem
    # Isolation: every live row arrived before the slow context's timeout ended its row.
    slow_at = next(t for t, r in arrivals if r.context == "fleet-007")
    assert max(t for t, r in arrivals if r.context in live) < slow_at
    text = format_text(rows)
    assert all(n in text for n in names)
