#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vmware_ipxe_template
short_description: Keep an empty VM template whose NIC network-boots iPXE
version_added: 0.1.0
description:
  - Creates, corrects or removes an empty VM template for network-booted CoreOS-family nodes.
  - With O(firmware=bios) and a ROM (O(ipxe_rom) or O(ipxe_rom_src)) the NIC's option ROM is replaced by iPXE
    through the .vmx keys C(ethernet0.opromsize) and the ROM key of the NIC type (C(e1000bios.filename),
    C(e1000ebios.filename) or C(nx3bios.filename)).
  - With O(firmware=efi) no option ROM is loaded; the firmware's own network boot chainloads C(snponly.efi)
    from DHCP.
  - Always sets C(disk.enableUUID=TRUE) and the boot order disk, then network. The empty disk of a new
    clone is not bootable, so it falls through to the network and installs itself; once installed, every boot
    starts the disk. A template made with the network first is corrected by the next run.
  - The template is read once, compared setting by setting, and only the difference is applied. A drifted
    template is converted to a VM, reconfigured and marked as a template again; RV(changes) names what differed.
  - The extraConfig key C(netboot.coreos.template) marks VMs this module made, so a VM left unconverted by an
    interrupted run is completed on the next run, while a foreign VM with the same name is refused.
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
options:
  name:
    description:
      - Name of the template; unique in the datacenter.
    type: str
    required: true
  state:
    description:
      - V(present) creates the template or brings it back to the options; V(absent) removes it.
      - V(absent) removes only templates and VMs this module left half-made, never a foreign VM.
    type: str
    choices: [present, absent]
    default: present
  datacenter:
    description:
      - Datacenter of the template.
    type: str
    required: true
  folder:
    description:
      - VM folder the template is created in, as C(/DC0/vm/a/b), C(vm/a/b) or C(a/b).
      - Defaults to the datacenter's VM folder. Used when the template is created.
    type: str
  cluster:
    description:
      - Cluster whose root resource pool holds the VM while it is created or corrected.
      - Set one of O(cluster), O(resource_pool) or O(esxi_hostname) unless the datacenter has a single compute
        resource. Without O(esxi_hostname), placement inside a cluster relies on DRS.
    type: str
  resource_pool:
    description:
      - Resource pool for the VM while it is created or corrected (inside O(cluster) when both are set).
    type: str
  esxi_hostname:
    description:
      - ESXi host for the VM while it is created or corrected.
    type: str
  datastore:
    description:
      - Datastore of the VM's files and of its thin disk. Required with O(state=present).
      - Also the datastore of an uploaded ROM when O(ipxe_rom_src) is set without O(ipxe_rom).
    type: str
  distro:
    description:
      - The operating system the nodes network-boot; sets the memory minimum O(memory_mb) is checked against
        (flatcar 3072, fedora-coreos 2048, coreos 3072 MB).
    type: str
    choices: [flatcar, fedora-coreos, coreos]
    default: flatcar
  guest_id:
    description:
      - vSphere guest OS identifier.
    type: str
    default: other3xLinux64Guest
  num_cpus:
    description:
      - Virtual CPUs.
    type: int
    default: 2
  memory_mb:
    description:
      - Memory in MB. Network-booted CoreOS unpacks the OS image in RAM; below the O(distro) minimum the module
        warns, or fails with O(strict=true).
    type: int
    default: 4096
  strict:
    description:
      - Fail instead of warning when O(memory_mb) is below the O(distro) minimum.
    type: bool
    default: false
  disk_gb:
    description:
      - Size of the thin-provisioned disk in GB. A larger value grows the disk of an existing template; vSphere
        cannot shrink disks, so a smaller one fails.
    type: int
    default: 20
  network:
    description:
      - Port group of the NIC (standard or distributed).
    type: str
    default: VM Network
  nic_type:
    description:
      - Virtual NIC type. Its iPXE ROM file is C(8086100f.mrom) (e1000), C(808610d3.mrom) (e1000e) or
        C(15ad07b0.rom) (vmxnet3).
    type: str
    choices: [e1000, e1000e, vmxnet3]
    default: vmxnet3
  firmware:
    description:
      - V(bios) can load the iPXE option ROM; V(efi) cannot and boots through the firmware's network boot.
    type: str
    choices: [bios, efi]
    default: bios
  ipxe_rom:
    description:
      - Datastore path of the iPXE ROM for the NIC, as C([datastore] dir/file.rom).
      - Without O(ipxe_rom_src) the file must already exist on the datastore.
      - Defaults to C([<datastore>] ipxe/<file name of ipxe_rom_src>) when O(ipxe_rom_src) is set.
      - Not allowed with O(firmware=efi).
    type: str
  ipxe_rom_src:
    description:
      - Local ROM file uploaded to O(ipxe_rom) through the datastore file HTTP API, only when the datastore copy
        is missing or its content differs.
      - Not allowed with O(firmware=efi).
    type: path
  advanced_settings:
    description:
      - More .vmx keys (extraConfig) and their values. Keys managed by the module (C(disk.enableUUID), the ROM
        keys, C(ethernet0.opromsize), C(netboot.coreos.template)) are refused.
      - A key removed from this dict is left on the template; set it to an empty string (or null) to remove it.
    type: dict
    default: {}
notes:
  - Placement options (O(folder), O(datastore), O(cluster), O(resource_pool), O(esxi_hostname)) place a new
    template and the VM a drifted template is converted to; an existing template is not moved.
"""

EXAMPLES = r"""
- name: Upload the iPXE ROM and keep the template
  netboot.coreos.vmware_ipxe_template:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    name: coreos-ipxe-template
    datacenter: DC0
    cluster: DC0_C0
    datastore: LocalDS_0
    network: VM Network
    nic_type: vmxnet3
    ipxe_rom_src: files/15ad07b0.rom
  register: template

- name: An EFI template (the firmware's PXE chainloads snponly.efi from DHCP)
  netboot.coreos.vmware_ipxe_template:
    name: coreos-efi-template
    datacenter: DC0
    esxi_hostname: DC0_H0
    datastore: LocalDS_0
    firmware: efi
    nic_type: e1000e

- name: Remove the template
  netboot.coreos.vmware_ipxe_template:
    name: coreos-ipxe-template
    datacenter: DC0
    state: absent
"""

RETURN = r"""
moid:
  description: Managed object id of the template (null when it does not exist, or would be created in check mode).
  returned: always
  type: str
  sample: vm-61
uuid:
  description: BIOS UUID of the template (C(config.uuid)).
  returned: always
  type: str
  sample: 4230cf5e-4b5c-11e1-b1b5-4fd92d1d6a73
instance_uuid:
  description: vCenter instance UUID of the template (C(config.instanceUuid)).
  returned: always
  type: str
  sample: 50302a38-6c36-45e2-9d6c-39cf18a5b7e0
name:
  description: Name of the template.
  returned: always
  type: str
settings:
  description:
    - The effective settings after the run (what they would be, in check mode); empty once removed.
  returned: always
  type: dict
  sample:
    template: true
    guest_id: other3xLinux64Guest
    num_cpus: 2
    memory_mb: 4096
    firmware: bios
    disk_gb: 20
    nic_type: vmxnet3
    network: VM Network
    boot_order: [disk, network]
    extra_config:
      disk.enableUUID: "TRUE"
      ethernet0.opromsize: "262144"
      nx3bios.filename: /vmfs/volumes/LocalDS_0/ipxe/15ad07b0.rom
      netboot.coreos.template: ipxe
changes:
  description:
    - Names of the settings that differed and were (or, in check mode, would be) changed; C(extra_config.<key>)
      for .vmx keys. Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: [extra_config.disk.enableUUID, memory_mb]
actions:
  description:
    - The vCenter operations run (or that would run in check mode), in order, from C(upload_rom), C(create),
      C(mark_as_virtual_machine), C(reconfigure), C(mark_as_template), C(destroy).
  returned: always
  type: list
  elements: str
  sample: [mark_as_virtual_machine, reconfigure, mark_as_template]
ipxe_rom:
  description: Datastore path of the ROM the template loads, or null without a ROM.
  returned: when O(state=present)
  type: str
  sample: "[LocalDS_0] ipxe/15ad07b0.rom"
rom_uploaded:
  description: Whether the local ROM was (or would be) uploaded because the datastore copy was missing or differed.
  returned: when O(state=present)
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.netboot.coreos.plugins.module_utils.ipxe_template import ensure_template
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import (
    HAS_PYVMOMI, PYVMOMI_IMPORT_ERROR, VCENTER_ARGUMENT_SPEC, VCenterClient)

ARGUMENT_SPEC = dict(
    VCENTER_ARGUMENT_SPEC,
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    datacenter=dict(type="str", required=True),
    folder=dict(type="str"),
    cluster=dict(type="str"),
    resource_pool=dict(type="str"),
    esxi_hostname=dict(type="str"),
    datastore=dict(type="str"),
    distro=dict(type="str", choices=["flatcar", "fedora-coreos", "coreos"], default="flatcar"),
    guest_id=dict(type="str", default="other3xLinux64Guest"),
    num_cpus=dict(type="int", default=2),
    memory_mb=dict(type="int", default=4096),
    strict=dict(type="bool", default=False),
    disk_gb=dict(type="int", default=20),
    network=dict(type="str", default="VM Network"),
    nic_type=dict(type="str", choices=["e1000", "e1000e", "vmxnet3"], default="vmxnet3"),
    firmware=dict(type="str", choices=["bios", "efi"], default="bios"),
    ipxe_rom=dict(type="str"),
    ipxe_rom_src=dict(type="path"),
    advanced_settings=dict(type="dict", default={}),
)


def manage_template(params, check_mode, diff):
    with VCenterClient.from_params(params) as client:
        return ensure_template(client, params, check_mode, diff)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "present", ("datastore",))],
                           mutually_exclusive=[("cluster", "esxi_hostname"), ("resource_pool", "esxi_hostname")])
    if not HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyvmomi"), exception=PYVMOMI_IMPORT_ERROR)
    run_module(module, lambda: manage_template(module.params, module.check_mode, module._diff))


if __name__ == "__main__":
    main()
