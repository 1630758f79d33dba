"""One module per API area of kube9-sim; each declares its routes in ``ROUTES``.

Adding an area: write a module here and add it to :data:`AREAS` (see the sim README, "Adding an API area").
Order matters only among routes that match the same request: earlier areas win.
"""

from __future__ import annotations

from types import ModuleType

from kube9_desktop.sim.handlers import (
    admin,
    authz,
    discovery,
    events,
    logs,
    metrics,
    oidc,
    read,
    streams,
    watch,
    writes,
)

# metrics before admin (its /simz/metrics precedes admin's catch-all) and discovery (its group document).
AREAS: list[ModuleType] = [oidc, metrics, streams, admin, discovery, authz, events, read, watch, logs, writes]
