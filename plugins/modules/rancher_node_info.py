#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rancher_node_info
short_description: List the nodes of a Rancher cluster, or wait until given hosts have registered
version_added: 0.1.0
description:
  - Reads the nodes of the Rancher 2.x cluster O(cluster) (v3 API, every page) and returns, per node, its id,
    host name, Kubernetes node name, state and Rancher roles.
  - With O(wait=true) it polls every O(wait_delay) seconds until every host name of O(hostnames) is registered
    (as a node's host name or node name), and fails naming the hosts still missing after O(wait_timeout)
    seconds.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.rancher
  - netboot.coreos.attributes
  - netboot.coreos.attributes.INFO_MODULE
options:
  cluster:
    description:
      - Name or id (V(c-xxxxx), V(c-m-xxxxxxxx)) of the Rancher cluster. Fails, listing the clusters that exist,
        if it is not found.
    type: str
    required: true
  hostnames:
    description: Host names to look for (the node plan's C(hostname) of each node).
    type: list
    elements: str
    default: []
  wait:
    description: Poll until every host of O(hostnames) is registered.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait=true).
    type: int
    default: 1800
  wait_delay:
    description: Seconds between two polls.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Wait until the new nodes have joined the cluster
  netboot.coreos.rancher_node_info:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: prod
    hostnames: [coreos21, coreos22]
    wait: true
    wait_timeout: 1800

- name: List the cluster's nodes
  netboot.coreos.rancher_node_info:
    cluster: prod
  register: rancher_nodes
"""

RETURN = r"""
cluster_id:
  description: Id of the cluster.
  returned: success
  type: str
  sample: c-m-4xvz8r2q
nodes:
  description: The cluster's nodes.
  returned: success
  type: list
  elements: dict
  sample:
    - {id: "c-m-4xvz8r2q:m-1a2b3", hostname: coreos21, node_name: coreos21, state: active, roles: [worker]}
missing:
  description: Host names of O(hostnames) that are not registered (empty once the wait succeeded).
  returned: success
  type: list
  elements: str
  sample: []
polls:
  description: How many times the node list was read.
  returned: success
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import RANCHER_ARGUMENT_SPEC
from ansible_collections.netboot.coreos.plugins.module_utils.rancher_nodes import rancher_node_info


def main():
    module = AnsibleModule(
        argument_spec=dict(
            RANCHER_ARGUMENT_SPEC,
            cluster=dict(type="str", required=True),
            hostnames=dict(type="list", elements="str", default=[]),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
            wait_delay=dict(type="int", default=10),
        ),
        required_together=[("access_key", "secret_key")],
        supports_check_mode=True,
    )
    run_module(module, lambda: rancher_node_info(module.params))


if __name__ == "__main__":
    main()
