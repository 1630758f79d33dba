"""What expanding a node shows, as tables (Qt-free): the one place to add a new kind of child node.

Two kinds of expandable object, chosen by the kind's ``Kind.children`` mode (see :mod:`kube9_desktop.kube.kinds`):

* **Folders** (:data:`FOLDERS`): the object shows fixed child nodes at once — groups and lists, built here — and the
  loader prefetches every list among them for its count. A namespace is one (its categories). An Events folder, or a
  custom-resource folder per CRD group, is one more entry.
* **One list** (:data:`LIST_SOURCES`): the object's children are the rows of one list, found by an async resolver
  (a Deployment's pods by its selector, the pods on a node, a CRD's objects). An owner drill-down (a ReplicaSet's
  pods by ``ownerReferences``) is one more entry.

The loader looks the mode up here and never switches on kind names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from kube9_desktop.kube.kinds import CLUSTER_RESOURCE_KINDS, KINDS, NAMESPACE_CATEGORIES, TtlClass
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode, list_node
from kube9_desktop.model.selectors import selector_of

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

#: The lists a context shows at its top, requested in parallel with ``/version`` when a context opens.
TOP_LIST_KINDS: tuple[str, ...] = ("nodes", "namespaces", *CLUSTER_RESOURCE_KINDS)

#: The note an object shows when its one list could not be named (a selector-less Service, an unknown CRD).
NO_LIST_NOTE = "Selects no pods (no selector)."

FolderBuilder = Callable[[TreeNode], list[TreeNode]]
ListResolver = Callable[["KubeService", TreeNode], Awaitable[ListRef | None]]


def context_children(context: str) -> list[TreeNode]:
    """A context's top rows: Nodes, Namespaces and the "Cluster resources" folder (events are per namespace: a
    cluster-wide list here would be loaded by every depth-2 load, however large)."""
    cluster = TreeNode(NodeType.GROUP, "Cluster resources", context=context, state=LoadState.LOADED)
    cluster.add_children([list_node(KINDS[k], context, None) for k in CLUSTER_RESOURCE_KINDS])
    return [list_node(KINDS["nodes"], context, None), list_node(KINDS["namespaces"], context, None), cluster]


def namespace_folders(node: TreeNode) -> list[TreeNode]:
    """A namespace's categories (Workloads, Config, ...), each with its lists, then its Events."""
    ns = node.row.name if node.row is not None else node.label
    groups: list[TreeNode] = []
    for category, keys in NAMESPACE_CATEGORIES:
        g = TreeNode(NodeType.GROUP, category.value, context=node.context, namespace=ns, state=LoadState.LOADED)
        g.add_children([list_node(KINDS[k], node.context, ns) for k in keys])
        groups.append(g)
    # The namespace's events: a list of its own (loaded when opened; never cached).
    groups.append(list_node(KINDS["events"], node.context, ns))
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


async def crd_objects(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The objects of the custom resource a CRD defines (all namespaces)."""
    assert node.row is not None
    for k in await svc.custom_kinds(node.context):
        if k.key == node.row.name:
            return ListRef(node.context, k.key, None)
    return None


#: ``Kind.children`` modes whose objects open as folders of fixed child nodes.
FOLDERS: dict[tuple[str, str], FolderBuilder] = {
    ("categories", "namespace"): namespace_folders,
}

#: ``Kind.children`` modes whose objects open as the rows of one list.
LIST_SOURCES: dict[tuple[str, str], ListResolver] = {
    ("pods", "node"): pods_on_node,
    ("pods", "selector"): pods_by_selector,
    ("custom", "crd"): crd_objects,
}


def never_cached(node: TreeNode) -> bool:
    """Whether ``node`` lists a never-cached kind (Events): fetched when opened, never just for a count (a count
    fetched ahead would be stale at once and cost a full list on every visit)."""
    return node.kind is not None and node.kind.ttl is TtlClass.NEVER


def is_folder(node: TreeNode) -> bool:
    """Whether ``node`` is an object that opens as a folder (see :data:`FOLDERS`)."""
    return node.type is NodeType.OBJECT and node.kind is not None and node.kind.children in FOLDERS


async def resolve_list(svc: KubeService, node: TreeNode) -> ListRef | None:
    """The list an expandable object's children come from, or ``None`` when there is none."""
    mode = node.kind.children if node.kind is not None else None
    resolver = LIST_SOURCES.get(mode) if mode is not None else None
    return await resolver(svc, node) if resolver is not None else None
