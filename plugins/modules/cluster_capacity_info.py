#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cluster_capacity_info
short_description: Read a Kubernetes cluster's CPU and memory, allocatable, used and requested, per node
version_added: 0.1.0
description:
  - Reads, through Rancher's Kubernetes proxy or a kubeconfig, every node's allocatable CPU and memory, its
    real use (C(metrics.k8s.io/v1beta1) NodeMetrics of metrics-server; memory is the working set) and the
    sum of the requests of the pods bound to it, and the pods pending because no node has the CPU or memory
    they request (C(PodScheduled=False), reason C(Unschedulable), C(Insufficient cpu|memory)).
  - Tells which nodes this collection manages (their name is a host name of O(nodes), the node plan) and
    which of them may be removed (managed and neither etcd nor controlplane).
  - Fails with a message naming metrics-server when the cluster has no working C(metrics.k8s.io) API.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.kubernetes
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Only reads.
  diff_mode:
    support: none
options:
  nodes:
    description:
      - The node plan (records of the C(netboot.coreos.node_plan) filter, or node names). A Kubernetes node
        whose name is a record's C(hostname) (else its C(name)) is managed by this collection; the record's
        C(roles) add to the node's role labels.
    type: list
    elements: raw
    default: []
"""

EXAMPLES = r"""
- name: Read the cluster's capacity through Rancher
  netboot.coreos.cluster_capacity_info:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: prod-k8s
    nodes: "{{ coreos_node_plan }}"
  register: capacity

- name: Read it with a kubeconfig instead
  netboot.coreos.cluster_capacity_info:
    kubeconfig: ~/.kube/prod.yaml
  register: capacity
"""

RETURN = r"""
nodes:
  description:
    - One entry per Kubernetes node, sorted by name. CPU in cores, memory in bytes; ratios are of allocatable.
  returned: success
  type: list
  elements: dict
  sample:
    - name: coreos57
      plan_name: prod-k8s-07
      managed: true
      removable: true
      roles: [worker]
      unschedulable: false
      ready: true
      has_metrics: true
      allocatable: {cpu: 4.0, memory: 16642998272.0}
      used: {cpu: 3.1, memory: 9663676416.0}
      requested: {cpu: 2.5, memory: 8589934592.0}
      used_ratio: {cpu: 0.775, memory: 0.5806}
      requested_ratio: {cpu: 0.625, memory: 0.5161}
      pods: 23
pending:
  description: Pods pending because no node has the CPU or memory they request.
  returned: success
  type: list
  elements: dict
  sample:
    - {namespace: shop, name: web-7d9f-abcde, insufficient: [cpu], requests: {cpu: 2.0, memory: 1073741824.0}}
totals:
  description:
    - Sums (C(allocatable), C(used), C(requested)) and ratios (C(used_ratio), C(requested_ratio)) over the nodes
      that take workloads (ready, schedulable workers), and how many they are (C(nodes)).
  returned: success
  type: dict
managed:
  description: Names of the Kubernetes nodes this collection manages.
  returned: success
  type: list
  elements: str
removable:
  description: Names of the managed nodes that may be removed (no etcd or controlplane role).
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.cluster_capacity import read_capacity
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import (
    KUBERNETES_ARGUMENT_SPEC, KubernetesClient)
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(KUBERNETES_ARGUMENT_SPEC, nodes=dict(type="list", elements="raw", default=[])),
        supports_check_mode=True,
    )
    run_module(module, lambda: (False, read_capacity(KubernetesClient.from_params(module.params),
                                                     module.params["nodes"])))


if __name__ == "__main__":
    main()
