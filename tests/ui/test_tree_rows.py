"""Rows of the main window's tree as the user reads them (issue 14 items 24, 26)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetrics

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.headless import load_tree
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, service_factory: Any, run: Any) -> Any:
    def shut_down(w: MainWindow) -> None:
        w.errors.close_all()
        run(w.shutdown())

    w = MainWindow(SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(w, before_close_func=shut_down)
    w.resize(1280, 800)  # the window's default size
    w.show()
    w.attach_service(service_factory(connect_timeout=2.0), context="sim-admin")
    run(w.model.wait_idle())
    return w


def expand(window: MainWindow, run: Any, path: str) -> TreeNode:
    run(load_tree(window.model, 0, [path], expand_view=window.expand_node))
    node = window.model.find(path)
    assert node is not None, path
    window.expand_node(node)
    run(window.model.wait_idle())
    return node


def reads_whole(window: MainWindow, node: TreeNode) -> bool:
    """Whether ``node``'s row shows its whole text: icon and text fit the width the view gives the row."""
    idx = window.model.index_of(node)
    view_idx = window._view_index(idx)
    tree = window.tree
    rect = tree.visualRect(view_idx)
    text = window.model.data(idx)
    # Qt's item delegate: a margin, the icon, a margin, the text, a margin (Fusion: 3 px + 3 px + 4 px).
    needed = QFontMetrics(tree.font()).horizontalAdvance(text) + tree.iconSize().width() + 12
    right = min(rect.right(), tree.viewport().width())
    return right - rect.left() >= needed


def test_message_rows_read_whole_at_the_default_size(window: MainWindow, run: Any, qtbot: Any) -> None:
    """Item 24: an error row was cut at the Name column, and the "Partial list" note before its point (what is
    shown). Each reads whole in the default window; why a list is partial is in its tooltip and details."""
    window.context_box.setCurrentText("sim-viewer")
    run(window.model.wait_idle())
    expand(window, run, "Nodes")
    namespaces = expand(window, run, "Namespaces")
    expand(window, run, "Namespaces/team-a/Config/Secrets")
    messages = [n for n in window.model.context_node().walk()  # type: ignore[union-attr]
                if n.type in (NodeType.ERROR, NodeType.NOTE) and window._view_index(
                    window.model.index_of(n)).isValid() and n.parent is not None and n.parent.expanded]
    assert len(messages) >= 3, [m.label for m in messages]
    window.tree.viewport().repaint()
    cut = [m.label for m in messages if not reads_whole(window, m)]
    assert not cut, cut
    note = namespaces.children[0]
    assert note.type is NodeType.NOTE and "default namespace" in note.label
    tip = window.model.data(window.model.index_of(note), Qt.ItemDataRole.ToolTipRole)
    assert "cannot list namespaces" in tip
    window.tree.setCurrentIndex(window.model.index_of(note))
    form = window.details.form
    fields = {form.itemAt(i, form.ItemRole.LabelRole).widget().text(): form.itemAt(i, form.ItemRole.FieldRole)
              .widget().text() for i in range(form.rowCount())}
    assert "cannot list namespaces" in fields["<b>Why</b>"], fields
