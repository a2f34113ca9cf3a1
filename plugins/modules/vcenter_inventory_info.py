#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vcenter_inventory_info
short_description: List the datacenters, clusters, hosts, datastores and networks a vCenter holds
version_added: 0.1.0
description:
  - Reads the vCenter inventory in one PropertyCollector call and returns it per datacenter.
  - Use it to check connection settings and to find the names other modules of this collection expect.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.vcenter
  - netboot.coreos.attributes
  - netboot.coreos.attributes.INFO_MODULE
options:
  datacenter:
    description:
      - Only return this datacenter. Fails, naming the datacenters that exist, if it is not found.
    type: str
"""

EXAMPLES = r"""
- name: Show what the vCenter holds
  netboot.coreos.vcenter_inventory_info:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
  register: vcenter

- name: Print the clusters of DC0
  ansible.builtin.debug:
    var: vcenter.datacenters.DC0.clusters
"""

RETURN = r"""
datacenters:
  description: One entry per datacenter name.
  returned: success
  type: dict
  sample:
    DC0:
      clusters: [DC0_C0]
      hosts: [DC0_C0_H0, DC0_C0_H1, DC0_C0_H2, DC0_H0]
      datastores: [LocalDS_0]
      networks: [DC0_DVPG0, VM Network]
about:
  description: Product name and API version of the vCenter.
  returned: success
  type: dict
  sample: {full_name: "VMware vCenter Server 6.5.0 build-5973321", api_version: "6.5"}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import (
    HAS_PYVMOMI, PYVMOMI_IMPORT_ERROR, VCENTER_ARGUMENT_SPEC, VCenterClient)


def read_inventory(params):
    with VCenterClient.from_params(params) as client:
        datacenters = client.inventory()
        about = client.content.about
    wanted = params["datacenter"]
    if wanted:
        if wanted not in datacenters:
            raise NotFoundError("datacenter", wanted, datacenters)
        datacenters = {wanted: datacenters[wanted]}
    return False, dict(datacenters=datacenters, about=dict(full_name=about.fullName, api_version=about.apiVersion))


def main():
    module = AnsibleModule(argument_spec=dict(VCENTER_ARGUMENT_SPEC, datacenter=dict(type="str")),
                           supports_check_mode=True)
    if not HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyvmomi"), exception=PYVMOMI_IMPORT_ERROR)
    run_module(module, lambda: read_inventory(module.params))


if __name__ == "__main__":
    main()
