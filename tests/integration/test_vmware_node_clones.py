"""vmware_node_clones, the node_clones role and the scale/decommission playbooks against the lab simulator.

Each test works in its own VM folder with its own template (a simulator VM cloned and marked as template),
so the tests are independent of each other and of the simulator's stock VMs.
"""

import json
import os
import socket
import sys
import threading
import time
import uuid

import pytest
from pyVmomi import vim

from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import VM_PROPERTIES, vm_record
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient, VCenterError
from conftest import REPO, lab_vcsim, run_module, run_playbook

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
        source = self.client.find_vm(self.dc.vmFolder, SOURCE_VM, "DC0", required=True)
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=self.pool), powerOn=False, template=template)
        vm = self.client.wait_for_task(source.CloneVM_Task(folder=self.folder, name=name, spec=spec), "clone")
        if power_on:
            self.client.wait_for_task(vm.PowerOnVM_Task(), "power on")
        return vm

    def vms(self):
        return {r["name"]: vm_record(r) for r in self.client.retrieve(vim.VirtualMachine, VM_PROPERTIES, self.folder)}

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
    assert predicted["diff"]["before"] == {n["name"]: {"power_state": "absent", "boot_order": []} for n in nodes}
    assert lab.managed("alpha") == {}  # check mode made nothing

    created = run_module("vmware_node_clones", args, diff=True)
    assert created.rc == 0, created.get("msg")
    assert created["diff"] == {
        "before": {n["name"]: {"power_state": "absent", "boot_order": []} for n in nodes},
        "after": {n["name"]: {"power_state": "poweredOn", "boot_order": ["disk", "network"]} for n in nodes}}
    assert created["changed"] is True
    assert outcome(created) == outcome(predicted)
    assert created["summary"] == {"cloned": [n["name"] for n in nodes]}
    vms = lab.managed("alpha")
    assert sorted(vms) == [n["name"] for n in nodes]
    for node, reported in zip(nodes, created["nodes"]):
        vm = vms[node["name"]]
        assert vm["mac"] == node["mac"] == reported["mac"]
        assert vm["power_state"] == "poweredOn"
        assert vm["boot_order"] == ["disk", "network"]  # an empty disk falls through to the network
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
    assert removed["summary"] == {"deleted": [n["name"] for n in nodes], "not_managed": ["gamma-node09"]}
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in removed.get("warnings", [])]
    assert "VM 'gamma-node09' (%s) is not managed by cluster 'gamma' and was left alone" % foreign._moId in warnings
    assert lab.managed("gamma") == {}
    assert lab.vms()["gamma-node09"]["power_state"] == "poweredOn"


def bad_records(**change):
    """Two good plan records and a third with ``change``: nothing may be cloned before the third is refused."""
    records = plan("delta", 3)
    records[2].update(change)
    return records


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("nodes, extra, message", [
    ([{"name": "n1", "mac": "00:50:56:40:00:01"}], {},
     "node 'n1': mac '00:50:56:40:00:01' is outside VMware's static range"),
    ([{"name": "n1"}], {}, "node 'n1' has no mac; every node record needs one"),
    (None, {"template": "no-such-template"}, "template 'no-such-template' not found in datacenter 'DC0'; available:"),
    (None, {"parallel": 0}, "parallel must be 1 or more, got 0"),
    (bad_records(name="delta/node03"), {}, "name 'delta/node03' is not a valid node name; use 1-80 letters"),
    (bad_records(name="delta node03"), {}, "name 'delta node03' is not a valid node name"),
    (bad_records(num_cpus="many"), {}, "nodes: node 'delta-node03': num_cpus 'many' must be a positive integer"),
    (bad_records(memory_mb=[4096]), {}, "nodes: node 'delta-node03': memory_mb [4096] must be a positive integer"),
    (bad_records(cpus=4), {}, "cpus"),
])
def test_bad_input_is_one_line_and_changes_nothing(lab, nodes, extra, message, check_mode):
    """The same error in check mode as in the real run, before anything is sent to vCenter."""
    args = lab.module_args(nodes or plan("delta", 2), "delta")
    args.update(extra)
    result = run_module("vmware_node_clones", args, check_mode=check_mode)
    assert result.rc == 1 and message in result["msg"], result.get("msg")
    assert "\n" not in result["msg"] and "Traceback" not in result.stderr
    assert sorted(lab.vms()) == [lab.template_name]  # nothing cloned, and no nameless VM left behind


def test_a_nameless_vm_in_the_folder_never_crashes_a_run():
    """A clone named with '/' made by an older version: vcsim dropped the request and left a VM with no name."""
    proc, settings = lab_vcsim.start()  # a simulator of its own: other tests read every VM's name
    try:
        with VCenterClient.from_params(settings) as client:
            lab = Lab(settings, client)
            source = client.find_vm(lab.dc.vmFolder, SOURCE_VM, "DC0", required=True)
            spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=lab.pool))
            with pytest.raises(VCenterError):
                client.run_task("clone", source.CloneVM_Task, folder=lab.folder, name="theta/node01", spec=spec)
            nameless = [r["obj"] for r in client.retrieve(vim.VirtualMachine, ["name"], lab.folder) if "name" not in r]
            assert len(nameless) == 1
            args = lab.module_args(plan("theta", 2), "theta", prune=True)
            for check_mode in (True, False):
                result = run_module("vmware_node_clones", args, check_mode=check_mode)
                assert result.rc == 0, result.get("msg")
                assert result["summary"] == {"cloned": ["theta-node01", "theta-node02"]}
                assert ("a VM without a name (%s) is in folder '%s' (left by a failed create): it was left alone; "
                        "remove it in vCenter" % (nameless[0]._moId, lab.folder_name)) in warnings_of(result)
            template = run_module("vmware_ipxe_template", dict(settings, name="theta-tpl", datacenter="DC0",
                                                               cluster="DC0_C0", datastore="LocalDS_0"))
            assert template.rc == 0, template.get("msg")
    finally:
        lab_vcsim.stop_pid(proc.pid)
        proc.wait()


def warnings_of(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def network_first(lab, vm):
    lab.client.run_task("old boot order", vm["obj"].ReconfigVM_Task, spec=vim.vm.ConfigSpec(
        bootOptions=vim.vm.BootOptions(bootOrder=[vim.vm.BootOptions.BootableEthernetDevice(deviceKey=vm["nic"].key),
                                                  vim.vm.BootOptions.BootableDiskDevice(deviceKey=vm["disk"].key)])))


def test_clones_made_with_the_network_first_order_are_corrected(lab):
    nodes = plan("iota", 3)
    args = lab.module_args(nodes, "iota")
    assert run_module("vmware_node_clones", args)["changed"] is True
    vms = lab.managed("iota")
    for name in ("iota-node01", "iota-node02"):
        network_first(lab, vms[name])
    lab.client.run_task("power off", vms["iota-node02"]["obj"].PowerOffVM_Task)
    assert lab.managed("iota")["iota-node01"]["boot_order"] == ["network", "disk"]

    predicted = run_module("vmware_node_clones", args, check_mode=True, diff=True)
    assert predicted["summary"] == {"reconfigured": ["iota-node01"], "powered_on": ["iota-node02"],
                                    "unchanged": ["iota-node03"]}
    assert predicted["diff"]["before"]["iota-node01"] == {"power_state": "poweredOn", "boot_order": ["network", "disk"]}
    assert predicted["diff"]["after"]["iota-node01"] == {"power_state": "poweredOn", "boot_order": ["disk", "network"]}
    assert lab.managed("iota")["iota-node01"]["boot_order"] == ["network", "disk"]  # check mode changed nothing

    fixed = run_module("vmware_node_clones", args, diff=True)
    assert fixed.rc == 0 and fixed["changed"] is True
    assert outcome(fixed) == outcome(predicted) and fixed["diff"] == predicted["diff"]
    vms = lab.managed("iota")
    assert {vm["boot_order"][0] for vm in vms.values()} == {"disk"}
    assert vms["iota-node02"]["power_state"] == "poweredOn"
    assert run_module("vmware_node_clones", args)["changed"] is False


def test_reinstall_gives_managed_nodes_an_empty_disk_and_boots_them(lab):
    nodes = plan("kappa", 3)
    assert run_module("vmware_node_clones", lab.module_args(nodes, "kappa"))["changed"] is True
    before = lab.managed("kappa")
    network_first(lab, before["kappa-node02"])  # an old clone: reinstalling also sets the disk first
    lab.client.run_task("power off", before["kappa-node02"]["obj"].PowerOffVM_Task)
    names = [{"name": "kappa-node01"}, {"name": "kappa-node02"}]
    args = lab.module_args(names, "kappa", state="reinstalled")

    predicted = run_module("vmware_node_clones", args, check_mode=True)
    assert predicted.rc == 0 and predicted["changed"] is True
    assert predicted["summary"] == {"reinstalled": ["kappa-node01", "kappa-node02"]}
    assert lab.managed("kappa")["kappa-node01"]["disk"].key == before["kappa-node01"]["disk"].key

    done = run_module("vmware_node_clones", args)
    assert done.rc == 0, done.get("msg")
    assert outcome(done) == outcome(predicted)
    after = lab.managed("kappa")
    for name in ("kappa-node01", "kappa-node02"):
        old, new = before[name]["disk"], after[name]["disk"]
        assert new.key != old.key and new.capacityInKB == old.capacityInKB  # another, empty disk, same size
        assert (new.controllerKey, new.unitNumber) == (old.controllerKey, old.unitNumber)
        assert after[name]["boot_order"] == ["disk", "network"] and after[name]["power_state"] == "poweredOn"
        assert (after[name]["moid"], after[name]["mac"]) == (before[name]["moid"], before[name]["mac"])
    assert after["kappa-node03"]["disk"].key == before["kappa-node03"]["disk"].key  # not named: untouched
    assert run_module("vmware_node_clones", lab.module_args(nodes, "kappa"))["changed"] is False


def test_reinstall_refuses_unknown_and_unmanaged_names_and_changes_nothing(lab):
    nodes = plan("lam", 2)
    assert run_module("vmware_node_clones", lab.module_args(nodes, "lam"))["changed"] is True
    foreign = lab.clone_unmanaged("lam-manual", power_on=True)
    before = lab.vms()
    args = lab.module_args([{"name": "lam-node01"}, {"name": "lam-manual"}, {"name": "lam-node09"}], "lam",
                           state="reinstalled")
    for check_mode in (True, False):
        result = run_module("vmware_node_clones", args, check_mode=check_mode)
        assert result.rc == 1 and result["changed"] is False
        assert result["msg"].startswith("2 of 3 nodes failed (lam-manual, lam-node09); nothing was reinstalled, fix "
                                        "the names and rerun: lam-manual: a VM named 'lam-manual' (%s) already "
                                        "exists in folder '%s' and is not managed by netboot.coreos"
                                        % (foreign._moId, lab.folder_name))
        assert result["msg"].endswith("lam-node09: no VM named 'lam-node09' in folder '%s': only existing nodes of "
                                      "the cluster can be reinstalled" % lab.folder_name)
        assert result["summary"] == {"unchanged": ["lam-node01"], "failed": ["lam-manual", "lam-node09"]}
    after = lab.vms()
    assert {n: (vm["disk"].key, vm["power_state"]) for n, vm in after.items()} == \
        {n: (vm["disk"].key, vm["power_state"]) for n, vm in before.items()}


def test_reinstall_playbook(lab):
    nodes = plan("mu", 2)
    reinstall = os.path.join(REPO, "playbooks", "reinstall.yml")
    assert run_module("vmware_node_clones", lab.module_args(nodes, "mu"))["changed"] is True
    before = lab.managed("mu")
    extra = lab.playbook_vars("mu", reinstall_node_names="mu-node02")
    predicted = run_playbook(reinstall, extra, check=True)
    assert predicted.rc == 0, predicted.failure_messages() or predicted.stderr[-2000:]
    assert lab.managed("mu")["mu-node02"]["disk"].key == before["mu-node02"]["disk"].key
    real = run_playbook(reinstall, extra)
    assert real.rc == 0, real.failure_messages() or real.stderr[-2000:]
    assert _summary_actions(real) == _summary_actions(predicted) == {"reinstalled": ["mu-node02"]}
    assert lab.managed("mu")["mu-node02"]["disk"].key != before["mu-node02"]["disk"].key

    unknown = run_playbook(reinstall, lab.playbook_vars("mu", reinstall_node_names="mu-node07"))
    assert unknown.rc != 0 and "no VM named 'mu-node07'" in unknown.failure_messages()[-1]
    missing = run_playbook(reinstall, lab.playbook_vars("mu"))
    assert missing.rc != 0 and "set reinstall_node_names" in " ".join(missing.failure_messages())


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
    expected = {"deleted": ["eps-node07", "eps-node08"], "not_managed": ["eps-node99"]}
    assert _summary_actions(real) == _summary_actions(predicted) == expected
    assert sorted(lab.managed("eps")) == names[:6]
    assert "eps-node99" in lab.vms()

    missing = run_playbook(scale, lab.playbook_vars("eps"))
    assert missing.rc != 0 and "set scale_node_count" in " ".join(missing.failure_messages())


def test_role_without_a_plan_fails_and_prunes_nothing(lab, tmp_path):
    """A missing coreos_node_plan (no netboot.coreos.node_plan role in the play) is not "no nodes": with prune it
    used to delete every node of the cluster."""
    assert run_module("vmware_node_clones", lab.module_args(plan("iota", 2), "iota"))["changed"] is True
    play = tmp_path / "clones_only.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: netboot.coreos.node_clones\n")
    run = run_playbook(str(play), lab.playbook_vars("iota", node_clones_prune=True))
    assert run.rc != 0
    assert ("node_clones: no node plan: run the role netboot.coreos.node_plan first (or set node_clones_nodes)"
            in " ".join(run.failure_messages())), run.failure_messages() or run.stderr[-2000:]
    assert sorted(lab.managed("iota")) == ["iota-node01", "iota-node02"]


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


def test_check_mode_predicts_clones_of_a_template_this_run_creates_first(lab):
    """site.yml --check on a new vCenter: the template play predicted creating it, so the clones are predicted."""
    args = dict(lab.module_args(plan("kappa", 2), "kappa"), template="kappa-template-to-come", template_pending=True)
    predicted = run_module("vmware_node_clones", args, check_mode=True)
    assert predicted.rc == 0, predicted.get("msg")
    assert [n["action"] for n in predicted["nodes"]] == ["cloned", "cloned"] and predicted["changed"] is True
    assert "template 'kappa-template-to-come' not found" in json.dumps(predicted["warnings"]), predicted
    assert lab.managed("kappa") == {}
    real = run_module("vmware_node_clones", args)  # outside check mode the missing template is an error
    assert real.rc == 1 and "template 'kappa-template-to-come' not found" in real["msg"], real.get("msg")
