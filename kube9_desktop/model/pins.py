"""Pinned objects and namespaces, per context (Qt-free): what the "Pinned" group at the top of the tree holds.

Pins are stored in the settings (``tree/pins``: context → ``namespace/kind/name`` or ``kind/name`` texts, kind by
its key: ``team-a/deployments/api``, ``namespaces/team-a``, ``nodes/worker-1``), so they survive a restart and can be
edited in the Settings dialog. :class:`PinBook` reads and writes them through two callables (the window passes its
settings store's); the tree asks it for a context's pins when the context loads and whenever they change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: The settings key holding every context's pins.
SETTING = "tree/pins"
#: The group's label (the first row under the context when it has pins).
PINNED = "Pinned"


@dataclass(frozen=True)
class Pin:
    """One pinned object.

    Attributes:
        kind: The kind's key (``pods``, ``deployments``, ``widgets.example.com``).
        namespace: Its namespace (``None`` for cluster-scoped objects and namespaces themselves).
        name: Its name.
    """

    kind: str
    namespace: str | None
    name: str

    @property
    def text(self) -> str:
        """The stored form: ``namespace/kind/name`` or ``kind/name``."""
        return f"{self.namespace}/{self.kind}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> Pin | None:
        """The pin ``text`` stands for, or ``None`` when it is not one (a hand-edited settings line)."""
        parts = text.strip().split("/")
        if any(not p for p in parts):
            return None
        if len(parts) == 3:
            return cls(parts[1], parts[0], parts[2])
        if len(parts) == 2:
            return cls(parts[0], None, parts[1])
        return None


def parse_all(texts: Iterable[str]) -> list[Pin]:
    """The valid pins among ``texts``, first occurrence of each, in order."""
    out: list[Pin] = []
    for t in texts:
        p = Pin.parse(t)
        if p is not None and p not in out:
            out.append(p)
    return out


class PinBook:
    """Every context's pins, read from and written to the settings through ``load`` / ``save``.

    Args:
        load: Returns the stored map (context → pin texts).
        save: Stores a new map (the settings store validates and persists it, and announces the change).
    """

    def __init__(self, load: Callable[[], dict[str, list[str]]],
                 save: Callable[[dict[str, list[str]]], None]) -> None:
        self._load = load
        self._save = save

    def pins(self, context: str) -> list[Pin]:
        """``context``'s pins, in the order they were pinned."""
        return parse_all(self._load().get(context, []))

    def is_pinned(self, context: str, pin: Pin) -> bool:
        """Whether ``pin`` is pinned in ``context``."""
        return pin in self.pins(context)

    def pin(self, context: str, pins: Iterable[Pin]) -> list[Pin]:
        """Pin ``pins`` in ``context`` (appended after the existing ones); returns those newly pinned."""
        have = self.pins(context)
        new = [p for p in dict.fromkeys(pins) if p not in have]
        if new:
            self._store(context, have + new)
        return new

    def unpin(self, context: str, pins: Iterable[Pin]) -> list[Pin]:
        """Unpin ``pins`` in ``context``; returns those that were pinned."""
        have = self.pins(context)
        gone = [p for p in dict.fromkeys(pins) if p in have]
        if gone:
            self._store(context, [p for p in have if p not in gone])
        return gone

    def _store(self, context: str, pins: list[Pin]) -> None:
        stored = dict(self._load())
        if pins:
            stored[context] = [p.text for p in pins]
        else:
            stored.pop(context, None)
        self._save(stored)


#: The pins of the window's settings, for the Pin / Unpin commands' ``when`` (a registry predicate sees only the
#: target): set by the window when it starts; ``None`` headless, where pins are not kept.
ACTIVE: PinBook | None = None


def pinned(context: str, kind: str, namespace: str | None, name: str) -> bool:
    """Whether the object is pinned in the window's pins (:data:`ACTIVE`)."""
    return ACTIVE is not None and ACTIVE.is_pinned(context, Pin(kind, namespace, name))
