"""The official kubernetes Python client against kube9-sim, for every kubeconfig context."""

from __future__ import annotations

import json

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kube9_desktop.sim.process import SimProcess

# Must match the ``sim`` fixture in conftest.py.
SIM_PODS, SIM_NAMESPACES, SIM_NODES = 300, 12, 5


def api_client(sim: SimProcess, context: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=sim.kubeconfig, context=context)


def test_admin_lists_pods_nodes_namespaces(sim: SimProcess) -> None:
    v1 = client.CoreV1Api(api_client(sim, "sim-admin"))
    pods = v1.list_pod_for_all_namespaces()
    assert len(pods.items) == SIM_PODS
    assert int(pods.metadata.resource_version) > 0
    assert all(p.metadata.owner_references for p in pods.items)
    nodes = v1.list_node()
    assert [n.metadata.name for n in nodes.items] == [f"node-{i}" for i in range(1, SIM_NODES + 1)]
    assert nodes.items[0].status.node_info.kubelet_version == "v1.19.0"
    assert "node-role.kubernetes.io/control-plane" in nodes.items[0].metadata.labels
    names = [n.metadata.name for n in v1.list_namespace().items]
    assert len(names) == SIM_NAMESPACES
    assert {"default", "kube-system", "team-a", "team-b"} <= set(names)


def test_admin_typed_apis_for_every_kind(sim: SimProcess) -> None:
    c = api_client(sim, "sim-admin")
    apps, core = client.AppsV1Api(c), client.CoreV1Api(c)
    deps = apps.list_deployment_for_all_namespaces().items
    assert deps and all(d.spec.selector.match_labels["app"] == d.metadata.name for d in deps)
    rs = apps.list_replica_set_for_all_namespaces().items
    assert {r.metadata.owner_references[0].name for r in rs} == {d.metadata.name for d in deps}
    assert apps.list_stateful_set_for_all_namespaces().items
    ds = apps.list_daemon_set_for_all_namespaces().items
    assert ds[0].status.desired_number_scheduled == SIM_NODES
    assert client.BatchV1Api(c).list_job_for_all_namespaces().items
    assert client.NetworkingV1Api(c).list_ingress_for_all_namespaces().items
    assert client.StorageV1Api(c).list_storage_class().items
    assert core.list_persistent_volume().items
    secrets = core.list_namespaced_secret("team-a").items
    assert secrets and all(s.data for s in secrets)
    assert core.list_event_for_all_namespaces().items
    widgets = client.CustomObjectsApi(c).list_cluster_custom_object("example.com", "v1", "widgets")
    assert widgets["items"] and widgets["items"][0]["kind"] == "Widget"
    crd = client.ApiextensionsV1Api(c).read_custom_resource_definition("widgets.example.com")
    assert crd.spec.names.kind == "Widget"


def test_cert_context_is_admin(sim: SimProcess) -> None:
    v1 = client.CoreV1Api(api_client(sim, "sim-cert"))
    assert len(v1.list_namespace().items) == SIM_NAMESPACES
    assert len(v1.list_node().items) == SIM_NODES


def test_viewer_rbac(sim: SimProcess) -> None:
    v1 = client.CoreV1Api(api_client(sim, "sim-viewer"))
    pods = v1.list_namespaced_pod("team-a").items
    assert pods and all(p.metadata.namespace == "team-a" for p in pods)
    assert v1.read_namespace("team-a").metadata.name == "team-a"
    assert client.AppsV1Api(api_client(sim, "sim-viewer")).list_namespaced_deployment("team-a").items
    with pytest.raises(ApiException) as e:
        v1.list_node()
    assert e.value.status == 403
    assert json.loads(e.value.body)["message"] == (
        'nodes is forbidden: User "viewer" cannot list resource "nodes" in API group "" at the cluster scope'
    )
    with pytest.raises(ApiException) as e:
        v1.list_namespaced_pod("kube-system")
    assert e.value.status == 403
    assert json.loads(e.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods is forbidden: User "viewer" cannot list resource "pods" in API group "" in the namespace '
        '"kube-system"',
        "reason": "Forbidden",
        "details": {"kind": "pods"},
        "code": 403,
    }
    with pytest.raises(ApiException) as e:
        v1.list_namespaced_secret("team-a")
    assert e.value.status == 403
    with pytest.raises(ApiException) as e:
        v1.list_namespace()
    assert e.value.status == 403


def test_badtoken_is_401(sim: SimProcess) -> None:
    v1 = client.CoreV1Api(api_client(sim, "sim-badtoken"))
    with pytest.raises(ApiException) as e:
        v1.list_namespace()
    assert e.value.status == 401
    assert '"reason":"Unauthorized"' in e.value.body


def test_down_is_connection_error(sim: SimProcess) -> None:
    c = api_client(sim, "sim-down")
    c.configuration.retries = 0
    v1 = client.CoreV1Api(c)
    with pytest.raises(urllib3.exceptions.HTTPError):
        v1.list_namespace(_request_timeout=3)
