"""Headless modes: ``--print-tree`` and ``--screenshot``.

Both drive the real model through ``canFetchMore``/``fetchMore`` — the same path a user's expansion takes — and
wait for the loads to finish; nothing here shortcuts to the data layer. Every name and message printed has its
control characters escaped (:func:`~kube9_desktop.text.escape_controls`): they come from the server and the files.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from kube9_desktop.kube.kinds import StatusRule
from kube9_desktop.model import children as child_tables
from kube9_desktop.model.children import relation
from kube9_desktop.model.lag import LoopLagMonitor
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode, child_at, split_path
from kube9_desktop.model.tree_core import PlainTree, TreeCore
from kube9_desktop.text import escape_controls

#: ``--print-tree`` exit statuses (documented in ``--help`` and the README).
EXIT_OK = 0
EXIT_CONTEXT_FAILED = 1  # the context could not be loaded: unreachable, credentials rejected, TLS ...
EXIT_NO_CONTEXT = 2  # no such context, or none given and no current-context (argparse's usage errors are 2 too)
EXIT_PATH_MISSING = 3  # an --expand path does not exist

if TYPE_CHECKING:
    from kube9_desktop.config.values import Settings
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.ui.main_window import MainWindow


async def load_tree(model: TreeCore, depth: int, paths: list[str],
                    expand_view: object | None = None) -> list[str]:
    """Load every node above ``depth`` and every node on each path, through ``fetchMore``.

    Args:
        model: The tree (the window's model, or headless :class:`PlainTree`), with its context already set.
        depth: Nodes at depth < ``depth`` are expanded (the context root is depth 0), so rows down to ``depth``
            are listed.
        paths: Slash-separated label paths below the context root to load as well.
        expand_view: Optional callable taking a node, called for every node expanded (the screenshot mode
            expands the view's rows with it).

    Returns:
        Problems worth telling the user (paths that do not exist).
    """
    problems: list[str] = []
    root = model.context_node()
    if root is None:
        return ["no context"]
    await model.wait_idle()
    level = [root]
    for _ in range(depth):
        for n in level:
            # What loads only when opened by name (the cluster's Events, a pod's containers) is not opened by
            # depth: --expand names it.
            if n.expandable and not child_tables.on_demand(n):
                model.expand(n)
                if callable(expand_view):
                    expand_view(n)
        await model.wait_idle()
        level = [c for n in level for c in n.children if c.expandable and not child_tables.on_demand(c)]
    for path in paths:
        node: TreeNode | None = root
        parts = split_path(path)
        i = 0
        while i < len(parts):
            assert node is not None
            model.expand(node)
            if callable(expand_view):
                expand_view(node)
            await model.wait_idle()
            node, after = child_at(node, parts, i)
            if node is None:
                problems.append(f"--expand {path}: no row '{parts[i]}' under '{'/'.join(parts[:i]) or root.label}'")
                break
            i = after
        if node is not None:
            model.expand(node)
            if callable(expand_view):
                expand_view(node)
            await model.wait_idle()
            await _drill_down(model, node, expand_view)
    return problems


async def _drill_down(model: TreeCore, node: TreeNode, expand_view: object | None) -> None:
    """An expanded owner shows its whole chain of related objects (a Deployment its ReplicaSets and their pods,
    a CronJob its Jobs and their pods): each related object below it that drills down further is expanded too."""
    if relation(node.kind) is None or node.type is not NodeType.OBJECT:
        return
    level = [node]
    while level:
        level = [c for n in level for c in n.children if c.type is NodeType.OBJECT and relation(c.kind) is not None]
        for c in level:
            model.expand(c)
            if callable(expand_view):
                expand_view(c)
        await model.wait_idle()


def format_tree(root: TreeNode, extra: Callable[[TreeNode], str] | None = None) -> list[str]:
    """One line per row: two spaces per level, the label, a tab and the status; errors as ``! message``.

    ``extra`` adds columns (after a tab) to an object row: the CPU/MEM usage of nodes and pods.

    Labels and statuses have their control characters escaped, so a newline or tab in a name cannot forge a row or
    a column, and no escape sequence reaches the terminal.
    """
    return list(tree_lines(root, extra))


def tree_lines(root: TreeNode, extra: Callable[[TreeNode], str] | None = None) -> Iterator[str]:
    """:func:`format_tree` a line at a time: ``--print-tree`` writes them as they come (50,000 rows' lines held at
    once were ~6 MB at the very top of its peak memory)."""
    esc = escape_controls
    stack: list[tuple[TreeNode, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node.type is NodeType.LOADING:
            continue
        stack.extend((c, depth + 1) for c in reversed(node.children))
        indent = "  " * depth
        if node.type is NodeType.ERROR:
            yield f"{indent}! {esc(node.label)}"
        elif node.type is NodeType.NOTE:
            why = f" ({node.error.one_line()})" if node.error is not None else ""  # a terminal line may be long
            yield f"{indent}~ {esc(node.label + why)}"
        else:
            status = esc(node.status if node.type is NodeType.CONTEXT else (node.row.status if node.row else ""))
            label = esc(node.display_label + (f" [{node.note}]" if node.note else ""))
            fields = [*kind_fields(node), extra(node) if extra is not None and node.row is not None else ""]
            more = "\t".join(f for f in fields if f)
            if more:
                yield f"{indent}{label}\t{status}\t{more}"
            else:
                yield f"{indent}{label}\t{status}" if status else f"{indent}{label}"


def kind_fields(node: TreeNode) -> list[str]:
    """An object row's kind columns as ``Column: cell`` fields (``Up-to-date: 3``, ``Cluster-IP: 10.96.0.12``),
    the ones the window shows after Status (a container row's Ready and Restarts too). A custom resource's status
    already is its printer columns, so they are not printed twice."""
    row = node.row
    if row is None or (node.type is not NodeType.CONTAINER and (
            node.type is not NodeType.OBJECT or node.kind is None or node.kind.status_rule is StatusRule.PRINTER)):
        return []
    return [escape_controls(f"{c.name}: {row.cells.get(c.name, '')}".rstrip()) for c in row.columns]


def _walk(node: TreeNode) -> Iterator[TreeNode]:
    yield node
    for c in node.children:
        yield from _walk(c)


async def usage_columns(service: KubeService, context: str, root: TreeNode) -> Callable[[TreeNode], str] | None:
    """CPU and MEM columns for node, pod and workload rows (``250m 6%``, ``512Mi 3%``), from the metrics API.

    The percentages are the window's (:class:`~kube9_desktop.model.usage.UsageBook`): a node's of its allocatable, a
    pod's of its limits (else requests), a workload's (its pods' sum) of its pods' requests. The nodes are read in
    one sample, the pods a namespace at a time (its metrics, and one narrow pod list for the requests). Where the
    API is missing, one line on stderr says why (never one per row) and the rows stay as they were.
    """
    from kube9_desktop.kube.errors import KubeError
    from kube9_desktop.kube.metrics import Unavailable, api_client, explain_unavailable, read_sample, tree_figures
    from kube9_desktop.model.usage import WORKLOAD_KINDS, UsageBook

    rows = [n for n in _walk(root) if n.row is not None and n.kind is not None]
    kinds = {n.kind.key for n in rows if n.kind is not None}
    if not kinds & ({"nodes", "pods"} | WORKLOAD_KINDS):
        return None
    namespaces = sorted({n.row.namespace for n in rows if n.row is not None and n.row.namespace
                         and n.kind is not None and n.kind.key in {"pods"} | WORKLOAD_KINDS})
    del rows

    def namespace_book(client: Any, ns: str) -> UsageBook | Unavailable:
        """One namespace's pods and workloads (blocking): its metrics and its pods' requests, then the book."""
        from kube9_desktop.kube.overview import pod_requests  # only when pod or workload rows are printed

        try:
            sample = read_sample(client, nodes=False, namespaces=frozenset({ns}), containers=False)
            return UsageBook.build(context, sample, {}, pod_requests(client, [ns]))
        except KubeError as err:
            return explain_unavailable(client, err)

    try:
        client = await asyncio.to_thread(api_client, service, context)
        got = await asyncio.to_thread(tree_figures, client, False)  # the nodes' figures (and whether the API is there)
        if isinstance(got, Unavailable):
            say(f"metrics unavailable: {got.reason}")
            return None
        sample, alloc = got
        book = UsageBook.build(context, sample, alloc, {})
        # The pods' figures one namespace at a time, keeping only the cells: read at once, the metrics, requests
        # and cells of 50,000 pods (each pod's key three times) were ~65 MB of the process's peak (issue 15 goal 4).
        for ns in namespaces:
            part = await asyncio.to_thread(namespace_book, client, ns)
            if isinstance(part, Unavailable):
                say(f"metrics unavailable: {part.reason}")
                break
            book.pods.update(part.pods)
            book.workloads.update(part.workloads)
    except KubeError as err:
        say(f"metrics unavailable: {err.message}")
        return None

    def cells(node: TreeNode) -> str:
        if node.kind is None or node.row is None:
            return ""
        c = book.cells(node.kind.key, node.row.namespace, node.row.name)
        return f"cpu {c[0]}\tmem {c[1]}" if c is not None and c[0] else ""

    return cells


def say(message: str) -> None:
    """One line on stderr, prefixed with the program's name, control characters escaped."""
    print(f"kube9-desktop: {escape_controls(message)}", file=sys.stderr, flush=True)


async def print_tree(service: KubeService, args: argparse.Namespace, settings: Settings,
                     out: TextIO = sys.stdout) -> int:
    """``--print-tree``: load through the model, print the tree and a footer of measurements.

    Every kubeconfig problem (a skipped file, a broken context) goes to stderr first, so the reason a context is
    missing comes before the complaint that it is.

    Returns:
        The exit status: :data:`EXIT_OK`, :data:`EXIT_CONTEXT_FAILED`, :data:`EXIT_NO_CONTEXT` or
        :data:`EXIT_PATH_MISSING` (the first that applies in that order of precedence: 2, 1, 3).
    """
    kubeconfig = service.kubeconfig
    for p in kubeconfig.problems:
        say(p.message)
    context = args.context or kubeconfig.current_context
    names = kubeconfig.names()
    contexts = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "") or "none"
    if not context:
        say(f"no context given and the kubeconfig has no current-context (contexts: {contexts})")
        return EXIT_NO_CONTEXT
    unknown = context not in kubeconfig.names()
    if unknown:  # why (a skipped file, a broken entry) is on the lines above
        say(f"the kubeconfig has no usable context named {context!r} (contexts: {contexts})")
    model = PlainTree()
    model.accessible_namespaces = settings.accessible_namespaces
    # Nothing is opened after the print: discovery ahead of a namespace (the window's, for the one the user opens
    # next) was ~20 requests the print waited for and never used (a namespace given by --expand still discovers).
    model.discover_ahead = False
    model.set_service(service)
    monitor = LoopLagMonitor()
    monitor.start()
    try:  # a signal cancels the run: the sampler and the model's loads still stop
        await asyncio.sleep(0)
        model.reset_timing()
        model.set_context(context, user=False)
        problems = await load_tree(model, args.depth, list(args.expand))
        load_ms = 0.0
        if model.first_load_at is not None and model.last_insert_at is not None:
            load_ms = max(0.0, (model.last_insert_at - model.first_load_at) * 1000)
        watch_events = None
        if getattr(args, "live_seconds", 0) > 0:
            watch_events = await _stay_live(model, args.live_seconds)
        await monitor.stop()
        root = model.context_node()
        assert root is not None
        stats = service.stats(context)
        cache = service.cache_stats()
        # Usage columns: read after the tree's own numbers are taken, so the footer still counts the tree alone.
        extra = None if root.state is LoadState.FAILED else await usage_columns(service, context, root)
        rows = 0
        lines = tree_lines(root, extra)
        while chunk := list(itertools.islice(lines, 2000)):  # in slices: 50,000 rows joined at once were ~8 MB
            rows += len(chunk)
            out.write("\n".join(chunk) + "\n")
        footer = (f"# rows={rows} load_ms={load_ms:.1f} requests={stats.requests} cache_hits={cache.hits} "
                  f"cache_misses={cache.misses} connections={stats.connections} "
                  f"max_loop_lag_ms={monitor.max_lag_ms:.1f}")
        if watch_events is not None:
            footer += f" watch_events={watch_events}"
        out.write(footer + "\n")
        out.flush()
        failed = root.state is LoadState.FAILED
        if failed and not unknown:
            error = next((c.label for c in root.children if c.type is NodeType.ERROR), "it failed to load")
            say(f"context {context!r}: {error}")
        for problem in problems:
            say(problem)
        if unknown:
            return EXIT_NO_CONTEXT
        if failed:
            return EXIT_CONTEXT_FAILED
        return EXIT_PATH_MISSING if problems else EXIT_OK
    finally:
        await monitor.stop()
        await model.shutdown()


async def _stay_live(model: TreeCore, seconds: float) -> int:
    """Keep the tree live for ``seconds``; returns the watch events applied (live updates, issue 8)."""
    live = getattr(model, "live", None)
    if live is None:
        await asyncio.sleep(seconds)
        return 0
    live.start_all()
    await asyncio.sleep(seconds)
    await live.settle()
    return int(live.events_applied)


async def screenshot(window: MainWindow, args: argparse.Namespace) -> int:
    """``--screenshot FILE``: load like ``--print-tree`` in the real window, then save it as a PNG."""
    model = window.model
    t0 = time.monotonic()
    while model.context_node() is None and time.monotonic() - t0 < 30:
        await asyncio.sleep(0.05)
    problems = await load_tree(model, args.depth, list(args.expand), expand_view=window.expand_node)
    for p in problems:
        say(p)
    window.select_first_object()
    # Give Qt a second of normal loop turns to lay out and paint. Never call processEvents() here: it re-enters
    # the Qt loop from inside this task, so another task's step would run nested in ours and asyncio aborts it
    # ("Cannot enter into task ... while another task is being executed"), which hung this mode on CI.
    await asyncio.sleep(1.0)
    await window.wait_details()
    await asyncio.sleep(0.1)
    ok = window.grab().save(args.screenshot, "PNG")
    if not ok:
        say(f"could not write {args.screenshot}")
        return 1
    return 0
