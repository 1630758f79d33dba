"""Records the objects the diagnose tests replay: ``python tests/health/record_scenarios.py KUBECONFIG``.

Against ``kube9-sim --scenarios`` (or a real cluster's failing pods, with their names in ``TARGETS``): each target's
object, its raw events, previous logs, the claims it mounts and, for a Deployment, its ReplicaSets and their events,
written to ``tests/health/recorded/<name>.json`` with the time of recording (rules measure "ago" from it).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import make_client
from kube9_desktop.kube.diagnose.facts import _previous_log, _selector
from kube9_desktop.kube.events import EventQuery, list_events
from kube9_desktop.kube.kubeconfig import load_kubeconfig

TARGETS = [("pods", n) for n in ("crashy-api", "oom-worker", "image-typo", "private-image", "registry-down",
                                 "too-big", "wrong-selector", "tainted-only", "unbound-claim", "not-ready",
                                 "init-stuck", "evicted-report")] + [("deployments", "quota-app"),
                                                                      ("deployments", "stuck-rollout")]
NS = "scenarios"


def main(path: str) -> None:
    client = make_client(load_kubeconfig(path), "sim-admin", KubeOptions())
    out = Path(__file__).parent / "recorded"
    for kind, name in TARGETS:
        prefix = "/api/v1" if kind == "pods" else "/apis/apps/v1"
        obj = client.get_json(f"{prefix}/namespaces/{NS}/{kind}/{name}")
        kname = obj.get("kind", "Pod")
        rec = {"kind": kind, "now": time.time(), "obj": obj,
               "events": list_events(client, EventQuery(NS, kname, name, obj["metadata"]["uid"]))}
        if kind == "pods":
            st = obj.get("status") or {}
            rec["previous_logs"] = {
                cs["name"]: _previous_log(client, NS, name, cs["name"])
                for cs in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]
                if (cs.get("lastState") or {}).get("terminated")}
            rec["pvcs"] = {v["persistentVolumeClaim"]["claimName"]: client.get_json(
                f"/api/v1/namespaces/{NS}/persistentvolumeclaims/{v['persistentVolumeClaim']['claimName']}")
                for v in (obj.get("spec") or {}).get("volumes") or [] if v.get("persistentVolumeClaim")}
        else:
            rss = client.get_json(f"/apis/apps/v1/namespaces/{NS}/replicasets",
                                  [("labelSelector", _selector(obj))]).get("items") or []
            rec["replicasets"] = rss
            rec["rs_events"] = [e for rs in rss for e in list_events(
                client, EventQuery(NS, "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"]))]
        (out / f"{name}.json").write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
        print(f"recorded {kind}/{name}")
    client.close()


if __name__ == "__main__":
    main(sys.argv[1])
