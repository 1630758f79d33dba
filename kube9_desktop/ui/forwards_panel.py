"""The Port forwards panel: every forward of the session, its state and traffic, and what to do with it.

Rows come from :data:`~kube9_desktop.kube.portforward.FORWARDS`. Forwards change on their own threads, so the
panel reads them on a timer (twice a second) on the GUI thread instead of receiving callbacks from those threads.
Actions: Open in browser (HTTP ports), Copy address, Stop (a stopped or failed forward is removed).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QPushButton, QTableView, QVBoxLayout, QWidget

from kube9_desktop.kube.portforward import FORWARDS, ForwardState, PortForward

COLUMNS = ("Local", "Target", "State", "Connections", "Sent", "Received")


def human_bytes(n: int) -> str:
    """``1.5 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class ForwardsModel(QAbstractTableModel):
    """One row per forward (a snapshot refreshed by :meth:`refresh`)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[PortForward] = []
        self.cells: list[tuple[str, ...]] = []

    @staticmethod
    def _cells(f: PortForward) -> tuple[str, ...]:
        target = f"pod/{f.pod or '?'}:{f.pod_port or f.spec.remote_port}"
        if f.spec.kind == "services":
            target = f"svc/{f.spec.name}:{f.spec.remote_port} → {target}"
        state = f.state.value + (f": {f.message}" if f.message else "")
        conns = f"{f.active} open / {f.total}" + (f" ({f.failed} failed)" if f.failed else "")
        return (
            f.address,
            f"{f.spec.namespace}/{target}",
            state,
            conns,
            human_bytes(f.bytes_out),
            human_bytes(f.bytes_in),
        )

    def refresh(self) -> None:
        """Re-reads the forwards; rows are reset only when the set of forwards changed."""
        items = FORWARDS.all()
        cells = [self._cells(f) for f in items]
        if [f.id for f in items] != [f.id for f in self.rows]:
            self.beginResetModel()
            self.rows, self.cells = items, cells
            self.endResetModel()
            return
        for i, (old, new) in enumerate(zip(self.cells, cells, strict=True)):
            if old != new:
                self.cells[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            # Why connections failed (refused inside the pod, 403, kubelet unreachable): the row only counts them.
            f = self.rows[index.row()]
            text = self.cells[index.row()][3]
            return f"{text}\nlast failure: {f.last_error}" if f.failed and f.last_error else text
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 2:
            from PySide6.QtGui import QColor

            state = self.rows[index.row()].state
            if state is ForwardState.FAILED:
                return QColor("#c62828")
            if state is ForwardState.RESOLVING:
                return QColor("#b26a00")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None


class ForwardsPanel(QWidget):
    """The panel (a bottom-dock tab, one per window)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Port forwards")
        self.model = ForwardsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("forwards-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.open_button = QPushButton("Open in browser", self)
        self.copy_button = QPushButton("Copy address", self)
        self.stop_button = QPushButton("Stop", self)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.copy_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self.open_button.clicked.connect(self.open_in_browser)
        self.copy_button.clicked.connect(self.copy_address)
        self.stop_button.clicked.connect(self.stop_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.timer = QTimer(self, interval=500)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Re-reads every forward."""
        self.model.refresh()
        if self.model.rows and not self.table.selectionModel().hasSelection():
            self.table.selectRow(len(self.model.rows) - 1)
        self._update_buttons()

    def select(self, fwd: PortForward) -> None:
        """Selects the row of ``fwd``."""
        self.refresh()
        for i, f in enumerate(self.model.rows):
            if f is fwd:
                self.table.selectRow(i)

    def selected(self) -> PortForward | None:
        """The selected forward."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.model.rows):
            return None
        return self.model.rows[rows[0].row()]

    def _update_buttons(self) -> None:
        f = self.selected()
        live = f is not None and f.state in (ForwardState.ACTIVE, ForwardState.RESOLVING)
        self.open_button.setEnabled(bool(live and f is not None and f.http))
        self.copy_button.setEnabled(live)
        self.stop_button.setEnabled(f is not None)
        self.stop_button.setText("Stop" if live or f is None else "Remove")

    def open_in_browser(self) -> None:
        f = self.selected()
        if f is not None and f.http:
            QDesktopServices.openUrl(QUrl(f.url))

    def copy_address(self) -> None:
        f = self.selected()
        if f is not None:
            QGuiApplication.clipboard().setText(f.address)

    def stop_selected(self) -> None:
        """Stops the selected forward (a second click on a stopped one removes its row)."""
        f = self.selected()
        if f is None:
            return
        if f.state in (ForwardState.ACTIVE, ForwardState.RESOLVING, ForwardState.STARTING):
            f.stop()
        else:
            FORWARDS.remove(f)
        self.refresh()

    def shutdown(self) -> None:
        """Closing the panel keeps the forwards (the app stops them when it quits); only the timer stops."""
        self.timer.stop()
