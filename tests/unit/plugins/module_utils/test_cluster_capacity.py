"""read_capacity and the autoscale state against the Kubernetes API behind the loopback Rancher fixture."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.autoscale import AutoscaleState, autoscale
from ansible_collections.netboot.coreos.plugins.module_utils.cluster_capacity import (
    MetricsUnavailableError, read_capacity)
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import KubernetesClient
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import RancherClient
from rancher_api import RancherAPI

GIB = 2 ** 30
PLAN = [{"name": "prod-node01", "hostname": "coreos11", "roles": ["etcd", "controlplane", "worker"]},
        {"name": "prod-node02", "hostname": "coreos12", "roles": ["worker"]},
        {"name": "prod-node03", "hostname": "coreos13", "roles": ["worker"]}]


@pytest.fixture
def api():
    with RancherAPI() as server:
        cluster = server.add_cluster("prod")
        server.add_kube_node(cluster["id"], "coreos11", roles=("etcd", "controlplane", "worker"))
        server.add_kube_node(cluster["id"], "coreos12", cpu="4", memory="16Gi")
        server.add_kube_node(cluster["id"], "coreos13", cpu="8", memory="32Gi")
        server.add_kube_node(cluster["id"], "legacy1", cpu="2", memory="8Gi")  # not in the plan
        kube = server.kube(cluster["id"])
        kube.set_usage("coreos12", "3", "4Gi")
        kube.set_usage("coreos13", "2000m", "8Gi")
        kube.add_pod("web-1", node="coreos12", cpu="1500m", memory="1Gi")
        kube.add_pod("web-2", node="coreos12", cpu="500m", memory="1Gi")
        kube.add_pod("done", node="coreos13", cpu="4", memory="4Gi", phase="Succeeded")
        kube.add_pod("big", cpu="16", memory="1Gi", unschedulable_reason="0/4 nodes are available: 4 Insufficient cpu.")
        kube.add_pod("picky", unschedulable_reason="0/4 nodes are available: 4 node(s) didn't match node selector.")
        yield server


def client(server):
    rancher = RancherClient(server.url, api_token=server.api_token, timeout=5, retries=0)
    return KubernetesClient.through_rancher(rancher, server.clusters[0]["id"])


def test_per_node_use_requests_roles_and_management(api):
    capacity = read_capacity(client(api), PLAN)
    nodes = dict((n["name"], n) for n in capacity["nodes"])
    assert sorted(nodes) == ["coreos11", "coreos12", "coreos13", "legacy1"]
    w2 = nodes["coreos12"]
    assert w2["allocatable"] == {"cpu": 4.0, "memory": 16.0 * GIB}
    assert w2["used"] == {"cpu": 3.0, "memory": 4.0 * GIB} and w2["used_ratio"] == {"cpu": 0.75, "memory": 0.25}
    assert w2["requested"] == {"cpu": 2.0, "memory": 2.0 * GIB} and w2["pods"] == 2
    assert nodes["coreos13"]["requested"] == {"cpu": 0.0, "memory": 0.0}  # a Succeeded pod holds nothing
    assert (w2["managed"], w2["removable"], w2["plan_name"]) == (True, True, "prod-node02")
    assert nodes["coreos11"]["roles"] == ["controlplane", "etcd", "worker"] and not nodes["coreos11"]["removable"]
    assert (nodes["legacy1"]["managed"], nodes["legacy1"]["removable"]) == (False, False)
    assert capacity["managed"] == ["coreos11", "coreos12", "coreos13"] and capacity["removable"] == ["coreos12", "coreos13"]
    assert capacity["pending"] == [{"namespace": "default", "name": "big", "insufficient": ["cpu"],
                                    "requests": {"cpu": 16.0, "memory": 1.0 * GIB}}]
    totals = capacity["totals"]
    assert totals["nodes"] == 4 and totals["allocatable"]["cpu"] == 18.0
    assert totals["used_ratio"]["cpu"] == round(5.0 / 18, 4)


def test_cordoned_nodes_do_not_count_as_capacity(api):
    client(api).cordon("coreos13")
    capacity = read_capacity(client(api), PLAN)
    assert capacity["totals"]["nodes"] == 3 and capacity["totals"]["allocatable"]["cpu"] == 10.0


def test_metrics_server_absent_or_down_is_named(api):
    api.kube(api.clusters[0]["id"]).metrics = "absent"
    with pytest.raises(MetricsUnavailableError) as err:
        read_capacity(client(api), PLAN)
    assert err.value.msg == (
        "Kubernetes API of cluster %s through Rancher %s has no metrics.k8s.io API (GET "
        "/apis/metrics.k8s.io/v1beta1/nodes answered HTTP 404): install metrics-server "
        "(https://github.com/kubernetes-sigs/metrics-server), which autoscaling on CPU and memory use reads"
        % (api.clusters[0]["id"], api.url))
    api.kube(api.clusters[0]["id"]).metrics = "unavailable"
    with pytest.raises(MetricsUnavailableError, match="metrics-server does not answer \\(HTTP 503\\)"):
        read_capacity(client(api), PLAN)


def params(**extra):
    return dict(dict(cluster_name="prod", nodes=PLAN, min=1, max=5, step=1, high=0.75, low=0.3, samples=2,
                     cooldown=600, use_requests=True), **extra)


def test_samples_accumulate_in_the_configmap_and_a_change_clears_them(api):
    kube = api.kube(api.clusters[0]["id"])
    changed, first = autoscale(params(), 1000.0, client=client(api))
    assert changed is True and first["direction"] == "up" and first["rule"] == "1 pod pending for lack of cpu or memory"
    state = AutoscaleState(client(api), "autoscale-prod").load()
    assert state.samples == [] and state.last_change == 1000.0 and state.last_decision == first["line"]
    del kube.pods[("default", "big")]
    changed, second = autoscale(params(), 1100.0, client=client(api))
    assert changed is False and second["rule"] == "cooldown: last change 100s ago, 500s left"
    assert len(AutoscaleState(client(api), "autoscale-prod").load().samples) == 1
    assert kube.namespaces["netboot-coreos"] and ("netboot-coreos", "autoscale-prod") in kube.configmaps


def test_check_mode_records_nothing(api):
    changed, result = autoscale(params(), 1000.0, check_mode=True, client=client(api))
    assert changed is True and result["recorded"] is False
    assert "netboot-coreos" not in api.kube(api.clusters[0]["id"]).namespaces


def test_of_two_runs_at_once_one_records(api):
    autoscale(params(), 900.0, client=client(api))  # the state exists
    slow = AutoscaleState(client(api), "autoscale-prod").load()

    def reader(kube_client, plan):
        # the other run writes while this one is reading the cluster
        if reader.once:
            reader.once = False
            autoscale(params(), 2000.0, client=client(api))
        return read_capacity(kube_client, plan)
    reader.once = True
    changed, result = autoscale(params(), 2000.0, client=client(api), capacity_reader=reader)
    assert changed is False and result["raced"] is True and result["direction"] == "none"
    assert result["line"] == "autoscale: none 3 -> 3 (another run recorded a decision first; this one stands down)"
    assert AutoscaleState(client(api), "autoscale-prod").load().resource_version != slow.resource_version
