"""The recorded scenarios the diagnose and overview tests replay (written by ``record_scenarios.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> dict[str, Any]:
    """One recorded scenario: ``kind``, ``now``, ``obj``, ``events`` and what else was read for it."""
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return data
