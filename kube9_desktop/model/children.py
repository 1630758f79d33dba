"""What expanding a node shows, as tables (Qt-free): the one place to add a new kind of child node.

Two kinds of expandable object, chosen by the kind's ``Kind.children`` mode (see :mod:`kube9_desktop.kube.kinds`):

* **Folders** (:data:`FOLDERS`): the object shows fixed child nodes at once — groups and lists, built here — and the
  loader prefetches every list among them for its count. A namespace is one (its categories). An Events folder, or a
  custom-resource folder per CRD group, is one more entry.
* **One list** (:data:`LIST_SOURCES`): the object's children are the rows of one list, found by an async resolver
  (the pods on a node, a CRD's objects).
* **Relations** (:data:`RELATIONS`): the object's children are some rows of the child kind's list in its namespace
  (a Deployment's ReplicaSets by ``ownerReferences``, a Service's pods by its selector, a claim's volume), picked
  by a predicate built from the owner's own row. That list is the one the namespace shows and the cache holds, so
  a drill-down under an opened namespace makes no request; otherwise it makes that one list, which is then cached.
* **Parts** (:data:`PARTS`): the object's children are pieces of the object itself, built from one GET of it when
  it is opened (a Pod's containers, with their states).

The loader looks the mode up here and never switches on kind names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from kube9_desktop.kube.containers import container_row, containers_of
from kube9_desktop.kube.kinds import (
    CLUSTER_FOLDERS,
    CLUSTER_RESOURCE_KINDS,
    KINDS,
    NAMESPACE_CATEGORIES,
    Category,
    Kind,
    TtlClass,
)
from kube9_desktop.kube.rows import ListRef, Row
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode, container_node, list_node
from kube9_desktop.model.pins import PINNED
from kube9_desktop.model.selectors import selector_labels, selector_of

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

#: The lists a context shows at its top, requested in parallel with ``/version`` when a context opens.
TOP_LIST_KINDS: tuple[str, ...] = ("nodes", "namespaces", *CLUSTER_RESOURCE_KINDS)

#: The note an object shows when its one list could not be named (a selector-less Service, an unknown CRD).
NO_LIST_NOTE = "Selects no pods (no selector)."

#: The note of a relation that names nothing, by how it is found (a claim not bound yet).
RELATION_NOTES: dict[str, str] = {"volume": "Not bound to a volume yet."}

#: Builds a folder's child nodes from the object node and the kinds its context serves (``None``: not known, use
#: the built-in table).
FolderBuilder = Callable[[TreeNode, "list[Kind] | None"], list[TreeNode]]
ListResolver = Callable[["KubeService", TreeNode], Awaitable[ListRef | None]]
#: Builds an object's parts (child nodes) from the object, fetched once when it is opened.
PartsBuilder = Callable[["KubeService", TreeNode], Awaitable[list[TreeNode]]]


#: The folder of lists across every namespace, under the context.
ALL_NAMESPACES = "All namespaces"
#: What it lists, in display order: each list is loaded only when opened (never counted ahead: 10,000 pods).
#: Every namespace's Events are the context's own Events row (one list, not two).
ALL_NAMESPACE_KINDS: tuple[str, ...] = ("pods", "deployments", "services")


def all_namespaces(context: str) -> TreeNode:
    """The "All namespaces" folder: Pods, Deployments and Services of every namespace, each one list (paged like
    any other) loaded when it is opened; a user who may not list one cluster-wide gets a note there. (Every
    namespace's Events: the context's Events row.)"""
    group = TreeNode(NodeType.GROUP, ALL_NAMESPACES, context=context, state=LoadState.LOADED)
    group.add_children([list_node(KINDS[k], context, None) for k in ALL_NAMESPACE_KINDS])
    return group


def pinned_group(context: str) -> TreeNode:
    """The "Pinned" group (the first row under a context with pins; its rows: :mod:`.pinned_rows`)."""
    return TreeNode(NodeType.GROUP, PINNED, context=context, state=LoadState.UNLOADED)


def is_pinned_group(node: TreeNode) -> bool:
    """Whether ``node`` is a context's "Pinned" group."""
    parent = node.parent
    return (node.type is NodeType.GROUP and node.label == PINNED and parent is not None
            and parent.type is NodeType.CONTEXT)


def context_children(context: str) -> list[TreeNode]:
    """A context's top rows: Nodes, Namespaces, "All namespaces" (its lists loaded when opened), the "Cluster
    resources" folder and the cluster's Events.

    "Cluster resources" holds the lists counted at once (:data:`CLUSTER_RESOURCE_KINDS`), then folders counted
    when opened: Access control, Other, and Custom resources (filled from discovery when opened). Events (every
    namespace's) are listed only when opened, never for a count (:func:`on_demand`): a cluster's events can be many
    thousands, and the context's first load would list them all each time.
    """
    cluster = TreeNode(NodeType.GROUP, "Cluster resources", context=context, state=LoadState.LOADED)
    cluster.add_children([list_node(KINDS[k], context, None) for k in CLUSTER_RESOURCE_KINDS])
    for category, keys in CLUSTER_FOLDERS:
        g = TreeNode(NodeType.GROUP, category.value, context=context, state=LoadState.UNLOADED)
        g.add_children([list_node(KINDS[k], context, None) for k in keys])
        cluster.add_children([g])
    cluster.add_children([TreeNode(NodeType.GROUP, Category.CUSTOM.value, context=context,
                                   state=LoadState.UNLOADED)])
    return [list_node(KINDS["nodes"], context, None), list_node(KINDS["namespaces"], context, None),
            all_namespaces(context), cluster, list_node(KINDS["events"], context, None)]


def by_api_group(kinds: list[Kind], context: str, namespace: str | None) -> list[TreeNode]:
    """One folder per API group (``stable.example.com``) holding a list per kind, groups and kinds sorted."""
    groups: dict[str, list[Kind]] = {}
    for k in kinds:
        groups.setdefault(k.group or "core", []).append(k)
    out = []
    for name in sorted(groups):
        g = TreeNode(NodeType.GROUP, name, context=context, namespace=namespace, state=LoadState.LOADED)
        g.add_children([list_node(k, context, namespace) for k in sorted(groups[name], key=lambda k: k.plural)])
        out.append(g)
    return out


def cluster_dynamic(node: TreeNode, kinds: list[Kind] | None) -> list[TreeNode]:
    """The children of a "Cluster resources" folder filled from discovery: its built-in lists the server serves,
    and the cluster-scoped kinds the table does not know (in "Other", or "Custom resources" by API group)."""
    known = {k.key: k for k in kinds} if kinds is not None else None
    category = next((c for c in Category if c.value == node.label), Category.OTHER)
    if category is Category.CUSTOM:  # every custom kind, namespaced ones across all namespaces
        return by_api_group([k for k in kinds or [] if k.category is category], node.context, None)
    extra = [k for k in (kinds or []) if not k.namespaced and k.category is category and k.key not in KINDS]
    # Fresh nodes (never the old ones again: views may hold indexes of the rows being replaced), at the served
    # version, without the built-ins the server does not serve.
    builtins = [c.kind for c in node.children if c.kind is not None]
    keep = builtins if known is None else [known[k.key] for k in builtins if k.key in known]
    return [list_node(k, node.context, None) for k in [*keep, *sorted(extra, key=lambda k: k.plural)]]


def namespace_folders(node: TreeNode, kinds: list[Kind] | None = None) -> list[TreeNode]:
    """A namespace's categories (Workloads, Config, ...), each with its lists, then Custom resources by API group
    (with the group's cluster-scoped kinds), then its Events.

    With ``kinds`` (what the context serves), kinds the server does not serve are left out, built-ins are listed
    at the served version, and namespaced kinds the table does not know are added ("Other" for Kubernetes API
    groups, "Custom resources" for the rest).
    """
    ns = node.row.name if node.row is not None else node.label
    ctx = node.context
    known = {k.key: k for k in kinds} if kinds is not None else None
    groups: list[TreeNode] = []
    for category, keys in NAMESPACE_CATEGORIES:
        ks = [KINDS[k] for k in keys] if known is None else [known[k] for k in keys if k in known]
        if category is Category.OTHER and kinds is not None:
            ks += sorted((k for k in kinds if k.namespaced and k.category is Category.OTHER and k.key not in KINDS),
                         key=lambda k: k.plural)
        if not ks:
            continue
        g = TreeNode(NodeType.GROUP, category.value, context=ctx, namespace=ns, state=LoadState.LOADED)
        g.add_children([list_node(k, ctx, ns) for k in ks])
        groups.append(g)
    # Cluster-scoped custom kinds too, beside the namespaced ones of their API group (an operator's Issuers and
    # ClusterIssuers side by side, as kubectl get -n shows both); their one cluster-wide list is shared (cached).
    custom = [k for k in kinds or [] if k.category is Category.CUSTOM and k.key not in KINDS]
    if custom:
        g = TreeNode(NodeType.GROUP, Category.CUSTOM.value, context=ctx, namespace=ns, state=LoadState.LOADED)
        g.add_children(by_api_group(custom, ctx, ns))
        groups.append(g)
    # The namespace's events: a list of its own (loaded when opened; never cached).
    groups.append(list_node(known.get("events", KINDS["events"]) if known else KINDS["events"], ctx, ns))
    return groups


async def pods_on_node(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The pods scheduled on a Node."""
    assert node.row is not None
    return ListRef(node.context, "pods", None, field_selector=f"spec.nodeName={node.row.name}")


async def pods_by_selector(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The pods a workload or Service selects (``None`` when it has no selector)."""
    assert node.kind is not None and node.row is not None
    obj = await svc.get(node.context, node.kind.key, node.row.namespace, node.row.name)
    sel = selector_of(obj)
    return ListRef(node.context, "pods", node.row.namespace, label_selector=sel) if sel else None


RowFilter = Callable[[Row], bool]


def by_owner(owner: Row) -> RowFilter | None:
    """The rows whose ``ownerReferences`` name ``owner`` (matched by uid, as the garbage collector does)."""
    uid = owner.uid
    return lambda r: uid in r.owners


def by_selector(owner: Row) -> RowFilter | None:
    """The rows whose labels the owner's selector matches (a Service's ``Selector`` cell; ``None``: no selector)."""
    want = selector_labels(owner.cells.get("Selector"))
    if want is None:
        return None
    items = tuple(want.items())
    return lambda r: all(r.labels.get(k) == v for k, v in items)


def by_volume(owner: Row) -> RowFilter | None:
    """The volume a claim is bound to (its ``Volume`` cell, ``spec.volumeName``; ``None``: not bound)."""
    volume = owner.cells.get("Volume") or ""
    if volume in ("", "<none>"):
        return None
    return lambda r: r.name == volume


#: How a relation's children are picked from the child kind's list, by the second part of ``Kind.children``
#: (``("replicasets", "owner")``): owner row → predicate over the child rows, ``None`` when it names none.
RELATIONS: dict[str, Callable[[Row], RowFilter | None]] = {
    "owner": by_owner,
    "selector": by_selector,
    "volume": by_volume,
}


def relation(kind: Kind | None) -> tuple[str, str] | None:
    """``(child kind, how)`` when objects of ``kind`` drill down to related objects (see :data:`RELATIONS`)."""
    mode = kind.children if kind is not None else None
    return mode if mode is not None and mode[1] in RELATIONS else None


async def related(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The list an owner's related objects are picked from; sets ``node.match`` to the predicate picking them.

    The list is the child kind's whole list in the owner's namespace (cluster-wide for a cluster-scoped child):
    the very list, and cache entry, the namespace shows. A Service row without a ``Selector`` cell (a server whose
    Table lacks it) falls back to asking the server for the pods its selector matches.
    """
    mode = relation(node.kind)
    assert mode is not None and node.row is not None
    child, how = mode
    if how == "selector" and "Selector" not in node.row.cells:
        node.match = None
        return await pods_by_selector(svc, node)
    match = RELATIONS[how](node.row)
    if match is None:
        return None
    namespaced = _namespaced(svc, node.context, child)
    node.match = match
    return ListRef(node.context, child, node.row.namespace if namespaced else None)


def _namespaced(svc: KubeService, context: str, key: str) -> bool:
    kind = KINDS.get(key)
    if kind is None:
        kind = svc.kind(context, key)
    return kind.namespaced


def no_list_note(node: TreeNode) -> str:
    """What an expandable object with nothing to list says (a selector-less Service, an unbound claim)."""
    mode = node.kind.children if node.kind is not None else None
    return RELATION_NOTES.get(mode[1], NO_LIST_NOTE) if mode is not None else NO_LIST_NOTE


async def crd_objects(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The objects of the custom resource a CRD defines (all namespaces)."""
    assert node.row is not None
    for k in await svc.custom_kinds(node.context):
        if k.key == node.row.name:
            return ListRef(node.context, k.key, None)
    return None


async def pod_containers(svc: KubeService, node: TreeNode) -> list[TreeNode]:
    """A Pod's containers (init, regular, ephemeral), each with its state, from one GET of the pod."""
    assert node.row is not None
    pod = await svc.get(node.context, "pods", node.row.namespace, node.row.name)
    return [container_node(container_row(c, pod), node.context) for c in containers_of(pod)]


#: ``Kind.children`` modes whose objects open as folders of fixed child nodes.
FOLDERS: dict[tuple[str, str], FolderBuilder] = {
    ("categories", "namespace"): namespace_folders,
}

#: ``Kind.children`` modes whose objects open as the rows of one list.
LIST_SOURCES: dict[tuple[str, str], ListResolver] = {
    ("pods", "node"): pods_on_node,
    ("custom", "crd"): crd_objects,
}


#: ``Kind.children`` modes whose objects open as their own parts.
PARTS: dict[tuple[str, str], PartsBuilder] = {
    ("containers", "pod"): pod_containers,
}


def fills_from_discovery(node: TreeNode) -> bool:
    """Whether ``node`` is a folder of "Cluster resources" whose children depend on what the server serves (they
    are settled by :func:`cluster_dynamic` when the folder is first opened)."""
    parent = node.parent
    return (node.type is NodeType.GROUP and node.namespace is None and parent is not None
            and parent.type is NodeType.GROUP and parent.label == "Cluster resources")


def never_cached(node: TreeNode) -> bool:
    """Whether ``node`` lists a never-cached kind (Events): fetched when opened, never just for a count (a count
    fetched ahead would be stale at once and cost a full list on every visit)."""
    return node.kind is not None and node.kind.ttl is TtlClass.NEVER


def across_namespaces(node: TreeNode) -> bool:
    """Whether ``node`` is a list of the "All namespaces" folder."""
    parent = node.parent
    return (node.type is NodeType.LIST and parent is not None and parent.type is NodeType.GROUP
            and parent.label == ALL_NAMESPACES and parent.parent is not None
            and parent.parent.type is NodeType.CONTEXT)


def opened_only(node: TreeNode) -> bool:
    """Whether ``node`` is a list loaded only when opened, never ahead for its count: a never-cached kind, or a
    list across all namespaces (10,000 pods are not fetched to show a number nobody asked for)."""
    return never_cached(node) or across_namespaces(node)


def forbidden_everywhere_note(node: TreeNode) -> str:
    """What a list across all namespaces says to a user who may not list its kind cluster-wide."""
    what = node.kind.label.lower() if node.kind is not None else "these objects"
    return f"You may not list {what} in all namespaces — open them per namespace under Namespaces"


def has_parts(node: TreeNode) -> bool:
    """Whether ``node`` is an object that opens as its own parts (see :data:`PARTS`)."""
    return node.type is NodeType.OBJECT and node.kind is not None and node.kind.children in PARTS


def on_demand(node: TreeNode) -> bool:
    """Whether ``node`` is opened only when someone opens it by name, never by "open everything to depth N": a
    never-cached list across all namespaces (the cluster's Events), a list of "All namespaces" (10,000 pods) or an
    object opening as parts (a GET per pod)."""
    return (never_cached(node) and node.namespace is None) or across_namespaces(node) or has_parts(node)


def is_folder(node: TreeNode) -> bool:
    """Whether ``node`` is an object that opens as a folder (see :data:`FOLDERS`)."""
    return node.type is NodeType.OBJECT and node.kind is not None and node.kind.children in FOLDERS


async def resolve_list(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The list an expandable object's children come from, or ``None`` when there is none (a relation also sets
    ``node.match``, see :func:`related`)."""
    if relation(node.kind) is not None:
        return await related(svc, node)
    mode = node.kind.children if node.kind is not None else None
    resolver = LIST_SOURCES.get(mode) if mode is not None else None
    return await resolver(svc, node) if resolver is not None else None


def picked(node: TreeNode, rows: list[Row]) -> list[Row]:
    """The rows of ``node.ref``'s list that are ``node``'s children (all of them unless it is a drill-down)."""
    match = node.match
    return rows if match is None else [r for r in rows if match(r)]


def tree_path(kind: Kind, namespace: str | None, name: str) -> tuple[str, ...]:
    """Where an object of ``kind`` shows in the tree (base labels below the context root), as the folders above
    build it: ``Namespaces/team-a/Workloads/Pods/web-1``, ``Cluster resources/Access control/ClusterRoles/admin``,
    ``Namespaces/team-a/Custom resources/stable.example.com/backups/db``."""
    if kind.category is Category.TOP:
        return (kind.label, name)
    if kind.namespaced and namespace:
        head: tuple[str, ...] = ("Namespaces", namespace)
        if kind.category is Category.EVENTS:
            return (*head, kind.label, name)
        if kind.category is Category.CUSTOM:
            return (*head, Category.CUSTOM.value, kind.group or "core", kind.label, name)
        return (*head, kind.category.value, kind.label, name)
    if kind.category is Category.CUSTOM:
        return ("Cluster resources", Category.CUSTOM.value, kind.group or "core", kind.label, name)
    if kind.key in CLUSTER_RESOURCE_KINDS:
        return ("Cluster resources", kind.label, name)
    return ("Cluster resources", kind.category.value, kind.label, name)
