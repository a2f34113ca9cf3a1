# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network-boot template VM: desired settings, the difference to the VM vCenter holds, the calls that close it.

A template is read once (PropertyCollector), compared setting by setting with what the options ask for, and only
the difference is applied: create (CreateVM, then the boot order that needs the new device keys, then
MarkAsTemplate), or for a drifted template MarkAsVirtualMachine -> ReconfigVM -> MarkAsTemplate. The extraConfig
key ``netboot.coreos.template`` marks VMs this code made, so a VM left unconverted by an interrupted run is
completed on the next run while a foreign VM of the same name is refused. No AnsibleModule in here.
"""

import hashlib
import os
import re

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterError, extra_config, first_device

try:
    from pyVmomi import vim
except ImportError:
    pass  # the module reports the missing library (HAS_PYVMOMI) before calling anything here

MARKER_KEY = "netboot.coreos.template"
MARKER_VALUE = "ipxe"
OPROM_SIZE_KEY = "ethernet0.opromsize"
OPROM_SIZE = "262144"
DISK_UUID_KEY = "disk.enableUUID"

# NIC type -> pyVmomi device class name, the .vmx key naming its option ROM, iPXE's ROM file for it
# (ipxe.org/howto/vmware).
NIC_TYPES = {
    "e1000": {"device": "VirtualE1000", "rom_key": "e1000bios.filename", "rom_file": "8086100f.mrom"},
    "e1000e": {"device": "VirtualE1000e", "rom_key": "e1000ebios.filename", "rom_file": "808610d3.mrom"},
    "vmxnet3": {"device": "VirtualVmxnet3", "rom_key": "nx3bios.filename", "rom_file": "15ad07b0.rom"},
}
FIRMWARES = ("bios", "efi")
ROM_KEYS = tuple(sorted(nic["rom_key"] for nic in NIC_TYPES.values()))
# extraConfig keys this module owns: the ones not wanted are removed (set to "", which deletes a key).
MANAGED_KEYS = (DISK_UUID_KEY, OPROM_SIZE_KEY, MARKER_KEY) + ROM_KEYS
# RAM the distro's PXE boot needs (kernel + initrd + the OS image unpacked in RAM): Flatcar >= 3 GB (its docs);
# Fedora CoreOS 2 GiB with coreos.live.rootfs_url; legacy CoreOS Container Linux is treated like Flatcar.
MIN_MEMORY_MB = {"flatcar": 3072, "fedora-coreos": 2048, "coreos": 3072}
# The disk first, then the network: an empty disk is not bootable, so the firmware falls through to the network
# and the node installs itself; an installed disk boots itself, so reboots (Flatcar's updates too) never
# reinstall. The same order holds for BIOS and EFI and needs no state outside the VM (docs/template.md).
BOOT_ORDER = ["disk", "network"]
GB_IN_KB = 1024 * 1024

VM_PROPERTIES = ["name", "config.template", "config.guestId", "config.hardware.numCPU", "config.hardware.memoryMB",
                 "config.hardware.device", "config.firmware", "config.bootOptions", "config.extraConfig",
                 "config.uuid", "config.instanceUuid", "runtime.powerState"]

_DATASTORE_PATH = re.compile(r"^\[([^\]]+)\]\s*(\S.*)$")


# -- input -------------------------------------------------------------------------------------------------


def vmx_value(value):
    """A .vmx value as vCenter stores it: booleans as TRUE/FALSE, None as "" (no value), the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def parse_datastore_path(value, option="ipxe_rom"):
    """``[datastore] dir/file`` -> (datastore, dir/file)."""
    match = _DATASTORE_PATH.match(value or "")
    if not match or match.group(2).endswith("/"):
        raise ValidationError("%s '%s' is not a datastore file path: use the form '[datastore] ipxe/%s'"
                              % (option, value, NIC_TYPES["vmxnet3"]["rom_file"]))
    return match.group(1), match.group(2).strip().lstrip("/")


def vmx_rom_path(datastore, path):
    """The host path the .vmx ROM key needs for a datastore file (ESXi mounts datastores by name there)."""
    return "/vmfs/volumes/%s/%s" % (datastore, path)


def read_rom_source(path):
    """The bytes of the local ROM file ``ipxe_rom_src``; one clear error when it is missing or unreadable."""
    if not os.path.exists(path):
        raise ValidationError("ipxe_rom_src '%s' not found: give the path of a local iPXE ROM file "
                              "(for example bin/15ad07b0.rom from an iPXE build)" % path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise ValidationError("ipxe_rom_src '%s' cannot be read: %s" % (path, exc.strerror or exc))
    if not data:
        raise ValidationError("ipxe_rom_src '%s' is empty: it must be an iPXE ROM image" % path)
    return data


def validate(params):
    """Check the options that no lookup can check; return the warnings. Raises ValidationError."""
    nic_type, firmware = params["nic_type"], params["firmware"]
    if nic_type not in NIC_TYPES:
        raise ValidationError("nic_type '%s' is not supported: use one of %s" % (nic_type, ", ".join(sorted(NIC_TYPES))))
    if firmware not in FIRMWARES:
        raise ValidationError("firmware '%s' is not supported: use one of %s" % (firmware, ", ".join(FIRMWARES)))
    if params["state"] != "present":
        return []
    if firmware == "efi" and (params.get("ipxe_rom") or params.get("ipxe_rom_src")):
        raise ValidationError("firmware efi cannot load an option ROM (ipxe_rom/ipxe_rom_src): with efi the "
                              "firmware's own network boot chainloads snponly.efi from DHCP; remove the ROM "
                              "options or use firmware bios")
    for option in ("num_cpus", "memory_mb", "disk_gb"):
        if params[option] < 1:
            raise ValidationError("%s must be at least 1, got %s" % (option, params[option]))
    clashing = sorted(set(params.get("advanced_settings") or {}) & set(MANAGED_KEYS))
    if clashing:
        raise ValidationError("advanced_settings may not set %s: the module manages these keys (nic_type, "
                              "firmware, ipxe_rom)" % ", ".join(clashing))
    distro = params.get("distro") or "flatcar"
    minimum = MIN_MEMORY_MB[distro]
    if params["memory_mb"] < minimum:
        msg = ("memory_mb %d is below %d, the RAM %s needs to network-boot (the OS image is unpacked in RAM)"
               % (params["memory_mb"], minimum, distro))
        if params.get("strict"):
            raise ValidationError(msg + "; set memory_mb to %d or more" % minimum)
        return [msg + "; nodes cloned from this template may fail to boot (strict: true makes this an error)"]
    return []


def tracked_keys(params):
    """The extraConfig keys compared and reported: the managed ones and those of advanced_settings.

    A tracked key that is not wanted (or wanted with an empty value) is removed from the VM.
    """
    return MANAGED_KEYS + tuple(sorted(set(params.get("advanced_settings") or {}) - set(MANAGED_KEYS)))


def desired_settings(params, rom_vmx_path=None):
    """What the template should look like, in the shape of ``VmState.settings``."""
    extra = {DISK_UUID_KEY: "TRUE", MARKER_KEY: MARKER_VALUE}
    if rom_vmx_path:
        extra[OPROM_SIZE_KEY] = OPROM_SIZE
        extra[NIC_TYPES[params["nic_type"]]["rom_key"]] = rom_vmx_path
    for key, value in (params.get("advanced_settings") or {}).items():
        if vmx_value(value) != "":
            extra[key] = vmx_value(value)
    return {
        "template": True,
        "guest_id": params["guest_id"],
        "num_cpus": params["num_cpus"],
        "memory_mb": params["memory_mb"],
        "firmware": params["firmware"],
        "disk_gb": params["disk_gb"],
        "nic_type": params["nic_type"],
        "network": params["network"],
        "boot_order": list(BOOT_ORDER),
        "extra_config": extra,
    }


# -- reading a VM --------------------------------------------------------------------------------------------


def nic_type_of(nic):
    for name, info in NIC_TYPES.items():
        # exact type: VirtualVmxnet3Vrdma is a subclass of VirtualVmxnet3 but another device
        if type(nic) is getattr(vim.vm.device, info["device"]):  # pylint: disable=unidiomatic-typecheck
            return name
    return type(nic).__name__.rsplit(".", 1)[-1]


def nic_network_name(nic, portgroup_names):
    """The network a NIC is on: standard port groups by name, distributed ones by their key."""
    backing = nic.backing
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        key = backing.port.portgroupKey
        return portgroup_names.get(key, key)
    return getattr(backing, "deviceName", None)


def boot_order_names(boot_order, nic, disk):
    """The boot order as names: ``network``/``disk`` for the template's NIC and disk, ``<type>:<key>`` else."""
    names = []
    for entry in boot_order or []:
        key = getattr(entry, "deviceKey", None)
        if isinstance(entry, vim.vm.BootOptions.BootableEthernetDevice):
            names.append("network" if nic is not None and key == nic.key else "network:%s" % key)
        elif isinstance(entry, vim.vm.BootOptions.BootableDiskDevice):
            names.append("disk" if disk is not None and key == disk.key else "disk:%s" % key)
        else:
            names.append(type(entry).__name__.rsplit(".", 1)[-1].replace("Bootable", "").replace("Device", "").lower())
    return names


def boot_options(disk, nic):
    """The BootOptions that boot ``disk`` first, then ``nic`` (BOOT_ORDER), by the keys vCenter gave them."""
    entries = {"disk": vim.vm.BootOptions.BootableDiskDevice(deviceKey=disk.key),
               "network": vim.vm.BootOptions.BootableEthernetDevice(deviceKey=nic.key)}
    return vim.vm.BootOptions(bootOrder=[entries[name] for name in BOOT_ORDER])


class VmState:
    """One VM as read from vCenter: its object, the devices this module manages and its settings."""

    def __init__(self, row, portgroup_names, keys):
        self.row = row
        self.obj = row["obj"]
        devices = row.get("config.hardware.device") or []
        self.nic = first_device(devices, vim.vm.device.VirtualEthernetCard)
        self.disk = first_device(devices, vim.vm.device.VirtualDisk)
        self.scsi = first_device(devices, vim.vm.device.VirtualSCSIController)
        self.extra = extra_config(row.get("config.extraConfig"))
        boot_options = row.get("config.bootOptions")
        self.settings = {
            "template": bool(row.get("config.template")),
            "guest_id": row.get("config.guestId"),
            "num_cpus": row.get("config.hardware.numCPU"),
            "memory_mb": row.get("config.hardware.memoryMB"),
            "firmware": row.get("config.firmware"),
            "disk_gb": disk_gb(self.disk),
            "nic_type": nic_type_of(self.nic) if self.nic is not None else None,
            "network": nic_network_name(self.nic, portgroup_names) if self.nic is not None else None,
            "boot_order": boot_order_names(boot_options.bootOrder if boot_options else [], self.nic, self.disk),
            "extra_config": {k: v for k, v in self.extra.items() if k in keys},
        }

    @property
    def is_ours(self):
        return self.extra.get(MARKER_KEY) == MARKER_VALUE

    @property
    def powered_on(self):
        return self.row.get("runtime.powerState") not in (None, "poweredOff")

    def identity(self):
        return dict(moid=self.obj._moId, uuid=self.row.get("config.uuid"),
                    instance_uuid=self.row.get("config.instanceUuid"))


def disk_gb(disk):
    if disk is None:
        return None
    size = disk.capacityInKB / float(GB_IN_KB)
    return int(size) if size == int(size) else round(size, 2)


# -- difference ----------------------------------------------------------------------------------------------


def diff_settings(current, desired):
    """Names of the settings that differ (``extra_config.<key>`` per .vmx key), in a stable order.

    ``current["extra_config"]`` holds only tracked keys, so a key there that ``desired`` lacks is to be removed.
    """
    changes = []
    for name in sorted(desired):
        if name == "extra_config":
            continue
        if current.get(name) != desired[name]:
            changes.append(name)
    have = current.get("extra_config") or {}
    want = desired["extra_config"]
    for key in sorted(set(have) | set(want)):
        if have.get(key) != want.get(key):
            changes.append("extra_config.%s" % key)
    return changes


def check_shrink(state, desired, name):
    current = state.settings["disk_gb"]
    if current is not None and desired["disk_gb"] < current:
        raise ValidationError("disk_gb %s is smaller than the %s GB disk of template '%s': vSphere cannot shrink a "
                              "disk; set disk_gb to %s or more" % (desired["disk_gb"], current, name, current))


# -- ConfigSpec building -------------------------------------------------------------------------------------


class NetworkTarget:
    """The port group the NIC should be on, and the backing that connects a NIC to it."""

    def __init__(self, obj, name, portgroup_key=None, switch_uuid=None):
        self.obj = obj
        self.name = name
        self.portgroup_key = portgroup_key
        self.switch_uuid = switch_uuid

    def backing(self):
        if self.portgroup_key is not None:
            port = vim.dvs.PortConnection(portgroupKey=self.portgroup_key, switchUuid=self.switch_uuid)
            return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(port=port)
        return vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=self.name, network=self.obj)


def device_spec(device, operation, file_operation=None):
    spec = vim.vm.device.VirtualDeviceSpec(operation=operation, device=device)
    if file_operation:
        spec.fileOperation = file_operation
    return spec


def new_nic_spec(nic_type, network, key=-102):
    nic_class = getattr(vim.vm.device, NIC_TYPES[nic_type]["device"])
    nic = nic_class(key=key, backing=network.backing(), addressType="generated", wakeOnLanEnabled=True,
                    connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True))
    return device_spec(nic, "add")


def new_disk_specs(size_gb, scsi=None):
    """Specs adding a thin disk (and a paravirtual SCSI controller for it when the VM has none)."""
    specs = []
    if scsi is None:
        scsi = vim.vm.device.ParaVirtualSCSIController(key=-100, busNumber=0, sharedBus="noSharing")
        specs.append(device_spec(scsi, "add"))
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(diskMode="persistent", thinProvisioned=True, fileName="")
    disk = vim.vm.device.VirtualDisk(key=-101, controllerKey=scsi.key, unitNumber=0, capacityInKB=size_gb * GB_IN_KB,
                                     backing=backing)
    specs.append(device_spec(disk, "add", "create"))
    return specs


def extra_config_changes(have, want):
    """OptionValues that set the wanted keys and remove (empty value) the tracked keys ``have`` holds unwanted."""
    options = [vim.option.OptionValue(key=k, value=v) for k, v in sorted(want.items()) if have.get(k) != v]
    options += [vim.option.OptionValue(key=k, value="") for k in sorted(have) if k not in want]
    return options


def create_spec(name, datastore, desired, network):
    """The ConfigSpec of CreateVM: hardware, devices and extraConfig (the boot order needs the devices' keys)."""
    return vim.vm.ConfigSpec(
        name=name, guestId=desired["guest_id"], numCPUs=desired["num_cpus"], memoryMB=desired["memory_mb"],
        firmware=desired["firmware"], files=vim.vm.FileInfo(vmPathName="[%s]" % datastore),
        deviceChange=new_disk_specs(desired["disk_gb"]) + [new_nic_spec(desired["nic_type"], network)],
        extraConfig=extra_config_changes({}, desired["extra_config"]))


def reconfig_spec(state, desired, network):
    """The ConfigSpec that brings ``state`` to ``desired``, or None when nothing differs.

    The boot order refers to device keys, which vCenter assigns: while the NIC or disk is being added it is
    left for the next pass (the caller re-reads and calls again).
    """
    current = state.settings
    spec = vim.vm.ConfigSpec()
    touched = False
    for setting, field in (("guest_id", "guestId"), ("num_cpus", "numCPUs"), ("memory_mb", "memoryMB"),
                           ("firmware", "firmware")):
        if current[setting] != desired[setting]:
            setattr(spec, field, desired[setting])
            touched = True
    devices = []
    if state.nic is None or current["nic_type"] != desired["nic_type"]:
        if state.nic is not None:
            devices.append(device_spec(state.nic, "remove"))
        devices.append(new_nic_spec(desired["nic_type"], network))
    elif current["network"] != desired["network"]:
        state.nic.backing = network.backing()
        devices.append(device_spec(state.nic, "edit"))
    if state.disk is None:
        devices.extend(new_disk_specs(desired["disk_gb"], state.scsi))
    elif current["disk_gb"] < desired["disk_gb"]:
        state.disk.capacityInKB = desired["disk_gb"] * GB_IN_KB
        devices.append(device_spec(state.disk, "edit"))
    if devices:
        spec.deviceChange = devices
        touched = True
    options = extra_config_changes(current["extra_config"], desired["extra_config"])
    if options:
        spec.extraConfig = options
        touched = True
    adding_boot_device = any(d.operation == "add" for d in devices)
    if not adding_boot_device and current["boot_order"] != desired["boot_order"]:
        spec.bootOptions = boot_options(state.disk, state.nic)
        touched = True
    return spec if touched else None


# -- vCenter reads ---------------------------------------------------------------------------------------------


def portgroup_names(client, datacenter):
    """Distributed port group key -> name, for naming the network a NIC's DV backing points at."""
    rows = client.retrieve(vim.dvs.DistributedVirtualPortgroup, ["name", "key"], datacenter.networkFolder)
    return {row["key"]: row["name"] for row in rows if "key" in row}


def network_target(client, datacenter, name):
    obj = client.network(datacenter, name)
    if isinstance(obj, vim.dvs.DistributedVirtualPortgroup):
        pg = client.retrieve_objects([obj], ["key", "config.distributedVirtualSwitch"])[0]
        switch = client.retrieve_objects([pg["config.distributedVirtualSwitch"]], ["uuid"])[0]
        return NetworkTarget(obj, name, pg["key"], switch["uuid"])
    return NetworkTarget(obj, name)


def refuse_foreign(state, name):
    if not state.settings["template"] and not state.is_ours:
        raise ValidationError("name '%s' already used by a VM that is not a template (%s): choose another name, or "
                              "remove or rename that VM" % (name, state.obj._moId))
    if state.powered_on:
        raise ValidationError("VM '%s' (%s) is powered on: power it off so it can be made a template again"
                              % (name, state.obj._moId))


# -- the ROM ---------------------------------------------------------------------------------------------------


class RomPlan:
    """Where the ROM lives on a datastore, its .vmx path, and whether the local copy must be uploaded."""

    def __init__(self, datastore, path, data=None, upload=False):
        self.datastore = datastore
        self.path = path
        self.data = data
        self.upload = upload

    @property
    def display(self):
        return "[%s] %s" % (self.datastore, self.path)

    @property
    def vmx_path(self):
        return vmx_rom_path(self.datastore, self.path)


def plan_rom(client, datacenter, params):
    """Check the ROM options against the datastore: None without a ROM, else a RomPlan."""
    source, target = params.get("ipxe_rom_src"), params.get("ipxe_rom")
    if not source and not target:
        return None
    data = read_rom_source(source) if source else None
    if not target:
        target = "[%s] ipxe/%s" % (params["datastore"], os.path.basename(source))
    datastore, path = parse_datastore_path(target)
    client.datastore(datacenter, datastore)
    digest = client.datastore_file_digest(datacenter.name, datastore, path)
    if data is None:
        if digest is None:
            raise ValidationError("ipxe_rom '%s' does not exist on datastore '%s': upload it first or set "
                                  "ipxe_rom_src to a local ROM file" % (target, datastore))
        return RomPlan(datastore, path)
    return RomPlan(datastore, path, data, upload=digest != hashlib.sha256(data).hexdigest())


# -- the flows -------------------------------------------------------------------------------------------------


class TemplateRun:
    """One module run for one template name: what was looked up once, shared by the steps."""

    def __init__(self, client, datacenter, params):
        self.client = client
        self.datacenter = datacenter
        self.params = params
        self.name = params["name"]
        self.keys = tracked_keys(params)
        self.pg_names = portgroup_names(client, datacenter)

    def current(self):
        """The VM or template called ``name`` as a VmState, or None."""
        vm = self.client.find_vm(self.datacenter.vmFolder, self.name, "datacenter '%s'" % self.datacenter.name)
        return self.read(vm) if vm is not None else None

    def read(self, vm):
        return VmState(self.client.retrieve_objects([vm], VM_PROPERTIES)[0], self.pg_names, self.keys)

    def converge(self, vm, desired, network):
        """Reconfigure a (non-template) VM until it matches ``desired``, then mark it as a template.

        Two passes at most in practice: the boot order needs the keys vCenter gives new devices.
        """
        for _attempt in range(3):
            state = self.read(vm)
            spec = reconfig_spec(state, desired, network)
            if spec is None:
                break
            self.client.run_task("reconfiguring VM '%s'" % self.name, vm.ReconfigVM_Task, spec=spec)
        else:
            raise VCenterError("VM '%s' still differs after 3 reconfigurations: %s"
                               % (self.name, ", ".join(diff_settings(self.read(vm).settings, desired))))
        self.client.call("marking VM '%s' as a template" % self.name, vm.MarkAsTemplate)
        return self.read(vm)

    def create(self, folder, pool, host, desired, network):
        spec = create_spec(self.name, self.params["datastore"], desired, network)
        vm = self.client.run_task("creating VM '%s'" % self.name, folder.CreateVM_Task, config=spec, pool=pool,
                                  host=host)
        return self.converge(vm, desired, network)

    def correct(self, state, pool, host, desired, network):
        """A drifted template: to a VM, reconfigure, back to a template (a template again if that fails)."""
        vm = state.obj
        if state.settings["template"]:
            self.client.call("converting template '%s' to a VM" % self.name, vm.MarkAsVirtualMachine, pool=pool,
                             host=host)
        try:
            return self.converge(vm, desired, network)
        except NetbootError:
            if state.settings["template"]:
                try:  # the last good state: a template, drifted but usable
                    self.client.call("marking VM '%s' as a template again" % self.name, vm.MarkAsTemplate)
                except VCenterError:
                    pass  # the original error says more; a rerun completes the marked VM either way
            raise


def plan_actions(state, changes, rom):
    """The vCenter operations that close the difference, in order."""
    actions = ["upload_rom"] if rom and rom.upload else []
    if state is None:
        return actions + ["create", "mark_as_template"]
    if changes:
        if state.settings["template"]:
            actions.append("mark_as_virtual_machine")
        if changes != ["template"]:
            actions.append("reconfigure")
        actions.append("mark_as_template")
    return actions


def ensure_present(client, datacenter, params, check_mode, warnings):
    run = TemplateRun(client, datacenter, params)
    folder = client.folder(datacenter, params["folder"])
    client.datastore(datacenter, params["datastore"])
    network = network_target(client, datacenter, params["network"])
    pool, host = client.placement_pool(datacenter, params["cluster"], params["resource_pool"],
                                       params["esxi_hostname"])
    state = run.current()
    if state is not None:
        refuse_foreign(state, run.name)
    rom = plan_rom(client, datacenter, params)
    desired = desired_settings(params, rom.vmx_path if rom else None)
    if state is not None:
        check_shrink(state, desired, run.name)
    before = state.settings if state else {}
    changes = diff_settings(before, desired)
    actions = plan_actions(state, changes, rom)

    after, identity = desired, (state.identity() if state else dict(moid=None, uuid=None, instance_uuid=None))
    if actions and not check_mode:
        if rom and rom.upload:
            client.upload_datastore_file(datacenter.name, rom.datastore, rom.path, rom.data)
        final = state
        if state is None:
            final = run.create(folder, pool, host, desired, network)
        elif changes:
            final = run.correct(state, pool, host, desired, network)
        after, identity = final.settings, final.identity()

    result = dict(name=run.name, settings=after, changes=changes, actions=actions,
                  ipxe_rom=rom.display if rom else None, rom_uploaded=bool(rom and rom.upload), warnings=warnings,
                  diff=dict(before=before, after=after), **identity)
    return bool(actions), result


def ensure_absent(client, datacenter, params, check_mode, warnings):
    run = TemplateRun(client, datacenter, params)
    state = run.current()
    if state is None:
        return False, dict(name=run.name, moid=None, uuid=None, instance_uuid=None, settings={}, changes=[],
                           actions=[], warnings=warnings, diff=dict(before={}, after={}))
    refuse_foreign(state, run.name)
    if not check_mode:
        client.run_task("removing template '%s'" % run.name, state.obj.Destroy_Task)
    return True, dict(name=run.name, settings={}, changes=sorted(state.settings), actions=["destroy"],
                      warnings=warnings, diff=dict(before=state.settings, after={}), **state.identity())


def ensure_template(client, params, check_mode=False, diff=False):
    """The module's work: ``(changed, result)`` for ``state`` present or absent."""
    warnings = validate(params)
    datacenter = client.datacenter(params["datacenter"])
    flow = ensure_present if params["state"] == "present" else ensure_absent
    changed, result = flow(client, datacenter, params, check_mode, warnings)
    if not diff:
        result.pop("diff")
    return changed, result
