# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


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
    aliases: [admin, user]
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    required: true
    aliases: [pass, pwd]
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
  proxy_host:
    description:
      - Name or address of an HTTP proxy that relays the HTTPS connections to vCenter (HTTP C(CONNECT)).
      - If not set, the value of the E(VMWARE_PROXY_HOST) environment variable is used.
    type: str
  proxy_port:
    description:
      - Port of the HTTP proxy O(proxy_host); required with it.
      - If not set, the value of the E(VMWARE_PROXY_PORT) environment variable is used.
    type: int
notes:
  - One vCenter session is opened per module run and logged out when the module ends.
  - Set the options once for all of the collection's vCenter modules with
    C(module_defaults) and the action group C(group/netboot.coreos.vmware).
  - "Precedence, highest first: the task's own option (the roles pass an inventory value only when it is set),
    C(module_defaults), the E(VMWARE_*) environment variables (what an AWX VMware credential injects), the
    default."
requirements:
  - pyvmomi >= 8.0.1.0
"""
