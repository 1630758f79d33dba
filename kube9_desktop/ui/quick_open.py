"""Quick open (Ctrl+P): type part of a name, Enter goes to the object in the tree.

The box searches every object loaded in the context's tree at once, and the context's lists of
:data:`~kube9_desktop.commands.navigate.SEARCHED_KINDS` across all namespaces (and its custom resources) as they
arrive: fetched in the background when the box opens (cached lists cost no request), their names added to the
index, the results refreshed. Every keystroke searches the index in memory (:class:`QuickIndex`, a few ms for
50,000 names); the fetches are cancelled when the box closes. Enter (or a double-click) reveals the match
(``host.reveal_path``: the tree opens the path, loading what it must, and selects the row).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.children import tree_path
from kube9_desktop.model.nodes import NodeType
from kube9_desktop.model.quick_index import Entry, QuickIndex
from kube9_desktop.ui.views import ViewHost, register_view

log = logging.getLogger(__name__)

SHOWN = 30


class QuickOpen(QDialog):
    """The quick-open box of one context.

    Args:
        host: The window (``service``, ``model``, ``reveal_path``).
        context: The context searched.
        text: Initial text.
    """

    def __init__(self, host: Any, context: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to object")
        self.setModal(False)
        self.host, self.context = host, context
        self.index = QuickIndex()
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Name or part of it (letters in order also match)")
        self.results = QListWidget(self)
        self.status = QLabel(self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.edit)
        lay.addWidget(self.results)
        lay.addWidget(self.status)
        self.resize(640, 420)
        self._tasks: set[asyncio.Future[Any]] = set()
        self._pending = 0
        self.edit.textChanged.connect(self.search)
        self.edit.returnPressed.connect(self.go)
        self.results.itemActivated.connect(lambda _item: self.go())
        self._add_loaded()
        self._fetch_lists()
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
                # Paths below the context row, as reveal_path takes them.
                entries.append(Entry(n.row.name, n.row.namespace, n.kind.key if n.kind else "", n.path()[1:]))
        self.index.add(entries)

    def _fetch_lists(self) -> None:
        from kube9_desktop.commands.navigate import SEARCHED_KINDS

        svc = self.host.service
        if svc is None:
            return
        served = {k.key: k for k in svc.known_kinds(self.context)}
        kinds = [served[k] for k in SEARCHED_KINDS if k in served]
        kinds += [k for k in served.values() if k.category.value == "Custom resources"]
        for kind in kinds:
            self._pending += 1
            task = asyncio.ensure_future(self._fetch(svc, kind))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _fetch(self, svc: Any, kind: Any) -> None:
        try:
            rows = await svc.list_all(ListRef(self.context, kind.key, None))
        except KubeError as err:
            log.info("quick open: %s not searched: %s", kind.key, err.one_line())
            rows = []
        finally:
            self._pending -= 1
        self.index.add(Entry(r.name, r.namespace, kind.key, tree_path(kind, r.namespace, r.name)) for r in rows)
        self.search()

    # -- search and go -------------------------------------------------------------------------------------
    def search(self) -> None:
        """Show the best matches for the text typed."""
        matches = self.index.search(self.edit.text(), SHOWN)
        self.results.clear()
        for e in matches:
            item = QListWidgetItem(f"{e.name}    {e.path_text}")
            item.setData(Qt.ItemDataRole.UserRole, e.path_text)
            self.results.addItem(item)
        if matches:
            self.results.setCurrentRow(0)
        more = f" — searching {self._pending} more kinds…" if self._pending > 0 else ""
        self.status.setText(f"{len(self.index)} names{more}")

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
        for t in list(self._tasks):
            t.cancel()
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
