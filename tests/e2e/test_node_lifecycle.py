"""End to end: a node's whole life under QEMU on VMware's NIC models, through the collection's boot chain.

One VM per model (BIOS vmxnet3 and e1000e with Debian's iPXE ROMs on pvscsi, UEFI firmware PXE on virtio-net
and virtio-scsi), each with an empty persistent disk and the boot order disk first, then network:
- power-on 1: the empty disk falls through to the network: DHCP (the ipxe_dhcp role's dnsmasq) -> boot.ipxe ->
  nodes/<mac>.ipxe -> kernel + initrd -> the real Ignition fetches and applies install.ign -> the install unit
  runs flatcar-install (the test release's stand-in) -> reboot;
- power-on 2: the disk boots itself; the real Ignition applies node.ign from the OEM partition;
- power-on 3: the disk boots again, nothing is fetched or applied.
The HTTP server's log shows install.ign fetched exactly once; the installed root (read from the raw disk)
holds what node.ign promised. The files are those the http_repo role renders (ansible-playbook).
"""

import contextlib
import hashlib
import os
import shutil

import pytest

from e2e import node_release  # pylint: disable=import-error
from e2e.node_vm import BASE_URL, MODELS, BootLab, NodeVM  # pylint: disable=import-error
from integration.test_http_repo_render import ARTIFACTS, KEY, render  # pylint: disable=import-error
import real_ignition  # pylint: disable=import-error

VERSION = "9999.0.0"
NTP = ["ntp1.example.com"]
TOKEN = {"provisioning": "v2prov", "cluster_id": "c-m-e2e", "token": "regtoken-e2e-secret", "ca_checksum": "",
         "server_url": "https://rancher.example.com", "api_key": "token-e2e:api-key-never-on-nodes"}
NODES = {name: {"name": "e2e-%s" % name, "hostname": "e2e-%s" % name, "mac": "00:50:56:00:e2:%02x" % (0x21 + index),
                "ip": "10.97.0.%d" % (21 + index), "roles": ["worker"], "labels": {}, "taints": [],
                "num_cpus": None, "memory_mb": None}
         for index, name in enumerate(sorted(MODELS))}


def require_host():
    """What `make deps` provides; without it nothing can be proven, so the test fails (it never skips)."""
    missing = [path for path in [m.romfile for m in MODELS.values() if m.romfile] + ["/usr/share/OVMF/OVMF_CODE_4M.fd"]
               if not os.path.exists(path)]
    missing += [tool for tool in ("ip", "dnsmasq", "qemu-system-x86_64", "debugfs") if not shutil.which(tool)]
    if missing:
        pytest.fail("e2e needs %s: run `make deps`" % ", ".join(missing), pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("e2e needs root: it creates network namespaces and tap devices", pytrace=False)
    try:
        node_release.require_tools()
        real_ignition.require()
    except AssertionError as error:
        pytest.fail(str(error), pytrace=False)


@contextlib.contextmanager
def lifecycle_lab(workdir):
    """The repository the http_repo role renders for NODES with the test release in it, served with DHCP by a
    BootLab (lab.repo: the repository); benchmarks/boot_lifecycle.py boots the same."""
    run, repo = render(workdir, netboot_base_url=BASE_URL, http_repo_nodes=list(NODES.values()),
                       http_repo_version=VERSION, http_repo_ntp_daemon="ntpd",
                       http_repo_update_strategy="etcd-lock", http_repo_rancher=TOKEN)
    assert run.rc == 0, run.failure_messages() or run.stderr
    node_release.install(str(repo / VERSION), ARTIFACTS["flatcar"], oem="vmware_raw")
    environment = BootLab(str(workdir))
    environment.repo = repo
    try:
        environment.up(repo, list(NODES.values()))
        yield environment
    finally:
        environment.down()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_host()
    with lifecycle_lab(tmp_path_factory.mktemp("lifecycle")) as environment:
        yield environment


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.parametrize("model", sorted(MODELS))
def test_install_once_then_boot_from_disk(lab, model, tmp_path):
    node = NODES[model]
    vm = NodeVM(lab, MODELS[model], node["mac"], str(tmp_path / "vm"))
    node_dir = lab.repo / "nodes" / vm.node_id
    for config in ("install.ign", "node.ign"):
        real_ignition.validate(node_dir / config)

    install = vm.power_on("install")
    cmdline = install.cmdline()
    assert "ignition.config.url=%s/nodes/%s/install.ign" % (BASE_URL, vm.node_id) in cmdline, cmdline
    assert "initrd=%s" % ARTIFACTS["flatcar"]["initramfs"] in cmdline and "flatcar.first_boot=1" in cmdline
    fetched = [path for path, status in install.requests if status == "200"]
    release = "/coreos/%s/" % VERSION
    assert fetched == ["/coreos/boot.ipxe", "/coreos/nodes/%s.ipxe" % vm.node_id,
                       release + ARTIFACTS["flatcar"]["kernel"], release + ARTIFACTS["flatcar"]["initramfs"],
                       "/coreos/nodes/%s/install.ign" % vm.node_id, "/coreos/nodes/%s/node.ign" % vm.node_id,
                       release + "flatcar_production_vmware_raw_image.bin.bz2"], install.requests
    assert install.marker("installed") == "flatcar_production_vmware_raw_image.bin.bz2"

    first = vm.power_on("first disk boot")
    assert first.marker("disk boot") == "vmware_raw"  # the OEM image, which carries open-vm-tools
    assert first.marker("node.ign applied") == sha256(node_dir / "node.ign")
    assert first.requests == [] and node["mac"] not in first.dnsmasq

    again = vm.power_on("disk boot")
    assert again.marker("booted") == node["hostname"]
    assert again.marker("node.ign applied") is None and again.requests == []

    install_fetches = [path for path, _status in lab.requests() if path.endswith("/%s/install.ign" % vm.node_id)]
    assert len(install_fetches) == 1, lab.requests()

    root = vm.installed_root(str(tmp_path / "root"))
    real_ignition.assert_node_facts(root, node["hostname"], [KEY], NTP, "ntpd", "Europe/Berlin",
                                    update=("stable", "etcd-lock"), rancher_token=TOKEN["token"],
                                    rancher_api_key=TOKEN["api_key"])
    print("%s: power-on 1 %s; power-on 2 %s; power-on 3 %.1f s" % (
        model, ", ".join("%s %.1f s" % item for item in install.steps.items()),
        ", ".join("%s %.1f s" % item for item in first.steps.items()), again.duration))
