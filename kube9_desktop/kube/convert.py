"""Turn server responses into :class:`~kube9_desktop.kube.rows.Row` records.

Two sources produce the same rows:

* :func:`row_from_table` — one row of a server-side Table (``as=Table``), the fast path: the API server
  already
  computed the columns kubectl prints, so nothing here re-implements kubectl's printers for it.
* :func:`row_from_object` — a plain object (JSON list fallback for servers/aggregated APIs without Table
  support,
  and the kubectl backend). It derives the same cells kubectl's printers show for the columns the tree uses
  (pod status exactly like ``kubectl get pods``, ready counts, restarts ...).

Both run in worker threads; they only touch plain dicts and lists.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from sys import intern
from typing import Any

from kube9_desktop.kube.gui_gate import ROWS_PER_STEP, checkpoint
from kube9_desktop.kube.kinds import Kind, StatusRule
from kube9_desktop.kube.rows import Column, Row, Severity, severity_of


def parse_time(value: Any) -> float | None:
    """RFC 3339 timestamp → epoch seconds (``None`` if absent or malformed)."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def human_age(seconds: float) -> str:
    """kubectl's short age format (apimachinery's ``HumanDuration``): ``45s``, ``5m30s``, ``12m``, ``5h``, ``3d4h``,
    ``2y3d``, ``9y``."""
    secs = max(0, int(seconds))
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:  # kubectl keeps the days between two and eight years: "2y3d"
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{days // 365}y"


_AGE_PART = re.compile(r"(\d+)([ydhms])")
_AGE_UNITS = {"y": 365 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_age(text: str) -> float | None:
    """An age as kubectl prints it (``65s``, ``5m30s``, ``3d4h``, ``2y``) in seconds; ``None`` if it is not one
    (``<unknown>``, empty)."""
    text = text.strip()
    parts = _AGE_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return float(sum(int(n) * _AGE_UNITS[u] for n, u in parts))


def cell_text(value: Any) -> str:
    """A Table cell as display text (numbers and booleans like kubectl prints them)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"  # as kubectl prints a boolean column (Go's %v)
    if isinstance(value, (list, tuple)):
        return ",".join(cell_text(v) for v in value)
    return str(value)


def _split_ready(text: str) -> tuple[int, int] | None:
    a, sep, b = text.partition("/")
    if not sep:
        return None
    try:
        return int(a), int(b)
    except ValueError:
        return None


#: Columns a ``printer`` status leaves out: the row's own name and times the tree shows elsewhere.
_NOT_PRINTED = frozenset({"Name", "Age", "Created At"})


def apply_status(kind: Kind, row: Row) -> None:
    """Fill ``row.status``/``severity``/``ready``/``restarts`` from ``row.cells`` by the kind's StatusRule."""
    cells = row.cells
    rule = kind.status_rule
    if kind.ready_column:
        row.ready = cells.get(kind.ready_column, "")
    if kind.restarts_column:
        row.restarts = cells.get(kind.restarts_column, "")
    if rule is StatusRule.COLUMN:
        row.status = cells.get(kind.status_column or "Status", "")
        row.severity = severity_of(row.status)
        if row.severity is Severity.OK and row.status == "Running" and kind.ready_column:
            # Running but not ready (a failing readiness probe: "0/1"): it gets no traffic, so not green.
            pair = _split_ready(row.ready)
            if pair is not None and pair[0] < pair[1]:
                row.severity = Severity.WARN
    elif rule is StatusRule.TEXT:
        row.status = cells.get(kind.status_column or "", "")
        row.severity = Severity.NONE
    elif rule is StatusRule.READY:
        pair = _split_ready(row.ready)
        if pair is None and kind.desired_column:
            try:
                pair = (int(row.ready or 0), int(cells.get(kind.desired_column) or 0))
            except ValueError:
                pair = None
            if pair is not None:
                row.ready = f"{pair[0]}/{pair[1]}"
        if pair is None:
            row.status, row.severity = "", Severity.NONE
        elif pair[1] == 0:
            row.status, row.severity = "Scaled to 0", Severity.NONE
        elif pair[0] >= pair[1]:
            row.status, row.severity = "Ready", Severity.OK
        else:
            row.status, row.severity = f"{pair[0]}/{pair[1]} ready", Severity.WARN
    elif rule is StatusRule.COMPLETIONS:
        pair = _split_ready(row.ready)
        if pair is not None and pair[0] >= pair[1] > 0:
            row.status, row.severity = "Complete", Severity.OK
        else:
            row.status, row.severity = "Running", Severity.WARN
    elif rule is StatusRule.PRINTER:
        shown = [str(v) for k, v in cells.items() if k not in _NOT_PRINTED and v not in (None, "", "<none>")]
        row.status = " · ".join(shown)
        state = next((str(cells[k]) for k in ("Status", "Phase", "State", "Ready") if cells.get(k)), "")
        row.severity = severity_of(state) if state else Severity.NONE
    elif rule is StatusRule.CRONJOB:
        if cells.get("Suspend", "").lower() == "true":
            row.status = "Suspended"
        elif cells.get("Active", "0") not in ("", "0"):
            row.status = "Active"
        else:
            row.status = "Scheduled"
        row.severity = severity_of(row.status)


#: Columns the tree shows in its own generic columns, never among a kind's own.
_GENERIC_COLUMNS = frozenset({"Name", "Age"})
#: One tuple per distinct (kind, Table columns): every row of every page of a list shares it, and the tree's header
#: compares them by identity.
_TREE_COLUMNS: dict[tuple[Any, ...], tuple[Column, ...]] = {}


def status_shown(kind: Kind) -> str | None:
    """The Table column the tree's Status column shows as it is (``Status`` for pods, ``Type`` for services), or
    ``None`` when the status is derived from several cells (deployments' ready counts, jobs' completions)."""
    if kind.status_rule in (StatusRule.COLUMN, StatusRule.TEXT):
        return kind.status_column or "Status"
    return None


def tree_columns(kind: Kind, definitions: list[dict[str, Any]]) -> tuple[Column, ...]:
    """The kind's own columns the tree shows after Status, from a Table's ``columnDefinitions``.

    What ``kubectl get`` prints (priority 0) and the kind's :attr:`~Kind.wide_columns`, in the server's order,
    less the columns the tree shows anyway: Name, Age and the one Status shows (see :func:`status_shown`).
    """
    key = (kind.key, tuple((d.get("name"), d.get("type"), d.get("priority")) for d in definitions))
    got = _TREE_COLUMNS.get(key)
    if got is None:
        skip = _GENERIC_COLUMNS | {status_shown(kind)}
        got = tuple(Column(str(d.get("name") or ""), str(d.get("type") or "string"), int(d.get("priority") or 0))
                    for d in definitions
                    if d.get("name") and d.get("name") not in skip
                    and (not d.get("priority") or d.get("name") in kind.wide_columns))
        _TREE_COLUMNS[key] = got
    return got


def row_from_table(kind: Kind, columns: list[str], table_row: dict[str, Any],
                   shown: tuple[Column, ...] = ()) -> Row:
    """One Table row (``{"cells": [...], "object": {...metadata...}}``) as a Row.

    Args:
        kind: The kind listed.
        columns: The Table's column names, in cell order.
        table_row: The row; its ``object`` is PartialObjectMetadata (``includeObject=Metadata``), a full
            object,
            or absent (``includeObject=None``).
        shown: The kind's own columns the tree shows (:func:`tree_columns` of the Table).
    """
    raw = table_row.get("cells") or []
    # Most cells are strings already: this runs for every cell of every row in the worker threads. Interned: a
    # column's values repeat from row to row ("1/1", "Running", "node-7", "<none>"), and the parser gives every row
    # its own copy (~50 bytes each, ~8 per pod).
    cells = {name: intern(value) if type(value) is str else intern(cell_text(value))
             for name, value in zip(columns, raw, strict=False)}
    meta = (table_row.get("object") or {}).get("metadata") or {}
    name = meta.get("name") or cells.get("Name", "")
    if cells.get("Name") == name:
        cells["Name"] = name  # one string for the row's name, not two
    return _row(kind, meta, cells, name, shown)


#: Label sets already seen, so rows with the same labels share one dict (the pods of one ReplicaSet all carry the
#: same two or three). Cleared when it grows past :data:`_LABEL_SETS_MAX` entries.
_LABEL_SETS: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
_LABEL_SETS_MAX = 20_000


def shared_labels(labels: dict[str, str] | None) -> dict[str, str]:
    """``labels`` as a dict shared by every row with the same labels (treat a row's labels as read-only).

    Runs in the worker threads: every dict operation here is atomic under the GIL, and a race at worst stores the
    same set twice.
    """
    if not labels:
        return _NO_LABELS
    key = tuple(labels.items())
    got = _LABEL_SETS.get(key)
    if got is None:
        if len(_LABEL_SETS) >= _LABEL_SETS_MAX:
            _LABEL_SETS.clear()
        got = _LABEL_SETS[key] = {intern(k): intern(v) if type(v) is str else v for k, v in labels.items()}
    return got


_NO_LABELS: dict[str, str] = {}

#: Owner uid tuples already seen, like :data:`_LABEL_SETS`: the pods of one ReplicaSet share one tuple and one
#: uid string (~130 bytes a pod: 7 MB at 50,000 pods). Cleared past :data:`_LABEL_SETS_MAX` entries.
_OWNER_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def shared_owners(uids: tuple[str, ...]) -> tuple[str, ...]:
    """``uids`` as the tuple shared by every row with the same owners (worker threads: see :func:`shared_labels`)."""
    if not uids:
        return ()
    got = _OWNER_SETS.get(uids)
    if got is None:
        if len(_OWNER_SETS) >= _LABEL_SETS_MAX:
            _OWNER_SETS.clear()
        got = _OWNER_SETS[uids] = uids
    return got


def _row(kind: Kind, meta: dict[str, Any], cells: dict[str, str], name: str,
         shown: tuple[Column, ...] = ()) -> Row:
    """The Row for an object's metadata and display cells (both list paths end here, so they agree)."""
    namespace = meta.get("namespace") if kind.namespaced else None
    if namespace:
        namespace = intern(namespace)
    row = Row(
        uid=meta.get("uid") or f"{namespace or ''}/{name}",
        name=name,
        namespace=namespace,
        kind=kind.key,
        cells=cells,
        created=parse_time(meta.get("creationTimestamp")),
        labels=shared_labels(meta.get("labels")),
        resource_version=meta.get("resourceVersion") or "",
        columns=shown,
        extra=_NO_EXTRA,
    )
    refs = meta.get("ownerReferences")
    if refs:
        row.owners = shared_owners(tuple(r["uid"] for r in refs if isinstance(r, dict) and r.get("uid")))
    apply_status(kind, row)
    if kind.seen_column is not None:
        # When it last happened, as a time: an age ("65s") is relative to the moment it was read, and rows read
        # at different moments (a list, later watch events) are ordered together.
        age = parse_age(cells.get(kind.seen_column, ""))
        row.extra = {**row.extra, "seen_at": round(time.time() - age) if age is not None else (row.created or 0.0)}
    if kind.key == "pods" and cells.get("Node") not in (None, "", "<none>"):
        # Shared between the pods on one node unless the row has facts of its own (a new dict then: never written
        # into a shared one).
        row.extra = _on_node(cells["Node"]) if row.extra is _NO_EXTRA else {**row.extra, "node": cells["Node"]}
    return row


_NO_EXTRA: dict[str, Any] = {}
#: ``{"node": name}`` per node: the pods on one node share it (a dict per pod was ~180 bytes).
_ON_NODE: dict[str, dict[str, Any]] = {}


def _on_node(node: str) -> dict[str, Any]:
    got = _ON_NODE.get(node)
    if got is None:
        if len(_ON_NODE) >= _LABEL_SETS_MAX:
            _ON_NODE.clear()
        got = _ON_NODE[node] = {"node": intern(node)}
    return got


# ------------------------------------------------------------------------------------------------------------
# Plain objects → the cells kubectl prints


def pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    """The STATUS, ready count, container count and restarts kubectl prints for a pod.

    A port of kubectl's ``printPod`` (pkg/printers/internalversion/printers.go): init container failures show
    as
    ``Init:Error``/``Init:CrashLoopBackOff``/``Init:1/2``, waiting reasons (``CrashLoopBackOff``,
    ``ImagePullBackOff``) and terminated reasons win over the phase, and a pod being deleted is
    ``Terminating``.
    """
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    reason = status.get("phase") or ""
    if status.get("reason"):
        reason = status["reason"]
    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term = state.get("terminated")
        wait = state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode')}"
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            state = cs.get("state") or {}
            wait = state.get("waiting")
            term = state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (
                    f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
                )
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
            reason = "Running" if conditions.get("Ready") == "True" else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, total, restarts


def _node_status(node: dict[str, Any]) -> str:
    conds = {c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []}
    ready = conds.get("Ready")
    parts = ["Ready" if ready == "True" else "NotReady" if ready == "False" else "Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def _node_roles(node: dict[str, Any]) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = sorted(
        {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k}
        | {v for k, v in labels.items() if k == "kubernetes.io/role" and v}
    )
    return ",".join(r for r in roles if r) or "<none>"


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def object_cells(kind: Kind, obj: dict[str, Any]) -> dict[str, str]:
    """The cells kubectl prints for the columns the tree uses, computed from a full object."""
    spec = obj.get("spec") or {}
    st = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    cells: dict[str, str] = {"Name": meta.get("name", "")}
    key = kind.key
    if key == "pods":
        reason, ready, total, restarts = pod_status(obj)
        cells.update(
            {
                "Ready": f"{ready}/{total}",
                "Status": reason,
                "Restarts": str(restarts),
                "IP": st.get("podIP") or "<none>",
                "Node": spec.get("nodeName") or "<none>",
            }
        )
    elif key == "nodes":
        cells.update(
            {
                "Status": _node_status(obj),
                "Roles": _node_roles(obj),
                "Version": ((st.get("nodeInfo") or {}).get("kubeletVersion") or ""),
            }
        )
    elif key in ("namespaces", "persistentvolumes", "persistentvolumeclaims"):
        cells["Status"] = st.get("phase") or ""
        if key == "persistentvolumeclaims":
            cells["Volume"] = spec.get("volumeName") or ""
        if key == "persistentvolumes":
            ref = spec.get("claimRef") or {}
            cells["Claim"] = f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""
    elif key == "deployments":
        cells.update(
            {
                "Ready": f"{_int(st.get('readyReplicas'))}/{_int(spec.get('replicas', 1))}",
                "Up-to-date": str(_int(st.get("updatedReplicas"))),
                "Available": str(_int(st.get("availableReplicas"))),
            }
        )
    elif key == "statefulsets":
        cells["Ready"] = f"{_int(st.get('readyReplicas'))}/{_int(spec.get('replicas', 1))}"
    elif key == "daemonsets":
        cells.update(
            {
                "Desired": str(_int(st.get("desiredNumberScheduled"))),
                "Current": str(_int(st.get("currentNumberScheduled"))),
                "Ready": str(_int(st.get("numberReady"))),
                "Up-to-date": str(_int(st.get("updatedNumberScheduled"))),
                "Available": str(_int(st.get("numberAvailable"))),
            }
        )
    elif key == "replicasets":
        cells.update(
            {
                "Desired": str(_int(spec.get("replicas", 1))),
                "Current": str(_int(st.get("replicas"))),
                "Ready": str(_int(st.get("readyReplicas"))),
            }
        )
    elif key == "jobs":
        completions = spec.get("completions")
        if completions is None:  # kubectl shows n/1 for parallel jobs without completions
            completions = 1
        cells["Completions"] = f"{_int(st.get('succeeded'))}/{completions}"
    elif key == "cronjobs":
        cells.update(
            {
                "Schedule": spec.get("schedule") or "",
                "Suspend": cell_text(bool(spec.get("suspend"))),
                "Active": str(len(st.get("active") or [])),
            }
        )
    elif key == "services":
        sel = spec.get("selector") or {}
        cells.update(
            {
                "Type": spec.get("type") or "ClusterIP",
                "Cluster-IP": spec.get("clusterIP") or "<none>",
                # As the server's Table prints it (labels.FormatLabels): the tree finds the pods behind it by it.
                "Selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
            }
        )
    elif key == "ingresses":
        hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
        cells["Hosts"] = ",".join(hosts) or "*"
    elif key == "secrets":
        cells.update({"Type": obj.get("type") or "", "Data": str(len(obj.get("data") or {}))})
    elif key == "configmaps":
        cells["Data"] = str(len(obj.get("data") or {}) + len(obj.get("binaryData") or {}))
    elif key == "storageclasses":
        cells["Provisioner"] = obj.get("provisioner") or ""
    elif key == "events":
        inv = obj.get("involvedObject") or obj.get("regarding") or {}
        series = obj.get("series") or {}
        last = (parse_time(series.get("lastObservedTime")) or parse_time(obj.get("lastTimestamp"))
                or parse_time(obj.get("eventTime")) or parse_time(meta.get("creationTimestamp")))
        cells.update(
            {
                "Last Seen": human_age(time.time() - last) if last is not None else "<unknown>",
                "Type": obj.get("type") or "",
                "Reason": obj.get("reason") or "",
                "Object": f"{str(inv.get('kind') or '').lower()}/{inv.get('name') or ''}",
                "Message": obj.get("message") or obj.get("note") or "",
                "Count": str(series.get("count") or obj.get("count") or obj.get("deprecatedCount") or 1),
            }
        )
    return cells


def row_from_object(kind: Kind, obj: dict[str, Any]) -> Row:
    """A full object (plain dict) as a Row with the same status/ready/restarts as the Table path."""
    meta = obj.get("metadata") or {}
    cells = object_cells(kind, obj)
    return _row(kind, meta, cells, meta.get("name") or "", tree_columns(kind, [{"name": c} for c in cells]))


def rows_from_list(kind: Kind, body: dict[str, Any]) -> list[Row]:
    """Rows from a list response: a Table (fast path) or a plain ``...List`` of objects (fallback)."""
    if body.get("kind") == "Table":
        definitions = body.get("columnDefinitions") or []
        columns = [c.get("name", "") for c in definitions]
        shown = tree_columns(kind, definitions)
        return _in_steps(body.get("rows") or [], lambda r: row_from_table(kind, columns, r, shown))
    return _in_steps(body.get("items") or [], lambda o: row_from_object(kind, o))


def _in_steps(items: list[Any], make: Callable[[Any], Row]) -> list[Row]:
    """``make`` of every item, :data:`ROWS_PER_STEP` at a time, stepping aside between the steps while the GUI
    thread paints (see kube.gui_gate)."""
    rows: list[Row] = []
    for start in range(0, len(items), ROWS_PER_STEP):
        checkpoint()
        rows.extend(map(make, items[start:start + ROWS_PER_STEP]))
    return rows
