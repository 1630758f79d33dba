"""kube9-sim's APIService objects (kubectl as referee) and the metrics reason naming the APIService's condition."""

from __future__ import annotations

import json
from typing import Any

from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.metrics import MetricsTracker, Unavailable
from kube9_desktop.kube.overview import gather
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

MISSING = 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'


def _available(kubectl: Any) -> dict[str, Any]:
    out = kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o", "json")
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    conds = [c for c in doc["status"]["conditions"] if c["type"] == "Available"]
    assert len(conds) == 1
    return conds[0]


def test_kubectl_lists_local_and_metrics_apiservices(kubectl: Any) -> None:
    out = kubectl("get", "apiservices")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {c[0]: c[1:] for c in (line.split() for line in lines[1:])}
    assert rows["v1."][:2] == ["Local", "True"]
    assert rows["v1.apps"][:2] == ["Local", "True"]
    assert rows["v1.apiregistration.k8s.io"][:2] == ["Local", "True"]
    assert rows["v1beta1.metrics.k8s.io"][:2] == ["kube-system/metrics-server", "True"]
    res = kubectl("api-resources", "--api-group", "apiregistration.k8s.io")
    assert res.returncode == 0 and "apiservices" in res.stdout and "APIService" in res.stdout
    cond = _available(kubectl)
    assert (cond["status"], cond["reason"], cond["message"]) == ("True", "Passed", "all checks passed")


def test_unavailable_and_absent_follow_the_switch(kubectl: Any, metrics_mode: Any) -> None:
    metrics_mode("unavailable")
    cond = _available(kubectl)
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "MissingEndpoints", MISSING)
    row = [line for line in kubectl("get", "apiservices").stdout.splitlines() if "metrics" in line]
    assert "False (MissingEndpoints)" in row[0]
    metrics_mode("absent")
    out = kubectl("get", "apiservice", "v1beta1.metrics.k8s.io")
    assert out.returncode != 0 and "NotFound" in out.stderr
    metrics_mode("available")
    assert _available(kubectl)["status"] == "True"


def test_the_unavailable_reason_names_the_apiservice_condition(hsim: SimProcess, hclient: ContextClient,
                                                               hservice: KubeService, metrics_mode: Any) -> None:
    metrics_mode("unavailable")
    got = MetricsTracker(hclient).poll()
    assert isinstance(got, Unavailable) and got.status == 503
    assert "v1beta1.metrics.k8s.io" in got.reason and "MissingEndpoints" in got.reason and MISSING in got.reason
    ov = gather(hservice, "sim-admin")
    assert ov.metrics is not None and MISSING in ov.metrics.reason
    # Absent: no APIService to ask about, the reason says metrics-server is not installed.
    metrics_mode("absent")
    gone = MetricsTracker(hclient).poll()
    assert isinstance(gone, Unavailable) and gone.status == 404 and "not installed" in gone.reason


def test_a_diagnosis_names_the_apiservice_when_metrics_are_down(hclient: ContextClient, metrics_mode: Any) -> None:
    from kube9_desktop.kube import diagnose as dx
    from kube9_desktop.kube.diagnose.facts import gather as gather_facts

    metrics_mode("unavailable")
    d = dx.diagnose(gather_facts(hclient, "pods", "scenarios", "oom-worker"))
    evidence = [e for f in d.findings for e in f.evidence]
    assert any("metrics unavailable" in e and "MissingEndpoints" in e and MISSING in e for e in evidence), evidence
    metrics_mode("available")
    d = dx.diagnose(gather_facts(hclient, "pods", "scenarios", "oom-worker"))
    assert not any("metrics unavailable" in e for f in d.findings for e in f.evidence)


def test_the_official_client_reads_the_apiservices(hsim: SimProcess, metrics_mode: Any) -> None:
    from kubernetes import client, config

    api = client.ApiregistrationV1Api(config.new_client_from_config(config_file=hsim.kubeconfig,
                                                                    context="sim-admin"))
    try:
        items = {s.metadata.name: s for s in api.list_api_service().items}
        assert items["v1.apps"].spec.group == "apps" and items["v1.apps"].spec.service is None
        metrics_mode("unavailable")
        svc = api.read_api_service("v1beta1.metrics.k8s.io")
        assert svc.spec.service.namespace == "kube-system" and svc.spec.service.name == "metrics-server"
        cond = svc.status.conditions[0]
        assert (cond.type, cond.status, cond.reason, cond.message) == ("Available", "False", "MissingEndpoints",
                                                                        MISSING)
    finally:
        api.api_client.close()
