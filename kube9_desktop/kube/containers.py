"""A pod's containers as the tree shows them (Qt-free): init, regular and ephemeral, each with its state.

Read from one pod object (``spec`` joined with ``status``): kubectl shows the same facts in ``kubectl describe pod``
(State, Reason, Exit Code, Restart Count, Image), the tree shows them as one row per container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kube9_desktop.kube.convert import parse_time
from kube9_desktop.kube.rows import Column, Row, Severity, severity_of

#: A container row's own columns: where a pod's Ready and Restarts are (the tree's first kind columns under Pods).
CONTAINER_COLUMNS = (Column("Ready"), Column("Restarts", "integer"))

#: (spec field, status field, role) in the order the tree lists them: init containers run first.
_SECTIONS = (
    ("initContainers", "initContainerStatuses", "init"),
    ("containers", "containerStatuses", ""),
    ("ephemeralContainers", "ephemeralContainerStatuses", "ephemeral"),
)


@dataclass(frozen=True)
class ContainerInfo:
    """One container of a pod.

    Attributes:
        name: The container's name.
        role: ``init``, ``ephemeral`` or ``""`` for a regular container.
        image: The image it runs (``spec``'s, as kubectl describe shows it).
        state: ``Running``, ``Waiting: CrashLoopBackOff``, ``Terminated: OOMKilled (exit 137)``, ``Waiting`` when
            the status has none yet.
        severity: The state's colour class.
        ready: Whether the kubelet reports it ready.
        restarts: Its restart count.
        started: When its current state began (Unix seconds), if known.
        last: Why its previous run ended (``OOMKilled (exit 137)``), ``""`` if it never restarted.
    """

    name: str
    role: str
    image: str
    state: str
    severity: Severity
    ready: bool
    restarts: int
    started: float | None = None
    last: str = ""


#: A container row's role (its ``Role`` cell) -> the pod's spec and status fields listing it.
_ROLE_FIELDS = {(role or "container"): (spec_field, status_field) for spec_field, status_field, role in _SECTIONS}


def field_path(role: str, name: str) -> str:
    """The ``fieldPath`` the kubelet's events about container ``name`` carry (``spec.containers{main}``,
    ``spec.initContainers{migrate}``); ``role`` is a container row's Role (``container``, ``init``, ``ephemeral``)."""
    spec_field, _ = _ROLE_FIELDS.get(role or "container", _ROLE_FIELDS["container"])
    return f"spec.{spec_field}{{{name}}}"


def container_document(pod: dict[str, Any], name: str, role: str = "container") -> dict[str, Any] | None:
    """Container ``name`` of ``pod`` as the details pane shows it: its ``spec`` entry and its ``status`` entry
    (``None`` while the kubelet has not reported it), or ``None`` if the pod has no such container."""
    spec_field, status_field = _ROLE_FIELDS.get(role or "container", _ROLE_FIELDS["container"])
    spec = next((c for c in (pod.get("spec") or {}).get(spec_field) or []
                 if isinstance(c, dict) and c.get("name") == name), None)
    if spec is None:
        return None
    status = next((s for s in (pod.get("status") or {}).get(status_field) or []
                   if isinstance(s, dict) and s.get("name") == name), None)
    return {"spec": spec, "status": status}


def _ended(term: dict[str, Any]) -> str:
    """``OOMKilled (exit 137)`` / ``Completed (exit 0)`` / ``exit 1`` for a terminated state."""
    code = term.get("exitCode")
    reason = term.get("reason") or (f"Signal {term['signal']}" if term.get("signal") else "")
    code_text = f"exit {code}" if code is not None else ""
    if reason and code_text:
        return f"{reason} ({code_text})"
    return reason or code_text or "Terminated"


def describe_state(status: dict[str, Any] | None) -> tuple[str, Severity, float | None]:
    """The state text, its severity and when it began, from a container status (``None``: not reported yet)."""
    state = (status or {}).get("state") or {}
    if "running" in state:
        return "Running", Severity.OK, parse_time((state["running"] or {}).get("startedAt"))
    if "terminated" in state:
        term = state["terminated"] or {}
        text = _ended(term)
        reason = term.get("reason") or ""
        sev = Severity.OK if term.get("exitCode") == 0 else (severity_of(reason) or Severity.ERROR)
        return f"Terminated: {text}", sev, parse_time(term.get("finishedAt"))
    waiting = state.get("waiting")
    if waiting is not None:
        reason = (waiting or {}).get("reason") or ""
        sev = severity_of(reason) if reason else Severity.WARN
        return (f"Waiting: {reason}" if reason else "Waiting"), (sev or Severity.WARN), None
    return "Waiting", Severity.WARN, None


def containers_of(pod: dict[str, Any]) -> list[ContainerInfo]:
    """Every container of ``pod`` (a plain object), init containers first, ephemeral ones last."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    out: list[ContainerInfo] = []
    for spec_field, status_field, role in _SECTIONS:
        statuses = {s.get("name"): s for s in status.get(status_field) or [] if isinstance(s, dict)}
        for c in spec.get(spec_field) or []:
            if not isinstance(c, dict) or not c.get("name"):
                continue
            st = statuses.get(c["name"])
            text, sev, started = describe_state(st)
            last = ((st or {}).get("lastState") or {}).get("terminated")
            out.append(ContainerInfo(
                name=str(c["name"]), role=role, image=str(c.get("image") or (st or {}).get("image") or ""),
                state=text, severity=sev, ready=bool((st or {}).get("ready")),
                restarts=int((st or {}).get("restartCount") or 0), started=started,
                last=_ended(last) if isinstance(last, dict) else ""))
    return out


def container_row(info: ContainerInfo, pod: dict[str, Any]) -> Row:
    """A :class:`Row` for one container (kind ``containers``): its state as the status, its image as a cell."""
    meta = pod.get("metadata") or {}
    ready = "1/1" if info.ready else "0/1"
    cells = {"Image": info.image, "Role": info.role or "container", "Pod": str(meta.get("name") or ""),
             "Ready": ready, "Restarts": str(info.restarts)}
    if info.last:
        cells["Last State"] = f"Terminated: {info.last}"
    return Row(uid=f"{meta.get('uid') or meta.get('name')}/{info.role or 'container'}/{info.name}",
               name=info.name, namespace=meta.get("namespace"), kind="containers", cells=cells, status=info.state,
               severity=info.severity, ready=ready, restarts=str(info.restarts), created=info.started,
               columns=CONTAINER_COLUMNS)
