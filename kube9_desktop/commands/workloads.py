"""Commands on workloads: scale, restart (rollout), and CronJobs' suspend, resume and trigger now."""

from __future__ import annotations

import argparse
import string

from kube9_desktop.commands.common import failed, grouped, joined, kubectl, ref, rfc3339_now
from kube9_desktop.commands.registry import (
    Access,
    CommandError,
    Invocation,
    Result,
    Selection,
    Target,
    command,
)
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import KINDS

SCALABLE = frozenset({"deployments", "statefulsets", "replicasets"})
RESTARTABLE = frozenset({"deployments", "statefulsets", "daemonsets"})
CRONJOBS = frozenset({"cronjobs"})
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


# -- scale -----------------------------------------------------------------------------------------------------------
def _scale_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("replicas", nargs="?", type=int, default=None, help="the new number of replicas")


def scale_line(targets: list[Target], args: argparse.Namespace) -> str | None:
    """``kubectl scale deployments.apps/api --replicas=5 -n team-a --context c`` (None before a number is known)."""
    t = targets[0]
    if args.replicas is None:
        return None
    return kubectl("scale", ref(t), f"--replicas={args.replicas}", namespace=t.namespace, context=t.context)


@command("scale", "Scale…", kinds=SCALABLE, shortcut="Ctrl+Shift+S", icon="scale", menu="Change",
         needs=Access("patch", subresource="scale"), params=_scale_params, kubectl=scale_line,
         help="Set the replicas of a Deployment, StatefulSet or ReplicaSet (the scale subresource).")
async def scale(inv: Invocation) -> Result:
    """Scale through the ``scale`` subresource; without a number, ask (prefilled with the current replicas)."""
    t = inv.target
    writes = inv.service.writes
    current = await writes.get(inv.context, t.kind, t.namespace, t.name, subresource="scale")
    now = int((current.get("spec") or {}).get("replicas") or 0)
    replicas = inv.args.replicas
    if replicas is None:
        if not inv.ui.interactive:
            raise CommandError(f"scale needs the number of replicas (now {now}): scale {t.address} N")
        replicas = await inv.ui.ask_int(f"Replicas of {t.describe()}:", now, 0, 10_000)
        if replicas is None:
            return Result.failure("Scale: cancelled, nothing changed.")
    if replicas < 0:
        raise CommandError("scale: replicas must be 0 or more")
    line = kubectl("scale", ref(t), f"--replicas={replicas}", namespace=t.namespace, context=t.context)
    await writes.scale(inv.context, t.kind, t.namespace, t.name, replicas)
    return Result.success(f"Scaled {t.describe()} from {now} to {replicas}.", kubectl=line)


# -- restart ---------------------------------------------------------------------------------------------------------
def restart_line(targets: list[Target], args: argparse.Namespace) -> str:
    """``kubectl rollout restart deployments.apps/api -n team-a --context c``."""
    return joined(kubectl("rollout", "restart", *[ref(t) for t in ts], namespace=ns, context=ts[0].context)
                  for ns, ts in grouped(targets))


@command("restart", "Restart", kinds=RESTARTABLE, selection=Selection.MULTI, shortcut="Ctrl+Shift+R",
         icon="restart", menu="Change", needs=Access("patch"), kubectl=restart_line,
         help="Roll the pods anew, exactly as `kubectl rollout restart` (the pod template's restartedAt).")
async def restart(inv: Invocation) -> Result:
    """Patch ``spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]`` (strategic merge)."""
    at = rfc3339_now()
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}
    problems, done = [], []
    for t in inv.targets:
        try:
            await inv.service.writes.patch(inv.context, t.kind, t.namespace, t.name, patch, patch_type="strategic")
            done.append(t)
        except KubeError as err:
            problems.append(failed(t, err))
    line = restart_line(inv.targets, inv.args)
    if problems:
        return Result.failure("\n".join([f"Restarted {len(done)} of {len(inv.targets)}; not restarted:", *problems]),
                              kubectl=line)
    what = inv.targets[0].describe() if len(done) == 1 else f"{len(done)} workloads"
    return Result.success(f"Restarted {what} (restartedAt {at}).", kubectl=line)


# -- CronJobs --------------------------------------------------------------------------------------------------------
def _suspend_line(targets: list[Target], value: bool) -> str:
    text = '{"spec":{"suspend":true}}' if value else '{"spec":{"suspend":false}}'
    return joined(kubectl("patch", ref(t), "--type=merge", "-p", text, namespace=t.namespace, context=t.context)
                  for t in targets)


async def _suspend(inv: Invocation, value: bool) -> Result:
    patch = {"spec": {"suspend": value}}
    problems = []
    for t in inv.targets:
        try:
            await inv.service.writes.patch(inv.context, t.kind, t.namespace, t.name, patch)
        except KubeError as err:
            problems.append(failed(t, err))
    line = _suspend_line(inv.targets, value)
    verb = "Suspended" if value else "Resumed"
    if problems:
        return Result.failure("\n".join([f"{verb} {len(inv.targets) - len(problems)} of {len(inv.targets)}:",
                                         *problems]), kubectl=line)
    what = inv.targets[0].describe() if len(inv.targets) == 1 else f"{len(inv.targets)} cronjobs"
    return Result.success(f"{verb} {what}.", kubectl=line)


@command("suspend", "Suspend", kinds=CRONJOBS, selection=Selection.MULTI, icon="pause", menu="Change",
         needs=Access("patch"), kubectl=lambda ts, _a: _suspend_line(ts, True),
         help="Stop a CronJob from starting new Jobs (spec.suspend).")
async def suspend(inv: Invocation) -> Result:
    """Set ``spec.suspend: true``."""
    return await _suspend(inv, True)


@command("resume", "Resume", kinds=CRONJOBS, selection=Selection.MULTI, icon="play", menu="Change",
         needs=Access("patch"), kubectl=lambda ts, _a: _suspend_line(ts, False),
         help="Let a suspended CronJob start Jobs again.")
async def resume(inv: Invocation) -> Result:
    """Set ``spec.suspend: false``."""
    return await _suspend(inv, False)


def _trigger_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", nargs="?", default=None, help="the new Job's name (default: CRONJOB-manual-xxxxx)")


def trigger_line(targets: list[Target], args: argparse.Namespace) -> str:
    """``kubectl create job NAME --from=cronjob/X -n team-a --context c``."""
    t = targets[0]
    name = args.job or f"{t.name}-manual"
    return kubectl("create", "job", name, f"--from=cronjob/{t.name}", namespace=t.namespace, context=t.context)


@command("trigger", "Trigger now", kinds=CRONJOBS, icon="play", menu="Change",
         needs=Access("create", resource="jobs", group="batch"), params=_trigger_params, kubectl=trigger_line,
         help="Start a Job from the CronJob's template now (as `kubectl create job --from=cronjob/x`).")
async def trigger(inv: Invocation) -> Result:
    """Create a Job from ``spec.jobTemplate``, owned by the CronJob and annotated as a manual run."""
    t = inv.target
    cj = await inv.service.writes.get(inv.context, t.kind, t.namespace, t.name)
    import secrets  # hmac and hashlib: ~3 ms of imports the window's first paint need not wait for

    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    name = inv.args.job or f"{t.name}-manual-{suffix}"[:63]
    job = job_from_cronjob(cj, name)
    line = kubectl("create", "job", name, f"--from=cronjob/{t.name}", namespace=t.namespace, context=t.context)
    await inv.service.writes.create(inv.context, KINDS["jobs"], t.namespace, job)
    return Result.success(f"Started job {name} from {t.describe()}.", kubectl=line)


def job_from_cronjob(cj: dict[str, object], name: str) -> dict[str, object]:
    """The Job ``kubectl create job NAME --from=cronjob/X`` makes: the template's metadata and spec, the
    ``cronjob.kubernetes.io/instantiate: manual`` annotation, and the CronJob as its controlling owner."""
    md = cj.get("metadata") if isinstance(cj.get("metadata"), dict) else {}
    spec = cj.get("spec") if isinstance(cj.get("spec"), dict) else {}
    assert isinstance(md, dict) and isinstance(spec, dict)
    tmpl = spec.get("jobTemplate") or {}
    tmd = tmpl.get("metadata") or {}
    annotations = {"cronjob.kubernetes.io/instantiate": "manual", **(tmd.get("annotations") or {})}
    job_md: dict[str, object] = {"name": name, "namespace": md.get("namespace"), "annotations": annotations,
                                 "ownerReferences": [{"apiVersion": cj.get("apiVersion") or "batch/v1",
                                                      "kind": "CronJob", "name": md.get("name"), "uid": md.get("uid"),
                                                      "controller": True}]}
    if tmd.get("labels"):
        job_md["labels"] = dict(tmd["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_md, "spec": tmpl.get("spec") or {}}
