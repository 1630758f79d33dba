"""The kinds :mod:`kube9_desktop.kube.diagnose` explains, in a module of their own: the ``diagnose`` command
registers with them before the window's first paint, and the rules, the overview's decoders and the fact gathering
behind them are imported only when a diagnosis runs."""

from __future__ import annotations

#: Kinds diagnose accepts.
KINDS = frozenset({"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs"})
