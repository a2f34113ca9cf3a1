#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cluster_node_remove
short_description: Drain nodes and remove them from Rancher before their VMs are deleted
version_added: 0.1.0
description:
  - Takes the nodes of O(nodes) out of the Kubernetes cluster safely, the step before their VMs are deleted
    (the node_clones role runs it when nodes leave the plan or are decommissioned).
  - Each node is found in Kubernetes by its VM's BIOS UUID (the Node's C(status.nodeInfo.systemUUID)), else by
    its planned host name, else by its VM name. A node found in neither Kubernetes nor Rancher is reported
    V(not_in_cluster) and needs nothing.
  - Everything is read and checked first. A node with the etcd or control plane role (in the plan, its
    Kubernetes role labels or its Rancher roles) fails the run before anything changes.
  - Then every leaving node is cordoned, its pods are evicted through the Eviction API (policy/v1, so
    PodDisruptionBudgets are honoured; DaemonSet pods, mirror pods and finished pods stay, as
    C(kubectl drain) leaves them), the module waits until they are gone, and removes the nodes from Rancher
    (an RKE2/K3s node through its cluster.x-k8s.io Machine; Rancher then deletes the Kubernetes node; reached
    by kubeconfig alone, the Node object is deleted).
  - An eviction that a PodDisruptionBudget refuses (HTTP 429), or pods that do not leave within
    O(drain_timeout), stop the run. The nodes it cordoned are uncordoned and nothing is removed, so no VM is
    deleted either.
  - With O(kubeconfig) and O(url) both set, the Kubernetes side goes through the kubeconfig and the nodes are
    still removed from Rancher through O(url).
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.kubernetes
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads and checks everything, lists the pods that would be evicted, changes nothing.
  diff_mode:
    support: none
options:
  nodes:
    description:
      - The leaving nodes, VMs this collection manages. C(name) (the VM name) is required; C(uuid) (the VM's
        BIOS UUID, as M(netboot.coreos.vmware_node_clones) returns it), C(hostname) and C(roles) (of the node
        plan) help find the node and check it.
    type: list
    elements: dict
    required: true
  drain_timeout:
    description: Seconds to wait for the evicted pods to be gone.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Take prod-node07 out of the cluster
  netboot.coreos.cluster_node_remove:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: prod
    nodes:
      - {name: prod-node07, hostname: coreos27, uuid: 4211d4b6-8f3e-4c7f-9d7e-3d3f2a0e1b07}
"""

RETURN = r"""
nodes:
  description: Per leaving node, what was (or in check mode would be) done.
  returned: success
  type: list
  elements: dict
  sample:
    - name: prod-node07
      kubernetes_node: coreos27
      rancher_node: "c-m-4xvz8r2q:m-1a2b3"
      action: removed
      evicted: [default/web-7d4b9c-x2k4q]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import KUBERNETES_ARGUMENT_SPEC
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.node_drain import remove_cluster_nodes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            KUBERNETES_ARGUMENT_SPEC,
            nodes=dict(type="list", elements="dict", required=True),
            drain_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    run_module(module, lambda: remove_cluster_nodes(module.params, check_mode=module.check_mode))


if __name__ == "__main__":
    main()
