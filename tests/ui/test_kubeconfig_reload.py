"""Settings → Extra kubeconfig files applies live: the files are read again off the GUI thread, a binary file is
reported and skipped, new contexts join the list and the context shown stays."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import QSettings

from kube9_desktop.config.store import SettingsStore
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.ui.main_window import MainWindow


def test_extra_kubeconfig_files_apply_live(qtbot: Any, service_factory: Any, run: Any, sim: Any,
                                           tmp_path: Path) -> None:
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(store)

    def shut_down(w: MainWindow) -> None:
        w.errors.close_all()
        run(w.shutdown())

    qtbot.addWidget(window, before_close_func=shut_down)
    window.show()
    window.attach_service(service_factory(), context="sim-admin", kubeconfig_path=sim.kubeconfig)
    run(window.model.wait_idle())
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(os.urandom(1024) + b"\xff\xfe")
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    cfg["contexts"] = [{"name": "extra-admin", "context": {**cfg["contexts"][0]["context"]}}]
    extra = tmp_path / "extra.yaml"
    extra.write_text(yaml.safe_dump(cfg))

    store.apply({"kubeconfig/extra_paths": [str(garbage), str(extra)]})

    async def reloaded() -> None:
        while "extra-admin" not in window.service.kubeconfig.names():  # type: ignore[union-attr]
            await asyncio.sleep(0.02)

    run(reloaded(), 30)
    names = [window.context_box.itemText(i) for i in range(window.context_box.count())]
    assert "extra-admin" in names and "sim-admin" in names
    assert window.context_box.currentText() == "sim-admin" and window.model.current_context == "sim-admin"
    errors = [e for burst in window.errors.shown for e in burst.errors]
    assert [e.kind for e in errors if str(garbage) in e.message] == [ErrorKind.KUBECONFIG]
    assert "is not a text file" in next(e.message for e in errors if str(garbage) in e.message)
