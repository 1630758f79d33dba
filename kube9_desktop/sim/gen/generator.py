"""Deterministic, realistic cluster content generated from a seed: the :class:`Generator` and its build order."""

from __future__ import annotations

from kube9_desktop.sim import more_objects
from kube9_desktop.sim.gen.base import APP_NAMES, IMAGES
from kube9_desktop.sim.gen.cluster import ClusterParts
from kube9_desktop.sim.gen.services import ServiceParts
from kube9_desktop.sim.gen.workloads import WorkloadParts
from kube9_desktop.sim.store import Store


class Generator(WorkloadParts, ClusterParts, ServiceParts):
    """Builds the cluster into a :class:`Store`; all randomness comes from ``seed``.

    The parts (one module each under ``sim/gen/``) draw from the one seeded ``rng`` in the order :meth:`build`
    calls them, so a seed always makes the same cluster.
    """

    def build(self, store: Store) -> None:
        """Generates every object into ``store`` (then call ``store.finish_load``)."""
        self.store = store
        self._nodes()
        ns_names = self.namespace_names()
        for ns in ns_names:
            self._namespace(ns)
        budget = self.pods
        # System pods first: kube-proxy on every node, then two coredns replicas.
        ds_pods = min(len(self.node_names), budget)
        budget -= ds_pods
        dns = min(2, budget)
        budget -= dns
        shares = self._shares(ns_names, budget)
        self._storage()
        self._crd()
        for ns in ns_names:
            self._fill_namespace(
                ns, shares.get(ns, 0), ds_pods if ns == "kube-system" else 0, dns if ns == "kube-system" else 0
            )
        more_objects.build(self, ns_names)

    def _shares(self, ns_names: list[str], budget: int) -> dict[str, int]:
        """Splits the pod budget: team-a gets a fifth (a decent share), the rest is spread over the others."""
        others = [n for n in ns_names if n not in ("kube-system", "team-a")]
        if "team-a" not in ns_names:
            others = [n for n in ns_names if n != "kube-system"] or ns_names
        out: dict[str, int] = {}
        team_a = budget // 5 if others and "team-a" in ns_names else (budget if "team-a" in ns_names else 0)
        out["team-a"] = team_a
        rest = budget - team_a
        if others:
            weights = [self.rng.uniform(0.5, 1.5) for _ in others]
            total = sum(weights)
            alloc = [int(rest * w / total) for w in weights]
            for i in range(rest - sum(alloc)):
                alloc[i % len(alloc)] += 1
            for n, a in zip(others, alloc, strict=True):
                out[n] = out.get(n, 0) + a
        elif rest:
            out["team-a"] = out.get("team-a", 0) + rest
        return out

    def _fill_namespace(self, ns: str, pods: int, ds_pods: int, dns_pods: int) -> None:
        r = self.rng
        apps: list[tuple[str, dict[str, str]]] = []
        if ns == "kube-system":
            self._daemonset(ns, "kube-proxy", ds_pods)
            if dns_pods:
                apps.append(self._deployment(ns, "coredns", dns_pods, "k8s.gcr.io/coredns:1.7.0"))
        # A StatefulSet and a CronJob-owned Job where the namespace has room for them.
        if pods >= 12:
            n = 3
            pods -= n
            apps.append(self._statefulset(ns, r.choice(["postgres", "redis", "kafka", "etcd"]), n))
        if pods >= 10:
            pods -= 1
            self._cronjob(ns, with_pod=True)
        elif ns not in ("kube-system",):
            self._cronjob(ns, with_pod=False)
        n_deploy = max(1, min(120, pods // 8)) if pods else (0 if ns == "kube-system" else 1)
        if n_deploy:
            weights = [r.uniform(0.3, 1.7) for _ in range(n_deploy)]
            total = sum(weights)
            alloc = [int(pods * w / total) for w in weights]
            for i in range(pods - sum(alloc)):
                alloc[i % n_deploy] += 1
            used: set[str] = set()
            for i, reps in enumerate(alloc):
                base = APP_NAMES[i % len(APP_NAMES)]
                name = base if base not in used else f"{base}-{i // len(APP_NAMES)}"
                used.add(name)
                apps.append(self._deployment(ns, name, reps, r.choice(IMAGES)))
        for name, labels in apps[:12]:
            self._service(ns, name, labels)
        self._configs(ns, [a[0] for a in apps[:5]])
        if ns != "kube-system" and apps:
            self._ingress(ns, apps[-1][0])
        if ns in ("default", "team-a", "team-b"):
            self._widgets(ns)
