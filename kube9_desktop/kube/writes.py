"""Writes to the cluster: PUT, PATCH, server-side apply, POST, DELETE, ``scale`` and ``eviction``.

Every write goes through :meth:`Writes._send`, which holds the rules the issue sets for writes:

* Never retried blindly. Only a request the server provably did not act on is sent again: a 429 that carries
  ``Retry-After`` (the server rejected it before doing anything), or a connection that could not be opened
  (refused: nothing was sent). Everything else fails at once.
* A write that timed out waiting for the answer may or may not have been applied: the error says the outcome is
  unknown, and the object is read again so the message can say how it stands now.
* Preconditions travel with the request: a PUT carries the ``resourceVersion`` it was based on, so a newer
  version is never overwritten (the server answers 409 and the caller shows what changed).
* After a write the affected cached lists are dropped (the kind and the kinds its controllers change, see
  :data:`~kube9_desktop.kube.kinds.AFFECTS`) and write listeners are told (the window reloads lists that are not
  watched).
* Each write is logged: context, verb, object and result, never a body or a credential.

Blocking I/O runs on the context's worker threads of the API backend (:class:`~kube9_desktop.kube.fetch.ApiBackend`),
so callers on the GUI thread only await.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import AFFECTS, KINDS, Kind
from kube9_desktop.kube.names import segment
from kube9_desktop.kube.responses import Response
from kube9_desktop.kube.status_errors import RequestInfo

if TYPE_CHECKING:
    from kube9_desktop.kube.fetch import ApiBackend
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

#: The field manager our writes are recorded under (``metadata.managedFields``).
FIELD_MANAGER = "kube9-desktop"

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = {"merge": MERGE_PATCH, "strategic": STRATEGIC_PATCH, "json": JSON_PATCH}

#: Most times a write refused before it was sent (connection refused, 429 with Retry-After) is tried again.
WRITE_RETRIES = 3
#: Longest Retry-After honoured (seconds); a server asking for longer gets the 429 reported instead.
MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class WriteEvent:
    """What a write changed, for listeners (the window reloads these lists when they are not watched).

    Attributes:
        context: The context written to.
        kinds: Kind keys whose lists changed (the written kind first).
        namespace: The namespace written in (None for cluster-scoped objects).
        name: The object's name ("" for a create from YAML whose name the server chose).
        verb: ``update``, ``patch``, ``apply``, ``create``, ``delete``, ``scale``, ``evict``.
    """

    context: str
    kinds: tuple[str, ...]
    namespace: str | None
    name: str
    verb: str


def describe(kind: Kind, namespace: str | None, name: str, subresource: str = "") -> str:
    """``deployments.apps team-a/api/scale`` (for the write log)."""
    where = f"{namespace}/" if namespace and kind.namespaced else ""
    return f"{kind.kubectl_resource} {where}{name}" + (f"/{subresource}" if subresource else "")


class Writes:
    """The write half of the data layer, one per :class:`~kube9_desktop.kube.service.KubeService`.

    Args:
        service: The service whose API backend, kinds and cache the writes use.
    """

    def __init__(self, service: KubeService) -> None:
        self.service = service
        self.listeners: list[Callable[[WriteEvent], None]] = []
        # context → (group, version) of the Eviction API the server serves (from discovery), learned once.
        self._eviction: dict[str, tuple[str, str]] = {}

    @property
    def backend(self) -> ApiBackend:
        """The API backend (writes always use the API, whichever backend lists)."""
        return self.service.api_backend

    # -- plumbing --------------------------------------------------------------------------------------------

    async def _kind(self, context: str, kind: Kind) -> Kind:
        """``kind`` at the version this cluster serves (discovery on first use for groups that moved)."""
        backend = self.backend
        return await backend.run(context, lambda: backend.served_kind(context, kind))

    def _send_blocking(self, context: str, method: str, path: str, *, info: RequestInfo,
                       query: Sequence[tuple[str, Any]] = (), body: Any = None,
                       content_type: str | None = None, retry_throttled: bool = True) -> Response:
        """One write with the only safe retries (worker thread); raises KubeError.

        Args:
            retry_throttled: Send again after a 429 with ``Retry-After`` (False: the caller shows and paces it).
        """
        client = self.backend.client(context)
        attempt = 0
        while True:
            try:
                return client.send(method, path, query=query, body=body, content_type=content_type, info=info)
            except KubeError as err:
                safe = (retry_throttled and err.kind is ErrorKind.THROTTLED and err.retry_after is not None
                        and err.retry_after <= MAX_RETRY_AFTER) or (
                    err.kind is ErrorKind.UNREACHABLE and err.reason == "refused")
                if not safe or attempt >= WRITE_RETRIES:
                    raise
                attempt += 1
                delay = err.retry_after if err.retry_after is not None else 0.2 * 2 ** attempt * (0.5 + random.random())
                log.info("write %s %s not sent (%s); trying again in %.1f s", method, path, err.kind, delay)
                time.sleep(delay)

    async def _write(self, context: str, kind: Kind, verb: str, method: str, namespace: str | None, name: str,
                     *, subresource: str = "", query: Sequence[tuple[str, Any]] = (), body: Any = None,
                     content_type: str | None = None, dry_run: bool = False, path: str | None = None,
                     reread: bool = True, retry_throttled: bool = True) -> Any:
        """Send one write, log it, drop the affected cache entries; returns the parsed answer."""
        kind = await self._kind(context, kind)
        ns = namespace if kind.namespaced else None
        if path is None:
            path = kind.object_path(name, ns) if name else kind.list_path(ns)
            if subresource:
                path += "/" + segment(subresource)
        q = list(query)
        if dry_run:
            q.append(("dryRun", "All"))
        info = RequestInfo(verb=verb if verb in ("create", "update", "patch", "delete") else "patch",
                           resource=kind.plural + (f"/{subresource}" if subresource else ""), group=kind.group,
                           version=kind.version, namespace=ns, name=name or None, namespaced=kind.namespaced)
        what = describe(kind, ns, name, subresource)
        mode = " (dry run)" if dry_run else ""
        try:
            resp = await self.backend.run(
                context,
                lambda: self._send_blocking(context, method, path, info=info, query=q, body=body,
                                            content_type=content_type, retry_throttled=retry_throttled),
            )
        except KubeError as err:
            log.info("write context=%s verb=%s object=%s%s result=%s %s", context, verb, what, mode,
                     err.status or err.kind.value, err.reason or err.title)
            if err.kind is ErrorKind.TIMEOUT and err.reason != "connect_timeout":
                raise await self._unknown_outcome(context, kind, ns, name, verb, err, reread) from None
            if err.kind is ErrorKind.TIMEOUT:
                err.message += " Nothing was sent; the change was not made."
            raise
        log.info("write context=%s verb=%s object=%s%s result=%s", context, verb, what, mode, resp.status)
        if not dry_run:
            self._written(context, kind, ns, name, verb)
        try:
            return orjson.loads(resp.body) if resp.body else {}
        except orjson.JSONDecodeError:
            return {}

    async def _unknown_outcome(self, context: str, kind: Kind, namespace: str | None, name: str, verb: str,
                               err: KubeError, reread: bool) -> KubeError:
        """The error for a write whose answer never came: outcome unknown, object re-read to say how it is now."""
        now = ""
        current: dict[str, Any] | None = None
        if name and reread:
            try:
                current = await self.get(context, kind, namespace, name)
                rv = (current.get("metadata") or {}).get("resourceVersion", "?")
                gone = " and is being deleted" if (current.get("metadata") or {}).get("deletionTimestamp") else ""
                now = f" Read again: it exists{gone} (resourceVersion {rv})."
            except KubeError as again:
                now = (" Read again: it no longer exists." if again.kind is ErrorKind.NOT_FOUND
                       else f" Reading it again failed too: {again.one_line()}")
        self._written(context, kind, namespace, name, verb)  # whatever happened, the cached lists may be stale
        what = f"{kind.kind.lower()} {name}" if name else kind.plural
        return KubeError(
            ErrorKind.TIMEOUT,
            "Outcome unknown",
            f"The server did not answer the {verb} of {what} in time: it may or may not have been applied.{now}",
            hint="Check the object before trying again; the write was not repeated.",
            status=err.status,
            reason="outcome-unknown",
            details={"error": err.message, "current": current} if current is not None else {"error": err.message},
            context=context,
        )

    def _written(self, context: str, kind: Kind, namespace: str | None, name: str, verb: str) -> None:
        kinds = (kind.key, *AFFECTS.get(kind.key, ()))
        if kind.key == "namespaces":
            self.service.invalidate(context)
        else:
            for k in kinds:
                self.service.invalidate(context, k)
        event = WriteEvent(context, kinds, namespace, name, verb)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not turn a done write into a failure
                log.exception("write listener failed")

    # -- reads that belong to writes ------------------------------------------------------------------------

    async def get(self, context: str, kind: Kind, namespace: str | None, name: str,
                  subresource: str = "") -> dict[str, Any]:
        """The current object (or its subresource), uncached; raises KubeError."""
        kind = await self._kind(context, kind)
        ns = namespace if kind.namespaced else None
        path = kind.object_path(name, ns) + (f"/{segment(subresource)}" if subresource else "")
        info = RequestInfo(verb="get", resource=kind.plural, group=kind.group, version=kind.version, namespace=ns,
                           name=name, namespaced=kind.namespaced)
        client_of = self.backend.client
        data = await self.backend.run(context, lambda: client_of(context).get_json(path, info=info))
        return data if isinstance(data, dict) else {}

    async def objects(self, context: str, kind: Kind, namespace: str | None, *, field_selector: str = "",
                      label_selector: str = "") -> list[dict[str, Any]]:
        """Whole objects of a list (drain needs owners and annotations, which Table rows do not carry)."""
        kind = await self._kind(context, kind)
        ns = namespace if kind.namespaced else None
        query: list[tuple[str, Any]] = []
        if field_selector:
            query.append(("fieldSelector", field_selector))
        if label_selector:
            query.append(("labelSelector", label_selector))
        info = RequestInfo(verb="list", resource=kind.plural, group=kind.group, version=kind.version, namespace=ns,
                           namespaced=kind.namespaced)
        client_of = self.backend.client
        path = kind.list_path(ns)
        data = await self.backend.run(context, lambda: client_of(context).get_json(path, query, info=info))
        return [i for i in (data or {}).get("items") or [] if isinstance(i, dict)]

    # -- writes ----------------------------------------------------------------------------------------------

    async def replace(self, context: str, kind: Kind, namespace: str | None, name: str, obj: Mapping[str, Any],
                      *, dry_run: bool = False, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """PUT ``obj``; its ``metadata.resourceVersion`` is the precondition (409 when the object moved on)."""
        return dict(await self._write(context, kind, "update", "PUT", namespace, name, body=dict(obj),
                                      query=[("fieldManager", field_manager)], dry_run=dry_run))

    async def patch(self, context: str, kind: Kind, namespace: str | None, name: str, patch: Any, *,
                    patch_type: str = "merge", subresource: str = "", dry_run: bool = False,
                    field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """PATCH with a JSON merge (``merge``), strategic merge (``strategic``) or JSON (``json``) patch."""
        return dict(await self._write(context, kind, "patch", "PATCH", namespace, name, subresource=subresource,
                                      body=patch, content_type=PATCH_TYPES[patch_type],
                                      query=[("fieldManager", field_manager)], dry_run=dry_run))

    async def apply(self, context: str, kind: Kind, namespace: str | None, name: str, obj: Mapping[str, Any], *,
                    force: bool = False, dry_run: bool = False,
                    field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Server-side apply of ``obj`` (creates it when missing); 409 lists the fields other managers own."""
        query: list[tuple[str, Any]] = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        return dict(await self._write(context, kind, "apply", "PATCH", namespace, name, body=orjson.dumps(dict(obj)),
                                      content_type=APPLY_PATCH, query=query, dry_run=dry_run))

    async def create(self, context: str, kind: Kind, namespace: str | None, obj: Mapping[str, Any], *,
                     dry_run: bool = False, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """POST ``obj`` into its collection (409 AlreadyExists when the name is taken)."""
        return dict(await self._write(context, kind, "create", "POST", namespace, "", body=dict(obj),
                                      query=[("fieldManager", field_manager)], dry_run=dry_run))

    async def delete(self, context: str, kind: Kind, namespace: str | None, name: str, *,
                     grace_period: int | None = None, propagation: str | None = "Background",
                     dry_run: bool = False, uid: str | None = None) -> dict[str, Any]:
        """DELETE with DeleteOptions; returns the object (pods: with ``deletionTimestamp``) or the Status.

        Args:
            grace_period: Seconds the pods get to stop (``0`` with ``force`` removes a pod at once).
            propagation: ``Background`` (dependents collected after), ``Foreground`` or ``Orphan``.
            uid: Precondition: only delete the object with this uid (not a new one of the same name).
        """
        opts: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            opts["gracePeriodSeconds"] = grace_period
        if propagation:
            opts["propagationPolicy"] = propagation
        if uid:
            opts["preconditions"] = {"uid": uid}
        if dry_run:
            opts["dryRun"] = ["All"]
        return dict(await self._write(context, kind, "delete", "DELETE", namespace, name, body=opts))

    async def scale(self, context: str, kind: Kind, namespace: str | None, name: str, replicas: int, *,
                    dry_run: bool = False) -> dict[str, Any]:
        """Set the replicas through the ``scale`` subresource (as ``kubectl scale``); returns the Scale."""
        return await self.patch(context, kind, namespace, name, {"spec": {"replicas": replicas}},
                                subresource="scale", dry_run=dry_run)

    async def _eviction_api(self, context: str) -> tuple[str, str]:
        """The Eviction API group/version the server serves for ``pods/eviction`` (as kubectl drain finds it)."""
        found = self._eviction.get(context)
        if found is not None:
            return found
        client_of = self.backend.client

        def job() -> tuple[str, str]:
            doc = client_of(context).get_json("/api/v1", info=RequestInfo(verb="get", resource="api"))
            for r in (doc or {}).get("resources") or []:
                if r.get("name") == "pods/eviction":
                    return str(r.get("group") or "policy"), str(r.get("version") or "v1")
            return "policy", "v1"

        found = await self.backend.run(context, job)
        self._eviction[context] = found
        return found

    async def evict(self, context: str, namespace: str, name: str, *, grace_period: int | None = None,
                    dry_run: bool = False) -> dict[str, Any]:
        """POST an Eviction for a pod: the server refuses it with 429 while a PodDisruptionBudget forbids it.

        That 429 is raised at once, ``Retry-After`` or not (newer servers suggest 10 s): the drain retries it where
        the user sees it, per pod, and can cancel; retried here it would wait unseen in a worker thread.
        """
        group, version = await self._eviction_api(context)
        body: dict[str, Any] = {"apiVersion": f"{group}/{version}", "kind": "Eviction",
                                "metadata": {"name": name, "namespace": namespace}}
        opts: dict[str, Any] = {}
        if grace_period is not None:
            opts["gracePeriodSeconds"] = grace_period
        if dry_run:
            opts["dryRun"] = ["All"]
        if opts:
            body["deleteOptions"] = opts
        pods = KINDS["pods"]
        path = pods.object_path(name, namespace) + "/eviction"
        return dict(await self._write(context, pods, "create", "POST", namespace, name, subresource="eviction",
                                      body=body, path=path, retry_throttled=False))


def evict_blocked(err: KubeError) -> bool:
    """Whether a failed eviction was refused by a disruption budget (429, retry later) rather than failing."""
    return err.kind is ErrorKind.THROTTLED and err.status == 429


def status_causes(err: KubeError) -> list[dict[str, str]]:
    """The ``details.causes`` of the server's Status (field causes of a 422, conflicts of an apply)."""
    details = err.details.get("details") if isinstance(err.details, dict) else None
    causes = (details or {}).get("causes") if isinstance(details, dict) else None
    return [c for c in causes or [] if isinstance(c, dict)]

