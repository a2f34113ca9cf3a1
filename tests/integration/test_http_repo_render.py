"""The http_repo role's rendering, run by ansible-playbook on localhost into a temporary repository.

Only the `http_repo_configs` tag runs (no nginx, no sync: the molecule scenario covers those in a container).
Every Ignition file is checked with the real Ignition's ignition-validate (the ORACLE, Debian's ignition package).
"""

import base64
import json
import os
import sys
from urllib.parse import unquote

import pytest
import yaml

from tests.conftest import REPO, run_playbook  # pylint: disable=import-error
import real_ignition  # pylint: disable=import-error,wrong-import-order

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfpCwYYdFjjCyym0zgHIMGYcgPUrvqWvGg7lIYg4Zw4 ops@ed25519"
NODES = [
    {"name": "lab-node01", "hostname": "coreos21", "mac": "00:50:56:00:00:21", "ip": "10.0.0.21", "roles": ["worker"],
     "labels": {}, "taints": [], "num_cpus": None, "memory_mb": None},
    {"name": "lab-node02", "hostname": "coreos22", "mac": "00:50:56:00:00:22", "ip": "10.0.0.22",
     "roles": ["etcd", "controlplane"], "labels": {}, "taints": [], "num_cpus": None, "memory_mb": None},
]
ARTIFACTS = {
    "flatcar": {"kernel": "flatcar_production_pxe.vmlinuz", "initramfs": "flatcar_production_pxe_image.cpio.gz",
                "image": "flatcar_production_vmware_raw_image.bin.bz2"},
    "coreos": {"kernel": "coreos_production_pxe.vmlinuz", "initramfs": "coreos_production_pxe_image.cpio.gz",
               "image": "coreos_production_vmware_raw_image.bin.bz2"},
    "fedora-coreos": {"kernel": "fedora-coreos-42.1-live-kernel.x86_64",
                      "initramfs": "fedora-coreos-42.1-live-initramfs.x86_64.img",
                      "rootfs": "fedora-coreos-42.1-live-rootfs.x86_64.img",
                      "image": "fedora-coreos-42.1-metal.x86_64.raw.xz"},
}
BASE = "http://repo.example.com/coreos"
WRITE = "netboot.coreos.http_repo : Write boot.ipxe and the files under nodes/ (those of nodes that left the plan go)"
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - netboot.coreos.http_repo
"""


def render(tmp_path, check=False, drop=(), **overrides):
    root = tmp_path / "repo"
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    distro = overrides.get("http_repo_distro", "flatcar")
    extra = {"ansible_python_interpreter": sys.executable, "netboot_base_url": BASE, "http_repo_root": str(root),
             "http_repo_nodes": NODES, "http_repo_sync_images": False, "http_repo_version": "42.1",
             "http_repo_artifacts": ARTIFACTS.get(distro, ARTIFACTS["flatcar"]), "http_repo_ssh_authorized_keys": [KEY],
             "http_repo_ntp_servers": ["ntp1.example.com"], "http_repo_timezone": "Europe/Berlin"}
    extra.update(overrides)
    for name in drop:
        del extra[name]
    run = run_playbook(str(playbook), extra_vars=extra, check=check, tags="http_repo_configs")
    return run, root


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _dirs, fs in os.walk(root) for f in fs)


def ignition(path, spec="3.3.0"):
    """The Ignition document at ``path``, which the real ignition-validate accepts, of spec ``spec``."""
    real_ignition.validate(path)
    with open(path) as handle:
        document = json.load(handle)
    assert document["ignition"]["version"] == spec
    return document


def file_text(document, path):
    node = [f for f in document["storage"]["files"] if f["path"] == path][0]
    head, payload = node["contents"]["source"].split(",", 1)
    return base64.b64decode(payload).decode() if head.endswith(";base64") else unquote(payload)


def units(document):
    return {u["name"]: u for u in document["systemd"]["units"]}


def test_flatcar_ntpd_and_idempotence(tmp_path):
    run, root = render(tmp_path, http_repo_ntp_daemon="ntpd", http_repo_ignition_spec="3.3.0",
                       http_repo_update_strategy="etcd-lock")
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert files_under(root) == ["boot.ipxe", "nodes/00-50-56-00-00-21.ipxe", "nodes/00-50-56-00-00-21/install.ign",
                                 "nodes/00-50-56-00-00-21/node.ign", "nodes/00-50-56-00-00-22.ipxe",
                                 "nodes/00-50-56-00-00-22/install.ign", "nodes/00-50-56-00-00-22/node.ign"]
    node = ignition(root / "nodes/00-50-56-00-00-22/node.ign", "3.3.0")
    assert file_text(node, "/etc/hostname") == "coreos22\n"
    assert file_text(node, "/etc/ntp.conf").startswith("server ntp1.example.com iburst\n")
    assert file_text(node, "/etc/flatcar/update.conf") == "GROUP=stable\nREBOOT_STRATEGY=etcd-lock\n"
    assert units(node)["systemd-timesyncd.service"] == {"name": "systemd-timesyncd.service", "mask": True}
    assert units(node)["ntpd.service"]["enabled"] is True
    assert node["storage"]["links"] == [{"path": "/etc/localtime", "target": "../usr/share/zoneinfo/Europe/Berlin",
                                         "hard": False, "overwrite": True}]
    install = ignition(root / "nodes/00-50-56-00-00-22/install.ign", "3.3.0")
    assert ("ExecStart=/usr/bin/flatcar-install -d /dev/sda -i /var/lib/netboot-install/node.ign -b %s -V 42.1 "
            "-o vmware_raw\n" % BASE) in units(install)["netboot-install.service"]["contents"]
    again = render(tmp_path, http_repo_ntp_daemon="ntpd", http_repo_ignition_spec="3.3.0",
                   http_repo_update_strategy="etcd-lock")[0]
    assert again.rc == 0 and again.stats["changed"] == 0


def test_fedora_coreos(tmp_path):
    run, root = render(tmp_path, http_repo_distro="fedora-coreos", http_repo_update_strategy="off")
    assert run.rc == 0, run.failure_messages() or run.stderr
    script = (root / "nodes/00-50-56-00-00-21.ipxe").read_text()
    assert script.startswith("#!ipxe\n") and (root / "boot.ipxe").read_text().startswith("#!ipxe\n")
    art = ARTIFACTS["fedora-coreos"]
    assert ("kernel %s/42.1/%s initrd=%s coreos.live.rootfs_url=%s/42.1/%s ignition.firstboot ignition.platform.id=metal "
            "ignition.config.url=%s/nodes/00-50-56-00-00-21/install.ign console=tty0 console=ttyS0,115200n8\n"
            % (BASE, art["kernel"], art["initramfs"], BASE, art["rootfs"], BASE)) in script
    assert "initrd %s/42.1/%s\n" % (BASE, art["initramfs"]) in script
    install = ignition(root / "nodes/00-50-56-00-00-21/install.ign")
    assert ("ExecStart=/usr/bin/coreos-installer install /dev/sda --ignition-file /var/lib/netboot-install/node.ign "
            "--image-url %s/42.1/%s\n" % (BASE, art["image"])) in units(install)["netboot-install.service"]["contents"]
    node = ignition(root / "nodes/00-50-56-00-00-21/node.ign")
    assert file_text(node, "/etc/zincati/config.d/55-netboot-updates.toml") == "[updates]\nenabled = false\n"
    assert file_text(node, "/etc/chrony.conf").startswith("server ntp1.example.com iburst\n")
    assert units(node)["chronyd.service"]["enabled"] is True


def test_legacy_coreos_cloud_config_pair(tmp_path):
    extra_units = [{"name": "etcd2.service", "enabled": True, "dropins": [{"name": "10-x.conf", "contents": "[Unit]\n"}]}]
    run, root = render(tmp_path, http_repo_distro="coreos", http_repo_extra_units=extra_units,
                       http_repo_extra_files=[{"path": "/etc/motd", "mode": 0o600, "contents": {"inline": "hi\n"}}])
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert "nodes/00-50-56-00-00-21/install.sh" in files_under(root)
    script = (root / "nodes/00-50-56-00-00-21.ipxe").read_text()
    assert ("initrd=coreos_production_pxe_image.cpio.gz coreos.first_boot=1 "
            "cloud-config-url=%s/nodes/00-50-56-00-00-21/install.sh " % BASE) in script
    install = (root / "nodes/00-50-56-00-00-21/install.sh").read_text()
    assert install.startswith("#!/bin/sh\n")
    assert "curl -fsSL --retry 5 -o /tmp/cloud-config.yaml %s/nodes/00-50-56-00-00-21/cloud-config.yaml\n" % BASE in install
    assert "coreos-install -d /dev/sda -c /tmp/cloud-config.yaml -b %s -V 42.1 -o vmware_raw\n" % BASE in install
    text = (root / "nodes/00-50-56-00-00-21/cloud-config.yaml").read_text()
    assert text.startswith("#cloud-config\n")
    config = yaml.safe_load(text)
    assert config["hostname"] == "coreos21" and config["ssh_authorized_keys"] == [KEY]
    assert config["coreos"]["update"] == {"group": "stable", "reboot-strategy": "reboot"}
    assert {"path": "/etc/motd", "permissions": "0600", "content": "hi\n"} in config["write_files"]
    assert {"path": "/etc/systemd/timesyncd.conf", "permissions": "0644",
            "content": "[Time]\nNTP=ntp1.example.com\n"} in config["write_files"]
    names = {u["name"]: u for u in config["coreos"]["units"]}
    assert names["etcd2.service"] == {"name": "etcd2.service", "enable": True, "command": "start",
                                      "drop-ins": [{"name": "10-x.conf", "content": "[Unit]\n"}]}
    assert "timedatectl set-timezone Europe/Berlin" in names["netboot-timezone.service"]["content"]


def test_default_profile_install_and_stale_removal(tmp_path):
    run, root = render(tmp_path, http_repo_default_profile="install")
    assert run.rc == 0, run.failure_messages() or run.stderr
    boot = (root / "boot.ipxe").read_text()
    assert "chain --replace --autofree %s/nodes/${mac:hexhyp}.ipxe || goto unplanned\n" % BASE in boot
    assert "chain --replace --autofree %s/nodes/default.ipxe\n" % BASE in boot
    generic = ignition(root / "nodes/default/node.ign")
    assert "/etc/hostname" not in [f["path"] for f in generic["storage"]["files"]]
    assert generic["passwd"]["users"][0]["sshAuthorizedKeys"] == [KEY]
    predicted = render(tmp_path, check=True, http_repo_nodes=NODES[:1])[0]
    run, root = render(tmp_path, http_repo_nodes=NODES[:1])
    assert run.rc == 0, run.failure_messages() or run.stderr
    removed = run.task_results(WRITE)[0]["removed"]
    assert removed == ["nodes/00-50-56-00-00-22.ipxe", "nodes/00-50-56-00-00-22/", "nodes/00-50-56-00-00-22/install.ign",
                       "nodes/00-50-56-00-00-22/node.ign", "nodes/default.ipxe", "nodes/default/",
                       "nodes/default/install.ign", "nodes/default/node.ign"]
    assert run.task_results(WRITE)[0]["updated"] == ["boot.ipxe"] and run.task_results(WRITE)[0]["created"] == []
    assert predicted.task_results(WRITE)[0]["removed"] == removed
    assert files_under(root) == ["boot.ipxe", "nodes/00-50-56-00-00-21.ipxe", "nodes/00-50-56-00-00-21/install.ign",
                                 "nodes/00-50-56-00-00-21/node.ign"]
    assert "exit\n" in (root / "boot.ipxe").read_text()


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    run, root = render(tmp_path, check=True)
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert run.task_results(WRITE)[0]["created"] == [
        "boot.ipxe", "nodes/00-50-56-00-00-21.ipxe", "nodes/00-50-56-00-00-21/install.ign",
        "nodes/00-50-56-00-00-21/node.ign", "nodes/00-50-56-00-00-22.ipxe", "nodes/00-50-56-00-00-22/install.ign",
        "nodes/00-50-56-00-00-22/node.ign"]
    assert not root.exists() or files_under(root) == []
    real = render(tmp_path)[0]
    assert real.stats["changed"] == run.stats["changed"]


def test_rancher_join_in_node_config(tmp_path):
    if not os.path.exists(os.path.join(REPO, "plugins", "filter", "rancher_join.py")):
        pytest.skip("the netboot.coreos.rancher_join filter has not landed")
    token = {"provisioning": "v2prov", "cluster_id": "c-m-abc", "token": "regtoken-secret", "ca_checksum": "",
             "server_url": "https://rancher.example.com", "api_key": "token-xyz:never-on-nodes"}
    run, root = render(tmp_path, http_repo_rancher=token)
    assert run.rc == 0, run.failure_messages() or run.stderr
    raw = (root / "nodes/00-50-56-00-00-22/node.ign").read_text()
    node = ignition(root / "nodes/00-50-56-00-00-22/node.ign")
    assert units(node)["rancher-join.service"]["enabled"] is True
    script = file_text(node, "/var/lib/rancher-join/join.sh")
    assert "regtoken-secret" in script and "--etcd" in script and "--controlplane" in script
    assert "never-on-nodes" not in raw
    assert "regtoken-secret" not in run.stdout  # the rendering and writing tasks hide their output


def test_rancher_join_error_is_shown(tmp_path):
    if not os.path.exists(os.path.join(REPO, "plugins", "filter", "rancher_join.py")):
        pytest.skip("the netboot.coreos.rancher_join filter has not landed")
    token = {"provisioning": "v2prov", "token": "regtoken-secret", "server_url": "https://rancher.example.com"}
    run, root = render(tmp_path, http_repo_rancher=token, http_repo_nodes=[dict(NODES[0], roles=["master"])])
    assert run.rc != 0 and not root.exists()
    assert "node 'lab-node01': role 'master' is not a Rancher node role" in run.stdout  # the looped item's message
    assert "regtoken-secret" not in run.stdout


@pytest.mark.parametrize("overrides,message", [
    ({"http_repo_distro": "gentoo"}, "value of http_repo_distro must be one of: flatcar, fedora-coreos, coreos, got: gentoo"),
    ({"http_repo_ssh_authorized_keys": ["ssh-rsa AAAA-not-a-key"]},
     "passwd.users[0].ssh_authorized_keys[0]: not an OpenSSH public key"),
    ({"http_repo_nodes": [dict(NODES[0], hostname="Bad_Host")]},
     "node 'lab-node01': hostname 'Bad_Host' is not a valid RFC 1123 host name"),
    ({"http_repo_nodes": [dict(NODES[0], mac="00-50-56-00-00-21")]},
     "node 'lab-node01': mac '00-50-56-00-00-21' is not a MAC address; use the form 00:50:56:xx:xx:xx"),
    ({"http_repo_nodes": [dict(NODES[0], labels={"bad key": "x"})]}, "node 'lab-node01': label bad key=x is not a valid"),
    ({"http_repo_nodes": [NODES[0], dict(NODES[1], mac=NODES[0]["mac"])]}, "duplicate"),
    ({"http_repo_distro": "coreos", "http_repo_artifacts": ARTIFACTS["coreos"],
      "http_repo_extra_files": [{"path": "/etc/a", "contents": {"source": "http://x/a"}}]},
     "legacy CoreOS cloud-config cannot fetch file contents from a URL: give contents.inline for /etc/a"),
    ({"http_repo_extra_units": [{"name": "x.service", "enable": True}]},
     "systemd.units[0].enable: unknown field; valid: name, enabled, mask, contents, dropins"),
    ({"http_repo_distro": "fedora-coreos", "http_repo_ntp_daemon": "ntpd"}, "ntp daemon 'ntpd' (valid: chronyd)"),
    ({"http_repo_timezone": "Europe/../etc"}, "time zone 'Europe/../etc'"),
    ({"http_repo_timezone": "Mars/Olympus"}, "time zone 'Mars/Olympus' (a tz database name"),
    ({"http_repo_artifacts": {"kernel": "k"}}, "with http_repo_sync_images false set http_repo_version"),
])
def test_bad_input_fails_before_any_file(tmp_path, overrides, message):
    run, root = render(tmp_path, **overrides)
    assert run.rc != 0
    assert any(message in m for m in run.failure_messages()), run.failure_messages()
    assert not root.exists()


def test_no_plan_fails_and_an_empty_plan_is_stated(tmp_path):
    """A missing plan is an error, not "no nodes" (which would remove every node's files); [] says it on purpose."""
    run, root = render(tmp_path)
    assert run.rc == 0, run.failure_messages() or run.stderr
    missing = render(tmp_path, drop=("http_repo_nodes",))[0]
    assert missing.rc != 0
    assert any("http_repo: no node plan: run the role netboot.coreos.node_plan first" in m
               for m in missing.failure_messages()), missing.failure_messages()
    assert files_under(root) == ["boot.ipxe", "nodes/00-50-56-00-00-21.ipxe", "nodes/00-50-56-00-00-21/install.ign",
                                 "nodes/00-50-56-00-00-21/node.ign", "nodes/00-50-56-00-00-22.ipxe",
                                 "nodes/00-50-56-00-00-22/install.ign", "nodes/00-50-56-00-00-22/node.ign"]
    empty, root = render(tmp_path, http_repo_nodes=[])
    assert empty.rc == 0, empty.failure_messages() or empty.stderr
    assert files_under(root) == ["boot.ipxe"] and os.listdir(root / "nodes") == []


def test_write_error_is_shown_with_the_token_hidden(tmp_path):
    """With a Rancher token the write task hides its output, yet a failure still says what went wrong."""
    token = {"provisioning": "v2prov", "token": "regtoken-secret", "server_url": "https://rancher.example.com"}
    (tmp_path / "repo").write_text("a file where the repository should be")
    run = render(tmp_path, http_repo_rancher=token)[0]
    assert run.rc != 0
    assert any("file_tree: %s exists and is not a directory" % (tmp_path / "repo") in m
               for m in run.failure_messages()), run.failure_messages()
    assert "regtoken-secret" not in run.stdout


def test_flags_typed_on_the_command_line_mean_what_they_say(tmp_path):
    """``-e http_repo_open_vm_tools=false`` is the string 'false' (as are the other flags typed after -e)."""
    run, root = render(tmp_path, http_repo_open_vm_tools="false", http_repo_sync_images="false")
    assert run.rc == 0, run.failure_messages() or run.stderr
    install = ignition(root / "nodes/00-50-56-00-00-21/install.ign")
    command = [line for line in units(install)["netboot-install.service"]["contents"].splitlines()
               if "flatcar-install" in line][0]
    assert command.endswith("-V 42.1") and "-o " not in command
    run, root = render(tmp_path, http_repo_open_vm_tools="yes", http_repo_sync_images="no")
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert "-o vmware_raw\n" in units(ignition(root / "nodes/00-50-56-00-00-21/install.ign"))["netboot-install.service"]["contents"]
