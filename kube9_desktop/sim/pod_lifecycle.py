"""How a pod the controllers create comes up, paced like a small real cluster (the kubelet's side).

A new pod is ``Pending`` (scheduled, nothing started), then ``ContainerCreating``, then ``Running`` but not ready,
then Ready once its readiness probe passes: :class:`Pace` says how long each takes. Each step is a timer on the
controllers' loop; the pod's owner is kicked when it becomes Ready, so a rollout waits for its new pods like the
Deployment controller does. A pod deleted (or replaced) meanwhile is left alone.

With a zero pace (``--pod-start-seconds 0 --pod-ready-seconds 0``) a new pod is Running and Ready at once, as the
sim's pods were before pacing existed (tests that need quick convergence start their sim so).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.workloads import terminating

if TYPE_CHECKING:
    from kube9_desktop.sim.controllers import Controllers

PODS = BY_NAME["pods"]
#: ``KUBE9_SIM_PACE=START,READY,STOP`` sets the defaults of the three pacing options (the test suite's sims).
PACE_ENV = "KUBE9_SIM_PACE"
#: Share of the start time a pod stays Pending before its containers are being created.
PENDING_SHARE = 0.3


@dataclass(frozen=True)
class Pace:
    """Seconds a pod takes: to start its containers, to pass its readiness probe once running, to stop on SIGTERM
    (capped by its ``terminationGracePeriodSeconds``).

    The defaults are a small real cluster's with images already pulled: a couple of seconds to start, a readiness
    probe passing a couple of seconds later, and an app that does not handle SIGTERM (a shell as PID 1, common)
    stopped only when its 30 s grace period ends.
    """

    start: float = 2.0
    ready: float = 2.0
    stop: float = 30.0

    @classmethod
    def default(cls) -> Pace:
        """The defaults, or those of :data:`PACE_ENV` when set."""
        raw = os.environ.get(PACE_ENV, "")
        if not raw:
            return cls()
        start, ready, stop = (float(x) for x in raw.split(","))
        return cls(start, ready, stop)


def _conditions(ready: bool, now: str) -> list[dict[str, Any]]:
    out = []
    for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
        ok = ready or kind in ("Initialized", "PodScheduled")
        out.append({"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                    "lastTransitionTime": now})
    return out


def running(pod: dict[str, Any], ready: bool) -> None:
    """Set ``pod``'s status to Running, its containers started and ready or not."""
    now = ts(time.time())
    st = pod.setdefault("status", {})
    st["phase"] = "Running"
    st["startTime"] = st.get("startTime") or now
    st["conditions"] = _conditions(ready, now)
    for cs in st.get("containerStatuses") or []:
        was = cs.get("state") or {}
        cs.update(ready=ready, started=True, restartCount=0, lastState={})
        if "running" not in was:
            cs["state"] = {"running": {"startedAt": now}}


def begin(ctl: Controllers, pod: dict[str, Any]) -> None:
    """A scheduled pod was just created: Running and Ready at once with a zero pace, else Pending with its steps
    timed (the caller stores ``pod``)."""
    pace = ctl.pace
    if pace.start <= 0 and pace.ready <= 0:
        running(pod, ready=True)
        return
    st = pod.setdefault("status", {})
    containers = st.pop("containerStatuses", None) or []
    st["phase"] = "Pending"
    st["conditions"] = [c for c in _conditions(False, ts(time.time())) if c["type"] == "PodScheduled"]
    md = pod["metadata"]
    ns, name, uid = md["namespace"], md["name"], md["uid"]
    ctl.after(pace.start * PENDING_SHARE, functools.partial(_step, ctl, ns, name, uid, "creating", containers))
    if pace.start > 0:
        ctl.after(pace.start, functools.partial(_step, ctl, ns, name, uid, "running", containers))
    ctl.after(pace.start + pace.ready, functools.partial(_step, ctl, ns, name, uid, "ready", containers))


def _step(ctl: Controllers, ns: str, name: str, uid: str, step: str, containers: list[dict[str, Any]]) -> None:
    with ctl.store.lock:
        obj = ctl.store.get(PODS, ns, name)
        if obj is None:
            return
        pod = obj.to_dict()
        if pod["metadata"].get("uid") != uid or terminating(pod):
            return
        st = pod.setdefault("status", {})
        if st.get("phase") in ("Succeeded", "Failed"):
            return  # a Job's pod that has finished
        if step == "creating":
            if st.get("phase") != "Pending":
                return
            st["conditions"] = _conditions(False, ts(time.time()))
            st["containerStatuses"] = [dict(c, ready=False, started=False, state={
                "waiting": {"reason": "ContainerCreating"}}) for c in containers]
        else:
            if not st.get("containerStatuses"):
                st["containerStatuses"] = [dict(c) for c in containers]
            running(pod, ready=step == "ready")
        ctl.store.put(PODS, pod)
    if step == "ready":
        ctl.kick_owner(pod)
