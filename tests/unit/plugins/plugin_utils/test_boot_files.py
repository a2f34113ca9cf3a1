"""plugin_utils/boot_files: every file of the boot chain computed in Python.

The golden files in boot_files_golden/ were written by the http_repo role's Jinja templates and set_fact loop
(main at 9261aea, before this function replaced them) for eight representative plans; boot_files must give the
same bytes for the same inputs (boot.ipxe since: it chains the node script with --replace). The Ignition documents among them pass the real ignition-validate.
"""

import glob
import json
import os

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.netboot.coreos.plugins.filter.boot_files import FilterModule
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.boot_files import boot_files

import real_ignition  # pylint: disable=import-error

GOLDEN = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "boot_files_golden", "*.json")))
ROLE_DEFAULTS = {"http_repo_distro": "flatcar", "http_repo_channel": "stable", "http_repo_ignition_spec": "3.3.0",
                 "http_repo_ntp_daemon": "", "http_repo_update_strategy": "reboot", "http_repo_extra_units": [],
                 "http_repo_extra_files": [], "http_repo_open_vm_tools": True, "http_repo_install_device": "/dev/sda",
                 "http_repo_console_args": ["console=tty0", "console=ttyS0,115200n8"], "http_repo_kernel_args": [],
                 "http_repo_default_profile": "exit", "http_repo_rancher": {}, "http_repo_rancher_url": ""}
NODE = {"name": "n1", "hostname": "n1", "mac": "00:50:56:00:00:01", "ip": None, "roles": ["worker"], "labels": {},
        "taints": [], "num_cpus": None, "memory_mb": None}
RELEASE = {"version": "1.2", "artifacts": {"kernel": "k", "initramfs": "i", "image": "img", "rootfs": "r"}}
SETTINGS = {"distro": "flatcar", "base_url": "http://repo/coreos"}


def arguments(role_vars):
    """The nodes, release and settings the http_repo role passes for these role variables."""
    v = dict(ROLE_DEFAULTS, **role_vars)
    distro = v["http_repo_distro"]
    settings = {
        "distro": distro, "base_url": v["netboot_base_url"], "ignition_spec": v["http_repo_ignition_spec"],
        "ssh_authorized_keys": v["http_repo_ssh_authorized_keys"], "ntp_servers": v["http_repo_ntp_servers"],
        "ntp_client": v["http_repo_ntp_daemon"], "timezone": v["http_repo_timezone"],
        "update_strategy": v["http_repo_update_strategy"],
        "update_group": v.get("http_repo_update_group", v["http_repo_channel"]),
        "extra_units": v["http_repo_extra_units"], "extra_files": v["http_repo_extra_files"],
        "install_device": v["http_repo_install_device"],
        "install_oem": "vmware_raw" if v["http_repo_open_vm_tools"] and distro != "fedora-coreos" else "",
        "console_args": v["http_repo_console_args"], "kernel_args": v["http_repo_kernel_args"],
        "default_profile": v["http_repo_default_profile"], "rancher": v["http_repo_rancher"],
        "rancher_url": v["http_repo_rancher_url"]}
    release = {"version": v["http_repo_version"], "artifacts": v["http_repo_artifacts"]}
    return v["http_repo_nodes"], release, settings


@pytest.mark.parametrize("path", GOLDEN, ids=[os.path.basename(p)[:-5] for p in GOLDEN])
def test_same_bytes_as_the_templates(path):
    with open(path) as handle:
        golden = json.load(handle)
    files = boot_files(*arguments(golden["vars"]))
    assert sorted(files) == sorted(golden["files"])
    for name, content in golden["files"].items():
        assert files[name] == content, name


def test_golden_cases_cover_the_plans():
    names = [os.path.basename(p)[:-5] for p in GOLDEN]
    assert len(names) == 8
    kinds = {"flatcar", "fcos", "coreos_legacy", "rancher", "labels", "static", "many", "default_install", "empty"}
    assert all(any(kind in name for name in names) for kind in kinds), names


@pytest.mark.parametrize("path", GOLDEN, ids=[os.path.basename(p)[:-5] for p in GOLDEN])
def test_ignition_documents_pass_the_real_validator(path, tmp_path):
    with open(path) as handle:
        role_vars = json.load(handle)["vars"]
    files = boot_files(*arguments(role_vars))
    if role_vars.get("http_repo_ignition_spec", "3.3.0") not in real_ignition.VALIDATED_SPECS:
        pytest.skip("Debian's ignition-validate 2.14 does not know spec %s" % role_vars["http_repo_ignition_spec"])
    documents = [name for name in files if name.endswith(".ign")]
    assert documents or role_vars.get("http_repo_distro") == "coreos" or not role_vars["http_repo_nodes"]
    for name in documents:
        target = tmp_path / name.replace("/", "_")
        target.write_text(files[name])
        real_ignition.validate(target)


def test_one_node_file_set():
    files = boot_files([NODE], RELEASE, SETTINGS)
    assert sorted(files) == ["boot.ipxe", "nodes/00-50-56-00-00-01.ipxe", "nodes/00-50-56-00-00-01/install.ign",
                             "nodes/00-50-56-00-00-01/node.ign"]
    node = json.loads(files["nodes/00-50-56-00-00-01/node.ign"])
    assert {f["path"] for f in node["storage"]["files"]} == {"/etc/hostname", "/etc/flatcar/update.conf"}
    assert node["storage"]["links"][0]["target"] == "../usr/share/zoneinfo/UTC"
    assert "exit\n" in files["boot.ipxe"]
    legacy = boot_files([NODE], RELEASE, dict(SETTINGS, distro="coreos", default_profile="install"))
    assert sorted(legacy) == ["boot.ipxe", "nodes/00-50-56-00-00-01.ipxe", "nodes/00-50-56-00-00-01/cloud-config.yaml",
                              "nodes/00-50-56-00-00-01/install.sh", "nodes/default.ipxe",
                              "nodes/default/cloud-config.yaml", "nodes/default/install.sh"]


def test_legacy_octal_string_mode():
    """A mode given as an octal string is that mode (the template read '0600' as decimal 600)."""
    files = boot_files([NODE], RELEASE, dict(SETTINGS, distro="coreos", extra_files=[
        {"path": "/etc/motd", "mode": "0600", "contents": {"inline": "x"}}]))
    assert '  - path: "/etc/motd"\n    permissions: "0600"\n' in files["nodes/00-50-56-00-00-01/cloud-config.yaml"]


def test_rancher_join_only_on_planned_nodes():
    token = {"provisioning": "v2prov", "token": "regtoken", "server_url": "https://rancher.example.com"}
    files = boot_files([NODE], RELEASE, dict(SETTINGS, rancher=token, default_profile="install"))
    assert "regtoken" in files["nodes/00-50-56-00-00-01/node.ign"]
    assert "regtoken" not in files["nodes/default/node.ign"]


@pytest.mark.parametrize("nodes,release,settings,message", [
    ([dict(NODE, mac="00-50-56-00-00-01")], RELEASE, SETTINGS, "boot_files: nodes: node 'n1': mac '00-50-56-00-00-01'"),
    ([{"name": "n1"}], RELEASE, SETTINGS, "node 'n1' has no mac"),
    ([NODE, dict(NODE, name="n2")], RELEASE, SETTINGS, "duplicate"),
    ([NODE], {"version": "1"}, SETTINGS, "release must be a mapping with version and artifacts"),
    ([NODE], RELEASE, dict(SETTINGS, distro="gentoo"), "distro 'gentoo' is not one of flatcar, fedora-coreos, coreos"),
    ([NODE], RELEASE, dict(SETTINGS, default_profile="pxe"), "default_profile 'pxe' is not one of exit, install"),
    ([NODE], RELEASE, dict(SETTINGS, ntp_server=["x"]), "unknown setting(s) ntp_server; valid: distro, base_url"),
    ([NODE], RELEASE, {"distro": "flatcar"}, "settings base_url are required"),
    ([NODE], RELEASE, dict(SETTINGS, extra_units=[{"name": "x.service", "enable": True}]),
     "systemd.units[0].enable: unknown field"),
    ([NODE], RELEASE, dict(SETTINGS, ssh_authorized_keys=["ssh-rsa nope"]), "not an OpenSSH public key"),
    ([NODE], RELEASE, dict(SETTINGS, distro="coreos", ssh_authorized_keys=["ssh-rsa nope"]),
     "passwd.users[0].ssh_authorized_keys[0]: not an OpenSSH public key"),
    ([NODE], RELEASE, dict(SETTINGS, distro="coreos", extra_files=[
        {"path": "/etc/a", "contents": {"source": "http://x/a"}}]),
     "legacy CoreOS cloud-config cannot fetch file contents from a URL: give contents.inline for /etc/a"),
    ([NODE], RELEASE, dict(SETTINGS, rancher={"provisioning": "v9"}), "token_result.provisioning is 'v9'"),
])
def test_bad_input_names_the_value(nodes, release, settings, message):
    with pytest.raises(ValidationError) as error:
        boot_files(nodes, release, settings)
    assert message in error.value.msg


def test_filter_raises_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="distro 'gentoo'"):
        FilterModule().filters()["boot_files"]([NODE], RELEASE, dict(SETTINGS, distro="gentoo"))


def test_image_verify_checks_kernel_and_initrd_and_stops_on_a_refusal():
    plain = boot_files([NODE], RELEASE, SETTINGS)["nodes/00-50-56-00-00-01.ipxe"]
    assert "imgverify" not in plain and plain.endswith("initrd http://repo/coreos/1.2/i\nboot\n")
    script = boot_files([NODE], RELEASE, dict(SETTINGS, image_verify=True))["nodes/00-50-56-00-00-01.ipxe"]
    lines = script.splitlines()
    assert lines.index("imgverify k http://repo/coreos/1.2/k.ipxe.sig || goto kernel-refused") \
        < lines.index("imgverify i http://repo/coreos/1.2/i.ipxe.sig || goto initrd-refused") < lines.index("boot")
    assert "echo netboot: kernel signature check failed: http://repo/coreos/1.2/k (https://ipxe.org/${errno:hexraw})" \
        in lines
    assert "echo netboot: initrd signature check failed: http://repo/coreos/1.2/i (https://ipxe.org/${errno:hexraw})" \
        in lines
    # a refusal ends in poweroff: never back into boot.ipxe (chained with --replace) as an unplanned machine
    assert lines[-1] == "poweroff" and lines.count("boot") == 1
    boot = boot_files([NODE], RELEASE, SETTINGS)["boot.ipxe"]
    assert "chain --replace --autofree http://repo/coreos/nodes/${mac:hexhyp}.ipxe || goto unplanned" in boot
    with pytest.raises(ValidationError, match="image_verify must be true or false, got 'yes'"):
        boot_files([NODE], RELEASE, dict(SETTINGS, image_verify="yes"))
