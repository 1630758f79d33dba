"""The diagnose rules: each a small function over :class:`Facts`, listed as data in :data:`RULES`.

Patterns that decode messages (the scheduler's FailedScheduling, containerd's pull errors, the kubelet's eviction
message) are tables too, so a new wording is one line.
"""

from __future__ import annotations

import re

from kube9_desktop.kube.diagnose.model import Facts, Finding, Rule
from kube9_desktop.kube.events import age
from kube9_desktop.kube.metrics import format_memory, memory_bytes, percent, pod_resources
from kube9_desktop.kube.overview import Ref, secs

POD = frozenset({"pods"})
DEPLOYMENT = frozenset({"deployments"})

#: containerd / docker pull error text → (cause, what to check next).
PULL_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"not found|manifest unknown|NotFound", re.I), "the image or tag does not exist in the registry",
     "Check the image name and tag for a typo; list the repository's tags."),
    (re.compile(r"pull access denied|unauthorized|authorization failed|authentication required|403 Forbidden|"
                r"denied", re.I), "the registry refused the pull: credentials are missing or lack access",
     "Check the pod's imagePullSecrets (and the ServiceAccount's) hold valid credentials for the registry."),
    (re.compile(r"no such host|i/o timeout|connection refused|network is unreachable|TLS handshake timeout|"
                r"dial tcp|context deadline exceeded", re.I), "the node cannot reach the registry",
     "Check the registry's address, DNS and the nodes' network path (proxy, firewall) to it."),
)

#: FailedScheduling fragments → (plain words, what to check next).
SCHEDULING_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"(\d+) Insufficient cpu", re.I), "{n} node(s) do not have enough free CPU for the pod's requests",
     "Lower the pod's CPU request, free capacity, or add nodes."),
    (re.compile(r"(\d+) Insufficient memory", re.I),
     "{n} node(s) do not have enough free memory for the pod's requests",
     "Lower the pod's memory request, free capacity, or add nodes."),
    (re.compile(r"(\d+) node\(s\) had (?:untolerated )?taints? (\{[^}]*\})", re.I),
     "{n} node(s) carry the taint {x} that the pod does not tolerate",
     "Add a toleration for the taint to the pod, or remove the taint from the nodes."),
    (re.compile(r"(\d+) node\(s\) didn't match (?:Pod's )?node (?:selector|affinity)(?:/selector)?", re.I),
     "{n} node(s) do not match the pod's node selector or affinity",
     "Compare the pod's nodeSelector/affinity with the nodes' labels (kubectl get nodes --show-labels)."),
    (re.compile(r"(\d+) pod has unbound immediate PersistentVolumeClaims|unbound immediate PersistentVolumeClaims",
                re.I), "a PersistentVolumeClaim the pod mounts is not bound to a volume",
     "Check the claim's events and its storage class (kubectl describe pvc)."),
    (re.compile(r"(\d+) node\(s\) had volume node affinity conflict", re.I),
     "{n} node(s) cannot reach the pod's volume (its zone differs)",
     "Check the volume's zone against the nodes' zones."),
    (re.compile(r"(\d+) Too many pods", re.I), "{n} node(s) already run their maximum number of pods",
     "Add nodes or raise the kubelet's max-pods."),
    (re.compile(r"(\d+) node\(s\) didn't have free ports", re.I), "{n} node(s) already use the pod's host port",
     "Drop the hostPort or spread the pods."),
)


def _tail(lines: list[str], n: int = 10) -> list[str]:
    return lines[-n:]


def _ago(f: Facts, ts: object) -> str:
    t = secs(ts)
    return f"{age(f.now - t)} ago" if t and f.now else ""


# -- pods --------------------------------------------------------------------------------------------------------------
def crash_loop(f: Facts) -> list[Finding]:
    """A container restarting after failing: the last exit code and reason, the previous log, OOM vs the limit."""
    out = []
    for cs in f.status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        looping = waiting.get("reason") == "CrashLoopBackOff"
        if not looping and last.get("reason") != "OOMKilled":
            continue
        name = str(cs.get("name"))
        code, reason = last.get("exitCode"), str(last.get("reason") or "")
        restarts = int(cs.get("restartCount") or 0)
        ev = [f"container {name}: {restarts} restarts" + (", waiting in CrashLoopBackOff" if looping else "")]
        if last:
            ev.append(f"last run: exited with exit code {code} ({reason or 'no reason'}), finished "
                      f"{_ago(f, last.get('finishedAt')) or 'at an unknown time'}")
        steps = []
        if reason == "OOMKilled":
            limit = ((f.container_spec(name).get("resources") or {}).get("limits") or {}).get("memory")
            summary = f"Container {name} is killed for using more memory than its limit (OOMKilled)"
            why = "The kernel killed the process when it reached the container's memory limit; Kubernetes restarts " \
                  "it and backs off longer each time."
            if limit:
                ev.append(f"memory limit {limit}")
                use = f.usage.get(name)
                if use is not None:
                    pct = percent(use.memory, memory_bytes(limit))
                    ev.append(f"memory in use now {format_memory(use.memory)}"
                              + (f" ({pct:.0f}% of the limit)" if pct is not None else ""))
                elif f.metrics_problem:
                    ev.append(f"memory in use now: unknown, metrics unavailable — {f.metrics_problem}")
            else:
                ev.append("no memory limit on the container: the node itself ran out of memory")
            steps += ["Raise the container's memory limit (and request) or reduce its memory use.",
                      "Compare with its usage history (kubectl top pod) before picking a value."]
        elif code in (137, 143):
            summary = f"Container {name} keeps being killed (exit code {code})"
            why = f"Exit code {code} means the process was killed by a signal (SIGKILL/SIGTERM): a failing " \
                  "liveness probe or an outside kill."
            steps.append("Check the liveness probe and the events for 'Killing'.")
        else:
            summary = f"Container {name} keeps crashing: it exits with exit code {code} ({reason or 'Error'})"
            why = "The process ends by itself shortly after it starts; Kubernetes restarts it and waits longer " \
                  "each time (CrashLoopBackOff)."
            steps.append("Read the previous run's log below for the error that ended it.")
        log = _tail(f.previous_logs.get(name, []))
        if log:
            ev.append(f"previous log: last {len(log)} lines below (kubectl logs --previous -c {name})")
        else:
            ev.append("no previous log could be read")
        steps.append(f"kubectl logs -n {f.ref.namespace} {f.ref.name} -c {name} --previous")
        steps.append("Check the container's command, arguments, environment and mounted config.")
        out.append(Finding("crash-loop", f.ref, summary, why, ev, steps, log))
    return out


def image_pull(f: Facts) -> list[Finding]:
    """ImagePullBackOff / ErrImagePull: the image and the cause the pull event names."""
    out = []
    for cs in f.status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") not in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
            continue
        name = str(cs.get("name"))
        image = f.container_spec(name).get("image") or cs.get("image") or "?"
        pulls = [e for e in f.events_with("Failed") if "Failed to pull image" in e.message
                 and (f'"{image}"' in e.message or not image)]
        msg = pulls[0].message if pulls else str(waiting.get("message") or "")
        cause, step = "the pull failed", "Check the image name and the registry."
        for rx, c, s in PULL_CAUSES:
            if rx.search(msg):
                cause, step = c, s
                break
        ev = [f"container {name}: image {image}", f"state: {waiting.get('reason')}"]
        if msg:
            ev.append(f"pull error: {msg}")
        out.append(Finding("image-pull", f.ref, f"Image {image} cannot be pulled: {cause}",
                           "The kubelet could not download the container image, so the container never started.",
                           ev, [step, f"kubectl describe pod -n {f.ref.namespace} {f.ref.name}"]))
    return out


def unschedulable(f: Facts) -> list[Finding]:
    """Pending because the scheduler found no node: the FailedScheduling message decoded."""
    cond = next((c for c in f.status.get("conditions") or [] if c.get("type") == "PodScheduled"
                 and c.get("status") == "False"), None)
    if f.status.get("phase") != "Pending" or cond is None:
        return []
    events = f.events_with("FailedScheduling")
    msg = events[0].message if events else str(cond.get("message") or "")
    ev = [f"scheduler: {msg}" if msg else "the scheduler has not placed the pod"]
    created = secs((f.obj.get("metadata") or {}).get("creationTimestamp"))
    if created and f.now:
        ev.append(f"pending for {age(f.now - created)}")
    causes, steps = [], []
    for rx, text, step in SCHEDULING_CAUSES:
        m = rx.search(msg)
        if m:
            n = m.group(1) if m.groups() and m.group(1) else "some"
            x = m.group(2) if len(m.groups()) > 1 else ""
            causes.append(text.format(n=n, x=x))
            steps.append(step)
    res = pod_resources(f.obj)
    if any("CPU" in c or "memory" in c for c in causes):
        ev.append(f"pod requests cpu {res.cpu_request:.0f}m, memory {format_memory(res.memory_request)}")
    if f.spec.get("nodeSelector"):
        ev.append("node selector: " + ", ".join(f"{k}={v}" for k, v in f.spec["nodeSelector"].items()))
    for claim, pvc in f.pvcs.items():
        phase = (pvc.get("status") or {}).get("phase", "?")
        sc = (pvc.get("spec") or {}).get("storageClassName") or "(default)"
        ev.append(f"claim {claim}: {phase}, storage class {sc}")
    summary = "Pod cannot be scheduled: " + ("; ".join(causes) if causes else "no node fits it")
    return [Finding("unschedulable", f.ref, summary,
                    "The scheduler found no node that satisfies the pod, so it stays Pending.", ev,
                    steps or ["Read the scheduler's message above and compare it with the nodes."])]


def init_failing(f: Facts) -> list[Finding]:
    """An init container failing: the pod never gets to start its regular containers."""
    out = []
    for cs in f.status.get("initContainerStatuses") or []:
        state = cs.get("state") or {}
        term = state.get("terminated") or (cs.get("lastState") or {}).get("terminated") or {}
        waiting = state.get("waiting") or {}
        failing = waiting.get("reason") in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull") or (
            term and term.get("exitCode") not in (0, None) and not state.get("running"))
        if not failing:
            continue
        name = str(cs.get("name"))
        ev = [f"init container {name}: {waiting.get('reason') or 'terminated'}, "
              f"{cs.get('restartCount', 0)} restarts"]
        if term:
            ev.append(f"last run: exit code {term.get('exitCode')} ({term.get('reason', '')}), finished "
                      f"{_ago(f, term.get('finishedAt'))}")
        log = _tail(f.previous_logs.get(name, []))
        out.append(Finding(
            "init-failing", f.ref, f"Init container {name} fails, so the pod never starts its containers",
            "Init containers run one by one before the regular containers; until this one succeeds the pod "
            "stays in Init.", ev,
            [f"kubectl logs -n {f.ref.namespace} {f.ref.name} -c {name} --previous",
             "Check what the init container waits for or prepares (a database, a migration, a config file)."],
            log))
    return out


def readiness(f: Facts) -> list[Finding]:
    """Running but not ready, with failing readiness probes (Unhealthy events)."""
    if f.status.get("phase") != "Running":
        return []
    out = []
    for cs in f.status.get("containerStatuses") or []:
        if cs.get("ready") or "running" not in (cs.get("state") or {}):
            continue
        name = str(cs.get("name"))
        probes = [e for e in f.events_with("Unhealthy") if "Readiness probe failed" in e.message]
        probe = f.container_spec(name).get("readinessProbe") or {}
        ev = [f"container {name} is running but not ready"]
        if probes:
            ev.append(f"{probes[0].message} ({sum(e.count for e in probes)} times, last "
                      f"{age(f.now - probes[0].last_seen) if f.now else '?'} ago)")
        if probe.get("httpGet"):
            g = probe["httpGet"]
            ev.append(f"probe: HTTP GET {g.get('path', '/')} on port {g.get('port')} every "
                      f"{probe.get('periodSeconds', 10)}s, timeout {probe.get('timeoutSeconds', 1)}s")
        elif probe:
            ev.append(f"probe: {', '.join(k for k in probe if k in ('exec', 'tcpSocket', 'grpc'))}")
        out.append(Finding(
            "readiness", f.ref, f"Container {name} fails its readiness probe: the pod gets no traffic",
            "The container runs, but its readiness check does not pass, so Services leave the pod out.", ev,
            ["Call the probe's endpoint from inside the container (kubectl exec) and read the app's log.",
             "Check the probe's path, port and timeout match the app, and that its dependencies answer."]))
    return out


def evicted(f: Facts) -> list[Finding]:
    """Evicted by the kubelet under node pressure."""
    if f.status.get("reason") != "Evicted":
        return []
    msg = str(f.status.get("message") or "").strip()
    m = re.search(r"low on resource: (\w[\w-]*)", msg)
    res = m.group(1) if m else "a resource"
    ev = [f"kubelet: {msg}"] if msg else []
    node = f.spec.get("nodeName")
    if node:
        ev.append(f"node {node}")
    return [Finding("evicted", f.ref, f"Pod was evicted: its node ran low on {res}",
                    "The kubelet stopped the pod to protect the node; pods using more than they requested go first.",
                    ev, ["Set requests close to real use (and limits) so the pod is not first to go.",
                         f"Check the node's {res} pressure (kubectl describe node {node or ''}).".replace(" )", ")"),
                         "Delete the evicted pod once understood: its controller already replaced it."])]


# -- workloads -----------------------------------------------------------------------------------------------------
def deployment_stuck(f: Facts) -> list[Finding]:
    """A Deployment not progressing: ProgressDeadlineExceeded, or its ReplicaSet failing to create pods (quota)."""
    out = []
    conds = {c.get("type"): c for c in f.status.get("conditions") or []}
    prog = conds.get("Progressing") or {}
    if prog.get("status") == "False" and prog.get("reason") == "ProgressDeadlineExceeded":
        ev = [f"Progressing: {prog.get('message', '')}", f"deadline {f.spec.get('progressDeadlineSeconds', 600)}s",
              f"{f.status.get('updatedReplicas', 0)} updated, {f.status.get('readyReplicas', 0)} ready of "
              f"{f.spec.get('replicas', 1)}"]
        sub = [p for p in f.pods]
        ev += [f"pod {p.ref.name}: see below" for p in sub[:3]]
        out.append(Finding("progress-deadline", f.ref, "Rollout is stuck: the new pods never became ready in time",
                           "The Deployment gave up waiting for its new ReplicaSet's pods to become available "
                           "(ProgressDeadlineExceeded); the old pods, if any, keep serving.", ev,
                           ["Look at why the new pods fail (below).",
                            f"kubectl rollout undo -n {f.ref.namespace} deployment/{f.ref.name} to go back."]))
    fails = [e for e in f.rs_events if e.reason == "FailedCreate"]
    rep = conds.get("ReplicaFailure") or {}
    msg = fails[0].message if fails else (str(rep.get("message", "")) if rep.get("status") == "True" else "")
    if msg:
        quota = re.search(r"exceeded quota: ([\w.-]+), requested: ([^,]+), used: ([^,]+), limited: (\S+)", msg)
        if quota:
            summary = f"Pods cannot be created: namespace quota {quota.group(1)} is exhausted"
            ev = [f"ReplicaSet: {msg}", f"requested {quota.group(2)}; used {quota.group(3)}; "
                  f"limit {quota.group(4)}"]
            steps = [f"kubectl describe resourcequota -n {f.ref.namespace} {quota.group(1)}",
                     "Lower the pods' requests, scale down something else, or raise the quota."]
        else:
            summary = "Pods cannot be created by the ReplicaSet"
            ev, steps = [f"ReplicaSet: {msg}"], ["Read the ReplicaSet's FailedCreate events."]
        if fails:
            ev.append(f"{sum(e.count for e in fails)} failed creations")
        out.append(Finding("failed-create", f.ref, summary,
                           "The ReplicaSet controller asks for pods and the API server refuses them.", ev, steps))
    return out


RULES: tuple[Rule, ...] = (
    Rule("crash-loop", POD, "Crash loop / OOMKilled", crash_loop),
    Rule("image-pull", POD, "Image pull failure", image_pull),
    Rule("unschedulable", POD, "Pending: cannot be scheduled", unschedulable),
    Rule("init-failing", POD, "Init container failing", init_failing),
    Rule("readiness", POD, "Readiness probe failing", readiness),
    Rule("evicted", POD, "Evicted", evicted),
    Rule("deployment-stuck", DEPLOYMENT, "Deployment stuck", deployment_stuck),
)


def run_rules(f: Facts) -> list[Finding]:
    """Every rule that applies to the object's kind, then (for workloads) to its unhealthy pods."""
    out: list[Finding] = []
    for rule in RULES:
        if f.ref.kind in rule.kinds:
            out += rule.check(f)
    for p in f.pods:
        out += run_rules(p)
    return out


__all__ = ["RULES", "Ref", "run_rules"]
