"""Whether a namespace the user names can be browsed: for users who may not list namespaces (Qt-free).

A restricted user sees only the namespaces the tree knows of: the context's default one and the ones they add. A
name is checked before it is added, with the cheapest requests that answer the question:

1. ``GET /api/v1/namespaces/NAME``: 200 → it exists; 404 → it does not (said so); 403 (a tenant usually may not read
   namespace objects) → we cannot tell from this, so:
2. ``GET /api/v1/namespaces/NAME/pods?limit=1``: 200 → the user can browse it (the server answers an empty list for
   a namespace that does not exist, so the message says it has no pods the user can see); 403 → refused, with the
   server's reason.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import KINDS

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a namespace's name (an RFC 1123 label), or ``None``."""
    if not name:
        return "Type the name of a namespace (for example team-a)."
    if len(name) > 63:
        return f"{name[:63]}… is not a namespace name: at most 63 characters."
    if not _DNS_LABEL.fullmatch(name):
        return (f"{name!r} is not a namespace name: lower-case letters, digits and '-', starting and ending with a "
                "letter or digit.")
    return None


async def check_namespace(service: KubeService, context: str, name: str) -> tuple[bool, str]:
    """Check ``name`` in ``context`` (see the module docstring).

    Returns:
        ``(True, note)`` when the user can browse it (``note`` says what is known: it exists, or it has no pods
        they can see); ``(False, reason)`` otherwise, in words a user can act on. Never raises.
    """
    problem = name_problem(name)
    if problem is not None:
        return False, problem
    # Here, not at the top: the command families load before the window shows, the data layer behind it.
    from kube9_desktop.kube.client import JSON
    from kube9_desktop.kube.list_request import list_info

    api = service.api_backend
    namespaces, pods = KINDS["namespaces"], KINDS["pods"]

    def job() -> tuple[bool, str]:
        client = api.client(context)
        try:
            client.request(namespaces.object_path(name), (), JSON, list_info(namespaces, None, "get"))
            return True, f"namespace {name} exists"
        except KubeError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return False, f"There is no namespace named {name} in {context}."
            if err.kind is not ErrorKind.FORBIDDEN:
                raise
        try:
            body = client.request(pods.list_path(name), [("limit", 1)], JSON, list_info(pods, name)).json()
        except KubeError as err:
            if err.kind is ErrorKind.FORBIDDEN:
                return False, f"Namespace {name} cannot be added: {err.one_line()}"
            raise
        if body.get("items"):
            return True, f"you may list pods in {name}"
        return True, f"you may list pods in {name}, but see none there (is the name right?)"

    try:
        return await api.run(context, job)
    except KubeError as err:
        return False, f"Could not check namespace {name}: {err.one_line()}"
