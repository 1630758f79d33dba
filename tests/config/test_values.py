"""The Qt-free settings (:mod:`kube9_desktop.config.values`) that headless runs use without importing Qt."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kube9_desktop.config import schema
from kube9_desktop.config.values import MemoryBackend, Settings, ini_settings, memory_settings

LOGGER = "kube9_desktop.config.values"
NAMESPACES = "kubeconfig/accessible_namespaces"


def test_memory_settings_start_from_the_defaults_and_keep_what_is_set() -> None:
    settings = memory_settings()
    assert settings.values() == schema.defaults()
    settings.set("cache/ttl_stable", 42)
    assert settings.get("cache/ttl_stable") == 42
    assert settings.path == "(in memory, not saved)"
    assert settings.backend.value("cache/ttl_stable") == 42


def test_an_invalid_value_is_refused_with_its_message_and_nothing_is_stored() -> None:
    backend = MemoryBackend()
    settings = Settings(backend, on_change=lambda key: pytest.fail(f"nothing changed, yet {key} was reported"))
    before = settings.values()
    # The valid value comes first: apply must validate everything before it stores anything.
    with pytest.raises(ValueError, match="Read timeout") as refused:
        settings.apply({"cache/ttl_stable": 99, "network/read_timeout": "nan"})
    assert str(refused.value).strip()
    # int(float("inf")) raises OverflowError, not ValueError: still a message, not a crash.
    with pytest.raises(ValueError, match="Controllers and config"):
        settings.set("cache/ttl_stable", float("inf"))
    assert settings.values() == before
    assert backend.value("cache/ttl_stable") is None and backend.value("network/read_timeout") is None


def test_the_change_hook_fires_once_per_changed_key_after_everything_is_stored() -> None:
    backend = MemoryBackend()
    seen: list[tuple[str, object, object]] = []

    def on_change(key: str) -> None:
        # Every value of the change is visible to the hook, in memory and in the backend.
        seen.append((key, settings.get("cache/ttl_stable"), backend.value("network/page_size")))

    settings = Settings(backend, on_change=on_change)
    default_volatile = settings.get("cache/ttl_volatile")
    changed = settings.apply({"cache/ttl_stable": 31, "network/page_size": 77, "cache/ttl_volatile": default_volatile})
    assert changed == ["cache/ttl_stable", "network/page_size"]
    assert seen == [("cache/ttl_stable", 31, 77), ("network/page_size", 31, 77)]
    seen.clear()
    assert settings.apply({"cache/ttl_stable": 31}) == []
    assert seen == []


def test_add_accessible_namespace_remembers_each_name_once() -> None:
    seen: list[str] = []
    settings = Settings(MemoryBackend(), on_change=seen.append)
    assert settings.add_accessible_namespace("kind-a", "team-1") is True
    assert settings.add_accessible_namespace("kind-a", "team-2") is True
    assert settings.add_accessible_namespace("kind-a", "team-1") is False
    assert settings.accessible_namespaces("kind-a") == ["team-1", "team-2"]
    assert settings.accessible_namespaces("kind-b") == []
    assert seen == [NAMESPACES, NAMESPACES]
    # Stored as JSON text, as the window's QSettings file holds it.
    assert json.loads(settings.backend.value(NAMESPACES)) == {"kind-a": ["team-1", "team-2"]}


def test_get_and_values_return_copies() -> None:
    settings = memory_settings()
    settings.add_accessible_namespace("ctx", "ns")
    settings.get(NAMESPACES)["ctx"].append("sneaked-in")
    settings.values()[NAMESPACES]["other"] = ["x"]
    assert settings.get(NAMESPACES) == {"ctx": ["ns"]}


def test_ini_settings_round_trip_through_a_real_file(tmp_path: Path) -> None:
    ini = tmp_path / "settings.ini"
    first = ini_settings(str(ini))
    assert first.path == str(ini)
    first.set("cache/ttl_stable", 23)
    first.set("live/enabled", False)
    first.add_accessible_namespace("kind-a", "team-1")
    assert ini.is_file()
    second = ini_settings(str(ini))
    assert second.get("cache/ttl_stable") == 23
    assert second.get("live/enabled") is False
    assert second.accessible_namespaces("kind-a") == ["team-1"]
    assert second.values() == first.values()


def test_ini_settings_reads_what_the_window_store_wrote_and_the_other_way(tmp_path: Path, qapp: object) -> None:
    """Same ini format on both sides: ``--settings-file`` given to a headless run reads the window's file."""
    from PySide6.QtCore import QSettings

    from kube9_desktop.config.store import SettingsStore

    ini = tmp_path / "settings.ini"
    store = SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat))
    store.apply({"network/page_size": 123, "kubeconfig/extra_paths": ["/a/b.yaml"]})
    store.add_accessible_namespace("kind-a", "team-1")
    headless = ini_settings(str(ini))
    assert headless.values() == store.values()
    headless.add_accessible_namespace("kind-a", "team-2")
    again = SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert again.accessible_namespaces("kind-a") == ["team-1", "team-2"]
    assert again.get("network/page_size") == 123


def test_invalid_values_in_the_file_fall_back_to_defaults_with_a_warning(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    ini = tmp_path / "settings.ini"
    ini.write_text("[network]\nread_timeout=nan\npage_size=-3\n[cache]\nttl_stable=20\n"
                   "[kubeconfig]\naccessible_namespaces=\"{not json\"\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        settings = ini_settings(str(ini))
    defaults = schema.defaults()
    for key in ("network/read_timeout", "network/page_size", NAMESPACES):
        assert settings.get(key) == defaults[key]
    assert settings.get("cache/ttl_stable") == 20
    logged = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    for key in ("network/read_timeout", "network/page_size", NAMESPACES):
        line = next((m for m in logged if f"{key} = " in m), None)
        assert line is not None and str(ini) in line and f"using the default, {defaults[key]!r}" in line, logged
    assert len(logged) == 3, logged


def test_invalid_values_in_a_memory_backend_fall_back_too(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        settings = Settings(MemoryBackend({"live/grace_seconds": float("inf"), "cache/ttl_stable": "7"}, name="seed"))
    assert settings.get("live/grace_seconds") == schema.defaults()["live/grace_seconds"]
    assert settings.get("cache/ttl_stable") == 7
    assert [r.getMessage()[:33] for r in caplog.records] == ["settings file seed: live/grace_se"]


HEADLESS = """
import json, sys
from kube9_desktop.config.values import ini_settings, memory_settings
qt = ("PySide6", "shiboken6", "qasync")
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in qt)
s = memory_settings()
s.add_accessible_namespace("ctx", "ns")
before = loaded()
ini = sys.argv[1]
ini_settings(ini).set("cache/ttl_stable", 17)
value = ini_settings(ini).get("cache/ttl_stable")
from PySide6.QtCore import QCoreApplication
print(json.dumps({"before": before, "value": value, "app": QCoreApplication.instance() is not None,
                  "widgets": "PySide6.QtWidgets" in sys.modules, "qasync": "qasync" in sys.modules}))
"""


def test_the_module_imports_no_qt_and_ini_settings_need_no_application(tmp_path: Path) -> None:
    """Headless runs without ``--settings-file`` never import Qt; with one, only QtCore, and no QCoreApplication."""
    ini = tmp_path / "settings.ini"
    proc = subprocess.run([sys.executable, "-c", HEADLESS, str(ini)], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == {"before": [], "value": 17, "app": False, "widgets": False, "qasync": False}
    assert "ttl_stable=17" in ini.read_text(encoding="utf-8")
