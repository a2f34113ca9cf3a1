"""node_clones without vCenter: the plan (pure), node records, and the scheduler's budgets and timeouts."""

import random

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import (
    CLONE_HOST_COST, DATASTORE_UNITS, HOST_UNITS, MARKER_KEY, ClonePlacement, NodeAction, TaskScheduler,
    clone_charges, normalise_nodes, plan_actions)
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient, VCenterError

DISK_FIRST = ["disk", "network"]


def vm(name, power="poweredOn", marker="c1", template=False, mac=None, boot=None, disk=True):
    return {"obj": object(), "name": name, "moid": "vm-%s" % name, "uuid": "u-%s" % name, "power_state": power,
            "template": template, "marker": marker, "mac": mac or "00:50:56:00:00:01", "nic": object(),
            "disk": object() if disk else None, "boot_order": list(boot or DISK_FIRST)}


def nodes(*names):
    return [{"name": n, "mac": "00:50:56:00:00:01", "num_cpus": None, "memory_mb": None} for n in names]


def by_name(actions):
    return {a.name: (a.action, a.steps) for a in actions}


def test_missing_nodes_are_cloned_and_powered_on():
    actions = plan_actions(nodes("a", "b"), [vm("a")], "c1", "poweredon", False, "k8s")[0]
    assert by_name(actions) == {"a": ("unchanged", []), "b": ("cloned", ["clone", "power_on"])}
    actions = plan_actions(nodes("b"), [], "c1", "poweredoff", False, "k8s")[0]
    assert by_name(actions) == {"b": ("cloned", ["clone"])}
    assert actions[0].power_state == "poweredOff"


@pytest.mark.parametrize("state, power, expected", [
    ("poweredon", "poweredOff", ("powered_on", ["power_on"])),
    ("poweredon", "suspended", ("powered_on", ["power_on"])),
    ("poweredoff", "poweredOn", ("powered_off", ["power_off"])),
    ("present", "poweredOff", ("unchanged", [])),
    ("absent", "poweredOn", ("deleted", ["power_off", "destroy"])),
    ("absent", "poweredOff", ("deleted", ["destroy"])),
    ("reinstalled", "poweredOn", ("reinstalled", ["power_off", "replace_disk", "set_boot_order", "power_on"])),
    ("reinstalled", "poweredOff", ("reinstalled", ["replace_disk", "set_boot_order", "power_on"])),
])
def test_power_states(state, power, expected):
    actions = plan_actions(nodes("a"), [vm("a", power)], "c1", state, False, "k8s")[0]
    assert by_name(actions)["a"] == expected


@pytest.mark.parametrize("state, power, expected", [
    ("poweredon", "poweredOn", ("reconfigured", ["set_boot_order"])),
    ("present", "poweredOff", ("reconfigured", ["set_boot_order"])),
    ("poweredon", "poweredOff", ("powered_on", ["set_boot_order", "power_on"])),
    ("poweredoff", "poweredOn", ("powered_off", ["set_boot_order", "power_off"])),
    ("absent", "poweredOff", ("deleted", ["destroy"])),
])
def test_vms_made_with_the_network_first_order_are_corrected(state, power, expected):
    old = vm("a", power, boot=["network", "disk"])
    actions = plan_actions(nodes("a"), [old], "c1", state, False, "k8s")[0]
    assert by_name(actions)["a"] == expected
    # a VM without a disk has nothing to boot first: left as it is
    actions = plan_actions(nodes("a"), [vm("a", power, boot=["network"], disk=False)], "c1", "present", False, "k8s")[0]
    assert by_name(actions)["a"] == ("unchanged", [])


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
    assert words in actions[0].error
    assert "a VM named 'a' (vm-a) already exists in folder 'k8s'" in actions[0].error


def test_absent_reports_foreign_vms_as_not_managed_and_warns():
    actions, warnings = plan_actions(nodes("a", "b"), [vm("a", marker=None)], "c1", "absent", True, "k8s")
    assert by_name(actions) == {"a": ("not_managed", []), "b": ("unchanged", [])}
    assert actions[0].power_state == "poweredOn"  # it is left as it is
    assert warnings == ["VM 'a' (vm-a) is not managed by cluster 'c1' and was left alone"]


def test_reinstall_of_unknown_or_foreign_names_fails_clearly():
    vms = [vm("a"), vm("b", marker=None)]
    actions = plan_actions(nodes("a", "b", "c"), vms, "c1", "reinstalled", False, "k8s")[0]
    assert [a.action for a in actions] == ["reinstalled", "failed", "failed"]
    assert "a VM named 'b' (vm-b) already exists in folder 'k8s' and is not managed by netboot.coreos" in \
        actions[1].error
    assert actions[2].error == ("no VM named 'c' in folder 'k8s': only existing nodes of the cluster can be "
                                "reinstalled")


def test_a_nameless_vm_never_breaks_the_plan():
    actions, warnings = plan_actions(nodes("a"), [vm(None), vm("a")], "c1", "poweredon", True, "k8s")
    assert by_name(actions) == {"a": ("unchanged", [])}
    assert warnings == ["a VM without a name (vm-None) is in folder 'k8s' (left by a failed create): it was left "
                        "alone; remove it in vCenter"]


def test_two_managed_vms_with_one_name_fail():
    actions = plan_actions(nodes("a"), [vm("a"), vm("a")], "c1", "poweredon", False, "k8s")[0]
    assert actions[0].action == "failed" and "2 VMs named 'a'" in actions[0].error


def test_mac_drift_is_a_warning():
    warnings = plan_actions(nodes("a"), [vm("a", mac="00:50:56:00:00:02")], "c1", "poweredon", False, "k8s")[1]
    assert warnings == ["node 'a' has MAC 00:50:56:00:00:02 but the plan says 00:50:56:00:00:01: MACs are only set "
                        "when cloning; decommission and re-create the node to apply it"]


def test_normalise_nodes_checks_records_through_the_node_plan():
    assert normalise_nodes([{"name": "a", "mac": "00:50:56:0A:00:01", "ip": None}], "poweredon") == [
        {"name": "a", "mac": "00:50:56:0a:00:01", "num_cpus": None, "memory_mb": None}]
    assert normalise_nodes([{"name": "a"}], "absent")[0]["mac"] is None
    assert normalise_nodes([{"name": "a"}], "reinstalled")[0]["mac"] is None
    with pytest.raises(ValidationError, match="node 'a' has no mac"):
        normalise_nodes([{"name": "a"}], "poweredon")
    with pytest.raises(ValidationError, match="duplicate name 'a' on nodes 'a' and 'a'"):
        normalise_nodes([{"name": "a"}, {"name": "a"}], "absent")
    with pytest.raises(ValidationError, match="duplicate mac '00:50:56:00:00:01' on nodes 'a' and 'b'"):
        normalise_nodes(nodes("a", "b"), "poweredon")
    with pytest.raises(ValidationError, match="outside VMware's static range"):
        normalise_nodes([{"name": "a", "mac": "00:0c:29:00:00:01"}], "poweredon")
    with pytest.raises(ValidationError, match="^nodes: node 'a': num_cpus 0 must be a positive integer$"):
        normalise_nodes([{"name": "a", "mac": "00:50:56:00:00:01", "num_cpus": 0}], "poweredon")


@pytest.mark.parametrize("state", ["poweredon", "absent", "reinstalled"])
@pytest.mark.parametrize("name", ["a/b", "with space", "x%y", "-lead", "t\tab", "n" * 81, "back\\slash"])
def test_names_vcenter_would_escape_or_truncate_are_refused(name, state):
    with pytest.raises(ValidationError) as err:
        normalise_nodes([{"name": name, "mac": None if state != "poweredon" else "00:50:56:00:00:01"}], state)
    assert "name %r is not a valid node name; use 1-80 letters" % name in err.value.msg


# -- the scheduler -----------------------------------------------------------------------------------------


class FakeTask:
    """A vCenter task that finishes after ``polls`` reads, with ``error`` if given."""

    def __init__(self, name, polls=1, error=None):
        self.name, self.polls, self.error = name, polls, error
        self._moId = "task-" + name


class TaskReader(VCenterClient):
    """A client whose bulk reads of task states (the one call the scheduler makes) follow FakeTask."""

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


def chains(count, steps=("clone", "power_on")):
    return [NodeAction("n%d" % i, "cloned", steps=steps) for i in range(count)]


def test_scheduler_bounds_tasks_in_flight_and_runs_steps_in_order():
    reader, started = TaskReader(), []

    def start(action):
        started.append((action.name, action.step))
        failing = action.name == "n3" and action.step == "power_on"
        return FakeTask(action.name, polls=2, error="InvalidPowerState" if failing else None)

    actions = chains(10, ("power_off", "power_on"))
    TaskScheduler(reader, parallel=3, timeout=30, poll=0.001).run(actions, start)
    assert reader.max_in_flight == 3
    for action in actions:
        assert [s for n, s in started if n == action.name] == ["power_off", "power_on"]
    assert actions[3].error == "power on failed: InvalidPowerState" and actions[3].action == "failed"
    assert actions[3].results == {"power_off": "vm-n3"}
    assert [a.name for a in actions if a.error] == ["n3"]
    assert actions[0].results == {"power_off": "vm-n0", "power_on": "vm-n0"}


def test_scheduler_reports_a_refused_start_and_goes_on():
    def start(action):
        if action.name == "n1":
            raise VCenterError("clone of node 'n1' failed: DuplicateName")
        return FakeTask(action.name)

    actions = chains(3, ("clone",))
    placement = ClonePlacement(None, ["h1"], "h1", "ds1", "ds1")
    TaskScheduler(TaskReader(), parallel=8, timeout=30, placement=placement, poll=0.001).run(actions, start)
    assert [a.error for a in actions] == [None, "clone of node 'n1' failed: DuplicateName", None]
    assert [a.action for a in actions] == ["cloned", "failed", "cloned"]


def test_scheduler_reports_tasks_still_running_at_the_timeout():
    actions = [NodeAction("slow", "deleted", steps=["destroy"]), NodeAction("queued", "deleted", steps=["destroy"])]
    TaskScheduler(TaskReader(), parallel=1, timeout=0.05, poll=0.01).run(
        actions, lambda action: FakeTask(action.name, polls=10 ** 6))
    assert actions[0].error == "destroy still running after timeout=0.05s"
    assert actions[1].error == "destroy not started after timeout=0.05s"


def test_clone_charges_count_a_shared_host_and_datastore_once():
    assert clone_charges("h1", "h2", "ds1", "ds2") == {("host", "h1"): 4, ("host", "h2"): 4,
                                                       ("datastore", "ds1"): 16, ("datastore", "ds2"): 16}
    assert clone_charges("h1", "h1", "ds1", "ds1") == {("host", "h1"): 4, ("datastore", "ds1"): 16}


class BudgetWatcher(TaskReader):
    """Checks, at every poll, the units the scheduler holds against the tasks actually running."""

    def __init__(self, scheduler_ref):
        super(BudgetWatcher, self).__init__()
        self.scheduler_ref = scheduler_ref
        self.peak = {}
        self.peak_clones = 0

    def retrieve_objects(self, objects, properties):
        used = {}
        clones = [t for t in objects if t.step == "clone"]
        for task in clones:
            for resource, units in task.charges.items():
                used[resource] = used.get(resource, 0) + units
        for resource, units in used.items():
            limit = HOST_UNITS if resource[0] == "host" else DATASTORE_UNITS
            assert units <= limit, (resource, units)
            self.peak[resource] = max(self.peak.get(resource, 0), units)
        assert used == {r: u for r, u in self.scheduler_ref[0].budget.used.items() if u}
        self.peak_clones = max(self.peak_clones, len(clones))
        return super(BudgetWatcher, self).retrieve_objects(objects, properties)


@pytest.mark.parametrize("parallel", [1000, 6])
def test_scheduler_keeps_each_host_and_datastore_in_budget_with_200_nodes_on_4_hosts(parallel):
    rng = random.Random(17)
    hosts = ["host-%d" % i for i in range(4)]
    # the template on host-0 and ds-0; the clones go to ds-1 (both datastores are charged)
    placement = ClonePlacement(None, hosts, "host-0", "ds-0", "ds-1")
    ref = []
    reader = BudgetWatcher(ref)
    scheduler = TaskScheduler(reader, parallel=parallel, timeout=60, placement=placement, poll=0.0001)
    ref.append(scheduler)
    landed = {}

    def start(action):
        task = FakeTask(action.name + action.step, polls=rng.randint(1, 6))
        task.step = action.step
        task.charges = clone_charges("host-0", action.host, "ds-0", "ds-1") if action.step == "clone" else {}
        if action.step == "clone":
            landed[action.host] = landed.get(action.host, 0) + 1
        return task

    actions = chains(200)
    scheduler.run(actions, start)
    assert [a.error for a in actions if a.error] == []
    assert all(set(a.results) == {"clone", "power_on"} for a in actions)
    assert scheduler.budget.used == {r: 0 for r in scheduler.budget.used}
    # the template's host is the bottleneck: 4 clones of 4 units at once, and it was reached
    assert reader.peak[("host", "host-0")] == HOST_UNITS
    assert reader.peak_clones == HOST_UNITS // CLONE_HOST_COST or parallel < HOST_UNITS // CLONE_HOST_COST
    assert reader.max_in_flight <= parallel
    assert sorted(landed) == hosts  # spread over every host with room
    if parallel == 6:
        assert reader.max_in_flight == 6  # power-ons ran beside the clones, up to the cap


class CountingPlacement(ClonePlacement):
    def __init__(self, *args):
        super(CountingPlacement, self).__init__(*args)
        self.admits = 0

    def admit(self, budget):
        self.admits += 1
        return super(CountingPlacement, self).admit(budget)


def test_clones_that_do_not_fit_wait_without_being_admitted_again_in_the_same_pass():
    # one host: 4 clones at once; 200 waiting clones are not each re-admitted at every poll
    placement = CountingPlacement(None, ["h1"], "h1", "ds1", "ds1")
    reader = TaskReader()
    actions = chains(200, ("clone",))
    started = []

    def start(action):
        started.append(action.name)
        return FakeTask(action.name)

    TaskScheduler(reader, parallel=1000, timeout=30, placement=placement, poll=0.0001).run(actions, start)
    assert [a.error for a in actions if a.error] == []
    assert started == ["n%d" % i for i in range(200)]  # the waiting clones keep their order
    assert reader.max_in_flight == HOST_UNITS // CLONE_HOST_COST
    assert placement.admits <= 200 + reader.reads + 1  # each pass: the clones that fit, then one refusal
