"""Settings persistence with QSettings, validated against :mod:`.schema`."""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from kube9_desktop.config import schema

log = logging.getLogger(__name__)


class SettingsStore(QObject):
    """The app's settings: typed, validated values backed by QSettings.

    Signals:
        changed(str): a setting's key after its value changed (emitted once per changed key on ``apply``).
    """

    changed = Signal(str)

    def __init__(self, qsettings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._qs = qsettings if qsettings is not None else QSettings("kube9", "kube9-desktop")
        self._values = schema.defaults()
        for s in schema.SETTINGS:
            raw = self._qs.value(s.key)
            if raw is None:
                continue
            try:
                if s.type in ("paths", "map") and isinstance(raw, str):
                    raw = json.loads(raw)
                self._values[s.key] = schema.validate(s.key, raw)
            except (ValueError, TypeError) as exc:
                # A hand-edited or old settings file must never stop the app: keep the default, and say so.
                log.warning("settings file %s: %s = %r is not valid (%s); using the default, %r",
                            self._qs.fileName(), s.key, raw, exc if isinstance(exc, ValueError) else "unreadable",
                            s.default)

    @property
    def path(self) -> str:
        """Where the settings are stored (shown in the Settings dialog)."""
        return self._qs.fileName()

    @property
    def qsettings(self) -> QSettings:
        """The backing QSettings (window geometry and other UI state live there too)."""
        return self._qs

    def get(self, key: str) -> Any:
        """The current value of ``key``."""
        return schema._copy(self._values[key])

    def values(self) -> dict[str, Any]:
        """A copy of every value."""
        return {k: schema._copy(v) for k, v in self._values.items()}

    def apply(self, values: dict[str, Any]) -> list[str]:
        """Validate and store several values at once.

        Returns:
            The keys that changed.

        Raises:
            ValueError: The first invalid value, with a user-facing message; nothing is stored then.
        """
        checked = {k: schema.validate(k, v) for k, v in values.items()}
        changed = [k for k, v in checked.items() if self._values.get(k) != v]
        for k in changed:
            self._values[k] = checked[k]
            s = schema.BY_KEY[k]
            self._qs.setValue(k, json.dumps(checked[k]) if s.type in ("paths", "map") else checked[k])
        self._qs.sync()
        for k in changed:
            self.changed.emit(k)
        return changed

    def set(self, key: str, value: Any) -> None:
        """Validate and store one value."""
        self.apply({key: value})

    def accessible_namespaces(self, context: str) -> list[str]:
        """Namespaces the user listed for ``context``."""
        return list(self._values["kubeconfig/accessible_namespaces"].get(context, []))

    def add_accessible_namespace(self, context: str, namespace: str) -> bool:
        """Remember ``namespace`` for ``context`` (the tree's "Add a namespace…"); False if it was already there.

        Raises:
            ValueError: The setting refuses the value (a name it cannot hold), with a user-facing message.
        """
        current = dict(self._values["kubeconfig/accessible_namespaces"])
        names = list(current.get(context, []))
        if namespace in names:
            return False
        current[context] = [*names, namespace]
        self.set("kubeconfig/accessible_namespaces", current)
        return True
