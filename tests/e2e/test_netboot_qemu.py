"""End to end: real iPXE firmware under QEMU boots through the collection's generated boot chain (~1 min).

Inside network namespaces the test creates (a bridge with a tap device, no uplink) dnsmasq runs the config the
ipxe_dhcp role renders and a plain HTTP server serves the repository the http_repo role renders (boot.ipxe,
nodes/<mac>.ipxe, install.ign). QEMU (TCG) boots a NIC whose MAC is a planned node's through the iPXE ROM of
Debian's ipxe-qemu: DHCP -> boot.ipxe -> nodes/<mac>.ipxe -> kernel + initrd. The Flatcar kernel and initrd
names hold a real Debian kernel and a busybox initramfs whose /init fetches the `ignition.config.url` of its
command line and prints the config's sha256 on the serial console; the test compares it with the rendered file.
"""

import glob
import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO  # pylint: disable=import-error
from integration.test_http_repo_render import ARTIFACTS, ignition, render  # pylint: disable=import-error
from integration.test_ipxe_dhcp_netns import DHCP_VARS, SERVER, BootNetwork, sh  # pylint: disable=import-error

CACHE = os.path.join(REPO, "build", "e2e")
ROMS = "/usr/lib/ipxe/qemu"
OVMF_CODE, OVMF_VARS = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"
BASE_URL = "http://%s/coreos" % SERVER
VERSION = "9999.0.0"
NODE = {"name": "e2e-node01", "hostname": "e2e-node01", "mac": "52:54:00:e2:e0:21", "ip": "10.97.0.21",
        "roles": ["worker"], "labels": {}, "taints": [], "num_cpus": None, "memory_mb": None}
NODE_ID = NODE["mac"].replace(":", "-")
BOOT_TIMEOUT = 120
HTTP_ERROR = re.compile(r'HTTP/[\d.]+" [45]\d\d ')
DONE, FAILED = "E2E-CONFIG sha256=", ("E2E-FAILED", "Kernel panic", "Shell>", "PXE-E", "No bootable device")

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "E2E-CMDLINE $(cat /proc/cmdline)"
insmod /e1000.ko || echo "E2E-FAILED insmod e1000"
ip link set eth0 up
udhcpc -i eth0 -n -q -t 10 -s /udhcpc.sh || echo "E2E-FAILED no DHCP lease"
url=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ignition.config.url=//p')
if wget -q -O /config.ign "$url"; then
  echo "E2E-CONFIG sha256=$(sha256sum /config.ign | cut -d' ' -f1) url=$url"
else
  echo "E2E-FAILED fetching $url"
fi
poweroff -f
"""
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] && ifconfig "$interface" "$ip" netmask "$subnet" up
exit 0
"""


def require_tools():
    """The host set-up `make deps` provides; without it the test cannot prove anything, so it fails."""
    missing = [tool for tool in ("ip", "dnsmasq", "busybox", "qemu-system-x86_64", "apt-get", "apt-cache",
                                 "dpkg-deb") if not shutil.which(tool)]
    missing += [path for path in (os.path.join(ROMS, "pxe-e1000.rom"), os.path.join(ROMS, "efi-e1000.rom"),
                                  OVMF_CODE, OVMF_VARS) if not os.path.exists(path)]
    if missing:
        pytest.fail("e2e needs %s: run `make deps` (packages qemu-system-x86 ipxe-qemu ovmf dnsmasq-base "
                    "busybox-static iproute2)" % ", ".join(missing), pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("e2e needs root: it creates network namespaces and a tap device", pytrace=False)


def debian_kernel():
    """vmlinuz and e1000.ko of the exact package linux-image-amd64 depends on, downloaded once into build/e2e."""
    depends = sh("apt-cache", "depends", "linux-image-amd64").stdout
    match = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)", depends)
    assert match, "linux-image-amd64 names no kernel package (apt-get update?): %s" % depends
    package = match.group(1)
    release = package[len("linux-image-"):]
    target = os.path.join(CACHE, package)
    vmlinuz = os.path.join(target, "boot", "vmlinuz-" + release)
    module = os.path.join(target, "lib", "modules", release, "kernel", "drivers", "net", "ethernet", "intel",
                          "e1000", "e1000.ko")
    if not (os.path.exists(vmlinuz) and os.path.exists(module)):
        os.makedirs(target, exist_ok=True)
        for stale in glob.glob(os.path.join(target, "*.deb")):
            os.unlink(stale)
        download = subprocess.run(["apt-get", "download", "-q", package], cwd=target, capture_output=True, text=True,
                                  check=False)
        assert download.returncode == 0, "apt-get download %s failed: %s" % (package, download.stderr)
        [deb] = glob.glob(os.path.join(target, "*.deb"))
        # only the two files the guest needs, not the whole 400 MB tree `dpkg -x` would write
        subprocess.run("dpkg-deb --fsys-tarfile '%s' | tar -x -C '%s' '.%s' '.%s'"
                       % (deb, target, vmlinuz[len(target):], module[len(target):]), shell=True, check=True)
        os.unlink(deb)
    return vmlinuz, module


def initramfs(module, workdir):
    """A gzipped newc cpio (busybox's cpio: the host has none) holding busybox, /init and the e1000 module."""
    root = os.path.join(workdir, "initramfs")
    for sub in ("bin", "proc", "sys", "dev"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    shutil.copy(shutil.which("busybox"), os.path.join(root, "bin", "busybox"))
    shutil.copy(module, os.path.join(root, "e1000.ko"))
    for name, text in (("init", INIT), ("udhcpc.sh", UDHCPC_SCRIPT)):
        with open(os.path.join(root, name), "w") as handle:
            handle.write(text)
        os.chmod(os.path.join(root, name), 0o755)
    names = sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files)
    listing = ("\n".join(names) + "\n").encode()
    archive = subprocess.run(["busybox", "cpio", "-o", "-H", "newc"], input=listing, cwd=root, capture_output=True,
                             check=True).stdout
    return gzip.compress(archive)


class Lab:
    """BootNetwork's namespaces plus a tap on its bridge, the rendered repo served over HTTP and QEMU."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.net = BootNetwork(os.path.join(workdir, "net"))
        self.net.prefix = "e2e%d" % (os.getpid() % 100000)
        self.http = None
        self.http_log = os.path.join(workdir, "http.log")

    def up(self, repo):
        try:
            self.net.up()
            sh("ip", "-n", self.net.ns("br"), "tuntap", "add", "dev", "tap0", "mode", "tap")
            sh("ip", "-n", self.net.ns("br"), "link", "set", "tap0", "master", "br0", "up")
        except subprocess.CalledProcessError as error:
            pytest.fail("e2e cannot build its boot network (network namespaces, veth, bridge, /dev/net/tun): "
                        "`%s` failed: %s" % (" ".join(error.cmd), error.stderr.strip()), pytrace=False)
        www = os.path.join(self.workdir, "www")
        os.makedirs(www)
        os.symlink(repo, os.path.join(www, "coreos"))  # the HTTP repo serves the repository at /coreos/
        with open(self.http_log, "w") as log:
            self.http = subprocess.Popen(
                ["ip", "netns", "exec", self.net.ns("srv"), sys.executable, "-m", "http.server", "--bind", SERVER,
                 "--directory", www, "80"], stdout=log, stderr=subprocess.STDOUT)

    def down(self):
        if self.http and self.http.poll() is None:
            self.http.send_signal(signal.SIGTERM)
            self.http.wait(5)
        self.net.down()

    def logs(self):
        """The HTTP server's and dnsmasq's logs so far."""
        return read(self.http_log), read(os.path.join(self.net.workdir, "dnsmasq.log"))

    def boot(self, name, firmware_args, nic):
        """Run QEMU until the guest reports (or a failure marker / the timeout).

        Returns this boot's serial log, HTTP requests [(path, status)] and dnsmasq log.
        """
        http_seen, dnsmasq_seen = (len(text) for text in self.logs())
        serial = os.path.join(self.workdir, name + ".serial.log")
        cmd = ["ip", "netns", "exec", self.net.ns("br"), "qemu-system-x86_64", "-accel", "tcg", "-m", "512",
               "-display", "none", "-monitor", "none", "-serial", "file:" + serial, "-no-reboot",
               "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
               "-device", "e1000,netdev=n0,mac=%s,%s" % (NODE["mac"], nic)] + firmware_args
        qemu = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started, text = time.monotonic(), ""
        try:
            while qemu.poll() is None and time.monotonic() < started + BOOT_TIMEOUT:
                time.sleep(0.5)
                text, http = read(serial), self.logs()[0][http_seen:]
                # a planned node never gets an HTTP error; BIOS iPXE's failures do not reach the serial console
                if DONE in text or any(marker in text for marker in FAILED) or HTTP_ERROR.search(http):
                    time.sleep(1)  # poweroff follows the marker; let the rest of the line land
                    break
        finally:
            if qemu.poll() is None:
                qemu.kill()
            output = qemu.communicate(timeout=10)[0].decode(errors="replace")
        text, (http, dnsmasq) = read(serial), self.logs()
        http, dnsmasq = http[http_seen:], dnsmasq[dnsmasq_seen:]
        assert DONE in text, "%s: the guest fetched no config (stopped after %d s, limit %d s; qemu: %s)\n" \
            "serial log %s:\n%s\nhttp:\n%s\ndnsmasq:\n%s" % (
                name, time.monotonic() - started, BOOT_TIMEOUT, output.strip(), serial, text[-3000:], http,
                dnsmasq[-3000:])
        return text, re.findall(r'"GET (\S+) HTTP/[\d.]+" (\d+)', http), dnsmasq


def read(path):
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as handle:
        return handle.read().decode(errors="replace")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_tools()
    workdir = tmp_path_factory.mktemp("e2e")
    vmlinuz, module = debian_kernel()

    run, repo = render(workdir, netboot_base_url=BASE_URL, http_repo_nodes=[NODE], http_repo_version=VERSION)
    assert run.rc == 0, run.failure_messages() or run.stderr
    release = repo / VERSION
    release.mkdir()
    shutil.copy(vmlinuz, release / ARTIFACTS["flatcar"]["kernel"])
    (release / ARTIFACTS["flatcar"]["initramfs"]).write_bytes(initramfs(module, str(workdir)))

    environment = Lab(str(workdir))
    try:
        environment.up(str(repo))
        dhcp, conf = environment.net.render(dict(DHCP_VARS, ipxe_dhcp_nodes=[NODE], ipxe_dhcp_base_url=BASE_URL))
        assert dhcp.rc == 0, dhcp.failure_messages() or dhcp.stderr
        environment.net.start(conf)
        environment.repo = repo
        yield environment
    finally:
        environment.down()


def assert_chain(lab, boot):
    """What every boot must show: the DHCP answer, iPXE's fetches, the kernel line and the fetched config."""
    serial, requests, dnsmasq = boot
    transactions = {}
    for xid, line in re.findall(r"dnsmasq-dhcp\[\d+\]: (\d+) (.*)", dnsmasq):
        transactions.setdefault(xid, []).append(line)
    ack = "DHCPACK(pxe0) %s %s %s" % (NODE["ip"], NODE["mac"], NODE["hostname"])
    ipxe_acks = [lines for lines in transactions.values() if "user class: iPXE" in lines and ack in lines]
    assert ipxe_acks, "no DHCPACK of the node's reserved address to iPXE:\n" + dnsmasq
    assert any(re.search(r"option: 67 bootfile-name +%s/boot\.ipxe$" % re.escape(BASE_URL), line)
               for line in ipxe_acks[-1]), ipxe_acks[-1]

    paths = [path for path, status in requests if status == "200"]
    node_script = "/coreos/nodes/%s.ipxe" % NODE_ID
    artifacts = ARTIFACTS["flatcar"]
    expected = ["/coreos/boot.ipxe", node_script, "/coreos/%s/%s" % (VERSION, artifacts["kernel"]),
                "/coreos/%s/%s" % (VERSION, artifacts["initramfs"]), "/coreos/nodes/%s/install.ign" % NODE_ID]
    assert paths == expected, requests

    cmdline = re.search(r"E2E-CMDLINE (.*)", serial).group(1).split()
    config_url = "%s/nodes/%s/install.ign" % (BASE_URL, NODE_ID)
    assert "initrd=%s" % artifacts["initramfs"] in cmdline and "flatcar.first_boot=1" in cmdline, cmdline
    assert "ignition.config.url=%s" % config_url in cmdline and "console=ttyS0,115200n8" in cmdline, cmdline

    rendered = lab.repo / "nodes" / NODE_ID / "install.ign"
    ignition(str(rendered))  # valid against the upstream Ignition schema
    fetched = re.search(r"E2E-CONFIG sha256=([0-9a-f]{64}) url=(\S+)", serial)
    assert fetched.group(2) == config_url
    assert fetched.group(1) == hashlib.sha256(rendered.read_bytes()).hexdigest()


def test_bios_e1000_ipxe_rom_boots_the_planned_node(lab):
    boot = lab.boot("bios", ["-boot", "order=n,strict=on,reboot-timeout=1000"], "romfile=%s/pxe-e1000.rom" % ROMS)
    assert_chain(lab, boot)


def test_uefi_e1000_ipxe_rom_boots_the_planned_node(lab, tmp_path):
    variables = str(tmp_path / "OVMF_VARS.fd")
    shutil.copy(OVMF_VARS, variables)
    firmware = ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,unit=1,file=" + variables,
                "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"]
    # OVMF ignores -boot order=n: the NIC carries bootindex=1; its EFI iPXE ROM goes straight to boot.ipxe
    boot = lab.boot("uefi", firmware, "romfile=%s/efi-e1000.rom,bootindex=1" % ROMS)
    assert_chain(lab, boot)
