"""``port-forward`` and ``port-forwards``: loopback forwards to pods and Services, and the list of them.

``port-forward ns/svc/api 0:80`` resolves the Service to a ready pod and its target port as kubectl does and
listens on 127.0.0.1 (a free port for 0). Another ``--address`` is only used when typed, after a warning
(headless: ``--yes``). In the window the forward shows in the Port forwards panel; headless prints the address,
holds the forward for ``--seconds`` (default: until interrupted), then closes it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from kube9_desktop.commands.registry import Access, Invocation, Result, Selection, command

# kube.forward_target, kube.portforward and kube.exec are imported when a forward is asked for: the command families
# are imported before the window's first paint.


def _params(p: argparse.ArgumentParser) -> None:
    from kube9_desktop.kube.forward_target import LOOPBACK

    p.add_argument(
        "ports",
        nargs="?",
        default="",
        help="LOCAL:REMOTE (0:80 picks a free local port; default: the first declared port)",
    )
    p.add_argument("--address", default=LOOPBACK, help="local address to listen on (default 127.0.0.1)")
    p.add_argument("--seconds", type=float, default=None, help="headless: hold the forward this long, then close")


def _first_port(obj: dict, kind: str) -> str:
    if kind == "services":
        ports = (obj.get("spec") or {}).get("ports") or []
        return str(ports[0].get("port")) if ports else ""
    for c in (obj.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            return str(p.get("containerPort"))
    return ""


def _ports_text(obj: dict, kind: str) -> str:
    """``http 8080, metrics 9090`` (what the pod or Service declares)."""
    if kind == "services":
        ports = (obj.get("spec") or {}).get("ports") or []
        return ", ".join(f"{p.get('name', '')} {p.get('port')}".strip() for p in ports)
    out = [
        f"{p.get('name', '')} {p.get('containerPort')}".strip()
        for c in (obj.get("spec") or {}).get("containers") or []
        for p in c.get("ports") or []
    ]
    return ", ".join(out)


@command(
    "port-forward",
    "Port forward…",
    kinds=frozenset({"pods", "services"}),
    needs=Access("create", "pods", "", "portforward"),
    params=_params,
    menu="Streams",
    help="Forward a local port (127.0.0.1) to a pod or a Service's pod: port-forward ns/svc/api 0:80",
)
async def port_forward(inv: Invocation) -> Result:
    """Start a forward; headless: hold it and print what went through."""
    from kube9_desktop.kube.exec import stream_client
    from kube9_desktop.kube.forward_target import LOOPBACK, ForwardSpec, is_loopback, parse_ports
    from kube9_desktop.kube.portforward import FORWARDS, ForwardState, PortForward

    t = inv.target
    ports = inv.args.ports
    if not ports:
        obj = await inv.service.get(inv.context, t.kind.key, t.namespace, t.name)
        remote = _first_port(obj, t.kind.key)
        if not remote:
            return Result.failure(f"{t.describe()} declares no port; give one: port-forward ADDRESS 0:PORT", 2)
        local = 0
        if inv.ui.interactive:
            offered = _ports_text(obj, t.kind.key)
            chosen = await inv.ui.ask_int(f"Forward which port of {t.describe()}? ({offered})", int(remote), 1, 65535)
            if chosen is None:
                return Result.failure("port-forward: cancelled")
            picked = await inv.ui.ask_int("Local port on 127.0.0.1 (0 picks a free one)", 0, 0, 65535)
            if picked is None:
                return Result.failure("port-forward: cancelled")
            remote, local = str(chosen), picked
        ports = f"{local}:{remote}"
    try:
        local, remote = parse_ports(ports)
    except ValueError as exc:
        return Result.failure(f"port-forward: {exc}", 2)
    address = inv.args.address or LOOPBACK
    if not is_loopback(address):
        ok = await inv.ui.confirm(
            f"Listen on {address}? Anyone who can reach this machine on that address can then use the forward "
            f"into {t.describe()}.",
            destructive=True,
        )
        if not ok:
            return Result.failure(f"not listening on {address}: not confirmed (127.0.0.1 needs no confirmation)")
    spec = ForwardSpec(inv.context, t.namespace or "default", t.kind.key, t.name, remote, local, address)
    client = await asyncio.to_thread(stream_client, inv.service, inv.context)
    fwd = PortForward(client, spec).start()
    await asyncio.to_thread(fwd.wait_ready, 30)
    if fwd.state is ForwardState.FAILED or fwd.state is ForwardState.STARTING:
        fwd.stop()
        FORWARDS.remove(fwd)
        return Result.failure(fwd.message or "the forward did not start", kubectl=spec.kubectl())
    if inv.ui.open_view("port-forwards", fwd):
        inv.ui.tell(f"Forwarding {fwd.describe()}")
        return Result.success(kubectl=spec.kubectl(fwd.local_port))
    inv.ui.tell(f"Forwarding from {fwd.address} -> pod/{fwd.pod}:{fwd.pod_port}")
    start = time.monotonic()
    try:
        while fwd.state in (ForwardState.ACTIVE, ForwardState.RESOLVING):
            if inv.args.seconds is not None and time.monotonic() - start >= inv.args.seconds:
                break
            await asyncio.sleep(0.1)
    finally:
        failed = fwd.state is ForwardState.FAILED
        fwd.stop()
        await asyncio.to_thread(fwd.join, 5)
        FORWARDS.remove(fwd)
    summary = (
        f"closed {fwd.address}: {fwd.total} connection(s), {fwd.bytes_out} bytes sent, {fwd.bytes_in} received"
        + (f", {fwd.failed} failed ({fwd.last_error})" if fwd.failed else "")
    )
    if failed:
        return Result.failure(f"{fwd.message}; {summary}", kubectl=spec.kubectl())
    return Result.success(summary, kubectl=spec.kubectl())


@command(
    "port-forwards",
    "Port forwards",
    selection=Selection.NONE,
    menu="Streams",
    help="List the port forwards of this session (the window shows the Port forwards panel).",
)
async def port_forwards(inv: Invocation) -> Result:
    """Show the panel, or list the forwards."""
    if inv.ui.open_view("port-forwards", None):
        return Result.success()
    from kube9_desktop.kube.portforward import FORWARDS

    items = FORWARDS.all()
    if not items:
        return Result.success("no port forwards")
    lines = [
        f"{f.describe()}  {f.state.value}  {f.active} open / {f.total} total  "
        f"{f.bytes_out} B out, {f.bytes_in} B in" + (f"  ({f.message})" if f.message else "")
        for f in items
    ]
    return Result.success("\n".join(lines))
