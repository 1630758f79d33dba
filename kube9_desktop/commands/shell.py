"""``exec`` (shortcut S): a shell or a command in a container, over the exec WebSocket.

In the window it opens a terminal tab in the bottom dock (``open_view("terminal", ExecSpec)``); headless
``--run 'exec ns/pod/x [-c c] -- CMD...'`` prints the command's output (stdout and stderr apart) and exits with
its status, like ``kubectl exec``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from typing import TYPE_CHECKING, Any

from kube9_desktop.commands.registry import Access, Invocation, Result, command

if TYPE_CHECKING:  # the exec client is imported when a shell opens, not before the window's first paint
    from kube9_desktop.kube.exec import ExecResult, ExecSession, ExecSpec


def _params(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--container", default="", help="the container (default: the pod's default container)")
    p.add_argument("-i", "--stdin", action="store_true", help="pass stdin to the command (headless)")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a terminal (headless)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS... (default: a shell)")


def default_container(pod: dict[str, Any]) -> str:
    """The container kubectl picks: the ``kubectl.kubernetes.io/default-container`` annotation, else the first."""
    ann = ((pod.get("metadata") or {}).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    if ann and ann in names:
        return str(ann)
    return names[0] if names else ""


def containers(pod: dict[str, Any]) -> list[str]:
    """The pod's (regular) container names."""
    return [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]


@command(
    "exec",
    "Shell…",
    kinds=frozenset({"pods"}),
    shortcut="S",
    needs=Access("create", "pods", "", "exec"),
    params=_params,
    menu="Streams",
    help="Open a shell in a container (window), or run a command and exit with its status: exec ns/pod/x -- ls /",
    aliases=("shell",),
    containers=True,
)
async def exec_command(inv: Invocation) -> Result:
    """Open a terminal on the container, or run the command headless."""
    from kube9_desktop.kube.exec import DEFAULT_SHELL, ExecSpec

    t = inv.target
    argv = list(inv.args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    pod = await inv.service.get(inv.context, "pods", t.namespace, t.name)
    names = containers(pod)
    container = inv.args.container or t.container or default_container(pod)
    if names and container not in names:
        return Result.failure(f"pod {t.name} has no container {container} (it has: {', '.join(names)})", 2)
    spec = ExecSpec(
        context=inv.context,
        namespace=t.namespace or "default",
        pod=t.name,
        container=container,
        command=tuple(argv or DEFAULT_SHELL),
        tty=True,
        stdin=True,
        containers=tuple(names),
    )
    if inv.ui.open_view("terminal", spec):
        return Result.success(kubectl=spec.kubectl())
    if not argv and not inv.args.stdin:
        return Result.failure("exec needs a command headless: exec ADDRESS [-c CONTAINER] -- COMMAND...", 2)
    spec = ExecSpec(
        context=spec.context,
        namespace=spec.namespace,
        pod=spec.pod,
        container=container,
        command=tuple(argv or DEFAULT_SHELL),
        tty=bool(inv.args.tty),
        stdin=bool(inv.args.stdin),
    )
    result = await run_headless(inv, spec)
    if result.error is not None:
        return Result.failure(result.error.one_line(), exit_code=1, kubectl=spec.kubectl())
    code = result.exit_code or 0
    if code:
        return Result(False, f"command terminated with exit code {code}", code, kubectl=spec.kubectl())
    return Result.success(kubectl=spec.kubectl())


async def run_headless(inv: Invocation, spec: ExecSpec) -> ExecResult:
    """Runs the command with stdout/stderr going to ours; returns how it ended."""
    from kube9_desktop.kube.exec import ExecSession, stream_client

    client = await asyncio.to_thread(stream_client, inv.service, spec.context)
    out, err = sys.stdout, sys.stderr
    lock = threading.Lock()

    def on_output(channel: int, data: bytes) -> None:
        stream = err if channel == 2 else out
        with lock:
            stream.flush()
            stream.buffer.write(data) if hasattr(stream, "buffer") else stream.write(data.decode("utf-8", "replace"))
            stream.flush()

    session = ExecSession(client, spec, on_output, lambda _r: None)
    session.start()
    feeder: threading.Thread | None = None
    if spec.stdin:
        feeder = threading.Thread(target=_feed_stdin, args=(session,), daemon=True)
        feeder.start()
    try:
        result = await asyncio.to_thread(session.wait)
    finally:
        session.close()
    assert result is not None
    return result


def _feed_stdin(session: ExecSession) -> None:
    """Copies our stdin to the session; EOF closes the remote stdin."""
    src = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    if src is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while not session.done.is_set():
            data = src.read1(65536) if hasattr(src, "read1") else src.read(65536)
            if not data:
                break
            session.write(data)
    session.close_stdin()
