"""Lightweight records the fetchers produce and the tree consumes.

A :class:`Row` is what one tree row needs and nothing more: a big list never becomes model-class objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any


class Severity(IntEnum):
    """How a row's status should be coloured."""

    NONE = 0  # no status or purely informational
    OK = 1  # Running, Ready, Bound, Active, Complete
    WARN = 2  # Pending, Progressing, ContainerCreating, NotReady
    ERROR = 3  # Failed, CrashLoopBackOff, Error, ImagePullBackOff
    UNKNOWN = 4  # Unknown, Terminating


_OK = {"running", "ready", "bound", "active", "available", "complete", "completed", "succeeded", "scheduled"}
_WARN = {"pending", "progressing", "containercreating", "podinitializing", "notready", "released",
         "suspended", "terminating", "unavailable", "init", "waiting", "schedulingdisabled", "warning"}
_ERROR = {"failed", "crashloopbackoff", "error", "imagepullbackoff", "errimagepull", "oomkilled",
          "lost", "evicted", "createcontainerconfigerror", "invalidimagename", "deadlineexceeded"}


@lru_cache(maxsize=4096)
def severity_of(status: str) -> Severity:
    """Classify a status text the way users read it (green / yellow / red / grey).

    Compound statuses such as ``Ready,SchedulingDisabled`` or ``Init:0/1`` are classified by their worst part.
    Cached: a list of 10,000 pods has a handful of distinct statuses, and classifying each row again was a sixth
    of the time spent turning a page into rows (in the worker threads, which share the GIL with the window).
    """
    if not status:
        return Severity.NONE
    worst = Severity.NONE
    for part in status.replace(":", ",").split(","):
        word = part.strip().lower()
        if not word:
            continue
        if word in _ERROR or word.startswith("init:error") or word.startswith("init:crash"):
            sev = Severity.ERROR
        elif word in _WARN or word.startswith("init"):
            sev = Severity.WARN
        elif word in _OK:
            sev = Severity.OK
        elif word == "unknown":
            sev = Severity.UNKNOWN
        else:
            continue
        worst = max(worst, sev) if sev != Severity.UNKNOWN or worst == Severity.NONE else worst
    return worst


@dataclass(frozen=True, slots=True)
class Column:
    """One of a kind's own Table columns the tree shows after Status (``Up-to-date``, ``Cluster-IP``).

    Attributes:
        name: The Table column's name (``row.cells`` is keyed by it; kubectl prints it upper-cased).
        type: The Table column's type: ``string``, ``integer``, ``number``, ``boolean`` or ``date`` (a CRD's
            date column: the server already renders it as an age such as ``5d``).
        priority: 0 for the columns ``kubectl get`` prints, more for the ``-o wide`` ones.
    """

    name: str
    type: str = "string"
    priority: int = 0


@dataclass(slots=True)
class Row:
    """One object, as a tree row.

    Attributes:
        uid: ``metadata.uid`` (falls back to namespace/name if the server sent none).
        name: ``metadata.name``.
        namespace: ``metadata.namespace`` or ``None`` for cluster-scoped objects.
        kind: The :class:`~kube9_desktop.kube.kinds.Kind` key (``pods``).
        cells: Every Table column by its server-side name (``{"Ready": "1/1", "Status": "Running", ...}``),
            stringified.
        status: Display status (``Running``, ``2/3 ready`` ...), ``""`` when the kind has none.
        severity: Colour class of ``status``.
        ready: The "ready/total" text where the kind has one, else ``""``.
        restarts: Restart count text where the kind has one, else ``""``.
        created: ``metadata.creationTimestamp`` as epoch seconds, or ``None``.
        labels: ``metadata.labels``, read-only: rows with the same labels share one dict (memory at 150,000 pods).
        resource_version: ``metadata.resourceVersion`` (watch reconciliation uses it).
        extra: Small kind-specific facts the tree needs (e.g. ``node`` for pods); read-only, shared like ``labels``
            (set a new dict to change it).
        owners: The uids of ``metadata.ownerReferences`` (a pod's ReplicaSet, a ReplicaSet's Deployment): the tree
            finds an owner's dependents among a cached list by them, without a request.
        columns: The kind's own columns the tree shows after Status, in the server's order (one tuple shared by
            every row of a list: see :func:`kube9_desktop.kube.convert.tree_columns`).
    """

    uid: str
    name: str
    namespace: str | None
    kind: str
    cells: dict[str, str] = field(default_factory=dict)
    status: str = ""
    severity: Severity = Severity.NONE
    ready: str = ""
    restarts: str = ""
    created: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    resource_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()


@dataclass(slots=True)
class Page:
    """One page of a list.

    Attributes:
        rows: The rows of this page.
        resource_version: The list's ``metadata.resourceVersion`` (a watch can start from it).
        remaining: ``metadata.remainingItemCount`` if the server sent it (lets the tree show a count early).
        last: True on the final page of the list.
        from_cache: True when served from the cache (no request was made).
        restarted: The list started over from its beginning with this page (its continue token expired): the rows
            of the pages before it are superseded, and this and the following pages are the whole list. A consumer
            that showed earlier rows keeps them until the list ends, then makes them match the new pages (rows
            deleted or changed meanwhile are not in them as they were).
    """

    rows: list[Row]
    resource_version: str = ""
    remaining: int | None = None
    last: bool = True
    from_cache: bool = False
    restarted: bool = False


@dataclass(frozen=True, slots=True)
class ListRef:
    """What to list; also the cache key, so contexts, namespaces and selectors never mix.

    Attributes:
        context: kubeconfig context name.
        kind: Kind key (``pods``, ``widgets.example.com``).
        namespace: Namespace, or ``None`` for cluster-wide / cluster-scoped lists.
        label_selector: ``app=web,tier!=db`` or ``None``.
        field_selector: ``spec.nodeName=node-1`` or ``None``.
    """

    context: str
    kind: str
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None


@dataclass(slots=True)
class WatchEvent:
    """One watch event, already converted to a row.

    Attributes:
        type: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK``.
        row: The object as a row (``None`` for bookmarks).
        resource_version: The resourceVersion to resume from after this event.
    """

    type: str
    row: Row | None
    resource_version: str
