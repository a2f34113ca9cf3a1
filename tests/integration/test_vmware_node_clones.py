"""vmware_node_clones, the node_clones role and the scale/decommission playbooks against the lab simulator.

Each test works in its own VM folder with its own template (a simulator VM cloned and marked as template),
so the tests are independent of each other and of the simulator's stock VMs.
"""

import os
import socket
import sys
import threading
import time
import uuid

import pytest
from pyVmomi import vim

from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import vm_record
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from conftest import REPO, run_module, run_playbook

pytestmark = pytest.mark.vcsim

SOURCE_VM = "DC0_C0_RP0_VM0"


class Lab:
    """A folder of its own with a template in it, and helpers to look at / tamper with its VMs."""

    def __init__(self, vcsim, client):
        self.vcsim = vcsim
        self.client = client
        self.dc = client.datacenter("DC0")
        self.folder_name = "nc-" + uuid.uuid4().hex[:8]
        self.folder = self.dc.vmFolder.CreateFolder(self.folder_name)
        self.pool = client.cluster(self.dc, "DC0_C0").resourcePool
        self.template_name = self.folder_name + "-template"
        self.template = self.clone_unmanaged(self.template_name, template=True)

    def clone_unmanaged(self, name, template=False, power_on=False):
        """A VM made by someone else: no ownership marker."""
        source = [r["obj"] for r in self.client.retrieve(vim.VirtualMachine, ["name"]) if r["name"] == SOURCE_VM][0]
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=self.pool), powerOn=False, template=template)
        vm = self.client.wait_for_task(source.CloneVM_Task(folder=self.folder, name=name, spec=spec), "clone")
        if power_on:
            self.client.wait_for_task(vm.PowerOnVM_Task(), "power on")
        return vm

    def vms(self):
        rows = self.client.retrieve(vim.VirtualMachine, ["name", "runtime.powerState", "config.template",
                                                         "config.extraConfig", "config.uuid",
                                                         "config.hardware.device"], self.folder)
        return {r["name"]: vm_record(r) for r in rows}

    def managed(self, cluster):
        return {name: vm for name, vm in self.vms().items() if vm["marker"] == cluster}

    def module_args(self, nodes, cluster, **extra):
        return dict(self.vcsim, datacenter="DC0", cluster="DC0_C0", folder=self.folder_name,
                    template=self.template_name, cluster_name=cluster, nodes=nodes, **extra)

    def playbook_vars(self, cluster, **extra):
        extra.setdefault("coreos_node_count", 0)  # the plan's description (tests give the plan or a scale count)
        return dict(vcenter_hostname=self.vcsim["hostname"], vcenter_port=self.vcsim["port"],
                    vcenter_username=self.vcsim["username"], vcenter_password=self.vcsim["password"],
                    vcenter_validate_certs=False, vcenter_datacenter="DC0", vcenter_cluster="DC0_C0",
                    vcenter_folder=self.folder_name, vmware_template_name=self.template_name,
                    coreos_cluster_name=cluster, coreos_node_name_format=cluster + "-node{index:02d}",
                    ansible_python_interpreter=sys.executable, **extra)


@pytest.fixture
def lab(vcsim):
    with VCenterClient.from_params(vcsim) as client:
        yield Lab(vcsim, client)


def plan(cluster, count, **kwargs):
    return build_node_plan(cluster_name=cluster, count=count, name_format=cluster + "-node{index:02d}", **kwargs)


def outcome(result):
    """What a run did (or, in check mode, would do) per node."""
    return [(n["name"], n["action"], n["mac"], n["power_state"]) for n in result["nodes"]]


def test_ten_nodes_created_with_planned_macs_rerun_unchanged(lab):
    nodes = plan("alpha", 10)
    args = lab.module_args(nodes, "alpha")

    predicted = run_module("vmware_node_clones", args, check_mode=True, diff=True)
    assert predicted.rc == 0, predicted.get("msg")
    assert predicted["changed"] is True
    assert [n["action"] for n in predicted["nodes"]] == ["cloned"] * 10
    assert predicted["diff"]["before"] == {n["name"]: "absent" for n in nodes}
    assert lab.managed("alpha") == {}  # check mode made nothing

    created = run_module("vmware_node_clones", args, diff=True)
    assert created.rc == 0, created.get("msg")
    assert created["diff"] == {"before": {n["name"]: "absent" for n in nodes},
                               "after": {n["name"]: "poweredOn" for n in nodes}}
    assert created["changed"] is True
    assert outcome(created) == outcome(predicted)
    assert created["summary"] == {"cloned": [n["name"] for n in nodes]}
    vms = lab.managed("alpha")
    assert sorted(vms) == [n["name"] for n in nodes]
    for node, reported in zip(nodes, created["nodes"]):
        vm = vms[node["name"]]
        assert vm["mac"] == node["mac"] == reported["mac"]
        assert vm["power_state"] == "poweredOn"
        assert (reported["moid"], reported["uuid"]) == (vm["moid"], vm["uuid"])
    assert lab.vms()[lab.template_name]["template"] is True  # the template is not touched

    for check_mode in (True, False):
        again = run_module("vmware_node_clones", args, check_mode=check_mode)
        assert again.rc == 0 and again["changed"] is False
        assert again["summary"] == {"unchanged": [n["name"] for n in nodes]}
        assert [n["moid"] for n in again["nodes"]] == [n["moid"] for n in created["nodes"]]


def test_name_taken_by_unmanaged_vm_fails_that_node_only_and_rerun_converges(lab):
    squatter = lab.clone_unmanaged("beta-node03")
    nodes = plan("beta", 5)
    args = lab.module_args(nodes, "beta")

    predicted = run_module("vmware_node_clones", args, check_mode=True)
    result = run_module("vmware_node_clones", args)
    for run in (predicted, result):
        assert run.rc == 1 and run["failed"] is True
        assert "Traceback" not in run.stderr
        assert run["msg"].startswith("1 of 5 nodes failed (beta-node03); the others converged and stay, rerun "
                                     "to retry: beta-node03: a VM named 'beta-node03' (%s) already exists in "
                                     "folder '%s' and is not managed by netboot.coreos"
                                     % (squatter._moId, lab.folder_name))
        assert run["summary"] == {"cloned": ["beta-node01", "beta-node02", "beta-node04", "beta-node05"],
                                  "failed": ["beta-node03"]}
    assert outcome(result) == outcome(predicted)
    assert result["changed"] is True
    assert sorted(lab.managed("beta")) == ["beta-node01", "beta-node02", "beta-node04", "beta-node05"]
    untouched = lab.vms()["beta-node03"]
    assert (untouched["marker"], untouched["power_state"], untouched["moid"]) == (None, "poweredOff",
                                                                                  squatter._moId)

    # the owner renames the VM: the rerun creates only the missing node, then everything is in place
    lab.client.wait_for_task(squatter.Rename_Task("manual-vm"), "rename")
    rerun = run_module("vmware_node_clones", args)
    assert rerun.rc == 0, rerun.get("msg")
    assert rerun["summary"] == {"cloned": ["beta-node03"],
                                "unchanged": ["beta-node01", "beta-node02", "beta-node04", "beta-node05"]}
    assert sorted(lab.managed("beta")) == [n["name"] for n in nodes]
    assert lab.vms()["manual-vm"]["marker"] is None
    assert run_module("vmware_node_clones", args)["changed"] is False


def test_power_states_and_absent_touch_only_managed_vms(lab):
    nodes = plan("gamma", 3)
    assert run_module("vmware_node_clones", lab.module_args(nodes, "gamma", state="present")).rc == 0
    assert {vm["power_state"] for vm in lab.managed("gamma").values()} == {"poweredOn"}
    foreign = lab.clone_unmanaged("gamma-node09", power_on=True)

    off = run_module("vmware_node_clones", lab.module_args(nodes, "gamma", state="poweredoff"))
    assert off["summary"] == {"powered_off": [n["name"] for n in nodes]}
    assert {vm["power_state"] for vm in lab.managed("gamma").values()} == {"poweredOff"}
    kept = run_module("vmware_node_clones", lab.module_args(nodes, "gamma", state="present"))
    assert kept["changed"] is False  # present keeps existing power states
    on = run_module("vmware_node_clones", lab.module_args(nodes[:1], "gamma", state="poweredon"))
    assert on["summary"] == {"powered_on": ["gamma-node01"]}

    gone = [{"name": n["name"]} for n in nodes] + [{"name": "gamma-node09"}]
    args = lab.module_args(gone, "gamma", state="absent")
    predicted = run_module("vmware_node_clones", args, check_mode=True)
    removed = run_module("vmware_node_clones", args)
    assert outcome(removed) == outcome(predicted)
    assert removed["summary"] == {"deleted": [n["name"] for n in nodes], "unchanged": ["gamma-node09"]}
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in removed.get("warnings", [])]
    assert "VM 'gamma-node09' (%s) is not managed by cluster 'gamma' and was left alone" % foreign._moId in warnings
    assert lab.managed("gamma") == {}
    assert lab.vms()["gamma-node09"]["power_state"] == "poweredOn"


@pytest.mark.parametrize("nodes, extra, message", [
    ([{"name": "n1", "mac": "00:50:56:40:00:01"}], {},
     "node 'n1': mac '00:50:56:40:00:01' is outside VMware's static range"),
    ([{"name": "n1"}], {}, "node 'n1' has no mac: give the records of the netboot.coreos.node_plan filter"),
    (None, {"template": "no-such-template"}, "template 'no-such-template' not found in datacenter 'DC0'; available:"),
    (None, {"parallel": 0}, "parallel must be 1 or more, got 0"),
])
def test_bad_input_is_one_line_and_changes_nothing(lab, nodes, extra, message):
    args = lab.module_args(nodes or plan("delta", 2), "delta")
    args.update(extra)
    result = run_module("vmware_node_clones", args)
    assert result.rc == 1 and message in result["msg"]
    assert "\n" not in result["msg"] and "Traceback" not in result.stderr
    assert lab.managed("delta") == {}


def role_task(run, name):
    return run.task_results("netboot.coreos.node_clones : " + name)


def _summary_actions(run):
    results = role_task(run, "Clone, power and remove the node VMs")
    assert len(results) == 1, run.stdout[-3000:]
    return results[0]["summary"]


def test_scale_playbook_up_and_down_removes_only_managed_vms(lab):
    scale = os.path.join(REPO, "playbooks", "scale.yml")
    names = ["eps-node%02d" % i for i in range(1, 13)]

    def converge(count, expected):
        extra = lab.playbook_vars("eps", scale_node_count=count)
        predicted = run_playbook(scale, extra, check=True)
        assert predicted.rc == 0, predicted.failure_messages() or predicted.stderr[-2000:]
        real = run_playbook(scale, extra)
        assert real.rc == 0, real.failure_messages() or real.stderr[-2000:]
        assert _summary_actions(real) == _summary_actions(predicted) == expected
        return real

    first = converge(10, {"cloned": names[:10]})
    summary = role_task(first, "Show each node's name, MAC, IP, power state and action")[0]["msg"]
    assert summary[0].split() == ["NODE", "MAC", "IP", "POWER", "ACTION"]
    assert summary[1].split()[0] == "eps-node01" and summary[1].split()[-1] == "cloned"
    again = run_playbook(scale, lab.playbook_vars("eps", scale_node_count=10))
    assert again.rc == 0 and again.stats["changed"] == 0

    lab.clone_unmanaged("eps-node11", power_on=True)  # matches the name pattern but is someone else's
    lab.clone_unmanaged("eps-node99", power_on=True)
    extra = lab.playbook_vars("eps", scale_node_count=12)
    failed = run_playbook(scale, extra)
    assert failed.rc != 0
    assert failed.failure_messages()[-1].startswith("1 of 12 nodes failed (eps-node11)")
    assert _summary_actions(failed) == {"cloned": ["eps-node12"], "unchanged": names[:10],
                                        "failed": ["eps-node11"]}
    lab.client.wait_for_task(lab.vms()["eps-node11"]["obj"].Rename_Task("someone-elses-vm"), "rename")
    converge(12, {"cloned": ["eps-node11"], "unchanged": names[:10] + ["eps-node12"]})
    assert sorted(lab.managed("eps")) == names

    converge(8, {"unchanged": names[:8], "deleted": names[8:]})
    assert sorted(lab.managed("eps")) == names[:8]
    vms = lab.vms()
    assert vms["eps-node99"]["power_state"] == "poweredOn" and vms["someone-elses-vm"]["power_state"] == "poweredOn"

    decommission = os.path.join(REPO, "playbooks", "decommission.yml")
    extra = lab.playbook_vars("eps", decommission_node_names="eps-node07, eps-node08,eps-node99")
    predicted = run_playbook(decommission, extra, check=True)
    real = run_playbook(decommission, extra)
    assert real.rc == 0, real.failure_messages()
    expected = {"deleted": ["eps-node07", "eps-node08"], "unchanged": ["eps-node99"]}
    assert _summary_actions(real) == _summary_actions(predicted) == expected
    assert sorted(lab.managed("eps")) == names[:6]
    assert "eps-node99" in lab.vms()

    missing = run_playbook(scale, lab.playbook_vars("eps"))
    assert missing.rc != 0 and "set scale_node_count" in " ".join(missing.failure_messages())


def _listen_later(address, delay, stop):
    """Open a TCP port after ``delay`` seconds, as a node's sshd does once the node booted from disk."""
    time.sleep(delay)
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(address)
        server.listen()
        stop.wait(60)


def test_role_waits_for_ssh_on_the_planned_ips(lab):
    nodes = plan("zeta", 2, ip_range="127.0.0.57-127.0.0.58", hostname_format="coreos{last_octet}")
    stop = threading.Event()
    listeners = [threading.Thread(target=_listen_later, args=((n["ip"], 22), 1.5, stop), daemon=True)
                 for n in nodes]
    for listener in listeners:
        listener.start()
    try:
        started = time.monotonic()
        run = run_playbook(os.path.join(REPO, "playbooks", "nodes.yml"),
                           lab.playbook_vars("zeta", coreos_node_plan=nodes, node_clones_wait_for="ssh"))
        assert run.rc == 0, run.failure_messages()
        assert time.monotonic() - started > 1.5
        waited = role_task(run, "Wait until each new node answers on SSH (installed and booted from disk)")
        assert len(waited) == 1 and [r["item"]["ip"] for r in waited[0]["results"]] == ["127.0.0.57", "127.0.0.58"]
    finally:
        stop.set()


def test_role_waits_until_new_nodes_register_in_rancher(lab):
    from rancher_api import RancherAPI  # the Rancher API fixture (tests/fixtures)

    nodes = plan("eta", 2, ip_range="10.9.0.10-10.9.0.20", hostname_format="coreos{last_octet}")
    with RancherAPI() as api:
        cluster = api.add_cluster("eta")

        def agents_join():
            """The agents register only after the role has polled once and found none."""
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(r[1].startswith("/v3/nodes") for r in api.requests):
                time.sleep(0.05)
            for node in nodes:
                api.register_node(cluster["id"], node["hostname"])

        threading.Thread(target=agents_join, daemon=True).start()
        extra = lab.playbook_vars("eta", coreos_node_plan=nodes, node_clones_wait_for="rancher",
                                  node_clones_wait_delay=1, rancher_url=api.url, rancher_api_token=api.api_token,
                                  rancher_cluster="eta")
        run = run_playbook(os.path.join(REPO, "playbooks", "nodes.yml"), extra)
        assert run.rc == 0, run.failure_messages()
        polls = [r for r in api.requests if r[1].startswith("/v3/nodes")]
        assert len(polls) >= 2  # it waited for the agents
        report = role_task(run, "Report the nodes registered in Rancher")[0]["msg"]
        assert report == "registered in Rancher: coreos10, coreos11"
        assert api.api_token not in run.stdout
