"""kube9-sim's metrics.k8s.io: discovery, nodes and pods, the availability switch and RBAC, refereed by kubectl top
and the official Python client."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from kube9_desktop.sim.metrics import MetricsState, cpu_milli
from kube9_desktop.sim.process import SimProcess


def _names(out: str) -> set[str]:
    return {line.split()[0] for line in out.splitlines()[1:] if line.strip()}


def test_kubectl_top_nodes_lists_every_node_with_percentages(hsim: SimProcess, kubectl: Any) -> None:
    top = kubectl("top", "nodes")
    assert top.returncode == 0, top.stderr
    assert _names(top.stdout) == _names(kubectl("get", "nodes").stdout)
    for line in top.stdout.splitlines()[1:]:
        _name, cpu, cpu_pct, mem, mem_pct = line.split()
        assert cpu.endswith("m") and mem.endswith("Mi")
        assert 0 < int(cpu_pct.rstrip("%")) <= 100 and 0 < int(mem_pct.rstrip("%")) <= 100


def test_kubectl_top_pods_reports_the_running_pods(hsim: SimProcess, kubectl: Any) -> None:
    top = kubectl("top", "pods", "-n", "team-a")
    assert top.returncode == 0, top.stderr
    running = kubectl("get", "pods", "-n", "team-a", "--field-selector", "status.phase=Running", "-o", "name")
    running_names = {n.split("/", 1)[1] for n in running.stdout.split()}
    # metrics-server reports pods with a running container: every reported pod runs, and most running pods report.
    assert _names(top.stdout) <= running_names
    assert len(_names(top.stdout)) >= len(running_names) * 0.8


def test_python_client_reads_pod_metrics(hsim: SimProcess) -> None:
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(hsim.kubeconfig, context="sim-admin"))
    doc = api.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "scenarios", "pods")
    names = {i["metadata"]["name"] for i in doc["items"]}
    assert "not-ready" in names  # running (not ready) pods have usage
    assert "too-big" not in names and "image-typo" not in names  # never started: nothing to measure
    one = api.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "scenarios", "pods", "not-ready")
    assert one["kind"] == "PodMetrics" and one["containers"][0]["name"] == "main"


def test_unavailable_is_a_503_and_absent_a_404(hsim: SimProcess, kubectl: Any, metrics_mode: Any) -> None:
    metrics_mode("unavailable")
    top = kubectl("top", "nodes")
    assert top.returncode != 0 and "ServiceUnavailable" in top.stderr
    groups = {g["name"] for g in hsim.request("GET", "/apis")["groups"]}
    assert "metrics.k8s.io" in groups  # still registered
    metrics_mode("absent")
    top = kubectl("top", "pods")
    assert top.returncode != 0 and "Metrics API not available" in top.stderr
    assert "metrics.k8s.io" not in {g["name"] for g in hsim.request("GET", "/apis")["groups"]}
    metrics_mode("available")
    assert kubectl("top", "nodes").returncode == 0


def test_viewer_is_forbidden(hsim: SimProcess, kubectl: Any) -> None:
    top = kubectl("top", "pods", context="sim-viewer")
    assert top.returncode != 0
    assert 'cannot list resource "pods" in API group "metrics.k8s.io"' in top.stderr


def test_usage_is_deterministic_within_a_window_and_moves_over_time() -> None:
    a = MetricsState.container_usage("uid-1", "main", 50, 64 * 2**20, 512 * 2**20, 1_000_000.0)
    b = MetricsState.container_usage("uid-1", "main", 50, 64 * 2**20, 512 * 2**20, 1_000_000.0)
    c = MetricsState.container_usage("uid-1", "main", 50, 64 * 2**20, 512 * 2**20, 1_000_075.0)
    assert a == b and a != c
    assert MetricsState.window(1_500_007.0) == MetricsState.window(1_500_014.9) != MetricsState.window(1_500_015.0)


def test_some_containers_run_near_their_memory_limit(hsim: SimProcess) -> None:
    doc = hsim.request("GET", "/apis/metrics.k8s.io/v1beta1/pods")
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p
            for p in hsim.request("GET", "/api/v1/pods")["items"]}
    near = 0
    for item in doc["items"]:
        pod = pods[(item["metadata"]["namespace"], item["metadata"]["name"])]
        limit = pod["spec"]["containers"][0].get("resources", {}).get("limits", {}).get("memory")
        used = int(item["containers"][0]["usage"]["memory"].rstrip("Ki")) * 1024
        if limit == "512Mi" and used > 0.85 * 512 * 2**20:
            near += 1
    assert near >= 3


@pytest.mark.parametrize("q, milli", [("250m", 250), ("2", 2000), ("1500000n", 1.5)])
def test_sim_cpu_quantities(q: str, milli: float) -> None:
    assert cpu_milli(q) == milli


def _cpu_nano(q: str) -> int:
    assert q.endswith("n"), q
    return int(q[:-1])


def test_node_metrics_are_summed_once_per_window_and_follow_a_change_at_once() -> None:
    """NodeMetrics come from one sum per (sample window, store revision), as metrics-server answers from what it
    scraped; a pod deleted within the window leaves its node's figure at the next read, not at the next window."""
    with SimProcess.start("--pods", "24", "--namespaces", "2", "--nodes", "2", "--seed", "5") as sim:
        api_client = k8s_config.new_client_from_config(sim.kubeconfig, context="sim-admin")
        metrics, core = k8s.CustomObjectsApi(api_client), k8s.CoreV1Api(api_client)
        for _ in range(5):  # a window boundary between the reads moves every figure: try again in the next one
            before = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
            again = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
            pods = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
            victim = pods["items"][0]
            ns, name = victim["metadata"]["namespace"], victim["metadata"]["name"]
            node = core.read_namespaced_pod(name, ns).spec.node_name
            core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
            after = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
            if {i["timestamp"] for i in before["items"] + after["items"] + pods["items"]} == \
                    {before["items"][0]["timestamp"]}:
                break
        else:
            pytest.fail("five sample windows in a row turned between two reads")
        assert again["items"] == before["items"]  # the same sum, read twice
        usage = {i["metadata"]["name"]: _cpu_nano(i["usage"]["cpu"]) for i in before["items"]}
        later = {i["metadata"]["name"]: _cpu_nano(i["usage"]["cpu"]) for i in after["items"]}
        # Its ReplicaSet may start a replacement at once, on any node: the victim's node moved, whatever else did.
        assert node in usage and later[node] != usage[node]
