"""vcenter_inventory_info run as Ansible runs it: results, and one clear line (no traceback) per failure."""

import os
import socket

import pytest

from conftest import REPO, run_module, run_playbook

pytestmark = pytest.mark.vcsim


def test_reads_inventory(vcsim):
    result = run_module("vcenter_inventory_info", vcsim)
    assert result.rc == 0, result
    assert result["changed"] is False
    assert result["datacenters"]["DC0"]["clusters"] == ["DC0_C0"]
    assert result["about"]["api_version"] == "6.5"


def test_connection_settings_from_environment(vcsim):
    env = {"VMWARE_HOST": vcsim["hostname"], "VMWARE_PORT": str(vcsim["port"]), "VMWARE_USER": vcsim["username"],
           "VMWARE_PASSWORD": vcsim["password"], "VMWARE_VALIDATE_CERTS": "false"}
    result = run_module("vcenter_inventory_info", {}, env=env)
    assert result.rc == 0, result
    assert list(result["datacenters"]) == ["DC0"]


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("change, expected", [
    ({"password": "not-the-password"}, "rejected the login for user 'user'"),
    ({"validate_certs": True}, "could not be verified"),
    ({"port": "closed"}, "Connection refused"),
    ({"datacenter": "DC9"}, "datacenter 'DC9' not found; available: DC0"),
])
def test_failures_are_one_clear_line(vcsim, change, expected):
    if change.get("port") == "closed":
        change = {"port": _closed_port()}
    result = run_module("vcenter_inventory_info", dict(vcsim, **change))
    assert result.rc == 1
    assert result["failed"] is True
    assert expected in result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" not in result.stderr and "exception" not in result
    assert "not-the-password" not in result["msg"]


def test_lab_playbook_prints_the_inventory(vcsim):
    extra = {"vcenter_hostname": vcsim["hostname"], "vcenter_port": vcsim["port"],
             "vcenter_username": vcsim["username"], "vcenter_password": vcsim["password"],
             "vcenter_validate_certs": False}
    run = run_playbook(os.path.join(REPO, "playbooks", "lab.yml"), extra,
                       inventory=os.path.join(REPO, "inventories", "lab"))
    assert run.rc == 0, run.stderr
    assert run.stats["changed"] == 0
    printed = run.task_results("Print datacenters, clusters, hosts, datastores and networks")[0]["msg"]
    assert "datacenter DC0" in printed
    assert "  datastores: LocalDS_0" in printed
