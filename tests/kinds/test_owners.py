"""Owners and relations: a Deployment drills down to its ReplicaSets and their pods, a CronJob to its Jobs, a
StatefulSet / DaemonSet / Job to its pods (ownerReferences, matched by uid), a Service to the pods its selector
picks, a claim to its volume. kubectl referees the sim; the drill-down is built from the cached lists."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kinds import DEFAULT_TTLS, KINDS
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.children import tree_path
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess

CTX = "sim-admin"

#: Owner kind → the kind of its dependents, as kubectl names them (the tree's table says the same, checked below).
OWNED = {"deployments": "replicasets", "replicasets": "pods", "statefulsets": "pods", "daemonsets": "pods",
         "jobs": "pods", "cronjobs": "jobs"}


#: This module's own sim (``module_sim``): its tests change the cluster.
SIM_ARGS = ("--pods", "60", "--namespaces", "4", "--nodes", "2")


def kubectl_items(sim: SimProcess, resource: str, *args: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(sim.kubectl("get", resource, "-A", "-o", "json", *args))["items"]
    return items


def owned_names(children: list[dict[str, Any]], owner: dict[str, Any]) -> list[str]:
    """kubectl's answer: the dependents whose ownerReferences name ``owner``'s uid, in its namespace."""
    uid, ns = owner["metadata"]["uid"], owner["metadata"].get("namespace")
    return sorted(c["metadata"]["name"] for c in children if c["metadata"].get("namespace") == ns
                  and any(r.get("uid") == uid for r in c["metadata"].get("ownerReferences") or []))


def object_names(node: TreeNode | None) -> list[str]:
    assert node is not None
    return sorted(c.row.name for c in node.children if c.type is NodeType.OBJECT and c.row is not None)


def make(sim: SimProcess, ttl: float | None = None) -> tuple[Any, ClusterTreeModel]:
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    ttls = dict(DEFAULT_TTLS) if ttl is None else {k: (v and ttl) for k, v in DEFAULT_TTLS.items()}
    svc = KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(ttls=ttls))
    model = ClusterTreeModel()
    model.set_service(svc)
    model.set_context(CTX, user=True)
    return svc, model


def path_of(kind_key: str, obj: dict[str, Any]) -> str:
    return "/".join(tree_path(KINDS[kind_key], obj["metadata"].get("namespace"), obj["metadata"]["name"]))


def test_the_table_declares_the_relations() -> None:
    for owner, child in OWNED.items():
        assert KINDS[owner].children == (child, "owner")
    assert KINDS["services"].children == ("pods", "selector")
    assert KINDS["persistentvolumeclaims"].children == ("persistentvolumes", "volume")


def test_owner_drill_down_equals_the_owner_references(module_sim: SimProcess, run: Any) -> None:
    svc, model = make(module_sim)
    try:
        checked = 0
        for owner_kind, child_kind in OWNED.items():
            owners = kubectl_items(module_sim, owner_kind)
            children = kubectl_items(module_sim, child_kind)
            assert owners, owner_kind
            for owner in owners:
                path = path_of(owner_kind, owner)
                run(load_tree(model, 0, [path]), 60)
                node = model.find(path)
                assert node is not None, path
                assert object_names(node) == owned_names(children, owner), path
                assert all(c.kind is KINDS[child_kind] or (c.kind is not None and c.kind.key == child_kind)
                           for c in node.children if c.type is NodeType.OBJECT)
                checked += 1
        assert checked >= 10
        # A Deployment shows its ReplicaSets and, below each, its pods: the whole chain kubectl's owners make.
        dep = next(d for d in kubectl_items(module_sim, "deployments") if d["metadata"]["namespace"] == "team-a")
        node = model.find(path_of("deployments", dep))
        pods = kubectl_items(module_sim, "pods", "-n", "team-a")
        rs_nodes = [c for c in node.children if c.row is not None] if node is not None else []
        assert rs_nodes
        for rs in rs_nodes:
            assert rs.row is not None
            rs_obj = json.loads(module_sim.kubectl("get", "rs", rs.row.name, "-n", "team-a", "-o", "json"))
            run(load_tree(model, 0, ["/".join(rs.path()[1:])]), 60)
            assert object_names(rs) == owned_names(pods, rs_obj) and object_names(rs)
    finally:
        run(model.shutdown())
        run(svc.aclose())


def test_service_pods_and_claim_volume_equal_kubectls(module_sim: SimProcess, run: Any) -> None:
    svc, model = make(module_sim)
    try:
        services = [s for s in kubectl_items(module_sim, "services") if (s.get("spec") or {}).get("selector")]
        assert services
        for s in services:
            ns = s["metadata"]["namespace"]
            sel = ",".join(f"{k}={v}" for k, v in sorted(s["spec"]["selector"].items()))
            want = sorted(p["metadata"]["name"] for p in json.loads(
                module_sim.kubectl("get", "pods", "-n", ns, "-l", sel, "-o", "json"))["items"])
            path = path_of("services", s)
            run(load_tree(model, 0, [path]), 60)
            assert object_names(model.find(path)) == want, path
        claims = kubectl_items(module_sim, "pvc")
        assert claims
        for c in claims:
            path = path_of("persistentvolumeclaims", c)
            run(load_tree(model, 0, [path]), 60)
            node = model.find(path)
            assert object_names(node) == [c["spec"]["volumeName"]], path
            assert node is not None and node.children[0].kind is not None
            assert node.children[0].kind.key == "persistentvolumes"
    finally:
        run(model.shutdown())
        run(svc.aclose())


def test_a_drill_down_makes_no_request_when_the_lists_are_cached(module_sim: SimProcess, run: Any) -> None:
    svc, model = make(module_sim, ttl=600.0)  # nothing expires during the test, however loaded the machine
    try:
        dep = next(d for d in kubectl_items(module_sim, "deployments") if d["metadata"]["namespace"] == "default")
        run(load_tree(model, 0, ["Namespaces/default/Workloads"]), 60)  # counts (so caches) the namespace's lists
        before = svc.stats(CTX).requests
        path = path_of("deployments", dep)
        run(load_tree(model, 0, [path]), 60)  # the Deployment, then each of its ReplicaSets
        node = model.find(path)
        assert node is not None and node.children
        assert all(rs.children for rs in node.children)
        assert svc.stats(CTX).requests == before
        # Not cached: one list of the child kind in that namespace (which is then cached), not one per owner.
        svc.invalidate(context=CTX, kind="replicasets")
        model.reload_node(node)
        run(model.wait_idle(), 60)
        assert svc.stats(CTX).requests == before + 1
        assert svc.cache.peek(ListRef(CTX, "replicasets", "default")) is not None
    finally:
        run(model.shutdown())
        run(svc.aclose())


def test_rows_under_an_owner_stay_current_with_the_watch(module_sim: SimProcess, run: Any) -> None:
    svc, model = make(module_sim)
    try:
        ns = "team-b"
        rs = next(r for r in kubectl_items(module_sim, "rs") if r["metadata"]["namespace"] == ns
                  and (r.get("spec") or {}).get("replicas"))
        rs_path = path_of("replicasets", rs)
        run(load_tree(model, 0, [rs_path]), 60)
        node = model.find(rs_path)
        assert node is not None and object_names(node)
        model.live.start_all()

        def truth() -> list[str]:
            return owned_names(kubectl_items(module_sim, "pods", "-n", ns), rs)

        async def watched() -> None:
            while not model.live.healthy(node):
                await asyncio.sleep(0.05)

        run(watched(), 30)
        victim = object_names(node)[0]
        module_sim.kubectl("delete", "pod", victim, "-n", ns, "--grace-period=0", "--force", "--wait=false")

        async def settled() -> None:
            # The ReplicaSet replaces the pod; the rows under it follow the watch until they equal kubectl's.
            while True:
                want = truth()
                if victim not in want and object_names(node) == want and victim not in object_names(node):
                    return
                await asyncio.sleep(0.2)

        run(settled(), 60)
        # The drill-down showed part of the namespace's pod list: the cache entry of that list was never replaced
        # by it (the namespace's own Pods list is served from the same entry).
        entry = svc.cache.peek(ListRef(CTX, "pods", ns))
        assert entry is None or len(entry.rows) > len(object_names(node))
    finally:
        run(model.shutdown())
        run(svc.aclose())


def test_print_tree_shows_the_drill_down(module_sim: SimProcess) -> None:
    dep = next(d for d in kubectl_items(module_sim, "deployments") if d["metadata"]["namespace"] == "team-a")
    name = dep["metadata"]["name"]
    out = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", module_sim.kubeconfig, "--context",
                          CTX, "--print-tree", "--expand", f"Namespaces/team-a/Workloads/Deployments/{name}"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "Deployments (1)" or
                 ln.strip().startswith("Deployments (")) + 1
    while lines[start].strip().split("\t")[0] != name:
        start += 1
    depth = len(lines[start]) - len(lines[start].lstrip(" "))
    below: list[tuple[int, str]] = []
    for ln in lines[start + 1:]:
        d = len(ln) - len(ln.lstrip(" "))
        if d <= depth:
            break
        below.append((d - depth, ln.strip().split("\t")[0]))
    replicasets = [rs for rs in kubectl_items(module_sim, "rs") if rs["metadata"]["namespace"] == "team-a"]
    pods = kubectl_items(module_sim, "pods", "-n", "team-a")
    want: list[tuple[int, str]] = []
    for rs in sorted(replicasets, key=lambda r: r["metadata"]["name"]):
        if rs["metadata"]["name"] in owned_names(replicasets, dep):
            want.append((2, rs["metadata"]["name"]))
            want += [(4, p) for p in owned_names(pods, rs)]
    assert want and below == want
