"""A registry of levers: named switches a benchmark turns on and off to measure them alternated (``--ab NAME``)."""

from __future__ import annotations

from collections.abc import Callable

Switch = Callable[[bool], None]


class Levers(dict[str, Switch]):
    """Name -> the function switching a lever on (True) or off (False); :meth:`register` is the decorator."""

    def register(self, name: str) -> Callable[[Switch], Switch]:
        """Register the decorated function as lever ``name``."""
        def deco(fn: Switch) -> Switch:
            self[name] = fn
            return fn

        return deco
