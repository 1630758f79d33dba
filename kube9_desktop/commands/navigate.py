"""Getting to an object fast: ``open`` (quick open, Ctrl+P).

In the window, ``open`` shows the quick-open box (``ui/quick_open.py``): names of every object loaded in the context
and, for kinds not loaded, the server's lists searched as the user types; Enter reveals the object in the tree.
Headless (``--run 'open web-1'``), the same server search runs over the names of :data:`SEARCHED_KINDS` across all
namespaces (names only, paged: :mod:`kube9_desktop.kube.name_search`) and prints the best matches with their tree
paths.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from kube9_desktop.commands.registry import Invocation, Result, Selection, command
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Category, Kind
from kube9_desktop.model.children import tree_path

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService
    from kube9_desktop.model.quick_index import Entry

log = logging.getLogger(__name__)

#: Kinds searched by name across namespaces when they are not loaded yet (what users jump to most).
SEARCHED_KINDS: tuple[str, ...] = ("pods", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs",
                                   "services", "ingresses", "configmaps", "secrets", "persistentvolumeclaims",
                                   "nodes", "namespaces")


async def searched_kinds(service: KubeService, context: str) -> list[Kind]:
    """The kinds quick open searches on the server: :data:`SEARCHED_KINDS` and the custom resources the context
    serves (the kinds known without a request when discovery fails)."""
    try:
        served = {k.key: k for k in await service.discover(context)}
    except KubeError:
        served = {k.key: k for k in service.known_kinds(context)}
    kinds = [served[k] for k in SEARCHED_KINDS if k in served]
    return kinds + [k for k in served.values() if k.category is Category.CUSTOM]


async def search_context(inv: Invocation, query: str, limit: int) -> list[Entry]:
    """The best matches for ``query`` among the names of the context's searched kinds (names only, paged:
    :class:`~kube9_desktop.kube.name_search.NameCatalogue`)."""
    from kube9_desktop.kube.name_search import NameCatalogue
    from kube9_desktop.model.quick_index import Entry, QuickIndex

    catalogue = NameCatalogue(inv.service, inv.context, await searched_kinds(inv.service, inv.context))
    index = QuickIndex()

    def found(kind: Kind, names: list[tuple[str, str | None]]) -> None:
        index.add(Entry(n, ns, kind.key, tree_path(kind, ns, n)) for n, ns in names)

    await catalogue.fill(found)
    return index.search(query, limit)


def _open_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default="", help="a name or part of one (letters in order also match)")
    p.add_argument("--limit", type=int, default=10, help="how many matches to print (default 10)")


@command("open", "Go to object…", selection=Selection.NONE, menu="View", shortcut="Ctrl+P", params=_open_params,
         help="Find an object by (part of) its name in every namespace and go to it in the tree: open web-1.")
async def open_object(inv: Invocation) -> Result:
    """Quick open: the window's search box; headless, the best matches with their tree paths."""
    if inv.ui.open_view("quick-open", inv.args.name):
        return Result.success()
    if not inv.args.name.strip():
        return Result.failure("open needs a name or part of one: open web-1", exit_code=2)
    matches = await search_context(inv, inv.args.name, max(1, inv.args.limit))
    if not matches:
        return Result.failure(f"No object named like {inv.args.name!r} in {inv.context}.")
    return Result.success("\n".join(f"{e.name}\t{e.path_text}" for e in matches), data=matches)


@command("back", "Back", selection=Selection.NONE, menu="View", shortcut="Alt+Left",
         help="Select the row selected before (window only).")
async def back(inv: Invocation) -> Result:
    """Go back through the selections."""
    if inv.ui.open_view("history", -1):
        return Result.success()
    return Result.failure("Back and Forward are part of the window.")


@command("forward", "Forward", selection=Selection.NONE, menu="View", shortcut="Alt+Right",
         help="Select the row selected after this one, after going back (window only).")
async def forward(inv: Invocation) -> Result:
    """Go forward through the selections."""
    if inv.ui.open_view("history", 1):
        return Result.success()
    return Result.failure("Back and Forward are part of the window.")
