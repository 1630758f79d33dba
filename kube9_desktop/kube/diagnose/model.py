"""What the diagnose rules read (:class:`Facts`) and say (:class:`Finding`), and what a rule is (:class:`Rule`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.kube.events import EventRow
from kube9_desktop.kube.metrics import Usage
from kube9_desktop.kube.overview import Ref


@dataclass
class Facts:
    """Everything known about one object when it is diagnosed (gathered by :mod:`.facts`, or recorded in tests).

    Attributes:
        ref: The object.
        obj: The object itself (a pod, a Deployment ...).
        events: Events about it, newest first.
        previous_logs: Container → the last lines of its previous (terminated) run's log.
        usage: Container → current usage (metrics), when metrics are available.
        metrics_problem: Why there is no usage when the metrics API itself failed (503, 403): the reason the
            usage columns show, naming the metrics APIService's condition after a 503. Empty otherwise.
        pvcs: Claim name → the PersistentVolumeClaim, for the claims a pod mounts.
        replicasets: A Deployment's ReplicaSets.
        rs_events: Events about those ReplicaSets.
        pods: Facts of a workload's pods that are not healthy (each diagnosed as a pod too).
        now: The time "recently" and "ago" are measured from.
    """

    ref: Ref
    obj: dict[str, Any]
    events: list[EventRow] = field(default_factory=list)
    previous_logs: dict[str, list[str]] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    metrics_problem: str = ""
    pvcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    rs_events: list[EventRow] = field(default_factory=list)
    pods: list[Facts] = field(default_factory=list)
    now: float = 0.0

    @property
    def spec(self) -> dict[str, Any]:
        """``obj.spec``."""
        return self.obj.get("spec") or {}

    @property
    def status(self) -> dict[str, Any]:
        """``obj.status``."""
        return self.obj.get("status") or {}

    def container_spec(self, name: str) -> dict[str, Any]:
        """A container's (or init container's) spec."""
        for key in ("containers", "initContainers"):
            for c in self.spec.get(key) or []:
                if c.get("name") == name:
                    return dict(c)
        return {}

    def events_with(self, reason: str, text: str = "") -> list[EventRow]:
        """Events of one reason (and containing ``text``), newest first."""
        return [e for e in self.events if e.reason == reason and text in e.message]


@dataclass
class Finding:
    """One explanation.

    Attributes:
        rule: The rule's id (``crash-loop``).
        ref: The object it is about.
        summary: One line in plain words: what is wrong.
        why: What it means (a sentence or two).
        evidence: The facts it rests on, each a line.
        next_steps: What to check or do next.
        log: The last lines of the relevant log, when there are some.
    """

    rule: str
    ref: Ref
    summary: str
    why: str = ""
    evidence: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    """A diagnose rule: which kinds it looks at and the small function that looks."""

    id: str
    kinds: frozenset[str]
    title: str
    check: Callable[[Facts], list[Finding]]
