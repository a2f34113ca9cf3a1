"""The client's round trips: ServiceContent read once, one container view per root and types per session,
datacenters read once with their root folders, placement in one read (issue 17)."""

import pytest

pytest.importorskip("pyVmomi")

from pyVmomi import vim  # noqa: E402

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError  # noqa: E402
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient  # noqa: E402


class _Obj:
    """A managed object stand-in: a moId, and attributes that fail when read (a lazy round trip)."""

    def __init__(self, moid):
        self._moId = moid

    def __getattr__(self, name):
        raise AssertionError("lazy read of %s.%s (a round trip)" % (self._moId, name))


class Counting(VCenterClient):
    """A client whose vSphere calls are counted; reads answer from ``rows`` by the view's types."""

    def __init__(self, rows):
        super().__init__("vc.example.com", "u", "p")
        self.rows = rows
        self.calls = []
        self.specs = []
        client = self

        class ViewManager:
            def CreateContainerView(self, root, types, recursive):  # noqa: N802  pylint: disable=invalid-name
                client.calls.append("CreateContainerView")
                return vim.view.ContainerView("view-%d" % len(client.calls))

        class ServiceInstance:
            def RetrieveContent(self):  # noqa: N802  pylint: disable=invalid-name
                client.calls.append("RetrieveContent")
                content = type("Content", (), {})()
                content.viewManager = ViewManager()
                content.rootFolder = _Obj("group-d1")
                content.propertyCollector = None
                return content

        self._si = ServiceInstance()

    def _retrieve_all(self, spec):
        self.calls.append("RetrievePropertiesEx")
        self.specs.append(spec)
        types = tuple(p.type for p in spec.propSet)
        return [dict(row) for row in self.rows.get(types, [])]


DC = vim.Datacenter("datacenter-2")
HOST_FOLDER, VM_FOLDER = vim.Folder("group-h4"), vim.Folder("group-v3")


def _client(extra=None):
    rows = {(vim.Datacenter,): [{"obj": DC, "name": "DC0", "vmFolder": VM_FOLDER, "hostFolder": HOST_FOLDER,
                                 "datastoreFolder": vim.Folder("group-s5"), "networkFolder": vim.Folder("group-n6")}]}
    rows.update(extra or {})
    return Counting(rows)


def test_content_is_read_once_and_views_are_reused():
    client = _client()
    for _read in range(3):
        client.retrieve(vim.VirtualMachine, ["name"])
    assert client.calls.count("RetrieveContent") == 1
    assert client.calls.count("CreateContainerView") == 1  # one view for the same root and types
    assert client.calls.count("RetrievePropertiesEx") == 3
    client.retrieve(vim.HostSystem, ["name"])
    assert client.calls.count("CreateContainerView") == 2


def test_datacenter_folders_and_name_come_from_the_one_read():
    client = _client()
    dc = client.datacenter("DC0")
    assert client.datacenter_folder(dc, "vm") is VM_FOLDER
    assert client.datacenter_folder(dc, "host") is HOST_FOLDER
    assert client.datacenter_name(dc) == "DC0"
    client.datacenter("DC0")
    assert client.calls.count("RetrievePropertiesEx") == 1
    with pytest.raises(NotFoundError):
        client.datacenter("DC9")


def test_per_type_properties():
    client = _client()
    properties = {vim.VirtualMachine: ["name", "config.uuid"], vim.HostSystem: ["name"]}
    client.retrieve([vim.VirtualMachine, vim.HostSystem], properties)
    paths = {p.type: list(p.pathSet) for p in client.specs[-1].propSet}
    assert paths == {vim.VirtualMachine: ["name", "config.uuid"], vim.HostSystem: ["name"]}


def test_cluster_placement_is_one_read_with_its_pool_and_hosts():
    pool, hosts = vim.ResourcePool("resgroup-9"), [vim.HostSystem("host-1"), vim.HostSystem("host-2")]
    client = _client({(vim.ClusterComputeResource,): [
        {"obj": vim.ClusterComputeResource("domain-c7"), "name": "C0", "resourcePool": pool, "host": hosts},
        {"obj": vim.ClusterComputeResource("domain-c8"), "name": "C1"}]})
    dc = client.datacenter("DC0")
    before = client.calls.count("RetrievePropertiesEx")
    assert client.placement(dc, cluster="C0") == (pool, None, hosts)
    assert client.calls.count("RetrievePropertiesEx") == before + 1
    assert list(client.specs[-1].propSet[0].pathSet) == ["name", "resourcePool", "host"]
    with pytest.raises(NotFoundError) as err:
        client.placement(dc, cluster="C9")
    assert "C9" in str(err.value) and "C0" in str(err.value)
