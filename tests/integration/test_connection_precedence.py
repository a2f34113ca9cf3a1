"""Connection settings: an inventory value wins over module_defaults, which wins over the VMWARE_* environment
(what an AWX VMware credential injects); a setting nobody gives is not passed, so the module's default applies."""

import os
import socket
import sys

import pytest

from conftest import run_playbook

pytestmark = pytest.mark.vcsim

TEMPLATE_VARS = {"vmware_template_name": "precedence-template", "vmware_template_datastore": "LocalDS_0",
                 "vmware_template_cluster": "DC0_C0",
                 "ansible_python_interpreter": sys.executable}


def vmware_env(vcsim, **changes):
    env = {"VMWARE_HOST": vcsim["hostname"], "VMWARE_PORT": str(vcsim["port"]), "VMWARE_USER": vcsim["username"],
           "VMWARE_PASSWORD": vcsim["password"], "VMWARE_VALIDATE_CERTS": "false"}
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def play_with_module_defaults(tmp_path, settings):
    """The template role in a play whose module_defaults set the vCenter connection for the action group."""
    lines = "\n".join("      %s: %s" % (key, value) for key, value in settings.items())
    path = tmp_path / "play.yml"
    path.write_text("""---
- name: Template with the connection in module_defaults
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/netboot.coreos.vmware:
%s
  roles:
    - role: netboot.coreos.vmware_template
""" % lines)
    return str(path)


def template_result(run):
    results = run.task_results("netboot.coreos.vmware_template : Keep the iPXE template VM precedence-template")
    assert results, run.stderr[-2000:]
    return results[0]


def test_environment_only_reaches_the_simulator(vcsim):
    run = run_playbook("playbooks/template.yml", extra_vars=TEMPLATE_VARS, check=True, env=vmware_env(vcsim))
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert template_result(run)["changed"] is True  # check mode: it read vCenter and would create the VM


def test_environment_port_is_not_overridden_by_the_role(vcsim):
    """The role used to pass port 443 always; the port from the environment must be the one used."""
    port = closed_port()
    run = run_playbook("playbooks/template.yml", extra_vars=TEMPLATE_VARS, check=True,
                       env=vmware_env(vcsim, VMWARE_PORT=str(port)))
    assert run.rc != 0
    assert template_result(run)["msg"] == "cannot connect to vCenter https://127.0.0.1:%d: Connection refused" % port


def test_validate_certs_defaults_to_true_when_nobody_sets_it(vcsim):
    run = run_playbook("playbooks/template.yml", extra_vars=TEMPLATE_VARS, check=True,
                       env=vmware_env(vcsim, VMWARE_VALIDATE_CERTS=None))
    assert run.rc != 0
    assert template_result(run)["msg"].startswith("the TLS certificate of vCenter https://127.0.0.1:%d could not be "
                                                  "verified" % vcsim["port"])


def test_module_defaults_group_wins_over_the_environment(tmp_path, vcsim):
    play = play_with_module_defaults(tmp_path, dict(vcsim, validate_certs="false"))
    run = run_playbook(play, extra_vars=TEMPLATE_VARS, check=True,
                       env=vmware_env(vcsim, VMWARE_PORT=str(closed_port()), VMWARE_PASSWORD="wrong"))
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert template_result(run)["changed"] is True


def test_inventory_value_wins_over_module_defaults(tmp_path, vcsim):
    port = closed_port()
    play = play_with_module_defaults(tmp_path, dict(vcsim, validate_certs="false"))
    run = run_playbook(play, extra_vars=dict(TEMPLATE_VARS, vcenter_port=port), check=True)
    assert run.rc != 0
    assert template_result(run)["msg"] == "cannot connect to vCenter https://127.0.0.1:%d: Connection refused" % port
    run = run_playbook(play, extra_vars=dict(TEMPLATE_VARS, vcenter_port=vcsim["port"]), check=True,
                       env=vmware_env(vcsim, VMWARE_PORT=str(port)))
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]


@pytest.mark.parametrize("inventory", ["lab", "example"])
def test_the_inventories_leave_validate_certs_to_the_environment(vcsim, inventory):
    """An AWX VMware credential's VMWARE_VALIDATE_CERTS=false is not overridden by an inventory's pinned true."""
    connection = {"vcenter_hostname": vcsim["hostname"], "vcenter_port": vcsim["port"],
                  "vcenter_username": vcsim["username"], "vcenter_password": vcsim["password"],
                  "vcenter_datacenter": "DC0", "vcenter_folder": "", "vcenter_network": "VM Network"}
    run = run_playbook("playbooks/template.yml", extra_vars=dict(TEMPLATE_VARS, **connection), check=True,
                       inventory=os.path.join("inventories", inventory), env=vmware_env(vcsim))
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert template_result(run)["changed"] is True
    unset = run_playbook("playbooks/template.yml", extra_vars=dict(TEMPLATE_VARS, **connection), check=True,
                         inventory=os.path.join("inventories", inventory),
                         env=vmware_env(vcsim, VMWARE_VALIDATE_CERTS=None))
    assert template_result(unset)["msg"].startswith("the TLS certificate of vCenter")  # else true


def test_the_example_inventory_takes_the_connection_from_an_awx_vmware_credential(vcsim):
    """Copied to AWX with a VMware credential, the example inventory connects with the credential's host and user."""
    placement = {"vcenter_datacenter": "DC0", "vcenter_folder": "", "vcenter_network": "VM Network"}
    run = run_playbook("playbooks/template.yml", extra_vars=dict(TEMPLATE_VARS, **placement), check=True,
                       inventory=os.path.join("inventories", "example"), env=vmware_env(vcsim))
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert template_result(run)["changed"] is True
    refused = run_playbook("playbooks/template.yml", extra_vars=dict(TEMPLATE_VARS, **placement), check=True,
                           inventory=os.path.join("inventories", "example"),
                           env=vmware_env(vcsim, VMWARE_PORT=str(closed_port())))
    assert template_result(refused)["msg"].startswith("cannot connect to vCenter https://%s:" % vcsim["hostname"])
