#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cluster_autoscale
short_description: Decide how many nodes a cluster needs from its real CPU and memory use, and record it
version_added: 0.1.0
description:
  - Reads the cluster's capacity like M(netboot.coreos.cluster_capacity_info), adds one sample (cluster-wide
    ratios of use and of requests to allocatable, and the pods pending for lack of CPU or memory) to the
    samples kept in the ConfigMap C(autoscale-<cluster_name>) of namespace C(netboot-coreos), and decides.
  - Up by O(step) when pods are pending for lack of CPU or memory, or when CPU or memory use (or, with
    O(use_requests), requests) stayed above O(high) for the last O(samples) samples.
  - Down by one, the least used managed worker (never an etcd or controlplane node), when every metric stayed
    below O(low) for the last O(samples) samples and the other nodes would stay below O(high) without it.
  - Never outside O(min)..O(max) (at O(max) with more needed, nothing and a warning); nothing for O(cooldown)
    seconds after a change; a change clears the samples, so the next one needs O(samples) fresh ones.
  - The ConfigMap is written over the resourceVersion read, so of two runs at once one records its decision,
    the other gets a conflict and returns C(raced=true) with nothing to do.
  - Only decides and records; it changes no node. C(playbooks/autoscale.yml)
    converges through the scale and decommission playbooks.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.kubernetes
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads and decides, records nothing.
  diff_mode:
    support: none
options:
  cluster_name:
    description:
      - Name of the cluster in the node plan (C(coreos_cluster_name)); names the state ConfigMap.
    type: str
    required: true
  nodes:
    description:
      - The node plan for O(max) nodes (records of the C(netboot.coreos.node_plan) filter). Kubernetes nodes
        named by its host names are the managed ones, and their number is the current count.
    type: list
    elements: raw
    default: []
  min:
    description: Fewest managed nodes.
    type: int
    default: 1
  max:
    description: Most managed nodes.
    type: int
    default: 10
  step:
    description: Nodes added by one scale-up.
    type: int
    default: 1
  high:
    description: Ratio of allocatable (0 to 1) above which a metric is hot.
    type: float
    default: 0.75
  low:
    description: Ratio of allocatable (0 to 1) below which a metric is cold; below O(high).
    type: float
    default: 0.3
  samples:
    description: How many consecutive samples a metric must stay above O(high) (or all below O(low)).
    type: int
    default: 3
  cooldown:
    description: Seconds after a change during which nothing changes; longer than a node takes to join.
    type: int
    default: 900
  use_requests:
    description: Count the sums of pod requests as metrics too (hot when above O(high), cold when below O(low)).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Decide the node count
  netboot.coreos.cluster_autoscale:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: prod-k8s
    cluster_name: prod-k8s
    nodes: "{{ coreos_node_plan }}"
    min: 3
    max: 12
  register: autoscale_decision
"""

RETURN = r"""
direction:
  description: V(up), V(down) or V(none).
  returned: success
  type: str
rule:
  description: The rule that fired, with its figures.
  returned: success
  type: str
  sample: cpu use above 75% for the last 3 samples (81%, 84%, 88%)
line:
  description: The decision in one line; the figures, the rule, the count before and after.
  returned: success
  type: str
  sample: "autoscale: up 3 -> 4 (cpu use above 75% for the last 3 samples (81%, 84%, 88%)); cpu 88% memory 40%,
    requests cpu 60% memory 35%, 0 pending, 3 nodes"
count_before:
  description: Managed nodes in the cluster.
  returned: success
  type: int
count_after:
  description: Managed nodes wanted.
  returned: success
  type: int
node:
  description: For V(down), the Kubernetes name of the node to remove; else empty.
  returned: success
  type: str
node_name:
  description: For V(down), the node plan (VM) name of RV(node); else empty.
  returned: success
  type: str
plan_count:
  description: The node plan count that keeps every staying node and adds the new ones (for C(scale.yml)).
  returned: success
  type: int
raced:
  description: Another run recorded first; this one did nothing.
  returned: success
  type: bool
recorded:
  description: The sample and decision were written to the state ConfigMap (false in check mode and when raced).
  returned: success
  type: bool
samples:
  description: The samples the decision looked at, oldest first.
  returned: success
  type: list
  elements: dict
capacity:
  description: What M(netboot.coreos.cluster_capacity_info) returns for the cluster.
  returned: success
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.autoscale import SETTINGS_SPEC, autoscale
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import KUBERNETES_ARGUMENT_SPEC
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(KUBERNETES_ARGUMENT_SPEC, **SETTINGS_SPEC, cluster_name=dict(type="str", required=True),
                           nodes=dict(type="list", elements="raw", default=[])),
        supports_check_mode=True,
    )
    # the decision's warnings (such as at max with more needed) become Ansible warnings
    run_module(module, lambda: autoscale(module.params, time.time(), check_mode=module.check_mode))


if __name__ == "__main__":
    main()
