"""Quick open's server-side search: object names of kinds the tree has not loaded (Qt-free).

The Kubernetes API cannot filter by a name prefix: a field selector matches ``metadata.name`` exactly, and nothing
else about names is indexed. So the search is built from two cheap requests (docs/architecture.md, "Quick open's
server search", has the measurements):

* **A names catalogue** (:meth:`NameCatalogue.fill`): every searched kind listed across all namespaces as
  ``PartialObjectMetadataList`` — metadata only, no Table cells — in pages of :data:`PAGE_SIZE` with ``continue``,
  kinds in parallel and each kind's pages in order. Names are matched locally (rapidfuzz through
  :class:`~kube9_desktop.model.quick_index.QuickIndex`) as pages arrive. The catalogue lives as long as the quick-open
  box: typing never asks for the same page twice. Stopping a fill (the box closes) asks for no more pages; a page
  already on the wire is kept for the next fill (its future is shielded), not asked again.
* **Exact-name lookups** (:meth:`NameCatalogue.exact`): while the catalogue is incomplete, the name typed is looked
  up with ``fieldSelector=metadata.name=NAME`` in every kind not fully paged in — a whole name is found at once
  even in a cluster of 100,000 objects. These depend on the text, so each keystroke cancels the previous ones.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.kinds import Kind

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

#: Metadata only: a page of 500 pods is ~20x smaller than the Table the tree lists them with.
NAMES_ACCEPT = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
#: Objects per page request.
PAGE_SIZE = 500

#: What an object's name can be (an RFC 1123 subdomain): anything else is not looked up.
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")

#: ``(kind, [(name, namespace), ...])`` for names found.
OnNames = Callable[[Kind, list[tuple[str, str | None]]], None]


@dataclass
class _KindState:
    kind: Kind
    cont: str | None = None
    done: bool = False
    failed: str = ""
    inflight: asyncio.Future[list[tuple[str, str | None]]] | None = None
    names: list[tuple[str, str | None]] = field(default_factory=list)


def _names(body: Any, kind: Kind) -> tuple[list[tuple[str, str | None]], str | None]:
    if not isinstance(body, dict):
        return [], None
    out = []
    for item in body.get("items") or []:
        meta = (item or {}).get("metadata") or {}
        if meta.get("name"):
            out.append((str(meta["name"]), str(meta.get("namespace")) if kind.namespaced else None))
    return out, ((body.get("metadata") or {}).get("continue") or None)


class NameCatalogue:
    """The names of ``kinds`` in ``context`` across all namespaces, paged in as searches need them.

    Args:
        service: The data service (its API backend's clients and worker threads are used).
        context: The context searched.
        kinds: The kinds to search (cluster-scoped ones too).
        page_size: Objects per page request.
    """

    def __init__(self, service: KubeService, context: str, kinds: list[Kind], page_size: int = PAGE_SIZE) -> None:
        self.service, self.context, self.page_size = service, context, page_size
        self._kinds = {k.key: _KindState(k) for k in kinds}
        self.requests = 0  # page and lookup requests made (tests and the benchmark)
        self.bytes = 0

    @property
    def complete(self) -> bool:
        """Whether every kind is paged in (or failed: a kind the user may not list is not searched)."""
        return all(s.done for s in self._kinds.values())

    @property
    def pending(self) -> int:
        """Kinds not fully paged in yet."""
        return sum(1 for s in self._kinds.values() if not s.done)

    def _get(self, kind: Kind, query: list[tuple[str, Any]]) -> Any:
        """One names-only list request across all namespaces (blocking; a worker thread runs it)."""
        from kube9_desktop.kube.list_request import list_info  # the data layer loads behind the window, not with it

        api = self.service.api_backend
        resp = api.client(self.context).request(kind.list_path(None), query, NAMES_ACCEPT, list_info(kind, None))
        self.bytes += len(resp.body)
        return resp.json()

    async def _page(self, state: _KindState) -> list[tuple[str, str | None]]:
        query: list[tuple[str, Any]] = [("limit", self.page_size)]
        if state.cont:
            query.append(("continue", state.cont))
        self.requests += 1
        try:
            body = await self.service.api_backend.run(self.context, lambda: self._get(state.kind, query))
        except KubeError as err:
            log.info("quick open: %s not searched: %s", state.kind.key, err.one_line())
            state.done, state.failed = True, err.one_line()
            return []
        names, cont = _names(body, state.kind)
        state.names.extend(names)
        state.cont = cont
        state.done = cont is None
        return names

    async def fill(self, on_names: OnNames) -> None:
        """Page every unfinished kind in, calling ``on_names`` with each page's names (see the module docstring)."""
        async def one(state: _KindState) -> None:
            if state.inflight is not None and state.inflight.done():
                # A page that an earlier, cancelled fill left in flight has arrived since: its names are in
                # state.names (replayed below); awaiting it again would deliver them twice.
                state.inflight = None
            if state.names:
                on_names(state.kind, list(state.names))  # what an earlier fill already has
            while not state.done:
                if state.inflight is None:
                    state.inflight = asyncio.ensure_future(self._page(state))
                fut = state.inflight
                try:
                    names = await asyncio.shield(fut)
                finally:
                    if fut.done():
                        state.inflight = None
                if names:
                    on_names(state.kind, names)

        await asyncio.gather(*(one(s) for s in self._kinds.values()))

    async def exact(self, name: str, on_names: OnNames) -> int:
        """Look ``name`` up exactly in every kind not fully paged in; returns how many objects were found.

        Cancelling (the next keystroke) drops the answers still to come; requests already sent complete in their
        worker threads, unread.
        """
        if not _OBJECT_NAME.fullmatch(name):  # not a name any object can have: nothing to ask
            return 0
        states = [s for s in self._kinds.values() if not s.done]

        async def one(state: _KindState) -> int:
            self.requests += 1
            query: list[tuple[str, Any]] = [("fieldSelector", f"metadata.name={name}"), ("limit", self.page_size)]
            try:
                body = await self.service.api_backend.run(self.context, lambda: self._get(state.kind, query))
            except KubeError:
                return 0
            names, _ = _names(body, state.kind)
            if names:
                on_names(state.kind, names)
            return len(names)

        return sum(await asyncio.gather(*(one(s) for s in states)))
