"""Per-row display: column texts, ages, status colours and icons.

Kept apart from the model so the model stays a thin adapter and the look can change in one place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QColor, QIcon

from kube9_desktop.kube.convert import human_age
from kube9_desktop.kube.rows import Column, Row, Severity
from kube9_desktop.model.children import is_pinned_group
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.model.usage import UsageBook
from kube9_desktop.text import show_bidi, show_one_line

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: Columns a kind's own Table columns are shown in, after Status (Deployments: Ready, Up-to-date, Available;
#: Services: Cluster-IP, External-IP, Port(s); a custom resource: its printer columns). Each object row fills them
#: from its own kind's columns by position (``Row.columns``); the header names the current list's (see
#: :func:`header_labels`), and the window hides the ones it leaves empty. Room for every column ``kubectl get``
#: prints (priority 0) of the kinds one meets: a CRD's additional printer columns often run past 6 (kubectl shows them
#: all); a kind with more shows its first 10 here (the YAML in the details pane holds what the rest show). Every
#: slot is a model column that Qt's model tester and the views check for every row: 16 slots doubled the
#: tester's run (tests/model/test_tree_model.py past its 400 s timeout on a loaded machine).
KIND_SLOTS = 10
#: Kind columns whose cells a changed row always announces (the most a built-in kind has): a row whose kind has
#: fewer columns now may have shown more before (see ``ShownRows._changed``).
ANNOUNCED_KIND_SLOTS = 6
COL_NAME, COL_STATUS = 0, 1
COL_KIND = 2  # the first kind column
#: For pods the first two kind columns are Ready and Restarts (the names the tree's columns had before).
COL_READY, COL_RESTARTS = COL_KIND, COL_KIND + 1
COL_AGE = COL_KIND + KIND_SLOTS
COL_CPU, COL_MEM = COL_AGE + 1, COL_AGE + 2
KIND_COLUMNS = tuple(range(COL_KIND, COL_AGE))
#: The header's titles while no list is current (a pod's kind columns).
DEFAULT_KIND_LABELS: tuple[str, ...] = ("Ready", "Restarts")
COLUMNS: tuple[str, ...] = ("Name", "Status", *DEFAULT_KIND_LABELS,
                            *([""] * (KIND_SLOTS - len(DEFAULT_KIND_LABELS))), "Age", "CPU", "Memory")
#: The usage columns: figures from metrics.k8s.io (``model/usage.py``), not from the row.
USAGE_COLUMNS = (COL_CPU, COL_MEM)
#: Colours of a usage figure past 80 % / 95 %.
USAGE_COLOURS = {1: QColor("#c98a00"), 2: QColor("#d0342c")}

#: A row that offers an action (``TreeNode.command``): a link's colour, readable on light and dark palettes.
ACTION_COLOUR = QColor("#2f6fd6")

#: Status colours readable on light and dark palettes alike.
SEVERITY_COLOURS: dict[Severity, QColor] = {
    Severity.OK: QColor("#2e9d4c"),
    Severity.WARN: QColor("#c98a00"),
    Severity.ERROR: QColor("#d0342c"),
    Severity.UNKNOWN: QColor("#8a8f98"),
}

SEVERITY_ICONS: dict[Severity, str] = {
    Severity.OK: "status-ok",
    Severity.WARN: "status-warn",
    Severity.ERROR: "status-error",
    Severity.UNKNOWN: "status-unknown",
}


def format_age(created: float | None, now: float | None = None) -> str:
    """kubectl's short age format: ``45s``, ``12m``, ``5h``, ``3d4h``, ``2y``."""
    if created is None:
        return ""
    return human_age((now if now is not None else time.time()) - created)


def cell_text(node: TreeNode, column: int) -> str:
    """The text of ``column`` for ``node``."""
    if column == COL_NAME:
        text = show_one_line(node.display_label)  # a U+202E must not reorder the row, a newline not add one
        if node.row is not None and node.row.namespace and _spans_namespaces(node.parent):
            # The pods on a node, a namespaced CRD's objects: rows from many namespaces, and names repeat.
            text += f"  · {show_one_line(node.row.namespace)}"
        if node.note:
            text += f"  — {node.note}"
        return text
    if node.type is NodeType.CONTEXT:
        return node.status if column == COL_STATUS else ""
    if node.type is NodeType.LIST:
        # In Status, whose cell a list's row leaves empty: at the end of the name it was the first thing the Name
        # column cut ("Pods (10000)  …irst 500 shown" in a 1280 px window with the details pane open).
        return shown_note(node) if column == COL_STATUS else ""
    row = node.row
    if row is None:
        return ""
    if COL_KIND <= column < COL_AGE:
        return kind_cell(row, column)
    cell = ROW_CELLS.get(column)
    return cell(row) if cell is not None else ""


def shown_note(node: TreeNode) -> str:
    """A long list's Status: how many of its rows views are shown (``first 500 shown``; "" when all are)."""
    return f"first {node.shown:,} shown" if node.hidden_rows and node.revealed else ""


def kind_column(row: Row, column: int) -> Column | None:
    """The row's own kind column shown in ``column`` (``None``: the kind has no column there)."""
    i = column - COL_KIND
    return row.columns[i] if 0 <= i < len(row.columns) else None


def kind_cell(row: Row, column: int) -> str:
    """The text of a kind column: the row's own Table cell at that position.

    A row made without Table columns (a test's, a fallback) shows its ready and restart counts where a pod's are.
    """
    col = kind_column(row, column)
    if col is not None:
        return show_one_line(row.cells.get(col.name, ""))
    if not row.columns:
        if column == COL_READY:
            return row.ready
        if column == COL_RESTARTS:
            return row.restarts
    return ""


#: The text of the generic columns after Name for an object row (the kind columns are :func:`kind_cell`).
ROW_CELLS: dict[int, Callable[[Row], str]] = {
    COL_STATUS: lambda row: show_one_line(row.status),
    COL_AGE: lambda row: format_age(row.created),
}


def header_labels(columns: tuple[Column, ...] | None, status: str = "Status") -> tuple[str, ...]:
    """The header's titles when the current list's kind columns are ``columns`` (``None``: no list current yet)."""
    labels = list(COLUMNS)
    labels[COL_STATUS] = status
    if columns is not None:
        names = [c.name for c in columns[:KIND_SLOTS]]
        labels[COL_KIND:COL_AGE] = names + [""] * (KIND_SLOTS - len(names))
    return tuple(labels)


_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_UNITS = (365 * 86400, 86400, 3600, 60, 1)
_PIECES = re.compile(r"(\d+)")


def duration_seconds(text: str) -> int | None:
    """kubectl's short duration (``45s``, ``3d4h``, ``2y``) in seconds; ``None`` if ``text`` is not one."""
    m = _DURATION.fullmatch(text.strip())
    if m is None or not any(m.groups()):
        return None
    return sum(int(g) * unit for g, unit in zip(m.groups(), _DURATION_UNITS, strict=True) if g)


def cell_sort_key(text: str) -> tuple[Any, ...]:
    """How a kind column's cell sorts: a duration as seconds (``9m`` before ``1h``), anything else in natural
    order, numbers inside it as numbers (``9`` before ``10``, ``1/3`` before ``2/3``, ``10.0.0.9`` before
    ``10.0.0.10``, ``3 (5m ago)`` before ``12``); empty and ``<none>`` cells last."""
    t = text.strip()
    if not t or t in ("<none>", "<unknown>", "<pending>"):
        return (2,)
    secs = duration_seconds(t)
    if secs is not None:
        return (0, float(secs))
    try:
        return (1, ((0, float(t), ""),))  # a number column (a CRD's ``number``: 0.25 before 0.5)
    except ValueError:
        pass
    parts = tuple((0, float(p), "") if i % 2 else (1, 0.0, p.casefold())
                  for i, p in enumerate(_PIECES.split(t)) if p)
    return (1, parts)


#: How a generic column sorts object rows (clicking its header sorts each list by it; folders keep their order).
#: Ties fall back to the name. Age sorts by creation time, so ascending is youngest first, as the column reads.
SORT_KEYS: dict[int, Callable[[Row], Any]] = {
    COL_NAME: lambda row: (row.name.casefold(), row.namespace or ""),
    COL_STATUS: lambda row: row.status.casefold(),
    COL_AGE: lambda row: -(row.created or 0.0),
}


def sort_key(row: Row, column: int) -> tuple[Any, str, str]:
    """The key ``row`` sorts by in ``column`` (the name breaks ties); a kind column by :func:`cell_sort_key`."""
    if COL_KIND <= column < COL_AGE:
        return (cell_sort_key(kind_cell(row, column)), row.name.casefold(), row.namespace or "")
    key = SORT_KEYS.get(column, SORT_KEYS[COL_NAME])
    return (key(row), row.name.casefold(), row.namespace or "")


def usage_value(book: UsageBook | None, node: TreeNode, column: int, role: str) -> Any:
    """A usage cell: ``role`` is ``text``, ``colour`` or ``tooltip`` (None: nothing to show)."""
    if book is None or node.kind is None or node.context != book.context:
        return None
    if book.unavailable is not None:
        # Said once, on the list's own row (Nodes, Pods), with the reason in the tooltip: never one per row.
        if node.type is NodeType.LIST and node.kind.key in ("nodes", "pods") and column == COL_CPU:
            return {"text": "metrics unavailable", "colour": SEVERITY_COLOURS[Severity.UNKNOWN],
                    "tooltip": book.unavailable.reason}.get(role)
        return None
    if node.type is not NodeType.OBJECT or node.row is None:
        return None
    cells = book.cells(node.kind.key, node.row.namespace, node.row.name)
    if cells is None:
        return None
    cpu, memory, cpu_level, memory_level = cells
    text, lvl = (cpu, cpu_level) if column == COL_CPU else (memory, memory_level)
    if role == "text":
        return text
    if role == "colour":
        return USAGE_COLOURS.get(lvl)
    if role == "tooltip":
        basis = "allocatable" if node.kind.key == "nodes" else "limit (or request)"
        return f"{'CPU' if column == COL_CPU else 'Memory'} in use: {text} (percent of the {basis}); " \
               "refreshed every 15 s while shown"
    return None


def _spans_namespaces(parent: TreeNode | None) -> bool:
    """Whether ``parent``'s children come from a list across all namespaces (or are pins from anywhere)."""
    if parent is None:
        return False
    return (parent.ref is not None and parent.ref.namespace is None) or is_pinned_group(parent)


@cache
def _icons() -> Traversable:
    """``resources/icons``, looked up once: ``resources.files`` cost ~1 ms a call, once per icon before the first
    paint (the toolbar's, the window's) and per kind as lists arrive."""
    return resources.files("kube9_desktop.resources").joinpath("icons")


@cache
def icon(name: str) -> QIcon:
    """An icon from ``resources/icons`` (empty icon if missing, so a missing file never breaks the tree)."""
    try:
        ref = _icons().joinpath(f"{name}.svg")
        with resources.as_file(ref) as path:
            return QIcon(str(path)) if path.exists() else QIcon()
    except (FileNotFoundError, ModuleNotFoundError):
        return QIcon()


def node_icon(node: TreeNode) -> QIcon:
    """The decoration of the Name column."""
    t = node.type
    if t is NodeType.CONTEXT:
        return icon("context")
    if t is NodeType.FLEET:
        return icon("fleet")
    if t is NodeType.GROUP:
        return icon("category")
    if t is NodeType.LIST and node.kind is not None:
        return icon(node.kind.icon)
    if t is NodeType.OBJECT and node.kind is not None:
        return icon(node.kind.icon)
    if t is NodeType.CONTAINER:
        return icon("container")
    if t is NodeType.ERROR:
        return icon("error")
    if t is NodeType.LOADING:
        return icon("loading")
    if t is NodeType.NOTE:
        return icon("add" if node.command else "info")
    return QIcon()


#: How a row's font differs from the view's (:func:`font_style`): not at all, italic (a remark), underlined (an
#: action, read as a link).
FONT_PLAIN, FONT_ITALIC, FONT_LINK = 0, 1, 2


def font_style(node: TreeNode) -> int:
    """The font of ``node``'s cells: :data:`FONT_ITALIC` for loading rows and notes, :data:`FONT_LINK` for a note
    that offers an action, :data:`FONT_PLAIN` otherwise."""
    if node.type in (NodeType.LOADING, NodeType.NOTE):
        return FONT_LINK if node.command else FONT_ITALIC
    return FONT_PLAIN


def foreground(node: TreeNode, column: int) -> QColor | None:
    """The text colour of a cell before the usage columns (``None``: the palette's): an action's row in the link
    colour, an error row and a Status cell in their severity's."""
    if node.command:
        return ACTION_COLOUR
    if node.type is NodeType.ERROR:
        return SEVERITY_COLOURS[node.severity]
    if column == COL_STATUS:
        return SEVERITY_COLOURS.get(node.severity)
    return None


def status_icon(node: TreeNode) -> QIcon | None:
    """The decoration of the Status column (a coloured dot), or ``None``."""
    sev = node.severity
    if node.type in (NodeType.OBJECT, NodeType.CONTAINER) and sev in SEVERITY_ICONS:
        return icon(SEVERITY_ICONS[sev])
    return None


def tooltip(node: TreeNode) -> str:
    """Tooltip of a row: the hint for errors, the full label otherwise."""
    if node.type is NodeType.ERROR and node.error is not None:
        e = node.error
        parts = [f"<b>{_esc(e.title)}</b>", _esc(e.message)]
        if e.hint:
            parts.append(f"<i>{_esc(e.hint)}</i>")
        parts.append("Double-click to retry.")
        return "<br>".join(parts)
    if node.type is NodeType.NOTE and node.command:
        return f"{_esc(node.label)}<br>Double-click (or Enter) to name a namespace you may use; it is checked, then " \
               "shown here and remembered for this context."
    if node.type is NodeType.FLEET:
        return "Every context of the kubeconfig side by side: reachable, version, nodes, failing pods, warnings."
    if node.type is NodeType.NOTE and node.error is not None:
        return f"{_esc(node.label)}<br><b>Why:</b> {_esc(node.error.one_line())}"
    if node.type is NodeType.OBJECT and node.row is not None and node.row.namespace:
        return show_bidi(f"{node.row.namespace}/{node.row.name}")
    if node.type is NodeType.CONTAINER and node.row is not None:
        return show_bidi(f"{node.display_label}\n{node.row.status}\nDouble-click for its log")
    if node.hidden_rows and node.revealed:
        return (f"{show_bidi(node.display_label)}: the first {node.shown:,} are shown; scroll to the last one to show "
                "more. The filter searches them all.")
    return show_bidi(node.display_label)


def _esc(text: str) -> str:
    return show_bidi(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
