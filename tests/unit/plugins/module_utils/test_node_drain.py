"""Taking leaving nodes out of the cluster (module_utils/node_drain.py) against the Rancher API fixture and the
Kubernetes API behind its proxy (tests/fixtures/rancher_api.py, a test server of the documented API subset)."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.http_api import JsonApiClient
from ansible_collections.netboot.coreos.plugins.module_utils.node_drain import (
    DrainError, find_kube_node, remove_cluster_nodes, uuid_forms)
from rancher_api import RancherAPI

VM_UUID = "4211d4b6-8f3e-4c7f-9d7e-3d3f2a0e1b07"
SWAPPED = "b6d41142-3e8f-7f4c-9d7e-3d3f2a0e1b07"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(JsonApiClient, "backoff", 0.01)


def cluster_with(api, name="prod", provisioning="rke1"):
    """Workers w1..w3 with a pod each, an etcd/control plane node cp1, a DaemonSet pod on w3."""
    cluster = api.add_cluster(name, provisioning=provisioning)
    kube = api.kube(cluster["id"])
    for worker in ("w1", "w2", "w3"):
        api.add_kube_node(cluster["id"], worker)
        kube.add_pod("web-%s" % worker, node=worker, labels={"app": "web"})
    api.add_kube_node(cluster["id"], "cp1", roles=("etcd", "controlplane"))
    kube.add_pod("logs-w3", node="w3", namespace="kube-system")["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "logs", "uid": "1"}]
    return cluster, kube


def params(api, nodes, **extra):
    return dict(dict(url=api.url, api_token=api.api_token, cluster="prod", validate_certs=True, ca_path=None,
                     timeout=5, retries=1, kubeconfig=None, kubeconfig_context=None, nodes=nodes,
                     drain_timeout=5, access_key=None, secret_key=None), **extra)


def changes(api):
    return [(method, path.split("?")[0]) for method, path, _authed in api.requests if method != "GET"]


def test_uuid_forms_cover_both_smbios_byte_orders():
    assert uuid_forms(VM_UUID.upper()) == {VM_UUID, SWAPPED}
    assert uuid_forms(None) == set()


def test_kube_node_found_by_uuid_then_hostname_then_vm_name():
    nodes = [{"metadata": {"name": "coreos21"}, "status": {"nodeInfo": {"systemUUID": SWAPPED.upper()}}},
             {"metadata": {"name": "coreos22"}, "status": {"nodeInfo": {"systemUUID": "other"}}},
             {"metadata": {"name": "prod-node03"}, "status": {}}]
    assert find_kube_node({"name": "prod-node01", "uuid": VM_UUID}, nodes)["metadata"]["name"] == "coreos21"
    assert find_kube_node({"name": "prod-node02", "hostname": "coreos22"}, nodes)["metadata"]["name"] == "coreos22"
    assert find_kube_node({"name": "prod-node03", "hostname": None}, nodes)["metadata"]["name"] == "prod-node03"
    assert find_kube_node({"name": "prod-node04", "hostname": "coreos24"}, nodes) is None


def test_drain_evicts_then_removes_from_rancher_in_order():
    with RancherAPI() as api:
        cluster, kube = cluster_with(api)
        kube.nodes["w3"]["status"]["nodeInfo"]["systemUUID"] = SWAPPED  # found by its VM's BIOS UUID
        changed, result = remove_cluster_nodes(params(api, [
            {"name": "prod-node02", "hostname": "w2"}, {"name": "prod-node03", "uuid": VM_UUID},
            {"name": "prod-node09"}]), check_mode=False)
        assert changed is True
        assert result["nodes"] == [
            {"name": "prod-node02", "kubernetes_node": "w2", "rancher_node": result["nodes"][0]["rancher_node"],
             "action": "removed", "evicted": ["default/web-w2"]},
            {"name": "prod-node03", "kubernetes_node": "w3", "rancher_node": result["nodes"][1]["rancher_node"],
             "action": "removed", "evicted": ["default/web-w3"]},
            {"name": "prod-node09", "kubernetes_node": None, "rancher_node": None, "action": "not_in_cluster",
             "evicted": []}]
        prefix = "/k8s/clusters/%s" % cluster["id"]
        done = changes(api)
        # both cordoned before any eviction, both evicted before anything is removed from Rancher
        assert done[:2] == [("PATCH", prefix + "/api/v1/nodes/w2"), ("PATCH", prefix + "/api/v1/nodes/w3")]
        assert done[2:4] == [("POST", prefix + "/api/v1/namespaces/default/pods/web-w2/eviction"),
                             ("POST", prefix + "/api/v1/namespaces/default/pods/web-w3/eviction")]
        assert [m for m, p in done[4:]] == ["DELETE", "DELETE"] and all(p.startswith("/v3/nodes/") for _m, p in done[4:])
        assert sorted(kube.nodes) == ["cp1", "w1"] and sorted(n["hostname"] for n in api.nodes) == ["cp1", "w1"]
        assert ("kube-system", "logs-w3") in kube.pods  # a DaemonSet's pod is not evicted
        assert ("default", "web-w1") in kube.pods


def test_v2prov_nodes_leave_through_their_machine():
    with RancherAPI() as api:
        cluster, kube = cluster_with(api, provisioning="v2prov")
        changed, _result = remove_cluster_nodes(params(api, [{"name": "prod-node01", "hostname": "w1"}]), False)
        assert changed is True
        deleted = [p for m, p in changes(api) if m == "DELETE"]
        assert len(deleted) == 1 and deleted[0].startswith("/v1/cluster.x-k8s.io.machines/fleet-default/")
        assert "w1" not in kube.nodes and all(m["status"]["nodeRef"]["name"] != "w1" for m in api.machines)


def test_a_pdb_that_refuses_stops_uncordons_and_deletes_nothing():
    with RancherAPI() as api:
        cluster, kube = cluster_with(api)
        kube.add_pdb("web", {"app": "web"}, disruptions_allowed=1)  # one eviction allowed, the second refused
        with pytest.raises(DrainError) as error:
            remove_cluster_nodes(params(api, [{"name": "prod-node01", "hostname": "w1"},
                                              {"name": "prod-node02", "hostname": "w2"}]), check_mode=False)
        assert error.value.msg.startswith(
            "evicting pod default/web-w2 from node w2 was refused (HTTP 429, a PodDisruptionBudget allows no "
            "disruption now): the scale-down stopped; w1, w2 uncordoned, nothing removed from Rancher")
        assert not any(kube.nodes[n]["spec"].get("unschedulable") for n in ("w1", "w2"))
        assert sorted(kube.nodes) == ["cp1", "w1", "w2", "w3"] and len(api.nodes) == 4
        assert not [p for m, p in changes(api) if m == "DELETE"]


def test_control_plane_and_etcd_nodes_are_refused_before_any_change():
    with RancherAPI() as api:
        cluster_with(api)
        with pytest.raises(ValidationError) as error:
            remove_cluster_nodes(params(api, [{"name": "prod-node01", "hostname": "w1"},
                                              {"name": "prod-node04", "hostname": "cp1"},
                                              {"name": "prod-node05", "hostname": "x", "roles": ["etcd"]}]), False)
        assert error.value.msg == (
            "a scale-down never removes etcd or control plane nodes: prod-node04 (controlplane, etcd); "
            "prod-node05 (etcd); nothing was changed. Remove them by hand once the cluster no longer needs them, "
            "or choose other nodes")
        assert changes(api) == []


def test_check_mode_lists_the_evictions_and_changes_nothing():
    with RancherAPI() as api:
        cluster_with(api)
        changed, result = remove_cluster_nodes(params(api, [{"name": "prod-node03", "hostname": "w3"}]), True)
        assert changed is True and result["nodes"][0]["evicted"] == ["default/web-w3"]
        assert changes(api) == []


def test_pods_that_stay_stop_the_drain_after_the_timeout():
    with RancherAPI() as api:
        cluster, kube = cluster_with(api)
        api.fault(r"/pods/web-w1/eviction$", status=404, times=5)  # the eviction "succeeds" but the pod stays
        clock = iter(range(0, 1000, 3))
        with pytest.raises(DrainError) as error:
            remove_cluster_nodes(params(api, [{"name": "prod-node01", "hostname": "w1"}]), False,
                                 sleep=lambda _s: None, clock=lambda: next(clock))
        assert error.value.msg.startswith("pods still on the leaving nodes after 5s: default/web-w1 on w1")
        assert not kube.nodes["w1"]["spec"].get("unschedulable") and len(api.nodes) == 4


def test_no_way_to_the_cluster_is_a_clear_error():
    with pytest.raises(ValidationError) as error:
        remove_cluster_nodes(dict(url=None, cluster=None, kubeconfig=None, nodes=[{"name": "a"}], drain_timeout=5),
                             False)
    assert "no way to the cluster" in error.value.msg
