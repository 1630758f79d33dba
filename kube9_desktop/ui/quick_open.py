"""Quick open (Ctrl+P): type part of a name, Enter goes to the object in the tree.

Two sources, merged per keystroke:

* **Loaded**: every object row loaded in the context's tree (no request), searched in memory per keystroke
  (:class:`QuickIndex`: a few ms for 50,000 names). These matches come first.
* **Server**: the names of the kinds quick open searches (:func:`~kube9_desktop.commands.navigate.searched_kinds`)
  across all namespaces, from :class:`~kube9_desktop.kube.name_search.NameCatalogue`: names only, paged in the
  background from the moment the box opens and kept while it is open, matched as pages arrive; and, while that is
  incomplete, the text typed looked up as an exact name (a short pause after the last keystroke; each keystroke
  cancels the previous lookup). Their matches follow the loaded ones, marked "server", without repeating one.

Enter (or a double-click) reveals the match (``host.reveal_path``: the tree opens the path, loading what it must, and
selects the row). Closing the box cancels what it still has running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.name_search import NameCatalogue
from kube9_desktop.model.children import tree_path
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.model.quick_index import Entry, QuickIndex
from kube9_desktop.ui.tasks import Tasks
from kube9_desktop.ui.views import ViewHost, register_view

log = logging.getLogger(__name__)

#: Loaded matches listed at most, and the server's listed below them (always room for some: a short text matches
#: many loaded rows).
SHOWN = 30
SERVER_SHOWN = 15


class QuickOpen(QDialog):
    """The quick-open box of one context.

    Args:
        host: The window (``service``, ``model``, ``reveal_path``).
        context: The context searched.
        text: Initial text.
    """

    #: Pause after the last keystroke before the exact-name lookup (typing on cancels it first).
    LOOKUP_DELAY_MS = 150

    def __init__(self, host: Any, context: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to object")
        self.setModal(False)
        self.host, self.context = host, context
        self.index = QuickIndex()  # rows loaded in the tree
        self.server = QuickIndex()  # names from the server's lists
        self.catalogue: NameCatalogue | None = None
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Name or part of it (letters in order also match)")
        self.results = QListWidget(self)
        self.status = QLabel(self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.edit)
        lay.addWidget(self.results)
        lay.addWidget(self.status)
        self.resize(640, 420)
        self._tasks = Tasks()
        self._lookup: asyncio.Future[Any] | None = None
        self._lookup_timer = QTimer(self)
        self._lookup_timer.setSingleShot(True)
        self._lookup_timer.setInterval(self.LOOKUP_DELAY_MS)
        self._lookup_timer.timeout.connect(self._start_lookup)
        self.lookups = 0  # exact-name lookups started (tests)
        self.edit.textChanged.connect(self._typed)
        self.edit.returnPressed.connect(self.go)
        self.results.itemActivated.connect(lambda _item: self.go())
        self._add_loaded()
        self.fill_task = self._tasks.spawn(self._fill())  # done when every searched kind's names are in
        self.edit.setText(text)
        self.search()

    # -- index ---------------------------------------------------------------------------------------------
    def _add_loaded(self) -> None:
        """Every object row loaded in the context's tree (no request)."""
        model = getattr(self.host, "model", None)
        root = model.context_node() if model is not None else None
        if root is None:
            return
        entries = []
        for n in root.walk():
            if n.type is NodeType.OBJECT and n.row is not None:
                # Paths below the context row, as reveal_path takes them: the object's own place, not the copy met
                # first (a pinned row, a Deployment's drill-down, "All namespaces" show it too; the index keeps one).
                path = tree_path(n.kind, n.row.namespace, n.row.name) if n.kind is not None else n.path()[1:]
                entries.append(Entry(n.row.name, n.row.namespace, n.kind.key if n.kind else "", path))
        self.index.add(entries)

    def _found(self, kind: Kind, names: list[tuple[str, str | None]]) -> None:
        self.server.add(Entry(n, ns, kind.key, tree_path(kind, ns, n)) for n, ns in names)
        self.search()

    async def _fill(self) -> None:
        """The server's names, paged in while the box is open."""
        from kube9_desktop.commands.navigate import searched_kinds

        svc = self.host.service
        if svc is None:
            return
        self.catalogue = NameCatalogue(svc, self.context, await searched_kinds(svc, self.context))
        self.search()
        if self.edit.text().strip() and not self._lookup_timer.isActive() and self._lookup is None:
            self._start_lookup()  # typed while the kinds were being found: look it up now
        await self.catalogue.fill(self._found)
        self.search()

    def _typed(self) -> None:
        """A keystroke: search what is here at once; cancel the previous lookup and start another after a pause."""
        self.search()
        if self._lookup is not None:
            self._lookup.cancel()
            self._lookup = None
        self._lookup_timer.start()

    def _start_lookup(self) -> None:
        text = self.edit.text().strip()
        if not text or self.catalogue is None or self.catalogue.complete:
            return
        self.lookups += 1
        self._lookup = self._tasks.spawn(self.catalogue.exact(text, self._found))

    # -- search and go -------------------------------------------------------------------------------------
    def matches(self) -> list[tuple[Entry, bool]]:
        """The matches shown: loaded ones first, then the server's not already among them (flag: from the
        server)."""
        text = self.edit.text()
        loaded = self.index.search(text, SHOWN)
        seen = {(e.name, e.namespace, e.kind) for e in loaded}
        server = [e for e in self.server.search(text, SHOWN + SERVER_SHOWN)
                  if (e.name, e.namespace, e.kind) not in seen]
        return [(e, False) for e in loaded] + [(e, True) for e in server[:SERVER_SHOWN]]

    def search(self) -> None:
        """Show the best matches for the text typed."""
        found = self.matches()
        self.results.clear()
        for e, from_server in found:
            item = QListWidgetItem(f"{e.name}    {e.path_text}" + ("    · server" if from_server else ""))
            item.setData(Qt.ItemDataRole.UserRole, e.path_text)
            if from_server:
                item.setForeground(QColor("#6b7280"))
                item.setToolTip("Found in the server's lists (not loaded in the tree yet): Enter loads its path.")
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)
        pending = self.catalogue.pending if self.catalogue is not None else None
        more = " — listing the server's names…" if pending is None else \
            f" — listing {pending} more kinds on the server…" if pending else ""
        self.status.setText(f"{len(self.index):,} loaded, {len(self.server):,} from the server{more}")

    def go(self) -> None:
        """Reveal the current match in the tree and close."""
        item = self.results.currentItem()
        if item is None:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
        reveal = getattr(self.host, "reveal_path", None)
        if callable(reveal):
            reveal(path)
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Up/Down move through the matches while the text keeps the focus."""
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            row = self.results.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            self.results.setCurrentRow(max(0, min(self.results.count() - 1, row)))
            return
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        """Closing cancels the fetches still running."""
        self._lookup_timer.stop()
        self._tasks.cancel()
        super().done(result)


@register_view("quick-open")
def quick_open_view(host: ViewHost, payload: Any) -> QWidget | None:
    """Open the quick-open box (payload: initial text)."""
    context = host.current_context()
    if context is None or host.service is None:
        return None
    parent = host if isinstance(host, QWidget) else None
    box = QuickOpen(host, context, str(payload or ""), parent)
    box.show()
    box.edit.setFocus()
    return None
