#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vmware_node_clones
short_description: Clone, power, reinstall and remove the node VMs of a cluster from a node plan, many at once
version_added: 0.1.0
description:
  - Converges the VMs of the nodes in O(nodes), the output of the P(netboot.coreos.node_plan#filter) filter.
    It clones the missing ones from O(template) with their planned MAC, powers them on or off, and removes
    them with O(state=absent) or, with O(prune=true), removes the cluster's VMs that are no longer planned.
  - Reads every VM of O(folder) once (one PropertyCollector call), computes the difference, then runs the
    vCenter tasks concurrently, started from a small pool of threads. Clones follow vCenter's cost model. A
    full clone costs 4 of an ESXi host's 16 units (on the template's host and on the host the clone lands
    on) and 16 of a datastore's 128, so no host or datastore is asked for more than it runs at once; each
    clone goes to the host with the most room. O(parallel) caps the tasks in flight in total. A no-op run
    makes no change and no task.
  - Clones boot the disk first, then the network (an empty disk falls through to the network and installs;
    an installed disk boots itself). A managed VM with another boot order is corrected (V(reconfigured)).
  - Each clone gets its MAC on the template's first network adapter (address type manual) and the
    ownership marker, the extraConfig key C(netboot.coreos.cluster) set to O(cluster_name). VMs without
    this marker (or with another cluster's) are never modified or deleted, whatever their name; a node whose
    name is taken by such a VM fails and the others still converge.
  - When some nodes fail, the others stay as they are, every node's outcome is returned and the module
    fails with one line per failed node; a rerun converges.
  - Powering off is a hard power off (the nodes are cattle; they are being removed or reinstalled).
  - O(state=reinstalled) reprovisions the nodes named in O(nodes) deliberately. Power off, the disk replaced
    by an empty one of the same size (the old disk file is deleted), disk-first boot order, power on; the node
    then network-boots and installs itself again. It runs only when every name is a VM of this cluster,
    otherwise it fails naming the others and changes nothing.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.vcenter
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The power state (or V(absent)) of every node before and after.
options:
  nodes:
    description:
      - The node plan, a list of records with at least C(name) and C(mac); C(num_cpus) and C(memory_mb)
        override the template's sizing when cloning. The plan's other keys (C(hostname), C(ip), C(roles),
        C(labels), C(taints)) are accepted and not used here.
      - With O(state=absent) or O(state=reinstalled) a C(name) is enough.
      - The records are checked by the node plan's own check (names, MACs in VMware's static range, positive
        C(num_cpus) and C(memory_mb), known keys), which names the node and the bad value, before anything is
        sent to vCenter.
    type: list
    elements: dict
    required: true
  cluster_name:
    description:
      - The cluster the nodes belong to; written on every clone as the ownership marker and used to tell
        the cluster's VMs from any other.
    type: str
    required: true
  template:
    description:
      - Name of the template (or VM) to clone, in O(datacenter). Required to clone missing nodes.
    type: str
  template_pending:
    description:
      - Check mode only - the template does not exist yet because this run creates it first (check mode of
        M(netboot.coreos.vmware_ipxe_template) predicted C(create)); the clones are predicted without it, with
        a warning. Otherwise a missing template is an error, in check mode too.
    type: bool
    default: false
  datacenter:
    description: Datacenter that holds the template and the nodes.
    type: str
    required: true
  folder:
    description:
      - VM folder of the nodes, as a path (V(/DC0/vm/k8s/prod), V(vm/k8s/prod) or V(k8s/prod)). Every VM below
        it is read. The folder must exist. Default is the datacenter's VM root folder.
    type: str
  cluster:
    description: Compute cluster the clones run in (its root resource pool unless O(resource_pool) is set).
    type: str
  resource_pool:
    description: Resource pool for the clones (inside O(cluster) when both are set).
    type: str
  datastore:
    description: Datastore for the clones. Default is the template's.
    type: str
  state:
    description:
      - V(poweredon) every node exists and runs; V(poweredoff) every node exists and is off;
        V(present) every node exists (new clones are powered on, existing ones keep their power state);
        V(absent) the nodes' VMs are powered off and deleted; V(reinstalled) the nodes' VMs get an empty disk
        and are powered on again, so they install themselves again (every run reinstalls, it is an act).
    type: str
    choices: [present, poweredon, poweredoff, absent, reinstalled]
    default: poweredon
  prune:
    description:
      - Also power off and delete the VMs that carry this cluster's marker but are not in O(nodes).
    type: bool
    default: false
  parallel:
    description:
      - Most vCenter tasks (clone, power, reconfigure, delete) in flight at once, in total. Clones also stay
        inside each host's and datastore's budget, whatever this says.
    type: int
    default: 32
  timeout:
    description: Seconds to wait for all tasks; nodes whose tasks are still running then are reported failed.
    type: int
    default: 600
notes:
  - Tested against the govmomi vCenter simulator. Real vCenter also keeps the annotation written on clones.
seealso:
  - plugin: netboot.coreos.node_plan
    plugin_type: filter
    description: Builds the node plan with deterministic MACs.
"""

EXAMPLES = r"""
- name: Clone and power on the planned nodes
  netboot.coreos.vmware_node_clones:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    datacenter: DC0
    cluster: DC0_C0
    folder: k8s/prod
    template: coreos-ipxe-template
    cluster_name: prod
    nodes: "{{ coreos_node_plan }}"
  register: clones

- name: Scale to 8 nodes, removing the cluster's other VMs
  netboot.coreos.vmware_node_clones:
    datacenter: DC0
    cluster: DC0_C0
    template: coreos-ipxe-template
    cluster_name: prod
    nodes: "{{ [] | netboot.coreos.node_plan(cluster_name='prod', count=8) }}"
    prune: true

- name: Reinstall a node (an empty disk, then it network-boots and installs itself again)
  netboot.coreos.vmware_node_clones:
    datacenter: DC0
    cluster_name: prod
    nodes: [{name: prod-node03}]
    state: reinstalled

- name: Decommission two nodes
  netboot.coreos.vmware_node_clones:
    datacenter: DC0
    cluster_name: prod
    nodes: [{name: prod-node07}, {name: prod-node08}]
    state: absent
"""

RETURN = r"""
nodes:
  description:
    - One entry per planned node (in plan order), then the pruned VMs. Also returned when the module fails.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node (VM) name.
      type: str
    action:
      description:
        - V(cloned), V(powered_on), V(powered_off), V(deleted), V(reinstalled), V(reconfigured) (boot order
          corrected), V(unchanged), V(not_managed) (with O(state=absent), a VM of that name exists but is not
          this cluster's, and was left alone) or V(failed); in check mode what would be done.
      type: str
    moid:
      description: Managed object id of the VM (null for a clone not made yet).
      type: str
    uuid:
      description: BIOS UUID of the VM.
      type: str
    mac:
      description: MAC address of the VM's first network adapter.
      type: str
    power_state:
      description: V(poweredOn), V(poweredOff), V(suspended), or null once deleted.
      type: str
    error:
      description: Why the node failed (only on failed nodes).
      type: str
    completed:
      description: The steps (clone, set_boot_order, power_on, power_off, replace_disk, destroy) done before a
        node failed.
      type: list
      elements: str
  sample:
    - {name: prod-node01, action: cloned, moid: vm-71, uuid: 4210aa4b-..., mac: "00:50:56:20:5f:9b",
       power_state: poweredOn}
summary:
  description: Node names per action.
  returned: always
  type: dict
  sample: {cloned: [prod-node03], unchanged: [prod-node01, prod-node02], deleted: [prod-node09]}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import STATES, converge_node_clones
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import (
    HAS_PYVMOMI, PYVMOMI_IMPORT_ERROR, VCENTER_ARGUMENT_SPEC, VCenterClient)

ARGUMENT_SPEC = dict(
    VCENTER_ARGUMENT_SPEC,
    nodes=dict(type="list", elements="dict", required=True),
    cluster_name=dict(type="str", required=True),
    template=dict(type="str"),
    template_pending=dict(type="bool", default=False),
    datacenter=dict(type="str", required=True),
    folder=dict(type="str"),
    cluster=dict(type="str"),
    resource_pool=dict(type="str"),
    datastore=dict(type="str"),
    state=dict(type="str", choices=list(STATES), default="poweredon"),
    prune=dict(type="bool", default=False),
    parallel=dict(type="int", default=32),
    timeout=dict(type="int", default=600),
)


def converge(params, check_mode):
    with VCenterClient.from_params(params) as client:
        return converge_node_clones(client, params, check_mode)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyvmomi"), exception=PYVMOMI_IMPORT_ERROR)
    run_module(module, lambda: converge(module.params, module.check_mode))


if __name__ == "__main__":
    main()
