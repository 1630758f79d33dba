"""Object addresses as ``--run`` and the command line accept them: ``[context:]namespace/kind/name``.

The kind is matched the way kubectl matches a resource argument: by plural (``deployments``), singular
(``deployment``), short name (``deploy``), kind name (``Deployment``, case-insensitive) or ``plural.group``
(``deployments.apps``). Cluster-scoped kinds take ``kind/name`` (``node/worker-1``). A context name may itself hold
colons and slashes (EKS ARNs): the longest known context name followed by ``:`` wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kube9_desktop.commands.registry import CommandError, Target
from kube9_desktop.kube.kinds import Kind


def kind_matches(kind: Kind, token: str) -> bool:
    """Whether ``token`` names ``kind`` as kubectl would accept it."""
    t = token.lower()
    if "." in t:
        plural, _, group = t.partition(".")
        return kind.group.lower() == group and _names(kind, plural)
    return _names(kind, t)


def _names(kind: Kind, t: str) -> bool:
    return t in (kind.plural.lower(), kind.kind.lower()) or t in (s.lower() for s in kind.short_names)


def resolve_kind(token: str, kinds: Iterable[Kind]) -> Kind:
    """The kind ``token`` names among ``kinds``; raises :class:`CommandError` (unknown or ambiguous)."""
    found = [k for k in kinds if kind_matches(k, token)]
    if not found:
        raise CommandError(f"unknown kind {token!r} (use a plural, short name or kind name, as kubectl does: "
                           f"pods, deploy, Service)")
    if len(found) > 1:
        # Prefer the built-in (core/apps) meaning, as kubectl prefers its own groups over custom ones.
        builtin = [k for k in found if not k.key.count(".")]
        if len(builtin) == 1:
            return builtin[0]
        names = ", ".join(sorted(k.key for k in found))
        raise CommandError(f"kind {token!r} is ambiguous ({names}): add the group, e.g. {found[0].key}")
    return found[0]


def split_context(address: str, contexts: Sequence[str]) -> tuple[str | None, str]:
    """``(context, rest)`` for ``ctx:rest`` where ``ctx`` is a known context, else ``(None, address)``."""
    for ctx in sorted(contexts, key=len, reverse=True):
        if address.startswith(ctx + ":"):
            return ctx, address[len(ctx) + 1:]
    return None, address


def parse_address(address: str, *, default_context: str, contexts: Sequence[str], kinds: Iterable[Kind],
                  default_namespace: str | None = None) -> Target:
    """Parse ``[context:]namespace/kind/name`` (or ``kind/name`` for cluster-scoped kinds, or for namespaced kinds
    in ``default_namespace``).

    Raises:
        CommandError: the address is malformed, the kind unknown, or the namespace missing.
    """
    ctx, rest = split_context(address, contexts)
    context = ctx or default_context
    parts = rest.split("/")
    if any(not p for p in parts) or len(parts) not in (2, 3):
        raise CommandError(f"cannot read the object address {address!r}: write namespace/kind/name "
                           "(team-a/deploy/api) or kind/name for cluster-scoped kinds (node/worker-1)")
    kinds = list(kinds)
    if len(parts) == 3:
        namespace, kind_token, name = parts
        kind = resolve_kind(kind_token, kinds)
        if not kind.namespaced:
            raise CommandError(f"{kind.plural} are not namespaced: write {kind_token}/{name}")
    else:
        kind_token, name = parts
        kind = resolve_kind(kind_token, kinds)
        namespace = None
        if kind.namespaced:
            namespace = default_namespace
            if not namespace:
                raise CommandError(f"{kind.plural} live in a namespace: write NAMESPACE/{kind_token}/{name}")
    return Target(context=context, kind=kind, namespace=namespace, name=name)
