"""The resource types the sim serves, and the discovery documents derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One servable resource (e.g. ``apps/v1 deployments``)."""

    name: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = ""
    subresources: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = field(default=())
    #: Non-default verbs; ("create",) marks a create-only "review" resource that stores nothing.
    verbs: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        """Whether this is a CustomResourceDefinition-backed resource."""
        return self.group == "example.com" or self.group.endswith(".example.com")

    @property
    def api_version(self) -> str:
        """``apiVersion`` of the objects (``v1`` or ``group/version``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        """Kind of a list of these objects."""
        return self.kind + "List"

    @property
    def prefix(self) -> str:
        """URL prefix of the group/version."""
        return f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"

    def self_link(self, namespace: str | None, name: str | None = None) -> str:
        """The ``selfLink`` of a list (name None) or an object."""
        base = self.prefix
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.name}"
        return f"{base}/{name}" if name else base


_SCALE = ("scale", "autoscaling", "v1", "Scale", ("get", "patch", "update"))

RESOURCES: list[ResourceType] = [
    ResourceType("configmaps", "ConfigMap", "", "v1", True, ("cm",)),
    ResourceType("events", "Event", "", "v1", True, ("ev",)),
    ResourceType("namespaces", "Namespace", "", "v1", False, ("ns",)),
    ResourceType("nodes", "Node", "", "v1", False, ("no",)),
    ResourceType("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", True, ("pvc",)),
    ResourceType("persistentvolumes", "PersistentVolume", "", "v1", False, ("pv",)),
    ResourceType(
        "pods",
        "Pod",
        "",
        "v1",
        True,
        ("po",),
        ("all",),
        subresources=(
            ("eviction", "policy", "v1beta1", "Eviction", ("create",)),
            ("log", "", "", "Pod", ("get",)),
            ("exec", "", "", "PodExecOptions", ("create", "get")),
            ("attach", "", "", "PodAttachOptions", ("create", "get")),
            ("portforward", "", "", "PodPortForwardOptions", ("create", "get")),
        ),
    ),
    ResourceType("secrets", "Secret", "", "v1", True),
    ResourceType("services", "Service", "", "v1", True, ("svc",), ("all",)),
    ResourceType("daemonsets", "DaemonSet", "apps", "v1", True, ("ds",), ("all",)),
    ResourceType("deployments", "Deployment", "apps", "v1", True, ("deploy",), ("all",), subresources=(_SCALE,)),
    ResourceType("replicasets", "ReplicaSet", "apps", "v1", True, ("rs",), ("all",), subresources=(_SCALE,)),
    ResourceType("statefulsets", "StatefulSet", "apps", "v1", True, ("sts",), ("all",), subresources=(_SCALE,)),
    ResourceType("jobs", "Job", "batch", "v1", True, (), ("all",)),
    ResourceType("cronjobs", "CronJob", "batch", "v1beta1", True, ("cj",), ("all",)),
    ResourceType("ingresses", "Ingress", "networking.k8s.io", "v1", True, ("ing",)),
    ResourceType("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1beta1", True, ("pdb",)),
    ResourceType("storageclasses", "StorageClass", "storage.k8s.io", "v1", False, ("sc",)),
    # The same Event objects as core v1 (a converted view, served by handlers/events.py).
    ResourceType("events", "Event", "events.k8s.io", "v1", True, ("ev",)),
    ResourceType(
        "customresourcedefinitions", "CustomResourceDefinition", "apiextensions.k8s.io", "v1", False, ("crd", "crds")
    ),
    ResourceType("widgets", "Widget", "example.com", "v1", True, (), (), "widget"),
    # Served at two versions (v1 preferred and stored); both list the same objects.
    ResourceType("backups", "Backup", "stable.example.com", "v1", True, ("bk",), (), "backup"),
    ResourceType("backups", "Backup", "stable.example.com", "v1beta1", True, ("bk",), (), "backup"),
    ResourceType("clusterpolicies", "ClusterPolicy", "policy.example.com", "v1", False, ("cpol",), (), "clusterpolicy"),
    # Nine printer columns kubectl prints (and one more with -o wide): wider than a built-in kind's.
    ResourceType("databases", "Database", "stable.example.com", "v1", True, ("db",), (), "database"),
    # The rest of a v1.19 cluster's everyday kinds (objects from sim/more_objects.py).
    ResourceType("serviceaccounts", "ServiceAccount", "", "v1", True, ("sa",)),
    ResourceType("endpoints", "Endpoints", "", "v1", True, ("ep",)),
    ResourceType("resourcequotas", "ResourceQuota", "", "v1", True, ("quota",)),
    ResourceType("limitranges", "LimitRange", "", "v1", True, ("limits",)),
    ResourceType("roles", "Role", "rbac.authorization.k8s.io", "v1", True),
    ResourceType("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", True),
    ResourceType("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", False),
    ResourceType("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", False),
    ResourceType("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", True, ("netpol",)),
    ResourceType("ingressclasses", "IngressClass", "networking.k8s.io", "v1", False),
    ResourceType("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v1", True, ("hpa",), ("all",)),
    ResourceType("endpointslices", "EndpointSlice", "discovery.k8s.io", "v1beta1", True),
    ResourceType("leases", "Lease", "coordination.k8s.io", "v1", True),
    ResourceType("priorityclasses", "PriorityClass", "scheduling.k8s.io", "v1", False, ("pc",)),
    # The aggregator's registrations (sim/apiservices.py): local groups and metrics-server's, with availability.
    ResourceType("apiservices", "APIService", "apiregistration.k8s.io", "v1", False, (), ("api-extensions",)),
    # Access reviews let clients (kubectl auth can-i, the GUI) ask what they may do without trial and error.
    ResourceType(
        "selfsubjectaccessreviews", "SelfSubjectAccessReview", "authorization.k8s.io", "v1", False, verbs=("create",)
    ),
    ResourceType(
        "selfsubjectrulesreviews", "SelfSubjectRulesReview", "authorization.k8s.io", "v1", False, verbs=("create",)
    ),
]

#: Lookup by (group, version, resource name).
BY_PATH: dict[tuple[str, str, str], ResourceType] = {(r.group, r.version, r.name): r for r in RESOURCES}
#: Lookup by resource name (the first type of a name wins: ``events`` is the core one).
BY_NAME: dict[str, ResourceType] = {r.name: r for r in reversed(RESOURCES)}


def group_versions() -> dict[str, list[str]]:
    """Served versions per non-core group, in first-seen order."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in out.setdefault(r.group, []):
            out[r.group].append(r.version)
    return out


def api_versions_doc(port: int) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}],
    }


def api_group_list_doc() -> dict[str, Any]:
    """``GET /apis``."""
    groups = []
    for group, versions in group_versions().items():
        vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group_doc(group: str) -> dict[str, Any] | None:
    """``GET /apis/{group}``."""
    versions = group_versions().get(group)
    if not versions:
        return None
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vs, "preferredVersion": vs[0]}


def resource_list_doc(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/{group}/{version}`` (legacy discovery)."""
    resources: list[dict[str, Any]] = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        entry: dict[str, Any] = {
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs) if r.verbs else _RW,
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub, sgroup, sversion, skind, verbs in r.subresources:
            sentry: dict[str, Any] = {"name": f"{r.name}/{sub}", "singularName": "", "namespaced": r.namespaced}
            if sgroup:
                sentry["group"] = sgroup
                sentry["version"] = sversion
            sentry["kind"] = skind
            sentry["verbs"] = list(verbs)
            resources.append(sentry)
    if not resources:
        return None
    doc: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        doc["apiVersion"] = "v1"
    doc["groupVersion"] = f"{group}/{version}" if group else version
    doc["resources"] = resources
    return doc


def _aggregated_resource(r: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.name,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular or r.kind.lower(),
        "verbs": list(r.verbs) if r.verbs else _RW,
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subs = []
    for sub, sgroup, sversion, skind, verbs in r.subresources:
        sentry: dict[str, Any] = {"subresource": sub, "verbs": list(verbs)}
        sentry["responseKind"] = {"group": sgroup, "version": sversion, "kind": skind}
        subs.append(sentry)
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated_doc(core: bool, api_version: str, extra_groups: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``GET /api`` (``core``) or ``/apis`` as an ``APIGroupDiscoveryList`` (aggregated discovery, Kubernetes
    1.26+): every group with its versions, preferred first, each with its resources and their subresources.

    Args:
        core: The core group (``/api``) rather than the named groups (``/apis``).
        api_version: ``apidiscovery.k8s.io/v2`` or ``.../v2beta1`` (the document is the same shape).
        extra_groups: Items to append (an aggregated API server's group, like metrics.k8s.io).
    """
    items = []
    groups = {"": ["v1"]} if core else group_versions()
    for group, versions in groups.items():
        vs = []
        for v in versions:
            res = [_aggregated_resource(r) for r in RESOURCES if r.group == group and r.version == v]
            vs.append({"version": v, "resources": res, "freshness": "Current"})
        item: dict[str, Any] = {"metadata": {"name": group} if group else {}, "versions": vs}
        items.append(item)
    items.extend(extra_groups or [])
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}
