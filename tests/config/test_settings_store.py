"""The settings file is validated on load: a hand-edited nan, inf or negative number falls back to the default."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from kube9_desktop.config import schema
from kube9_desktop.config.store import SettingsStore

BAD = {
    "network/read_timeout": "nan",
    "network/connect_timeout": "inf",
    "cache/ttl_volatile": "-5",
    "network/page_size": "-inf",
    "live/grace_seconds": "nan",
    "cache/max_entries": "1e400",
}


def test_non_finite_and_negative_values_fall_back_to_defaults(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """nan passed every bound check (every comparison with nan is false), and then every request failed."""
    ini = tmp_path / "settings.ini"
    qs = QSettings(str(ini), QSettings.Format.IniFormat)
    for key, value in BAD.items():
        qs.setValue(key, value)
    qs.setValue("network/page_size_unrelated", "x")
    qs.setValue("cache/ttl_stable", "20")  # a good value next to the bad ones is kept
    qs.sync()
    with caplog.at_level(logging.WARNING, logger="kube9_desktop.config.store"):
        store = SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat))
    defaults = schema.defaults()
    assert {k: store.get(k) for k in BAD} == {k: defaults[k] for k in BAD}
    assert store.get("cache/ttl_stable") == 20
    assert schema.kube_options(store.values()) == schema.kube_options({**defaults, "cache/ttl_stable": 20})
    logged = [r.getMessage() for r in caplog.records]
    for key, value in BAD.items():
        line = next((m for m in logged if f"{key} = '{value}'" in m), None)
        assert line is not None and f"using the default, {defaults[key]!r}" in line and str(ini) in line, logged


@pytest.mark.parametrize("value", ["nan", float("nan"), float("inf"), "-1", " NaN "])
def test_validate_refuses_non_finite_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="Read timeout"):
        schema.validate("network/read_timeout", value)


def test_changed_is_emitted_once_per_changed_key(tmp_path: Path, qapp: object) -> None:
    """The store delegates to the Qt-free Settings; its signal still fires, after the values are stored."""
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    seen: list[tuple[str, int]] = []
    store.changed.connect(lambda key: seen.append((key, store.get("network/page_size"))))
    assert store.apply({"cache/ttl_stable": 31, "network/page_size": 77}) == ["cache/ttl_stable", "network/page_size"]
    assert store.add_accessible_namespace("kind-a", "team-1") is True
    assert store.add_accessible_namespace("kind-a", "team-1") is False
    store.set("network/page_size", 77)
    assert seen == [("cache/ttl_stable", 77), ("network/page_size", 77), ("kubeconfig/accessible_namespaces", 77)]
    assert store.settings.get("network/page_size") == 77 and store.path == str(tmp_path / "settings.ini")
    assert store.qsettings.value("network/page_size") == 77
