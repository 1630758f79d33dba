"""kube9-sim: a simulated Kubernetes API server for tests, demos and benchmarks.

The package is a plain HTTPS server (no Qt, no ``kubernetes`` client) that answers the read-only subset of the
Kubernetes REST API closely enough that ``kubectl`` and the official Python client treat it as a small real
cluster. See :mod:`kube9_desktop.sim.server` for the in-process server and :mod:`kube9_desktop.sim.process` for
running it as a child process.
"""

from kube9_desktop.sim.auth import mint_id_token

__all__ = ["mint_id_token"]
