"""Every user setting, declared once: key, type, default, bounds and description.

The Settings dialog is generated from :data:`SETTINGS`, the store validates against it, and
:func:`kube_options` turns a mapping of values into the data layer's :class:`KubeOptions`. Nothing here imports Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.kinds import DEFAULT_TTLS, TtlClass


@dataclass(frozen=True)
class Setting:
    """One setting.

    Attributes:
        key: QSettings key (``cache/ttl_volatile``).
        type: ``int``, ``float``, ``bool``, ``choice``, ``paths`` (list of file paths) or ``map`` (context →
            comma-separated namespaces).
        default: The default value.
        label: Short label in the dialog.
        description: One sentence shown as the field's tooltip and help text.
        group: Dialog section.
        minimum: Lower bound for numbers.
        maximum: Upper bound for numbers.
        choices: Allowed values for ``choice``.
        suffix: Unit shown after numbers (`` s``).
    """

    key: str
    type: str
    default: Any
    label: str
    description: str
    group: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    suffix: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("cache/ttl_cluster", "int", int(DEFAULT_TTLS[TtlClass.CLUSTER]), "Cluster-level lists",
            "Seconds to reuse lists of nodes, namespaces and cluster-scoped objects (0 = do not cache).",
            "Cache", 0, 3600, suffix=" s"),
    Setting("cache/ttl_stable", "int", int(DEFAULT_TTLS[TtlClass.STABLE]), "Controllers and config",
            "Seconds to reuse lists of deployments, services, stateful/daemon sets, config maps, secrets "
            "(0 = do not cache).", "Cache", 0, 3600, suffix=" s"),
    Setting("cache/ttl_volatile", "int", int(DEFAULT_TTLS[TtlClass.VOLATILE]), "Pods, ReplicaSets, Jobs",
            "Seconds to reuse lists of fast-changing objects (0 = do not cache).", "Cache", 0, 3600, suffix=" s"),
    Setting("cache/max_entries", "int", 2000, "Maximum cached lists",
            "Least recently used lists are dropped beyond this many.", "Cache", 10, 100000),
    Setting("network/page_size", "int", 500, "Page size",
            "Objects requested per page; the first page is shown as soon as it arrives.", "Network", 10, 10000),
    Setting("network/connect_timeout", "float", 5.0, "Connect timeout",
            "Seconds to wait for a connection to the API server.", "Network", 0.5, 120, suffix=" s"),
    Setting("network/read_timeout", "float", 30.0, "Read timeout",
            "Seconds to wait for the server to answer a request.", "Network", 1, 600, suffix=" s"),
    Setting("network/request_deadline", "float", 60.0, "Request deadline",
            "Seconds one request (a list page, an object) may take in all, however slowly the server answers.",
            "Network", 5, 3600, suffix=" s"),
    Setting("network/max_response_mb", "int", 64, "Maximum response size",
            "Larger answers are refused with an error instead of filling memory (lists arrive in pages).",
            "Network", 1, 4096, suffix=" MB"),
    Setting("network/backend", "choice", "api", "Backend",
            "How lists are fetched: the built-in API client (fast) or by running kubectl (compatibility).",
            "Network", choices=("api", "kubectl")),
    Setting("live/enabled", "bool", True, "Live updates",
            "Watch the lists you have open for changes.", "Live updates"),
    Setting("live/max_watches", "int", 20, "Watches per context",
            "At most this many lists are watched per context; others refresh by TTL.", "Live updates", 1, 200),
    Setting("live/grace_seconds", "int", 30, "Stop watching after collapse",
            "Seconds a collapsed list keeps its watch before it stops.", "Live updates", 0, 3600, suffix=" s"),
    Setting("live/watch_timeout", "int", 60, "Watch timeout",
            "Each watch asks the server to end it within this time and is then re-opened; one silent for longer "
            "is treated as dropped: the list says so and is listed again.", "Live updates", 5, 1800, suffix=" s"),
    Setting("kubeconfig/extra_paths", "paths", [], "Extra kubeconfig files",
            "Additional kubeconfig files merged after KUBECONFIG / ~/.kube/config.", "Clusters"),
    Setting("kubeconfig/accessible_namespaces", "map", {}, "Accessible namespaces",
            "Per context, namespaces to show when you may not list namespaces (one line per context: "
            "context=ns1,ns2).", "Clusters"),
    Setting("tree/pins", "map", {}, "Pinned objects",
            "Per context, the objects and namespaces shown in the Pinned group at the top of the tree (one line "
            "per context: context=namespace/kind/name,kind/name); Pin and Unpin in a row's menu edit it.", "Tree"),
    Setting("logs/max_lines", "int", 100_000, "Lines kept per log tab",
            "A log tab holds at most this many lines; the oldest drop first (with a note).", "Logs",
            1000, 5_000_000),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """Every setting at its default value (fresh copies of mutable defaults)."""
    return {s.key: _copy(s.default) for s in SETTINGS}


def _copy(value: Any) -> Any:
    # Deep for containers: the namespaces map holds lists, and a caller's edit must not reach the stored value.
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def validate(key: str, value: Any) -> Any:
    """Coerce ``value`` to the setting's type and check its bounds.

    Returns:
        The coerced value.

    Raises:
        ValueError: With a message fit for the user, naming the setting and the allowed range.
    """
    s = BY_KEY[key]
    try:
        if s.type == "int":
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, str):
                value = value.strip()
            out: Any = int(value)
        elif s.type == "float":
            out = float(value.strip() if isinstance(value, str) else value)
            if not math.isfinite(out):  # nan passed every bound check; then every request failed
                raise ValueError
        elif s.type == "bool":
            out = value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)
        elif s.type == "choice":
            out = str(value)
            if out not in s.choices:
                raise ValueError(f"{s.label}: choose one of {', '.join(s.choices)}.")
        elif s.type == "paths":
            out = parse_paths(value)
        elif s.type == "map":
            out = parse_namespace_map(value, s.label)
        else:  # pragma: no cover - schema error
            raise AssertionError(s.type)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: int(float("inf"))
        if isinstance(exc, ValueError) and str(exc).startswith(s.label):
            raise
        raise ValueError(f"{s.label}: '{value}' is not a valid {s.type}.") from None
    out_of_range = (s.minimum is not None and out < s.minimum) or (s.maximum is not None and out > s.maximum)
    if s.type in ("int", "float") and out_of_range:
        raise ValueError(f"{s.label}: must be between {_num(s.minimum)} and {_num(s.maximum)}{s.suffix}.")
    return out


def _num(v: float | None) -> str:
    return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))


def parse_paths(value: Any) -> list[str]:
    """A list of paths from a list or a newline/os.pathsep-separated string."""
    if isinstance(value, str):
        import os

        parts = [p for line in value.splitlines() for p in line.split(os.pathsep)]
        return [p.strip() for p in parts if p.strip()]
    if value is None:
        return []
    return [str(p) for p in value if str(p).strip()]


def parse_namespace_map(value: Any, label: str = "Accessible namespaces") -> dict[str, list[str]]:
    """``{"ctx": ["ns1", "ns2"]}`` from a dict or lines of ``ctx=ns1,ns2`` (``label``: the setting, for messages).

    Raises:
        ValueError: for a line without ``=`` or with an empty context name.
    """
    if isinstance(value, Mapping):
        return {str(k): [str(n).strip() for n in (v if isinstance(v, list) else str(v).split(",")) if str(n).strip()]
                for k, v in value.items()}
    out: dict[str, list[str]] = {}
    for line in str(value or "").splitlines():
        if not line.strip():
            continue
        ctx, sep, rest = line.partition("=")
        if not sep or not ctx.strip():
            example = "ns1,ns2" if label == "Accessible namespaces" else "a,b"
            raise ValueError(f"{label}: '{line.strip()}' should look like context={example}.")
        out[ctx.strip()] = [n.strip() for n in rest.split(",") if n.strip()]
    return out


def format_namespace_map(value: Mapping[str, list[str]]) -> str:
    """The editable text form of the accessible-namespaces map."""
    return "\n".join(f"{ctx}={','.join(nss)}" for ctx, nss in sorted(value.items()))


def kube_options(values: Mapping[str, Any]) -> KubeOptions:
    """The data layer's options from setting values (missing keys take their defaults)."""
    v = {**defaults(), **values}
    return KubeOptions(
        page_size=int(v["network/page_size"]),
        connect_timeout=float(v["network/connect_timeout"]),
        read_timeout=float(v["network/read_timeout"]),
        request_deadline=float(v["network/request_deadline"]),
        max_response_bytes=int(v["network/max_response_mb"]) * 1024 * 1024,
        ttls={
            TtlClass.CLUSTER: float(v["cache/ttl_cluster"]),
            TtlClass.STABLE: float(v["cache/ttl_stable"]),
            TtlClass.VOLATILE: float(v["cache/ttl_volatile"]),
            TtlClass.NEVER: 0.0,
        },
        cache_max_entries=int(v["cache/max_entries"]),
        watch_timeout=float(v["live/watch_timeout"]),
    )
