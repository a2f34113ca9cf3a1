"""The ipxe_build role through ansible-playbook with the stand-in iPXE tree (tests/fixtures/ipxe_tree.py; the
real compile is tests/e2e/test_ipxe_build.py): a build only when an input changes, check mode predicting it,
the files fetched from another build host, and the facts that feed vmware_template and ipxe_dhcp's TFTP root."""

import json
import os
import sys

import pytest

from conftest import run_playbook  # pylint: disable=import-error
from ipxe_tree import make_tree  # pylint: disable=import-error

BOOT_URL = "http://10.0.0.2/coreos/boot.ipxe"
BUILD_TASK = "netboot.coreos.ipxe_build : Build iPXE on the build host"


def write_playbook(path, build_host="localhost"):
    """Play 1 builds (on ``build_host``), play 2 installs the TFTP files as the ipxe_dhcp role does."""
    plays = [
        {"hosts": "localhost", "gather_facts": False, "roles": [{"role": "netboot.coreos.ipxe_build"}],
         "vars": {"ipxe_build_host": build_host},
         "tasks": [{"name": "Show the facts", "ansible.builtin.debug": {
             "msg": {"roms": "{{ ipxe_build_roms }}", "tftp": "{{ ipxe_build_tftp_files }}"}}}]},
        {"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "Load the template defaults", "ansible.builtin.include_vars": os.path.join(
                os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "roles", "vmware_template",
                "defaults", "main.yml")},
            {"name": "Show the template's ROM source", "ansible.builtin.debug": {"var": "vmware_template_ipxe_rom_src"}},
            {"name": "TFTP root", "ansible.builtin.include_role": {
                "name": "netboot.coreos.ipxe_dhcp", "tasks_from": "tftp.yml"}}]},
    ]
    path.write_text(json.dumps(plays))
    return str(path)


@pytest.fixture
def setup(tmp_path):
    tree = make_tree(tmp_path / "ipxe")
    (tmp_path / "distro").mkdir()
    binaries = {}
    for name in ("undionly.kpxe", "snponly.efi", "ipxe.efi"):
        (tmp_path / "distro" / name).write_text("distribution %s" % name)
        binaries[name] = str(tmp_path / "distro" / name)
    variables = {"ipxe_build_src_dir": str(tree), "ipxe_build_dest": str(tmp_path / "out"),
                 "ipxe_build_controller_dir": str(tmp_path / "controller"), "ipxe_build_boot_url": BOOT_URL,
                 "ipxe_build_nics": ["vmxnet3", "e1000"], "ipxe_build_efi": True, "ipxe_build_nice": 0,
                 "vmware_template_nic_type": "vmxnet3", "vmware_template_firmware": "bios",
                 "ipxe_dhcp_tftp_root": str(tmp_path / "tftp"), "ipxe_dhcp_os_tftp_root": str(tmp_path / "tftp"),
                 "ipxe_dhcp_os_binaries": binaries, "ipxe_dhcp_fresh_check": False,
                 "ansible_python_interpreter": sys.executable}
    return tmp_path, variables


def debug(run, task):
    [result] = run.task_results(task)
    return result.get("msg", result)


def test_builds_once_feeds_the_template_and_the_tftp_root_and_check_mode_predicts(setup):
    tmp_path, variables = setup
    playbook = write_playbook(tmp_path / "site.json")
    first = run_playbook(playbook, variables)
    assert first.rc == 0, first.failure_messages() or first.stdout[-3000:]
    out = tmp_path / "out"
    assert debug(first, "Show the facts")["roms"] == {"vmxnet3": str(out / "15ad07b0.rom"),
                                                      "e1000": str(out / "8086100f.mrom")}
    assert debug(first, "Show the facts")["tftp"] == {"snponly.efi": str(out / "snponly.efi")}
    assert (out / "15ad07b0.rom").read_text().startswith("target bin/15ad07b0.rom")
    # the built snponly.efi replaces the distribution's; the others stay the distribution's
    assert (tmp_path / "tftp" / "snponly.efi").read_text() == (out / "snponly.efi").read_text()
    assert (tmp_path / "tftp" / "ipxe.efi").read_text() == "distribution ipxe.efi"

    again = run_playbook(playbook, variables)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]
    assert run_playbook(playbook, variables, check=True).stats["changed"] == 0

    changed = dict(variables, ipxe_build_retries=5)
    predicted = run_playbook(playbook, changed, check=True)
    assert predicted.rc == 0 and [r["changed"] for r in predicted.task_results(BUILD_TASK)] == [True]
    assert "attempt ${netboot-try} of 3" in (out / "15ad07b0.rom").read_text()  # check mode built nothing
    real = run_playbook(playbook, changed)
    assert [r["changed"] for r in real.task_results(BUILD_TASK)] == [True]
    assert "attempt ${netboot-try} of 5" in (out / "15ad07b0.rom").read_text()


def test_the_template_rom_follows_the_nic_and_efi_templates_get_none(setup):
    tmp_path, variables = setup
    playbook = write_playbook(tmp_path / "site.json")
    run = run_playbook(playbook, dict(variables, vmware_template_nic_type="e1000"))
    assert run.rc == 0, run.failure_messages()
    [shown] = run.task_results("Show the template's ROM source")
    assert shown["vmware_template_ipxe_rom_src"] == str(tmp_path / "out" / "8086100f.mrom")
    run = run_playbook(playbook, dict(variables, vmware_template_firmware="efi"))
    [shown] = run.task_results("Show the template's ROM source")
    assert shown["vmware_template_ipxe_rom_src"] == ""


def test_a_build_on_another_host_is_fetched_to_the_controller(setup):
    tmp_path, variables = setup
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\nbuilder ansible_connection=local\n")
    playbook = write_playbook(tmp_path / "site.json", build_host="builder")
    run = run_playbook(playbook, variables, inventory=str(inventory))
    assert run.rc == 0, run.failure_messages() or run.stdout[-3000:]
    controller = tmp_path / "controller"
    assert debug(run, "Show the facts")["roms"]["vmxnet3"] == str(controller / "15ad07b0.rom")
    assert (controller / "15ad07b0.rom").read_bytes() == (tmp_path / "out" / "15ad07b0.rom").read_bytes()
    assert (tmp_path / "tftp" / "snponly.efi").read_bytes() == (controller / "snponly.efi").read_bytes()
    again = run_playbook(playbook, variables, inventory=str(inventory))
    assert again.rc == 0 and again.stats["changed"] == 0


def test_two_sources_are_refused_with_one_clear_message_and_nothing_made(setup):
    tmp_path, variables = setup
    playbook = write_playbook(tmp_path / "site.json")
    run = run_playbook(playbook, dict(variables, ipxe_build_git_url="https://example.com/ipxe.git"))
    assert run.rc != 0
    assert any("parameters are mutually exclusive: git_url|src_dir|src_archive" in m for m in run.failure_messages()), \
        run.failure_messages()
    assert not os.path.exists(tmp_path / "out")
