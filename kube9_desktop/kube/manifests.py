"""Objects as the user edits them: YAML text in and out, masked Secrets, diffs, merge patches, field lines.

Qt-free helpers for the YAML editor and Create/Apply from YAML (``ui/yaml_editor.py``, ``ui/apply_yaml.py``).
"""

from __future__ import annotations

import copy
import functools
import re
from typing import TYPE_CHECKING, Any

# The details pane masks with the same module: MASK and mask_secret are part of this module's API too.
from kube9_desktop.kube.secret_mask import LAST_APPLIED, MASK
from kube9_desktop.kube.secret_mask import mask_secret as mask_secret

if TYPE_CHECKING:
    import yaml

# PyYAML (40-120 ms of imports, most of it compiling its resolver's regular expressions) is imported by the
# functions that read or write YAML: this module is imported with the command families, before the window's first
# paint, and YAML is needed only when the user opens an editor or applies a file.

#: Fields the server owns: dropped from a "what you changed" comparison.
SERVER_FIELDS = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")


class ManifestError(ValueError):
    """YAML that cannot be applied, with the line it is on (1-based; ``None`` when unknown)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


@functools.cache
def _dumper() -> type[yaml.SafeDumper]:
    """The safe dumper writing multi-line strings as blocks (made once, on first use)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, _str)
    return Dumper


def to_yaml(obj: Any) -> str:
    """Block-style YAML, keys in the server's order (as ``kubectl get -o yaml`` prints it)."""
    import yaml

    return yaml.dump(obj, Dumper=_dumper(), sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=120)


def parse_one(text: str) -> dict[str, Any]:
    """The one object in ``text``; raises :class:`ManifestError` (with the line) for anything else."""
    docs = parse_documents(text)
    if len(docs) != 1:
        raise ManifestError(f"expected one object, found {len(docs)}")
    return docs[0]


def parse_documents(text: str) -> list[dict[str, Any]]:
    """Every object of a multi-document YAML text (``---`` separated; ``kind: List`` is unpacked).

    Raises:
        ManifestError: malformed YAML (with its line), or a document that is not an object with apiVersion, kind
            and metadata.name.
    """
    import yaml

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ManifestError(f"YAML error{f' on line {line}' if line else ''}: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"YAML error: {exc}") from None
    out: list[dict[str, Any]] = []
    for i, d in enumerate(docs, 1):
        if isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
            out.extend(x for x in d["items"] if isinstance(x, dict))
            continue
        if not isinstance(d, dict):
            raise ManifestError(f"document {i} is not an object (it is a {type(d).__name__})")
        missing = [f for f in ("apiVersion", "kind") if not d.get(f)]
        if not (d.get("metadata") or {}).get("name") and not (d.get("metadata") or {}).get("generateName"):
            missing.append("metadata.name")
        if missing:
            raise ManifestError(f"document {i} has no {', '.join(missing)}")
        out.append(d)
    return out


# ---------------------------------------------------------------------------------------------------------- Secrets


def is_secret(obj: dict[str, Any]) -> bool:
    """Whether the object is a Secret (by its own kind)."""
    return obj.get("kind") == "Secret"


def unmask_secret(edited: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """``edited`` with every value still showing the mask put back to the original's (the user edited around
    them without revealing); a masked key the original does not have is an error."""
    out = copy.deepcopy(edited)
    for key in ("data", "stringData"):
        values = out.get(key)
        if not isinstance(values, dict):
            continue
        found = original.get(key)
        before: dict[str, Any] = found if isinstance(found, dict) else {}
        for k, v in values.items():
            if v == MASK:
                if k not in before:
                    raise ManifestError(f"{key}.{k} is masked but the Secret had no such key: type its value")
                values[k] = before[k]
    annotations = (out.get("metadata") or {}).get("annotations") or {}
    if annotations.get(LAST_APPLIED) == MASK:
        annotations[LAST_APPLIED] = ((original.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED, "")
    return out


# ---------------------------------------------------------------------------------------------------------- diffs


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without the fields the server changes on every write (for showing what changed)."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for f in SERVER_FIELDS:
            meta.pop(f, None)
    return out


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two YAML texts (``""`` when equal)."""
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=before_name, tofile=after_name, n=3))


def merge_patch(before: Any, after: Any) -> Any:
    """The JSON merge patch (RFC 7386) that turns ``before`` into ``after``."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return copy.deepcopy(after)
    patch: dict[str, Any] = {}
    for k in before:
        if k not in after:
            patch[k] = None
    for k, v in after.items():
        if k not in before:
            patch[k] = copy.deepcopy(v)
        elif before[k] != v:
            patch[k] = merge_patch(before[k], v)
    return patch


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON merge patch applied (RFC 7386)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = apply_merge_patch(out.get(k), v)
    return out


# ---------------------------------------------------------------------------------------------------------- lines


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_path(field: str) -> list[str | int]:
    """``spec.containers[0].image`` → ``["spec", "containers", 0, "image"]``."""
    out: list[str | int] = []
    for name, index in _SEGMENT.findall(field):
        out.append(int(index) if index else name)
    return out


def field_line(text: str, field: str, document: int = 0) -> int | None:
    """The 1-based line of ``field`` (a server cause's ``spec.replicas`` or ``metadata.labels[app]``) in the YAML
    ``text``; the deepest existing ancestor's line when the field itself is absent; ``None`` when unreadable."""
    import yaml

    try:
        nodes = list(yaml.compose_all(text))
    except yaml.YAMLError:
        return None
    nodes = [n for n in nodes if n is not None]
    if document >= len(nodes):
        return None
    node: yaml.Node = nodes[document]
    line = node.start_mark.line + 1
    for seg in field_path(field):
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(seg):
                    line = k.start_mark.line + 1
                    nxt = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and seg < len(node.value):
            nxt = node.value[seg]
            line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line
