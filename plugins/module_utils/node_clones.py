# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge the node VMs of one cluster: clone the missing ones, set power states, prune or remove.

Read before write: one PropertyCollector read of every VM in the folder gives name, power state, template
flag, extraConfig (the ownership marker) and devices (the MAC); ``plan_actions`` turns it and the node plan
into per-node actions without touching vCenter, so check mode returns exactly that. ``NodeClones.apply``
then runs the actions as task chains (clone -> power on, power off -> destroy) with at most ``parallel``
vCenter tasks in flight.

Ownership: a VM is managed when its extraConfig holds MARKER_KEY = cluster_name. VMs without it (or with
another cluster's) are never modified or deleted, whatever their name; a planned node whose name is taken by
such a VM fails with a message saying so, and the others still converge.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from collections import deque

from ansible.module_utils.six.moves import http_client

from ansible_collections.netboot.coreos.plugins.module_utils.errors import (
    NetbootError, NotFoundError, ValidationError)
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import normalise_mac, unique_values
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import fault_message

try:
    from pyVmomi import vim, vmodl
except ImportError:
    pass  # the module reports the missing library through HAS_PYVMOMI

MARKER_KEY = "netboot.coreos.cluster"
STATES = ("present", "poweredon", "poweredoff", "absent")
VM_PROPERTIES = ["name", "runtime.powerState", "config.template", "config.extraConfig", "config.uuid",
                 "config.hardware.device"]
ON, OFF = "poweredOn", "poweredOff"

# action reported per node (the same words in check mode and in a real run)
CLONED, POWERED_ON, POWERED_OFF, DELETED, UNCHANGED, FAILED = (
    "cloned", "powered_on", "powered_off", "deleted", "unchanged", "failed")


class NodeClonesError(NetbootError):
    """Some nodes did not converge; ``details`` carries every node's outcome."""


# -- reading ---------------------------------------------------------------------------------------------

def first_nic(devices):
    for device in devices or []:
        if isinstance(device, vim.vm.device.VirtualEthernetCard):
            return device
    return None


def vm_record(row):
    """A VM row of the PropertyCollector read as plain data (plus ``obj``)."""
    marker = None
    for option in row.get("config.extraConfig") or []:
        if option.key == MARKER_KEY:
            marker = option.value
    nic = first_nic(row.get("config.hardware.device"))
    return {
        "obj": row["obj"],
        "name": row.get("name"),
        "moid": row["obj"]._moId,
        "uuid": row.get("config.uuid"),
        "power_state": row.get("runtime.powerState"),
        "template": bool(row.get("config.template")),
        "marker": marker,
        "mac": nic.macAddress.lower() if nic is not None and nic.macAddress else None,
    }


# -- planning (pure: no vCenter calls) -------------------------------------------------------------------

def normalise_nodes(nodes, state):
    """The node plan records the module needs (name, mac, num_cpus, memory_mb), validated."""
    result = []
    for position, node in enumerate(nodes or []):
        if not isinstance(node, dict) or not node.get("name"):
            raise ValidationError("nodes[%d] must be a node plan record with at least a name, got %r"
                                  % (position, node))
        name = str(node["name"])
        mac = node.get("mac")
        if mac is None and state != "absent":
            raise ValidationError("node '%s' has no mac: give the records of the netboot.coreos.node_plan filter"
                                  % name)
        result.append({"name": name, "mac": normalise_mac(mac, name) if mac is not None else None,
                       "num_cpus": node.get("num_cpus"), "memory_mb": node.get("memory_mb")})
    seen = set()
    for node in result:
        if node["name"] in seen:
            raise ValidationError("duplicate node name '%s' in nodes" % node["name"])
        seen.add(node["name"])
    unique_values(result, "mac")
    return result


def _outcome(name, action, vm=None, mac=None, power_state=None, error=None, steps=()):
    return {"name": name, "action": action, "vm": vm, "mac": mac, "power_state": power_state, "error": error,
            "steps": list(steps)}


def plan_actions(nodes, vms, cluster_name, state, prune, folder_name):
    """Per-node actions from the node plan and the VMs read; returns (actions, warnings).

    Each action: name, action (cloned, powered_on, powered_off, deleted, unchanged, failed), vm (the VM
    record or None), mac, power_state (predicted), error, steps (the vCenter operations to run, in order).
    """
    def owned(vm):
        return vm["marker"] == cluster_name and not vm["template"]

    by_name = {}
    for vm in vms:
        by_name.setdefault(vm["name"], []).append(vm)
    actions, warnings = [], []
    planned = set()
    for node in nodes:
        name = node["name"]
        planned.add(name)
        same_name = by_name.get(name, [])
        managed = [vm for vm in same_name if owned(vm)]
        foreign = [vm for vm in same_name if not owned(vm)]
        if len(managed) > 1:
            actions.append(_outcome(name, FAILED, error="%d VMs named '%s' carry the marker of cluster '%s' (%s); "
                                    "delete the extra ones" % (len(managed), name, cluster_name,
                                                               ", ".join(vm["moid"] for vm in managed))))
            continue
        vm = managed[0] if managed else None
        if state == "absent":
            if vm is not None:
                steps = (["power_off"] if vm["power_state"] != OFF else []) + ["destroy"]
                actions.append(_outcome(name, DELETED, vm, vm["mac"], None, steps=steps))
            else:
                actions.append(_outcome(name, UNCHANGED, mac=node["mac"]))
            warnings.extend(_foreign_warning(f, cluster_name) for f in foreign)
            continue
        if vm is None and foreign:
            conflict = _conflict(foreign[0], folder_name)
            actions.append(_outcome(name, FAILED, mac=node["mac"], error=conflict))
            continue
        if vm is None:
            steps = ["clone"] + (["power_on"] if state in ("present", "poweredon") else [])
            power = ON if "power_on" in steps else OFF
            actions.append(_outcome(name, CLONED, None, node["mac"], power, steps=steps))
            continue
        if vm["mac"] != node["mac"]:
            warnings.append("node '%s' has MAC %s but the plan says %s: MACs are only set when cloning; "
                            "decommission and re-create the node to apply it" % (name, vm["mac"], node["mac"]))
        if state == "poweredon" and vm["power_state"] != ON:
            actions.append(_outcome(name, POWERED_ON, vm, vm["mac"], ON, steps=["power_on"]))
        elif state == "poweredoff" and vm["power_state"] != OFF:
            actions.append(_outcome(name, POWERED_OFF, vm, vm["mac"], OFF, steps=["power_off"]))
        else:
            actions.append(_outcome(name, UNCHANGED, vm, vm["mac"], vm["power_state"]))
    if prune:
        for vm in sorted(vms, key=lambda v: (v["name"] or "", v["moid"])):
            if owned(vm) and vm["name"] not in planned:
                steps = (["power_off"] if vm["power_state"] != OFF else []) + ["destroy"]
                actions.append(_outcome(vm["name"], DELETED, vm, vm["mac"], None, steps=steps))
    return actions, warnings


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
    return ("VM '%s' (%s) is not managed by cluster '%s' and was left alone" % (vm["name"], vm["moid"], cluster_name))


# -- running task chains ---------------------------------------------------------------------------------

class TaskChains:
    """Run per-node chains of vCenter tasks with at most ``parallel`` tasks in flight, polling in bulk."""

    def __init__(self, client, parallel, timeout, poll=0.02, max_poll=0.5):
        self.client = client
        self.parallel = max(1, int(parallel))
        self.timeout = timeout
        self.poll = poll
        self.max_poll = max_poll

    def run(self, chains, start_step):
        """``start_step(chain)`` starts the chain's current step and returns its task.

        A chain is a dict with ``steps`` and ``error``; its ``index`` advances as steps succeed, and each
        step's task result is stored under ``results``. Failures end the chain with ``error`` set.
        """
        ready = deque(chains)
        for chain in chains:
            chain.update(index=0, results={})
        in_flight = {}
        deadline = time.monotonic() + self.timeout
        poll = self.poll
        while ready or in_flight:
            while ready and len(in_flight) < self.parallel:
                chain = ready.popleft()
                task = self._start(chain, start_step)
                if task is not None:
                    in_flight[task] = chain
            if not in_flight:
                continue
            finished = self.client.finished_tasks(list(in_flight))
            for task, outcome in finished.items():
                chain = in_flight.pop(task)
                step = chain["steps"][chain["index"]]
                if not outcome.ok:
                    chain["error"] = "%s failed: %s" % (step.replace("_", " "), outcome.error)
                    continue
                chain["results"][step] = outcome.result
                chain["index"] += 1
                if chain["index"] < len(chain["steps"]):
                    ready.appendleft(chain)  # finish started nodes before starting new ones
            if finished:
                poll = self.poll
                continue
            if time.monotonic() >= deadline:
                for chains_left, what in ((in_flight.values(), "still running"), (ready, "not started")):
                    for chain in chains_left:
                        chain["error"] = "%s %s after timeout=%ss" % (
                            chain["steps"][chain["index"]].replace("_", " "), what, self.timeout)
                return
            time.sleep(poll)
            poll = min(poll * 2, self.max_poll)

    @staticmethod
    def _start(chain, start_step):
        try:
            return start_step(chain)
        except vmodl.MethodFault as exc:
            chain["error"] = "%s failed: %s" % (chain["steps"][chain["index"]].replace("_", " "), fault_message(exc))
        except NetbootError as exc:
            chain["error"] = exc.msg
        except (http_client.HTTPException, OSError) as exc:
            # vCenter dropped this call; the session's other calls go on over a new connection
            chain["error"] = "%s failed: connection to vCenter lost (%s)" % (
                chain["steps"][chain["index"]].replace("_", " "), exc)
        return None


# -- the module's work -----------------------------------------------------------------------------------

class NodeClones:
    """One module run against one vCenter session (``client`` is a connected VCenterClient)."""

    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.cluster_name = params["cluster_name"]
        self.state = params["state"]
        self._datacenter = None
        self._template = None
        self._pool = None
        self._datastore = None
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
        if self._template is None:
            name = self.params["template"]
            if not name:
                raise ValidationError("template is required to clone nodes (state=%s)" % self.state)
            rows = self.client.retrieve(vim.VirtualMachine, ["name"], self.datacenter.vmFolder)
            matches = [r["obj"] for r in rows if r["name"] == name]
            if len(matches) != 1:
                if matches:
                    raise ValidationError("template name '%s' is ambiguous in datacenter '%s' (%d VMs)"
                                          % (name, self.datacenter.name, len(matches)))
                raise NotFoundError("template", name, [r["name"] for r in rows],
                                    "datacenter '%s'" % self.datacenter.name)
            devices = self.client.retrieve_objects(matches, ["config.hardware.device"])[0].get(
                "config.hardware.device")
            nic = first_nic(devices)
            if nic is None:
                raise ValidationError("template '%s' has no network adapter: nodes boot from the network and "
                                      "get their MAC on its first adapter" % name)
            self._template = (matches[0], nic)
        return self._template

    def placement(self):
        if self._pool is None:
            self._pool = self.client.placement_pool(self.datacenter, self.params["cluster"],
                                                    self.params["resource_pool"])[0]
            if self.params["datastore"]:
                self._datastore = self.client.datastore(self.datacenter, self.params["datastore"])
        return self._pool, self._datastore

    def clone_spec(self, node):
        template_nic = self.template()[1]
        pool, datastore = self.placement()
        nic = type(template_nic)(key=template_nic.key, backing=template_nic.backing,
                                 controllerKey=template_nic.controllerKey, unitNumber=template_nic.unitNumber,
                                 deviceInfo=template_nic.deviceInfo, connectable=template_nic.connectable,
                                 addressType="manual", macAddress=node["mac"])
        config = vim.vm.ConfigSpec(
            deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic)],
            extraConfig=[vim.option.OptionValue(key=MARKER_KEY, value=self.cluster_name)],
            annotation="Node %s of cluster %s, managed by the netboot.coreos Ansible collection"
                       % (node["name"], self.cluster_name))
        if node.get("num_cpus"):
            config.numCPUs = int(node["num_cpus"])
        if node.get("memory_mb"):
            config.memoryMB = int(node["memory_mb"])
        location = vim.vm.RelocateSpec(pool=pool, datastore=datastore)
        # powerOn stays False: vcsim 0.24 ignores it, and powering on as a separate task is the same on both
        return vim.vm.CloneSpec(location=location, config=config, powerOn=False, template=False)

    def start_step(self, chain):
        step = chain["steps"][chain["index"]]
        vm = chain["results"].get("clone") or (chain["vm"] or {}).get("obj")
        if step == "clone":
            template = self.template()[0]
            return template.CloneVM_Task(folder=self.folder, name=chain["name"], spec=self.clone_spec(chain["node"]))
        if step == "power_on":
            return vm.PowerOnVM_Task()
        if step == "power_off":
            return vm.PowerOffVM_Task()
        return vm.Destroy_Task()

    def converge(self, check_mode):
        nodes = normalise_nodes(self.params["nodes"], self.state)
        vms = self.read_vms()
        actions, warnings = plan_actions(nodes, vms, self.cluster_name, self.state, self.params["prune"],
                                         self.params["folder"] or "vm")
        before = {a["name"]: (a["vm"] or {}).get("power_state") or "absent" for a in actions}
        node_by_name = {n["name"]: n for n in nodes}
        work = [a for a in actions if a["steps"]]
        if work and not check_mode:
            if any("clone" in a["steps"] for a in work):
                self.template()
                self.placement()
            for action in work:
                action["node"] = node_by_name.get(action["name"])
            TaskChains(self.client, self.params["parallel"], self.params["timeout"]).run(work, self.start_step)
            self._refresh(work)
        return self._result(actions, warnings, before)

    def _refresh(self, work):
        """Re-read the VMs the run created or changed (one call) for their moid, uuid, MAC and power state."""
        touched = {}
        for action in work:
            vm = action["results"].get("clone") or (action["vm"] or {}).get("obj")
            if vm is not None and "destroy" not in action["results"]:  # a destroyed VM keeps its last record
                touched[vm] = action
        rows = self.client.retrieve_objects(list(touched), VM_PROPERTIES) if touched else []
        for row in rows:
            action = touched[row["obj"]]
            action["vm"] = vm_record(row)
            action["mac"] = action["vm"]["mac"]
            action["power_state"] = action["vm"]["power_state"]
        for action in work:
            if action.get("error"):
                action["action"] = FAILED
                if action["results"].get("clone") is None and action["vm"] is None:
                    action["power_state"] = None  # the clone was never made

    @staticmethod
    def _result(actions, warnings, before):
        nodes = []
        summary = {}
        for action in actions:
            vm = action["vm"] or {}
            entry = {"name": action["name"], "action": action["action"], "moid": vm.get("moid"),
                     "uuid": vm.get("uuid"), "mac": action["mac"], "power_state": action["power_state"]}
            if action.get("error"):
                entry["error"] = action["error"]
                entry["completed"] = [s for s in action["steps"] if s in action.get("results", {})]
            nodes.append(entry)
            summary.setdefault(action["action"], []).append(action["name"])
        changed = any(a["action"] not in (UNCHANGED, FAILED) or a.get("results") for a in actions)
        after = {n["name"]: n["power_state"] or "absent" for n in nodes}
        result = dict(nodes=nodes, summary=summary, warnings=warnings, diff=dict(before=before, after=after))
        failed = [n for n in nodes if n["action"] == FAILED]
        if failed:
            lines = ["%s: %s" % (n["name"], n["error"]) for n in failed]
            raise NodeClonesError(
                "%d of %d nodes failed (%s); the others converged and stay, rerun to retry: %s"
                % (len(failed), len(nodes), ", ".join(n["name"] for n in failed), "; ".join(lines)),
                changed=changed, **result)
        return changed, result


def converge_node_clones(client, params, check_mode):
    """The module's work: ``(changed, result)``; NodeClonesError (with every node's outcome) on failures."""
    if params["parallel"] < 1:
        raise ValidationError("parallel must be 1 or more, got %d" % params["parallel"])
    return NodeClones(client, params).converge(check_mode)
