"""The QEMU node harness: a VM's whole life on VMware's NIC models, through the collection's boot chain.

Import it as ``from e2e.node_vm import BootLab, NodeVM, MODELS`` (tests/ is on sys.path; see tests/conftest.py).

- ``BootLab``: network namespaces with a bridge and no uplink (integration.test_ipxe_dhcp_netns.BootNetwork),
  dnsmasq running the config the ipxe_dhcp role renders, a plain HTTP server serving the repository the
  http_repo role renders at /coreos/, and its request log.
- ``NodeVM``: one VM as vSphere makes it: a persistent raw disk, for UEFI a kept copy of OVMF_VARS (its NVRAM),
  the boot order disk first then network mapped onto ``bootindex``, a MAC, a tap on the lab's bridge.
  ``power_on()`` runs QEMU (TCG) until the guest powers off or reboots (``-no-reboot``), a failure shows, or the
  time is up, and checks the steps the boot had to go through; the first missing one is named in the failure
  (DHCP, snponly.efi, boot.ipxe, node script, kernel, install.ign, install, disk boot, node.ign).
- ``MODELS``: BIOS vmxnet3 (the template's default NIC) and e1000e with Debian's iPXE ROMs on pvscsi, and UEFI
  firmware PXE on virtio-net (no ROM: DHCP hands snponly.efi over TFTP) on virtio-scsi (FIELD-NOTES: OVMF has
  no vmxnet3, e1000 or pvscsi driver).
The guest is the test release of e2e.node_release; its steps are the "E2E-STEP" lines of e2e/guest/init.
"""

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from integration.test_ipxe_dhcp_netns import DHCP_VARS, SERVER, BootNetwork, sh  # pylint: disable=import-error

ROMS = "/usr/lib/ipxe/qemu"
OVMF_CODE, OVMF_VARS = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"
BASE_URL = "http://%s/coreos" % SERVER

Model = collections.namedtuple("Model", "name firmware nic romfile disk_controller")
MODELS = {
    "bios-vmxnet3": Model("bios-vmxnet3", "bios", "vmxnet3", os.path.join(ROMS, "pxe-vmxnet3.rom"), "pvscsi"),
    "bios-e1000e": Model("bios-e1000e", "bios", "e1000e", os.path.join(ROMS, "pxe-e1000e.rom"), "pvscsi"),
    "uefi-virtio": Model("uefi-virtio", "uefi", "virtio-net-pci", "", "virtio-scsi-pci"),
}

# what each step needs to be true, in boot order, and where to look when it is not
HINTS = {
    "DHCP": "dnsmasq acknowledged no lease for the MAC (ipxe_dhcp reservations, the NIC's ROM, the bridge)",
    "snponly.efi": "the firmware's PXE fetched no snponly.efi over TFTP (ipxe_dhcp's EFI boot-file line)",
    "boot.ipxe": "iPXE fetched no boot.ipxe (DHCP option 67 for user-class iPXE, the HTTP server)",
    "node script": "boot.ipxe did not chain nodes/<mac>.ipxe (the MAC is not in the rendered plan?)",
    "kernel": "the node script's kernel and initrd did not boot (kernel line, initrd= argument, files in <version>/)",
    "install.ign": "the real Ignition did not fetch and apply install.ign (ignition.config.url, the spec version)",
    "install": "the install unit did not write the disk and reboot (flatcar-install line, the image in <version>/)",
    "disk boot": "the installed disk did not boot itself (boot order: disk first; the image's boot loader)",
    "node.ign": "the real Ignition did not apply node.ign from the OEM partition on the first disk boot",
    "booted": "the installed system did not come up",
}
FAILURE_MARKERS = ("E2E-FAILED", "Kernel panic", "Shell>", "PXE-E", "No bootable device")
HTTP_LINE = re.compile(r'"GET (\S+) HTTP/[\d.]+" (\d{3}) ')


class BootFailure(AssertionError):
    """A power-on that did not go through its steps; the message names the first step that broke."""


def read(path):
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as handle:
        return handle.read().decode(errors="replace")


class BootLab:
    """The boot network (namespaces, dnsmasq from the ipxe_dhcp role) and the repository over HTTP."""

    def __init__(self, workdir, prefix=None, http_log=None, dnsmasq_log=None):
        """``prefix`` names the namespaces; ``http_log`` and ``dnsmasq_log`` are where a repository and DHCP
        server running elsewhere (the lab's boot server) log, when ``up`` does not start its own."""
        self.workdir = workdir
        self.net = BootNetwork(os.path.join(workdir, "net"))
        self.net.prefix = prefix or "nvm%d" % (os.getpid() % 100000)
        self.http = None
        self.http_log = http_log or os.path.join(workdir, "http.log")
        self.dnsmasq_log = dnsmasq_log or os.path.join(self.net.workdir, "dnsmasq.log")
        self.taps = 0

    def up(self, repo, nodes, dhcp_vars=None):
        """Start the network, serve ``repo`` at /coreos/ and dnsmasq with reservations for ``nodes``."""
        try:
            self.net.up()
        except subprocess.CalledProcessError as error:
            raise BootFailure("the boot network cannot be built (network namespaces, veth, bridge): `%s` failed: %s"
                              % (" ".join(error.cmd), error.stderr.strip())) from None
        www = os.path.join(self.workdir, "www")
        os.makedirs(www)
        os.symlink(str(repo), os.path.join(www, "coreos"))
        self.http = self.serve(www)
        variables = dict(DHCP_VARS, ipxe_dhcp_nodes=nodes, ipxe_dhcp_base_url=BASE_URL)
        variables.update(dhcp_vars or {})
        run, conf = self.net.render(variables)
        if run.rc != 0:
            raise BootFailure("the ipxe_dhcp role did not render dnsmasq's config: %s"
                              % (run.failure_messages() or run.stderr))
        self.net.start(conf)

    def serve(self, www):
        """Start the repository's web server in the server namespace (plain HTTP on port 80, logging to
        ``http_log``); returns its process. e2e.test_ipxe_roms serves HTTPS with nginx instead."""
        with open(self.http_log, "w") as log:
            return subprocess.Popen(
                ["ip", "netns", "exec", self.net.ns("srv"), sys.executable, "-m", "http.server", "--bind", SERVER,
                 "--directory", www, "80"], stdout=log, stderr=subprocess.STDOUT)

    def down(self):
        if self.http and self.http.poll() is None:
            self.http.send_signal(signal.SIGTERM)
            self.http.wait(5)
        self.net.down()

    def add_tap(self):
        """A new tap device on the bridge (one per VM); returns its name."""
        name = "tap%d" % self.taps
        self.taps += 1
        sh("ip", "-n", self.net.ns("br"), "tuntap", "add", "dev", name, "mode", "tap")
        sh("ip", "-n", self.net.ns("br"), "link", "set", name, "master", "br0", "up")
        return name

    def http_text(self):
        return read(self.http_log)

    def dnsmasq_text(self):
        return read(self.dnsmasq_log)

    def requests(self, since=0):
        """[(path, status)] the HTTP server answered, from byte ``since`` of its log."""
        return HTTP_LINE.findall(self.http_text()[since:])


class PowerOn:
    """What one power-on showed: its serial log, HTTP requests, dnsmasq log, steps with their times."""

    def __init__(self, number, serial, requests, dnsmasq, steps, duration, qemu_output):
        self.number, self.serial, self.requests, self.dnsmasq = number, serial, requests, dnsmasq
        self.steps, self.duration, self.qemu_output = steps, duration, qemu_output

    def marker(self, step):
        """The rest of the serial line ``E2E-STEP <step> ...`` (None when the guest never printed it)."""
        match = re.search(r"E2E-STEP %s ?(.*)" % re.escape(step), self.serial)
        return match.group(1).strip() if match else None

    def cmdline(self):
        """The kernel command line the guest's init printed (E2E-CMDLINE), as a list of words."""
        match = re.search(r"E2E-CMDLINE (.*)", self.serial)
        return match.group(1).split() if match else []


class NodeVM:
    """One VM with a persistent disk and NVRAM, powered on as often as its life needs."""

    def __init__(self, lab, model, mac, workdir, disk_mib=128, memory_mib=768):
        self.lab, self.model, self.mac = lab, model, mac
        self.node_id = mac.replace(":", "-")
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.disk = os.path.join(workdir, "disk.raw")
        with open(self.disk, "wb") as handle:
            handle.truncate(disk_mib * 1024 * 1024)  # an empty disk, as a new clone's
        self.nvram = None
        if model.firmware == "uefi":
            self.nvram = os.path.join(workdir, "OVMF_VARS.fd")
            shutil.copy(OVMF_VARS, self.nvram)
        self.memory_mib = memory_mib
        self.tap = lab.add_tap()
        self.power_ons = []

    def qemu_command(self, serial):
        model = self.model
        nic = "%s,netdev=n0,mac=%s,romfile=%s,bootindex=2" % (model.nic, self.mac, model.romfile)
        cmd = ["ip", "netns", "exec", self.lab.net.ns("br"), "qemu-system-x86_64", "-accel", "tcg", "-smp", "1",
               "-m", str(self.memory_mib), "-display", "none", "-monitor", "none", "-serial", "file:" + serial,
               "-no-reboot", "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % self.tap, "-device", nic,
               "-device", "%s,id=hba" % model.disk_controller,
               "-drive", "if=none,id=disk0,format=raw,file=" + self.disk,
               "-device", "scsi-hd,bus=hba.0,drive=disk0,bootindex=1"]
        if model.firmware == "uefi":
            cmd += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,unit=1,file=" + self.nvram,
                    "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"]
        else:
            # SeaBIOS: only the bootindex devices, then reboot (QEMU exits: -no-reboot) when none booted
            cmd += ["-boot", "strict=on,reboot-timeout=1000"]
        return cmd

    def expected_steps(self, expect):
        """The steps a power-on must show: 'install' (empty disk), 'first disk boot' or 'disk boot'."""
        if expect == "install":
            network = ["DHCP"] + (["snponly.efi"] if self.model.firmware == "uefi" else [])
            return network + ["boot.ipxe", "node script", "kernel", "install.ign", "install"]
        if expect == "first disk boot":
            return ["disk boot", "node.ign", "booted"]
        if expect == "disk boot":
            return ["disk boot", "booted"]
        raise ValueError("expect must be install, first disk boot or disk boot, got %r" % expect)

    def reached(self, step, serial, requests, dnsmasq):
        ok = {path for path, status in requests if status == "200"}
        if step == "DHCP":
            return re.search(r"DHCPACK\(\S+\) \S+ %s" % re.escape(self.mac), dnsmasq) is not None
        if step == "snponly.efi":
            return re.search(r"sent \S*snponly\.efi to", dnsmasq) is not None
        if step == "boot.ipxe":
            return "/coreos/boot.ipxe" in ok
        if step == "node script":
            return "/coreos/nodes/%s.ipxe" % self.node_id in ok
        if step == "kernel":
            return "E2E-STEP kernel" in serial
        if step == "install.ign":
            return "E2E-STEP install.ign applied" in serial and "/coreos/nodes/%s/install.ign" % self.node_id in ok
        if step == "install":
            return "E2E-STEP installed" in serial and "E2E-STEP reboot" in serial
        marker = {"disk boot": "E2E-STEP disk boot", "node.ign": "E2E-STEP node.ign applied",
                  "booted": "E2E-STEP booted"}[step]
        return marker in serial

    def power_on(self, expect, timeout=300):
        """Power the VM on once and check ``expect``'s steps; returns a PowerOn, raises BootFailure."""
        number = len(self.power_ons) + 1
        steps = self.expected_steps(expect)
        http_seen, dnsmasq_seen = len(self.lab.http_text()), len(self.lab.dnsmasq_text())
        serial_path = os.path.join(self.workdir, "power-on-%d.serial.log" % number)
        qemu = subprocess.Popen(self.qemu_command(serial_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started, times, stop = time.monotonic(), {}, None
        try:
            while qemu.poll() is None:
                time.sleep(0.25)
                serial, dnsmasq = read(serial_path), self.lab.dnsmasq_text()[dnsmasq_seen:]
                requests = self.lab.requests(http_seen)
                for step in steps:
                    if step not in times and self.reached(step, serial, requests, dnsmasq):
                        times[step] = time.monotonic() - started
                if any(marker in serial for marker in FAILURE_MARKERS):
                    stop = "a failure on the serial console"
                elif any(status[0] in "45" for _path, status in requests):
                    stop = "an HTTP error"  # a planned node never gets one; BIOS iPXE's errors miss the console
                elif expect != "install" and requests:
                    stop = "a network boot on a power-on that should boot the disk"
                elif time.monotonic() > started + timeout:
                    stop = "the time limit (%d s)" % timeout
                if stop:
                    time.sleep(1)  # let the rest of the failing line land
                    break
        finally:
            if qemu.poll() is None:
                qemu.kill()
            output = qemu.communicate(timeout=10)[0].decode(errors="replace")
        duration = time.monotonic() - started
        serial, dnsmasq = read(serial_path), self.lab.dnsmasq_text()[dnsmasq_seen:]
        requests = self.lab.requests(http_seen)
        for step in steps:
            if step not in times and self.reached(step, serial, requests, dnsmasq):
                times[step] = duration
        result = PowerOn(number, serial, requests, dnsmasq, times, duration, output.strip())
        self.power_ons.append(result)
        missing = [step for step in steps if step not in times]
        if missing or stop:
            broken = missing[0] if missing else steps[-1]
            raise BootFailure(
                "power-on %d (%s, %s) of %s broke at step '%s': %s.\nreached: %s; stopped by %s after %.0f s; "
                "qemu: %s\nserial log %s (tail):\n%s\nHTTP requests: %s\ndnsmasq (tail):\n%s" % (
                    number, expect, self.model.name, self.mac, broken, HINTS[broken],
                    ", ".join("%s %.1f s" % (step, times[step]) for step in steps if step in times) or "nothing",
                    stop or "the guest powering off", duration, output.strip() or "-", serial_path, serial[-4000:],
                    requests, dnsmasq[-2000:]))
        return result

    def installed_root(self, destination, partition=9):
        """Copy the files of the disk's root partition (ext4) into ``destination`` (debugfs: no mount needed)."""
        table = json.loads(sh("sfdisk", "--json", self.disk).stdout)["partitiontable"]
        [entry] = [p for p in table["partitions"] if p["node"].endswith(str(partition))]
        with tempfile.NamedTemporaryFile(dir=self.workdir, suffix=".ext4") as image:
            with open(self.disk, "rb") as disk:
                disk.seek(entry["start"] * table.get("sectorsize", 512))
                remaining = entry["size"] * table.get("sectorsize", 512)
                while remaining:
                    chunk = disk.read(min(remaining, 1 << 20))
                    image.write(chunk)
                    remaining -= len(chunk)
            image.flush()
            os.makedirs(destination, exist_ok=True)
            sh("debugfs", "-R", "rdump / %s" % destination, image.name)
        return destination
