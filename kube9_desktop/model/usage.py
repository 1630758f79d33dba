"""The CPU and Memory columns' figures: one metrics sample turned into cell texts and colour levels (Qt-free).

A :class:`UsageBook` is rebuilt from each sample (every 15 s while the window shows usage) and only read while rows
paint, so lookups are O(1): nodes and pods by name, workloads by the names their pods derive from (a Deployment's
pod is ``<deployment>-<template hash>-<5>``, a DaemonSet's or ReplicaSet's ``<owner>-<5>``, a StatefulSet's
``<owner>-<ordinal>``), summed when the book is built. Percentages: a node's of its allocatable, a pod's of its
limits (else requests), a workload's of its pods' summed requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from sys import intern

from kube9_desktop.kube import metrics
from kube9_desktop.kube.gui_gate import checkpoint
from kube9_desktop.kube.metrics import (
    ZERO,
    Resources,
    Sample,
    Unavailable,
    Usage,
    level,
    pod_percent_bases,
    pod_usage,
    usage_cells,
)

_SUFFIX = re.compile(r"^(.+)-[a-z0-9]{5}$")
_HASH = re.compile(r"^(.+)-[a-z0-9]{6,10}$")
_ORDINAL = re.compile(r"^(.+)-\d+$")
WORKLOAD_KINDS = frozenset({"deployments", "statefulsets", "daemonsets", "replicasets"})


#: The CPU and Memory texts of a row and their levels (0 normal, 1 past 80 %, 2 past 95 %):
#: ``(cpu, memory, cpu_level, memory_level)``. A plain tuple of strings and ints, which the cyclic collector stops
#: tracking the first time it sees one; as a (slotted) class each of a 10,000-pod book's cells was an object every
#: later collection walked until the next poll replaced it.
Cells = tuple[str, str, int, int]


def _cells(cpu: str, memory: str, cpu_pct: float | None, memory_pct: float | None,
           seen: dict[Cells, Cells]) -> Cells:
    """A row's cells; the same texts and levels are one tuple of ``seen`` for every row showing them, and one
    string each (``12m 5%`` repeats down a column): a 50,000-pod book kept 100,000 strings of ~55 bytes, most of
    them copies."""
    cells = (intern(cpu), intern(memory), level(cpu_pct), level(memory_pct))
    return seen.setdefault(cells, cells)


def owners(pod_name: str) -> list[str]:
    """Names of the workloads a pod's name could come from (ReplicaSet/DaemonSet, Deployment, StatefulSet)."""
    out = []
    m = _SUFFIX.match(pod_name)
    if m:
        out.append(m.group(1))
        h = _HASH.match(m.group(1))
        if h:
            out.append(h.group(1))
    o = _ORDINAL.match(pod_name)
    if o:
        out.append(o.group(1))
    return out


@dataclass
class UsageBook:
    """What the usage columns show for one context."""

    context: str = ""
    nodes: dict[str, Cells] = field(default_factory=dict)
    pods: dict[tuple[str, str], Cells] = field(default_factory=dict)
    workloads: dict[tuple[str, str], Cells] = field(default_factory=dict)
    unavailable: Unavailable | None = None
    at: float = 0.0

    @classmethod
    def build(cls, context: str, got: Sample | Unavailable, allocatable: dict[str, Usage],
              resources: dict[tuple[str, str], Resources]) -> UsageBook:
        """A book from a sample (or the reason there is none)."""
        if isinstance(got, Unavailable):
            return cls(context, unavailable=got)
        book = cls(context, at=got.at)
        seen: dict[Cells, Cells] = {}
        for name, node in got.nodes.items():
            a = allocatable.get(name, ZERO)
            book.nodes[name] = _cells(*usage_cells(node, a.cpu, a.memory), seen)
        sums: dict[tuple[str, str], complex] = {}
        # A workload's pods' summed requests, None once one of its pods' requests is unknown (a percentage of
        # part of the pods would mislead).
        asked: dict[tuple[str, str], Usage | None] = {}
        every = metrics.STEP_EVERY  # a worker builds the book: it steps aside for the window's paints
        for i, (pod, u) in enumerate(got.pods.items()):
            if i % every == 0:
                checkpoint()
            ns, name = pod
            res = resources.get(pod)
            cpu_of, mem_of = pod_percent_bases(res) if res is not None else (0.0, 0.0)
            # The sample's key, not a new tuple: one object fewer a pod for the collector to walk.
            book.pods[pod] = _cells(*usage_cells(pod_usage(u), cpu_of, mem_of), seen)
            for owner in owners(name):
                key = (ns, owner)
                sums[key] = sums.get(key, 0j) + u
                before = asked.get(key, ZERO)
                asked[key] = (before + Usage(res.cpu_request, res.memory_request)
                              if before is not None and res is not None else None)
        for key, total in sums.items():
            base = asked.get(key)
            book.workloads[key] = _cells(*usage_cells(pod_usage(total), base.cpu if base else 0,
                                                      base.memory if base else 0), seen)
        return book

    def cells(self, kind: str, namespace: str | None, name: str) -> Cells | None:
        """The figures of one row, if the sample has them."""
        if kind == "nodes":
            return self.nodes.get(name)
        if kind == "pods":
            return self.pods.get((namespace or "", name))
        if kind in WORKLOAD_KINDS:
            return self.workloads.get((namespace or "", name))
        return None
