"""The health pages in the bottom dock: ``overview`` (one cluster), ``fleet`` (every context), ``diagnose`` (why is it
failing?).

Payloads:

- ``overview``: ``{"context": str}`` - the cluster's page, refreshed every 15 s while it is the tab shown.
- ``fleet``: ``{"contexts": list[str]}`` - one row per context, filled as each probe ends; a click on its name (or
  a double-click) opens it.
- ``diagnose``: ``{"context", "kind", "namespace", "name"}`` - the findings with their evidence.

Every object on a page is a link: it selects the object in the tree (the window's ``reveal_path``); a failing pod
also has a "Why?" link that runs the ``diagnose`` command. The work runs in worker threads (the Qt-free
``kube/overview.py``, ``kube/fleet.py``, ``kube/diagnose``); each page keeps its task and cancels it when closed.
"""

from __future__ import annotations

import asyncio
import html
import time
from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube import diagnose as dx
from kube9_desktop.kube import fleet as fl
from kube9_desktop.kube import overview as ov
from kube9_desktop.kube.diagnose.facts import gather as gather_facts
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.events import age
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.metrics import CRIT_PCT, WARN_PCT, format_cpu, format_memory, percent
from kube9_desktop.ui.tasks import Tasks
from kube9_desktop.ui.views import ViewHost, register_view

REFRESH_MS = 15_000
#: An overview refreshes at most once per this many times its own duration (and at least every REFRESH_MS apart).
OVERVIEW_COST_FACTOR = 20
_RED, _AMBER, _GREEN, _GREY = "#d0342c", "#c98a00", "#2e9d4c", "#8a8f98"


def tree_path(ref: ov.Ref) -> str:
    """The tree path of an object (``Namespaces/team-a/Workloads/Pods/web-1``, ``Nodes/node-1``)."""
    kind = KINDS.get(ref.kind)
    if kind is None:
        return ""
    if not ref.namespace:
        return f"{kind.label}/{ref.name}"
    return f"Namespaces/{ref.namespace}/{kind.category.value}/{kind.label}/{ref.name}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _link(ref: ov.Ref, text: str | None = None) -> str:
    return f'<a href="select:{_e(tree_path(ref))}">{_e(text or ref.address())}</a>'


def _why(ref: ov.Ref) -> str:
    return f' <a href="why:{_e(ref.address())}">Why?</a>'


def _bar(value: float | None, total: float, colour: str) -> str:
    """A horizontal bar as a table row (QTextBrowser's subset of HTML has no CSS widths on divs)."""
    if value is None or total <= 0:
        return ""
    pct = max(0, min(100, round(value * 100 / total)))
    rest = 100 - pct
    cells = f'<td width="{pct}%" bgcolor="{colour}">&nbsp;</td>' if pct else ""
    cells += f'<td width="{rest}%" bgcolor="#e4e6ea">&nbsp;</td>' if rest else ""
    return f'<table width="100%" cellspacing="0" cellpadding="0"><tr>{cells}</tr></table>'


def _level_colour(pct: float | None) -> str:
    if pct is None:
        return _GREEN
    return _RED if pct >= CRIT_PCT else _AMBER if pct >= WARN_PCT else _GREEN


class _Page(QWidget):
    """A link-following text page with a status line and one background task at a time."""

    def __init__(self, host: ViewHost, title: str) -> None:
        super().__init__()
        self.host = host
        self.setWindowTitle(title)
        self.status = QLabel("Loading…")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.status)
        lay.addWidget(self.browser)
        self._tasks = Tasks()

    def spawn(self, coro: Any) -> None:
        self._tasks.spawn(coro)

    def busy(self) -> bool:
        return bool(self._tasks)

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        scheme, _, rest = text.partition(":")
        if scheme == "select":
            reveal = getattr(self.host, "reveal_path", None)
            if callable(reveal):
                reveal(rest)
            else:
                self.host.show_message(f"{rest}: open it in the tree", 4000)
        elif scheme == "why":
            commands = getattr(self.host, "commands", None)
            if commands is not None:
                self.spawn(commands.run_line(f"diagnose {rest}"))

    def shutdown(self) -> None:
        """The dock closes the tab: cancel the running load."""
        self._tasks.cancel()


class OverviewPage(_Page):
    """One cluster's health, refreshed every 15 s while the tab is visible."""

    def __init__(self, host: ViewHost, context: str) -> None:
        super().__init__(host, f"Overview {context}")
        self.context = context
        self.overview: ov.Overview | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def refresh(self) -> None:
        """Reload (skipped while hidden or while a load runs)."""
        if self.busy() or (self.overview is not None and not self.isVisible()):
            return
        self.spawn(self._load())

    async def _load(self) -> None:
        service = self.host.service
        if service is None:
            return
        try:
            page = await asyncio.to_thread(ov.gather, service, self.context)
        except KubeError as err:
            self.status.setText(f"Overview of {self.context} failed: {err.message}")
            return
        self.show_overview(page)

    def show_overview(self, page: ov.Overview) -> None:
        """Render ``page``; the next refresh waits at least 20 times as long as this one took (a 10,000-pod
        cluster's 24 MB pod list is not re-read every 15 s: the cluster pays for the page, not the timer)."""
        self.overview = page
        self.timer.setInterval(max(REFRESH_MS, int(page.elapsed_ms * OVERVIEW_COST_FACTOR)))
        self.status.setText(f"{page.context}: {page.requests} requests, {page.elapsed_ms:.0f} ms, "
                            f"updated {time.strftime('%H:%M:%S')}")
        self.browser.setHtml(render_overview(page))


def _section(title: str, count: int, rows: list[str], colour: str = "") -> str:
    style = f' style="color:{colour}"' if colour and count else ""
    body = "".join(f"<li>{r}</li>" for r in rows) if rows else ""
    return f"<h3{style}>{_e(title)}: {count}</h3>" + (f"<ul>{body}</ul>" if body else "")


def render_overview(p: ov.Overview, now: float | None = None) -> str:
    """The overview as HTML with links."""
    t = time.time() if now is None else now
    lat = f" · latency {p.latency_ms:.0f} ms" if p.latency_ms is not None else ""
    out = [f"<h2>{_e(p.context)} <small>Kubernetes {_e(p.version or '?')}{lat}</small></h2>"]
    node_colour = _GREEN if p.nodes_ready == p.nodes_total else _RED
    out.append(f'<p><b>Nodes</b> <span style="color:{node_colour}">{p.nodes_ready}/{p.nodes_total} ready</span>'
               f" · {len(p.cordoned)} cordoned · {len(p.pressure)} under pressure</p>")
    out.append("<ul>" + "".join(f"<li>{_link(e.ref)} {_e(e.status)} {_e(e.detail)}</li>"
                                for e in p.not_ready + p.cordoned + p.pressure) + "</ul>" if p.not_ready
               or p.cordoned or p.pressure else "")
    phases = " · ".join(f"{_e(k)} {v}" for k, v in p.phases.items())
    out.append(f"<p><b>Pods</b> {p.pods_total} ({phases})</p>")
    cap = p.capacity
    out.append("<h3>Capacity</h3><table width='100%' cellspacing='4'>")
    for label, a, r, u, fmt in (("CPU", cap.allocatable.cpu, cap.requests.cpu, cap.usage.cpu if cap.usage else None,
                                 format_cpu),
                                ("Memory", cap.allocatable.memory, cap.requests.memory,
                                 cap.usage.memory if cap.usage else None, format_memory)):
        rp, up = percent(r, a), (percent(u, a) if u is not None else None)
        out.append(f"<tr><td width='10%'><b>{label}</b></td><td width='25%'>requested {fmt(r)}"
                   f"{f' ({rp:.0f}%)' if rp is not None else ''} of {fmt(a)}</td>"
                   f"<td>{_bar(r, a, '#5b8def')}</td></tr>")
        used = f"used {fmt(u)}{f' ({up:.0f}%)' if up is not None else ''}" if u is not None else "used: —"
        out.append(f"<tr><td></td><td>{used}</td><td>{_bar(u, a, _level_colour(up))}</td></tr>")
    out.append("</table>")
    if p.metrics is not None:
        out.append(f"<p style='color:{_GREY}'>Usage: metrics unavailable — {_e(p.metrics.reason)}</p>")
    out.append(_section("Failing pods", len(p.failing),
                        [f"{_link(e.ref)} <b style='color:{_RED}'>{_e(e.status)}</b> {_e(e.detail)}{_why(e.ref)}"
                         for e in p.failing[:200]], _RED))
    out.append(_section("Workloads not at desired replicas", len(p.workloads),
                        [f"{_link(e.ref)} {_e(e.status)} {_e(e.detail)}"
                         + (_why(e.ref) if e.diagnosable else "") for e in p.workloads], _AMBER))
    out.append(_section("Restarts (top 10)", len(p.restarts), [f"{_link(e.ref)} {_e(e.status)}{_why(e.ref)}"
                                                               for e in p.restarts]))
    warnings = []
    for w in p.warnings[:50]:
        ref = ov.Ref(_kind_key(w.object_kind), w.object_namespace or None, w.object_name)
        warnings.append(f"{age(t - w.last_seen)} ago {_link(ref, f'{w.object_namespace}/{w.object}')} "
                        f"<b>{_e(w.reason)}</b>: {_e(w.message)}")
    out.append(_section("Warning events (last hour)", len(p.warnings), warnings, _AMBER))
    out.append(_section("PersistentVolumeClaims not Bound", len(p.pvcs),
                        [f"{_link(e.ref)} {_e(e.status)} {_e(e.detail)}" for e in p.pvcs], _AMBER))
    for kind, why in sorted(p.problems.items()):
        out.append(f"<p style='color:{_RED}'>{_e(kind)}: {_e(why)}</p>")
    return "".join(out)


def _kind_key(kind: str) -> str:
    return next((k.key for k in KINDS.values() if k.kind == kind), kind.lower() + "s")


class DiagnosisPage(_Page):
    """The findings about one object."""

    def __init__(self, host: ViewHost, spec: dict[str, str]) -> None:
        super().__init__(host, f"Why? {spec['name']}")
        self.spec = spec
        self.diagnosis: dx.Diagnosis | None = None
        self.spawn(self._load())

    async def _load(self) -> None:
        service = self.host.service
        if service is None:
            return
        s = self.spec

        def work() -> dx.Diagnosis:
            client = ov.api_client(service, s["context"])
            return dx.diagnose(gather_facts(client, s["kind"], s["namespace"], s["name"]))

        self.status.setText(f"Diagnosing {s['namespace']}/{s['name']}…")
        try:
            d = await asyncio.to_thread(work)
        except KubeError as err:
            self.status.setText(f"Cannot diagnose {s['name']}: {err.message}")
            return
        self.show_diagnosis(d)

    def show_diagnosis(self, d: dx.Diagnosis) -> None:
        """Render ``d``."""
        self.diagnosis = d
        self.status.setText(f"{len(d.findings)} finding(s)")
        self.browser.setHtml(render_diagnosis(d))


def render_diagnosis(d: dx.Diagnosis) -> str:
    """The diagnosis as HTML."""
    colour = _GREEN if d.healthy else _RED
    out = [f"<h2>{_link(d.ref)} <span style='color:{colour}'>{_e(d.state)}</span></h2>"]
    if d.healthy:
        out.append("<p>No problem found: none of the rules applies.</p>")
    for f in d.findings:
        where = "" if f.ref == d.ref else f" <small>({_link(f.ref)})</small>"
        out.append(f"<h3 style='color:{_RED}'>{_e(f.summary)}{where}</h3>")
        if f.why:
            out.append(f"<p>{_e(f.why)}</p>")
        if f.evidence:
            out.append("<p><b>Evidence</b></p><ul>" + "".join(f"<li>{_e(x)}</li>" for x in f.evidence) + "</ul>")
        if f.log:
            out.append("<p><b>Previous log</b></p><pre style='background:#f2f3f5'>"
                       + _e("\n".join(f.log)) + "</pre>")
        if f.next_steps:
            out.append("<p><b>Check next</b></p><ul>" + "".join(f"<li>{_e(x)}</li>" for x in f.next_steps)
                       + "</ul>")
    return "".join(out)


def _link_item(text: str) -> QTableWidgetItem:
    """A context's name cell: blue and underlined like a link (a click opens the context)."""
    item = QTableWidgetItem(text)
    font = item.font()
    font.setUnderline(True)
    item.setFont(font)
    item.setForeground(QColor("#2453b8"))
    return item


FLEET_COLUMNS = ("Context", "Reachable", "Version", "Nodes", "Failing pods", "Warnings", "Latency", "Problem")


class FleetPage(QWidget):
    """Every context as a row, filled as each probe ends; a click on its name (or a double-click) opens it."""

    def __init__(self, host: ViewHost, contexts: list[str]) -> None:
        super().__init__()
        self.host = host
        self.contexts = contexts
        self.setWindowTitle("All clusters")
        self.status = QLabel(f"Probing {len(contexts)} contexts…")
        self.table = QTableWidget(len(contexts), len(FLEET_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(FLEET_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._open)
        # A click on a context's name opens it (the name is drawn as a link); elsewhere a click only selects.
        self.table.cellClicked.connect(lambda row, col: self._open(row, col) if col == 0 else None)
        for i, name in enumerate(contexts):
            self.table.setItem(i, 0, _link_item(name))
            self.table.setItem(i, 1, QTableWidgetItem("…"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.status)
        lay.addWidget(self.table)
        self.rows: dict[str, fl.FleetRow] = {}
        self._started = time.monotonic()
        self._task: asyncio.Future[Any] | None = None
        service = host.service
        if service is not None:
            self._task = asyncio.ensure_future(fl.probe_all(service.kubeconfig, contexts, service.options,
                                                            on_row=self.add_row))

    def add_row(self, r: fl.FleetRow) -> None:
        """Fill the row of ``r.context`` (called as each probe ends)."""
        self.rows[r.context] = r
        i = self.contexts.index(r.context)
        nodes = f"{r.nodes_ready}/{r.nodes_total}" if r.nodes_total is not None else "—"
        cells = [r.context, "yes" if r.reachable else "no", r.version or "—", nodes,
                 "—" if r.failing_pods is None else str(r.failing_pods), "—" if r.warnings is None else str(r.warnings),
                 f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "—", r.problem]
        colour = QColor(_RED) if not r.reachable else QColor(_AMBER) if r.auth_problem or r.failing_pods else None
        for c, text in enumerate(cells):
            item = _link_item(text) if c == 0 else QTableWidgetItem(text)
            item.setToolTip(f"Open {text}" if c == 0 else text)
            if colour is not None and c in (1, 4, 7):
                item.setForeground(colour)
            self.table.setItem(i, c, item)
        done = len(self.rows)
        self.status.setText(f"{done}/{len(self.contexts)} contexts probed in "
                            f"{time.monotonic() - self._started:.1f} s · click a context's name to open it")

    def _open(self, row: int, _col: int) -> None:
        box = getattr(self.host, "context_box", None)
        if box is not None:
            box.setCurrentText(self.contexts[row])

    def shutdown(self) -> None:
        """The dock closes the tab: stop waiting for the probes (their clients time out on their own)."""
        if self._task is not None:
            self._task.cancel()


@register_view("overview")
def overview_view(host: ViewHost, payload: Any) -> QWidget | None:
    """The overview tab of a context (one per context)."""
    context = str(payload["context"])
    page = OverviewPage(host, context)
    page.setProperty("dock_key", ("overview", context))
    page.refresh()
    return page


@register_view("fleet")
def fleet_view(host: ViewHost, payload: Any) -> QWidget | None:
    """The All clusters tab (a new probe each time it is opened)."""
    existing = host.bottom_dock.tab_for("fleet")
    if existing is not None:
        index = host.bottom_dock.tab_widget.indexOf(existing)
        host.bottom_dock.close_tab(index)
    page = FleetPage(host, list(payload["contexts"]))
    page.setProperty("dock_key", "fleet")
    return page


@register_view("diagnose")
def diagnose_view(host: ViewHost, payload: Any) -> QWidget | None:
    """A diagnosis tab per object."""
    page = DiagnosisPage(host, dict(payload))
    page.setProperty("dock_key", ("diagnose", payload["context"], payload["kind"], payload["namespace"],
                                  payload["name"]))
    return page
