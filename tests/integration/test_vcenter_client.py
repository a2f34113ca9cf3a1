"""The vCenter client against the lab simulator: connection faults, lookups, bulk reads, tasks."""

import socket
import ssl

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import (
    VCenterClient, VCenterConnectionError, VCenterError)
from conftest import vm_folder_missing_message  # pylint: disable=import-error
from pyVmomi import vim

pytestmark = pytest.mark.vcsim


@pytest.fixture
def client(vcsim):
    with VCenterClient.from_params(vcsim) as connected:
        yield connected


def test_fetch_of_unset_property_does_not_drop_connection(client):
    """govmomi 0.24.2 panicked on Fetch of an unset property; the lab build carries the fix."""
    vm = client.retrieve(vim.VirtualMachine, ["name"])[0]["obj"]
    assert vm.snapshot is None  # a lazy pyVmomi read of an unset property (PropertyCollector.Fetch)
    assert vm.name.startswith("DC0_")  # the same connection still answers


def test_wrong_password_is_one_clear_line(vcsim):
    with pytest.raises(VCenterConnectionError) as err:
        VCenterClient.from_params(dict(vcsim, password="wrong")).connect()
    assert str(err.value) == (
        "vCenter https://127.0.0.1:%d rejected the login for user 'user': check username and password "
        "(VMWARE_USER / VMWARE_PASSWORD)" % vcsim["port"])
    assert "wrong" not in str(err.value)


def test_closed_port(vcsim):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(VCenterConnectionError) as err:
        VCenterClient.from_params(dict(vcsim, port=closed)).connect()
    assert str(err.value) == "cannot connect to vCenter https://127.0.0.1:%d: Connection refused" % closed


def test_self_signed_certificate_rejected_by_default(vcsim):
    with pytest.raises(VCenterConnectionError) as err:
        VCenterClient.from_params(dict(vcsim, validate_certs=True)).connect()
    msg = str(err.value)
    assert msg.startswith("the TLS certificate of vCenter https://127.0.0.1:%d could not be verified" % vcsim["port"])
    assert "validate_certs: false" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("lookup, name, expected", [
    ("datacenter", "DC9", "datacenter 'DC9' not found; available: DC0"),
    ("cluster", "C9", "cluster 'C9' not found in datacenter 'DC0'; available: DC0_C0"),
    ("datastore", "DS9", "datastore 'DS9' not found in datacenter 'DC0'; available: LocalDS_0"),
    ("network", "N9", "network 'N9' not found in datacenter 'DC0'; available: DC0_DVPG0, DVS0-DVUplinks-9, VM Network"),
    ("folder", "nodes/k8s", None),  # lists the folders under DC0/vm, other tests' included
])
def test_lookup_errors_name_what_exists(client, lookup, name, expected):
    with pytest.raises(NotFoundError) as err:
        if lookup == "datacenter":
            client.datacenter(name)
        else:
            getattr(client, lookup)(client.datacenter("DC0"), name)
    assert str(err.value) == (expected or vm_folder_missing_message(client, "nodes"))


def test_lookups_find_objects(client):
    dc = client.datacenter("DC0")
    assert client.cluster(dc, "DC0_C0").name == "DC0_C0"
    assert client.host(dc, "DC0_H0").name == "DC0_H0"
    assert client.datastore(dc, "LocalDS_0").name == "LocalDS_0"
    assert client.network(dc, "VM Network").name == "VM Network"
    assert client.folder(dc, "/DC0/vm") == dc.vmFolder
    pool, host = client.placement_pool(dc, cluster="DC0_C0")
    assert pool == client.cluster(dc, "DC0_C0").resourcePool and host is None


def test_folder_paths_resolve_nested(client):
    dc = client.datacenter("DC0")
    outer = client.folder(dc, "vm").CreateFolder("lab-outer")
    inner = outer.CreateFolder("lab-inner")
    try:
        assert client.folder(dc, "lab-outer/lab-inner") == inner
        assert client.folder(dc, "/DC0/vm/lab-outer/lab-inner") == inner
        with pytest.raises(NotFoundError) as err:
            client.folder(dc, "lab-outer/missing")
        assert str(err.value) == "folder 'missing' not found in 'DC0/vm/lab-outer'; available: lab-inner"
    finally:
        client.wait_for_task(outer.Destroy_Task(), "removing the test folder")


def test_bulk_retrieve_leaves_unset_properties_absent(client):
    rows = [r for r in client.retrieve(vim.VirtualMachine, ["name", "config.template", "snapshot"])
            if (r.get("name") or "").startswith("DC0_")]  # the simulator's own VMs; other tests add theirs
    assert len(rows) == 4
    assert all("snapshot" not in r and r["config.template"] is False for r in rows)


def test_inventory_per_datacenter(client):
    inventory = client.inventory()
    assert inventory == {"DC0": {
        "clusters": ["DC0_C0"],
        "hosts": ["DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2", "DC0_H0"],
        "datastores": ["LocalDS_0"],
        "networks": ["DC0_DVPG0", "DVS0-DVUplinks-9", "VM Network"],
    }}


def test_wait_for_many_tasks(client):
    dc = client.datacenter("DC0")
    vms = [r["obj"] for r in client.retrieve(vim.VirtualMachine, ["name"], dc.vmFolder)][:2]
    tasks = [vm.PowerOffVM_Task() for vm in vms]
    outcomes = client.wait_for_tasks(tasks, timeout=30)
    assert [o.task for o in outcomes] == tasks
    assert all(o.ok for o in outcomes)
    # powering off an already-off VM fails: the outcome carries vCenter's message, no exception
    again = client.wait_for_tasks([vms[0].PowerOffVM_Task()], timeout=30)[0]
    assert again.state == "error" and again.error
    client.wait_for_tasks([vm.PowerOnVM_Task() for vm in vms], timeout=30)


def test_tls_context_is_verifying_by_default(vcsim):
    client = VCenterClient.from_params(dict(vcsim, validate_certs=True))
    assert client.validate_certs is True
    assert ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED


def test_a_fault_at_task_start_is_one_clear_error(client):
    """vCenter refuses some tasks when they are started (CreateVM_Task with DuplicateName; here a template
    powered on): run_task reports it like a task that failed, never as a traceback."""
    dc = client.datacenter("DC0")
    source = client.find_vm(dc.vmFolder, "DC0_H0_VM0", "datacenter 'DC0'", required=True)
    template = client.run_task("cloning a template", source.CloneVM_Task, folder=dc.vmFolder,
                               name="start-fault-template", spec=vim.vm.CloneSpec(
                                   location=vim.vm.RelocateSpec(pool=source.resourcePool), template=True))
    try:
        with pytest.raises(VCenterError) as err:
            client.run_task("powering on template 'start-fault-template'", template.PowerOnVM_Task)
        assert str(err.value) == "powering on template 'start-fault-template' failed: cannot powerOn a template"
    finally:
        client.run_task("removing the template", template.Destroy_Task)


def test_find_vm_is_optional_or_names_what_exists(client):
    dc = client.datacenter("DC0")
    assert client.find_vm(dc.vmFolder, "no-such-vm", "datacenter 'DC0'") is None
    with pytest.raises(NotFoundError) as err:
        client.find_vm(dc.vmFolder, "no-such-vm", "datacenter 'DC0'", kind="template", required=True)
    assert str(err.value).startswith("template 'no-such-vm' not found in datacenter 'DC0'; available: DC0_C0_RP0_VM0")
    assert client.find_vm(dc.vmFolder, "DC0_H0_VM0", "datacenter 'DC0'")._moId
