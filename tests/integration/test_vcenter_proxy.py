"""proxy_host / proxy_port: the SOAP session and the datastore file transfers go through an HTTP proxy."""

import pytest

from conftest import run_module
from connect_proxy import ConnectProxy
from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient

pytestmark = pytest.mark.vcsim


def test_module_reaches_vcenter_through_the_proxy_from_the_environment(vcsim):
    with ConnectProxy() as proxy:
        result = run_module("vcenter_inventory_info", {}, env={
            "VMWARE_HOST": vcsim["hostname"], "VMWARE_PORT": str(vcsim["port"]),
            "VMWARE_USER": vcsim["username"], "VMWARE_PASSWORD": vcsim["password"],
            "VMWARE_VALIDATE_CERTS": "false",
            "VMWARE_PROXY_HOST": "127.0.0.1", "VMWARE_PROXY_PORT": str(proxy.port)})
    assert result.rc == 0, result
    assert "DC0" in result["datacenters"]
    assert proxy.tunnels and set(proxy.tunnels) == {"%s:%d" % (vcsim["hostname"], vcsim["port"])}


def test_datastore_upload_goes_through_the_proxy(vcsim):
    with ConnectProxy() as proxy:
        with VCenterClient.from_params(dict(vcsim, proxy_host="127.0.0.1", proxy_port=proxy.port)) as client:
            sessions = len(proxy.tunnels)
            client.upload_datastore_file("DC0", "LocalDS_0", "proxy-test/file.bin", b"through the proxy")
            assert client.datastore_file_digest("DC0", "LocalDS_0", "proxy-test/file.bin") is not None
    assert sessions >= 1
    assert len(proxy.tunnels) >= sessions + 2  # one tunnel per file request


def test_aliases_user_and_pwd(vcsim):
    args = dict(vcsim)
    args["user"] = args.pop("username")
    args["pwd"] = args.pop("password")
    result = run_module("vcenter_inventory_info", args)
    assert result.rc == 0, result
    assert "DC0" in result["datacenters"]


def test_proxy_host_without_port_is_a_clear_error(vcsim):
    with pytest.raises(NetbootError) as err:
        VCenterClient.from_params(dict(vcsim, proxy_host="proxy.example.com"))
    assert str(err.value) == ("proxy_host proxy.example.com needs proxy_port (VMWARE_PROXY_PORT), the port of the "
                              "HTTP proxy")
