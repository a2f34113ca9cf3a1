"""KubernetesClient against the Kubernetes API behind the loopback Rancher fixture's proxy (tests/fixtures/rancher_api.py)."""

import base64
import os
import socket
import stat

import pytest
import yaml

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import (
    KubernetesAPIError, KubernetesAuthError, KubernetesClient, KubernetesConflictError, KubernetesConnectionError,
    KubernetesNotFoundError, KubernetesTooManyRequestsError, quantity)
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import RancherClient
from rancher_api import RancherAPI


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(KubernetesClient, "backoff", 0.01)


@pytest.fixture
def api():
    with RancherAPI() as server:
        cluster = server.add_cluster("prod")
        for index in range(5):
            server.add_kube_node(cluster["id"], "prod-w%d" % index)
        yield server


def proxied(server, token=None, retries=1):
    rancher = RancherClient(server.url, api_token=token or server.api_token, timeout=5, retries=retries)
    return KubernetesClient.through_rancher(rancher, server.clusters[0]["id"])


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_list_follows_continue_through_rancher_proxy(api):
    client = proxied(api)
    names = [n["metadata"]["name"] for n in client.list("/api/v1/nodes", limit=2)]
    assert names == ["prod-w%d" % i for i in range(5)]
    pages = [path for method, path, authed in api.requests if "/api/v1/nodes" in path]
    assert len(pages) == 3 and all(p.startswith("/k8s/clusters/%s/api/v1/nodes?" % api.clusters[0]["id"]) for p in pages)
    assert "continue=" not in pages[0] and "continue=" in pages[1] and "continue=" in pages[2]
    assert all(authed for _m, _p, authed in api.requests)


def test_cordon_and_uncordon_patch_the_node(api):
    client = proxied(api)
    kube = api.kube(api.clusters[0]["id"])
    before = kube.nodes["prod-w1"]["metadata"]["resourceVersion"]
    node = client.cordon("prod-w1")
    assert node["spec"]["unschedulable"] is True and kube.nodes["prod-w1"]["spec"]["unschedulable"] is True
    assert node["metadata"]["resourceVersion"] != before
    client.cordon("prod-w1", unschedulable=False)
    assert kube.nodes["prod-w1"]["spec"]["unschedulable"] is False
    client.patch("/api/v1/nodes/prod-w1", {"metadata": {"annotations": {"netboot.coreos/x": "1"}}})
    assert kube.nodes["prod-w1"]["metadata"]["annotations"] == {"netboot.coreos/x": "1"}
    assert kube.nodes["prod-w1"]["metadata"]["labels"]["kubernetes.io/hostname"] == "prod-w1"


def test_eviction_goes_unless_a_pod_disruption_budget_refuses(api):
    client = proxied(api)
    kube = api.kube(api.clusters[0]["id"])
    kube.add_pod("free", node="prod-w1")
    kube.add_pod("guarded", node="prod-w1", labels={"app": "db"})
    kube.add_pdb("db", {"app": "db"}, disruptions_allowed=0)
    client.evict("default", "free")
    assert ("default", "free") not in kube.pods
    with pytest.raises(KubernetesTooManyRequestsError) as err:
        client.evict("default", "guarded")
    assert err.value.details["status"] == 429
    assert err.value.msg == ("Kubernetes API of cluster %s through Rancher %s answered POST "
                             "/api/v1/namespaces/default/pods/guarded/eviction with HTTP 429: Cannot evict pod as it "
                             "would violate the pod's disruption budget." % (api.clusters[0]["id"], api.url))
    assert ("default", "guarded") in kube.pods
    assert kube.evictions == [("default", "free", True), ("default", "guarded", False)]


def test_pods_by_field_selector_and_node_delete(api):
    client = proxied(api)
    kube = api.kube(api.clusters[0]["id"])
    kube.add_pod("a", node="prod-w1")
    kube.add_pod("b", node="prod-w2", namespace="kube-system")
    kube.add_pod("waiting", unschedulable_reason="0/5 nodes are available: 5 Insufficient memory.")
    on_w1 = client.list("/api/v1/pods", {"fieldSelector": "spec.nodeName=prod-w1"})
    assert [p["metadata"]["name"] for p in on_w1] == ["a"]
    pending = client.list("/api/v1/pods", {"fieldSelector": "status.phase=Pending"})
    assert [p["metadata"]["name"] for p in pending] == ["waiting"]
    assert pending[0]["status"]["conditions"][0]["reason"] == "Unschedulable"
    assert [p["metadata"]["name"] for p in client.list("/api/v1/namespaces/kube-system/pods")] == ["b"]
    client.delete("/api/v1/nodes/prod-w4")
    assert "prod-w4" not in kube.nodes
    with pytest.raises(KubernetesNotFoundError, match=r"answered GET /api/v1/nodes/prod-w4 with HTTP 404: "
                                                      r'nodes "prod-w4" not found$'):
        client.get("/api/v1/nodes/prod-w4")


def test_node_metrics_and_metrics_server_absent(api):
    client = proxied(api)
    kube = api.kube(api.clusters[0]["id"])
    kube.set_usage("prod-w0", "1500m", "6Gi")
    metrics = client.list("/apis/metrics.k8s.io/v1beta1/nodes")
    usage = dict((m["metadata"]["name"], m["usage"]) for m in metrics)
    assert quantity(usage["prod-w0"]["cpu"]) == 1.5 and quantity(usage["prod-w0"]["memory"]) == 6 * 2 ** 30
    kube.metrics = "absent"
    with pytest.raises(KubernetesNotFoundError) as err:
        client.list("/apis/metrics.k8s.io/v1beta1/nodes")
    assert err.value.details["status"] == 404


def test_stale_resource_version_conflicts(api):
    client = proxied(api)
    client.post("/api/v1/namespaces", {"metadata": {"name": "netboot-coreos"}})
    created = client.post("/api/v1/namespaces/netboot-coreos/configmaps",
                          {"metadata": {"name": "autoscale"}, "data": {"samples": "[]"}})
    version = created["metadata"]["resourceVersion"]
    first = client.put("/api/v1/namespaces/netboot-coreos/configmaps/autoscale",
                       {"metadata": {"name": "autoscale", "resourceVersion": version}, "data": {"samples": "[1]"}})
    assert first["metadata"]["resourceVersion"] != version
    with pytest.raises(KubernetesConflictError, match="the object has been modified"):
        client.put("/api/v1/namespaces/netboot-coreos/configmaps/autoscale",
                   {"metadata": {"name": "autoscale", "resourceVersion": version}, "data": {"samples": "[2]"}})
    assert client.get("/api/v1/namespaces/netboot-coreos/configmaps/autoscale")["data"] == {"samples": "[1]"}
    with pytest.raises(KubernetesConflictError, match='configmaps "autoscale" already exists'):
        client.post("/api/v1/namespaces/netboot-coreos/configmaps", {"metadata": {"name": "autoscale"}})


def test_rejected_token_named_without_the_token(api):
    wrong = "token-zzzzz:" + "x" * 54
    with pytest.raises(KubernetesAuthError) as err:
        proxied(api, token=wrong).list("/api/v1/nodes")
    assert err.value.msg == ("Kubernetes API of cluster %s through Rancher %s rejected the api_token (RANCHER_TOKEN) "
                             "for GET /api/v1/nodes?limit=500 (HTTP 401: must authenticate): check that it is valid "
                             "and not expired" % (api.clusters[0]["id"], api.url))
    assert wrong not in err.value.msg


def test_forbidden_names_the_call(api):
    api.forbidden.add(r"/api/v1/nodes/prod-w0$")
    with pytest.raises(KubernetesAuthError, match=r"refused DELETE /api/v1/nodes/prod-w0 for the api_token "
                                                  r"\(RANCHER_TOKEN\) \(HTTP 403: .*\): the credential is valid but its "
                                                  r"RBAC role does not allow this$"):
        proxied(api).delete("/api/v1/nodes/prod-w0")
    assert "prod-w0" in api.kube(api.clusters[0]["id"]).nodes


def test_unknown_cluster_and_server_errors(api):
    rancher = RancherClient(api.url, api_token=api.api_token, timeout=5, retries=1)
    with pytest.raises(KubernetesNotFoundError, match='HTTP 404: clusters.management.cattle.io "c-nope" not found'):
        KubernetesClient.through_rancher(rancher, "c-nope").get("/api/v1/nodes")
    api.fault(r"/api/v1/nodes$", status=503, times=2)
    with pytest.raises(KubernetesAPIError, match=r"answered GET /api/v1/nodes\?limit=500 with HTTP 503 after 2 "
                                                 r"attempts: injected fault$"):
        proxied(api).list("/api/v1/nodes")
    api.fault(r"/api/v1/nodes$", status=503, times=1)
    assert len(proxied(api).list("/api/v1/nodes")) == 5  # one 5xx is retried


def test_unreachable_rancher_is_a_connection_error():
    port = closed_port()
    rancher = RancherClient("http://127.0.0.1:%d" % port, api_token="token-a:b", timeout=2, retries=0)
    with pytest.raises(KubernetesConnectionError) as err:
        KubernetesClient.through_rancher(rancher, "c-abc12").list("/api/v1/nodes")
    assert err.value.msg.startswith("cannot connect to Kubernetes API of cluster c-abc12 through Rancher "
                                    "http://127.0.0.1:%d: " % port)
    assert "token-a:b" not in err.value.msg


def test_machines_of_a_v2prov_cluster_delete_their_node():
    with RancherAPI() as api:
        cluster = api.add_cluster("edge", "v2prov")
        api.add_kube_node(cluster["id"], "edge-cp", roles=("etcd", "controlplane"))
        api.add_kube_node(cluster["id"], "edge-w1")
        kube = api.kube(cluster["id"])
        assert kube.nodes["edge-cp"]["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true"
        rancher = RancherClient(api.url, api_token=api.api_token, timeout=5, retries=0)
        machines = rancher.collection("/v1/cluster.x-k8s.io.machines")
        worker = [m for m in machines if m["status"]["nodeRef"]["name"] == "edge-w1"][0]
        rancher.request("DELETE", "/v1/cluster.x-k8s.io.machines/%s" % worker["id"])
        assert sorted(kube.nodes) == ["edge-cp"] and [n["nodeName"] for n in api.nodes] == ["edge-cp"]


def write_kubeconfig(tmp_path, server, user, cluster_extra=None, context="lab"):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "lab", "cluster": dict({"server": server}, **(cluster_extra or {}))}],
        "users": [{"name": "admin", "user": user}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "admin"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_kubeconfig_with_inline_ca_and_token_verifies_tls(tmp_path):
    with RancherAPI(tls=True) as api:
        cluster = api.add_cluster("prod")
        api.add_kube_node(cluster["id"], "prod-w0")
        server = "%s/k8s/clusters/%s" % (api.url, cluster["id"])
        ca_data = base64.b64encode(open(api.ca_file, "rb").read()).decode()
        path = write_kubeconfig(tmp_path, server, {"token": api.api_token}, {"certificate-authority-data": ca_data})
        client = KubernetesClient.from_kubeconfig(path, timeout=5, retries=0)
        assert [n["metadata"]["name"] for n in client.list("/api/v1/nodes")] == ["prod-w0"]
        assert stat.S_IMODE(os.stat(client.ca_path).st_mode) == 0o600
        assert client.label == "Kubernetes API %s" % server
        # without the CA the server's certificate is refused
        bare = KubernetesClient.from_kubeconfig(write_kubeconfig(tmp_path, server, {"token": api.api_token}),
                                                timeout=5, retries=0)
        with pytest.raises(KubernetesConnectionError, match="^TLS verification of Kubernetes API %s failed" % server):
            bare.list("/api/v1/nodes")


def test_kubeconfig_client_certificate_files_are_relative_to_it(tmp_path):
    (tmp_path / "admin.crt").write_text("CERT")
    path = write_kubeconfig(tmp_path, "https://10.0.0.5:6443",
                            {"client-certificate": "admin.crt", "client-key-data": base64.b64encode(b"KEY").decode()})
    client = KubernetesClient.from_kubeconfig(path)
    assert client.client_cert == str(tmp_path / "admin.crt")
    assert open(client.client_key).read() == "KEY" and "Authorization" not in client.headers


def test_kubeconfig_errors_name_what_exists(tmp_path):
    path = write_kubeconfig(tmp_path, "https://10.0.0.5:6443", {"token": "t"})
    with pytest.raises(ValidationError, match="^kubeconfig %s has no context named 'other'; it has: lab$" % path):
        KubernetesClient.from_kubeconfig(path, context="other")
    execs = write_kubeconfig(tmp_path, "https://10.0.0.5:6443", {"exec": {"command": "aws"}})
    with pytest.raises(ValidationError, match="user 'admin' authenticates with exec, which this collection does not run"):
        KubernetesClient.from_kubeconfig(execs)
    with pytest.raises(ValidationError, match="cannot be read"):
        KubernetesClient.from_kubeconfig(str(tmp_path / "missing"))
    bad = write_kubeconfig(tmp_path, "10.0.0.5:6443", {"token": "t"})
    with pytest.raises(ValidationError, match="^Kubernetes API server '10.0.0.5:6443' is not a URL"):
        KubernetesClient.from_kubeconfig(bad)


def test_from_params_needs_a_way_in(api):
    with pytest.raises(ValidationError, match="^no way to the cluster: give kubeconfig"):
        KubernetesClient.from_params({"url": api.url, "api_token": api.api_token})
    client = KubernetesClient.from_params({"url": api.url, "api_token": api.api_token, "cluster": "prod",
                                           "timeout": 5, "retries": 0})
    assert client.url == "%s/k8s/clusters/%s" % (api.url, api.clusters[0]["id"])


@pytest.mark.parametrize("text, value", [("250m", 0.25), ("2", 2.0), ("1500000000n", 1.5), ("512Mi", 512 * 2 ** 20),
                                         ("1G", 1e9), ("16Gi", 16 * 2 ** 30), (3, 3.0), ("1e3", 1000.0),
                                         ("100k", 1e5), ("8Ki", 8192.0)])
def test_quantity(text, value):
    assert quantity(text) == value


@pytest.mark.parametrize("bad", ["", "1.5.3Gi", "ten", "5Q", None])
def test_bad_quantity_named(bad):
    with pytest.raises(ValidationError, match="is not a Kubernetes quantity"):
        quantity(bad)
