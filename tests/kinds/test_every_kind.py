"""Every kind the server offers has a place in the tree, with kubectl's objects and columns; quick open finds
objects by a fragment of their name. kubectl (and its aggregated discovery) referees the sim."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any

import pytest

from kube9_desktop.kube.kinds import KINDS, Category, shadowed
from kube9_desktop.model.children import tree_path
from kube9_desktop.model.quick_index import Entry, QuickIndex
from kube9_desktop.sim.process import SimProcess

#: This module's own sim (``module_sim``): its tests change the cluster.
SIM_ARGS = ("--pods", "60", "--namespaces", "4", "--nodes", "2")


def app(sim: SimProcess, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context",
                          "sim-admin", *args], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return out.stdout


def discover(sim: SimProcess) -> tuple[list[Any], str]:
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    async def go() -> tuple[list[Any], str]:
        svc = KubeService(load_kubeconfig(sim.kubeconfig))
        try:
            kinds = await svc.discover("sim-admin")
            return kinds, svc.discovery_mode("sim-admin")
        finally:
            await svc.aclose()

    return asyncio.run(go())


def kubectl_resources(sim: SimProcess, *flags: str) -> list[tuple[str, str]]:
    """(plural, group) of what ``kubectl api-resources --verbs=list`` lists."""
    names = sim.kubectl("api-resources", "--verbs=list", "-o", "name", *flags).split()
    return [(n.split(".", 1)[0], n.split(".", 1)[1] if "." in n else "") for n in names]


@pytest.mark.parametrize("mode", ["classic", "aggregated"])
def test_discovery_finds_every_kind_kubectl_lists(module_sim: SimProcess, mode: str) -> None:
    module_sim.set_discovery(mode)
    try:
        kinds, how = discover(module_sim)
        assert how == mode
        ours = {(k.plural, k.group) for k in kinds}
        want = kubectl_resources(module_sim)
        assert len(want) >= 30
        # A resource repeating a built-in under another group (events.k8s.io, metrics.k8s.io) is shown by the
        # built-in row; every other one is a kind of ours, at the version kubectl uses.
        missing = [w for w in want if w not in ours and not shadowed(w[1], w[0])]
        assert not missing
        versions = {(k.plural, k.group): k.version for k in kinds}
        wide = module_sim.kubectl("api-resources", "--verbs=list", "--no-headers")
        for line in wide.splitlines():
            parts = line.split()
            plural, gv = parts[0], next(p for p in parts if "/" in p or p == "v1")
            group = gv.rsplit("/", 1)[0] if "/" in gv else ""
            if (plural, group) in versions:
                assert versions[(plural, group)] == gv.rsplit("/", 1)[-1], plural
    finally:
        module_sim.set_discovery("classic")


def test_aggregated_discovery_is_two_requests_for_kubectl(module_sim: SimProcess, tmp_path: Any) -> None:
    module_sim.set_discovery("aggregated")
    try:
        out = subprocess.run(["kubectl", "--kubeconfig", module_sim.kubeconfig, "--cache-dir", str(tmp_path), "-v=6",
                              "api-resources"], capture_output=True, text=True, timeout=60)
        gets = re.findall(r"GET https://\S+", out.stderr)
        assert out.returncode == 0 and len(gets) == 2, gets
        assert "backups" in out.stdout and "clusterpolicies" in out.stdout
    finally:
        module_sim.set_discovery("classic")


def test_tree_has_every_namespaced_kind_with_kubectls_objects(module_sim: SimProcess) -> None:
    tree = app(module_sim, "--print-tree", "--depth", "1", "--expand", "Namespaces/team-a")
    lines = tree.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().split("\t")[0] == "team-a")
    depth = len(lines[start]) - len(lines[start].lstrip(" "))
    sub: list[tuple[int, str]] = []
    for ln in lines[start + 1:]:
        d = len(ln) - len(ln.lstrip(" "))
        if d <= depth or ln.startswith("#"):
            break
        sub.append((d, ln.strip().split("\t")[0]))
    labels = {re.sub(r"\s*\(\d+\)$", "", label).replace(" ", "").lower() for _d, label in sub}
    for plural, group in kubectl_resources(module_sim, "--namespaced=true"):
        assert plural in labels, f"{plural}.{group} has no folder under team-a"
    # Each list holds kubectl's objects (kinds new in this tree, a custom resource among them).
    for label, resource in (("Roles", "roles"), ("Endpoints", "endpoints"), ("backups", "backups"),
                            ("ServiceAccounts", "serviceaccounts"), ("Leases", "leases")):
        i = next(n for n, (_d, lab) in enumerate(sub) if re.sub(r"\s*\(\d+\)$", "", lab) == label)
        d0 = sub[i][0]
        names = []
        for d, lab in sub[i + 1:]:
            if d <= d0:
                break
            if d == d0 + 2:
                names.append(lab)
        want = module_sim.kubectl("get", resource, "-n", "team-a", "-o", "name").split()
        assert sorted(names) == sorted(w.split("/", 1)[1] for w in want), label
        assert sub[i][1].endswith(f"({len(want)})")


def test_custom_resource_columns_are_kubectls(module_sim: SimProcess) -> None:
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.rows import ListRef
    from kube9_desktop.kube.service import KubeService

    async def rows() -> list[Any]:
        svc = KubeService(load_kubeconfig(module_sim.kubeconfig))
        try:
            await svc.discover("sim-admin")
            return await svc.list_all(ListRef("sim-admin", "backups.stable.example.com", "team-a"))
        finally:
            await svc.aclose()

    got = asyncio.run(rows())
    table = module_sim.kubectl("get", "backups", "-n", "team-a").splitlines()
    header = re.split(r"\s{2,}", table[0].strip())
    assert header == ["NAME", "SCHEDULE", "PHASE", "RETENTION", "AGE"]
    by_name = {r.name: r for r in got}
    assert len(by_name) == len(table) - 1
    for line in table[1:]:
        # Cells are found by the header's offsets (a missing Phase is a blank in kubectl's table).
        starts = [table[0].index(h) for h in header]
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        row = by_name[cells[0]]
        assert [h.upper() for h in row.cells][:4] == header[:4]
        assert str(row.cells["Schedule"]) == cells[1]
        assert (row.cells["Phase"] or "") == cells[2].replace("<none>", "")
        assert str(row.cells["Retention"]) == cells[3]


def test_kubectl_gets_every_new_kind(module_sim: SimProcess) -> None:
    for resource in ("sa", "ep", "endpointslices", "quota", "limits", "roles", "rolebindings", "netpol", "hpa",
                     "leases", "backups", "backups.v1beta1.stable.example.com", "widgets"):
        out = module_sim.kubectl("get", resource, "-n", "team-a")
        assert out.splitlines()[0].startswith("NAME"), resource
        assert len(out.splitlines()) > 1, resource
    for resource in ("clusterroles", "clusterrolebindings", "ingressclasses", "priorityclasses", "clusterpolicies"):
        assert len(module_sim.kubectl("get", resource).splitlines()) > 1, resource


def test_quick_open_finds_a_pod_by_a_fragment_with_its_tree_path(module_sim: SimProcess) -> None:
    pods = [p.split("/", 1)[1] for p in module_sim.kubectl("get", "pods", "-n", "team-a", "-o", "name").split()]
    pod = pods[len(pods) // 2]
    out = app(module_sim, "--run", f"open {pod[:-3]}").splitlines()
    name, path = out[0].split("\t")
    assert name == pod
    assert path == f"Namespaces/team-a/Workloads/Pods/{pod}"
    # The path is one the tree has: print-tree expands it.
    tree = app(module_sim, "--print-tree", "--depth", "1", "--expand", path)
    assert any(ln.strip().split("\t")[0] == pod for ln in tree.splitlines())


def test_quick_index_ranks_prefix_then_word_then_substring_then_letters_in_order() -> None:
    names = ["xweb-1", "web-2", "my-web", "backend-9", "backup-db", "frontend-a"]
    idx = QuickIndex(Entry(n, "ns", "pods", ("Namespaces", "ns", "Workloads", "Pods", n)) for n in names)
    assert [e.name for e in idx.search("web")] == ["web-2", "my-web", "xweb-1"]
    assert [e.name for e in idx.search("frntnd")] == ["frontend-a"]
    assert idx.search("bckp")[0].name == "backup-db"
    assert idx.search("zzz") == [] and idx.search("  ") == []


def test_tree_paths_follow_the_folders() -> None:
    assert tree_path(KINDS["pods"], "team-a", "p") == ("Namespaces", "team-a", "Workloads", "Pods", "p")
    assert tree_path(KINDS["clusterroles"], None, "admin") == ("Cluster resources", "Access control",
                                                               "ClusterRoles", "admin")
    assert tree_path(KINDS["nodes"], None, "n1") == ("Nodes", "n1")
    assert tree_path(KINDS["events"], "team-a", "e") == ("Namespaces", "team-a", "Events", "e")
    assert KINDS["leases"].category is Category.OTHER


def test_typing_on_gives_what_a_fresh_search_gives() -> None:
    import random
    import string

    rng = random.Random(3)
    names = [f"{rng.choice(['api', 'web', 'frontend'])}-{''.join(rng.choices(string.ascii_lowercase, k=8))}"
             for _ in range(3000)]
    typing = QuickIndex(Entry(n, "ns", "pods", ("P", n)) for n in names)
    for word in ("frntxd", "wbqz", "apizz", names[5][:3] + names[5][4:]):
        for k in range(1, len(word) + 1):
            fresh = QuickIndex(Entry(n, "ns", "pods", ("P", n)) for n in names)
            assert [e.name for e in typing.search(word[:k])] == [e.name for e in fresh.search(word[:k])], word[:k]


def test_print_tree_shows_a_custom_resources_printer_columns(module_sim: SimProcess) -> None:
    path = "Namespaces/team-a/Custom resources/stable.example.com/backups"
    tree = app(module_sim, "--print-tree", "--depth", "1", "--expand", path)
    shown = {}
    for ln in tree.splitlines():
        label, _, status = ln.strip().partition("\t")
        if label.startswith("backup-"):
            shown[label] = status
    table = module_sim.kubectl("get", "backups", "-n", "team-a").splitlines()
    header = re.split(r"\s{2,}", table[0].strip())
    starts = [table[0].index(h) for h in header]
    want = {}
    for line in table[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        want[cells[0]] = " · ".join(c for c in cells[1:-1] if c and c != "<none>")  # without Name and Age
    assert shown == want
