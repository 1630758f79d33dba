"""The table of resource kinds the browser knows, as data.

Adding a kind is one entry in :data:`BUILTIN_KINDS`; nothing else switches on kind names. Custom resources are
added at run time from CustomResourceDefinitions (:func:`kind_from_crd`).

TTL classes (the cache's reason for each TTL; the seconds come from settings, defaults from the kube9 design):

* ``cluster`` (30 s): nodes, namespaces and cluster-scoped objects change rarely and are costly to re-list in big
  clusters, so a short staleness is the better trade.
* ``stable`` (15 s): controllers and configuration (deployments, services, configmaps, ...) change on deploys,
  which users notice within seconds anyway; Refresh and watches cover the rest.
* ``volatile`` (5 s): pods, replicasets and jobs churn constantly; keep them just long enough to absorb the burst of
  repeated expansions a browsing user makes.
* ``never`` (0): events are a stream, not state; a cached copy is always misleading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kube9_desktop.kube.names import segment


class TtlClass(StrEnum):
    """How long a list of this kind may be served from the cache (seconds come from settings)."""

    CLUSTER = "cluster"
    STABLE = "stable"
    VOLATILE = "volatile"
    NEVER = "never"


DEFAULT_TTLS: dict[TtlClass, float] = {
    TtlClass.CLUSTER: 30.0,
    TtlClass.STABLE: 15.0,
    TtlClass.VOLATILE: 5.0,
    TtlClass.NEVER: 0.0,
}


class StatusRule(StrEnum):
    """How a row's Status text is derived from the kind's Table cells.

    ``column``: the ``status_column`` cell as is (pods, nodes, namespaces, PVCs ...).
    ``ready``: compare the ``ready_column`` cell "a/b" (or a / ``desired_column``): equal → Ready.
    ``completions``: jobs, "1/1" → Complete, else Running.
    ``cronjob``: Suspended when ``Suspend`` is True, Active when jobs run, else Scheduled.
    ``text``: the ``status_column`` cell as plain information (service type, provisioner ...), no severity.
    ``printer``: the server's own columns after Name (a custom resource's ``additionalPrinterColumns``), joined
    with `` · ``; a Status/Phase/State column gives the severity.
    ``none``: no status.
    """

    COLUMN = "column"
    READY = "ready"
    COMPLETIONS = "completions"
    CRONJOB = "cronjob"
    TEXT = "text"
    PRINTER = "printer"
    NONE = "none"


class Category(StrEnum):
    """Where a kind appears in the tree."""

    TOP = "top"  # directly under the context (Nodes, Namespaces)
    CLUSTER = "Cluster resources"
    WORKLOADS = "Workloads"
    NETWORK = "Network"
    CONFIG = "Config"
    STORAGE = "Storage"
    EVENTS = "Events"
    ACCESS = "Access control"
    OTHER = "Other"
    CUSTOM = "Custom resources"


@dataclass(frozen=True)
class Kind:
    """One resource kind.

    Attributes:
        key: Stable id, the plural for built-ins (``pods``) and ``plural.group`` for custom resources.
        kind: The Kubernetes kind (``Pod``).
        group: API group, ``""`` for the core group.
        version: API version (``v1``).
        plural: The resource name in URLs (``pods``).
        namespaced: Whether objects live in namespaces.
        category: Tree category.
        label: Plural display label (``Pods``).
        ttl: The cache TTL class.
        icon: Icon file stem under ``resources/icons``.
        status_rule: How Status is derived (see :class:`StatusRule`).
        status_column: Table column holding the status (for ``column``/``text``).
        ready_column: Table column holding "ready/total" or the ready count.
        desired_column: Table column holding the desired count, when ready is a bare number.
        restarts_column: Table column holding restarts.
        children: What expanding one object shows, as (child kind, how it is found): ``("replicasets", "owner")``
            → the ReplicaSets whose ownerReferences name it, ``("pods", "selector")`` → the pods its selector
            matches, ``("persistentvolumes", "volume")`` → the volume a claim is bound to (these three are
            relations, found among the child kind's cached list: see ``model/children.py``'s ``RELATIONS``),
            ``("pods", "node")`` → the pods on a node, ``("categories", "namespace")`` → the namespace's kind
            categories, ``("custom", "crd")`` → the custom resources a CRD defines, ``("containers", "pod")`` →
            the pod's containers (from one GET of the pod); ``None`` → a leaf.
        short_names: kubectl short names (used by the kubectl backend and the filter).
        wide_columns: Table columns of priority > 0 (``kubectl get -o wide``) the tree shows too, after the
            ones ``kubectl get`` prints (an Event's Count).
        seen_column: The Table column holding when an object last happened, as an age (``65s``, kubectl's
            "Last Seen"): its lists show newest first by it. ``None``: the server's order (etcd key order).
    """

    key: str
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    category: Category
    label: str
    ttl: TtlClass
    icon: str
    status_rule: StatusRule = StatusRule.NONE
    status_column: str | None = None
    ready_column: str | None = None
    desired_column: str | None = None
    restarts_column: str | None = None
    children: tuple[str, str] | None = None
    short_names: tuple[str, ...] = field(default=())
    wide_columns: tuple[str, ...] = field(default=())
    seen_column: str | None = None

    @property
    def api_version(self) -> str:
        """``v1`` or ``apps/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def kubectl_resource(self) -> str:
        """The resource argument kubectl understands unambiguously (``pods``, ``deployments.apps``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def list_path(self, namespace: str | None = None) -> str:
        """The REST path that lists this kind, cluster-wide or in ``namespace``."""
        # Every segment is percent-encoded: names come from the server (a namespace "?watch=1&x=" must not become
        # a query string, a name "../secrets/x" must not climb out of its collection; see kube/names.py).
        g, v, p = segment(self.group), segment(self.version), segment(self.plural)
        prefix = f"/apis/{g}/{v}" if self.group else f"/api/{v}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{segment(namespace)}/{p}"
        return f"{prefix}/{p}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        """The REST path of one object (every segment percent-encoded)."""
        return f"{self.list_path(namespace)}/{segment(name)}"


def _k(key: str, kind: str, group: str, version: str, namespaced: bool, category: Category, label: str,
       ttl: TtlClass, **kw: Any) -> Kind:
    return Kind(key=key, kind=kind, group=group, version=version, plural=key.split(".")[0],
                namespaced=namespaced, category=category, label=label, ttl=ttl,
                icon=kw.pop("icon", kind.lower()), **kw)


C, S, V, N = TtlClass.CLUSTER, TtlClass.STABLE, TtlClass.VOLATILE, TtlClass.NEVER
W = Category.WORKLOADS

BUILTIN_KINDS: tuple[Kind, ...] = (
    _k("nodes", "Node", "", "v1", False, Category.TOP, "Nodes", C, status_rule=StatusRule.COLUMN,
       status_column="Status", children=("pods", "node"), short_names=("no",)),
    _k("namespaces", "Namespace", "", "v1", False, Category.TOP, "Namespaces", C,
       status_rule=StatusRule.COLUMN, status_column="Status", children=("categories", "namespace"),
       short_names=("ns",)),
    _k("pods", "Pod", "", "v1", True, W, "Pods", V, status_rule=StatusRule.COLUMN, status_column="Status",
       ready_column="Ready", restarts_column="Restarts", children=("containers", "pod"), short_names=("po",)),
    _k("deployments", "Deployment", "apps", "v1", True, W, "Deployments", S, status_rule=StatusRule.READY,
       ready_column="Ready", children=("replicasets", "owner"), short_names=("deploy",)),
    _k("statefulsets", "StatefulSet", "apps", "v1", True, W, "StatefulSets", S, status_rule=StatusRule.READY,
       ready_column="Ready", children=("pods", "owner"), short_names=("sts",)),
    _k("daemonsets", "DaemonSet", "apps", "v1", True, W, "DaemonSets", S, status_rule=StatusRule.READY,
       ready_column="Ready", desired_column="Desired", children=("pods", "owner"), short_names=("ds",)),
    _k("replicasets", "ReplicaSet", "apps", "v1", True, W, "ReplicaSets", V, status_rule=StatusRule.READY,
       ready_column="Ready", desired_column="Desired", children=("pods", "owner"), short_names=("rs",)),
    _k("jobs", "Job", "batch", "v1", True, W, "Jobs", V, status_rule=StatusRule.COMPLETIONS,
       ready_column="Completions", children=("pods", "owner")),
    _k("cronjobs", "CronJob", "batch", "v1", True, W, "CronJobs", S, status_rule=StatusRule.CRONJOB,
       children=("jobs", "owner"), short_names=("cj",)),
    _k("services", "Service", "", "v1", True, Category.NETWORK, "Services", S, status_rule=StatusRule.TEXT,
       status_column="Type", children=("pods", "selector"), short_names=("svc",)),
    _k("ingresses", "Ingress", "networking.k8s.io", "v1", True, Category.NETWORK, "Ingresses", S,
       status_rule=StatusRule.TEXT, status_column="Hosts", short_names=("ing",)),
    _k("configmaps", "ConfigMap", "", "v1", True, Category.CONFIG, "ConfigMaps", S, short_names=("cm",)),
    _k("secrets", "Secret", "", "v1", True, Category.CONFIG, "Secrets", S, status_rule=StatusRule.TEXT,
       status_column="Type"),
    _k("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", True, Category.STORAGE,
       "PersistentVolumeClaims", S, icon="pvc", status_rule=StatusRule.COLUMN, status_column="Status",
       children=("persistentvolumes", "volume"), short_names=("pvc",)),
    _k("persistentvolumes", "PersistentVolume", "", "v1", False, Category.CLUSTER, "PersistentVolumes", C,
       icon="pv", status_rule=StatusRule.COLUMN, status_column="Status", short_names=("pv",)),
    _k("storageclasses", "StorageClass", "storage.k8s.io", "v1", False, Category.CLUSTER, "StorageClasses", C,
       status_rule=StatusRule.TEXT, status_column="Provisioner", short_names=("sc",)),
    _k("customresourcedefinitions", "CustomResourceDefinition", "apiextensions.k8s.io", "v1", False,
       Category.CLUSTER, "CustomResourceDefinitions", C, icon="crd", children=("custom", "crd"),
       short_names=("crd",)),
    _k("events", "Event", "", "v1", True, Category.EVENTS, "Events", N, status_rule=StatusRule.COLUMN,
       status_column="Type", short_names=("ev",), wide_columns=("Count",), seen_column="Last Seen"),
    _k("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v1", True, W,
       "HorizontalPodAutoscalers", S, icon="hpa", status_rule=StatusRule.TEXT, status_column="Targets",
       short_names=("hpa",)),
    _k("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1", True, W, "PodDisruptionBudgets", S,
       icon="pdb", status_rule=StatusRule.TEXT, status_column="Allowed Disruptions", short_names=("pdb",)),
    _k("endpoints", "Endpoints", "", "v1", True, Category.NETWORK, "Endpoints", V, short_names=("ep",)),
    _k("endpointslices", "EndpointSlice", "discovery.k8s.io", "v1", True, Category.NETWORK, "EndpointSlices", V,
       icon="endpoints"),
    _k("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", True, Category.NETWORK, "NetworkPolicies", S,
       icon="netpol", short_names=("netpol",)),
    _k("resourcequotas", "ResourceQuota", "", "v1", True, Category.CONFIG, "ResourceQuotas", S, icon="quota",
       short_names=("quota",)),
    _k("limitranges", "LimitRange", "", "v1", True, Category.CONFIG, "LimitRanges", S, icon="limits",
       short_names=("limits",)),
    _k("serviceaccounts", "ServiceAccount", "", "v1", True, Category.ACCESS, "ServiceAccounts", S, icon="sa",
       short_names=("sa",)),
    _k("roles", "Role", "rbac.authorization.k8s.io", "v1", True, Category.ACCESS, "Roles", S),
    _k("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", True, Category.ACCESS, "RoleBindings", S,
       status_rule=StatusRule.TEXT, status_column="Role"),
    _k("leases", "Lease", "coordination.k8s.io", "v1", True, Category.OTHER, "Leases", V,
       status_rule=StatusRule.TEXT, status_column="Holder"),
    _k("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", False, Category.ACCESS, "ClusterRoles", C,
       icon="role"),
    _k("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", False, Category.ACCESS,
       "ClusterRoleBindings", C, icon="rolebinding", status_rule=StatusRule.TEXT, status_column="Role"),
    _k("ingressclasses", "IngressClass", "networking.k8s.io", "v1", False, Category.OTHER, "IngressClasses", C,
       status_rule=StatusRule.TEXT, status_column="Controller"),
    _k("priorityclasses", "PriorityClass", "scheduling.k8s.io", "v1", False, Category.OTHER, "PriorityClasses", C,
       status_rule=StatusRule.TEXT, status_column="Value", short_names=("pc",)),
)

KINDS: dict[str, Kind] = {k.key: k for k in BUILTIN_KINDS}

#: Kind → the kinds whose lists a write to it changes (its controllers create, replace or delete those).
AFFECTS: dict[str, tuple[str, ...]] = {
    "deployments": ("replicasets", "pods"),
    "replicasets": ("pods",),
    "statefulsets": ("pods", "persistentvolumeclaims"),
    "daemonsets": ("pods",),
    "jobs": ("pods",),
    "cronjobs": ("jobs", "pods"),
    "nodes": ("pods",),
}

#: Categories under a namespace, in display order, with their kinds in display order.
NAMESPACE_CATEGORIES: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (Category.WORKLOADS, ("pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs",
                          "horizontalpodautoscalers", "poddisruptionbudgets")),
    (Category.NETWORK, ("services", "ingresses", "endpoints", "endpointslices", "networkpolicies")),
    (Category.CONFIG, ("configmaps", "secrets", "resourcequotas", "limitranges")),
    (Category.STORAGE, ("persistentvolumeclaims",)),
    (Category.ACCESS, ("serviceaccounts", "roles", "rolebindings")),
    (Category.OTHER, ("leases",)),
)

#: Kinds listed under "Cluster resources", in display order (counted as soon as the context opens).
CLUSTER_RESOURCE_KINDS: tuple[str, ...] = ("persistentvolumes", "storageclasses", "customresourcedefinitions")

#: Sub-folders of "Cluster resources", counted only when opened (the context's first load stays as small as it was).
CLUSTER_FOLDERS: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (Category.ACCESS, ("clusterroles", "clusterrolebindings")),
    (Category.OTHER, ("ingressclasses", "priorityclasses")),
)


def builtin_for(group: str, plural: str) -> Kind | None:
    """The built-in kind served as ``plural`` in ``group``, or ``None``."""
    k = KINDS.get(plural)
    return k if k is not None and k.group == group else None


def shadowed(group: str, plural: str) -> bool:
    """Whether a served resource repeats a built-in under another group (``events.events.k8s.io``, the
    ``pods`` of ``metrics.k8s.io``): the built-in row already shows those objects."""
    k = KINDS.get(plural)
    return k is not None and k.group != group


def discovered_kind(group: str, version: str, plural: str, kind_name: str, namespaced: bool,
                    short_names: tuple[str, ...] = ()) -> Kind:
    """A :class:`Kind` for a served resource the table does not know: listed under "Custom resources" (or under
    "Other" for a Kubernetes API group), labelled by its plural, with the server's Table columns."""
    k8s = not group or "." not in group or group.endswith(".k8s.io")
    return Kind(key=f"{plural}.{group}" if group else plural, kind=kind_name, group=group, version=version,
                plural=plural, namespaced=namespaced, category=Category.OTHER if k8s else Category.CUSTOM,
                label=plural, ttl=TtlClass.STABLE, icon="custom", status_rule=StatusRule.PRINTER,
                short_names=short_names)


def kind(key: str) -> Kind:
    """The built-in kind ``key`` (``pods``); raises KeyError for unknown keys."""
    return KINDS[key]


def kind_from_crd(crd: dict[str, Any]) -> Kind | None:
    """A :class:`Kind` for the custom resource a CRD object (plain dict) defines, or ``None`` if unusable.

    Uses the storage version if it is served, else the first served version.
    """
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    plural = names.get("plural")
    if not group or not plural:
        return None
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not versions and spec.get("version"):
        versions = [{"name": spec["version"], "storage": True}]
    if not versions:
        return None
    version = next((v for v in versions if v.get("storage")), versions[0])["name"]
    key = f"{plural}.{group}"
    return Kind(key=key, kind=names.get("kind", plural), group=group, version=version, plural=plural,
                namespaced=spec.get("scope", "Namespaced") == "Namespaced", category=Category.CUSTOM,
                label=plural, ttl=TtlClass.STABLE, icon="custom",
                status_rule=StatusRule.NONE, short_names=tuple(names.get("shortNames") or ()))
