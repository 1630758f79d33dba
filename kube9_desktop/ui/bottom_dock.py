"""The bottom dock: one tab per opened view (logs, terminals, forwards, results).

API for the engineers of those views (see also docs/architecture.md, "Views and the bottom dock"):

- ``dock.open_tab(widget, title, key=None) -> int``: add ``widget`` as a closable tab and show it (the dock appears
  if hidden). A ``key`` (e.g. ``("logs", ctx, ns, pod, container)``) makes a second open with the same key bring the
  existing tab forward instead of opening another; the new widget is then closed as if its tab had been.
- Closing a tab (its ×, :meth:`close_tab`, or the window quitting via :meth:`close_all`) calls the widget's
  ``close_streams()`` and then ``shutdown()``, whichever it has; either may be a plain method or a coroutine function
  (then it is run as a task the dock keeps a reference to, and :meth:`close_all` awaits it). Then the widget is
  deleted. So a view that owns a stream closes it in one of those two methods, and nothing else is needed.
- ``dock.tabs()`` lists the open widgets; ``dock.tab_for(key)`` the widget with a key.
- Signal ``tab_closed(QWidget)`` after a tab was closed (before the widget is deleted).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Hashable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

log = logging.getLogger(__name__)

#: Methods a view may have for releasing what it holds, called in this order when its tab closes.
CLOSE_METHODS = ("close_streams", "shutdown")


class BottomDock(QDockWidget):
    """A dock at the bottom of the main window holding closable tabs.

    Signals:
        tab_closed(QWidget): a tab's widget was closed (its streams closed or closing).
    """

    tab_closed = Signal(QWidget)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Views", parent)
        self.setObjectName("bottomDock")
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.tab_widget = QTabWidget(self)
        self.tab_widget.setObjectName("bottomTabs")
        self.tab_widget.setTabsClosable(True)
        self.tab_widget.setMovable(True)
        self.tab_widget.setDocumentMode(True)
        self.tab_widget.tabCloseRequested.connect(self.close_tab)
        self.setWidget(self.tab_widget)
        self._keys: dict[Hashable, QWidget] = {}
        self._closing: set[asyncio.Future[Any]] = set()
        self.hide()

    # ------------------------------------------------------------------ opening

    def open_tab(self, widget: QWidget, title: str, *, key: Hashable | None = None) -> int:
        """Show ``widget`` in a new tab titled ``title`` (or bring the tab with ``key`` forward); returns its index."""
        if key is not None:
            existing = self._keys.get(key)
            if existing is not None and self.tab_widget.indexOf(existing) >= 0:
                if existing is not widget:
                    self._release(widget)
                    widget.deleteLater()
                index = self.tab_widget.indexOf(existing)
                self.tab_widget.setCurrentIndex(index)
                self.show()
                return index
            widget.setProperty("dock_key", key)
            self._keys[key] = widget
        index = self.tab_widget.addTab(widget, title)
        self.tab_widget.setTabToolTip(index, title)
        self.tab_widget.setCurrentIndex(index)
        self.show()
        self.raise_()
        return index

    def tabs(self) -> list[QWidget]:
        """The widgets of the open tabs, in tab order."""
        widgets = (self.tab_widget.widget(i) for i in range(self.tab_widget.count()))
        return [w for w in widgets if w is not None]

    def tab_for(self, key: Hashable) -> QWidget | None:
        """The open widget opened with ``key``, if any."""
        w = self._keys.get(key)
        return w if w is not None and self.tab_widget.indexOf(w) >= 0 else None

    # ------------------------------------------------------------------ closing

    def close_tab(self, index: int) -> None:
        """Close the tab at ``index``: release the widget's streams, remove and delete it."""
        widget = self.tab_widget.widget(index)
        if widget is None:
            return
        self.tab_widget.removeTab(index)
        key = widget.property("dock_key")
        if key is not None and self._keys.get(key) is widget:
            del self._keys[key]
        self._release(widget)
        self.tab_closed.emit(widget)
        widget.deleteLater()
        if self.tab_widget.count() == 0:
            self.hide()

    def _release(self, widget: QWidget) -> None:
        """Call the widget's close methods; coroutines become tasks kept until they end."""
        for name in CLOSE_METHODS:
            fn = getattr(widget, name, None)
            if not callable(fn):
                continue
            try:
                outcome = fn()
            except Exception:  # a view's bug must not keep its tab (or the app) from closing
                log.exception("%s.%s failed", type(widget).__name__, name)
                continue
            if inspect.isawaitable(outcome):
                task = asyncio.ensure_future(outcome)
                self._closing.add(task)
                task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Future[Any]) -> None:
        self._closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("closing a view failed: %s", task.exception())

    async def close_all(self) -> None:
        """Close every tab and wait until their streams are closed (the window calls this when it shuts down)."""
        while self.tab_widget.count():
            self.close_tab(self.tab_widget.count() - 1)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
