"""Commands ``logs`` (a pod's or a workload's container logs) and ``events`` (an object's or a namespace's events).

In the window both open a view (the bottom dock's Logs tab, the Events tab); headless ``--run`` prints what the view
would hold: ``logs`` exactly what ``kubectl logs`` prints (``[pod/NAME/CONTAINER]`` prefixes for a workload),
``events`` the rows of ``kubectl get events``.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from typing import TYPE_CHECKING, Any

from kube9_desktop.commands.registry import Access, Invocation, Result, command
from kube9_desktop.kube.errors import KubeError

if TYPE_CHECKING:  # the log session and the events' reader are imported when a command runs (not before first paint)
    from kube9_desktop.kube.log_session import LogSpec

#: Kinds whose logs are their pods' logs merged (the table's "pods by selector" kinds, minus Services).
LOG_KINDS = frozenset({"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs"})


def _logs_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--container", default=None, help="the container (default: the pod's default container)")
    p.add_argument("--all-containers", action="store_true", help="every container, init and ephemeral too")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (see --follow-seconds)")
    p.add_argument("--follow-seconds", type=float, default=None, metavar="S",
                   help="follow for S seconds, then stop (headless)")
    p.add_argument("-p", "--previous", action="store_true", help="the previous, terminated container's log")
    p.add_argument("--since", default=None, help="only lines newer than a duration (30s, 5m, 1h)")
    p.add_argument("--tail", type=int, default=None, help="the last N lines of each container (default: all "
                   "headless, 1,000 in the window)")
    p.add_argument("--timestamps", action="store_true", help="print kubelet's timestamps")


def spec_from_args(inv: Invocation) -> LogSpec:
    """The view's spec from the command's arguments and target; raises ValueError on a bad ``--since``."""
    from kube9_desktop.kube.log_session import LogSpec, parse_duration
    from kube9_desktop.kube.pod_logs import ALL_CONTAINERS, LogOptions

    a, t = inv.args, inv.target
    container = ALL_CONTAINERS if a.all_containers else (a.container or t.container)
    since = parse_duration(a.since) if a.since else None
    follow = bool(a.follow or a.follow_seconds)
    tail = a.tail
    if tail is None and inv.ui.interactive:
        tail = 1000
    return LogSpec(inv.context, t.namespace or "", t.kind.key, t.name,
                   LogOptions(container=container, follow=follow, previous=bool(a.previous), since_seconds=since,
                              tail=tail if tail is None or tail >= 0 else None),
                   timestamps=bool(a.timestamps))


def kubectl_logs(spec: LogSpec) -> str:
    """The equivalent ``kubectl logs`` command line."""
    from kube9_desktop.kube.pod_logs import ALL_CONTAINERS

    o = spec.options
    what = spec.name if spec.kind == "pods" else f"{spec.kind}/{spec.name}"
    words = ["kubectl", "--context", spec.context, "logs", "-n", spec.namespace, what]
    if o.container == ALL_CONTAINERS:
        words.append("--all-containers")
    elif o.container:
        words += ["-c", o.container]
    if o.follow:
        words.append("-f")
    if o.previous:
        words.append("--previous")
    if o.since_seconds:
        words.append(f"--since={o.since_seconds}s")
    if o.tail is not None:
        words.append(f"--tail={o.tail}")
    if spec.timestamps:
        words.append("--timestamps")
    return shlex.join(words)


@command("logs", "Logs", kinds=LOG_KINDS, shortcut="L", icon="logs", menu="Inspect",
         needs=Access("get", "pods", "", "log"), params=_logs_params, containers=True,
         help="Show a pod's container log, or every pod of a workload merged by time (follow, previous, since, "
              "tail).")
async def logs(inv: Invocation) -> Result:
    """Open the log view, or (headless) print the log like ``kubectl logs``."""
    try:
        spec = spec_from_args(inv)
    except ValueError as exc:
        return Result.failure(f"logs: {exc}", exit_code=2)
    kubectl = kubectl_logs(spec)
    if inv.ui.open_view("logs", spec):
        return Result.success(kubectl=kubectl)
    return await print_logs(inv, spec, kubectl)


async def print_logs(inv: Invocation, spec: LogSpec, kubectl: str) -> Result:
    """Read the log as the view would and print it (headless)."""
    from kube9_desktop.kube.ansi import sanitize  # the headless printer's only: not before the window's first paint
    from kube9_desktop.kube.log_session import LogSession, log_client, render_line

    try:
        client = await asyncio.to_thread(log_client, inv.service, spec.context)
    except KubeError as err:
        return Result.failure(err.message)
    session = LogSession(client, spec.namespace, inv.target.kind, spec.name, spec.options)
    out = getattr(inv.ui, "out", sys.stdout)
    tty = bool(getattr(out, "isatty", lambda: False)())
    failed: list[str] = []

    def emit(final: bool = False) -> None:
        got = session.drain(final=final)
        if got.lines:
            prefix = session.merged
            text = "\n".join(
                render_line(ln, session.sources[ln.src], timestamps=spec.timestamps, prefix=prefix)
                for ln in got.lines
            )
            # On a terminal only colours survive (a log must not drive the user's terminal); piped, the bytes
            # are kubectl's.
            inv.ui.tell(sanitize(text) if tty else text)
        for n in got.notices:
            if n.level == "error":
                failed.append(n.text)
            elif n.level == "warning" or n.src < 0:
                print(f"kube9-desktop: {n.text}", file=getattr(inv.ui, "err", sys.stderr), flush=True)

    try:
        await asyncio.to_thread(session.start)
        if spec.options.follow:
            deadline = (time.monotonic() + inv.args.follow_seconds) if inv.args.follow_seconds else None
            while deadline is None or time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                emit()
                if session.finished:
                    break
        else:
            await asyncio.to_thread(session.wait_finished, 120.0)
    finally:
        session.close()
    await asyncio.to_thread(session.join, 5.0)
    emit(final=True)
    if failed:
        return Result.failure("\n".join(dict.fromkeys(failed)), kubectl=kubectl)
    return Result.success(kubectl=kubectl)


def _events_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warnings", action="store_true", help="only Warning events")


@command("events", "Events", menu="Inspect", params=_events_params,
         help="Show the events of an object (namespace/NAME: every event in it), newest first.")
async def events(inv: Invocation) -> Result:
    """Open the events view, or (headless) print the events as ``kubectl get events`` rows, newest first."""
    from kube9_desktop.kube.events import EventQuery, event_rows, format_rows, list_events
    from kube9_desktop.kube.log_session import log_client

    t = inv.target
    query = EventQuery.for_target(t.kind.key, t.namespace, t.name)
    if inv.ui.open_view("events", {"context": inv.context, "query": query, "title": f"Events {t.name}"}):
        return Result.success()
    try:
        client = await asyncio.to_thread(log_client, inv.service, inv.context)
        uid = ""
        if query.object_kind:
            obj: dict[str, Any] = await inv.service.get(inv.context, t.kind.key, t.namespace, t.name)
            uid = str((obj.get("metadata") or {}).get("uid", ""))
        items = await asyncio.to_thread(list_events, client, query.with_uid(uid))
    except KubeError as err:
        return Result.failure(err.message)
    rows = event_rows(items, time.time())
    if inv.args.warnings:
        rows = [r for r in rows if r.type == "Warning"]
    if not rows:
        return Result.success(f"No events for {t.describe()}.")
    return Result.success(format_rows(rows))
