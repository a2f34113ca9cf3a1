"""The ipxe_dhcp role's dnsmasq config against real DHCP clients, with no containers (~10 s).

Three network namespaces (a bridge, the server, the client) joined by veth pairs, nothing else on the wire.
The role's validation runs inside the server namespace (so it sees the real interface and subnet), its
template is rendered with ansible, dnsmasq runs it, and busybox udhcpc / tftp and the molecule scenario's
DHCP probe ask as iPXE, BIOS PXE and EFI PXE clients with chosen MACs (macvlan sub-interfaces).
"""

import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, PlaybookRun, ansible_env  # pylint: disable=import-error

# the same client runner as the molecule scenario: udhcpc on macvlans with chosen MACs, or the raw probe
ASK = os.path.join(REPO, "extensions", "molecule", "ipxe_dhcp", "files", "dhcp_ask.py")
TEMPLATE = os.path.join(REPO, "roles", "ipxe_dhcp", "templates", "dnsmasq.conf.j2")
IPXE_DIR = "/usr/lib/ipxe"
SERVER, BOOT_URL = "10.97.0.2", "http://10.97.0.2/coreos/boot.ipxe"
RESERVED = {"name": "lab-node01", "hostname": "lab-node01.example.test", "mac": "00:50:56:00:00:21",
            "ip": "10.97.0.21"}
FLOATING = {"name": "lab-node02", "hostname": "lab-node02", "mac": "00:50:56:00:00:22", "ip": None}
UNKNOWN_MAC = "02:00:5e:00:00:99"
BIOS_VENDOR, EFI_VENDOR = "PXEClient:Arch:00000:UNDI:002001", "PXEClient:Arch:00007:UNDI:003016"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "dnsmasq", "busybox"))
    or not os.path.exists(os.path.join(IPXE_DIR, "undionly.kpxe")),
    reason="needs root, ip, dnsmasq, busybox and the ipxe package (make deps)")


def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


class BootNetwork:
    """Namespaces <p>br (bridge), <p>srv (pxe0 = 10.97.0.2/24) and <p>cli (pxe0, no address)."""

    def __init__(self, workdir):
        self.prefix = "ipxd%d" % (os.getpid() % 100000)
        self.workdir = workdir
        self.dnsmasq = None
        self.tftp_root = os.path.join(workdir, "tftp")
        os.makedirs(self.tftp_root, exist_ok=True)
        for name in ("undionly.kpxe", "snponly.efi", "ipxe.efi"):
            shutil.copy(os.path.join(IPXE_DIR, name), self.tftp_root)

    def ns(self, role):
        return self.prefix + role

    def up(self):
        for role in ("br", "srv", "cli"):
            sh("ip", "netns", "add", self.ns(role))
        sh("ip", "-n", self.ns("br"), "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.ns("br"), "link", "set", "br0", "up")
        for role in ("srv", "cli"):
            end, peer = self.prefix + role, self.prefix + role + "p"
            sh("ip", "link", "add", end, "type", "veth", "peer", "name", peer)
            sh("ip", "link", "set", end, "netns", self.ns(role))
            sh("ip", "link", "set", peer, "netns", self.ns("br"))
            sh("ip", "-n", self.ns("br"), "link", "set", peer, "master", "br0", "up")
            sh("ip", "-n", self.ns(role), "link", "set", end, "name", "pxe0")
            sh("ip", "-n", self.ns(role), "link", "set", "pxe0", "up")
            sh("ip", "-n", self.ns(role), "link", "set", "lo", "up")
        sh("ip", "-n", self.ns("srv"), "addr", "add", SERVER + "/24", "dev", "pxe0")
        # dnsmasq builds router advertisements from the interface's (non-link-local) IPv6 prefixes
        sh("ip", "-n", self.ns("srv"), "addr", "add", "fd97::2/64", "dev", "pxe0", "nodad")

    def down(self):
        self.stop()
        for role in ("cli", "srv", "br"):
            sh("ip", "netns", "del", self.ns(role), check=False)

    def render(self, extra_vars, typed=()):
        """Validate with the role inside the server namespace, then render its dnsmasq template.

        ``typed``: more ``-e name=value`` arguments, as a user types them (the values are strings).
        """
        conf = os.path.join(self.workdir, "dnsmasq.conf")
        playbook = os.path.join(self.workdir, "render.yml")
        with open(playbook, "w") as handle:
            json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"name": "Validate", "ansible.builtin.include_role": {
                    "name": "netboot.coreos.ipxe_dhcp", "tasks_from": "validate.yml", "public": True}},
                {"name": "Render", "ansible.builtin.template": {"src": TEMPLATE, "dest": conf, "mode": "0644",
                                                                "validate": "dnsmasq --test --conf-file=%s"}},
            ]}], handle)
        variables = {"ipxe_dhcp_interface": "pxe0", "ipxe_dhcp_base_url": "http://10.97.0.2/coreos",
                     "ipxe_dhcp_tftp_root": self.tftp_root, "ipxe_dhcp_log_dhcp": True,
                     "ansible_python_interpreter": sys.executable}
        variables.update(extra_vars)
        if os.path.exists(conf):
            os.unlink(conf)
        return run_playbook_in_ns(self.ns("srv"), playbook, variables, typed), conf

    def start(self, conf, keep_leases=False):
        self.stop()
        leases = os.path.join(self.workdir, "leases")
        if os.path.exists(leases) and not keep_leases:
            os.unlink(leases)
        self.dnsmasq = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("srv"), "dnsmasq", "--keep-in-foreground", "--conf-file=" + conf,
             "--user=root", "--dhcp-leasefile=" + leases, "--pid-file=",
             "--log-facility=" + os.path.join(self.workdir, "dnsmasq.log")])
        time.sleep(0.3)
        assert self.dnsmasq.poll() is None, "dnsmasq exited: see %s/dnsmasq.log" % self.workdir

    def stop(self):
        if self.dnsmasq and self.dnsmasq.poll() is None:
            self.dnsmasq.send_signal(signal.SIGTERM)
            self.dnsmasq.wait(5)
        self.dnsmasq = None

    def ask(self, *cases):
        """Run client cases (see dhcp_ask.py) in the client namespace: {case name: lease or probe replies}."""
        named = [dict(case, name=str(index)) for index, case in enumerate(cases)]
        proc = sh("ip", "netns", "exec", self.ns("cli"), sys.executable, ASK, json.dumps(named))
        answers = json.loads(proc.stdout)
        return [answers[case["name"]] for case in named]

    def ask_one(self, **case):
        return self.ask(case)[0]


def run_playbook_in_ns(namespace, playbook, extra_vars, typed=()):
    """Like conftest.run_playbook, but ansible runs inside ``namespace`` so its facts are that namespace's."""
    extra = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    cmd = ["ip", "netns", "exec", namespace, os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           playbook, "-i", "localhost,", "-c", "local", "-e", json.dumps(extra_vars)]
    for argument in typed:
        cmd += ["-e", argument]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(extra), cwd=REPO, check=False)
    return PlaybookRun(proc)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    network = BootNetwork(str(tmp_path_factory.mktemp("ipxe_dhcp")))
    try:
        network.up()
        yield network
    finally:
        network.down()


def serve(net, extra_vars, keep_leases=False):
    run, conf = net.render(extra_vars)
    assert run.rc == 0, run.failure_messages() or run.stderr
    net.start(conf, keep_leases)
    return conf


DHCP_VARS = {"ipxe_dhcp_mode": "dhcp", "ipxe_dhcp_range_start": "10.97.0.100", "ipxe_dhcp_range_end": "10.97.0.200",
             "ipxe_dhcp_router": "10.97.0.1", "ipxe_dhcp_lease_time": "1h", "ipxe_dhcp_ipv6_ra": True}


def in_range(address):
    return 100 <= int(address.rsplit(".", 1)[1]) <= 200 and address.startswith("10.97.0.")


def test_dhcp_mode_chainloads_and_reserves(net):
    conf = serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[RESERVED, FLOATING]))
    with open(conf) as handle:
        text = handle.read()
    assert "dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi" in text and "enable-ra" in text

    ipxe, bios, efi7, efi9, ipxe_efi, plain, reserved, floating, unknown = net.ask(
        {"options": ['77:"iPXE"']}, {"options": ["93:0000"]}, {"options": ["93:0007"]}, {"options": ["93:0009"]},
        {"options": ["93:0007", '77:"iPXE"']}, {}, {"mac": RESERVED["mac"], "options": ["93:0000"]},
        {"mac": FLOATING["mac"]}, {"mac": UNKNOWN_MAC})
    assert ipxe["boot_file"] == BOOT_URL and in_range(ipxe["ip"]) and ipxe["router"] == "10.97.0.1"
    assert (bios["boot_file"], bios["siaddr"]) == ("undionly.kpxe", SERVER)
    assert efi7["boot_file"] == efi9["boot_file"] == "snponly.efi"
    # iPXE's EFI build sends arch 7 too: it must get the script, not snponly.efi again
    assert ipxe_efi["boot_file"] == BOOT_URL
    assert plain["boot_file"] == ""  # an ordinary DHCP client gets no boot file
    assert (reserved["ip"], reserved["hostname"]) == ("10.97.0.21", "lab-node01")
    assert in_range(floating["ip"]) and floating["hostname"] == "lab-node02"
    assert in_range(unknown["ip"]) and unknown["hostname"] == ""


def test_bios_binary_over_tftp_is_byte_identical(net, tmp_path):
    serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[]))
    lease = net.ask_one(options=["93:0000"])
    sh("ip", "-n", net.ns("cli"), "addr", "replace", lease["ip"] + "/24", "dev", "pxe0")
    fetched = str(tmp_path / "fetched.kpxe")
    try:
        sh("ip", "netns", "exec", net.ns("cli"), "busybox", "tftp", "-g", "-r", lease["boot_file"], "-l", fetched,
           lease["siaddr"])
    finally:
        sh("ip", "-4", "-n", net.ns("cli"), "addr", "flush", "dev", "pxe0")
    assert filecmp.cmp(fetched, os.path.join(IPXE_DIR, "undionly.kpxe"), shallow=False)


def test_node_leaving_the_plan_loses_its_reservation(net):
    serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[RESERVED]))
    assert net.ask_one(mac=RESERVED["mac"])["ip"] == "10.97.0.21"
    # as in production the lease file survives the restart: the old lease must not keep the reserved IP
    conf = serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[FLOATING]), keep_leases=True)
    with open(conf) as handle:
        assert RESERVED["mac"] not in handle.read()
    # even when it asks for its old address, as a rebooting node does
    assert in_range(net.ask_one(mac=RESERVED["mac"], request=RESERVED["ip"])["ip"])


def test_proxy_mode_gives_boot_information_but_no_address(net):
    serve(net, {"ipxe_dhcp_mode": "proxy", "ipxe_dhcp_nodes": [RESERVED]})
    unknown, reserved, [bios], [ipxe] = net.ask(
        {"mac": UNKNOWN_MAC, "options": ["93:0000"]}, {"mac": RESERVED["mac"]},
        {"probe": ["--arch", "0", "--vendor-class", BIOS_VENDOR]},
        {"probe": ["--arch", "0", "--vendor-class", BIOS_VENDOR, "--user-class", "iPXE"]})
    assert unknown is None and reserved is None
    assert (bios["yiaddr"], bios["file"], bios["options"]["server_id"]) == ("0.0.0.0", "undionly.kpxe", SERVER)
    assert (ipxe["yiaddr"], ipxe["file"]) == ("0.0.0.0", BOOT_URL)

    # EFI firmware asks the proxy's boot server (port 4011) from the address the site's server gave it
    sh("ip", "-n", net.ns("cli"), "addr", "replace", "10.97.0.250/24", "dev", "pxe0")
    try:
        [efi], [efi_ipxe] = net.ask(
            {"probe": ["--arch", "7", "--vendor-class", EFI_VENDOR, "--boot-server"]},
            {"probe": ["--arch", "7", "--vendor-class", EFI_VENDOR, "--user-class", "iPXE", "--boot-server"]})
    finally:
        sh("ip", "-4", "-n", net.ns("cli"), "addr", "flush", "dev", "pxe0")
    assert efi["yiaddr"] == "0.0.0.0" and efi["boot_server_reply"]["file"] == "snponly.efi"
    assert efi_ipxe["boot_server_reply"]["file"] == BOOT_URL


def test_router_advertisements_only_when_asked(net):
    serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[], ipxe_dhcp_ipv6_ra=False))
    assert net.ask_one(probe=["--router-solicit", "--timeout", "2"]) == []
    serve(net, dict(DHCP_VARS, ipxe_dhcp_nodes=[]))
    [advert] = net.ask_one(probe=["--router-solicit", "--timeout", "5"])
    assert advert["router"].startswith("fe80::")


@pytest.mark.parametrize("extra_vars, message", [
    ({"ipxe_dhcp_range_start": "10.98.0.100"},
     "ipxe_dhcp_range_start 10.98.0.100 is outside the subnet of interface pxe0, 10.97.0.0/24"),
    ({"ipxe_dhcp_mode": "relay"}, "ipxe_dhcp_mode must be one of dhcp, proxy; got 'relay'"),
    ({"ipxe_dhcp_nodes": [dict(RESERVED, mac="00:50:56:00:21")]},
     "ipxe_dhcp_nodes: node 'lab-node01': mac '00:50:56:00:21' is not a MAC address"),
    ({"ipxe_dhcp_nodes": [dict(RESERVED, mac="02:00:5e:00:00:21")]},
     "ipxe_dhcp_nodes: node 'lab-node01': mac '02:00:5e:00:00:21' is outside VMware's static range"),
    ({"ipxe_dhcp_nodes": [{"name": "lab-node01", "ip": "10.97.0.21"}]}, "node 'lab-node01' has no mac"),
    ({"ipxe_dhcp_log_dhcp": "maybe"}, "ipxe_dhcp_log_dhcp must be true or false; got 'maybe'"),
    ({"ipxe_dhcp_nodes": [dict(RESERVED, ip="10.98.0.21")]},
     "node lab-node01 ip 10.98.0.21 is outside the DHCP subnet 10.97.0.0/24"),
    ({"ipxe_dhcp_interface": "lo"}, "ipxe_dhcp_ipv6_ra needs a global or unique-local IPv6 address"),
])
def test_bad_input_fails_in_validation(net, extra_vars, message):
    variables = dict(DHCP_VARS, ipxe_dhcp_nodes=[])
    variables.update(extra_vars)
    run, conf = net.render(variables)
    assert run.rc != 0
    assert any(message in msg for msg in run.failure_messages()), run.failure_messages()


def test_without_a_node_plan_the_role_stops_instead_of_dropping_every_reservation(net):
    variables = dict(DHCP_VARS)  # neither ipxe_dhcp_nodes nor coreos_node_plan: netboot.coreos.node_plan did not run
    run, conf = net.render(variables)
    assert run.rc != 0 and not os.path.exists(conf)
    assert any("ipxe_dhcp: no node plan: run the role netboot.coreos.node_plan first" in msg
               for msg in run.failure_messages()), run.failure_messages()


def test_the_whole_role_without_a_node_plan_names_the_fix_not_an_undefined_variable(net):
    """As dhcp.yml reaches it: the role's argument spec checks the defaults before validate.yml runs."""
    playbook = os.path.join(net.workdir, "whole-role.yml")
    with open(playbook, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False,
                    "roles": [{"role": "netboot.coreos.ipxe_dhcp"}]}], handle)
    variables = dict(DHCP_VARS, ipxe_dhcp_interface="pxe0", ipxe_dhcp_base_url="http://10.97.0.2/coreos",
                     ipxe_dhcp_config_path=os.path.join(net.workdir, "whole-role.conf"),
                     ansible_python_interpreter=sys.executable)
    run = run_playbook_in_ns(net.ns("srv"), playbook, variables)
    assert run.rc != 0 and not os.path.exists(variables["ipxe_dhcp_config_path"])
    messages = run.failure_messages()
    assert any("ipxe_dhcp: no node plan: run the role netboot.coreos.node_plan first" in msg for msg in messages), messages
    assert not any("is undefined" in msg for msg in messages), messages


FLAG_LINES = {"ipxe_dhcp_disable_dns": "port=0", "ipxe_dhcp_no_ping": "no-ping", "ipxe_dhcp_log_dhcp": "log-dhcp",
              "ipxe_dhcp_ipv6_ra": "enable-ra"}


@pytest.mark.parametrize("typed, present", [("false", False), ("no", False), ("true", True), ("yes", True)])
def test_flags_typed_on_the_command_line_mean_what_they_say(net, typed, present):
    """``-e ipxe_dhcp_disable_dns=false`` is the string 'false': the rendered config must follow its meaning."""
    run, conf = net.render(dict(DHCP_VARS, ipxe_dhcp_nodes=[]), typed=["%s=%s" % (flag, typed) for flag in FLAG_LINES])
    assert run.rc == 0, run.failure_messages() or run.stderr
    with open(conf) as handle:
        lines = handle.read().splitlines()
    assert {flag: line in lines for flag, line in FLAG_LINES.items()} == {flag: present for flag in FLAG_LINES}
