"""Every context of the kubeconfig at a glance: probed in parallel, each isolated, with short timeouts (Qt-free).

A probe has its own client (its own connections, short connect/read timeouts, no retries) so a dead or slow cluster
only ever delays its own row; each row is reported the moment its probe ends (``on_row``), and the probes run on a
thread pool as wide as the kubeconfig (up to :data:`MAX_PARALLEL`), so 50 contexts cost about one probe's time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.events import event_row
from kube9_desktop.kube.kubeconfig import Kubeconfig
from kube9_desktop.kube.rows import Severity, severity_of

if TYPE_CHECKING:  # a type only: the client pulls in the kubernetes package (~0.5 s), which the window's
    # first paint must not wait for (the command families import this module)
    from kube9_desktop.kube.client import ContextClient

MAX_PARALLEL = 64
#: Seconds for one probe's TCP+TLS connect and for each read.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 4.0
WARNINGS_S = 3600


@dataclass(frozen=True)
class FleetRow:
    """One context's health.

    Attributes:
        context: The context name.
        reachable: Whether the API server answered.
        version: Its ``gitVersion``.
        nodes_ready: Ready nodes (None when unknown).
        nodes_total: All nodes.
        failing_pods: Pods whose status is an error or Pending.
        warnings: Warning events of the last hour.
        latency_ms: Round trip of ``/version``.
        problem: What went wrong, in a few words ("unreachable: connection refused", "token expired or rejected").
        auth_problem: Whether the problem is about credentials (expired token, missing plugin).
        elapsed_ms: How long the probe took.
    """

    context: str
    reachable: bool = False
    version: str = ""
    nodes_ready: int | None = None
    nodes_total: int | None = None
    failing_pods: int | None = None
    warnings: int | None = None
    latency_ms: float | None = None
    problem: str = ""
    auth_problem: bool = False
    elapsed_ms: float = 0.0


def probe_options(base: KubeOptions | None = None) -> KubeOptions:
    """Options for probe clients: short timeouts, no retries, a small pool."""
    b = base or KubeOptions()
    return replace(b, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries=0, workers=2,
                   exec_timeout=min(b.exec_timeout, 10.0), request_deadline=READ_TIMEOUT * 2)


def describe_error(err: KubeError) -> tuple[str, bool]:
    """(short problem text, is it about credentials)."""
    k = err.kind
    if k is ErrorKind.UNAUTHORIZED:
        return "credentials rejected (token expired or revoked?)", True
    if k is ErrorKind.EXEC_PLUGIN:
        return f"credential plugin: {err.message}", True
    if k is ErrorKind.FORBIDDEN:
        return "forbidden (RBAC)", True
    if k is ErrorKind.UNREACHABLE:
        return f"unreachable: {err.message}", False
    if k is ErrorKind.TIMEOUT:
        return "unreachable: timed out", False
    if k is ErrorKind.DNS:
        return f"unreachable: {err.message}", False
    if k is ErrorKind.TLS:
        return f"TLS: {err.message}", False
    if k is ErrorKind.KUBECONFIG:
        return f"kubeconfig: {err.message}", True
    return err.message, False


def _table_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    cols = [str(c.get("name", "")) for c in doc.get("columnDefinitions") or []]
    return cols, [list(r.get("cells") or []) for r in doc.get("rows") or []]


def probe(client: ContextClient, context: str, now: float | None = None) -> FleetRow:
    """Probe one context with its client (blocking); never raises."""
    from kube9_desktop.kube.client import TABLE_ACCEPT
    started = time.perf_counter()
    t = time.time() if now is None else now
    try:
        t0 = time.perf_counter()
        version = str(client.send("GET", "/version", timeout=READ_TIMEOUT).json().get("gitVersion", ""))
        latency = (time.perf_counter() - t0) * 1000
    except KubeError as err:
        problem, auth = describe_error(err)
        return FleetRow(context, problem=problem, auth_problem=auth, elapsed_ms=(time.perf_counter() - started) * 1000)
    row = FleetRow(context, reachable=True, version=version, latency_ms=latency)
    problems: list[str] = []
    auth = False
    try:
        nodes = client.send("GET", "/api/v1/nodes", timeout=READ_TIMEOUT).json().get("items") or []
        ready = sum(1 for n in nodes if any(c.get("type") == "Ready" and c.get("status") == "True"
                                            for c in (n.get("status") or {}).get("conditions") or []))
        row = replace(row, nodes_ready=ready, nodes_total=len(nodes))
    except KubeError as err:
        p, a = describe_error(err)
        problems.append(f"nodes: {p}")
        auth = auth or a
    try:
        doc = client.send("GET", "/api/v1/pods", query=[("includeObject", "None")], accept=TABLE_ACCEPT,
                          timeout=READ_TIMEOUT).json()
        cols, cells = _table_rows(doc)
        i = cols.index("Status") if "Status" in cols else -1
        failing = sum(1 for c in cells if i >= 0 and len(c) > i
                      and severity_of(str(c[i])) in (Severity.ERROR, Severity.WARN)
                      and str(c[i]) not in ("Terminating",))
        row = replace(row, failing_pods=failing)
    except KubeError as err:
        p, a = describe_error(err)
        problems.append(f"pods: {p}")
        auth = auth or a
    try:
        evs = client.send("GET", "/api/v1/events", query=[("fieldSelector", "type=Warning")],
                          timeout=READ_TIMEOUT).json().get("items") or []
        row = replace(row, warnings=sum(1 for e in evs if t - event_row(e).last_seen <= WARNINGS_S))
    except KubeError as err:
        problems.append(f"events: {describe_error(err)[0]}")
    # One phrase per distinct problem: "forbidden (RBAC): nodes, pods, events", not the same words three times.
    grouped: dict[str, list[str]] = {}
    for p in problems:
        what, _, why = p.partition(": ")
        grouped.setdefault(why, []).append(what)
    text = "; ".join(f"{why}: {', '.join(whats)}" for why, whats in grouped.items())
    return replace(row, problem=text, auth_problem=auth,
                   elapsed_ms=(time.perf_counter() - started) * 1000)


def probe_context(kubeconfig: Kubeconfig, context: str, options: KubeOptions) -> FleetRow:
    """Build an isolated client for ``context``, probe, close (blocking); never raises."""
    from kube9_desktop.kube.client import make_client
    started = time.perf_counter()
    try:
        client = make_client(kubeconfig, context, options)
    except KubeError as err:
        problem, auth = describe_error(err)
        return FleetRow(context, problem=problem, auth_problem=auth, elapsed_ms=(time.perf_counter() - started) * 1000)
    try:
        return probe(client, context)
    finally:
        client.close()


async def probe_all(kubeconfig: Kubeconfig, contexts: Iterable[str], options: KubeOptions | None = None,
                    on_row: Callable[[FleetRow], None] | None = None) -> list[FleetRow]:
    """Probe every context in parallel; ``on_row`` gets each row as soon as it is known; rows in input order."""
    names = list(contexts)
    opts = probe_options(options)
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(names))), thread_name_prefix="kube9-fleet")
    try:
        futs = {loop.run_in_executor(pool, probe_context, kubeconfig, n, opts): n for n in names}
        rows: dict[str, FleetRow] = {}
        for fut in asyncio.as_completed(futs):
            row = await fut
            rows[row.context] = row
            if on_row is not None:
                on_row(row)
        return [rows[n] for n in names]
    finally:
        # The probes are done (or cancelled: their clients close when their timeouts end); do not wait here.
        pool.shutdown(wait=False, cancel_futures=True)


def format_text(rows: list[FleetRow]) -> str:
    """The fleet as a text table (``--run fleet``)."""
    table = [("CONTEXT", "REACHABLE", "VERSION", "NODES", "FAILING", "WARNINGS", "LATENCY", "PROBLEM")]
    for r in rows:
        nodes = f"{r.nodes_ready}/{r.nodes_total}" if r.nodes_total is not None else "-"
        table.append((
            r.context, "yes" if r.reachable else "no", r.version or "-", nodes,
            "-" if r.failing_pods is None else str(r.failing_pods), "-" if r.warnings is None else str(r.warnings),
            f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "-", r.problem or "",
        ))
    widths = [max(len(row[i]) for row in table) for i in range(7)]
    return "\n".join(("   ".join(c.ljust(w) for c, w in zip(row[:7], widths, strict=True)) + "   " + row[7]).rstrip()
                     for row in table)
