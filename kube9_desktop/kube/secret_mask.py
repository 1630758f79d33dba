"""A Secret as shown until the user reveals it: every value masked (the details pane and the YAML editor).

Light on purpose (no YAML, no Qt): the details pane imports it before the window's first paint.
"""

from __future__ import annotations

import copy
from typing import Any

#: What a Secret value shows until revealed.
MASK = "••••••••"

#: The annotation ``kubectl apply`` leaves: it repeats the Secret's data in clear text.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def mask_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy with every ``data``/``stringData`` value and the last-applied annotation masked."""
    out = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = {k: MASK for k in out[key]}
    annotations = (out.get("metadata") or {}).get("annotations") or {}
    if LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = MASK
    return out
