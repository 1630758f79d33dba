"""The window's settings: :class:`~kube9_desktop.config.values.Settings` on QSettings, with a Qt change signal."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from kube9_desktop.config.values import Settings


class SettingsStore(QObject):
    """The app's settings: typed, validated values backed by QSettings.

    The logic lives in the Qt-free :class:`Settings` (headless runs use it alone); this wraps one by composition
    rather than inheritance, so that QObject's metaclass and signal machinery never meet a plain-Python base class.

    Signals:
        changed(str): a setting's key after its value changed (emitted once per changed key on ``apply``).
    """

    changed = Signal(str)

    def __init__(self, qsettings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._qs = qsettings if qsettings is not None else QSettings("kube9", "kube9-desktop")
        self._settings = Settings(self._qs, on_change=self._emit_changed)

    def _emit_changed(self, key: str) -> None:
        self.changed.emit(key)

    @property
    def settings(self) -> Settings:
        """The Qt-free settings underneath (for code shared with headless runs, which take a :class:`Settings`)."""
        return self._settings

    @property
    def path(self) -> str:
        """Where the settings are stored (shown in the Settings dialog)."""
        return self._settings.path

    @property
    def qsettings(self) -> QSettings:
        """The backing QSettings (window geometry and other UI state live there too)."""
        return self._qs

    def get(self, key: str) -> Any:
        """The current value of ``key``."""
        return self._settings.get(key)

    def values(self) -> dict[str, Any]:
        """A copy of every value."""
        return self._settings.values()

    def apply(self, values: dict[str, Any]) -> list[str]:
        """Validate and store several values at once; emits :attr:`changed` once per changed key.

        Returns:
            The keys that changed.

        Raises:
            ValueError: The first invalid value, with a user-facing message; nothing is stored then.
        """
        return self._settings.apply(values)

    def set(self, key: str, value: Any) -> None:
        """Validate and store one value.

        Raises:
            ValueError: The value is invalid, with a user-facing message; nothing is stored then.
        """
        self._settings.set(key, value)

    def accessible_namespaces(self, context: str) -> list[str]:
        """Namespaces the user listed for ``context``."""
        return self._settings.accessible_namespaces(context)

    def add_accessible_namespace(self, context: str, namespace: str) -> bool:
        """Remember ``namespace`` for ``context`` (the tree's "Add a namespace…"); False if it was already there.

        Raises:
            ValueError: The setting refuses the value (a name it cannot hold), with a user-facing message.
        """
        return self._settings.add_accessible_namespace(context, namespace)
