"""Objects of the kinds a v1.19 cluster has besides workloads: service accounts, RBAC, endpoints and slices, quotas,
limit ranges, network policies, autoscalers, leases, ingress and priority classes, and the
custom resources of three more CRDs (one served at two versions, one cluster-scoped, one with nine printer columns).

Called by :meth:`kube9_desktop.sim.gen.generator.Generator.build` after the namespaces are filled (Endpoints follow the
Services and their ready pods).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kube9_desktop.sim.resources import BY_NAME

if TYPE_CHECKING:
    from kube9_desktop.sim.gen.generator import Generator

RBAC = "rbac.authorization.k8s.io"


def build(gen: Generator, namespaces: list[str]) -> None:
    """Adds every object of this module to ``gen.store``."""
    _cluster(gen)
    _crds(gen)
    for ns in namespaces:
        _namespace(gen, ns)
    # No PodDisruptionBudgets here: drains and evictions would then depend on them (tests create their own).


def _load(gen: Generator, kind: str, obj: dict[str, Any]) -> None:
    gen.store.load(BY_NAME[kind], obj)


def _cluster(gen: Generator) -> None:
    from kube9_desktop.sim import apiservices
    from kube9_desktop.sim.gen.base import ts

    apiservices.build(gen)

    born = gen.t0 + 30
    for name, rules in (
        ("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                           {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        ("admin", [{"apiGroups": [""], "resources": ["pods", "services", "configmaps", "secrets"],
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]),
        ("edit", [{"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"],
                   "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]),
        ("view", [{"apiGroups": ["", "apps"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]),
        ("system:node", [{"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch", "update"]}]),
    ):
        labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
        _load(gen, "clusterroles", {"metadata": gen.meta("clusterroles", name, None, born, labels), "rules": rules})
    for name, role, subject in (
        ("cluster-admin", "cluster-admin", {"kind": "Group", "apiGroup": RBAC, "name": "system:masters"}),
        ("system:node", "system:node", {"kind": "Group", "apiGroup": RBAC, "name": "system:nodes"}),
        ("viewers", "view", {"kind": "User", "apiGroup": RBAC, "name": "viewer"}),
    ):
        _load(gen, "clusterrolebindings", {
            "metadata": gen.meta("clusterrolebindings", name, None, born),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [subject],
        })
    _load(gen, "ingressclasses", {
        "metadata": gen.meta("ingressclasses", "nginx", None, born + 600,
                             annotations={"ingressclass.kubernetes.io/is-default-class": "true"}),
        "spec": {"controller": "k8s.io/ingress-nginx"},
    })
    for name, value, default in (("system-cluster-critical", 2000000000, False),
                                 ("system-node-critical", 2000001000, False), ("batch-low", 100, False),
                                 ("standard", 1000, True)):
        _load(gen, "priorityclasses", {
            "metadata": gen.meta("priorityclasses", name, None, born), "value": value, "globalDefault": default,
            "preemptionPolicy": "PreemptLowerPriority",
            "description": f"{name} pods",
        })
    for i, node in enumerate(gen.node_names):
        _load(gen, "leases", {
            "metadata": gen.meta("leases", node, "kube-system", gen.t0 + i * 60),
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40,
                     "renewTime": ts(gen.now - 5).replace("Z", ".000000Z")},
        })
    for name, action, severity in (("require-labels", "audit", "low"), ("no-latest-tag", "deny", "high"),
                                   ("limit-privileged", "deny", "critical")):
        _load(gen, "clusterpolicies", {
            "apiVersion": "policy.example.com/v1", "kind": "ClusterPolicy",
            "metadata": gen.meta("clusterpolicies", name, None, gen.when(), generation=1),
            "spec": {"action": action, "severity": severity},
        })


def _crd(gen: Generator, group: str, kind: str, plural: str, scope: str, short: list[str],
         versions: list[dict[str, Any]]) -> None:
    from kube9_desktop.sim.gen.base import ts

    created = gen.t0 + 4000
    names: dict[str, Any] = {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"}
    if short:
        names["shortNames"] = short
    _load(gen, "customresourcedefinitions", {
        "metadata": gen.meta("customresourcedefinitions", f"{plural}.{group}", None, created, generation=1),
        "spec": {"group": group, "names": names, "scope": scope, "versions": versions,
                 "conversion": {"strategy": "None"}},
        "status": {
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": ts(created),
                 "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": ts(created),
                 "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ],
            "acceptedNames": names,
            "storedVersions": [v["name"] for v in versions if v.get("storage")],
        },
    })


def _schema(props: dict[str, str]) -> dict[str, Any]:
    return {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {k: {"type": t} for k, t in props.items()}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}


#: The printer columns of databases.stable.example.com: nine that ``kubectl get`` prints, one for ``-o wide``.
DATABASE_COLUMNS: list[dict[str, Any]] = [
    {"name": "Engine", "type": "string", "jsonPath": ".spec.engine"},
    {"name": "Version", "type": "string", "jsonPath": ".spec.version"},
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Ready Replicas", "type": "integer", "jsonPath": ".status.readyReplicas"},
    {"name": "Storage", "type": "string", "jsonPath": ".spec.storage"},
    {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint"},
    {"name": "TLS", "type": "boolean", "jsonPath": ".spec.tls"},
    {"name": "Backup", "type": "string", "jsonPath": ".spec.backup"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Maintenance", "type": "string", "priority": 1, "jsonPath": ".spec.maintenanceWindow"},
]


def _crds(gen: Generator) -> None:
    age = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    backup_cols = [
        {"name": "Schedule", "type": "string", "description": "When the backup runs", "jsonPath": ".spec.schedule"},
        {"name": "Phase", "type": "string", "description": "Last run's phase", "jsonPath": ".status.phase"},
        {"name": "Retention", "type": "integer", "description": "Days kept", "jsonPath": ".spec.retentionDays"},
        age,
    ]
    schema = _schema({"schedule": "string", "retentionDays": "integer", "target": "string"})
    _crd(gen, "stable.example.com", "Backup", "backups", "Namespaced", ["bk"], [
        {"name": "v1", "served": True, "storage": True, "schema": schema, "additionalPrinterColumns": backup_cols},
        {"name": "v1beta1", "served": True, "storage": False, "schema": schema,
         "additionalPrinterColumns": backup_cols},
    ])
    with _own_stream(gen, "databases"):
        _crd(gen, "stable.example.com", "Database", "databases", "Namespaced", ["db"], [
            {"name": "v1", "served": True, "storage": True, "additionalPrinterColumns": [*DATABASE_COLUMNS, age],
             "schema": _schema({"engine": "string", "version": "string", "replicas": "integer", "storage": "string",
                                "tls": "boolean", "backup": "string", "maintenanceWindow": "string"})}])
    _crd(gen, "policy.example.com", "ClusterPolicy", "clusterpolicies", "Cluster", ["cpol"], [
        {"name": "v1", "served": True, "storage": True, "schema": _schema({"action": "string", "severity": "string"}),
         "additionalPrinterColumns": [
             {"name": "Action", "type": "string", "description": "What a violation does", "jsonPath": ".spec.action"},
             {"name": "Severity", "type": "string", "jsonPath": ".spec.severity"}, age]},
    ])


def _services(gen: Generator, ns: str) -> list[dict[str, Any]]:
    col = gen.store.collections["services"]
    return [o.to_dict() for k, o in col.objects.items() if k.startswith(f"{ns}/")]


def _namespace(gen: Generator, ns: str) -> None:
    r = gen.rng
    when = gen.when
    sa_secret = f"default-token-{gen.rand(5)}"
    _load(gen, "serviceaccounts", {"metadata": gen.meta("serviceaccounts", "default", ns, when()),
                                   "secrets": [{"name": sa_secret}]})
    if ns not in ("default", "kube-system"):
        _load(gen, "serviceaccounts", {"metadata": gen.meta("serviceaccounts", "deployer", ns, when()),
                                       "secrets": [{"name": f"deployer-token-{gen.rand(5)}"}]})
        _load(gen, "roles", {"metadata": gen.meta("roles", "deployer", ns, when()), "rules": [
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch", "update"]}]})
        _load(gen, "rolebindings", {
            "metadata": gen.meta("rolebindings", "deployer", ns, when()),
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}],
        })
        _load(gen, "rolebindings", {
            "metadata": gen.meta("rolebindings", "team-view", ns, when()),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": f"{ns}-devs"}],
        })
        _load(gen, "resourcequotas", {
            "metadata": gen.meta("resourcequotas", "compute", ns, when()),
            "spec": {"hard": {"limits.memory": "64Gi", "requests.cpu": "40", "requests.memory": "32Gi",
                              "pods": "500"}},
            "status": {"hard": {"limits.memory": "64Gi", "requests.cpu": "40", "requests.memory": "32Gi",
                                "pods": "500"},
                       "used": {"limits.memory": "12Gi", "requests.cpu": "2", "requests.memory": "3Gi",
                                "pods": "40"}},
        })
        _load(gen, "limitranges", {"metadata": gen.meta("limitranges", "defaults", ns, when()), "spec": {"limits": [
            {"type": "Container", "default": {"memory": "512Mi"}, "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}
        ]}})
        _load(gen, "networkpolicies", {
            "metadata": gen.meta("networkpolicies", "default-deny-ingress", ns, when(), generation=1),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        })
    _load(gen, "leases", {"metadata": gen.meta("leases", f"{ns}-leader", ns, when()),
                          "spec": {"holderIdentity": f"controller-{gen.rand(5)}", "leaseDurationSeconds": 15}})
    for svc in _services(gen, ns):
        name = svc["metadata"]["name"]
        app = (svc["spec"].get("selector") or {}).get("app", "")
        ready = gen.ready_ips.get((ns, app), [])
        port = svc["spec"]["ports"][0]
        subsets = []
        if ready:
            subsets = [{"addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}}
                                      for pod, ip in ready],
                        "ports": [{"name": port.get("name", ""), "port": port.get("targetPort", 80),
                                   "protocol": "TCP"}]}]
        _load(gen, "endpoints", {"metadata": gen.meta("endpoints", name, ns, when(), {"app": app}),
                                 "subsets": subsets})
        _load(gen, "endpointslices", {
            "metadata": gen.meta("endpointslices", f"{name}-{gen.rand(5)}", ns, when(),
                                 {"kubernetes.io/service-name": name,
                                  "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                                 generateName=f"{name}-"),
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}} for pod, ip in ready],
            "ports": [{"name": port.get("name", ""), "port": port.get("targetPort", 80), "protocol": "TCP"}],
        })
    deployments = [k.split("/", 1)[1] for k in gen.store.collections["deployments"].objects if k.startswith(f"{ns}/")]
    if deployments and ns != "kube-system":
        target = deployments[0]
        _load(gen, "horizontalpodautoscalers", {
            "metadata": gen.meta("horizontalpodautoscalers", target, ns, when()),
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": target, "apiVersion": "apps/v1"},
                     "minReplicas": 1, "maxReplicas": 10, "targetCPUUtilizationPercentage": 80},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": r.randint(5, 90)},
        })
    if ns in ("default", "team-a", "team-b"):
        for i, (sched, phase) in enumerate((("0 2 * * *", "Completed"), ("*/30 * * * *", "Running"),
                                            ("0 4 * * 0", None))):
            obj: dict[str, Any] = {
                "apiVersion": "stable.example.com/v1", "kind": "Backup",
                "metadata": gen.meta("backups", f"backup-{['db', 'files', 'weekly'][i]}", ns, when(), generation=1),
                "spec": {"schedule": sched, "retentionDays": [7, 2, 30][i], "target": f"s3://backups/{ns}"},
            }
            if phase:
                obj["status"] = {"phase": phase}
            _load(gen, "backups", obj)
        _databases(gen, ns)


@contextlib.contextmanager
def _own_stream(gen: Generator, key: str) -> Iterator[None]:
    """Objects made inside draw from a random stream of their own (seeded by ``key``): added after the rest of the
    cluster was, they leave every other object of a seeded cluster as it was."""
    main, gen.rng = gen.rng, random.Random(f"{gen.seed}/{key}")
    try:
        yield
    finally:
        gen.rng = main


def _databases(gen: Generator, ns: str) -> None:
    """Two databases: one running, one still provisioning (no status fields yet: null cells, as kubectl shows)."""
    with _own_stream(gen, f"databases/{ns}"):
        _database_objects(gen, ns)


def _database_objects(gen: Generator, ns: str) -> None:
    for i, (name, engine, version) in enumerate((("orders-db", "postgres", "13.4"), ("cache", "redis", "6.2"))):
        obj: dict[str, Any] = {
            "apiVersion": "stable.example.com/v1", "kind": "Database",
            "metadata": gen.meta("databases", name, ns, gen.when(), generation=1),
            "spec": {"engine": engine, "version": version, "replicas": 3 - i, "storage": ["20Gi", "1Gi"][i],
                     "tls": i == 0, "backup": "backup-db" if i == 0 else "", "maintenanceWindow": "Sun 02:00"},
        }
        if i == 0:
            obj["status"] = {"readyReplicas": 3, "endpoint": f"{name}.{ns}.svc:5432", "phase": "Running"}
        _load(gen, "databases", obj)
