"""What the write command families share: the ``kubectl`` equivalent of an action, and outcome wording."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from kube9_desktop.commands.registry import Target
from kube9_desktop.kube.errors import KubeError


def kubectl(*words: str, namespace: str | None = None, context: str | None = None) -> str:
    """A kubectl command line, quoted for a shell (``kubectl scale deployments.apps/api --replicas=5 -n a``)."""
    args = ["kubectl", *words]
    if namespace:
        args += ["-n", namespace]
    if context:
        args += ["--context", context]
    return shlex.join(args)


def ref(t: Target) -> str:
    """``deployments.apps/api`` (unambiguous for kubectl)."""
    return f"{t.kind.kubectl_resource}/{t.name}"


def grouped(targets: Sequence[Target]) -> list[tuple[str | None, list[Target]]]:
    """Targets by namespace, in first-seen order (one kubectl line per namespace)."""
    out: dict[str | None, list[Target]] = {}
    for t in targets:
        out.setdefault(t.namespace, []).append(t)
    return list(out.items())


def joined(lines: Iterable[str]) -> str:
    """Several kubectl lines as one shell line."""
    return " && ".join(lines)


def rfc3339_now() -> str:
    """The time as Go's ``time.Now().Format(time.RFC3339)`` writes it (what ``kubectl rollout restart`` sets)."""
    now = datetime.now(UTC).astimezone()
    text = now.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def failed(t: Target, err: KubeError) -> str:
    """``pod api-1 in team-a: <why>``."""
    return f"{t.describe()}: {err.one_line()}"
