# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge the node VMs of one cluster: clone the missing ones, set power states, prune, remove, reinstall.

Read before write: one PropertyCollector read of every VM in the folder gives name, power state, template
flag, extraConfig (the ownership marker), devices (MAC, disk) and boot order; ``plan_actions`` turns it and
the node plan into one NodeAction per node without touching vCenter, so check mode returns exactly that.
``TaskScheduler`` then runs each action's steps (clone -> power on, power off -> destroy, ...) as vCenter
tasks started from a small pool of threads, inside vCenter's own cost budgets (COSTS) and ``parallel``.

Ownership: a VM is managed when its extraConfig holds MARKER_KEY = cluster_name. VMs without it (or with
another cluster's) are never modified or deleted, whatever their name; a planned node whose name is taken by
such a VM fails with a message saying so, and the others still converge.
"""

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, NotFoundError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.ipxe_template import (
    BOOT_ORDER, boot_options, boot_order_names)
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import check_node_name, check_nodes, unique_values
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import (
    VCenterError, extra_config, first_device)

try:
    from pyVmomi import vim
except ImportError:
    pass  # the module reports the missing library through HAS_PYVMOMI

MARKER_KEY = "netboot.coreos.cluster"
STATES = ("present", "poweredon", "poweredoff", "absent", "reinstalled")
VM_PROPERTIES = ["name", "runtime.powerState", "config.template", "config.extraConfig", "config.uuid",
                 "config.hardware.device", "config.bootOptions"]
ON, OFF = "poweredOn", "poweredOff"

# action reported per node (the same words in check mode and in a real run); NOT_MANAGED: a VM of that name
# exists but is not this cluster's, so it was left alone
CLONED, POWERED_ON, POWERED_OFF, DELETED, REINSTALLED, RECONFIGURED, UNCHANGED, NOT_MANAGED, FAILED = (
    "cloned", "powered_on", "powered_off", "deleted", "reinstalled", "reconfigured", "unchanged", "not_managed",
    "failed")

# vCenter's cost model for concurrent operations (VMware performance blog 2021; vSphere "Limits on
# Simultaneous Migrations"): each ESXi host has 16 units and a full clone costs 4 on the source and on the
# destination host (once when they are the same); a datastore allows 128 and a disk copy costs 16 on the
# source and on the destination datastore. Operations beyond a budget only queue inside vCenter.
HOST_UNITS = 16
DATASTORE_UNITS = 128
CLONE_HOST_COST = 4
CLONE_DATASTORE_COST = 16
START_THREADS = 8


class NodeClonesError(NetbootError):
    """Some nodes did not converge; ``details`` carries every node's outcome."""


# -- reading ---------------------------------------------------------------------------------------------

def vm_record(row):
    """A VM row of the PropertyCollector read as plain data (plus ``obj`` and its first NIC and disk)."""
    devices = row.get("config.hardware.device")
    nic = first_device(devices, vim.vm.device.VirtualEthernetCard)
    disk = first_device(devices, vim.vm.device.VirtualDisk)
    boot = row.get("config.bootOptions")
    return {
        "obj": row["obj"],
        "name": row.get("name"),
        "moid": row["obj"]._moId,
        "uuid": row.get("config.uuid"),
        "power_state": row.get("runtime.powerState"),
        "template": bool(row.get("config.template")),
        "marker": extra_config(row.get("config.extraConfig")).get(MARKER_KEY),
        "mac": nic.macAddress.lower() if nic is not None and nic.macAddress else None,
        "nic": nic,
        "disk": disk,
        "boot_order": boot_order_names(boot.bootOrder if boot else [], nic, disk),
    }


# -- input -----------------------------------------------------------------------------------------------

def normalise_nodes(nodes, state):
    """The records the module needs (name, mac, num_cpus, memory_mb), checked by node_plan.check_nodes.

    With state absent or reinstalled only the names matter: records without a MAC are accepted there.
    """
    if state in ("absent", "reinstalled") and any(node.get("mac") is None for node in nodes):
        records = [{"name": check_node_name(node.get("name"), "nodes"), "mac": None, "num_cpus": None, "memory_mb": None}
                   for node in nodes]
        unique_values(records, "name")
        return records
    return [{key: record[key] for key in ("name", "mac", "num_cpus", "memory_mb")}
            for record in check_nodes(nodes, source="nodes")]


# -- planning (pure: no vCenter calls) -------------------------------------------------------------------

class NodeAction:
    """One node's part of a run: the action reported, its vCenter steps in order, and how far they got."""

    def __init__(self, name, action, vm=None, mac=None, power_state=None, steps=(), error=None, node=None):
        self.name = name
        self.action = action
        self.vm = vm            # the VM record read before the run (None for a clone not made yet)
        self.mac = mac
        self.power_state = power_state  # predicted after the run
        self.steps = list(steps)
        self.error = error
        self.node = node        # the plan record (for clones)
        self.results = {}       # step -> task result, for the steps done
        self.host = None        # the ESXi host chosen for a clone
        self.uuid = vm["uuid"] if vm else None
        if "clone" in self.steps or "set_boot_order" in self.steps:
            self.boot_order = list(BOOT_ORDER)
        else:
            self.boot_order = vm["boot_order"] if vm else []

    @property
    def step(self):
        """The next step to run, or None when all are done."""
        return self.steps[len(self.results)] if len(self.results) < len(self.steps) else None

    @property
    def vm_obj(self):
        return self.results.get("clone") or (self.vm or {}).get("obj")

    def step_done(self, result):
        self.results[self.step] = result

    def fail(self, message):
        self.error = message
        self.action = FAILED

    def settle(self):
        """After a failure: the power state and boot order the completed steps left (no need to read again)."""
        self.power_state = self.reached_power_state()
        if self.power_state is None:
            self.boot_order = []
        elif "clone" not in self.results and "set_boot_order" not in self.results:
            self.boot_order = self.vm["boot_order"]

    def reached_power_state(self):
        """The power state the completed steps left (exact without reading the VM again)."""
        if "destroy" in self.results or (self.vm is None and "clone" not in self.results):
            return None
        power = self.vm["power_state"] if self.vm else OFF
        for step in self.results:
            power = {"power_on": ON, "power_off": OFF}.get(step, power)
        return power

    def entry(self):
        vm_obj = self.vm_obj
        entry = {"name": self.name, "action": self.action, "moid": vm_obj._moId if vm_obj is not None else None,
                 "uuid": self.uuid, "mac": self.mac, "power_state": self.power_state}
        if self.error:
            entry["error"] = self.error
            entry["completed"] = [s for s in self.steps if s in self.results]
        return entry


def _owned(vm, cluster_name):
    return vm["marker"] == cluster_name and not vm["template"]


def _boot_order_fix(vm):
    """``["set_boot_order"]`` when a managed VM does not boot its disk first (made with the old order)."""
    if vm["disk"] is None or vm["nic"] is None or vm["boot_order"] == BOOT_ORDER:
        return []
    return ["set_boot_order"]


def _removal(vm):
    return (["power_off"] if vm["power_state"] != OFF else []) + ["destroy"]


def plan_actions(nodes, vms, cluster_name, state, prune, folder_name):
    """Per-node NodeActions from the node plan and the VMs read; returns (actions, warnings)."""
    by_name = {}
    for vm in vms:
        by_name.setdefault(vm["name"], []).append(vm)
    actions, warnings = [], []
    for vm in by_name.get(None, []):
        warnings.append("a VM without a name (%s) is in folder '%s' (left by a failed create): it was left alone; "
                        "remove it in vCenter" % (vm["moid"], folder_name))
    planned = set()
    for node in nodes:
        name = node["name"]
        planned.add(name)
        same_name = by_name.get(name, [])
        managed = [vm for vm in same_name if _owned(vm, cluster_name)]
        foreign = [vm for vm in same_name if not _owned(vm, cluster_name)]
        if len(managed) > 1:
            actions.append(NodeAction(name, FAILED, error="%d VMs named '%s' carry the marker of cluster '%s' (%s); "
                                      "delete the extra ones" % (len(managed), name, cluster_name,
                                                                 ", ".join(vm["moid"] for vm in managed))))
            continue
        vm = managed[0] if managed else None
        if state == "absent":
            if vm is not None:
                actions.append(NodeAction(name, DELETED, vm, vm["mac"], None, steps=_removal(vm)))
            elif foreign:
                actions.append(NodeAction(name, NOT_MANAGED, mac=node["mac"],
                                          power_state=foreign[0]["power_state"]))
                warnings.extend(_foreign_warning(f, cluster_name) for f in foreign)
            else:
                actions.append(NodeAction(name, UNCHANGED, mac=node["mac"]))
            continue
        if vm is None and foreign:
            actions.append(NodeAction(name, FAILED, mac=node["mac"], error=_conflict(foreign[0], folder_name)))
            continue
        if state == "reinstalled":
            actions.append(_reinstall(node, vm, folder_name))
            continue
        if vm is None:
            steps = ["clone"] + (["power_on"] if state in ("present", "poweredon") else [])
            actions.append(NodeAction(name, CLONED, None, node["mac"], ON if "power_on" in steps else OFF,
                                      steps=steps, node=node))
            continue
        if vm["mac"] != node["mac"]:
            warnings.append("node '%s' has MAC %s but the plan says %s: MACs are only set when cloning; "
                            "decommission and re-create the node to apply it" % (name, vm["mac"], node["mac"]))
        fix = _boot_order_fix(vm)
        if state == "poweredon" and vm["power_state"] != ON:
            actions.append(NodeAction(name, POWERED_ON, vm, vm["mac"], ON, steps=fix + ["power_on"]))
        elif state == "poweredoff" and vm["power_state"] != OFF:
            actions.append(NodeAction(name, POWERED_OFF, vm, vm["mac"], OFF, steps=fix + ["power_off"]))
        else:
            actions.append(NodeAction(name, RECONFIGURED if fix else UNCHANGED, vm, vm["mac"], vm["power_state"],
                                      steps=fix))
    if prune:
        for vm in sorted(vms, key=lambda v: (v["name"] or "", v["moid"])):
            if vm["name"] and _owned(vm, cluster_name) and vm["name"] not in planned:
                actions.append(NodeAction(vm["name"], DELETED, vm, vm["mac"], None, steps=_removal(vm)))
    return actions, warnings


def _reinstall(node, vm, folder_name):
    """Power off, an empty disk of the same size in place of the old one, disk-first boot order, power on."""
    if vm is None:
        return NodeAction(node["name"], FAILED, error="no VM named '%s' in folder '%s': only existing nodes of the "
                          "cluster can be reinstalled" % (node["name"], folder_name))
    if vm["disk"] is None:
        return NodeAction(node["name"], FAILED, vm, vm["mac"], vm["power_state"],
                          error="VM '%s' (%s) has no disk to replace" % (node["name"], vm["moid"]))
    steps = (["power_off"] if vm["power_state"] != OFF else []) + ["replace_disk", "set_boot_order", "power_on"]
    return NodeAction(node["name"], REINSTALLED, vm, vm["mac"], ON, steps=steps)


def _conflict(vm, folder_name):
    if vm["template"]:
        what = "a template"
    elif vm["marker"]:
        what = "managed by netboot.coreos cluster '%s'" % vm["marker"]
    else:
        what = "not managed by netboot.coreos (no %s extraConfig key)" % MARKER_KEY
    return ("a VM named '%s' (%s) already exists in folder '%s' and is %s: it is left alone; rename or remove "
            "it, or rename the node" % (vm["name"], vm["moid"], folder_name, what))


def _foreign_warning(vm, cluster_name):
    return "VM '%s' (%s) is not managed by cluster '%s' and was left alone" % (vm["name"], vm["moid"], cluster_name)


# -- running the steps inside vCenter's budgets ----------------------------------------------------------

class Budget:
    """Units in use per host and datastore against vCenter's limits (``("host", id)``, ``("datastore", id)``)."""

    LIMITS = {"host": HOST_UNITS, "datastore": DATASTORE_UNITS}

    def __init__(self):
        self.used = {}

    def free(self, resource):
        return self.LIMITS[resource[0]] - self.used.get(resource, 0)

    def fits(self, charges):
        return all(units <= self.free(resource) for resource, units in charges.items())

    def take(self, charges):
        for resource, units in charges.items():
            self.used[resource] = self.used.get(resource, 0) + units

    def give(self, charges):
        for resource, units in charges.items():
            self.used[resource] -= units


def clone_charges(source_host, host, source_datastore, datastore):
    """What a full clone costs, per resource (the same host or datastore on both ends is charged once)."""
    charges = {}
    for resource, units in ((("host", source_host), CLONE_HOST_COST), (("host", host), CLONE_HOST_COST),
                            (("datastore", source_datastore), CLONE_DATASTORE_COST),
                            (("datastore", datastore), CLONE_DATASTORE_COST)):
        if resource[1] is not None:
            charges[resource] = units
    return charges


def _key(obj):
    """A managed object's moId (the budget's key), or None."""
    return obj._moId if obj is not None else None


class ClonePlacement:
    """Where clones go: the hosts they may land on, and the template's own host and datastore (the source).

    Hosts and datastores are named by key (their moId): the budget is looked up for every clone admitted, and
    a pyVmomi object hashes by formatting itself. ``objects`` maps each key to its object for the CloneSpec.
    """

    def __init__(self, pool, hosts, source_host, source_datastore, datastore, objects=None):
        self.pool = pool
        self.hosts = list(hosts)
        self.source_host = source_host
        self.source_datastore = source_datastore
        self.datastore = datastore
        self.objects = objects or {}

    def admit(self, budget):
        """The host with the most free units where a clone fits now, and its charges; (None, None) if none."""
        for host in sorted(self.hosts, key=lambda h: -budget.free(("host", h))):
            charges = clone_charges(self.source_host, host, self.source_datastore, self.datastore)
            if budget.fits(charges):
                return host, charges
        return None, None


class TaskScheduler:
    """Run NodeActions' steps as vCenter tasks: at most ``parallel`` in flight, clones inside the budgets.

    ``start(action)`` starts the action's current step and returns its task (raising VCenterError when vCenter
    refuses); ``placement`` (a ClonePlacement) admits clones. Task states are polled in bulk, and an action's
    next step starts before new actions do.
    """

    def __init__(self, client, parallel, timeout, placement=None, poll=0.02, max_poll=0.5):
        self.client = client
        self.parallel = max(1, int(parallel))
        self.timeout = timeout
        self.placement = placement
        self.poll = poll
        self.max_poll = max_poll
        self.budget = Budget()

    def _admit(self, action):
        """The charges of the action's next step, or None when it has to wait for room."""
        if action.step != "clone":
            return {}
        host, charges = self.placement.admit(self.budget)
        action.host = host
        return charges

    def _select(self, ready, in_flight):
        """The actions to start now, taken from ``ready`` in order; once one clone does not fit, no other
        clone does (they share one placement), so the rest of the clones wait without being admitted again."""
        batch, waiting, clones_fit = [], [], True
        room = self.parallel - len(in_flight)
        while ready and len(batch) < room:
            action = ready.popleft()
            charges = self._admit(action) if clones_fit or action.step != "clone" else None
            if charges is None:
                clones_fit = False
                waiting.append(action)
                continue
            self.budget.take(charges)
            batch.append((action, charges))
        ready.extendleft(reversed(waiting))
        return batch

    @staticmethod
    def _start_one(start, action):
        try:
            return start(action), None
        except NetbootError as exc:
            return None, exc.msg

    def run(self, actions, start):
        ready = deque(a for a in actions if a.step is not None)
        in_flight = {}
        deadline = time.monotonic() + self.timeout
        poll = self.poll
        with ThreadPoolExecutor(max_workers=min(START_THREADS, self.parallel)) as pool:
            while ready or in_flight:
                batch = self._select(ready, in_flight)
                started = list(pool.map(lambda item: self._start_one(start, item[0]), batch))
                for (action, charges), (task, error) in zip(batch, started):
                    if error is not None:
                        self.budget.give(charges)
                        action.fail(error)
                    else:
                        in_flight[task] = (action, charges)
                if not in_flight:
                    if ready and not batch:  # nothing runs and nothing fits: no host can take a clone
                        for action in ready:
                            action.fail("%s: no ESXi host has room for a clone" % action.step.replace("_", " "))
                        return
                    continue
                finished = self.client.finished_tasks(list(in_flight))
                for task, outcome in finished.items():
                    action, charges = in_flight.pop(task)
                    self.budget.give(charges)
                    if not outcome.ok:
                        action.fail("%s failed: %s" % (action.step.replace("_", " "), outcome.error))
                        continue
                    action.step_done(outcome.result)
                    if action.step is not None:
                        ready.appendleft(action)  # finish started nodes before starting new ones
                if finished or batch:
                    poll = self.poll
                    continue
                if time.monotonic() >= deadline:
                    for left, what in (([a for a, _c in in_flight.values()], "still running"), (ready, "not started")):
                        for action in left:
                            step = action.step.replace("_", " ")
                            action.fail("%s %s after timeout=%ss" % (step, what, self.timeout))
                    return
                time.sleep(poll)
                poll = min(poll * 2, self.max_poll)


# -- the module's work -----------------------------------------------------------------------------------

class NodeClones:
    """One module run against one vCenter session (``client`` is a connected VCenterClient)."""

    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.cluster_name = params["cluster_name"]
        self.state = params["state"]
        self.folder_name = params["folder"] or "vm"
        self._datacenter = None
        self._template = None
        self._placement = None
        self.folder = None

    # vCenter objects, looked up only when needed (a no-op run never resolves the template or the pool)

    @property
    def datacenter(self):
        if self._datacenter is None:
            self._datacenter = self.client.datacenter(self.params["datacenter"])
        return self._datacenter

    def read_vms(self):
        self.folder = self.client.folder(self.datacenter, self.params["folder"])
        return [vm_record(row) for row in self.client.retrieve(vim.VirtualMachine, VM_PROPERTIES, self.folder)]

    def template(self):
        """The template's object, first NIC, first disk, host and datastore (one lookup, one read)."""
        if self._template is None:
            name = self.params["template"]
            if not name:
                raise ValidationError("template is required to clone nodes (state=%s)" % self.state)
            obj = self.client.find_vm(self.client.datacenter_folder(self.datacenter, "vm"), name,
                                      "datacenter '%s'" % self.params["datacenter"], kind="template", required=True)
            row = self.client.retrieve_objects([obj], ["config.hardware.device", "runtime.host", "datastore"])[0]
            devices = row.get("config.hardware.device")
            nic = first_device(devices, vim.vm.device.VirtualEthernetCard)
            if nic is None:
                raise ValidationError("template '%s' has no network adapter: nodes boot from the network and "
                                      "get their MAC on its first adapter" % name)
            self._template = dict(obj=obj, nic=nic, disk=first_device(devices, vim.vm.device.VirtualDisk),
                                  host=row.get("runtime.host"), datastore=(row.get("datastore") or [None])[0])
        return self._template

    def placement(self):
        """The resource pool, datastore and candidate hosts of new clones (a ClonePlacement)."""
        if self._placement is None:
            template = self.template()
            pool, _host, hosts = self.client.placement(self.datacenter, self.params["cluster"],
                                                       self.params["resource_pool"])
            datastore = template["datastore"]
            if self.params["datastore"]:
                datastore = self.client.datastore(self.datacenter, self.params["datastore"])
            states = self.client.retrieve_objects(hosts, ["runtime.connectionState", "runtime.inMaintenanceMode"])
            usable = [r["obj"] for r in states if r.get("runtime.connectionState") == "connected"
                      and not r.get("runtime.inMaintenanceMode")]
            if not usable:
                raise VCenterError("no connected ESXi host outside maintenance mode in '%s' for the clones"
                                   % (self.params["cluster"] or self.params["resource_pool"] or "the datacenter"))
            objects = {obj._moId: obj for obj in usable + [template["host"], template["datastore"], datastore]
                       if obj is not None}
            self._placement = ClonePlacement(pool, [host._moId for host in usable], _key(template["host"]),
                                             _key(template["datastore"]), _key(datastore), objects)
        return self._placement

    def clone_spec(self, action):
        template, placement, node = self.template(), self.placement(), action.node
        template_nic = template["nic"]
        nic = type(template_nic)(key=template_nic.key, backing=template_nic.backing,
                                 controllerKey=template_nic.controllerKey, unitNumber=template_nic.unitNumber,
                                 deviceInfo=template_nic.deviceInfo, connectable=template_nic.connectable,
                                 addressType="manual", macAddress=node["mac"])
        config = vim.vm.ConfigSpec(
            deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)],
            extraConfig=[vim.option.OptionValue(key=MARKER_KEY, value=self.cluster_name)],
            annotation="Node %s of cluster %s, managed by the netboot.coreos Ansible collection"
                       % (node["name"], self.cluster_name))
        if template["disk"] is not None:
            config.bootOptions = boot_options(template["disk"], template_nic)  # whatever order the template has
        if node.get("num_cpus"):
            config.numCPUs = node["num_cpus"]
        if node.get("memory_mb"):
            config.memoryMB = node["memory_mb"]
        location = vim.vm.RelocateSpec(pool=placement.pool, datastore=placement.objects.get(placement.datastore),
                                       host=placement.objects.get(action.host))
        # powerOn stays False: vcsim 0.24 ignores it, and powering on as a separate task is the same on both
        return vim.vm.CloneSpec(location=location, config=config, powerOn=False, template=False)

    def _devices(self, vm_obj):
        devices = self.client.retrieve_objects([vm_obj], ["config.hardware.device"])[0].get("config.hardware.device")
        return (first_device(devices, vim.vm.device.VirtualDisk),
                first_device(devices, vim.vm.device.VirtualEthernetCard))

    def start(self, action):
        """Start the action's current step; the task (VCenterError when vCenter refuses the call)."""
        step, vm = action.step, action.vm_obj
        what = "%s of node '%s'" % (step.replace("_", " "), action.name)
        if step == "clone":
            return self.client.call(what, self.template()["obj"].CloneVM_Task, folder=self.folder, name=action.name,
                                    spec=self.clone_spec(action))
        if step == "power_on":
            return self.client.call(what, vm.PowerOnVM_Task)
        if step == "power_off":
            return self.client.call(what, vm.PowerOffVM_Task)
        if step == "destroy":
            return self.client.call(what, vm.Destroy_Task)
        if step == "replace_disk":
            return self.client.call(what, vm.ReconfigVM_Task, spec=empty_disk_spec(action.vm["disk"]))
        disk, nic = self._devices(vm) if "replace_disk" in action.results else (action.vm["disk"], action.vm["nic"])
        return self.client.call(what, vm.ReconfigVM_Task, spec=vim.vm.ConfigSpec(bootOptions=boot_options(disk, nic)))

    def converge(self, check_mode):
        nodes = normalise_nodes(self.params["nodes"], self.state)
        vms = self.read_vms()
        actions, warnings = plan_actions(nodes, vms, self.cluster_name, self.state, self.params["prune"],
                                         self.folder_name)
        before = {a.name: _diff_entry((a.vm or {}).get("power_state"), (a.vm or {}).get("boot_order"))
                  for a in actions}
        if self.state == "reinstalled" and any(a.action == FAILED for a in actions):
            for action in actions:  # a reinstall starts only when every name is a node of this cluster
                if action.action != FAILED:
                    action.action, action.steps = UNCHANGED, []
                    action.power_state, action.boot_order = action.vm["power_state"], action.vm["boot_order"]
            return self._result(actions, warnings, before, "nothing was reinstalled, fix the names and rerun")
        work = [a for a in actions if a.steps]
        if any("clone" in a.steps for a in work):
            try:
                self.placement()  # the template and placement are checked in check mode too
            except NotFoundError as error:
                # site.yml --check on a new vCenter: the template play before this one creates the template
                if not (check_mode and self.params.get("template_pending") and error.kind == "template"):
                    raise
                warnings.append("%s; check mode predicts the clones of the template a real run of "
                                "netboot.coreos.vmware_template creates first" % error.msg)
        if work and not check_mode:
            TaskScheduler(self.client, self.params["parallel"], self.params["timeout"],
                          self._placement).run(work, self.start)
            self._settle(work)
        return self._result(actions, warnings, before)

    def _settle(self, work):
        """The outcome of each action run: one read of the new clones' uuid; the rest is known already."""
        clones = [a for a in work if "clone" in a.results]
        rows = self.client.retrieve_objects([a.results["clone"] for a in clones], ["config.uuid"]) if clones else []
        uuids = {row["obj"]: row.get("config.uuid") for row in rows}
        for action in work:
            if "clone" in action.results:
                action.uuid = uuids.get(action.results["clone"])
            if action.error:
                action.settle()

    @staticmethod
    def _result(actions, warnings, before, outcome="the others converged and stay, rerun to retry"):
        nodes = [a.entry() for a in actions]
        summary = {}
        for node in nodes:
            summary.setdefault(node["action"], []).append(node["name"])
        changed = any(a.action not in (UNCHANGED, NOT_MANAGED, FAILED) or a.results for a in actions)
        after = {a.name: _diff_entry(a.power_state, a.boot_order) for a in actions}
        result = dict(nodes=nodes, summary=summary, warnings=warnings, diff=dict(before=before, after=after))
        failed = [n for n in nodes if n["action"] == FAILED]
        if failed:
            lines = ["%s: %s" % (n["name"], n["error"]) for n in failed]
            raise NodeClonesError("%d of %d nodes failed (%s); %s: %s"
                                  % (len(failed), len(nodes), ", ".join(n["name"] for n in failed), outcome,
                                     "; ".join(lines)), changed=changed, **result)
        return changed, result


def _diff_entry(power_state, boot_order):
    """A node in the diff: its power state (or absent) and boot order."""
    return {"power_state": power_state or "absent", "boot_order": list(boot_order or []) if power_state else []}


def empty_disk_spec(disk):
    """Replace ``disk`` by an empty one of the same size, controller slot and provisioning (its file deleted)."""
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        diskMode="persistent", fileName="", datastore=getattr(disk.backing, "datastore", None),
        thinProvisioned=bool(getattr(disk.backing, "thinProvisioned", True)))
    new = vim.vm.device.VirtualDisk(key=-101, controllerKey=disk.controllerKey, unitNumber=disk.unitNumber,
                                    capacityInKB=disk.capacityInKB, backing=backing)
    return vim.vm.ConfigSpec(deviceChange=[
        vim.vm.device.VirtualDeviceSpec(operation="remove", device=disk, fileOperation="destroy"),
        vim.vm.device.VirtualDeviceSpec(operation="add", device=new, fileOperation="create")])


def converge_node_clones(client, params, check_mode):
    """The module's work: ``(changed, result)``; NodeClonesError (with every node's outcome) on failures."""
    if params["parallel"] < 1:
        raise ValidationError("parallel must be 1 or more, got %d" % params["parallel"])
    return NodeClones(client, params).converge(check_mode)
