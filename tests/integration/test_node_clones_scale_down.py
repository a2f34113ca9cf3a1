"""Safe scale-down through the scale and decommission playbooks: the lab vCenter simulator for the VMs, the
Rancher API fixture (tests/fixtures/rancher_api.py, a test server of the documented Rancher and Kubernetes API
subset) for the cluster. Leaving nodes are drained (cordon, evictions) and removed from Rancher before their VM
is deleted; a PodDisruptionBudget that refuses stops the run with nothing deleted."""

import os

import pytest

from conftest import REPO, run_playbook
from integration.test_vmware_node_clones import Lab, _summary_actions, role_task  # pylint: disable=import-error
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from rancher_api import RancherAPI

pytestmark = pytest.mark.vcsim

SCALE = os.path.join(REPO, "playbooks", "scale.yml")
DECOMMISSION = os.path.join(REPO, "playbooks", "decommission.yml")
DRAIN = "netboot.coreos.node_clones : Drain the leaving nodes and remove them from Rancher"


@pytest.fixture
def lab(vcsim):
    with VCenterClient.from_params(vcsim) as client:
        yield Lab(vcsim, client)


@pytest.fixture
def rancher():
    with RancherAPI() as api:
        yield api


def swapped(uuid):
    """The BIOS UUID as Linux reports it on VM hardware before version 13 (first three fields byte-swapped)."""
    parts = uuid.split("-")
    flip = ["".join(reversed([p[i:i + 2] for i in range(0, len(p), 2)])) for p in parts[:3]]
    return "-".join(flip + parts[3:])


def test_scale_down_drains_removes_from_rancher_then_deletes_and_a_pdb_stops_it(lab, rancher):
    cluster = rancher.add_cluster("sd")
    kube = rancher.kube(cluster["id"])

    def extra(**more):
        return lab.playbook_vars("sd", rancher_url=rancher.url, rancher_api_token=rancher.api_token,
                                 rancher_cluster="sd", **more)

    up = run_playbook(SCALE, extra(scale_node_count=4))
    assert up.rc == 0, up.failure_messages() or up.stderr[-2000:]
    assert _summary_actions(up) == {"cloned": ["sd-node%02d" % i for i in range(1, 5)]}
    vms = lab.vms()
    for index in (1, 2, 3):  # the agents joined under the planned host names
        rancher.add_kube_node(cluster["id"], "sd-node%02d" % index)
        kube.add_pod("app-%d" % index, node="sd-node%02d" % index, labels={"app": "web"})
    # node04 registered under another name: it is found by its VM's BIOS UUID
    rancher.add_kube_node(cluster["id"], "renamed-host")
    kube.nodes["renamed-host"]["status"]["nodeInfo"]["systemUUID"] = swapped(vms["sd-node04"]["uuid"])
    kube.add_pod("app-4", node="renamed-host", labels={"app": "batch"})

    predicted = run_playbook(SCALE, extra(scale_node_count=3), check=True)
    assert predicted.rc == 0, predicted.failure_messages()
    assert role_task(predicted, "Drain the leaving nodes and remove them from Rancher")[0]["nodes"][0]["evicted"] == [
        "default/app-4"]
    assert "renamed-host" in kube.nodes and not kube.nodes["renamed-host"]["spec"].get("unschedulable")

    down = run_playbook(SCALE, extra(scale_node_count=3))
    assert down.rc == 0, down.failure_messages() or down.stderr[-2000:]
    [drained] = down.task_results(DRAIN)
    assert [(n["name"], n["kubernetes_node"], n["action"], n["evicted"]) for n in drained["nodes"]] == [
        ("sd-node04", "renamed-host", "removed", ["default/app-4"])]
    assert _summary_actions(down) == {"unchanged": ["sd-node01", "sd-node02", "sd-node03"], "deleted": ["sd-node04"]}
    assert sorted(lab.managed("sd")) == ["sd-node01", "sd-node02", "sd-node03"]
    assert "renamed-host" not in kube.nodes and len(rancher.nodes) == 3
    # the drain ran before the VM was deleted: the eviction is in the API's log, the VM read shows it gone
    assert kube.evictions == [("default", "app-4", True)]

    kube.add_pdb("web", {"app": "web"}, disruptions_allowed=0)
    blocked = run_playbook(SCALE, extra(scale_node_count=1, node_clones_drain_timeout=5))
    assert blocked.rc != 0
    message = blocked.failure_messages()[-1]
    assert message.startswith("evicting pod default/app-2 from node sd-node02 was refused (HTTP 429, a "
                              "PodDisruptionBudget allows no disruption now): the scale-down stopped; sd-node02, "
                              "sd-node03 uncordoned, nothing removed from Rancher and no VM deleted"), message
    assert sorted(lab.managed("sd")) == ["sd-node01", "sd-node02", "sd-node03"]
    assert not any(node["spec"].get("unschedulable") for node in kube.nodes.values())
    assert len(rancher.nodes) == 3 and ("default", "app-3") in kube.pods
    assert role_task(blocked, "Clone, power and remove the node VMs") == []  # no VM was touched

    # -e node_clones_drain=false (a string, as typed) turns the drain off
    undrained = run_playbook(DECOMMISSION, extra(decommission_node_names="sd-node03", node_clones_drain="false"))
    assert undrained.rc == 0, undrained.failure_messages()
    assert undrained.task_results(DRAIN)[0]["skipped"] is True
    assert sorted(lab.managed("sd")) == ["sd-node01", "sd-node02"]


def test_decommission_drains_and_leaves_a_foreign_vm_alone(lab, rancher):
    cluster = rancher.add_cluster("dc")
    extra = lab.playbook_vars("dc", rancher_url=rancher.url, rancher_api_token=rancher.api_token,
                              rancher_cluster="dc", scale_node_count=2)
    up = run_playbook(SCALE, extra)
    assert up.rc == 0, up.failure_messages() or up.stderr[-2000:]
    rancher.add_kube_node(cluster["id"], "dc-node02")
    lab.clone_unmanaged("dc-node09", power_on=True)
    run = run_playbook(DECOMMISSION, dict(extra, decommission_node_names="dc-node02,dc-node09"))
    assert run.rc == 0, run.failure_messages()
    [drained] = run.task_results(DRAIN)
    assert [(n["name"], n["action"]) for n in drained["nodes"]] == [("dc-node02", "removed")]
    summary = role_task(run, "Show each node's name, MAC, IP, power state and action")[0]["msg"]
    assert summary[2].split(None, 4)[0] == "dc-node09"
    assert summary[2].endswith("poweredOn   not managed, left alone"), summary
    assert sorted(lab.managed("dc")) == ["dc-node01"] and "dc-node09" in lab.vms() and rancher.nodes == []


@pytest.mark.parametrize("typed, kept", [("false", ["pr-node01", "pr-node02"]), ("true", ["pr-node01"])])
def test_prune_typed_on_the_command_line_is_a_boolean(lab, typed, kept):
    assert run_playbook(SCALE, lab.playbook_vars("pr", scale_node_count=2)).rc == 0
    nodes = os.path.join(REPO, "playbooks", "nodes.yml")
    run = run_playbook(nodes, lab.playbook_vars("pr", coreos_node_count=1, node_clones_prune=typed))
    assert run.rc == 0, run.failure_messages()
    assert sorted(lab.managed("pr")) == kept


def test_pruned_nodes_drain_through_a_rancher_with_a_private_ca(lab):
    with RancherAPI(tls=True) as rancher:  # its CA is only in rancher_ca_path, not in the system trust store
        cluster = rancher.add_cluster("ca")
        assert run_playbook(SCALE, lab.playbook_vars("ca", scale_node_count=2)).rc == 0
        rancher.add_kube_node(cluster["id"], "ca-node02")
        nodes = os.path.join(REPO, "playbooks", "nodes.yml")
        extra = lab.playbook_vars("ca", coreos_node_count=1, node_clones_prune=True, rancher_url=rancher.url,
                                  rancher_api_token=rancher.api_token, rancher_cluster="ca")
        untrusted = run_playbook(nodes, extra)
        assert untrusted.rc != 0 and "TLS verification of Rancher" in " ".join(untrusted.failure_messages())
        assert sorted(lab.managed("ca")) == ["ca-node01", "ca-node02"]
        run = run_playbook(nodes, dict(extra, rancher_ca_path=rancher.ca_file))
        assert run.rc == 0, run.failure_messages()
        assert [(n["name"], n["action"]) for n in run.task_results(DRAIN)[0]["nodes"]] == [("ca-node02", "removed")]
        assert sorted(lab.managed("ca")) == ["ca-node01"] and rancher.nodes == []
