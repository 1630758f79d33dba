"""May the user do this? SelfSubjectAccessReview answers, cached per context for 60 seconds.

The command registry asks before it offers a write (menus show the command disabled with the reason, ``--run``
refuses with it); the answer comes from the server's own RBAC, so it is right for any authorizer. Answers are
kept for :data:`TTL` seconds per (context, verb, group, resource, subresource, namespace, name); concurrent
questions for the same key share one request. A review that cannot be made (network, a server without the API)
does not block the command: the write itself then fails with the server's 403, worded the same way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from kube9_desktop.kube.errors import KubeError
from kube9_desktop.kube.status_errors import RequestInfo

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

#: Seconds an answer is reused.
TTL = 60.0

Key = tuple[str, str, str, str, str, str, str]


class AccessLike(Protocol):
    """What is asked: the registry's ``Access`` (verb, resource, group, subresource) fits."""

    # Read-only: the registry's Access is a frozen dataclass.
    @property
    def verb(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def subresource(self) -> str: ...


def reason_text(verb: str, resource: str, subresource: str, namespace: str | None) -> str:
    """``You may not delete pods in team-a`` / ``You may not patch nodes``."""
    what = resource + (f"/{subresource}" if subresource else "")
    return f"You may not {verb} {what}" + (f" in {namespace}" if namespace else "")


class AccessReviews:
    """Cached SelfSubjectAccessReviews; implements the registry's ``AccessChecker``.

    Args:
        service: The service whose API backend sends the reviews.
    """

    def __init__(self, service: KubeService) -> None:
        self.service = service
        self._answers: dict[Key, tuple[bool, str, float]] = {}
        self._pending: dict[Key, asyncio.Future[tuple[bool, str]]] = {}
        # Reviews that could not be made (when), answered "allowed" until the TTL passes (see denied()).
        self._failed: dict[Key, float] = {}
        #: Reviews sent (tests and the status bar read it).
        self.requests = 0

    async def allowed(self, context: str, verb: str, resource: str, group: str = "", subresource: str = "",
                      namespace: str | None = None, name: str | None = None) -> tuple[bool, str]:
        """``(allowed, the server's reason)``; raises KubeError when the review itself fails."""
        key: Key = (context, verb, group, resource, subresource, namespace or "", name or "")
        hit = self._answers.get(key)
        if hit is not None and time.monotonic() - hit[2] < TTL:
            return hit[0], hit[1]
        task = self._pending.get(key)
        if task is None:
            # One request per key, owned here rather than by the first caller: a caller that is cancelled (a menu
            # closed) must not cancel the answer others are waiting for.
            task = asyncio.ensure_future(self._review(context, verb, resource, group, subresource, namespace, name))
            self._pending[key] = task
            task.add_done_callback(functools.partial(self._settled, key))
        return await asyncio.shield(task)

    def _settled(self, key: Key, task: asyncio.Future[tuple[bool, str]]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled() and task.exception() is None:
            ok, reason = task.result()
            self._answers[key] = (ok, reason, time.monotonic())

    async def _review(self, context: str, verb: str, resource: str, group: str, subresource: str,
                      namespace: str | None, name: str | None) -> tuple[bool, str]:
        attrs: dict[str, Any] = {"verb": verb, "resource": resource, "group": group}
        if subresource:
            attrs["subresource"] = subresource
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "spec": {"resourceAttributes": attrs}}
        backend = self.service.api_backend
        info = RequestInfo(verb="create", resource="selfsubjectaccessreviews", group="authorization.k8s.io",
                           version="v1", namespaced=False)

        def job() -> Any:
            resp = backend.client(context).send(
                "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body, info=info)
            return resp.json()

        self.requests += 1
        data = await backend.run(context, job)
        status = (data or {}).get("status") or {}
        return bool(status.get("allowed")) and not status.get("denied"), str(status.get("reason") or "")

    async def denied(self, context: str, access: AccessLike, namespace: str | None) -> str | None:
        """``None`` when allowed (or when the server cannot be asked), else "You may not delete pods in team-a"."""
        try:
            ok, _ = await self.allowed(context, access.verb, access.resource, access.group, access.subresource,
                                       namespace)
        except KubeError as err:
            log.debug("access review in %s failed: %s", context, err.one_line())
            # Not asked again for the TTL either: a menu opened on a context whose server cannot answer would
            # otherwise send its reviews (and wait out their failures) on every opening.
            self._failed[_key(context, access, namespace)] = time.monotonic()
            return None
        return None if ok else reason_text(access.verb, access.resource, access.subresource, namespace)

    def known(self, context: str, access: AccessLike, namespace: str | None) -> tuple[bool, str | None]:
        """What :meth:`denied` would answer from the answers at hand, without asking: ``(known, reason)``, with
        ``known`` False when there is no answer younger than :data:`TTL` (menus show "checking" and ask)."""
        key = _key(context, access, namespace)
        now = time.monotonic()
        hit = self._answers.get(key)
        if hit is not None and now - hit[2] < TTL:
            return True, None if hit[0] else reason_text(access.verb, access.resource, access.subresource, namespace)
        failed = self._failed.get(key)
        if failed is not None and now - failed < TTL:
            return True, None
        return False, None

    def close(self) -> None:
        """Cancel reviews still in flight (the service is closing)."""
        for task in list(self._pending.values()):
            task.cancel()
        self._pending.clear()

    def forget(self, context: str | None = None) -> None:
        """Drop cached answers (all, or one context's), e.g. after the kubeconfig's credentials changed."""
        if context is None:
            self._answers.clear()
            self._failed.clear()
        else:
            self._answers = {k: v for k, v in self._answers.items() if k[0] != context}
            self._failed = {k: v for k, v in self._failed.items() if k[0] != context}


def _key(context: str, access: AccessLike, namespace: str | None) -> Key:
    """The cache key :meth:`AccessReviews.denied` asks under (the whole resource: no object name)."""
    return (context, access.verb, access.group, access.resource, access.subresource, namespace or "", "")
