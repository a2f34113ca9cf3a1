"""The real Ignition (Debian's `ignition` 2.14.0) as the oracle of every config the http_repo role renders (~1 min).

- ignition-validate accepts every install.ign and node.ign, Flatcar and Fedora CoreOS, per node and of the
  default profile, in each spec the role offers that the validator knows (3.0.0-3.3.0; 3.4.0 as the validator's
  3.4.0-experimental, whose fields are 3.4.0's).
- the real first-boot binary's fetch and files stages apply each distro's install.ign (node.ign fetched over
  HTTP from a loopback server, as a PXE node does) and node.ign into scratch roots; the test reads back what
  the node got: hostname, NTP (timesyncd masked where ntpd is chosen), time zone, enabled units, core's SSH
  keys, update strategy, the installer line with the VMware OEM (open-vm-tools) only where asked, the Rancher
  join unit running the script that carries the registration token, and the API key nowhere.
"""

import contextlib
import functools
import http.server
import json
import os
import pathlib
import threading

import pytest

from integration.test_http_repo_render import KEY, NODES, files_under, render  # pylint: disable=import-error
from tests.conftest import shared_path  # pylint: disable=import-error
import real_ignition  # pylint: disable=import-error

TOKEN = {"provisioning": "v2prov", "cluster_id": "c-m-abc", "token": "regtoken-real-ignition", "ca_checksum": "",
         "server_url": "https://rancher.example.com", "api_key": "token-xyz:api-key-never-on-nodes"}
EXTRA_UNITS = [{"name": "netboot-extra.service", "enabled": True,
                "contents": "[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
                "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n"}]}]
EXTRA_FILES = [{"path": "/etc/motd", "mode": 0o644, "contents": {"inline": "managed by netboot.coreos\n"}}]
# every spec the role offers that ignition-validate 2.14 knows, for each distro (3.5.0: the upstream schema below)
CASES = [(distro, spec) for distro in ("flatcar", "fedora-coreos") for spec in ("3.0.0", "3.3.0", "3.4.0")]


@pytest.fixture(autouse=True)
def oracle():
    try:
        real_ignition.require()
    except real_ignition.IgnitionMissing as error:
        pytest.fail(str(error), pytrace=False)


def validatable(path, spec, workdir):
    """``path`` as ignition-validate 2.14 reads it: 3.4.0 is its 3.4.0-experimental (it has no 3.4.0 yet)."""
    if spec != "3.4.0":
        return path
    with open(path) as handle:
        document = json.load(handle)
    assert document["ignition"]["version"] == "3.4.0"
    document["ignition"]["version"] = "3.4.0-experimental"
    copy = os.path.join(str(workdir), os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path))
    with open(copy, "w") as handle:
        json.dump(document, handle)
    return copy


@pytest.mark.parametrize("distro,spec", CASES)
def test_every_rendered_config_passes_ignition_validate(tmp_path, distro, spec):
    run, root = render(tmp_path, http_repo_distro=distro, http_repo_ignition_spec=spec,
                       http_repo_default_profile="install", http_repo_rancher=TOKEN,
                       http_repo_extra_units=EXTRA_UNITS, http_repo_extra_files=EXTRA_FILES,
                       http_repo_update_strategy="off")
    assert run.rc == 0, run.failure_messages() or run.stderr
    configs = [name for name in files_under(root) if name.endswith(".ign")]
    ids = [node["mac"].replace(":", "-") for node in NODES] + ["default"]
    assert configs == sorted("nodes/%s/%s" % (i, c) for i in ids for c in ("install.ign", "node.ign"))
    for name in configs:
        real_ignition.validate(validatable(str(root / name), spec, tmp_path))


def test_the_default_spec_is_one_the_real_ignition_reads(tmp_path):
    run, root = render(tmp_path)
    assert run.rc == 0, run.failure_messages() or run.stderr
    for name in ("install.ign", "node.ign"):
        path = root / "nodes" / "00-50-56-00-00-21" / name
        assert json.loads(path.read_text())["ignition"]["version"] in real_ignition.VALIDATED_SPECS
        real_ignition.validate(path)


def test_spec_3_5_0_matches_the_upstream_schema(tmp_path):
    """3.5.0 (Fedora CoreOS) is past ignition-validate 2.14: the upstream schema in ../shared stands in."""
    import jsonschema  # pylint: disable=import-outside-toplevel
    with open(shared_path("ignition-schema", "v3_5.json")) as handle:
        schema = json.load(handle)
    run, root = render(tmp_path, http_repo_distro="fedora-coreos", http_repo_ignition_spec="3.5.0",
                       http_repo_rancher=TOKEN)
    assert run.rc == 0, run.failure_messages() or run.stderr
    for name in [n for n in files_under(root) if n.endswith(".ign")]:
        document = json.loads((root / name).read_text())
        assert document["ignition"]["version"] == "3.5.0"
        jsonschema.Draft4Validator(schema).validate(document)


def test_the_validator_rejects_a_broken_config(tmp_path):
    """The oracle can fail: a relative path and a mistyped unit flag are findings."""
    broken = tmp_path / "broken.ign"
    broken.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "etc/x"}]},
                                  "systemd": {"units": [{"name": "a.service", "enabled": "yes"}]}}))
    with pytest.raises(AssertionError, match="ignition-validate rejects"):
        real_ignition.validate(broken)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def loopback_repo(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www at /: base URL http://127.0.0.1:<port>/coreos."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, "http://127.0.0.1:%d/coreos" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("distro,ntp,update,open_vm_tools", [
    ("flatcar", "ntpd", ("stable", "etcd-lock"), True),
    ("flatcar", "timesyncd", ("stable", "reboot"), False),
    ("fedora-coreos", "chronyd", "[updates]\nenabled = false\n", True),
])
def test_real_ignition_applies_install_ign_and_node_ign(tmp_path, loopback_repo, distro, ntp, update,
                                                        open_vm_tools):
    with contextlib.ExitStack() as stack:
        check_install_and_node(stack, tmp_path, loopback_repo, distro, ntp, update, open_vm_tools)


def check_install_and_node(stack, tmp_path, loopback_repo, distro, ntp, update, open_vm_tools):
    www, base = loopback_repo
    settings = {"http_repo_update_strategy": update[1] if distro == "flatcar" else "off",
                "http_repo_open_vm_tools": open_vm_tools}
    root = www / "coreos"
    run = render(tmp_path, netboot_base_url=base, http_repo_root=str(root), http_repo_distro=distro,
                 http_repo_ntp_daemon=ntp, http_repo_rancher=TOKEN, **settings)[0]
    assert run.rc == 0, run.failure_messages() or run.stderr
    node = NODES[1]
    configs = root / "nodes" / node["mac"].replace(":", "-")

    # stage 1 in RAM: install.ign fetches node.ign from the repository and enables the installer
    live = pathlib.Path(stack.enter_context(real_ignition.scratch_root()))
    real_ignition.apply_files(configs / "install.ign", live, str(tmp_path / "stage1"))
    assert (live / "var/lib/netboot-install/node.ign").read_bytes() == (configs / "node.ign").read_bytes()
    assert real_ignition.enabled_units(str(live)) == {"netboot-install.service"}
    unit = (live / "etc/systemd/system/netboot-install.service").read_text()
    if distro == "flatcar":
        oem = " -o vmware_raw" if open_vm_tools else ""  # the VMware OEM image carries open-vm-tools
        assert ("ExecStart=/usr/bin/flatcar-install -d /dev/sda -i /var/lib/netboot-install/node.ign -b %s -V 42.1"
                "%s\n" % (base, oem)) in unit
    else:
        assert "ExecStart=/usr/bin/coreos-installer install /dev/sda --ignition-file /var/lib/netboot-install/node.ign" in unit
    assert "ExecStart=/usr/bin/systemctl --no-block reboot\n" in unit

    # stage 2 on the installed disk: node.ign
    installed = pathlib.Path(stack.enter_context(real_ignition.scratch_root()))
    real_ignition.apply_files(configs / "node.ign", installed, str(tmp_path / "stage2"))
    real_ignition.assert_node_facts(str(installed), node["hostname"], [KEY], ["ntp1.example.com"], ntp,
                                    "Europe/Berlin", distro=distro, update=update,
                                    rancher_token=TOKEN["token"], rancher_api_key=TOKEN["api_key"])
    assert "--etcd" in (installed / "var/lib/rancher-join/join.sh").read_text()  # node 2 is etcd + controlplane
    assert TOKEN["api_key"] not in (configs / "node.ign").read_text()
