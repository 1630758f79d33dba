"""Background pod churn (scaling and rollouts are the controllers' job: sim/controllers.py)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from kube9_desktop.sim.events import EventRecorder
from kube9_desktop.sim.gen.base import ts
from kube9_desktop.sim.gen.generator import Generator
from kube9_desktop.sim.resources import BY_NAME
from kube9_desktop.sim.store import Obj, Store

PODS = BY_NAME["pods"]


class Churner:
    """Makes ``rate`` random pod changes per second (status updates, new pods, deleted pods).

    Args:
        store: The store whose pods change.
        rate: Changes per second (0 idles).
        seed: The sim's seed (the churn's own random stream derives from it).
        events: Where the changes are recorded as events (none: not recorded).
    """

    def __init__(self, store: Store, rate: float, seed: int, events: EventRecorder | None = None) -> None:
        self.store = store
        self.events = events
        self.rate = float(rate)
        self.rng = random.Random(seed + 7)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.target = 0
        # Set by start(): the generator that built the store makes the new pods, so they look alike.
        self.generator: Generator | None = None

    def start(self, generator: Generator) -> None:
        """Starts the background thread (it idles while the rate is 0)."""
        self.generator = generator
        self.target = self.store.count(PODS)
        self._thread = threading.Thread(target=self._run, name="kube9-sim-churn", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread."""
        self._stop.set()

    def _run(self) -> None:
        tick = 0.1
        debt = 0.0
        while not self._stop.wait(tick):
            if self.rate <= 0:
                debt = 0.0
                continue
            debt += self.rate * tick
            while debt >= 1 and not self._stop.is_set():
                debt -= 1
                try:
                    self.step()
                except Exception:
                    pass

    def _random_pod(self) -> Obj | None:
        store = self.store
        with store.lock:
            keys = store.collections["pods"].keys
            if not keys:
                return None
            return store.collections["pods"].objects[keys[self.rng.randrange(len(keys))]]

    def step(self) -> None:
        """One random change, biased to keep the pod total near its starting value."""
        store = self.store
        count = store.count(PODS)
        x = self.rng.random()
        add_p, del_p = 0.2, 0.2
        if count > self.target:
            add_p, del_p = 0.1, 0.3
        elif count < self.target:
            add_p, del_p = 0.3, 0.1
        pod = self._random_pod()
        if pod is None:
            return
        d = pod.to_dict()
        owners = d["metadata"].get("ownerReferences") or []
        replaceable = bool(owners) and owners[0]["kind"] == "ReplicaSet"
        if x < add_p and replaceable:
            self._add_like(d)
        elif x < add_p + del_p and replaceable:
            store.delete(PODS, pod.namespace, pod.name)
            if self.events is not None:
                self.events.pod_killed(d)
        else:
            self._modify(d)

    def _add_like(self, d: dict[str, Any]) -> Obj:
        gen = self.generator
        assert gen is not None
        md = d["metadata"]
        rs = md["ownerReferences"][0]["name"]
        image = d["spec"]["containers"][0]["image"]
        with self.store.lock:
            new = gen.pod(
                md["namespace"],
                f"{rs}-{gen.rand(5)}",
                md.get("labels", {}),
                md["ownerReferences"],
                image,
                time.time() - 1,
                load=False,
            )
            new["metadata"]["creationTimestamp"] = ts(time.time())
            obj = self.store.put(PODS, new)
        if self.events is not None:
            self.events.pod_started(obj.to_dict())
        return obj

    def _modify(self, d: dict[str, Any]) -> None:
        status = d.get("status", {})
        css = status.get("containerStatuses") or []
        if not css:
            return
        cs = css[0]
        if status.get("phase") == "Running" and "running" in cs.get("state", {}) and self.rng.random() < 0.5:
            cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
            cs["lastState"] = {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": cs["state"]["running"]["startedAt"],
                    "finishedAt": ts(time.time()),
                }
            }
            cs["state"] = {"running": {"startedAt": ts(time.time())}}
            if self.events is not None:
                self.events.pod_restarted(d, cs.get("name", "main"))
        elif "running" in cs.get("state", {}):
            cs["ready"] = not cs.get("ready", True)
            if not cs["ready"] and self.events is not None:
                self.events.pod_unhealthy(d, cs.get("name", "main"))
        else:
            cs["state"] = {"running": {"startedAt": ts(time.time())}}
            cs["ready"] = True
            cs["started"] = True
            if status.get("phase") in ("Pending", "Failed"):
                status["phase"] = "Running"
        for c in status.get("conditions", []):
            if c["type"] in ("Ready", "ContainersReady"):
                c["status"] = "True" if cs.get("ready") else "False"
        self.store.put(PODS, d)
