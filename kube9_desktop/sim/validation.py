"""Validation of written objects, with kube-apiserver's 422 wording and field causes.

Rules are a table by kind (:data:`RULES`) of small functions returning :class:`Cause` values; the write handlers
turn them into the ``Invalid`` Status (``Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be
greater than or equal to 0``, one ``details.causes`` entry per field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_MSG = (
    "a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a DNS-1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an "
    "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@dataclass(frozen=True)
class Cause:
    """One invalid field."""

    field: str
    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported
    message: str

    def text(self) -> str:
        """``spec.replicas: Invalid value: -1: must be ...``."""
        return f"{self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """The Status ``details.causes`` entry."""
        return {"reason": self.reason, "message": self.message, "field": self.field}


def go_value(v: Any) -> str:
    """A value as Go's ``%#v``-ish rendering in field errors (strings quoted, numbers bare)."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v) if isinstance(v, dict | list) else str(v)


def invalid(field: str, value: Any, detail: str) -> Cause:
    """A ``FieldValueInvalid`` cause."""
    return Cause(field, "FieldValueInvalid", f"Invalid value: {go_value(value)}: {detail}")


def required(field: str, detail: str = "") -> Cause:
    """A ``FieldValueRequired`` cause."""
    return Cause(field, "FieldValueRequired", "Required value" + (f": {detail}" if detail else ""))


def invalid_message(kind: str, group: str, name: str, causes: list[Cause]) -> str:
    """``Deployment.apps "x" is invalid: <field errors>`` (several errors in brackets, comma separated)."""
    what = f"{kind}.{group}" if group else kind
    body = causes[0].text() if len(causes) == 1 else "[" + ", ".join(c.text() for c in causes) + "]"
    return f'{what} "{name}" is invalid: {body}'


def _meta(obj: dict[str, Any], label_name: bool) -> list[Cause]:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        return [required("metadata.name", "name or generateName is required")]
    pattern, msg = (_DNS1123_LABEL, LABEL_MSG) if label_name else (_DNS1123_SUBDOMAIN, SUBDOMAIN_MSG)
    if len(name) > (63 if label_name else 253) or not pattern.match(name):
        return [invalid("metadata.name", name, msg)]
    return []


def _containers(spec: dict[str, Any], at: str) -> list[Cause]:
    out: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        return [required(f"{at}.containers")]
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            continue
        if not c.get("name"):
            out.append(required(f"{at}.containers[{i}].name"))
        if not c.get("image"):
            out.append(required(f"{at}.containers[{i}].image"))
    return out


def _replicas(obj: dict[str, Any]) -> list[Cause]:
    r = (obj.get("spec") or {}).get("replicas")
    if r is None:
        return []
    if not isinstance(r, int) or isinstance(r, bool) or r < 0:
        return [invalid("spec.replicas", r, "must be greater than or equal to 0")]
    return []


def _selector_matches(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if sel and any(labels.get(k) != v for k, v in sel.items()):
        return [invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")]
    return []


def _workload(obj: dict[str, Any]) -> list[Cause]:
    tmpl = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return _replicas(obj) + _selector_matches(obj) + _containers(tmpl, "spec.template.spec")


def _pod(obj: dict[str, Any]) -> list[Cause]:
    return _containers(obj.get("spec") or {}, "spec")


def _cronjob(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    out = [] if spec.get("schedule") else [required("spec.schedule")]
    tmpl = ((((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")) or {}
    return out + _containers(tmpl, "spec.jobTemplate.spec.template.spec")


def _job(obj: dict[str, Any]) -> list[Cause]:
    tmpl = (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}
    return _containers(tmpl, "spec.template.spec")


def _immutable_selector(obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    if old is None:
        return []
    new_sel = (obj.get("spec") or {}).get("selector")
    old_sel = (old.get("spec") or {}).get("selector")
    if new_sel != old_sel and new_sel is not None:
        return [Cause("spec.selector", "FieldValueInvalid", f"Invalid value: {go_value(new_sel)}: field is immutable")]
    return []


Rule = Callable[[dict[str, Any], "dict[str, Any] | None"], list[Cause]]

RULES: dict[str, list[Rule]] = {
    "Deployment": [lambda o, _: _workload(o), _immutable_selector],
    "ReplicaSet": [lambda o, _: _workload(o)],
    "StatefulSet": [lambda o, _: _workload(o), _immutable_selector],
    "DaemonSet": [lambda o, _: _selector_matches(o)],
    "Pod": [lambda o, old: _pod(o) if old is None else []],
    "Job": [lambda o, old: _job(o) if old is None else []],
    "CronJob": [lambda o, _: _cronjob(o)],
}

#: Kinds whose names are DNS-1123 labels (stricter than subdomains).
LABEL_NAMED = frozenset({"Namespace", "Service"})


def validate(kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[Cause]:
    """Every cause ``obj`` (replacing ``old``, None on create) is invalid for; empty when it is valid."""
    causes = _meta(obj, kind in LABEL_NAMED) if old is None else []
    for rule in RULES.get(kind, []):
        causes.extend(rule(obj, old))
    return causes
