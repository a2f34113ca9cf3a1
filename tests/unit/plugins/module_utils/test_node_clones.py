"""plan_actions: the difference between the node plan and the VMs read, before any vCenter call."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import (
    MARKER_KEY, normalise_nodes, plan_actions)
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient


def vm(name, power="poweredOn", marker="c1", template=False, mac=None):
    return {"obj": object(), "name": name, "moid": "vm-" + name, "uuid": "u-" + name, "power_state": power,
            "template": template, "marker": marker, "mac": mac or "00:50:56:00:00:01"}


def nodes(*names):
    return [{"name": n, "mac": "00:50:56:00:00:01", "num_cpus": None, "memory_mb": None} for n in names]


def by_name(actions):
    return {a["name"]: (a["action"], a["steps"]) for a in actions}


def test_missing_nodes_are_cloned_and_powered_on():
    actions = plan_actions(nodes("a", "b"), [vm("a")], "c1", "poweredon", False, "k8s")[0]
    assert by_name(actions) == {"a": ("unchanged", []), "b": ("cloned", ["clone", "power_on"])}
    actions = plan_actions(nodes("b"), [], "c1", "poweredoff", False, "k8s")[0]
    assert by_name(actions) == {"b": ("cloned", ["clone"])}
    assert actions[0]["power_state"] == "poweredOff"


@pytest.mark.parametrize("state, power, expected", [
    ("poweredon", "poweredOff", ("powered_on", ["power_on"])),
    ("poweredon", "suspended", ("powered_on", ["power_on"])),
    ("poweredoff", "poweredOn", ("powered_off", ["power_off"])),
    ("present", "poweredOff", ("unchanged", [])),
    ("absent", "poweredOn", ("deleted", ["power_off", "destroy"])),
    ("absent", "poweredOff", ("deleted", ["destroy"])),
])
def test_power_states(state, power, expected):
    actions = plan_actions(nodes("a"), [vm("a", power)], "c1", state, False, "k8s")[0]
    assert by_name(actions)["a"] == expected


def test_prune_removes_only_this_clusters_vms():
    vms = [vm("a"), vm("old", "poweredOn"), vm("old-off", "poweredOff"), vm("other", marker="c2"),
           vm("mine-but-template", template=True), vm("manual", marker=None)]
    actions = plan_actions(nodes("a"), vms, "c1", "poweredon", True, "k8s")[0]
    assert by_name(actions) == {"a": ("unchanged", []), "old": ("deleted", ["power_off", "destroy"]),
                                "old-off": ("deleted", ["destroy"])}
    actions = plan_actions(nodes("a"), vms, "c1", "poweredon", False, "k8s")[0]
    assert by_name(actions) == {"a": ("unchanged", [])}


@pytest.mark.parametrize("foreign, words", [
    (vm("a", marker=None), "is not managed by netboot.coreos (no %s extraConfig key)" % MARKER_KEY),
    (vm("a", marker="c2"), "is managed by netboot.coreos cluster 'c2'"),
    (vm("a", template=True), "is a template"),
])
def test_name_taken_by_a_foreign_vm_fails_that_node_only(foreign, words):
    actions = plan_actions(nodes("a", "b"), [foreign], "c1", "poweredon", True, "k8s")[0]
    assert by_name(actions) == {"a": ("failed", []), "b": ("cloned", ["clone", "power_on"])}
    assert words in actions[0]["error"]
    assert "a VM named 'a' (vm-a) already exists in folder 'k8s'" in actions[0]["error"]


def test_absent_leaves_foreign_vms_and_warns():
    actions, warnings = plan_actions(nodes("a"), [vm("a", marker=None)], "c1", "absent", True, "k8s")
    assert by_name(actions) == {"a": ("unchanged", [])}
    assert warnings == ["VM 'a' (vm-a) is not managed by cluster 'c1' and was left alone"]


def test_two_managed_vms_with_one_name_fail():
    actions = plan_actions(nodes("a"), [vm("a"), vm("a")], "c1", "poweredon", False, "k8s")[0]
    assert actions[0]["action"] == "failed" and "2 VMs named 'a'" in actions[0]["error"]


def test_mac_drift_is_a_warning():
    warnings = plan_actions(nodes("a"), [vm("a", mac="00:50:56:00:00:02")], "c1", "poweredon", False, "k8s")[1]
    assert warnings == ["node 'a' has MAC 00:50:56:00:00:02 but the plan says 00:50:56:00:00:01: MACs are only set "
                        "when cloning; decommission and re-create the node to apply it"]


def test_normalise_nodes_validates_plan_records():
    assert normalise_nodes([{"name": "a", "mac": "00:50:56:0A:00:01", "ip": None}], "poweredon") == [
        {"name": "a", "mac": "00:50:56:0a:00:01", "num_cpus": None, "memory_mb": None}]
    assert normalise_nodes([{"name": "a"}], "absent")[0]["mac"] is None
    with pytest.raises(ValidationError, match="node 'a' has no mac"):
        normalise_nodes([{"name": "a"}], "poweredon")
    with pytest.raises(ValidationError, match="duplicate node name 'a'"):
        normalise_nodes([{"name": "a"}, {"name": "a"}], "absent")
    with pytest.raises(ValidationError, match="duplicate mac '00:50:56:00:00:01' on nodes 'a' and 'b'"):
        normalise_nodes(nodes("a", "b"), "poweredon")
    with pytest.raises(ValidationError, match="outside VMware's static range"):
        normalise_nodes([{"name": "a", "mac": "00:0c:29:00:00:01"}], "poweredon")


class FakeTask:
    """A vCenter task that finishes after ``polls`` reads, with ``error`` if given."""

    def __init__(self, name, polls=1, error=None):
        self.name, self.polls, self.error = name, polls, error


class TaskReader(VCenterClient):
    """A client whose bulk reads of task states (the one call TaskChains makes) follow FakeTask."""

    def __init__(self):
        super(TaskReader, self).__init__("vc.example.com", "user", "pass")
        self.reads = 0
        self.max_in_flight = 0

    def retrieve_objects(self, objects, properties):
        self.reads += 1
        self.max_in_flight = max(self.max_in_flight, len(objects))
        rows = []
        for task in objects:
            task.polls -= 1
            if task.polls > 0:
                rows.append({"obj": task, "info.state": "running"})
            elif task.error:
                rows.append({"obj": task, "info.state": "error", "info.error": type("Fault", (), {"msg": task.error})()})
            else:
                rows.append({"obj": task, "info.state": "success", "info.result": "vm-" + task.name})
        return rows


def test_task_chains_bound_tasks_in_flight_and_run_steps_in_order():
    from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import TaskChains

    reader = TaskReader()
    started = []

    def start(chain):
        step = chain["steps"][chain["index"]]
        started.append((chain["name"], step))
        failing = chain["name"] == "n3" and step == "power_on"
        return FakeTask(chain["name"], polls=2, error="InvalidPowerState" if failing else None)

    chains = [{"name": "n%d" % i, "steps": ["clone", "power_on"]} for i in range(10)]
    TaskChains(reader, parallel=3, timeout=30, poll=0.001).run(chains, start)
    assert reader.max_in_flight == 3
    for chain in chains:
        steps = [s for n, s in started if n == chain["name"]]
        assert steps == ["clone", "power_on"]
    assert chains[3]["error"] == "power on failed: InvalidPowerState"
    assert chains[3]["results"] == {"clone": "vm-n3"}
    assert [c["name"] for c in chains if c.get("error")] == ["n3"]
    assert chains[0]["results"] == {"clone": "vm-n0", "power_on": "vm-n0"}


def test_task_chains_report_tasks_still_running_at_the_timeout():
    from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import TaskChains

    chains = [{"name": "slow", "steps": ["clone"]}, {"name": "queued", "steps": ["destroy"]}]
    TaskChains(TaskReader(), parallel=1, timeout=0.05, poll=0.01).run(
        chains, lambda chain: FakeTask(chain["name"], polls=10 ** 6))
    assert chains[0]["error"] == "clone still running after timeout=0.05s"
    assert chains[1]["error"] == "destroy not started after timeout=0.05s"
