"""Edit and apply as values (Qt-free): open an object's YAML, put it back at the version it was opened at, apply
documents server-side. The window's YAML editor and apply pane, and headless ``edit``/``apply``, build on these.

* :func:`load` GETs the object and returns its YAML (without ``managedFields``, as ``kubectl edit`` shows it)
  together with the ``resourceVersion`` it was read at.
* :func:`save` PUTs edited YAML carrying that ``resourceVersion``. A 409 never overwrites: the outcome carries the
  server's current object and a diff against what was opened; a 422 carries the field causes, each with its line
  in the edited text.
* :func:`apply_all` server-side applies documents (``fieldManager=kube9-desktop``), as a dry run or for real, and
  says per document whether it would be created, configured or left unchanged, or why not (conflicts with other
  managers, invalid fields with their lines).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube import manifests
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.writes import status_causes

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService


@dataclass
class EditDoc:
    """An object opened for editing.

    Attributes:
        text: Its YAML (no ``managedFields``).
        resource_version: The version it was read at (the precondition of :func:`save`).
        obj: The object as read.
    """

    text: str
    resource_version: str
    obj: dict[str, Any]


@dataclass
class Cause:
    """One field the server refused, with its line in the text (None when it cannot be found)."""

    field: str
    message: str
    line: int | None = None


@dataclass
class EditOutcome:
    """What :func:`save` did.

    Attributes:
        status: ``saved``, ``unchanged``, ``conflict`` (409), ``invalid`` (422/400 or unreadable YAML),
            ``failed`` (anything else).
        message: One line for the user.
        obj: The object as saved (``saved``), or the server's current object (``conflict``).
        diff: ``conflict``: what changed on the server since the object was opened (unified diff of YAML).
        causes: ``invalid``: the fields with their lines.
        error: The KubeError behind ``conflict``/``invalid``/``failed``.
    """

    status: str
    message: str
    obj: dict[str, Any] | None = None
    diff: str = ""
    causes: list[Cause] = field(default_factory=list)
    error: KubeError | None = None

    @property
    def ok(self) -> bool:
        """Whether the object is as edited now."""
        return self.status in ("saved", "unchanged")

    def text(self) -> str:
        """The message with the diff or the causes under it."""
        lines = [self.message]
        lines += [f"  {'line ' + str(c.line) + ': ' if c.line else ''}{c.field}: {c.message}" for c in self.causes]
        if self.diff:
            lines.append(self.diff.rstrip("\n"))
        return "\n".join(lines)


def _shown(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    (out.get("metadata") or {}).pop("managedFields", None)
    return out


async def load(service: KubeService, context: str, kind: Kind, namespace: str | None, name: str, *,
               reveal: bool = False) -> EditDoc:
    """The object's YAML and the resourceVersion it was read at (a Secret's values masked unless ``reveal``;
    :func:`save` puts masked values back as they were); raises KubeError."""
    obj = await service.writes.get(context, kind, namespace, name)
    rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
    shown = _shown(obj)
    if manifests.is_secret(shown) and not reveal:
        shown = manifests.mask_secret(shown)
    return EditDoc(manifests.to_yaml(shown), rv, obj)


def causes_with_lines(err: KubeError, text: str, document: int = 0) -> list[Cause]:
    """The Status causes of ``err`` with their lines in ``text``."""
    out = []
    for c in status_causes(err):
        f = str(c.get("field") or "")
        out.append(Cause(f, str(c.get("message") or ""), manifests.field_line(text, f, document) if f else None))
    return out


async def save(service: KubeService, context: str, kind: Kind, namespace: str | None, name: str, text: str,
               resource_version: str | None = None) -> EditOutcome:
    """PUT edited YAML back with its resourceVersion (``resource_version``, else the one in the text).

    Never raises for the server's answers: they come back as the outcome's status.
    """
    try:
        obj = manifests.parse_one(text)
    except manifests.ManifestError as err:
        line = [Cause("", str(err), err.line)] if err.line else []
        return EditOutcome("invalid", f"Not applied: {err}", causes=line)
    md = obj.setdefault("metadata", {})
    if md.get("name") != name or (kind.namespaced and md.get("namespace", namespace) != namespace):
        return EditOutcome("invalid", f"Not applied: this edits {kind.kind.lower()} {name}; its name and namespace "
                                      "cannot change here (apply a new object instead).")
    if resource_version:
        md["resourceVersion"] = resource_version
    opened_rv = str(md.get("resourceVersion") or "")
    if not opened_rv:
        return EditOutcome("invalid", "Not applied: metadata.resourceVersion is missing, so a newer version on the "
                                      "server could be overwritten; edit what `edit` printed.")
    writes = service.writes
    if manifests.is_secret(obj) and manifests.MASK in manifests.to_yaml(obj):
        # Values left masked (never revealed) are put back from the server's copy of the version edited: if the
        # Secret moved on since, the PUT below is refused (409) anyway.
        try:
            obj = manifests.unmask_secret(obj, await writes.get(context, kind, namespace, name))
        except manifests.ManifestError as err:
            return EditOutcome("invalid", f"Not applied: {err}")
        except KubeError as err:
            return EditOutcome("failed", f"Not applied: {err.one_line()}", error=err)
    try:
        saved = await writes.replace(context, kind, namespace, name, obj)
    except KubeError as err:
        if err.status == 409:
            return await _conflict(service, context, kind, namespace, name, text, opened_rv, err)
        if err.status in (400, 422):
            return EditOutcome("invalid", f"Not applied: {err.one_line()}", causes=causes_with_lines(err, text),
                               error=err)
        return EditOutcome("failed", f"Not applied: {err.one_line()}", error=err)
    rv = (saved.get("metadata") or {}).get("resourceVersion", "")
    status = "unchanged" if str(rv) == opened_rv else "saved"
    verb = "Unchanged" if status == "unchanged" else "Saved"
    return EditOutcome(status, f"{verb}: {kind.kind.lower()} {name} is at resourceVersion {rv}.", obj=saved)


async def _conflict(service: KubeService, context: str, kind: Kind, namespace: str | None, name: str, text: str,
                    opened_rv: str, err: KubeError) -> EditOutcome:
    try:
        current = await service.writes.get(context, kind, namespace, name)
    except KubeError as again:
        return EditOutcome("conflict", f"Not applied: {kind.kind.lower()} {name} changed on the server and cannot "
                                       f"be read again ({again.one_line()}).", error=err)
    rv_now = str((current.get("metadata") or {}).get("resourceVersion", ""))
    try:
        opened = manifests.parse_one(text)
    except manifests.ManifestError:
        opened = {}
    before, after = manifests.comparable(opened), manifests.comparable(current)
    if manifests.is_secret(after):
        before, after = manifests.mask_secret(before), manifests.mask_secret(after)
    diff = manifests.unified_diff(manifests.to_yaml(before), manifests.to_yaml(after), "your edit",
                                  f"on the server now (resourceVersion {rv_now})")
    return EditOutcome(
        "conflict",
        f"Not applied: {kind.kind.lower()} {name} was changed on the server since you opened it (resourceVersion "
        f"{opened_rv} → {rv_now}); nothing was overwritten. Reload, re-apply your change, and save again.",
        obj=current, diff=diff, error=err)


@dataclass
class ApplyStep:
    """The outcome of applying one document.

    Attributes:
        index: The document's position (0-based).
        what: ``configmaps team-a/x``.
        ok: Whether it applied (or would).
        outcome: ``created``, ``configured``, ``unchanged`` (with ``would be`` on a dry run), or why not.
        status: The HTTP status of a refusal (409 conflict, 422 invalid ...), 0 when ok.
        causes: The server's causes (conflicting fields and managers, invalid fields) with their lines.
        diff: What changes (server → applied), when configured.
    """

    index: int
    what: str
    ok: bool
    outcome: str
    status: int = 0
    causes: list[Cause] = field(default_factory=list)
    diff: str = ""

    def line(self) -> str:
        """``configmaps team-a/x: created`` (with the causes under it)."""
        lines = [f"{self.what}: {self.outcome}"]
        lines += [f"    {'line ' + str(c.line) + ' · ' if c.line else ''}{c.field}: {c.message}" for c in self.causes]
        return "\n".join(lines)


def kind_of(doc: dict[str, Any], kinds: list[Kind]) -> Kind | None:
    """The kind a document's ``apiVersion``/``kind`` names (any served version of its group)."""
    api_version = str(doc.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    name = str(doc.get("kind", ""))
    return next((k for k in kinds if k.kind == name and k.group == group), None)


async def apply_all(service: KubeService, context: str, docs: list[dict[str, Any]], kinds: list[Kind], *,
                    namespace: str, dry_run: bool, force: bool, text: str = "") -> list[ApplyStep]:
    """Server-side apply each document in order; refusals are steps, not exceptions."""
    steps = []
    writes = service.writes
    would = "would be " if dry_run else ""
    for i, raw in enumerate(docs):
        doc = copy.deepcopy(raw)
        md = doc.setdefault("metadata", {})
        name = str(md.get("name", ""))
        kind = kind_of(doc, kinds)
        if kind is None:
            steps.append(ApplyStep(i, f"{doc.get('kind')} {name}", False,
                                   f"this cluster serves no kind {doc.get('kind')} in {doc.get('apiVersion')}"))
            continue
        ns = (md.get("namespace") or namespace) if kind.namespaced else None
        if kind.namespaced:
            md["namespace"] = ns
        what = f"{kind.kubectl_resource} {ns + '/' if ns else ''}{name}"
        before: dict[str, Any] | None = None
        try:
            before = await writes.get(context, kind, ns, name)
        except KubeError as err:
            if err.kind is not ErrorKind.NOT_FOUND:
                steps.append(ApplyStep(i, what, False, err.one_line(), err.status or 0))
                continue
        try:
            after = await writes.apply(context, kind, ns, name, doc, force=force, dry_run=dry_run)
        except KubeError as err:
            causes = causes_with_lines(err, text, i) if text else []
            why = err.one_line()
            if err.status == 409 and causes:
                why = f"conflicts with other field managers ({len(causes)})"
            steps.append(ApplyStep(i, what, False, why, err.status or 0, causes))
            continue
        if before is None:
            steps.append(ApplyStep(i, what, True, would + "created"))
            continue
        old, new = manifests.comparable(before), manifests.comparable(after)
        if manifests.is_secret(after):
            old, new = manifests.mask_secret(old), manifests.mask_secret(new)
        diff = manifests.unified_diff(manifests.to_yaml(old), manifests.to_yaml(new), "on the server", "applied")
        steps.append(ApplyStep(i, what, True, would + "configured" if diff else "unchanged", diff=diff))
    return steps
