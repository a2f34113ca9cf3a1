"""End to end: scale.yml adds a node that boots, and a scale-down takes its boot files away.

scale.yml runs for real (ansible-playbook) against the lab vCenter simulator: its node_clones plays clone the
VMs with their planned MACs, and its imported repo play renders the boot files on a repo_servers host (this
machine, into a temporary repository; only the http_repo configs part runs: `--skip-tags http_repo_nginx,
http_repo_images`, since a test never takes over the host's nginx). The extra var coreos_node_count=0 stays
set, so the repo play plans the new node only if scale passes its count to every play.

The new node then boots under QEMU with the lifecycle harness (e2e.node_vm): the MAC its clone got in vCenter,
BIOS vmxnet3 with Debian's iPXE ROM, dnsmasq running the ipxe_dhcp role's config rendered from the same plan
(the dhcp play cannot run on this host: it would start the host's dnsmasq), the repository over HTTP. The node
must get its reserved address (not a range one), its script (not a 404 or "booting from the local disk") and
install through its install.ign.
"""

import os
import re
import sys
import time

import pytest

from conftest import REPO, run_playbook
from e2e import node_release  # pylint: disable=import-error
from e2e.node_vm import BASE_URL, MODELS, BootLab, NodeVM  # pylint: disable=import-error
from e2e.test_node_lifecycle import require_host  # pylint: disable=import-error
from integration.test_http_repo_render import ARTIFACTS, KEY  # pylint: disable=import-error
from integration.test_vmware_node_clones import Lab, _summary_actions  # pylint: disable=import-error
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient

VERSION = "9999.0.0"
CLUSTER = "sb%d" % (os.getpid() % 10000)
IP_RANGE = "10.97.0.31-10.97.0.39"
SCALE = os.path.join(REPO, "playbooks", "scale.yml")
INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: %s
  children:
    repo_servers:
      hosts:
        localhost:
"""


def scale(lab, tmp_path, repo, count):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY % sys.executable)
    extra = lab.playbook_vars(
        CLUSTER, scale_node_count=count, coreos_node_ip_range=IP_RANGE, netboot_base_url=BASE_URL,
        http_repo_root=str(repo), http_repo_sync_images=False, http_repo_version=VERSION,
        http_repo_artifacts=ARTIFACTS["flatcar"], http_repo_ssh_authorized_keys=[KEY],
        http_repo_timezone="Europe/Berlin", ansible_become=False)
    started = time.monotonic()
    run = run_playbook(SCALE, extra, inventory=str(inventory),
                       env={"ANSIBLE_SKIP_TAGS": "http_repo_nginx,http_repo_images", "RANCHER_URL": "",
                            "RANCHER_TOKEN": ""})
    assert run.rc == 0, run.failure_messages() or run.stderr[-3000:]
    return run, time.monotonic() - started


def node_files(repo):
    return sorted(os.path.relpath(os.path.join(d, f), repo / "nodes")
                  for d, _dirs, fs in os.walk(repo / "nodes") for f in fs)


@pytest.fixture
def lab(vcsim):
    with VCenterClient.from_params(vcsim) as client:
        yield Lab(vcsim, client)


def test_scale_up_boots_the_new_node_to_its_install_ign_and_scale_down_removes_its_files(lab, tmp_path):
    require_host()
    repo = tmp_path / "repo"
    plan = build_node_plan(cluster_name=CLUSTER, count=2, name_format=CLUSTER + "-node{index:02d}",
                           ip_range=IP_RANGE)
    first_id, new_id = (node["mac"].replace(":", "-") for node in plan)

    one, one_s = scale(lab, tmp_path, repo, 1)
    assert _summary_actions(one) == {"cloned": [plan[0]["name"]]}
    assert node_files(repo) == [first_id + ".ipxe", first_id + "/install.ign", first_id + "/node.ign"]

    two, two_s = scale(lab, tmp_path, repo, 2)
    assert _summary_actions(two) == {"cloned": [plan[1]["name"]], "unchanged": [plan[0]["name"]]}
    assert node_files(repo) == sorted([first_id + ".ipxe", first_id + "/install.ign", first_id + "/node.ign",
                                       new_id + ".ipxe", new_id + "/install.ign", new_id + "/node.ign"])
    # every play of the run (leaving nodes, the repo host's boot files, the clones) computed this same plan
    computed = [r["ansible_facts"]["coreos_node_plan"]
                for r in two.task_results("netboot.coreos.node_plan : Compute the node plan")]
    assert len(computed) == 3 and all(p == plan for p in computed), computed
    vm_mac = lab.vms()[plan[1]["name"]]["mac"]
    assert vm_mac == plan[1]["mac"]

    node_release.install(str(repo / VERSION), ARTIFACTS["flatcar"], oem="vmware_raw")
    boot = BootLab(str(tmp_path / "boot"))
    try:
        boot.up(repo, plan)
        vm = NodeVM(boot, MODELS["bios-vmxnet3"], vm_mac, str(tmp_path / "vm"))
        install = vm.power_on("install")
    finally:
        boot.down()
    fetched = [path for path, status in install.requests if status == "200"]
    assert fetched[:2] == ["/coreos/boot.ipxe", "/coreos/nodes/%s.ipxe" % new_id], install.requests
    assert "/coreos/nodes/%s/install.ign" % new_id in fetched
    leases = re.findall(r"DHCPACK\(\S+\) (\S+) %s" % re.escape(vm_mac), install.dnsmasq)
    assert leases and set(leases) == {plan[1]["ip"]}, install.dnsmasq[-2000:]  # the reservation, not the range
    assert "ignition.config.url=%s/nodes/%s/install.ign" % (BASE_URL, new_id) in install.cmdline()

    down, down_s = scale(lab, tmp_path, repo, 1)
    assert _summary_actions(down) == {"deleted": [plan[1]["name"]], "unchanged": [plan[0]["name"]]}
    assert node_files(repo) == [first_id + ".ipxe", first_id + "/install.ign", first_id + "/node.ign"]
    assert sorted(lab.managed(CLUSTER)) == [plan[0]["name"]]
    print("scale to 1: %.1f s; scale to 2: %.1f s; new node %s %s: %s; scale back to 1: %.1f s" % (
        one_s, two_s, plan[1]["name"], vm_mac, ", ".join("%s %.1f s" % item for item in install.steps.items()),
        down_s))
