"""What the Qt-free halves of the model need from each other, as protocols (no Qt, no imports between them).

The tree is driven by :class:`~kube9_desktop.model.loader.TreeLoader` (what to fetch, reconcile, counts, revisit)
and shown by :class:`~kube9_desktop.model.tree_model.ClusterTreeModel` (the ``QAbstractItemModel``). The loader
changes the tree only through a :class:`TreeSurface`, so every change is announced to views the way Qt requires;
:class:`~kube9_desktop.model.live.LiveUpdates` talks to the loader only through :class:`LiveHost`. Neither module
imports the other's class, so there is no import circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import Row
from kube9_desktop.model.nodes import TreeNode

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService


class TreeSurface(Protocol):
    """Structural changes of the tree, announced to views (the Qt adapter implements it).

    Every method changes ``TreeNode.children`` itself; callers never touch a shown node's children directly.
    """

    @property
    def changing(self) -> bool:
        """Whether a change is being announced right now (changes must not nest: defer them)."""

    def insert(self, parent: TreeNode, nodes: list[TreeNode], at: int | None = None) -> None:
        """Insert ``nodes`` under ``parent`` at ``at`` (default: the end)."""

    def remove(self, parent: TreeNode, first: int, last: int) -> None:
        """Remove ``parent``'s children ``first..last`` (inclusive) and detach them."""

    def move(self, parent: TreeNode, src: int, dst: int) -> None:
        """Move ``parent``'s child at ``src`` to ``dst`` (``dst < src``)."""

    def changed(self, node: TreeNode) -> None:
        """``node``'s own row (label, status, note) changed."""

    def reveal(self, node: TreeNode) -> None:
        """Tell views of the rows of a list loaded while closed (``TreeNode.revealed``)."""

    def notify_failed(self, error: KubeError, user: bool) -> None:
        """A load failed; ``user``: the user asked for it directly (the window opens a dialog)."""

    def notify_activity(self) -> None:
        """Some load or watch changed state (the status bar refreshes its numbers)."""

    def notify_busy(self, busy: bool) -> None:
        """Loads started (True) / all loads finished (False)."""


class LiveHost(Protocol):
    """What :class:`~kube9_desktop.model.live.LiveUpdates` needs from the loader that owns it."""

    @property
    def service(self) -> KubeService | None:
        """The data service."""

    @property
    def changing(self) -> bool:
        """Whether a structural change is being announced (apply events later)."""

    def attached(self, node: TreeNode) -> bool:
        """Whether ``node`` is in a context tree."""

    def is_live(self, node: TreeNode, generation: int) -> bool:
        """Whether results for ``node`` taken at ``generation`` still belong in the tree."""

    def reconcile(self, node: TreeNode, rows: list[Row], kind: Kind) -> None:
        """Make ``node``'s children match ``rows``."""

    def apply_changes(self, node: TreeNode, changes: Iterable[tuple[str, Row]], kind: Kind) -> None:
        """Apply coalesced watch events to ``node``."""

    def changed(self, node: TreeNode) -> None:
        """``node``'s own row changed."""

    def notify_activity(self) -> None:
        """Watch state changed."""
