"""Every cluster-scoped kind ``kubectl api-resources --verbs=list --namespaced=false`` lists has a place in the
tree (the namespaced ones are checked under a namespace in test_every_kind.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

from kube9_desktop.kube.kinds import shadowed


def test_tree_has_every_cluster_scoped_kind(sim: Any) -> None:
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "api-resources",
                          "--verbs=list", "--namespaced=false", "-o", "name"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    want = [(n.split(".", 1)[0], n.split(".", 1)[1] if "." in n else "") for n in out.stdout.split()]
    assert len(want) >= 8
    tree = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context",
                           "sim-admin", "--print-tree", "--depth", "1",
                           "--expand", "Cluster resources/Access control", "--expand", "Cluster resources/Other",
                           "--expand", "Cluster resources/Custom resources"],
                          capture_output=True, text=True, timeout=180)
    assert tree.returncode == 0, tree.stderr
    labels = {re.sub(r"\s*\(\d+\)$", "", ln.strip().split("\t")[0]).replace(" ", "").lower()
              for ln in tree.stdout.splitlines()}
    # A resource repeating a built-in under another group (metrics.k8s.io's nodes) is shown by the built-in row.
    missing = [f"{p}.{g}" for p, g in want if p not in labels and not shadowed(g, p)]
    assert not missing, missing
