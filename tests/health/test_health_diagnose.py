"""Every diagnose rule, on recorded objects (replayed, no server) and on the sim's live scenario."""

from __future__ import annotations

from typing import Any

import pytest
from health_recorded import recorded

from kube9_desktop.kube.client import ContextClient
from kube9_desktop.kube.diagnose import RULES, Facts, diagnose, format_text
from kube9_desktop.kube.diagnose.facts import gather
from kube9_desktop.kube.events import event_rows
from kube9_desktop.kube.metrics import Usage
from kube9_desktop.kube.overview import Ref

#: scenario → (rule that must fire, words the summary or evidence must hold)
EXPECTED: dict[str, tuple[str, list[str]]] = {
    "crashy-api": ("crash-loop", ["exit code 1", "previous log"]),
    "oom-worker": ("crash-loop", ["OOMKilled", "memory limit 128Mi"]),
    "image-typo": ("image-pull", ["nginx:1.199", "does not exist"]),
    "private-image": ("image-pull", ["credentials", "pull access denied"]),
    "registry-down": ("image-pull", ["cannot reach the registry", "no such host"]),
    "too-big": ("unschedulable", ["enough free memory", "taint", "memory 200Gi"]),
    "wrong-selector": ("unschedulable", ["node selector", "disktype=nvme"]),
    "tainted-only": ("unschedulable", ["taint {dedicated: gpu}"]),
    "unbound-claim": ("unschedulable", ["not bound", "claim data-unbound: Pending"]),
    "not-ready": ("readiness", ["readiness probe", "statuscode: 503", "/healthz"]),
    "init-stuck": ("init-failing", ["migrate", "exit code 2"]),
    "evicted-report": ("evicted", ["low on memory", "exceeds its request"]),
    "quota-app": ("failed-create", ["quota compute-quota", "requests.memory=4Gi"]),
    "stuck-rollout": ("progress-deadline", ["timed out progressing"]),
}


def replay(name: str) -> Facts:
    """Facts from a recording, as :func:`gather` would have built them then."""
    rec = recorded(name)
    md = rec["obj"]["metadata"]
    f = Facts(Ref(rec["kind"], md["namespace"], md["name"]), rec["obj"], now=rec["now"])
    f.events = event_rows(rec["events"])
    f.previous_logs = rec.get("previous_logs", {})
    f.pvcs = rec.get("pvcs", {})
    f.replicasets = rec.get("replicasets", [])
    f.rs_events = event_rows(rec.get("rs_events", []))
    return f


def _text(findings: list[Any]) -> str:
    return "\n".join(f"{x.summary}\n" + "\n".join(x.evidence) for x in findings)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_on_recorded_objects(name: str) -> None:
    rule, words = EXPECTED[name]
    d = diagnose(replay(name))
    ids = [f.rule for f in d.findings]
    assert rule in ids, (name, ids)
    found = [f for f in d.findings if f.rule == rule]
    for w in words:
        assert w in _text(found), (name, w, _text(found))
    assert all(f.next_steps for f in d.findings)  # every finding says what to check next


def test_each_rule_is_covered() -> None:
    fired = {diagnose(replay(n)).findings[0].rule for n in EXPECTED}
    families = {"crash-loop": "crash-loop", "image-pull": "image-pull", "unschedulable": "unschedulable",
                "init-failing": "init-failing", "readiness": "readiness", "evicted": "evicted",
                "deployment-stuck": "failed-create"}
    for rule in RULES:
        assert families[rule.id] in fired or rule.id in fired, rule.id


def test_oom_compares_usage_with_the_limit() -> None:
    f = replay("oom-worker")
    f.usage = {"main": Usage(20, 120 * 2**20)}
    text = _text(diagnose(f).findings)
    assert "memory in use now 120Mi (94% of the limit)" in text


def test_healthy_pod_has_no_finding() -> None:
    f = replay("not-ready")
    obj = f.obj
    for cs in obj["status"]["containerStatuses"]:
        cs["ready"] = True
    obj["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    f.events = []
    d = diagnose(f)
    assert d.healthy and "No problem found" in format_text(d)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_on_the_sim_scenario(hclient: ContextClient, name: str) -> None:
    rule, words = EXPECTED[name]
    kind = "deployments" if name in ("quota-app", "stuck-rollout") else "pods"
    d = diagnose(gather(hclient, kind, "scenarios", name))
    assert rule in [f.rule for f in d.findings]
    for w in words:
        assert w in _text([f for f in d.findings if f.rule == rule])
    if name == "crashy-api":
        crash = next(f for f in d.findings if f.rule == "crash-loop")
        assert crash.log and "main.go" in "\n".join(crash.log)  # the previous run's last lines, read live
    if name == "stuck-rollout":
        # The stuck rollout's own pod is diagnosed too.
        assert any(f.rule == "crash-loop" and f.ref.kind == "pods" for f in d.findings)
