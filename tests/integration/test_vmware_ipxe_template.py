"""netboot.coreos.vmware_ipxe_template against the lab vCenter simulator; the VM is read back through pyVmomi."""

import hashlib

import pytest
from pyVmomi import vim

from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from conftest import run_module, run_playbook, vm_folder_missing_message

pytestmark = pytest.mark.vcsim

MODULE = "vmware_ipxe_template"


@pytest.fixture
def client(vcsim):
    with VCenterClient.from_params(vcsim) as connected:
        yield connected


@pytest.fixture
def args(vcsim, request):
    """Module options for a template named after the test (tests share one simulator)."""
    name = "tpl-" + request.node.name.replace("[", "-").replace("]", "").replace("_", "-")[:60]
    return dict(vcsim, name=name, datacenter="DC0", cluster="DC0_C0", datastore="LocalDS_0")


@pytest.fixture
def rom(tmp_path, request):
    """A ROM file whose content is unique to the test, so no test finds another's upload on the datastore."""
    path = tmp_path / "15ad07b0.rom"
    path.write_bytes(("iPXE ROM image for %s, first build" % request.node.name).encode() * 100)
    return path


def find(client, name):
    """name -> dict of what vCenter holds for it (None if absent), read in one PropertyCollector call."""
    rows = [r for r in client.retrieve(vim.VirtualMachine, ["name"]) if r.get("name") == name]
    if not rows:
        return None
    assert len(rows) == 1
    row = client.retrieve_objects([rows[0]["obj"]], [
        "config.template", "config.extraConfig", "config.hardware.device", "config.hardware.memoryMB",
        "config.hardware.numCPU", "config.bootOptions", "config.firmware", "config.guestId", "config.uuid"])[0]
    extra = {}
    for option in row["config.extraConfig"]:
        extra[option.key] = option.value  # the simulator appends on reconfigure: the last value wins
    devices = row["config.hardware.device"]
    nics = [d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    disks = [d for d in devices if isinstance(d, vim.vm.device.VirtualDisk)]
    return dict(obj=row["obj"], template=row["config.template"], memory_mb=row["config.hardware.memoryMB"],
                num_cpus=row["config.hardware.numCPU"], firmware=row["config.firmware"],
                guest_id=row["config.guestId"], uuid=row["config.uuid"],
                extra={k: v for k, v in extra.items() if v != ""}, nics=nics, disks=disks,
                boot_order=[(type(b).__name__.rsplit(".", 1)[-1], b.deviceKey) for b in row["config.bootOptions"].bootOrder])


def drift(client, vm, spec):
    """Change a template behind the module's back: to a VM, reconfigure, back to a template."""
    pool = client.cluster(client.datacenter("DC0"), "DC0_C0").resourcePool
    vm.MarkAsVirtualMachine(pool=pool)
    client.wait_for_task(vm.ReconfigVM_Task(spec=spec), "drift")
    vm.MarkAsTemplate()


def warnings_of(result):
    """The warning texts (ansible-core 2.19 returns them as WarningSummary dicts)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def assert_one_line_failure(result, expected):
    assert result.get("failed") is True, result
    assert result["msg"] == expected
    assert "\n" not in result["msg"]
    assert "exception" not in result and "Traceback" not in result.stderr


# -- create, rerun, check mode --------------------------------------------------------------------------------


def test_create_bios_template_with_rom(client, args, rom):
    result = run_module(MODULE, dict(args, ipxe_rom_src=str(rom), nic_type="vmxnet3"))
    assert result["changed"] is True, result
    assert result["actions"] == ["upload_rom", "create", "mark_as_template"]
    assert result["rom_uploaded"] is True
    assert result["ipxe_rom"] == "[LocalDS_0] ipxe/15ad07b0.rom"

    vm = find(client, args["name"])
    assert vm["template"] is True
    assert result["moid"] == vm["obj"]._moId and result["uuid"] == vm["uuid"] and result["instance_uuid"]
    assert vm["extra"]["disk.enableUUID"] == "TRUE"
    assert vm["extra"]["ethernet0.opromsize"] == "262144"
    assert vm["extra"]["nx3bios.filename"] == "/vmfs/volumes/LocalDS_0/ipxe/15ad07b0.rom"
    assert vm["extra"]["netboot.coreos.template"] == "ipxe"
    assert "e1000bios.filename" not in vm["extra"]
    assert (vm["memory_mb"], vm["num_cpus"], vm["firmware"], vm["guest_id"]) == (4096, 2, "bios", "other3xLinux64Guest")
    [nic], [disk] = vm["nics"], vm["disks"]
    assert isinstance(nic, vim.vm.device.VirtualVmxnet3)
    assert nic.backing.deviceName == "VM Network"
    assert disk.backing.thinProvisioned is True and disk.capacityInKB == 20 * 1024 * 1024
    assert vm["boot_order"] == [("BootableDiskDevice", disk.key), ("BootableEthernetDevice", nic.key)]
    assert client.datastore_file_digest("DC0", "LocalDS_0", "ipxe/15ad07b0.rom") == \
        hashlib.sha256(rom.read_bytes()).hexdigest()
    assert result["settings"]["extra_config"] == {k: v for k, v in vm["extra"].items() if k != "govcsim"}

    again = run_module(MODULE, dict(args, ipxe_rom_src=str(rom), nic_type="vmxnet3"))
    assert again["changed"] is False, again
    assert again["changes"] == [] and again["actions"] == [] and again["rom_uploaded"] is False
    assert again["moid"] == result["moid"] and again["settings"] == result["settings"]


@pytest.mark.parametrize("nic_type, rom_key, device", [
    ("e1000", "e1000bios.filename", vim.vm.device.VirtualE1000),
    ("e1000e", "e1000ebios.filename", vim.vm.device.VirtualE1000e),
])
def test_rom_key_follows_nic_type(client, args, rom, nic_type, rom_key, device):
    result = run_module(MODULE, dict(args, nic_type=nic_type, ipxe_rom_src=str(rom),
                                     ipxe_rom="[LocalDS_0] ipxe/%s.rom" % nic_type))
    assert result["changed"] is True, result
    vm = find(client, args["name"])
    assert vm["extra"][rom_key] == "/vmfs/volumes/LocalDS_0/ipxe/%s.rom" % nic_type
    assert [k for k in ("e1000bios.filename", "e1000ebios.filename", "nx3bios.filename") if k in vm["extra"]] == [rom_key]
    assert isinstance(vm["nics"][0], device)


def test_efi_template_has_no_option_rom(client, args):
    args.pop("cluster")
    result = run_module(MODULE, dict(args, firmware="efi", nic_type="e1000e", esxi_hostname="DC0_H0"))
    assert result["changed"] is True, result
    vm = find(client, args["name"])
    assert vm["firmware"] == "efi" and vm["template"] is True
    assert vm["extra"]["disk.enableUUID"] == "TRUE"
    assert not {"ethernet0.opromsize", "e1000ebios.filename"} & set(vm["extra"])
    assert [entry[0] for entry in vm["boot_order"]] == ["BootableDiskDevice", "BootableEthernetDevice"]
    assert result["ipxe_rom"] is None


def test_check_mode_create_changes_nothing(client, args, rom):
    result = run_module(MODULE, dict(args, ipxe_rom_src=str(rom), ipxe_rom="[LocalDS_0] check/x.rom"),
                        check_mode=True, diff=True)
    assert result["changed"] is True, result
    assert result["actions"] == ["upload_rom", "create", "mark_as_template"]
    assert result["moid"] is None
    assert result["diff"]["before"] == {} and result["diff"]["after"]["memory_mb"] == 4096
    assert find(client, args["name"]) is None
    assert client.datastore_file_digest("DC0", "LocalDS_0", "check/x.rom") is None

    real = run_module(MODULE, dict(args, ipxe_rom_src=str(rom), ipxe_rom="[LocalDS_0] check/x.rom"))
    assert real["changed"] is True and real["changes"] == result["changes"]
    assert real["settings"] == result["settings"]


def test_memory_below_minimum_warns(client, args):
    result = run_module(MODULE, dict(args, memory_mb=2048))
    assert result["changed"] is True, result
    assert warnings_of(result) == [
        "memory_mb 2048 is below 3072, the RAM flatcar needs to network-boot (the OS image is unpacked in RAM); "
        "nodes cloned from this template may fail to boot (strict: true makes this an error)"]
    assert find(client, args["name"])["memory_mb"] == 2048
    fcos = run_module(MODULE, dict(args, memory_mb=2048, distro="fedora-coreos"))
    assert fcos["changed"] is False and warnings_of(fcos) == []


# -- drift, half-made VMs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("firmware", ["bios", "efi"])
def test_template_made_with_the_network_first_order_is_corrected(client, args, firmware):
    """Templates made before the disk came first reinstalled installed nodes at every reboot."""
    options = dict(args, firmware=firmware)
    assert run_module(MODULE, options)["changed"] is True
    vm = find(client, args["name"])
    [nic], [disk] = vm["nics"], vm["disks"]
    drift(client, vm["obj"], vim.vm.ConfigSpec(bootOptions=vim.vm.BootOptions(bootOrder=[
        vim.vm.BootOptions.BootableEthernetDevice(deviceKey=nic.key),
        vim.vm.BootOptions.BootableDiskDevice(deviceKey=disk.key)])))

    predicted = run_module(MODULE, options, check_mode=True, diff=True)
    assert predicted["changed"] is True and predicted["changes"] == ["boot_order"]
    assert predicted["actions"] == ["mark_as_virtual_machine", "reconfigure", "mark_as_template"]
    assert predicted["diff"]["before"]["boot_order"] == ["network", "disk"]
    assert predicted["diff"]["after"]["boot_order"] == ["disk", "network"]
    assert find(client, args["name"])["boot_order"][0] == ("BootableEthernetDevice", nic.key)  # check mode

    fixed = run_module(MODULE, options, diff=True)
    assert (fixed["changed"], fixed["changes"], fixed["actions"]) == (True, predicted["changes"], predicted["actions"])
    vm = find(client, args["name"])
    assert vm["boot_order"] == [("BootableDiskDevice", disk.key), ("BootableEthernetDevice", nic.key)]
    assert vm["template"] is True and fixed["settings"]["boot_order"] == ["disk", "network"]
    assert run_module(MODULE, options)["changed"] is False


def test_drift_is_corrected_and_named(client, args, rom):
    options = dict(args, ipxe_rom_src=str(rom), nic_type="e1000")
    assert run_module(MODULE, options)["changed"] is True
    vm = find(client, args["name"])
    drift(client, vm["obj"], vim.vm.ConfigSpec(memoryMB=2048, extraConfig=[
        vim.option.OptionValue(key="disk.enableUUID", value="FALSE"),
        vim.option.OptionValue(key="e1000bios.filename", value="/vmfs/volumes/LocalDS_0/other.rom")]))
    assert find(client, args["name"])["extra"]["disk.enableUUID"] == "FALSE"

    predicted = run_module(MODULE, options, check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["changes"] == ["memory_mb", "extra_config.disk.enableUUID", "extra_config.e1000bios.filename"]
    assert predicted["actions"] == ["mark_as_virtual_machine", "reconfigure", "mark_as_template"]
    assert predicted["diff"]["before"]["extra_config"]["disk.enableUUID"] == "FALSE"
    assert predicted["diff"]["after"]["extra_config"]["disk.enableUUID"] == "TRUE"
    unchanged = find(client, args["name"])
    assert (unchanged["memory_mb"], unchanged["extra"]["disk.enableUUID"], unchanged["template"]) == (2048, "FALSE", True)

    fixed = run_module(MODULE, options, diff=True)
    assert fixed["changed"] is True
    assert fixed["changes"] == predicted["changes"] and fixed["actions"] == predicted["actions"]
    vm = find(client, args["name"])
    assert vm["template"] is True and vm["memory_mb"] == 4096
    assert vm["extra"]["disk.enableUUID"] == "TRUE"
    assert vm["extra"]["e1000bios.filename"] == "/vmfs/volumes/LocalDS_0/ipxe/15ad07b0.rom"
    assert fixed["moid"] == vm["obj"]._moId
    assert run_module(MODULE, options)["changed"] is False


def test_nic_network_disk_and_firmware_changes(client, args):
    assert run_module(MODULE, dict(args, nic_type="vmxnet3"))["changed"] is True
    options = dict(args, nic_type="e1000", network="DC0_DVPG0", disk_gb=30, num_cpus=4)
    result = run_module(MODULE, options)
    assert result["changed"] is True, result
    assert result["changes"] == ["disk_gb", "network", "nic_type", "num_cpus"]
    vm = find(client, args["name"])
    [nic], [disk] = vm["nics"], vm["disks"]
    assert isinstance(nic, vim.vm.device.VirtualE1000)
    assert isinstance(nic.backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
    assert disk.capacityInKB == 30 * 1024 * 1024 and vm["num_cpus"] == 4
    assert vm["boot_order"] == [("BootableDiskDevice", disk.key), ("BootableEthernetDevice", nic.key)]
    assert run_module(MODULE, options)["changed"] is False

    shrink = run_module(MODULE, dict(options, disk_gb=10))
    assert_one_line_failure(shrink, "disk_gb 10 is smaller than the 30 GB disk of template '%s': vSphere cannot "
                                    "shrink a disk; set disk_gb to 30 or more" % args["name"])
    assert find(client, args["name"])["disks"][0].capacityInKB == 30 * 1024 * 1024


def test_bios_rom_removed_when_switching_to_efi(client, args, rom):
    assert run_module(MODULE, dict(args, ipxe_rom_src=str(rom)))["changed"] is True
    result = run_module(MODULE, dict(args, firmware="efi"))
    assert result["changed"] is True, result
    assert result["changes"] == ["firmware", "extra_config.ethernet0.opromsize", "extra_config.nx3bios.filename"]
    vm = find(client, args["name"])
    assert vm["firmware"] == "efi"
    assert not {"ethernet0.opromsize", "nx3bios.filename"} & set(vm["extra"])
    assert run_module(MODULE, dict(args, firmware="efi"))["changed"] is False


def test_half_made_vm_is_completed(client, args):
    """A run that died after CreateVM left a marked VM: the rerun finishes it instead of refusing it."""
    assert run_module(MODULE, args)["changed"] is True
    vm = find(client, args["name"])
    vm["obj"].MarkAsVirtualMachine(pool=client.cluster(client.datacenter("DC0"), "DC0_C0").resourcePool)
    assert find(client, args["name"])["template"] is False

    result = run_module(MODULE, args)
    assert result["changed"] is True, result
    assert result["changes"] == ["template"]
    assert result["actions"] == ["mark_as_template"]
    assert find(client, args["name"])["template"] is True


def test_advanced_settings_set_kept_and_removed(client, args):
    options = dict(args, advanced_settings={"svga.present": False, "keyboard.typematicMinDelay": 2000000})
    assert run_module(MODULE, options)["changed"] is True
    extra = find(client, args["name"])["extra"]
    assert extra["svga.present"] == "FALSE" and extra["keyboard.typematicMinDelay"] == "2000000"
    assert run_module(MODULE, options)["changed"] is False

    removed = run_module(MODULE, dict(args, advanced_settings={"svga.present": ""}))
    assert removed["changed"] is True and removed["changes"] == ["extra_config.svga.present"]
    extra = find(client, args["name"])["extra"]
    assert "svga.present" not in extra and extra["keyboard.typematicMinDelay"] == "2000000"
    assert run_module(MODULE, dict(args, advanced_settings={"svga.present": ""}))["changed"] is False


def test_failed_correction_leaves_a_template_and_rerun_converges(client, args):
    """vCenter refuses the reconfiguration: the VM is marked as a template again and the error is one line."""
    assert run_module(MODULE, args)["changed"] is True
    moid = find(client, args["name"])["obj"]._moId
    failed = run_module(MODULE, dict(args, guest_id="notAGuestId"))
    assert failed.get("failed") is True and "\n" not in failed["msg"]
    assert failed["msg"].startswith("reconfiguring VM '%s' failed: " % args["name"]), failed["msg"]
    vm = find(client, args["name"])
    assert vm["template"] is True and vm["obj"]._moId == moid

    # the simulator applies part of a refused spec (real vCenter applies none): either way the rerun converges
    run_module(MODULE, args)
    vm = find(client, args["name"])
    assert vm["template"] is True and vm["guest_id"] == "other3xLinux64Guest"
    assert run_module(MODULE, args)["changed"] is False


# -- the ROM upload -----------------------------------------------------------------------------------------------


def test_rom_uploaded_only_when_content_differs(client, args, rom):
    options = dict(args, ipxe_rom_src=str(rom), ipxe_rom="[LocalDS_0] roms/upload.rom")
    first = run_module(MODULE, options)
    assert first["rom_uploaded"] is True and first["actions"][0] == "upload_rom"
    second = run_module(MODULE, options)
    assert second["changed"] is False and second["rom_uploaded"] is False

    rom.write_bytes(b"iPXE ROM image, second build" * 100)
    predicted = run_module(MODULE, options, check_mode=True)
    assert predicted["changed"] is True and predicted["actions"] == ["upload_rom"] and predicted["changes"] == []
    third = run_module(MODULE, options)
    assert third["changed"] is True and third["rom_uploaded"] is True and third["actions"] == ["upload_rom"]
    assert client.datastore_file_digest("DC0", "LocalDS_0", "roms/upload.rom") == \
        hashlib.sha256(rom.read_bytes()).hexdigest()


def test_existing_datastore_rom_is_used_without_upload(client, args):
    client.upload_datastore_file("DC0", "LocalDS_0", "shared/8086100f.mrom", b"a ROM somebody uploaded")
    result = run_module(MODULE, dict(args, nic_type="e1000", ipxe_rom="[LocalDS_0] shared/8086100f.mrom"))
    assert result["changed"] is True and result["rom_uploaded"] is False, result
    assert find(client, args["name"])["extra"]["e1000bios.filename"] == "/vmfs/volumes/LocalDS_0/shared/8086100f.mrom"


# -- absent -------------------------------------------------------------------------------------------------------


def test_absent_removes_template(client, args):
    assert run_module(MODULE, args)["changed"] is True
    absent = dict(args, state="absent")
    predicted = run_module(MODULE, absent, check_mode=True)
    assert predicted["changed"] is True and predicted["actions"] == ["destroy"]
    assert find(client, args["name"]) is not None

    removed = run_module(MODULE, absent, diff=True)
    assert removed["changed"] is True and removed["diff"]["after"] == {}
    assert removed["diff"]["before"]["template"] is True
    assert find(client, args["name"]) is None
    again = run_module(MODULE, absent)
    assert again["changed"] is False and again["actions"] == []


def test_absent_refuses_a_vm_that_is_not_a_template(client, args):
    vm = find(client, "DC0_H0_VM0")
    result = run_module(MODULE, dict(args, name="DC0_H0_VM0", state="absent"))
    assert_one_line_failure(result, "name 'DC0_H0_VM0' already used by a VM that is not a template (%s): choose "
                                    "another name, or remove or rename that VM" % vm["obj"]._moId)
    assert find(client, "DC0_H0_VM0") is not None


# -- errors: one line each, nothing made ----------------------------------------------------------------------------


MISSING_ROM = "/nonexistent/15ad07b0.rom"


@pytest.mark.parametrize("change, expected", [
    (dict(datacenter="DC9"), "datacenter 'DC9' not found; available: DC0"),
    (dict(cluster="C9"), "cluster 'C9' not found in datacenter 'DC0'; available: DC0_C0"),
    (dict(datastore="DS9"), "datastore 'DS9' not found in datacenter 'DC0'; available: LocalDS_0"),
    (dict(network="N9"),
     "network 'N9' not found in datacenter 'DC0'; available: DC0_DVPG0, DVS0-DVUplinks-9, VM Network"),
    (dict(folder="nodes/templates"), None),  # lists the folders under DC0/vm, other tests' included
    (dict(nic_type="virtio"), "value of nic_type must be one of: e1000, e1000e, vmxnet3, got: virtio"),
    (dict(ipxe_rom_src=MISSING_ROM),
     "ipxe_rom_src '%s' not found: give the path of a local iPXE ROM file (for example bin/15ad07b0.rom from an "
     "iPXE build)" % MISSING_ROM),
    (dict(ipxe_rom="[LocalDS_0] ipxe/missing.rom"),
     "ipxe_rom '[LocalDS_0] ipxe/missing.rom' does not exist on datastore 'LocalDS_0': upload it first or set "
     "ipxe_rom_src to a local ROM file"),
    (dict(ipxe_rom="ipxe/missing.rom"),
     "ipxe_rom 'ipxe/missing.rom' is not a datastore file path: use the form '[datastore] ipxe/15ad07b0.rom'"),
    (dict(firmware="efi", ipxe_rom="[LocalDS_0] ipxe/15ad07b0.rom"),
     "firmware efi cannot load an option ROM (ipxe_rom/ipxe_rom_src): with efi the firmware's own network boot "
     "chainloads snponly.efi from DHCP; remove the ROM options or use firmware bios"),
    (dict(memory_mb=2048, strict=True),
     "memory_mb 2048 is below 3072, the RAM flatcar needs to network-boot (the OS image is unpacked in RAM); set "
     "memory_mb to 3072 or more"),
    (dict(advanced_settings={"disk.enableUUID": "FALSE"}),
     "advanced_settings may not set disk.enableUUID: the module manages these keys (nic_type, firmware, ipxe_rom)"),
    (dict(datastore=None), "state is present but all of the following are missing: datastore"),
])
def test_errors_are_one_line_and_make_nothing(client, args, change, expected):
    options = {k: v for k, v in dict(args, **change).items() if v is not None}
    result = run_module(MODULE, options)
    if expected is None:
        expected = vm_folder_missing_message(client, "nodes")
    assert_one_line_failure(result, expected)
    assert find(client, args["name"]) is None


def test_unreadable_rom_source(client, args, tmp_path):
    result = run_module(MODULE, dict(args, ipxe_rom_src=str(tmp_path)))
    assert_one_line_failure(result, "ipxe_rom_src '%s' cannot be read: Is a directory" % tmp_path)
    empty = tmp_path / "empty.rom"
    empty.write_bytes(b"")
    result = run_module(MODULE, dict(args, ipxe_rom_src=str(empty)))
    assert_one_line_failure(result, "ipxe_rom_src '%s' is empty: it must be an iPXE ROM image" % empty)
    assert find(client, args["name"]) is None


def test_name_of_a_vm_that_is_not_a_template(client, args, rom):
    vm = find(client, "DC0_H0_VM1")
    result = run_module(MODULE, dict(args, name="DC0_H0_VM1", ipxe_rom_src=str(rom), ipxe_rom="[LocalDS_0] foreign/x.rom"))
    assert_one_line_failure(result, "name 'DC0_H0_VM1' already used by a VM that is not a template (%s): choose "
                                    "another name, or remove or rename that VM" % vm["obj"]._moId)
    after = find(client, "DC0_H0_VM1")
    assert after["template"] is False and "netboot.coreos.template" not in after["extra"]
    assert client.datastore_file_digest("DC0", "LocalDS_0", "foreign/x.rom") is None


def test_env_fallback_connection(vcsim, args):
    """The vcenter options come from VMWARE_* like every module of the action group."""
    env = {"VMWARE_HOST": vcsim["hostname"], "VMWARE_PORT": str(vcsim["port"]), "VMWARE_USER": vcsim["username"],
           "VMWARE_PASSWORD": vcsim["password"], "VMWARE_VALIDATE_CERTS": "false"}
    options = {k: v for k, v in args.items() if k not in ("hostname", "port", "username", "password", "validate_certs")}
    result = run_module(MODULE, dict(options, state="absent"), env=env)
    assert result["changed"] is False and "failed" not in result, result


# -- the role ---------------------------------------------------------------------------------------------------

ROLE_PLAY = """---
- name: Keep the iPXE template
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: netboot.coreos.vmware_template
"""


@pytest.fixture
def role_play(tmp_path):
    path = tmp_path / "template.yml"
    path.write_text(ROLE_PLAY)
    return str(path)


def role_vars(vcsim, name, **changes):
    variables = dict(vcenter_hostname=vcsim["hostname"], vcenter_port=vcsim["port"], vcenter_username=vcsim["username"],
                     vcenter_password=vcsim["password"], vcenter_validate_certs=False, vcenter_datacenter="DC0",
                     vcenter_cluster="DC0_C0", vcenter_datastore="LocalDS_0", vmware_template_name=name)
    variables.update(changes)
    return variables


def test_role_check_mode_predicts_and_second_run_changes_nothing(client, vcsim, role_play, rom):
    variables = role_vars(vcsim, "tpl-role", vmware_template_ipxe_rom_src=str(rom), coreos_distro="fedora-coreos",
                          vmware_template_memory_mb=2048)
    predicted = run_playbook(role_play, variables, check=True)
    assert predicted.rc == 0, predicted.stdout[-3000:]
    assert predicted.stats["changed"] == 1
    assert find(client, "tpl-role") is None

    real = run_playbook(role_play, variables)
    assert real.rc == 0, real.stdout[-3000:]
    assert real.stats["changed"] == predicted.stats["changed"]
    [result] = real.task_results("netboot.coreos.vmware_template : Keep the iPXE template VM tpl-role")
    assert result["actions"] == ["upload_rom", "create", "mark_as_template"]
    vm = find(client, "tpl-role")
    assert vm["template"] is True and vm["memory_mb"] == 2048
    assert vm["extra"]["nx3bios.filename"] == "/vmfs/volumes/LocalDS_0/ipxe/15ad07b0.rom"

    again = run_playbook(role_play, variables)
    assert again.rc == 0 and again.stats["changed"] == 0
    gone = run_playbook(role_play, dict(variables, vmware_template_state="absent"))
    assert gone.rc == 0 and gone.stats["changed"] == 1
    assert find(client, "tpl-role") is None


@pytest.mark.parametrize("changes, message", [
    ({"vmware_template_firmware": "efi", "vmware_template_ipxe_rom_src": "{rom}"},
     "firmware efi cannot load an option ROM (ipxe_rom/ipxe_rom_src)"),
    ({"vcenter_datastore": ""}, "state is present but all of the following are missing: datastore"),
])
def test_role_inputs_are_checked_once_by_the_module(client, vcsim, role_play, rom, changes, message):
    """The role does not repeat the module's checks: the module's one-line message, nothing made."""
    changes = {key: value.format(rom=rom) for key, value in changes.items()}
    run = run_playbook(role_play, role_vars(vcsim, "tpl-role-bad", **changes))
    assert run.rc != 0
    [shown] = run.failure_messages()
    assert message in shown and "\n" not in shown, shown
    assert find(client, "tpl-role-bad") is None


@pytest.mark.parametrize("typed, fails", [("false", False), ("no", False), ("true", True)])
def test_strict_typed_on_the_command_line_is_a_boolean(client, vcsim, role_play, typed, fails):
    """-e vmware_template_strict=false arrives as the string 'false': it means false."""
    name = "tpl-role-strict-" + typed
    run = run_playbook(role_play, role_vars(vcsim, name, vmware_template_memory_mb="2048",
                                            vmware_template_strict=typed))
    try:
        if fails:
            assert run.rc != 0 and "memory_mb 2048 is below 3072" in " ".join(run.failure_messages())
            assert find(client, name) is None
        else:
            assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
            assert find(client, name)["memory_mb"] == 2048
    finally:
        if find(client, name):
            run_playbook(role_play, role_vars(vcsim, name, vmware_template_state="absent"))
