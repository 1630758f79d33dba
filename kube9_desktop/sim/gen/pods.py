"""Pods with a realistic status mix (running, not ready, crashing, failed, pending, completed) and their events."""

from __future__ import annotations

from typing import Any

from kube9_desktop.sim.gen.base import POD_TOLERATIONS, GeneratorBase, ts
from kube9_desktop.sim.resources import BY_NAME


class PodParts(GeneratorBase):
    """Builds pods (called by the workload parts, the controllers and scenarios) and the events about them."""

    def pod(
        self,
        ns: str,
        name: str,
        labels: dict[str, str],
        owner: list[dict[str, Any]],
        image: str,
        after: float,
        node: str | None = None,
        healthy: bool = False,
        succeeded: bool = False,
        load: bool = True,
        sidecar: bool = False,
    ) -> dict[str, Any]:
        """Builds (and by default stores) one pod with a realistic status mix.

        ``sidecar``: the pod also runs a ``metrics`` container and ran an ``init-config`` init container (the
        pods that need ``-c`` for their logs).
        """
        r = self.rng
        created = after if succeeded else self.when(after)
        workers = self.node_names[1:] or self.node_names
        kind = "ok"
        if not healthy and not succeeded:
            x = r.random()
            kind = "pending" if x < 0.03 else "failed" if x < 0.05 else "crash" if x < 0.08 else "ok"
        node_name = None if kind == "pending" and r.random() < 0.5 else node or r.choice(workers)
        self.pod_seq += 1
        start = ts(created + 1)
        spec: dict[str, Any] = {
            "containers": [self._container("main", image)],
            "restartPolicy": "Never" if succeeded else "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
        }
        if node_name:
            spec["nodeName"] = node_name
        spec.update(
            {
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "tolerations": POD_TOLERATIONS,
                "priority": 0,
                "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
            }
        )
        host_ip = f"10.0.0.{11 + self.node_names.index(node_name)}" if node_name else None
        pod_ip = f"10.244.{r.randint(0, 255)}.{r.randint(2, 254)}"
        cid = "containerd://" + f"{r.getrandbits(256):064x}"
        cs: dict[str, Any] = {
            "name": "main",
            "lastState": {},
            "ready": True,
            "restartCount": 0,
            "image": image,
            "imageID": f"docker.io/library/{image.split(':')[0]}@sha256:{f'{r.getrandbits(256):064x}'}",
            "containerID": cid,
            "started": True,
        }
        true_conds = ["Initialized", "Ready", "ContainersReady", "PodScheduled"]
        status: dict[str, Any]
        if kind == "ok" and not succeeded:
            cs["state"] = {"running": {"startedAt": start}}
            if r.random() < 0.1:
                cs["restartCount"] = r.randint(1, 4)
            status = {"phase": "Running", "conditions": self._conds(true_conds, [], start)}
            if self.pod_seq % 23 == 11:
                # Its readiness probe fails: Running but 0/1 ready, as kubectl shows such a pod. Chosen by sequence
                # (no random draw), so every other object of a seeded cluster stays as it was.
                cs["ready"] = False
                status["conditions"] = self._not_ready(start)
        elif succeeded:
            cs.update(ready=False, started=False, state=_terminated(0, "Completed", start, ts(created + 9), cid))
            status = {"phase": "Succeeded", "conditions": self._not_ready(start)}
        elif kind == "crash":
            cs.update(
                ready=False,
                started=False,
                restartCount=r.randint(5, 300),
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container=main",
                    }
                },
                lastState=_terminated(1, "Error", start, start, cid),
            )
            status = {"phase": "Running", "conditions": self._not_ready(start)}
        elif kind == "failed":
            cs.update(ready=False, started=False, state=_terminated(137, "Error", start, ts(created + 60), cid))
            status = {"phase": "Failed", "conditions": self._not_ready(start)}
        else:  # pending
            if node_name:
                cs = {
                    "name": "main",
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": {},
                    "ready": False,
                    "restartCount": 0,
                    "image": image,
                    "imageID": "",
                    "started": False,
                }
                status = {"phase": "Pending", "conditions": self._not_ready(start)}
            else:
                status = {
                    "phase": "Pending",
                    "conditions": [
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "lastProbeTime": None,
                            "lastTransitionTime": start,
                            "reason": "Unschedulable",
                            "message": f"0/{len(self.node_names)} nodes are available: insufficient cpu.",
                        }
                    ],
                }
        if node_name:
            status["hostIP"] = host_ip
            if status["phase"] != "Pending":
                status["podIP"] = pod_ip
                status["podIPs"] = [{"ip": pod_ip}]
            status["startTime"] = start
            status["containerStatuses"] = [cs]
        if sidecar:
            self._add_sidecar(spec, status)
        status["qosClass"] = "Burstable"
        pod = {
            "metadata": self.meta("pods", name, ns, created, labels, ownerReferences=owner),
            "spec": spec,
            "status": status,
        }
        if load:
            self.store.load(BY_NAME["pods"], pod)
            self._pod_events(pod, kind)
            if "podIP" in status and cs.get("ready"):
                # Endpoints of the Services selecting it (sim/more_objects.py), without re-reading 50,000 pods.
                self.ready_ips.setdefault((ns, labels.get("app", "")), []).append((name, status["podIP"]))
        return pod

    @staticmethod
    def _add_sidecar(spec: dict[str, Any], status: dict[str, Any]) -> None:
        """A ``metrics`` sidecar in the main container's state and a completed ``init-config`` init container
        (no random draws: the rest of the cluster stays as the seed makes it)."""
        side = {
            "name": "metrics",
            "image": "prom/statsd-exporter:v0.20.0",
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
        init = {
            "name": "init-config",
            "image": "busybox:1.32",
            "command": ["sh", "-c", "cp /src/* /config/"],
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
        spec["containers"].append(side)
        spec["initContainers"] = [init]
        css = status.get("containerStatuses")
        if not css:
            return
        main = css[0]
        sc = {**main, "name": "metrics", "image": side["image"], "restartCount": 0, "lastState": {}}
        if main.get("containerID"):
            sc["containerID"] = main["containerID"][:-8] + "5eedcafe"
        if "waiting" in (main.get("state") or {}) and main.get("lastState"):
            sc.update(state={"running": {"startedAt": status.get("startTime")}}, ready=True, started=True)
        css.append(sc)
        start = status.get("startTime")
        status["initContainerStatuses"] = [
            {
                "name": "init-config",
                "ready": True,
                "restartCount": 0,
                "image": init["image"],
                "imageID": "docker.io/library/busybox@sha256:" + "0" * 64,
                "started": False,
                "containerID": (main.get("containerID") or "containerd://" + "0" * 64)[:-8] + "1417c0de",
                "lastState": {},
                "state": {
                    "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start}
                },
            }
        ]

    def _pod_events(self, pod: dict[str, Any], kind: str) -> None:
        """A few events per namespace, like the kubelet and scheduler would have recorded recently."""
        md = pod["metadata"]
        ns = md["namespace"]
        n = self.events_per_ns.get(ns, 0)
        if n >= 40 or (kind == "ok" and n >= 16):
            return
        node = pod["spec"].get("nodeName")
        image = pod["spec"]["containers"][0]["image"]
        last = self.now - self.rng.randint(30, 3000)
        if kind == "crash":
            evs = [
                (
                    "Warning",
                    "BackOff",
                    "spec.containers{main}",
                    "kubelet",
                    "Back-off restarting failed container",
                    self.rng.randint(20, 400),
                )
            ]
        elif kind == "pending" and not node:
            evs = [
                (
                    "Warning",
                    "FailedScheduling",
                    "",
                    "default-scheduler",
                    f"0/{len(self.node_names)} nodes are available: insufficient cpu.",
                    self.rng.randint(2, 50),
                )
            ]
        elif kind == "failed":
            evs = [
                ("Warning", "Failed", "spec.containers{main}", "kubelet", "Error: container exited with code 137", 1)
            ]
        else:
            evs = [
                (
                    "Normal",
                    "Scheduled",
                    "",
                    "default-scheduler",
                    f"Successfully assigned {ns}/{md['name']} to {node}",
                    1,
                ),
                (
                    "Normal",
                    "Pulled",
                    "spec.containers{main}",
                    "kubelet",
                    f'Container image "{image}" already present on machine',
                    1,
                ),
                ("Normal", "Created", "spec.containers{main}", "kubelet", "Created container main", 1),
                ("Normal", "Started", "spec.containers{main}", "kubelet", "Started container main", 1),
            ]
        for etype, reason, fpath, comp, msg, count in evs:
            self.events_per_ns[ns] = self.events_per_ns.get(ns, 0) + 1
            first = last - (count - 1) * 300 if count > 1 else last
            inv: dict[str, Any] = {
                "kind": "Pod",
                "namespace": ns,
                "name": md["name"],
                "uid": md["uid"],
                "apiVersion": "v1",
                "resourceVersion": md["resourceVersion"],
            }
            if fpath:
                inv["fieldPath"] = fpath
            src: dict[str, Any] = {"component": comp}
            if comp == "kubelet" and node:
                src["host"] = node
            self.store.load(
                BY_NAME["events"],
                {
                    "metadata": self.meta("events", f"{md['name']}.{self.rng.getrandbits(64):x}", ns, first),
                    "involvedObject": inv,
                    "reason": reason,
                    "message": msg,
                    "source": src,
                    "firstTimestamp": ts(first),
                    "lastTimestamp": ts(last),
                    "count": count,
                    "type": etype,
                    "eventTime": None,
                    "reportingComponent": "",
                    "reportingInstance": "",
                },
            )

    @staticmethod
    def _not_ready(when: str) -> list[dict[str, Any]]:
        """A scheduled pod whose container is not ready (waiting, crashed or ended)."""
        return PodParts._conds(["Initialized", "PodScheduled"], ["Ready", "ContainersReady"], when)

    @staticmethod
    def _conds(true: list[str], false: list[str], when: str) -> list[dict[str, Any]]:
        out = []
        for t in ["Initialized", "Ready", "ContainersReady", "PodScheduled"]:
            if t in true or t in false:
                c: dict[str, Any] = {
                    "type": t,
                    "status": "True" if t in true else "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": when,
                }
                if t in false:
                    c["reason"] = "ContainersNotReady"
                    c["message"] = "containers with unready status: [main]"
                out.append(c)
        return out


def _terminated(exit_code: int, reason: str, started: str, finished: str, container_id: str) -> dict[str, Any]:
    """A container state (or last state) of a container that ended."""
    return {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished,
                           "containerID": container_id}}
