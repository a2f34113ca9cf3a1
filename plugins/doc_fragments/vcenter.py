# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """Connection options of every netboot.coreos vCenter module (action group netboot.coreos.vmware)."""

    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Name or address of the vCenter server.
      - If not set, the value of the E(VMWARE_HOST) environment variable is used.
    type: str
    required: true
  username:
    description:
      - vCenter user name, for example V(administrator@vsphere.local).
      - If not set, the value of the E(VMWARE_USER) environment variable is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    required: true
  port:
    description:
      - HTTPS port of the vCenter API.
      - If not set, the value of the E(VMWARE_PORT) environment variable is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Verify the TLS certificate of vCenter against the system trust store.
      - Set to V(false) only for labs with self-signed certificates.
      - If not set, the value of the E(VMWARE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
notes:
  - One vCenter session is opened per module run and logged out when the module ends.
  - Set the options once for all of the collection's vCenter modules with
    C(module_defaults) and the action group C(group/netboot.coreos.vmware).
requirements:
  - pyvmomi >= 8.0.1.0
"""
