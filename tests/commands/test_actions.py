"""The write commands end to end: the registry's runner, the real data layer, kube9-sim over sockets, and the real
kubectl as the referee of what each command did."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.commands import load_all
from kube9_desktop.commands.registry import Result
from kube9_desktop.commands.runner import run_line
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess

KUBECTL = shutil.which("kubectl") or shutil.which("kubectl", path="/usr/bin")


#: A sim of this module's own (``module_sim``): these tests write.
SIM_ARGS = ("--pods", "150", "--namespaces", "4", "--nodes", "3")


@pytest.fixture
async def svc(module_sim: SimProcess) -> AsyncIterator[KubeService]:
    s = KubeService(load_kubeconfig(module_sim.kubeconfig), KubeOptions(), kubeconfig_path=module_sim.kubeconfig)
    try:
        yield s
    finally:
        await s.aclose()


class Port:
    """A user who answers every question ``answer`` and whose screen is a list."""

    def __init__(self, answer: bool = True, interactive: bool = False, number: int | None = None) -> None:
        self.answer = answer
        self.interactive = interactive
        self.number = number
        self.questions: list[tuple[str, str | None]] = []
        self.told: list[str] = []
        self.views: list[tuple[str, Any]] = []

    async def confirm(self, question: str, *, destructive: bool = True, type_to_confirm: str | None = None,
                      **_options: Any) -> bool:
        self.questions.append((question, type_to_confirm))
        return self.answer

    async def ask_int(self, question: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        self.questions.append((f"{question} [{default}]", None))
        return self.number if self.number is not None else default

    def tell(self, text: str) -> None:
        self.told.append(text)

    def open_view(self, view: str, payload: Any) -> bool:
        self.views.append((view, payload))
        return False


async def run(svc: KubeService, line: str, port: Port | None = None, context: str = "sim-admin") -> Result:
    load_all()
    return await run_line(line, service=svc, context=context, ui=port or Port(), access=svc.access)


def kc(sim: SimProcess, *args: str, check: bool = True, stdin: str | None = None) -> str:
    assert KUBECTL is not None, "kubectl is the referee of these tests and must be installed"
    r = subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", *args],
                       capture_output=True, text=True, timeout=60, input=stdin)
    if check:
        assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
    return r.stdout if r.returncode == 0 else r.stderr


def jp(sim: SimProcess, what: str, path: str, ns: str | None = "team-a") -> Any:
    args = ["get", what, "-o", f"jsonpath={path}"] + (["-n", ns] if ns else [])
    return kc(sim, *args)


def deployment(sim: SimProcess, ns: str = "team-a") -> str:
    items = json.loads(kc(sim, "get", "deploy", "-n", ns, "-o", "json"))["items"]
    return str(next(d for d in items if d["spec"]["replicas"] >= 2)["metadata"]["name"])


def live_pods(sim: SimProcess, selector: str, ns: str = "team-a") -> list[dict[str, Any]]:
    items = json.loads(kc(sim, "get", "pods", "-n", ns, "-l", selector, "-o", "json"))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def wait(pred: Any, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return bool(pred())


async def test_scale_through_the_subresource(module_sim: SimProcess, svc: KubeService) -> None:
    dep = deployment(module_sim)
    r = await run(svc, f"scale team-a/deploy/{dep} 4")
    assert r.ok, r.message
    assert r.kubectl == f"kubectl scale deployments.apps/{dep} --replicas=4 -n team-a --context sim-admin"
    assert jp(module_sim, f"deploy/{dep}", "{.spec.replicas}") == "4"
    assert wait(lambda: len(live_pods(module_sim, f"app={dep}")) == 4)
    # No number: the window asks, prefilled with the current replicas; headless it is a usage error.
    port = Port(interactive=True, number=2)
    assert (await run(svc, f"scale team-a/deploy/{dep}", port)).ok
    assert port.questions[0][0].endswith("[4]") and jp(module_sim, f"deploy/{dep}", "{.spec.replicas}") == "2"
    assert wait(lambda: len(live_pods(module_sim, f"app={dep}")) == 2)  # the controllers remove pods too
    r = await run(svc, f"scale team-a/deploy/{dep}")
    assert not r.ok and r.exit_code == 2 and "number of replicas (now 2)" in r.message
    r = await run(svc, f"scale team-a/deploy/{dep} -- -1")
    assert not r.ok


async def test_a_write_whose_answer_never_comes_says_the_outcome_is_unknown(module_sim: SimProcess) -> None:
    """The user is told the write may or may not have been made and how the object is now; it is not sent twice."""
    path = "/api/v1/nodes/node-1"
    slow = KubeService(load_kubeconfig(module_sim.kubeconfig), KubeOptions(read_timeout=1.0),
                       kubeconfig_path=module_sim.kubeconfig)
    try:
        module_sim.reset_stats()
        # The PATCH waits 2 s, past the 1 s read timeout, and is then applied; the re-read after it is not delayed.
        module_sim.set_faults([{"path": f"^{path}$", "latency_ms": 2000, "count": 1}])
        r = await run(slow, "cordon node/node-1")
    finally:
        module_sim.clear_faults()
        await slow.aclose()
    assert not r.ok
    assert r.message.startswith("Could not cordon:\nnode node-1: The server did not answer the patch of node node-1 "
                                "in time: it may or may not have been applied. Read again: it exists"), r.message
    assert module_sim.stats()["by_path"][path] == 2  # the PATCH once, the re-read once: never repeated
    assert wait(lambda: jp(module_sim, "node/node-1", "{.spec.unschedulable}", None) == "true")  # it was applied
    kc(module_sim, "uncordon", "node-1")


async def test_restart_is_kubectl_rollout_restart(module_sim: SimProcess, svc: KubeService) -> None:
    dep = deployment(module_sim)
    before = {p["metadata"]["name"] for p in live_pods(module_sim, f"app={dep}")}
    r = await run(svc, f"restart team-a/deployments/{dep}")
    assert r.ok and r.kubectl == f"kubectl rollout restart deployments.apps/{dep} -n team-a --context sim-admin"
    at = jp(module_sim, f"deploy/{dep}", r"{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}")
    assert at and at in r.message
    assert "successfully rolled out" in kc(module_sim, "rollout", "status", "-n", "team-a", f"deploy/{dep}",
                                           "--timeout=20s")
    assert not ({p["metadata"]["name"] for p in live_pods(module_sim, f"app={dep}")} & before)


async def test_delete_confirms_and_pods_terminate(module_sim: SimProcess, svc: KubeService) -> None:
    pods = [p["metadata"]["name"] for p in live_pods(module_sim, "app")][:2]
    refused = Port(answer=False)
    r = await run(svc, f"delete team-a/pod/{pods[0]} team-a/pod/{pods[1]}", refused)
    assert not r.ok and refused.questions[0][0] == "Delete 2 pods in team-a?"
    assert jp(module_sim, f"pod/{pods[0]}", "{.metadata.name}") == pods[0]
    port = Port()
    r = await run(svc, f"delete team-a/pod/{pods[0]} team-a/pod/{pods[1]}", port)
    assert r.ok and r.message == "Deleted 2 objects."
    assert r.kubectl == f"kubectl delete pods/{pods[0]} pods/{pods[1]} -n team-a --context sim-admin"
    assert port.told[0] == f"Deleted pod {pods[0]} in team-a (terminating, 30 s grace period)."
    assert wait(lambda: "NotFound" in kc(module_sim, "get", f"pod/{pods[0]}", "-n", "team-a", check=False))


async def test_force_delete_of_a_pod_stuck_terminating(module_sim: SimProcess, svc: KubeService) -> None:
    pod = live_pods(module_sim, "app")[0]["metadata"]["name"]
    kc(module_sim, "annotate", "-n", "team-a", f"pod/{pod}", "sim.kube9.io/stuck-terminating=true")
    assert (await run(svc, f"delete team-a/pod/{pod}")).ok
    time.sleep(1.5)
    assert jp(module_sim, f"pod/{pod}", "{.metadata.deletionTimestamp}")
    r = await run(svc, f"delete team-a/pod/{pod} --force")
    assert r.ok and r.kubectl == f"kubectl delete pods/{pod} --grace-period=0 --force -n team-a --context sim-admin"
    assert "NotFound" in kc(module_sim, "get", f"pod/{pod}", "-n", "team-a", check=False)
    # The same as a command of its own (the window's menus and palette, where Delete asks no options).
    pod = live_pods(module_sim, "app")[0]["metadata"]["name"]
    kc(module_sim, "annotate", "-n", "team-a", f"pod/{pod}", "sim.kube9.io/stuck-terminating=true")
    assert (await run(svc, f"delete team-a/pod/{pod}")).ok
    port = Port()
    r = await run(svc, f"force-delete team-a/pod/{pod}", port)
    assert r.ok and r.kubectl == f"kubectl delete pods/{pod} --grace-period=0 --force -n team-a --context sim-admin"
    assert port.questions == [(f"Force delete pod {pod} in team-a? It is removed at once, without waiting for the "
                               "containers to stop (they may keep running on the node for a while).", None)]
    assert "NotFound" in kc(module_sim, "get", f"pod/{pod}", "-n", "team-a", check=False)
    assert not (await run(svc, f"force-delete team-a/pod/{live_pods(module_sim, 'app')[0]['metadata']['name']}",
                          Port(answer=False))).ok


async def test_deleting_a_namespace_makes_the_user_type_its_name(module_sim: SimProcess, svc: KubeService) -> None:
    kc(module_sim, "create", "namespace", "doomed")
    kc(module_sim, "create", "configmap", "x", "-n", "doomed", "--from-literal=a=b")
    port = Port()
    r = await run(svc, "delete namespace/doomed", port)
    typed = ("Delete namespace doomed and everything in it? Type doomed to confirm.", "doomed")
    assert r.ok and port.questions == [typed]  # asked once: the name typed, no generic question before it
    assert wait(lambda: "NotFound" in kc(module_sim, "get", "namespace", "doomed", check=False))
    kc(module_sim, "create", "namespace", "kept")
    no = Port(answer=False)
    assert not (await run(svc, "delete namespace/kept", no)).ok
    assert kc(module_sim, "get", "namespace", "kept", "-o", "jsonpath={.status.phase}") == "Active"


async def test_cordon_uncordon_and_drain_with_a_disruption_budget(module_sim: SimProcess, svc: KubeService) -> None:
    r = await run(svc, "cordon node/node-3")
    assert r.ok and r.kubectl == "kubectl cordon node-3 --context sim-admin"
    assert jp(module_sim, "node/node-3", "{.spec.unschedulable}", None) == "true"
    assert (await run(svc, "uncordon node/node-3")).ok
    assert jp(module_sim, "node/node-3", "{.spec.unschedulable}", None) == ""
    pods = json.loads(kc(module_sim, "get", "pods", "-A", "--field-selector=spec.nodeName=node-2",
                         "-o", "json"))["items"]
    victim = next(p for p in pods if p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"
                  and p["status"]["phase"] == "Running")
    app, ns = victim["metadata"]["labels"]["app"], victim["metadata"]["namespace"]
    kc(module_sim, "apply", "--validate=false", "-f", "-", stdin=(
        f"apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: block\n  namespace: {ns}\n"
        f"spec:\n  minAvailable: '100%'\n  selector:\n    matchLabels:\n      app: {app}\n"))
    port = Port()
    r = await run(svc, "drain node/node-2 --timeout 3", port)
    assert not r.ok and "disruption budget" in r.message and "stays cordoned" in r.message
    assert any("blocked by its disruption budget" in t and "retrying in 1 s" in t for t in port.told)
    assert any(t.startswith("skipping ") and "DaemonSet pod" in t for t in port.told)
    assert jp(module_sim, "node/node-2", "{.spec.unschedulable}", None) == "true"
    kc(module_sim, "delete", "pdb/block", "-n", ns)
    r = await run(svc, "drain node/node-2 --timeout 30", Port())
    assert r.ok, r.message
    assert r.kubectl == ("kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data --timeout=30s "
                         "--context sim-admin")
    left = json.loads(kc(module_sim, "get", "pods", "-A", "--field-selector=spec.nodeName=node-2",
                         "-o", "json"))["items"]
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet" for p in left
               if not p["metadata"].get("deletionTimestamp"))
    kc(module_sim, "uncordon", "node-2")


async def test_drain_fails_while_evicted_pods_are_still_terminating_at_its_timeout(module_sim: SimProcess,
                                                                                     svc: KubeService) -> None:
    """As kubectl drain: a pod evicted but still on the node at the deadline means the node is not drained."""
    pods = json.loads(kc(module_sim, "get", "pods", "-A", "--field-selector=spec.nodeName=node-3",
                         "-o", "json"))["items"]
    stuck = next(p for p in pods if p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"
                 and not p["metadata"].get("deletionTimestamp"))
    ns, name = stuck["metadata"]["namespace"], stuck["metadata"]["name"]
    kc(module_sim, "annotate", "-n", ns, f"pod/{name}", "sim.kube9.io/stuck-terminating=true")
    r = await run(svc, "drain node/node-3 --timeout 3", Port())
    assert not r.ok, r.message
    assert r.message.startswith("Drain of node-3 incomplete: 1 of ") and f"\n{ns}/{name}" in r.message
    assert "still terminating after 3 s (the node stays cordoned)" in r.message
    assert jp(module_sim, f"pod/{name}", "{.metadata.deletionTimestamp}", ns)  # the referee: still Terminating
    kc(module_sim, "delete", "-n", ns, f"pod/{name}", "--grace-period=0", "--force")
    kc(module_sim, "uncordon", "node-3")


async def test_an_eviction_refused_with_retry_after_is_retried_in_view_after_that_pause(module_sim: SimProcess,
                                                                                        svc: KubeService) -> None:
    """Newer servers answer a budget's 429 with Retry-After: 10. The drain shows the wait and honours it; the data
    layer does not retry the eviction unseen in a worker thread (where Cancel cannot reach it)."""
    pods = json.loads(kc(module_sim, "get", "pods", "-A", "-o", "json"))["items"]
    # (Earlier tests drained nodes: their pods run elsewhere now. Any node with such a pod will do.)
    pod = next(p for p in pods if p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"
               and not p["metadata"].get("deletionTimestamp") and p["spec"].get("nodeName"))
    ns, name, node = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["spec"]["nodeName"]
    path = f"/api/v1/namespaces/{ns}/pods/{name}/eviction"
    module_sim.set_faults([{"path": f"^{path}$", "status": 429, "retry_after": 2, "count": 1}])
    module_sim.reset_stats()
    port = Port()
    try:
        r = await run(svc, f"drain node/{node} --timeout 30", port)
    finally:
        module_sim.clear_faults()
        kc(module_sim, "uncordon", node)
    assert r.ok, r.message
    mine = [t for t in port.told if t.startswith(f"pod/{name} ")]
    assert mine[0].startswith(f"pod/{name} ({ns}) blocked by its disruption budget (") and mine[0].endswith(
        "; retrying in 2 s"), mine  # the server's 2 s, not the first 1 s pause
    assert mine[1] == f"pod/{name} evicted ({ns})"
    assert module_sim.stats()["by_path"][path] == 2  # refused once, then evicted: no unseen retry in between


async def test_cronjob_suspend_resume_trigger(module_sim: SimProcess, svc: KubeService) -> None:
    r = await run(svc, "suspend team-a/cj/nightly-0")
    assert r.ok and jp(module_sim, "cronjob/nightly-0", "{.spec.suspend}") == "true"
    assert (await run(svc, "resume team-a/cronjob/nightly-0")).ok
    assert jp(module_sim, "cronjob/nightly-0", "{.spec.suspend}") == "false"
    r = await run(svc, "trigger team-a/cronjobs/nightly-0 manual-1")
    assert r.ok and r.kubectl == "kubectl create job manual-1 --from=cronjob/nightly-0 -n team-a --context sim-admin"
    job = json.loads(kc(module_sim, "get", "job", "manual-1", "-n", "team-a", "-o", "json"))
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert wait(lambda: jp(module_sim, "job/manual-1", "{.status.succeeded}") == "1")


async def test_apply_dry_run_first_conflicts_and_force(module_sim: SimProcess, svc: KubeService,
                                                       tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: team-a\ndata:\n  k: v\n"
                 "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied-2\ndata:\n  k: v\n")
    port = Port()
    r = await run(svc, f"apply {f} -n team-a", port)
    assert r.ok and r.message == "Applied 2 objects."
    assert port.told[:2] == ["dry run: configmaps team-a/applied: would be created",
                             "dry run: configmaps team-a/applied-2: would be created"]
    assert port.told[2] == "configmaps team-a/applied: created"
    assert jp(module_sim, "cm/applied-2", "{.data.k}") == "v"
    assert r.kubectl == (f"kubectl apply --server-side --field-manager=kube9-desktop -f {f} -n team-a "
                         "--context sim-admin")
    # Another manager takes the field; our apply conflicts and changes nothing until forced.
    kc(module_sim, "apply", "--server-side", "--validate=false", "--field-manager=other", "--force-conflicts",
       "-f", "-",
       stdin="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: team-a\ndata:\n  k: theirs\n")
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: team-a\ndata:\n  k: ours\n")
    port = Port()
    r = await run(svc, f"apply {f}", port)
    assert not r.ok and "--force-conflicts" in r.message
    assert any('.data.k: conflict with "other"' in t for t in port.told)
    assert jp(module_sim, "cm/applied", "{.data.k}") == "theirs"
    assert (await run(svc, f"apply {f} --force-conflicts")).ok
    assert jp(module_sim, "cm/applied", "{.data.k}") == "ours"


async def test_apply_invalid_shows_field_causes_with_lines(module_sim: SimProcess, svc: KubeService,
                                                           tmp_path: Path) -> None:
    # (A deployment no other test scaled: their Update of spec.replicas would conflict with this apply first.)
    dep = json.loads(kc(module_sim, "get", "deploy", deployment(module_sim, "team-b"), "-n", "team-b", "-o", "json"))
    f = tmp_path / "d.yaml"
    f.write_text(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {dep['metadata']['name']}\n"
                 "  namespace: team-b\nspec:\n  replicas: -1\n")
    port = Port()
    r = await run(svc, f"apply {f}", port)
    assert not r.ok and "Nothing applied" in r.message
    assert any("line 7 · spec.replicas: Invalid value: -1: must be greater than or equal to 0" in t
               for t in port.told), port.told


async def test_edit_prints_yaml_and_puts_it_back_with_its_resource_version(module_sim: SimProcess, svc: KubeService,
                                                                           tmp_path: Path) -> None:
    kc(module_sim, "create", "configmap", "edited", "-n", "team-a", "--from-literal=a=1")
    port = Port()
    r = await run(svc, "edit team-a/cm/edited", port)
    assert r.ok and port.views == [("edit", port.views[0][1])] and "resourceVersion:" in r.message
    assert r.kubectl == "kubectl edit configmaps/edited -n team-a --context sim-admin"
    f = tmp_path / "e.yaml"
    f.write_text(r.message.replace("a: '1'", "a: '2'").replace('a: "1"', 'a: "2"'))
    assert (await run(svc, f"edit team-a/cm/edited --from {f}")).ok
    assert jp(module_sim, "cm/edited", "{.data.a}") == "2"
    # The file still carries the old resourceVersion: a 409 that overwrites nothing and shows the change.
    kc(module_sim, "patch", "cm/edited", "-n", "team-a", "--type=merge", "-p", '{"data":{"a":"3"}}')
    r = await run(svc, f"edit team-a/cm/edited --from {f}")
    assert not r.ok and "changed on the server since you opened it" in r.message and "+  a: '3'" in r.message
    assert jp(module_sim, "cm/edited", "{.data.a}") == "3"


async def test_viewer_is_refused_every_write_with_its_reason(module_sim: SimProcess, svc: KubeService,
                                                             tmp_path: Path) -> None:
    dep = deployment(module_sim)
    pod = live_pods(module_sim, "app")[0]["metadata"]["name"]
    cases = {
        f"delete team-a/pod/{pod}": "You may not delete pods in team-a",
        f"force-delete team-a/pod/{pod}": "You may not delete pods in team-a",
        f"scale team-a/deploy/{dep} 3": "You may not patch deployments/scale in team-a",
        f"restart team-a/deploy/{dep}": "You may not patch deployments in team-a",
        f"edit team-a/deploy/{dep}": "You may not update deployments in team-a",
        "suspend team-a/cj/nightly-0": "You may not patch cronjobs in team-a",
        "trigger team-a/cj/nightly-0": "You may not create jobs in team-a",
        "cordon node/node-1": "You may not patch nodes",
        "drain node/node-1": "You may not create pods/eviction",
    }
    for line, reason in cases.items():
        r = await run(svc, line, context="sim-viewer")
        assert not r.ok and r.message == reason, (line, r.message)
    f = tmp_path / "v.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nope\n  namespace: team-a\n")
    port = Port()
    r = await run(svc, f"apply {f}", port, context="sim-viewer")
    assert not r.ok and any("You cannot patch configmaps in namespace team-a" in t for t in port.told)
    assert "NotFound" in kc(module_sim, "get", "cm", "nope", "-n", "team-a", check=False)
    # The answers are cached per context for 60 s: asking again sends no review.
    sent = svc.access.requests
    await run(svc, f"delete team-a/pod/{pod}", context="sim-viewer")
    assert svc.access.requests == sent


async def test_edit_masks_secret_values_and_keeps_them_when_saved(module_sim: SimProcess, svc: KubeService,
                                                                  tmp_path: Path) -> None:
    kc(module_sim, "create", "secret", "generic", "creds", "-n", "team-a", "--from-literal=password=hunter2")
    stored = jp(module_sim, "secret/creds", "{.data.password}")
    r = await run(svc, "edit team-a/secret/creds")
    assert r.ok and stored not in r.message and "password: ••••••••" in r.message
    f = tmp_path / "s.yaml"
    f.write_text(r.message.replace("  name: creds\n", "  name: creds\n  labels:\n    edited: 'yes'\n"))
    assert (await run(svc, f"edit team-a/secret/creds --from {f}")).ok
    assert jp(module_sim, "secret/creds", "{.metadata.labels.edited}") == "yes"
    assert jp(module_sim, "secret/creds", "{.data.password}") == stored  # the masked value was kept, not written
    revealed = await run(svc, "edit team-a/secret/creds --reveal")
    assert revealed.ok and stored in revealed.message
