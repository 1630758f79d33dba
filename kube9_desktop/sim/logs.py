"""Deterministic fake container logs."""

from __future__ import annotations

import random
import time

from kube9_desktop.sim.store import Obj

_PATHS = ["/healthz", "/api/v1/items", "/api/v1/orders", "/metrics", "/login", "/static/app.js"]


def pod_log(pod: Obj, tail: int | None = None, timestamps: bool = False, lines: int = 200) -> str:
    """Returns ``lines`` log lines for a pod (the same ones on every call), the last ``tail`` if given."""
    rng = random.Random(pod.key)
    now = int(time.time())
    out = []
    for i in range(lines):
        t = now - (lines - i) * 7
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
        level = rng.choice(["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"])
        msg = (
            f"{stamp}Z {level} {pod.name} handled GET {rng.choice(_PATHS)} status={rng.choice([200, 200, 404, 500])}"
            f" duration={rng.randint(1, 900)}ms"
        )
        out.append(f"{stamp}.000000000Z {msg}" if timestamps else msg)
    if tail is not None:
        out = out[-tail:] if tail > 0 else []
    return "".join(line + "\n" for line in out)
