"""kube/metrics.py: quantities, percentages, and the metrics API present / 404 / 503 / 403 against the sim."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.client import ContextClient, make_client
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.metrics import (
    MetricsTracker,
    Resources,
    Sample,
    Unavailable,
    Usage,
    cpu_millicores,
    format_cpu,
    format_memory,
    level,
    memory_bytes,
    pod_resources,
    pod_specs,
    usage_cells,
)
from kube9_desktop.sim.process import SimProcess


@pytest.mark.parametrize("q, milli", [("250m", 250), ("1", 1000), ("1.5", 1500), ("123456789n", 123.456789),
                                      ("500u", 0.5), ("2k", 2_000_000)])
def test_cpu_quantities(q: str, milli: float) -> None:
    assert cpu_millicores(q) == pytest.approx(milli)


@pytest.mark.parametrize("q, b", [("512Mi", 512 * 2**20), ("1Gi", 2**30), ("1G", 1e9), ("128974848", 128974848),
                                  ("1843200Ki", 1843200 * 1024), ("1.5Gi", 1.5 * 2**30)])
def test_memory_quantities(q: str, b: float) -> None:
    assert memory_bytes(q) == pytest.approx(b)


def test_formatting_and_levels() -> None:
    assert format_cpu(250.4) == "250m" and format_cpu(12500) == "12.5"
    assert format_memory(512 * 2**20) == "512Mi" and format_memory(1.25 * 2**30) == "1.2Gi"
    assert [level(p) for p in (None, 10, 80, 94.9, 95, 130)] == [0, 0, 1, 1, 2, 2]
    assert usage_cells(Usage(250, 512 * 2**20), 1000, 1024 * 2**20) == ("250m 25%", "512Mi 50%", 25.0, 50.0)
    assert usage_cells(Usage(250, 512 * 2**20), 0, 0)[:2] == ("250m", "512Mi")


def test_pod_resources_sum_containers_and_a_missing_limit_means_none() -> None:
    pod = {"spec": {"containers": [
        {"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}},
        {"resources": {"limits": {"cpu": "1", "memory": "256Mi"}}},  # request defaults to the limit
    ]}}
    assert pod_resources(pod) == Resources(1100, 320 * 2**20, 0.0, 384 * 2**20)


def _client(sim: SimProcess, context: str = "sim-admin") -> ContextClient:
    return make_client(load_kubeconfig(sim.kubeconfig), context, KubeOptions())


def _metric_requests(sim: SimProcess) -> int:
    return sum(n for p, n in sim.stats()["by_path"].items() if p.startswith("/apis/metrics.k8s.io"))


def test_pod_specs_read_page_by_page_match_the_whole_pods(hsim: SimProcess) -> None:
    """The usage columns' requests and limits, decoded narrow a page at a time, are the whole pods' figures, for
    every pod of the namespace (pages of 4: the continue tokens followed to the end)."""
    whole = {("scenarios", p["metadata"]["name"]): pod_resources(p)
             for p in hsim.request("GET", "/api/v1/namespaces/scenarios/pods")["items"]}
    c = _client(hsim)
    try:
        got = pod_specs(c, "scenarios", page_size=4)
    finally:
        c.close()
    assert len(whole) > 8 and got == whole
    assert any(r.cpu_request for r in got.values()) and any(r.memory_limit for r in got.values())


def test_history_keeps_the_horizon_untracked_and_forgets_objects_gone() -> None:
    """Each object's samples within the horizon, oldest first; an object absent for the whole horizon is forgotten;
    the history is no object the collector walks (a 10,000-pod namespace's poll added ~30,000 before)."""
    import gc
    from typing import cast

    tracker = MetricsTracker(cast(ContextClient, None), history_s=100.0)  # no poll: samples recorded directly
    for at, pods in ((0.0, {("a", "x"): 1 + 10j, ("a", "y"): 5 + 50j}),
                     (50.0, {("a", "x"): 2 + 20j}),
                     (120.0, {("a", "x"): 3 + 30j})):
        tracker._record(Sample(at, pods=pods))
    assert tracker.series("pods", "a", "x") == [(50.0, Usage(2.0, 20.0)), (120.0, Usage(3.0, 30.0))]
    assert tracker.series("pods", "a", "y") == [] and ("a", "y") not in tracker.history["pods"]
    assert not any(gc.is_tracked(ring) for rings in tracker.history.values() for ring in rings.values())


def test_present_gives_a_sample_and_history(hsim: SimProcess) -> None:
    c = _client(hsim)
    try:
        tracker = MetricsTracker(c)
        got = tracker.poll()
        assert isinstance(got, Sample)
        assert set(got.nodes) == {n["metadata"]["name"] for n in hsim.request("GET", "/api/v1/nodes")["items"]}
        assert ("scenarios", "not-ready") in got.pods
        assert tracker.series("nodes", None, "node-1")[-1][1] == got.nodes["node-1"]
        assert tracker.poll() is got  # not due again within the 15 s window: no request
        assert got.containers[("scenarios", "not-ready")]  # kept by default
        lean = MetricsTracker(c, containers=False).poll()  # the window's: no container's usage kept
        assert isinstance(lean, Sample) and lean.containers == {} and set(lean.pods) == set(got.pods)
    finally:
        c.close()


def test_a_poll_keeps_the_last_samples_pod_keys(hsim: SimProcess) -> None:
    """A poll repeating every 15 s made a new key per pod, one more object each for the cyclic collector (10,000 a
    poll of a 10,000-pod namespace); a pod read again keeps its key object from the sample before."""
    c = _client(hsim)
    try:
        tracker = MetricsTracker(c, containers=False)
        first = tracker.poll()
        assert isinstance(first, Sample) and len(first.pods) > 10
        keys = {k: k for k in first.pods}
        again = tracker.poll(force=True)
        assert isinstance(again, Sample) and again is not first and set(again.pods) == set(keys)
        assert all(k is keys[k] for k in again.pods)
        # A pod's usage is a number, which the collector never tracks (a Usage per pod was, until the next poll).
        assert isinstance(again.pods[next(iter(keys))], complex) and not any(map(gc.is_tracked, again.pods.values()))
        assert all(k is keys[k] for k in tracker.history["pods"])  # the history's keys are the samples' too
        specs = pod_specs(c, "scenarios", keys=keys)  # the window's pods' requests/limits: on the same keys
        assert specs and all(k is keys[k] for k in specs if k in keys) and any(k in keys for k in specs)
    finally:
        c.close()


@pytest.mark.parametrize("mode, status, words", [("absent", 404, "not installed"),
                                                 ("unavailable", 503, "not answering")])
def test_missing_api_is_one_reason_and_no_storm(hsim: SimProcess, metrics_mode: Any, mode: str, status: int,
                                                words: str) -> None:
    metrics_mode(mode)
    c = _client(hsim)
    try:
        tracker = MetricsTracker(c)
        hsim.reset_stats()
        got = tracker.poll()
        assert isinstance(got, Unavailable) and got.status == status and words in got.reason
        for _ in range(5):  # a refresh loop ticking: the reason is kept, the server is not asked again
            assert tracker.poll() == got
        assert _metric_requests(hsim) == 1  # one request, never retried
    finally:
        c.close()


def test_forbidden_is_a_reason(hsim: SimProcess) -> None:
    c = _client(hsim, "sim-viewer")
    try:
        got = MetricsTracker(c).poll()
        assert isinstance(got, Unavailable) and got.status == 403 and "may not" in got.reason
    finally:
        c.close()


def test_a_poll_reads_the_pods_of_the_namespaces_asked(hsim: SimProcess) -> None:
    """A window showing one namespace reads that namespace's pods' metrics, not the cluster's; a sample that did not
    read a namespace now asked for is not reused."""
    c = _client(hsim)
    try:
        tracker = MetricsTracker(c)
        got = tracker.poll(namespaces=frozenset({"scenarios"}))
        assert isinstance(got, Sample) and got.pods
        assert {ns for ns, _ in got.pods} == {"scenarios"}
        assert got.nodes  # the nodes' figures are read whatever the scope
        assert tracker.poll(namespaces=frozenset({"scenarios"})) is got  # covered and recent: no request
        wider = tracker.poll(namespaces=frozenset({"scenarios", "default"}))
        assert wider is not got and isinstance(wider, Sample)
        assert {ns for ns, _ in wider.pods} == {"scenarios", "default"}
        everything = tracker.poll(namespaces=None)
        assert everything is not wider and isinstance(everything, Sample) and everything.scope is None
        assert tracker.poll(namespaces=frozenset({"kube-system"})) is everything  # all namespaces cover any
    finally:
        c.close()
