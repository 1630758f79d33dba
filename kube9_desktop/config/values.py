"""The app's settings as plain Python: typed values validated against :mod:`.schema`, on a pluggable backend.

Headless runs (``--print-tree``, ``--run``) use :class:`Settings` directly and never import Qt: PySide6 would cost
them a good share of their start-up time. The window's :class:`~kube9_desktop.config.store.SettingsStore` wraps the
same logic around a ``QSettings`` and turns changes into a Qt signal. Nothing here imports Qt at module level;
:func:`ini_settings` imports ``QtCore`` (only) when a run was given a settings file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kube9_desktop.config import schema

log = logging.getLogger(__name__)

#: Settings whose values are stored as JSON text: QSettings' ini format has no portable lists of lists or maps.
_JSON_TYPES = ("paths", "map")


class SettingsBackend(Protocol):
    """Where values are kept: the four ``QSettings`` methods the settings use (hence the camelCase names).

    A ``QSettings`` is one, structurally; so is :class:`MemoryBackend`.
    """

    def value(self, key: str, /) -> Any:
        """The stored value of ``key``, or ``None`` if it has none."""

    def setValue(self, key: str, value: Any, /) -> None:
        """Store ``value`` under ``key``."""

    def sync(self) -> None:
        """Write pending changes to permanent storage (if there is any)."""

    def fileName(self) -> str:
        """Where the values are stored, for people to read."""


class MemoryBackend:
    """A dict-backed :class:`SettingsBackend`: nothing is persisted (headless runs without ``--settings-file``).

    Args:
        values: Initial raw values by key, as a settings file would hold them (they are validated on load).
        name: What :meth:`fileName` says; the Settings dialog shows it as the settings file.
    """

    def __init__(self, values: Mapping[str, Any] | None = None, name: str = "(in memory, not saved)") -> None:
        self._data: dict[str, Any] = dict(values or {})
        self._name = name

    def value(self, key: str, /) -> Any:
        """The stored value of ``key``, or ``None``."""
        return self._data.get(key)

    def setValue(self, key: str, value: Any, /) -> None:
        """Store ``value`` under ``key``."""
        self._data[key] = value

    def sync(self) -> None:
        """Nothing to write: the values live only as long as this object."""

    def fileName(self) -> str:
        """The descriptive name given at construction (there is no file)."""
        return self._name


class Settings:
    """The app's settings: typed values validated against :mod:`.schema`, stored in a backend.

    Values are read and validated once, at construction; afterwards the in-memory copy is the truth and every
    change is written through to the backend.

    Args:
        backend: Where values are read from and written to (a ``QSettings`` or a :class:`MemoryBackend`).
        on_change: Called with each changed key after :meth:`apply` stored them (the Qt store emits its signal).
    """

    def __init__(self, backend: SettingsBackend, on_change: Callable[[str], None] | None = None) -> None:
        self._backend = backend
        self._on_change = on_change
        self._values = schema.defaults()
        for s in schema.SETTINGS:
            raw = backend.value(s.key)
            if raw is None:
                continue
            try:
                if s.type in _JSON_TYPES and isinstance(raw, str):
                    raw = json.loads(raw)
                self._values[s.key] = schema.validate(s.key, raw)
            except (ValueError, TypeError) as exc:
                # A hand-edited or old settings file must never stop the app: keep the default, and say so.
                log.warning("settings file %s: %s = %r is not valid (%s); using the default, %r",
                            backend.fileName(), s.key, raw, exc if isinstance(exc, ValueError) else "unreadable",
                            s.default)

    @property
    def backend(self) -> SettingsBackend:
        """The backend the values are stored in."""
        return self._backend

    @property
    def path(self) -> str:
        """Where the settings are stored (shown in the Settings dialog)."""
        return self._backend.fileName()

    def get(self, key: str) -> Any:
        """The current value of ``key`` (a copy: changing it does not change the setting)."""
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
        # Validate everything before storing anything, so a bad value never leaves half a change behind.
        checked = {k: schema.validate(k, v) for k, v in values.items()}
        changed = [k for k, v in checked.items() if self._values.get(k) != v]
        for k in changed:
            self._values[k] = checked[k]
            s = schema.BY_KEY[k]
            self._backend.setValue(k, json.dumps(checked[k]) if s.type in _JSON_TYPES else checked[k])
        self._backend.sync()
        # Listeners run after every value is stored and synced, so each sees the whole change.
        if self._on_change is not None:
            for k in changed:
                self._on_change(k)
        return changed

    def set(self, key: str, value: Any) -> None:
        """Validate and store one value.

        Raises:
            ValueError: The value is invalid, with a user-facing message; nothing is stored then.
        """
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


def memory_settings() -> Settings:
    """Default settings that are never persisted (a headless run without ``--settings-file``)."""
    return Settings(MemoryBackend())


def ini_settings(path: str) -> Settings:
    """Settings on the ini file ``path``, in the format the window's ``SettingsStore`` writes (``--settings-file``).

    Imports ``PySide6.QtCore`` here, not at module level, so that only runs given a settings file pay for it. An
    explicit ini file needs no ``QCoreApplication``.
    """
    from PySide6.QtCore import QSettings

    return Settings(QSettings(path, QSettings.Format.IniFormat))
