"""Reading a Rancher cluster's nodes and waiting for hosts to register (module_utils/rancher_nodes.py), through
RancherClient against the Rancher API fixture (tests/fixtures/rancher_api.py)."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.http_api import JsonApiClient
from ansible_collections.netboot.coreos.plugins.module_utils.rancher_nodes import RancherWaitError, rancher_node_info
from rancher_api import RancherAPI


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(JsonApiClient, "backoff", 0.01)


@pytest.fixture
def api():
    with RancherAPI(tls=True, page_size=2) as server:
        server.add_cluster("prod")
        yield server


def params(api, **extra):
    return dict(dict(url=api.url, api_token=api.api_token, access_key=None, secret_key=None, validate_certs=True,
                     ca_path=api.ca_file, timeout=5, retries=1, cluster="prod", hostnames=[], wait=False,
                     wait_timeout=60, wait_delay=10), **extra)


def test_lists_every_page_with_roles(api):
    cluster = api.clusters[0]["id"]
    for index in range(3):
        api.register_node(cluster, "coreos%d" % index)
    api.register_node(cluster, "cp", roles=("etcd", "controlplane"))
    changed, result = rancher_node_info(params(api))
    assert changed is False and result["cluster_id"] == cluster and result["missing"] == []
    assert [(n["hostname"], n["roles"]) for n in result["nodes"]] == [
        ("coreos0", ["worker"]), ("coreos1", ["worker"]), ("coreos2", ["worker"]), ("cp", ["etcd", "controlplane"])]
    assert len([p for _m, p, _a in api.requests if p.startswith("/v3/nodes")]) == 2  # two pages of two


def test_wait_polls_until_every_host_registered(api):
    cluster = api.clusters[0]["id"]
    sleeps = []

    def agent_joins(seconds):
        sleeps.append(seconds)
        api.register_node(cluster, "coreos%d" % len(sleeps))

    _changed, result = rancher_node_info(params(api, hostnames=["coreos1", "coreos2"], wait=True, wait_delay=3),
                                         sleep=agent_joins)
    assert sleeps == [3, 3] and result["polls"] == 3 and result["missing"] == []


def test_wait_timeout_names_the_missing_hosts(api):
    api.register_node(api.clusters[0]["id"], "coreos1")
    clock = iter([0, 5, 11])
    with pytest.raises(RancherWaitError) as error:
        rancher_node_info(params(api, hostnames=["coreos1", "coreos2"], wait=True, wait_timeout=10, wait_delay=5),
                          sleep=lambda _s: None, clock=lambda: next(clock))
    assert error.value.msg == (
        "1 of 2 hosts did not register in Rancher cluster prod (%s) within 10s: coreos2; registered: coreos1. "
        "Check the nodes' consoles (the rancher-join unit) or raise wait_timeout" % api.clusters[0]["id"])


def test_without_wait_the_missing_hosts_are_reported(api):
    _changed, result = rancher_node_info(params(api, hostnames=["coreos7"]))
    assert result["missing"] == ["coreos7"] and result["polls"] == 1


def test_unknown_cluster_lists_the_clusters(api):
    with pytest.raises(NotFoundError) as error:
        rancher_node_info(params(api, cluster="staging"))
    assert error.value.msg.startswith("Rancher cluster 'staging' not found in %s; available: prod" % api.url)


def test_bad_wait_settings(api):
    with pytest.raises(ValidationError) as error:
        rancher_node_info(params(api, wait_delay=0))
    assert error.value.msg == "wait_timeout must be 0 or more and wait_delay more than 0 (got wait_timeout=60, wait_delay=0)"
