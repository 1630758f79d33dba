"""Narrow decoding of the pod fields the health views read (Qt-free; owns msgspec).

A 10,000-pod list is ~24 MB of JSON; building every object as Python dicts (orjson) costs ~300 ms and most of it
is fields nobody reads here (managedFields, env, volumes, probes...). msgspec decodes straight into the small
typed structs below and skips every other field without allocating it (~3x faster, far less memory), and the
overview then walks plain attributes instead of ``dict.get`` chains. A dict already in hand (a recorded object,
one pod from a GET) converts with :func:`pod`.

Structs are ``gc=False``: they hold only strings, numbers and other structs (no cycles), and tracking 100,000 small
objects would make the collector run during the decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from kube9_desktop.kube.errors import ErrorKind, KubeError


class Meta(msgspec.Struct, gc=False):
    """metadata: the identity and age."""

    name: str = ""
    namespace: str = ""
    creationTimestamp: str = ""


class Quantities(msgspec.Struct, frozen=True, gc=False):
    """CPU and memory of a container's requests or limits (quantity strings; None: not set)."""

    cpu: str | int | float | None = None
    memory: str | int | float | None = None


class Resources(msgspec.Struct, frozen=True, gc=False):
    """A container's requests and limits. Frozen (hashable): the figures of a cluster's few distinct shapes are
    computed once each (:func:`kube9_desktop.kube.metrics.pod_resources`)."""

    requests: Quantities | None = None
    limits: Quantities | None = None


class Container(msgspec.Struct, gc=False):
    """A container of the spec: its name and resources."""

    name: str = ""
    resources: Resources | None = None


class PodSpec(msgspec.Struct, gc=False):
    """spec: where it runs and what it asks for."""

    nodeName: str = ""
    containers: list[Container] = []


class Waiting(msgspec.Struct, gc=False):
    """state.waiting."""

    reason: str = ""
    message: str = ""


class Terminated(msgspec.Struct, gc=False):
    """state.terminated / lastState.terminated."""

    exitCode: int = 0
    reason: str = ""
    finishedAt: str = ""


class State(msgspec.Struct, gc=False):
    """A container state: at most one of waiting / terminated matters here."""

    waiting: Waiting | None = None
    terminated: Terminated | None = None


class ContainerStatus(msgspec.Struct, gc=False):
    """status.containerStatuses[] / initContainerStatuses[]."""

    name: str = ""
    restartCount: int = 0
    state: State | None = None
    lastState: State | None = None


class Condition(msgspec.Struct, gc=False):
    """status.conditions[]."""

    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""


class PodStatus(msgspec.Struct, gc=False):
    """status: phase, why, conditions and the containers' states."""

    phase: str = ""
    reason: str = ""
    message: str = ""
    conditions: list[Condition] = []
    containerStatuses: list[ContainerStatus] = []
    initContainerStatuses: list[ContainerStatus] = []


class Pod(msgspec.Struct, gc=False):
    """A pod, narrowed to what the overview and the diagnosis read."""

    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


class ListMeta(msgspec.Struct, gc=False):
    """A list's metadata: the next page's token."""

    resourceVersion: str = ""
    continue_: str = msgspec.field(default="", name="continue")


class PodList(msgspec.Struct, gc=False):
    """One page of a pod list."""

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Pod] = []


class Usage(msgspec.Struct, gc=False):
    """A container's usage in a PodMetrics (quantity strings)."""

    cpu: str | int | float = 0
    memory: str | int | float = 0


class ContainerMetrics(msgspec.Struct, gc=False):
    """PodMetrics containers[]: a container's name and usage."""

    name: str = ""
    usage: Usage = msgspec.field(default_factory=Usage)


class PodMetrics(msgspec.Struct, gc=False):
    """A PodMetrics (``metrics.k8s.io``), narrowed to its identity and its containers' usage."""

    metadata: Meta = msgspec.field(default_factory=Meta)
    containers: list[ContainerMetrics] = []


class PodMetricsList(msgspec.Struct, gc=False):
    """A PodMetricsList."""

    items: list[PodMetrics] = []


class _Head(msgspec.Struct, gc=False):
    metadata: ListMeta | None = None


class WorkloadSpec(msgspec.Struct, gc=False):
    """spec of a Deployment / StatefulSet / DaemonSet: the replicas wanted (None: the default, 1)."""

    replicas: int | None = None


class WorkloadStatus(msgspec.Struct, gc=False):
    """status of a workload: ready replicas (Deployment, StatefulSet) or scheduled / ready (DaemonSet)."""

    readyReplicas: int = 0
    desiredNumberScheduled: int = 0
    numberReady: int = 0
    conditions: list[Condition] = []


class Workload(msgspec.Struct, gc=False):
    """A Deployment, StatefulSet or DaemonSet, narrowed to what the overview reads (a Deployment with its pod
    template is ~2 KB of JSON; 1,100 of them decoded as dicts cost ~90 ms, as these ~15 ms)."""

    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: WorkloadSpec = msgspec.field(default_factory=WorkloadSpec)
    status: WorkloadStatus = msgspec.field(default_factory=WorkloadStatus)


class WorkloadList(msgspec.Struct, gc=False):
    """One page of a workload list."""

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[Workload] = []


_PAGE = msgspec.json.Decoder(PodList)
_WORKLOADS = msgspec.json.Decoder(WorkloadList)
_HEAD = msgspec.json.Decoder(_Head)
_POD_METRICS = msgspec.json.Decoder(PodMetricsList)


class _RawItems(msgspec.Struct, gc=False):
    """A list's items left as their JSON text (each checked for syntax only)."""

    items: list[msgspec.Raw] = []


_RAW_ITEMS = msgspec.json.Decoder(_RawItems)
_POD_METRICS_ITEMS = msgspec.json.Decoder(list[PodMetrics])
#: PodMetrics decoded in one call of :func:`pod_metrics_batches`: ~0.3-0.5 ms of holding the GIL.
METRICS_BATCH = 256


def pod_page(body: bytes) -> tuple[list[Pod], str]:
    """One page of ``GET .../pods`` → (narrow pods, continue token); raises KubeError on malformed JSON."""
    try:
        page = _PAGE.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise KubeError(ErrorKind.PROTOCOL, "Malformed pod list", f"The pod list could not be read: {exc}") from None
    return page.items, page.metadata.continue_


def pod_metrics(body: bytes) -> list[PodMetrics]:
    """``GET .../pods`` of ``metrics.k8s.io`` → narrow PodMetrics; raises KubeError on malformed JSON.

    As dicts, the metrics of a namespace of 10,000 pods were ~20 MB while they were read (each item's metadata,
    timestamps, window and per-container dicts), only to keep two figures per pod.
    """
    try:
        return _POD_METRICS.decode(body).items
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise KubeError(ErrorKind.PROTOCOL, "Malformed pod metrics",
                        f"The pod metrics could not be read: {exc}") from None


def pod_metrics_batches(body: bytes, batch: int = METRICS_BATCH) -> Iterator[list[PodMetrics]]:
    """:func:`pod_metrics`, ``batch`` items at a time; raises KubeError on malformed JSON (possibly after some
    batches were given).

    A C call holds the GIL from start to end: the metrics of a 10,000-pod namespace (4.3 MB) decoded in one call
    held it 12-16 ms while the usage columns were read in a worker, and the window waited for it. Here the items
    are first split as raw JSON (one scan, ~4 ms) and then decoded a batch a call, so the GUI thread gets the
    interpreter between batches.
    """
    try:
        raws = _RAW_ITEMS.decode(body).items
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise KubeError(ErrorKind.PROTOCOL, "Malformed pod metrics",
                        f"The pod metrics could not be read: {exc}") from None
    for i in range(0, len(raws), batch):
        try:
            yield _POD_METRICS_ITEMS.decode(b"[" + b",".join(raws[i:i + batch]) + b"]")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise KubeError(ErrorKind.PROTOCOL, "Malformed pod metrics",
                            f"The pod metrics could not be read: {exc}") from None


def workload_page(body: bytes) -> tuple[list[Workload], str]:
    """One page of ``GET .../deployments`` (statefulsets, daemonsets) → (narrow workloads, continue token); raises
    KubeError on malformed JSON."""
    try:
        page = _WORKLOADS.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise KubeError(ErrorKind.PROTOCOL, "Malformed list", f"The workload list could not be read: {exc}") from None
    return page.items, page.metadata.continue_


def workload(obj: dict[str, Any] | Workload) -> Workload:
    """A workload dict (recorded, or one GET's answer) as the narrow struct; a struct is returned as it is."""
    if isinstance(obj, Workload):
        return obj
    try:
        return msgspec.convert(obj, Workload, strict=False)
    except msgspec.ValidationError:
        md = obj.get("metadata") or {}
        return Workload(Meta(str(md.get("name", "")), str(md.get("namespace", ""))))


def continue_token(body: bytes) -> str | None:
    """A list page's continue token read from its head only (None: the head could not be read that way).

    kube-apiserver writes ``metadata`` before ``items``: the bytes before ``"items":`` closed with an empty list are
    a whole small document, so the next page can be asked for before this page's 1 MB is decoded.
    """
    end = body.find(b'"items":')
    if end <= 0:
        return None
    try:
        head = _HEAD.decode(body[:end] + b'"items":[]}')
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    # No metadata before the items: the token (if any) comes after them.
    return head.metadata.continue_ if head.metadata is not None else None


def pod(obj: dict[str, Any] | Pod) -> Pod:
    """A pod dict (recorded, or one GET's answer) as the narrow struct; a struct is returned as it is."""
    if isinstance(obj, Pod):
        return obj
    try:
        return msgspec.convert(obj, Pod, strict=False)
    except msgspec.ValidationError:
        # A malformed object is shown as what can be read of it, not as an error of the whole page.
        return Pod(Meta(str((obj.get("metadata") or {}).get("name", "")),
                        str((obj.get("metadata") or {}).get("namespace", ""))))


def pods(objs: list[dict[str, Any]] | list[Pod]) -> list[Pod]:
    """Many pods as narrow structs (a list already narrow is returned as it is)."""
    if not objs or isinstance(objs[0], Pod):
        return objs  # type: ignore[return-value]
    return [pod(o) for o in objs]
