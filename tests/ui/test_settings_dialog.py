"""The Settings dialog: built from the schema; OK applies live, Cancel restores, invalid input is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPlainTextEdit

from kube9_desktop.config import schema
from kube9_desktop.config.store import SettingsStore
from kube9_desktop.kube.kinds import TtlClass
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.ui.settings_dialog import SettingsDialog


def make_store(path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(path), QSettings.Format.IniFormat))


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def field(dlg: SettingsDialog, key: str) -> Any:
    return dlg.fields[key]


def test_every_setting_has_a_field_with_its_description(qtbot: Any, ini: Path) -> None:
    dlg = SettingsDialog(make_store(ini))
    qtbot.addWidget(dlg)
    assert set(dlg.fields) == {s.key for s in schema.SETTINGS}
    for s in schema.SETTINGS:
        assert dlg.fields[s.key].toolTip() == s.description
    assert field(dlg, "cache/ttl_volatile").text() == "5"


def test_every_text_in_the_dialog_is_shown_whole(qtbot: Any, ini: Path) -> None:
    """A check box shows its setting's description as its text, and a check box does not wrap: at the dialog's
    size each must fit (a longer description was cut in the middle of a word)."""
    dlg = SettingsDialog(make_store(ini))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    boxes = [w for w in dlg.fields.values() if isinstance(w, QCheckBox)]
    assert boxes
    for box in boxes:
        assert box.sizeHint().width() <= box.width(), box.text()


def test_ok_applies_and_persists(qtbot: Any, ini: Path) -> None:
    store = make_store(ini)
    changed: list[str] = []
    store.changed.connect(changed.append)
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    field(dlg, "cache/ttl_volatile").setText("42")
    field(dlg, "kubeconfig/accessible_namespaces").setPlainText("sim-viewer=team-a,team-b")
    dlg.accept()
    assert store.get("cache/ttl_volatile") == 42
    assert store.accessible_namespaces("sim-viewer") == ["team-a", "team-b"]
    assert set(changed) == {"cache/ttl_volatile", "kubeconfig/accessible_namespaces"}
    again = make_store(ini)
    assert again.get("cache/ttl_volatile") == 42
    assert again.accessible_namespaces("sim-viewer") == ["team-a", "team-b"]


def test_cancel_changes_nothing(qtbot: Any, ini: Path) -> None:
    store = make_store(ini)
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    field(dlg, "cache/ttl_cluster").setText("99")
    dlg.reject()
    assert store.get("cache/ttl_cluster") == 30
    assert make_store(ini).get("cache/ttl_cluster") == 30


@pytest.mark.parametrize(("key", "text", "words"), [
    ("cache/ttl_volatile", "-1", "between 0 and 3600"),
    ("cache/ttl_volatile", "soon", "not a valid int"),
    ("network/read_timeout", "0", "between 1 and 600"),
    ("kubeconfig/accessible_namespaces", "just-a-namespace", "context=ns1,ns2"),
])
def test_invalid_input_is_refused_with_a_message(qtbot: Any, ini: Path, key: str, text: str, words: str) -> None:
    store = make_store(ini)
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    w = field(dlg, key)
    if isinstance(w, QPlainTextEdit):
        w.setPlainText(text)
    else:
        assert isinstance(w, QLineEdit)
        w.setText(text)
    field(dlg, "cache/ttl_stable").setText("77")  # a valid change alongside: must not be stored either
    dlg.accept()
    assert dlg.isVisible(), "the dialog stays open"
    assert dlg.error_label.isVisible() and words in dlg.error_label.text()
    assert store.get("cache/ttl_stable") == 15
    assert store.get(key) == schema.BY_KEY[key].default


def test_restore_defaults(qtbot: Any, ini: Path) -> None:
    store = make_store(ini)
    store.set("cache/ttl_volatile", 60)
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    assert field(dlg, "cache/ttl_volatile").text() == "60"
    dlg.restore_defaults()
    dlg.accept()
    assert store.get("cache/ttl_volatile") == 5


def test_dialog_shows_where_settings_and_logs_live(qtbot: Any, ini: Path) -> None:
    dlg = SettingsDialog(make_store(ini))
    qtbot.addWidget(dlg)
    assert dlg._paths_text().startswith(f"Settings file: {ini}")
    assert "Logs: " in dlg._paths_text()


def test_new_ttl_applies_live_to_the_cache(qtbot: Any, ini: Path, service_factory: Any, run: Any,
                                           sim: Any) -> None:
    from kube9_desktop.ui.main_window import MainWindow

    store = make_store(ini)
    w = MainWindow(store)
    qtbot.addWidget(w)
    svc = service_factory()
    w.attach_service(svc, context="sim-admin")
    run(w.model.wait_idle())
    ref = ListRef("sim-admin", "namespaces")
    run(svc.list_all(ref))
    before = svc.stats("sim-admin").requests
    run(svc.list_all(ref))
    assert svc.stats("sim-admin").requests == before, "served from the cache"
    dlg = SettingsDialog(store, w)
    field(dlg, "cache/ttl_cluster").setText("0")
    dlg.accept()
    assert svc.options.ttls[TtlClass.CLUSTER] == 0
    run(svc.list_all(ref))
    assert svc.stats("sim-admin").requests == before + 1, "TTL 0: no longer cached"
    run(w.shutdown())
