"""Helpers the tests of several folders share (imported by name: ``tests/`` is on ``sys.path`` through its
conftest.py; CI's clean clone has no repository root there for ``tests.``)."""

from __future__ import annotations

from typing import Any

from kube9_desktop.model.tree_model import ClusterTreeModel


def make_model(service: Any, context: str = "sim-admin", failures: list[Any] | None = None) -> ClusterTreeModel:
    """A model showing ``context`` (loading starts at once); failures are appended as (error, user)."""
    model = ClusterTreeModel()
    if failures is not None:
        model.load_failed.connect(lambda e, user: failures.append((e, user)))
    model.set_service(service)
    model.set_context(context, user=True)
    return model
