"""ipxe_template logic without vCenter: validation, desired settings, reading a VM, the diff and the ConfigSpecs."""

import pytest
from pyVmomi import vim

from ansible_collections.netboot.coreos.plugins.module_utils import ipxe_template as tpl
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import extra_config

ROM_PATH = "/vmfs/volumes/LocalDS_0/ipxe/15ad07b0.rom"


def params(**changes):
    base = dict(name="tpl", state="present", datastore="LocalDS_0", distro="flatcar", guest_id="other3xLinux64Guest",
                num_cpus=2, memory_mb=4096, strict=False, disk_gb=20, network="VM Network", nic_type="vmxnet3",
                firmware="bios", ipxe_rom=None, ipxe_rom_src=None, advanced_settings={})
    base.update(changes)
    return base


def vm_row(nic=None, disk=None, extra=None, boot=None, template=True, power="poweredOff", **config):
    """A PropertyCollector row as find_vm returns it."""
    nic = nic if nic is not None else vim.vm.device.VirtualVmxnet3(
        key=4000, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"))
    disk = disk if disk is not None else vim.vm.device.VirtualDisk(key=2000, capacityInKB=20 * tpl.GB_IN_KB)
    scsi = vim.vm.device.ParaVirtualSCSIController(key=1000, busNumber=0)
    if boot is None:
        boot = [vim.vm.BootOptions.BootableDiskDevice(deviceKey=disk.key),
                vim.vm.BootOptions.BootableEthernetDevice(deviceKey=nic.key)]
    if extra is None:
        extra = {"disk.enableUUID": "TRUE", tpl.MARKER_KEY: tpl.MARKER_VALUE, "ethernet0.opromsize": "262144",
                 "nx3bios.filename": ROM_PATH}
    row = {
        "obj": vim.VirtualMachine("vm-42"), "name": "tpl", "config.template": template,
        "config.guestId": "other3xLinux64Guest", "config.hardware.numCPU": 2, "config.hardware.memoryMB": 4096,
        "config.hardware.device": [scsi, disk, nic], "config.firmware": "bios",
        "config.bootOptions": vim.vm.BootOptions(bootOrder=boot),
        "config.extraConfig": [vim.option.OptionValue(key=k, value=v) for k, v in extra.items()],
        "config.uuid": "u-1", "config.instanceUuid": "i-1", "runtime.powerState": power,
    }
    row.update(config)
    return row


def state_of(row):
    return tpl.VmState(row, {"dvportgroup-1": "DC0_DVPG0"}, tpl.tracked_keys(params()))


NETWORK = tpl.NetworkTarget(None, "VM Network")


# -- input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(True, "TRUE"), (False, "FALSE"), (262144, "262144"), ("x", "x"),
                                             (None, "")])
def test_vmx_value(value, expected):
    assert tpl.vmx_value(value) == expected


def test_parse_datastore_path():
    assert tpl.parse_datastore_path("[LocalDS_0] ipxe/15ad07b0.rom") == ("LocalDS_0", "ipxe/15ad07b0.rom")
    assert tpl.parse_datastore_path("[ds 1]/a/b.rom") == ("ds 1", "a/b.rom")
    for bad in ("ipxe/x.rom", "[ds]", "[ds] dir/", ""):
        with pytest.raises(ValidationError, match="is not a datastore file path"):
            tpl.parse_datastore_path(bad)


def test_validate_accepts_defaults():
    assert tpl.validate(params()) == []


@pytest.mark.parametrize("changes, message", [
    (dict(nic_type="virtio"), "nic_type 'virtio' is not supported: use one of e1000, e1000e, vmxnet3"),
    (dict(firmware="uefi"), "firmware 'uefi' is not supported: use one of bios, efi"),
    (dict(firmware="efi", ipxe_rom_src="/tmp/x.rom"), "firmware efi cannot load an option ROM"),
    (dict(firmware="efi", ipxe_rom="[ds] x.rom"), "firmware efi cannot load an option ROM"),
    (dict(num_cpus=0), "num_cpus must be at least 1, got 0"),
    (dict(disk_gb=0), "disk_gb must be at least 1, got 0"),
    (dict(advanced_settings={"nx3bios.filename": "x", "a": "b"}), "advanced_settings may not set nx3bios.filename"),
    (dict(memory_mb=3000, strict=True), "memory_mb 3000 is below 3072, the RAM flatcar needs"),
])
def test_validate_rejects(changes, message):
    with pytest.raises(ValidationError) as err:
        tpl.validate(params(**changes))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_memory_minimum_follows_distro():
    [warning] = tpl.validate(params(memory_mb=2048))
    assert warning.startswith("memory_mb 2048 is below 3072, the RAM flatcar needs to network-boot")
    assert tpl.validate(params(memory_mb=2048, distro="fedora-coreos")) == []
    assert tpl.validate(params(memory_mb=3072)) == []


def test_absent_skips_present_only_checks():
    assert tpl.validate(params(state="absent", memory_mb=1, strict=True, firmware="efi", ipxe_rom="x")) == []


def test_read_rom_source(tmp_path):
    rom = tmp_path / "x.rom"
    rom.write_bytes(b"\x55\xaa rom")
    assert tpl.read_rom_source(str(rom)) == b"\x55\xaa rom"
    with pytest.raises(ValidationError, match="not found: give the path of a local iPXE ROM file"):
        tpl.read_rom_source(str(tmp_path / "missing.rom"))
    with pytest.raises(ValidationError, match="cannot be read: Is a directory"):
        tpl.read_rom_source(str(tmp_path))


# -- desired settings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nic_type, key", [("e1000", "e1000bios.filename"), ("e1000e", "e1000ebios.filename"),
                                           ("vmxnet3", "nx3bios.filename")])
def test_desired_rom_key_per_nic(nic_type, key):
    extra = tpl.desired_settings(params(nic_type=nic_type), ROM_PATH)["extra_config"]
    assert extra == {"disk.enableUUID": "TRUE", "ethernet0.opromsize": "262144", key: ROM_PATH,
                     tpl.MARKER_KEY: tpl.MARKER_VALUE}


def test_desired_without_rom_and_with_advanced_settings():
    desired = tpl.desired_settings(params(firmware="efi", advanced_settings={"svga.present": False, "x": 1}))
    assert desired["extra_config"] == {"disk.enableUUID": "TRUE", tpl.MARKER_KEY: tpl.MARKER_VALUE,
                                       "svga.present": "FALSE", "x": "1"}
    assert desired["boot_order"] == ["disk", "network"] and desired["template"] is True


# -- reading a VM ----------------------------------------------------------------------------------------------


def test_extra_config_last_value_wins_and_empty_means_absent():
    options = [vim.option.OptionValue(key="a", value="1"), vim.option.OptionValue(key="a", value="2"),
               vim.option.OptionValue(key="b", value="x"), vim.option.OptionValue(key="b", value="")]
    assert extra_config(options) == {"a": "2"}


def test_vm_state_reads_settings():
    state = state_of(vm_row(extra={"disk.enableUUID": "TRUE", "foreign.key": "1", tpl.MARKER_KEY: "ipxe"}))
    assert state.settings == {
        "template": True, "guest_id": "other3xLinux64Guest", "num_cpus": 2, "memory_mb": 4096, "firmware": "bios",
        "disk_gb": 20, "nic_type": "vmxnet3", "network": "VM Network", "boot_order": ["disk", "network"],
        "extra_config": {"disk.enableUUID": "TRUE", tpl.MARKER_KEY: "ipxe"}}
    assert state.is_ours and not state.powered_on
    assert state.identity() == dict(moid="vm-42", uuid="u-1", instance_uuid="i-1")


def test_vm_state_names_foreign_devices_and_dv_networks():
    dv = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(portgroupKey="dvportgroup-1", switchUuid="s"))
    nic = vim.vm.device.VirtualPCNet32(key=4001, backing=dv)
    disk = vim.vm.device.VirtualDisk(key=2000, capacityInKB=int(1.5 * tpl.GB_IN_KB))
    boot = [vim.vm.BootOptions.BootableCdromDevice(), vim.vm.BootOptions.BootableEthernetDevice(deviceKey=9)]
    state = state_of(vm_row(nic=nic, disk=disk, boot=boot, extra={}))
    assert state.settings["nic_type"] == "VirtualPCNet32"
    assert state.settings["network"] == "DC0_DVPG0"
    assert state.settings["disk_gb"] == 1.5
    assert state.settings["boot_order"] == ["cdrom", "network:9"]
    assert not state.is_ours


def test_refuse_foreign_vm_and_powered_on():
    with pytest.raises(ValidationError, match="^name 'tpl' already used by a VM that is not a template \\(vm-42\\)"):
        tpl.refuse_foreign(state_of(vm_row(template=False, extra={})), "tpl")
    tpl.refuse_foreign(state_of(vm_row(template=False)), "tpl")  # our own half-made VM is completed
    tpl.refuse_foreign(state_of(vm_row(extra={})), "tpl")  # a foreign template is adopted
    with pytest.raises(ValidationError, match="is powered on: power it off"):
        tpl.refuse_foreign(state_of(vm_row(template=False, power="poweredOn")), "tpl")


# -- difference and specs ----------------------------------------------------------------------------------------


def test_no_difference_no_spec():
    state = state_of(vm_row())
    desired = tpl.desired_settings(params(), ROM_PATH)
    assert tpl.diff_settings(state.settings, desired) == []
    assert tpl.reconfig_spec(state, desired, NETWORK) is None


def test_diff_names_settings_and_removed_managed_keys():
    current = state_of(vm_row(extra={"disk.enableUUID": "FALSE", tpl.MARKER_KEY: "ipxe", "e1000bios.filename": "x",
                                     "user.key": "kept"})).settings
    desired = tpl.desired_settings(params(memory_mb=8192, firmware="efi"))
    assert tpl.diff_settings(current, desired) == ["firmware", "memory_mb", "extra_config.disk.enableUUID",
                                                   "extra_config.e1000bios.filename"]
    assert tpl.diff_settings({}, desired)[:3] == ["boot_order", "disk_gb", "firmware"]


def test_reconfig_spec_sets_values_and_removes_unwanted_rom_keys():
    state = state_of(vm_row(extra={"disk.enableUUID": "FALSE", tpl.MARKER_KEY: "ipxe", "ethernet0.opromsize": "262144",
                                   "nx3bios.filename": ROM_PATH}))
    spec = tpl.reconfig_spec(state, tpl.desired_settings(params(memory_mb=8192, firmware="efi")), NETWORK)
    assert (spec.memoryMB, spec.firmware, spec.numCPUs) == (8192, "efi", None)
    options = {o.key: o.value for o in spec.extraConfig}
    assert options == {"disk.enableUUID": "TRUE", "ethernet0.opromsize": "", "nx3bios.filename": ""}
    assert not spec.deviceChange and spec.bootOptions is None


@pytest.mark.parametrize("boot", [
    [],
    # the order templates were made with before: network first reinstalled installed nodes at every reboot
    [vim.vm.BootOptions.BootableEthernetDevice(deviceKey=4000), vim.vm.BootOptions.BootableDiskDevice(deviceKey=2000)],
])
def test_reconfig_spec_sets_disk_first_boot_order_with_device_keys(boot):
    state = state_of(vm_row(boot=boot))
    desired = tpl.desired_settings(params(), ROM_PATH)
    assert tpl.diff_settings(state.settings, desired) == ["boot_order"]
    spec = tpl.reconfig_spec(state, desired, NETWORK)
    assert [(type(b), b.deviceKey) for b in spec.bootOptions.bootOrder] == [
        (vim.vm.BootOptions.BootableDiskDevice, 2000), (vim.vm.BootOptions.BootableEthernetDevice, 4000)]
    assert spec.deviceChange == [] and spec.extraConfig == []


def test_reconfig_spec_replaces_nic_and_leaves_boot_order_for_the_next_pass():
    state = state_of(vm_row(boot=[]))
    spec = tpl.reconfig_spec(state, tpl.desired_settings(params(nic_type="e1000", disk_gb=30)), NETWORK)
    operations = [(d.operation, type(d.device), d.fileOperation) for d in spec.deviceChange]
    assert operations == [("remove", vim.vm.device.VirtualVmxnet3, None), ("add", vim.vm.device.VirtualE1000, None),
                          ("edit", vim.vm.device.VirtualDisk, None)]
    assert spec.deviceChange[2].device.capacityInKB == 30 * tpl.GB_IN_KB
    assert spec.bootOptions is None


def test_reconfig_spec_moves_nic_to_distributed_port_group():
    state = state_of(vm_row())
    network = tpl.NetworkTarget(None, "DC0_DVPG0", "dvportgroup-1", "switch-uuid")
    spec = tpl.reconfig_spec(state, tpl.desired_settings(params(network="DC0_DVPG0"), ROM_PATH), network)
    [change] = spec.deviceChange
    assert change.operation == "edit"
    assert change.device.backing.port.portgroupKey == "dvportgroup-1"
    assert change.device.backing.port.switchUuid == "switch-uuid"


def test_shrinking_the_disk_is_refused():
    with pytest.raises(ValidationError, match="^disk_gb 10 is smaller than the 20 GB disk of template 'tpl'"):
        tpl.check_shrink(state_of(vm_row()), tpl.desired_settings(params(disk_gb=10)), "tpl")


def test_create_spec_has_thin_disk_nic_and_extra_config():
    desired = tpl.desired_settings(params(nic_type="e1000e", num_cpus=4), "/vmfs/volumes/ds/ipxe/808610d3.mrom")
    spec = tpl.create_spec("tpl", "LocalDS_0", desired, NETWORK)
    assert (spec.name, spec.numCPUs, spec.memoryMB, spec.firmware, spec.files.vmPathName) == (
        "tpl", 4, 4096, "bios", "[LocalDS_0]")
    scsi, disk, nic = [d.device for d in spec.deviceChange]
    assert isinstance(scsi, vim.vm.device.ParaVirtualSCSIController)
    assert disk.controllerKey == scsi.key and disk.backing.thinProvisioned is True
    assert spec.deviceChange[1].fileOperation == "create" and disk.capacityInKB == 20 * tpl.GB_IN_KB
    assert isinstance(nic, vim.vm.device.VirtualE1000e) and nic.backing.deviceName == "VM Network"
    assert {o.key: o.value for o in spec.extraConfig}["e1000ebios.filename"] == "/vmfs/volumes/ds/ipxe/808610d3.mrom"
    assert spec.bootOptions is None  # set once the devices have keys


def test_advanced_settings_are_tracked_set_and_removed():
    options = params(advanced_settings={"svga.present": False, "old.key": ""})
    assert tpl.tracked_keys(options)[-2:] == ("old.key", "svga.present")
    extra = {"disk.enableUUID": "TRUE", tpl.MARKER_KEY: "ipxe", "svga.present": "TRUE", "old.key": "1",
             "user.key": "not ours"}
    state = tpl.VmState(vm_row(extra=extra), {}, tpl.tracked_keys(options))
    assert state.settings["extra_config"] == {"disk.enableUUID": "TRUE", tpl.MARKER_KEY: "ipxe", "svga.present": "TRUE",
                                              "old.key": "1"}
    desired = tpl.desired_settings(options)
    assert "old.key" not in desired["extra_config"]
    assert tpl.diff_settings(state.settings, desired) == ["extra_config.old.key", "extra_config.svga.present"]
    spec = tpl.reconfig_spec(state, desired, NETWORK)
    assert {o.key: o.value for o in spec.extraConfig} == {"svga.present": "FALSE", "old.key": ""}


@pytest.mark.parametrize("template, changes, upload, expected", [
    (None, [], False, ["create", "mark_as_template"]),
    (None, [], True, ["upload_rom", "create", "mark_as_template"]),
    (True, [], False, []),
    (True, [], True, ["upload_rom"]),
    (True, ["memory_mb"], False, ["mark_as_virtual_machine", "reconfigure", "mark_as_template"]),
    (False, ["template"], False, ["mark_as_template"]),
    (False, ["template", "memory_mb"], False, ["reconfigure", "mark_as_template"]),
])
def test_plan_actions(template, changes, upload, expected):
    state = None if template is None else state_of(vm_row(template=template))
    rom = tpl.RomPlan("LocalDS_0", "ipxe/x.rom", b"rom", upload=upload)
    assert tpl.plan_actions(state, changes, rom) == expected


def test_vmxnet3_vrdma_is_not_taken_for_vmxnet3():
    assert tpl.nic_type_of(vim.vm.device.VirtualVmxnet3Vrdma()) == "VirtualVmxnet3Vrdma"
    assert tpl.nic_type_of(vim.vm.device.VirtualVmxnet3()) == "vmxnet3"
