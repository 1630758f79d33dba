"""The main window: toolbar (context, refresh, settings, filter), tree | details splitter, status bar."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.gui_gate import GATE
from kube9_desktop.model import render
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.proxy import TreeProxy
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.ui import add_namespace, history, menus, pins_ui
from kube9_desktop.ui.bottom_dock import BottomDock
from kube9_desktop.ui.column_fit import ColumnFitter
from kube9_desktop.ui.command_bridge import CommandBridge, target_of
from kube9_desktop.ui.details import DetailsPane
from kube9_desktop.ui.error_dialog import ErrorBanner, ErrorNotices, bounded
from kube9_desktop.ui.kind_columns import KindColumns
from kube9_desktop.ui.status_bar import StatusBar
from kube9_desktop.ui.tree_modes import TreeModes
from kube9_desktop.ui.tree_view import ClusterTreeView
from kube9_desktop.ui.usage_panel import UsagePanel
from kube9_desktop.ui.window_port import WindowPort
from kube9_desktop.ui.window_rows import WindowRows

#: How long the first paint after a tree layout waits (see MainWindow.event): a loop turn, with time for what waits.
PAINT_AFTER_LAYOUT_MS = 4
#: Context names listed in the "unknown context" hint (a kubeconfig may have 20,000).
NAMES_IN_HINT = 10

if TYPE_CHECKING:
    from kube9_desktop.config.store import SettingsStore
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)


class MainWindow(WindowRows, QMainWindow):
    """The kube9-desktop main window.

    Signals:
        closed(): the window was closed (the app shuts down).
    """

    closed = Signal()

    def __init__(self, settings: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.service: KubeService | None = None
        self.startup_ms = 0.0
        self._expanded: dict[str, set[tuple[str, ...]]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._kubeconfig_path: str | None = None  # --kubeconfig, kept for reloads when the extra files change
        self.about_box: QMessageBox | None = None
        self._paint_deferred = False  # a paint put off after a layout (see event())
        self._work_painted = (0, 0)  # the tree's layouts and the fitter's resizes the last paint showed
        self.quit_action: QAction | None = None
        self.setWindowTitle("kube9 Desktop")
        self.setWindowIcon(render.icon("kube9-desktop"))
        self.model = ClusterTreeModel(self)
        self.model.accessible_namespaces = settings.accessible_namespaces
        self.proxy = TreeProxy(self)
        self.banner = ErrorBanner(self)
        self.errors = ErrorNotices(self.banner, self)
        self._build_toolbar()
        self._build_body()
        self.modes = TreeModes(self)  # filter, sort (header clicks), the details pane following its row
        self.status = StatusBar(self.statusBar(), self.model, lambda: self.service)
        self.status_context, self.status_load, self.status_requests = (self.status.context, self.status.load,
                                                                        self.status.requests)
        self.status_cache, self.status_conn, self.status_warning = (self.status.cache, self.status.conn,
                                                                    self.status.warning)
        self.bottom_dock = BottomDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.bottom_dock)
        self.port = WindowPort(self)
        menus.build_menu_bar(self)
        self.commands = CommandBridge(self)  # context menu, Actions menu, shortcuts, palette: from the registry
        self.usage = UsagePanel(self)  # CPU/Memory columns every 15 s while shown; the selection's history
        pins_ui.install(self)  # the "Pinned" group from the settings' pins; Pin / Unpin keep them there
        self.model.load_failed.connect(self._on_load_failed)
        self.details.failed.connect(self.errors.show)
        self.details.events.reveal_requested.connect(self.reveal_path)
        self.model.busy_changed.connect(self._on_busy)
        self.settings.changed.connect(self._on_setting_changed)
        self._restore_state()
        self._apply_style()

    # ------------------------------------------------------------------ construction

    def _build_toolbar(self) -> None:
        # Context, Refresh and Settings: what does not fit a narrow window goes into the toolbar's » menu. The
        # filter is not in the toolbar, so it is never what gets hidden (Ctrl+F then typed into the tree).
        tb = QToolBar("Toolbar", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar = tb
        self.addToolBar(tb)
        tb.addWidget(QLabel(" Context "))
        self.context_box = QComboBox(self)
        self.context_box.setMinimumContentsLength(18)
        self.context_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.context_box.setToolTip("Kubeconfig context")
        self.context_box.currentTextChanged.connect(self._on_context_chosen)
        tb.addWidget(self.context_box)
        tb.addSeparator()
        self.refresh_action = QAction(render.icon("refresh"), "&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.refresh_action.setToolTip("Reload everything open in this context (F5)")
        self.refresh_action.triggered.connect(self.refresh)
        tb.addAction(self.refresh_action)
        self.settings_action = QAction(render.icon("settings"), "&Settings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        tb.addAction(self.settings_action)
        self.filter_box = QLineEdit(self)
        self.filter_box.setObjectName("filterBox")
        self.filter_box.setPlaceholderText("Filter loaded rows by name (Ctrl+F, Esc clears)")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.addAction(render.icon("filter"), QLineEdit.ActionPosition.LeadingPosition)
        self.filter_box.textChanged.connect(self.set_filter)
        self.find_action = QAction(render.icon("filter"), "&Find…", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.setToolTip("Filter the loaded rows by name (Ctrl+F)")
        self.find_action.triggered.connect(self._focus_filter)
        self.addAction(self.find_action)
        self.clear_filter_action = QAction("&Clear filter", self)
        self.clear_filter_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        # Esc belongs to the tree and the filter only: dialogs and menus keep their own Esc.
        self.clear_filter_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.clear_filter_action.triggered.connect(self.clear_filter)

    def _focus_filter(self) -> None:
        self.filter_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_box.selectAll()

    def clear_filter(self) -> None:
        """Esc: clear the filter (the whole tree shows again) and give the tree the keyboard."""
        if self.filter_box.text():
            self.filter_box.clear()
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _build_body(self) -> None:
        self.tree = ClusterTreeView(self)
        self.tree.setModel(self.model)
        # A scroll bar that comes and goes as lists open resizes the viewport, and the view then lays out and
        # repaints everything a second time (about 20 ms each here).
        self.tree.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.doubleClicked.connect(self._on_double_click)
        self.tree.expanded.connect(self._remember_expanded)
        self.tree.collapsed.connect(self._remember_collapsed)
        # Message rows (an error, a note) span the whole row: the Status, Ready... cells of such a row are empty,
        # and the message, cut at the Name column's width, was readable only in its tooltip. Views keep spans by
        # index and forget them on a reset (a context switch) or a change of model (the filter).
        self.model.rowsInserted.connect(self._span_inserted)
        self.model.modelReset.connect(self._span_messages)
        self._show_more_pending = False
        bar = self.tree.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(lambda _lo, _hi: self._on_scrolled())
        # Name takes the spare width; Status, Ready, Restarts, Age and usage fit the rows on screen, so a narrower
        # window shortens no name while they have room to give (ui/column_fit.py: fitted after painting, never on
        # every layout).
        self.tree.header().setResizeContentsPrecision(0)
        self.column_fit = ColumnFitter(self.tree, render.COL_NAME, (render.COL_STATUS, *render.KIND_COLUMNS,
                                                                    render.COL_AGE, *render.USAGE_COLUMNS),
                                       keep=(render.COL_STATUS, *render.USAGE_COLUMNS),
                                       busy=lambda: self.model.busy)
        self.kind_columns = KindColumns(self)  # the header names the current list's kind columns
        add_namespace.open_when_empty(self)  # no namespace to show: the offer to add one is in sight
        self.details = DetailsPane(self)
        tree_pane = QWidget(self)
        tree_pane.setObjectName("treePane")
        pane = QVBoxLayout(tree_pane)
        pane.setContentsMargins(0, 0, 0, 0)
        pane.setSpacing(4)
        pane.addWidget(self.filter_box)
        pane.addWidget(self.tree, 1)
        tree_pane.addAction(self.clear_filter_action)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(tree_pane)
        self.splitter.addWidget(self.details)
        # A narrower window takes its loss from the details pane first (down to its minimum), so names stay
        # readable; neither pane is ever collapsed away by dragging.
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.details.setMinimumWidth(200)
        self.splitter.setSizes([760, 520])
        central = QWidget(self)
        body = QVBoxLayout(central)
        body.setContentsMargins(4, 4, 4, 0)
        body.setSpacing(4)
        body.addWidget(self.banner)
        body.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._connect_selection()

    def _connect_selection(self) -> None:
        modes = getattr(self, "modes", None)
        if modes is not None:
            modes.renew_selection()  # a selection model that hears of removed rows after the details pane does
        sel = self.tree.selectionModel()
        if sel is not None:
            sel.currentChanged.connect(self._on_current_changed)

    def _apply_style(self) -> None:
        from importlib import resources

        try:
            qss = resources.files("kube9_desktop.resources").joinpath("style.qss").read_text(encoding="utf-8")
        except (FileNotFoundError, ModuleNotFoundError):
            return
        self.setStyleSheet(qss)

    # ------------------------------------------------------------------ service and contexts

    def attach_service(self, service: KubeService, *, context: str | None = None,
                       kubeconfig_path: str | None = None, backend: str | None = None) -> None:
        """Start browsing with ``service``; selects ``context`` or the kubeconfig's current context."""
        self.service = service
        self._kubeconfig_path = kubeconfig_path
        self.commands.attach(service)  # writes anywhere bring the tree up to date
        self.details.service = service
        self.model.set_service(service)
        self._configure_live()
        for problem in service.kubeconfig.problems:
            self.errors.show(problem)
        names = [c.name for c in service.contexts()]
        last = self.settings.qsettings.value("window/last_context")
        wanted = context or (last if isinstance(last, str) and last in names else None) \
            or service.kubeconfig.current_context or (names[0] if names else None)
        self.context_box.blockSignals(True)
        self.context_box.clear()
        self.context_box.addItems(names)
        self.context_box.blockSignals(False)
        if not names:
            self.show_message("No contexts found. Point kube9 at a kubeconfig with --kubeconfig, KUBECONFIG or "
                              "Settings → Extra kubeconfig files.")
            return
        if wanted not in names:
            listed = ", ".join(bounded(n, 60, 1) for n in names[:NAMES_IN_HINT])
            more = f" and {len(names) - NAMES_IN_HINT:,} more (see the Context list)" \
                if len(names) > NAMES_IN_HINT else ""
            self.errors.show(KubeError(kind=ErrorKind.KUBECONFIG, title="Unknown context",
                                       message=f"The kubeconfig has no context named {bounded(wanted or '', 80, 1)!r}.",
                                       hint=f"Available contexts: {listed}{more}"))
            wanted = names[0]
        was = self.context_box.blockSignals(True)
        self.context_box.setCurrentIndex(self.context_box.findText(wanted))
        self.context_box.blockSignals(was)
        self._show_context(wanted)  # its failures join the kubeconfig's problems in one notice

    def _on_context_chosen(self, name: str) -> None:
        current = self.model.current_context
        if not name or self.service is None or current == name:
            return
        if current is not None:
            self.errors.context_left(current)
        self.errors.begin_burst()
        self._show_context(name)

    def _show_context(self, name: str) -> None:
        current = self.model.current_context
        if current == name or self.service is None:
            return
        if current is not None:
            self._expanded[current] = self._expanded_paths()
        self.details.clear()
        self.service.prepare(name)  # a new context's client and connections, opened together (no-op if known)
        root = self.model.set_context(name, user=True)
        if root.state is LoadState.LOADING and not self.status.times.pending(name):
            self.status.times.start(name, root)  # its own load, measured on its own (others may still load)
        self.settings.qsettings.setValue("window/last_context", name)
        self.tree.expand(self.model.index_of(root))
        self._restore_expanded(self._expanded.get(name, set()))
        info = None
        try:
            info = self.service.kubeconfig.context(name)
        except KubeError:
            pass
        self.status_warning.setText("⚠ TLS verification is disabled for this context (insecure-skip-tls-verify)"
                                    if info is not None and info.insecure else "")
        self._update_status()
        self.usage.refresh_soon()

    def current_context(self) -> str | None:
        """The context shown."""
        return self.model.current_context

    # ------------------------------------------------------------------ actions

    def refresh(self) -> None:
        """F5: reload everything loaded in this context (expansion and selection are kept)."""
        self.errors.begin_burst()
        if not self.model.refresh():
            self.show_message("Refresh already in progress…", 1500)
            return
        root = self.model.context_node()
        if root is not None:
            self.status.times.start(root.context, root)

    def retry(self, index: QModelIndex) -> None:
        """Retry the load an error row (a model index) stands for."""
        self.errors.begin_burst()
        self.model.retry(index)

    def refresh_node(self, node: TreeNode) -> None:
        """Right-click › Refresh this node: reload one list or folder."""
        self.errors.begin_burst()
        self.model.reload_node(node, user=True)

    def refresh_row(self, node: TreeNode) -> None:
        """Right-click › Refresh on a resource row: reload the list it is in (and what it holds, when open), and
        fetch its details again if they are shown."""
        self.errors.begin_burst()
        if node.parent is not None and node.parent.type is NodeType.LIST:
            self.model.reload_node(node.parent, user=True)
        if node.expandable and node.state in (LoadState.LOADED, LoadState.FAILED):
            self.model.reload_node(node, user=True)
        current = self.model.node(self._source(self.tree.currentIndex()))
        if current is node and node.row is not None and node.kind is not None:
            self.details.show_object(node.context, node.kind, node.row)

    def open_settings(self) -> None:
        """Open the Settings dialog."""
        from kube9_desktop.ui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.settings, self)
        dlg.open()

    def set_filter(self, text: str) -> None:
        """Filter the loaded tree by name (recursively); an empty text shows the whole tree again."""
        self.modes.set_filter(text)

    def _on_double_click(self, index: QModelIndex) -> None:
        node = self.model.node(self._source(index))
        if node.type is NodeType.ERROR:
            self.retry(self._source(index))
        elif node.command:  # a row offering an action ("Add a namespace…")
            self.commands.trigger(node.command)
        elif node.type is NodeType.OBJECT and node.row is not None and node.row.cells.get("Object"):
            # An event row (its Table names the object it is about): select that object.
            from kube9_desktop.ui.events_view import object_cell_path

            path = object_cell_path(node.row.namespace, node.row.cells["Object"])
            if path is not None:
                self.reveal_path(path)
        elif node.type is NodeType.CONTAINER:
            # That container's log, through the registry like the menu's "Logs" (a container row's target names
            # its container).
            target = target_of(node)
            if target is not None:
                self.commands.trigger("logs", [target])

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.menu_for(self.tree.indexAt(pos))
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.tree.viewport().mapToGlobal(pos))  # popup: exec() would nest a loop in the slot

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        """The context menu of the row at ``index`` (a view index), or ``None`` for no row (built by the
        command bridge from the registry, plus the row's own Retry / Refresh / Copy)."""
        return self.commands.context_menu(index)

    def select_first_object(self) -> None:
        """Select the first resource row that is visible (screenshot mode shows its details)."""
        root = self.model.context_node()
        if root is None:
            return
        for n in root.walk():
            if n.type is NodeType.OBJECT and n.kind is not None and n.kind.key == "pods":
                idx = self._view_index(self.model.index_of(n))
                if idx.isValid():
                    self.tree.setCurrentIndex(idx)
                    self.tree.scrollTo(idx)
                return

    async def wait_details(self) -> None:
        """Wait until the details pane finished loading."""
        await self.details.wait()

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.modes.on_current_changed(current)
        self.kind_columns.follow(current)
        self.usage.show_selected(current)  # the selected node's or pod's usage history
        history.record_current(self, self.model.node(self.source_index(current)) if current.isValid() else None)

    # ------------------------------------------------------------------ feedback

    def _on_load_failed(self, error: KubeError, user: bool) -> None:
        if user:
            self.errors.show(error)

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.show_message("Loading…")
        else:
            self.statusBar().clearMessage()
        self._update_status()

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        """A transient status bar message."""
        self.statusBar().showMessage(text, timeout_ms)

    def _update_status(self) -> None:
        self.status.update()

    def _on_setting_changed(self, key: str) -> None:
        if key.startswith("live/") and key != "live/watch_timeout":  # the watch timeout is the data layer's
            self._configure_live()
            return
        if self.service is None:
            return
        from kube9_desktop.config import schema

        if key.startswith(("cache/", "network/page_size", "network/connect", "network/read", "live/watch_timeout")):
            self.service.set_options(schema.kube_options(self.settings.values()))
        elif key == "network/backend":
            self.service.set_backend(self.settings.get("network/backend"))
            self.refresh()
        elif key == "kubeconfig/extra_paths":
            task = asyncio.ensure_future(self.reload_kubeconfig())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def reload_kubeconfig(self) -> None:
        """Read the kubeconfig files again, off the GUI thread (Settings → Extra kubeconfig files changed): new
        contexts join the list, a broken file is reported and skipped, the context shown stays if it still exists."""
        from kube9_desktop.kube.kubeconfig import load_kubeconfig_async

        cfg = await load_kubeconfig_async(self._kubeconfig_path, self.settings.get("kubeconfig/extra_paths"))
        if self.service is None:
            return
        self.service.set_kubeconfig(cfg)
        self.errors.begin_burst()
        for problem in cfg.problems:
            self.errors.show(problem)
        names = cfg.names()
        current = self.model.current_context
        was = self.context_box.blockSignals(True)
        self.context_box.clear()
        self.context_box.addItems(names)
        self.context_box.setCurrentIndex(self.context_box.findText(current or ""))
        self.context_box.blockSignals(was)
        if names and current not in names:
            self.context_box.setCurrentIndex(0)  # the context shown is gone: show the first (through the signal)

    def _configure_live(self) -> None:
        """Apply the ``live/*`` settings to the model's live updates."""
        self.model.live.configure(bool(self.settings.get("live/enabled")), int(self.settings.get("live/max_watches")),
                                  float(self.settings.get("live/grace_seconds")))

    # ------------------------------------------------------------------ state and shutdown

    def _restore_state(self) -> None:
        qs = self.settings.qsettings
        geo = qs.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1280, 800)
        split = qs.value("window/splitter")
        if split is not None:
            self.splitter.restoreState(split)

    def save_state(self) -> None:
        """Persist geometry, splitter position and the last context."""
        qs = self.settings.qsettings
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/splitter", self.splitter.saveState())
        if self.model.current_context:
            qs.setValue("window/last_context", self.model.current_context)
        qs.sync()

    #: Give the loop a turn between the tree's layout and the paint that shows it (see :meth:`event`).
    turn_between_layout_and_paint = True
    #: The rows on screen have their texts laid out between that layout and the paint (see _warm_rows).
    warm_before_paint = True
    #: ... and between the column fitter's new widths and the paint that shows them.
    turn_after_refit = True

    def event(self, event: QEvent) -> bool:
        """Lay the tree out before the window paints, so one paint shows both (see ClusterTreeView.lay_out_now).

        A layout of the shown rows (2,000 of a long list: Python answers ``index()`` and ``hasChildren()`` for each)
        and the paint after it were one loop turn of 30-40 ms, whether the layout ran here or from the view's own
        timer (Qt dispatches the repaint it posts before any timer); so were the column fitter's measurement and the
        repaint its new widths ask for. So the first paint after a layout or a refit is put off by
        :data:`PAINT_AFTER_LAYOUT_MS`: the loop handles what waits (input, a page arriving) in between, then one
        paint shows it. Rows laid out again meanwhile are laid out with that paint; no paint is put off twice.
        """
        if event.type() != QEvent.Type.UpdateRequest:
            return super().event(event)
        laid_out = self.tree.lay_out_now()
        work = (self.tree.layouts, self.column_fit.resizes if self.turn_after_refit else 0)
        if self._paint_deferred:
            self._paint_deferred = False
        elif self.turn_between_layout_and_paint and (laid_out or work != self._work_painted):
            self._paint_deferred = True
            # Re-posted, not dropped: Qt posts no other request while this one is outstanding.
            QTimer.singleShot(PAINT_AFTER_LAYOUT_MS, self, self._request_paint)
            if self.warm_before_paint:
                QTimer.singleShot(0, self, self._warm_rows)
            return True
        self._work_painted = work
        # The paint calls Python for every cell it draws: the list workers step aside meanwhile (kube.gui_gate).
        with GATE.held():
            return super().event(event)

    def _warm_rows(self) -> None:
        """The texts of the rows on screen laid out in a turn of their own, before the paint put off after a layout
        (RowPainter.warm): a first paint of new rows was ~3-4 ms of text layout in the paint's turn."""
        if self._paint_deferred and self.isVisible():
            with GATE.held():
                self.tree.row_painter.warm()

    def _request_paint(self) -> None:
        QCoreApplication.postEvent(self, QEvent(QEvent.Type.UpdateRequest))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.errors.close_all()
        event.accept()
        self.closed.emit()

    async def shutdown(self) -> None:
        """Stop every load and background task (called once the loop is about to end)."""
        self.status.stop()
        self.usage.shutdown()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.usage.finish()
        await self.commands.shutdown()
        await self.bottom_dock.close_all()
        # Port forwards outlive their panel (it is only a view of them); quitting ends them: nothing stays listening.
        # Imported here, not at the top: it pulls in the kubernetes package (~0.5 s), which the window must not
        # wait for before it is first shown.
        from kube9_desktop.kube.portforward import FORWARDS

        await asyncio.to_thread(FORWARDS.stop_all)
        await self.model.shutdown()
        await self.details.shutdown()

