"""The menu bar (File, View, Help). The tree's right-click menu and the Actions menu are built from the command
registry by :mod:`kube9_desktop.ui.command_bridge`.

The window owns the actions (Refresh, Settings, Find ...) that the toolbar shares; this module arranges them and
adds the menu-only ones.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from kube9_desktop import __version__, logs
from kube9_desktop.model.nodes import NodeType

if TYPE_CHECKING:
    from kube9_desktop.ui.main_window import MainWindow

#: Rows that carry a message rather than an object.
MESSAGE_ROWS = frozenset({NodeType.ERROR, NodeType.NOTE})


def build_menu_bar(win: MainWindow) -> None:
    """File › Settings, Quit (Ctrl+Q); View › Refresh, Find, Clear filter, the panes; Help › About."""
    bar = win.menuBar()
    file = bar.addMenu("&File")
    file.addAction(win.settings_action)
    file.addSeparator()
    win.quit_action = QAction("&Quit", win)
    win.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    win.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    win.quit_action.setToolTip("Close the window and quit (Ctrl+Q)")
    win.quit_action.triggered.connect(win.close)
    file.addAction(win.quit_action)

    view = bar.addMenu("&View")
    view.addAction(win.refresh_action)
    view.addSeparator()
    view.addAction(win.find_action)
    view.addAction(win.clear_filter_action)
    view.addSeparator()
    details = QAction("&Details pane", win)
    details.setCheckable(True)
    details.setChecked(True)
    details.toggled.connect(win.details.setVisible)
    view.addAction(details)
    view.addAction(win.toolbar.toggleViewAction())

    help_menu = bar.addMenu("&Help")
    about = QAction("&About kube9 Desktop", win)
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda: show_about(win))
    help_menu.addAction(about)


def about_text() -> str:
    """The About box's text: version, where the logs are, and what it runs on."""
    return (f"<h3>kube9 Desktop {__version__}</h3>"
            "<p>A fast, native desktop browser for Kubernetes clusters.</p>"
            f"<p><b>Log folder:</b> {_esc(str(logs.log_dir()))}</p>"
            f"<p>Python {platform.python_version()} · PySide6 {pyside_version}</p>")


def show_about(win: MainWindow) -> QMessageBox:
    """Show the About box (non-modal: the window stays usable while it is open)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About kube9 Desktop", about_text(),
                      QMessageBox.StandardButton.Close, win)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    win.about_box = box
    box.show()
    return box


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
