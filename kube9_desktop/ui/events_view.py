"""Events as a live table: Last seen, Type, Reason, Object, Message, Count; newest first, Warnings highlighted.

:class:`EventsTable` owns an :class:`~kube9_desktop.kube.events.EventFeed` (list + watch in a thread, never cached)
and shows it through :class:`EventsModel`. It is the details pane's Events tab (one object's events, by uid; a
namespace's events when its Events row is selected) and the ``events`` view of the bottom dock. Activating a row
asks for its object to be selected in the tree (:attr:`EventsTable.reveal_requested`, a tree path). While the
feed's watch is silent (it re-lists and watches again) the table says ``live updates paused — retrying``, as the
tree's lists do, until a watch delivers again.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from kube9_desktop.kube.errors import PAUSED_NOTE, KubeError
from kube9_desktop.kube.kinds import BUILTIN_KINDS, Category
from kube9_desktop.ui.views import ViewHost, register_view

if TYPE_CHECKING:
    # The events' reader (with orjson and the status errors) is imported when a table first shows events: the
    # details pane holds one from the window's first paint on (~14 ms of imports before it).
    from kube9_desktop.kube.events import EventFeed, EventQuery, EventRow

COLUMNS = ("Last seen", "Type", "Reason", "Object", "Message", "Count")
_WARNING_BG = QColor(255, 196, 0, 60)
_WARNING_FG = QColor("#9a3412")
Index = QModelIndex | QPersistentModelIndex


def _sort_key(row: EventRow) -> tuple[float, str]:
    return (-row.last_seen, row.name)


class EventsModel(QAbstractTableModel):
    """Event rows, newest first; changed in place by watch events."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[EventRow] = []
        self._keys: list[tuple[float, str]] = []
        self.now = time.time()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 6:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                from kube9_desktop.kube.events import age  # loaded with the rows

                return age(self.now - r.last_seen) if r.last_seen else "<unknown>"
            return (None, r.type, r.reason, r.object, r.message, str(r.count))[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return r.message
        if role == Qt.ItemDataRole.BackgroundRole and r.warning:
            return _WARNING_BG
        if role == Qt.ItemDataRole.ForegroundRole and r.warning and col in (1, 2):
            return _WARNING_FG
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def set_rows(self, rows: list[EventRow]) -> None:
        """Replace every row (after a (re)list)."""
        self.beginResetModel()
        self.rows = sorted(rows, key=_sort_key)
        self._keys = [_sort_key(r) for r in self.rows]
        self.endResetModel()

    def apply(self, kind: str, row: EventRow) -> None:
        """One watch event: ``ADDED``/``MODIFIED`` put the row in its place, ``DELETED`` removes it."""
        old = next((i for i, r in enumerate(self.rows) if r.uid == row.uid), None)
        if old is not None:
            self.beginRemoveRows(QModelIndex(), old, old)
            del self.rows[old]
            del self._keys[old]
            self.endRemoveRows()
        if kind == "DELETED":
            return
        key = _sort_key(row)
        at = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, row)
        self._keys.insert(at, key)
        self.endInsertRows()

    def tick(self) -> None:
        """Ages moved on: repaint the Last seen column."""
        self.now = time.time()
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0))


def tree_path(row: EventRow) -> str | None:
    """The tree path of an event's object (``Namespaces/team-a/Workloads/Pods/web-1``), or None if not shown."""
    kind = next((k for k in BUILTIN_KINDS if k.kind == row.object_kind), None)
    if kind is None or not row.object_name:
        return None
    if kind.category is Category.TOP:
        return f"{kind.label}/{row.object_name}"
    if not kind.namespaced:
        return f"{Category.CLUSTER.value}/{kind.label}/{row.object_name}"
    if kind.category is Category.EVENTS:
        return None
    return f"Namespaces/{row.object_namespace}/{kind.category.value}/{kind.label}/{row.object_name}"


def object_cell_path(namespace: str | None, cell: str) -> str | None:
    """The tree path of the object an event row of the tree names in its Object cell (``pod/web-1``, as the
    server's Table prints it), or None."""
    from kube9_desktop.kube.events import EventRow

    kind_name, _, name = cell.partition("/")
    kind = next((k for k in BUILTIN_KINDS if k.kind.lower() == kind_name.lower()), None)
    return tree_path(EventRow(uid="", name="", namespace=namespace or "", last_seen=0, type="", reason="",
                              object_kind=kind.kind, object_name=name, object_namespace=namespace or "",
                              object_uid="", message="", count=0)) if kind is not None and name else None


class EventsTable(QWidget):
    """A live events table for one query.

    Signals:
        reveal_requested(str): a row was activated; the tree path of its object.
    """

    reveal_requested = Signal(str)
    _reset = Signal(object, object)
    _change = Signal(object, str, object)
    _error = Signal(object, str)
    _paused = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = EventsModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,) * 4
                                   + (QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.feed: EventFeed | None = None
        self._threads: list[threading.Thread] = []
        self.query: EventQuery | None = None
        self._reset.connect(self._on_reset)
        self._change.connect(self._on_change)
        self._error.connect(self._on_error)
        self._paused.connect(self._on_paused)
        self.paused = False  # the feed's watch went silent and no watch delivered since: the note says so
        self.table.activated.connect(self._activated)
        self.table.clicked.connect(self._activated)
        self._ages = QTimer(self)
        self._ages.setInterval(5000)
        self._ages.timeout.connect(self.model.tick)

    def start(self, service: Any, context: str, query: EventQuery) -> None:
        """Show the events ``query`` selects in ``context``, live (the previous feed is closed first)."""
        self.close_streams()
        self.query = query
        self.model.set_rows([])
        self.paused = False
        self.note.setStyleSheet("")
        self.note.setText("Loading events…")
        self.note.show()

        def run() -> None:
            # Imported here (a worker): the log session's modules are not needed before the window's first paint.
            from kube9_desktop.kube.events import EventFeed
            from kube9_desktop.kube.log_session import log_client

            try:
                client = log_client(service, context)
            except KubeError as err:
                with contextlib.suppress(RuntimeError):  # the widget may be gone already
                    self._error.emit(feed_box, err.message)
                return
            if feed_box[0] is None:
                return  # closed while the client was being made
            def post(signal: Any, *args: Any) -> None:
                try:
                    signal.emit(*args)
                except RuntimeError:  # the widget is gone (deleted without close_streams): stop reading
                    feed.close()

            feed = EventFeed(client, query, lambda rows: post(self._reset, feed, rows),
                             lambda kind, row: post(self._change, feed, kind, row),
                             lambda text: post(self._error, feed, text),
                             lambda paused: post(self._paused, feed, paused))
            if feed_box[0] is None:
                return
            feed_box[0] = feed
            self.feed = feed
            feed.start()

        feed_box: list[Any] = [True]  # True: starting; the feed once made; None: closed
        self._box = feed_box
        t = threading.Thread(target=run, name="kube9-events-start", daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()
        self._ages.start()

    def close_streams(self) -> None:
        """Stop the feed (its watch connection closes at once)."""
        box = getattr(self, "_box", None)
        if box is not None:
            feed = box[0]
            box[0] = None
            if feed is not None and feed is not True:  # True: still starting (see start)
                feed.close()
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        with contextlib.suppress(RuntimeError):  # shut down after Qt deleted the widget: nothing left to stop
            self._ages.stop()

    def _current(self, feed: Any) -> bool:
        box = getattr(self, "_box", None)
        return box is not None and (box[0] is feed or feed is box)

    def _on_reset(self, feed: Any, rows: list[EventRow]) -> None:
        if not self._current(feed):
            return
        self.model.set_rows(rows)
        if not self.paused:  # a re-list after a silence: still paused until a watch delivers
            self._rows_note()

    def _rows_note(self) -> None:
        rows = self.model.rows
        self.note.setText("No events." if not rows else "")
        self.note.setVisible(not rows)

    def _on_change(self, feed: Any, kind: str, row: EventRow) -> None:
        if not self._current(feed):
            return
        self.model.apply(kind, row)
        if not self.paused:
            self.note.hide()

    def _on_paused(self, feed: Any, paused: bool) -> None:
        if not self._current(feed):
            return
        self.paused = paused
        if paused:
            self.note.setStyleSheet("")
            self.note.setText(PAUSED_NOTE)
            self.note.show()
        else:
            self._rows_note()

    def _on_error(self, feed: Any, text: str) -> None:
        if not self._current(feed):
            return
        self.note.setText(text)
        self.note.setStyleSheet("color: #b00020;")
        self.note.show()

    def _activated(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        path = tree_path(self.model.rows[index.row()])
        if path:
            self.reveal_requested.emit(path)


class EventsView(EventsTable):
    """The ``events`` tab of the bottom dock."""

    def shutdown(self) -> None:
        """The dock closes the tab: stop the feed."""
        self.close_streams()


@register_view("events")
def events_view(host: ViewHost, payload: dict[str, Any]) -> QWidget | None:
    """An Events tab: ``{"context", "query": EventQuery, "title"}``."""
    view = EventsView()
    view.setWindowTitle(str(payload.get("title", "Events")))
    q: EventQuery = payload["query"]
    view.setProperty("dock_key", ("events", payload["context"], q.namespace, q.object_kind, q.object_name))
    reveal = getattr(host, "reveal_path", None)
    if callable(reveal):
        view.reveal_requested.connect(reveal)
    view.start(host.service, str(payload["context"]), q)
    return view
