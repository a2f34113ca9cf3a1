"""End to end: the iPXE the ipxe_build module builds, on VMware's NIC models under QEMU, over HTTPS with signed images.

The real iPXE is built once per test run from the snapshot in ../shared/ipxe (e2e.ipxe_roms: the ROMs of the
three VMware NICs and snponly.efi, embedding a chain to https://10.97.0.2/coreos/boot.ipxe, trusting only the
test CA, with imgverify and the serial console); where ../shared is absent every test here skips. The
repository is the one the http_repo role renders for an https base URL, with the test release in it and its
kernel and initrd signed by the role (http_repo_image_signing_certificate: the test CA's code-signing
certificate); nginx serves it over HTTPS with a server certificate of the test CA; dnsmasq runs the ipxe_dhcp
role's config (the ROMs ignore its boot file: their embedded script chains the repository directly).

- each BIOS ROM on its device model (e1000-82545em -> 8086100f.mrom, e1000e -> 808610d3.mrom, vmxnet3 ->
  15ad07b0.rom: QEMU `-device <model>,romfile=<rom>`) and UEFI (OVMF's PXE fetches the built snponly.efi over
  TFTP) boots over HTTPS through boot.ipxe and the node script, which imgverify the kernel and initrd, into the
  test release's kernel with the lifecycle chain's command line; the test stops once the kernel runs (the
  whole install is test_node_lifecycle's);
- nginx presenting a certificate of another CA is refused: the embedded script's failure message on the console;
- a kernel changed after signing is refused by imgverify with the node script's message, and the machine stops
  there (no fall back to boot.ipxe's "not in the node plan").
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_playbook
from e2e import ipxe_roms, node_release  # pylint: disable=import-error
from e2e.node_vm import SERVER, BootLab, Model, NodeVM, read  # pylint: disable=import-error
from e2e.test_node_lifecycle import require_host  # pylint: disable=import-error
from integration.test_http_repo_render import ARTIFACTS, KEY, PLAYBOOK  # pylint: disable=import-error

VERSION = "9999.0.0"
BASE_URL = "https://%s/coreos" % SERVER
KERNEL, INITRD = ARTIFACTS["flatcar"]["kernel"], ARTIFACTS["flatcar"]["initramfs"]
MODELS = {
    "bios-e1000": Model("bios-e1000", "bios", "e1000-82545em", ipxe_roms.ROMS["e1000-82545em"], "pvscsi"),
    "bios-e1000e": Model("bios-e1000e", "bios", "e1000e", ipxe_roms.ROMS["e1000e"], "pvscsi"),
    "bios-vmxnet3": Model("bios-vmxnet3", "bios", "vmxnet3", ipxe_roms.ROMS["vmxnet3"], "pvscsi"),
    "uefi-snponly": Model("uefi-snponly", "uefi", "virtio-net-pci", "", "virtio-scsi-pci"),
}
NODES = {name: {"name": "rom-%s" % name, "hostname": "rom-%s" % name, "mac": "00:50:56:00:e3:%02x" % (0x21 + index),
                "ip": "10.97.0.%d" % (41 + index), "roles": ["worker"], "labels": {}, "taints": [],
                "num_cpus": None, "memory_mb": None}
         for index, name in enumerate(sorted(MODELS) + ["tampered"])}
NGINX = """
user root;
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  default_type application/octet-stream;
  sendfile on;
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  server {{
    listen {server}:443 ssl;
    ssl_certificate {certificate};
    ssl_certificate_key {key};
    access_log {log};
    root {www};
  }}
}}
"""


class HttpsBootLab(BootLab):
    """The boot network with nginx serving the repository over HTTPS with ``certificate`` (swappable)."""

    certificate = key = None

    def serve(self, www):
        self.www = www
        self.nginx_dir = os.path.join(self.workdir, "nginx")
        os.makedirs(os.path.join(self.nginx_dir, "tmp"), exist_ok=True)
        conf = os.path.join(self.nginx_dir, "nginx.conf")
        with open(conf, "w") as handle:
            handle.write(NGINX.format(dir=self.nginx_dir, server=SERVER, certificate=self.certificate, key=self.key,
                                      log=self.http_log, www=www))
        test = subprocess.run(["ip", "netns", "exec", self.net.ns("srv"), "nginx", "-t", "-q", "-c", conf, "-e", os.path.join(self.nginx_dir, "error.log")],
                              capture_output=True, text=True, check=False)
        assert test.returncode == 0, "nginx -t: %s" % test.stderr
        process = subprocess.Popen(["ip", "netns", "exec", self.net.ns("srv"), "nginx", "-c", conf, "-e",
                                    os.path.join(self.nginx_dir, "error.log")])
        for _attempt in range(50):
            if subprocess.run(["ip", "netns", "exec", self.net.ns("srv"), "bash", "-c", "exec 3<>/dev/tcp/%s/443" % SERVER],
                              capture_output=True, check=False).returncode == 0 or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, "nginx did not start: %s" % read(os.path.join(self.nginx_dir, "error.log"))
        return process

    def restart(self, certificate, key):
        """nginx again with another certificate (the same repository and log)."""
        self.http.send_signal(signal.SIGTERM)
        self.http.wait(10)
        self.certificate, self.key = certificate, key
        self.http = self.serve(self.www)


@pytest.fixture(scope="module")
def roms():
    """The built iPXE (module result) and the test PKI; the build is shared by every worker of the run."""
    if not ipxe_roms.source_archive():
        pytest.skip("needs the iPXE source snapshot in %s: ../shared is absent (it exists in CI and the "
                    "developers' work trees); the ipxe_build module's own tests run without it" % ipxe_roms.SHARED_IPXE)
    require_host()
    if not shutil.which("nginx"):
        pytest.fail("the ROM tests need nginx: run `make deps`", pytrace=False)
    started = time.monotonic()
    result, waited, pki = ipxe_roms.build()
    print("iPXE build: %s in %.0f s (module: %.0f s of make; waited %.0f s for another worker's build); sizes %s" % (
        "built" if result["changed"] else "up to date", time.monotonic() - started, result["duration"], waited,
        ", ".join("%s %d B" % item for item in sorted(result["sizes"].items()))))
    return result, pki


@pytest.fixture(scope="module")
def lab(roms, tmp_path_factory):
    """The signed repository for NODES over HTTPS (nginx, the test CA's server certificate) with DHCP."""
    result, pki = roms
    workdir = tmp_path_factory.mktemp("roms")
    repo = workdir / "repo"
    node_release.install(str(repo / VERSION), ARTIFACTS["flatcar"], oem="vmware_raw")
    playbook = workdir / "play.yml"
    playbook.write_text(PLAYBOOK)
    run = run_playbook(str(playbook), tags="http_repo_configs,http_repo_image_signing", extra_vars={
        "ansible_python_interpreter": sys.executable, "netboot_base_url": BASE_URL, "http_repo_root": str(repo), "http_repo_nodes": list(NODES.values()),
        "http_repo_sync_images": False, "http_repo_version": VERSION, "http_repo_artifacts": ARTIFACTS["flatcar"],
        "http_repo_ssh_authorized_keys": [KEY], "http_repo_timezone": "Europe/Berlin",
        "http_repo_image_signing_certificate": pki.signing_crt, "http_repo_image_signing_key": pki.signing_key})
    assert run.rc == 0, run.failure_messages() or run.stderr
    [signing] = run.task_results("netboot.coreos.http_repo : Sign the PXE kernel and initrd for imgverify")
    assert signing["changed"] and len(signing["signed"]) == 2, signing
    environment = HttpsBootLab(str(workdir))
    environment.certificate, environment.key = pki.server_crt, pki.server_key
    environment.repo, environment.roms, environment.pki = repo, result, pki
    try:
        environment.up(repo, list(NODES.values()))
        shutil.copy(result["files"]["snponly.efi"], os.path.join(environment.net.tftp_root, "snponly.efi"))
        yield environment
    finally:
        environment.down()


def boot(lab, vm, until, timeout=240):
    """Power ``vm`` on until ``until(serial)`` holds (or QEMU exits, or the time is up); returns (seconds, serial,
    [(path, status)] of HTTPS requests). The VM is stopped there: a test never runs the whole install."""
    serial_path = os.path.join(vm.workdir, "serial.log")
    http_seen = len(lab.http_text())
    qemu = subprocess.Popen(vm.qemu_command(serial_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = time.monotonic()
    try:
        while qemu.poll() is None and time.monotonic() < started + timeout and not until(read(serial_path)):
            time.sleep(0.25)
        seconds = time.monotonic() - started
        time.sleep(0.5)  # the rest of the line
    finally:
        if qemu.poll() is None:
            qemu.kill()
        output = qemu.communicate(timeout=10)[0].decode(errors="replace")
    serial = read(serial_path)
    requests = lab.requests(http_seen)
    assert until(serial), "%s (%s) did not get there in %.0f s (qemu: %s); serial log %s (tail):\n%s\nrequests: %s\n" \
        "dnsmasq (tail):\n%s" % (vm.mac, vm.model.name, seconds, output.strip() or "-", serial_path, serial[-3000:],
                                 requests, lab.dnsmasq_text()[-1500:])
    return seconds, serial, requests


def node_vm(lab, model, node, workdir):
    """A VM of ``model`` whose NIC carries the built ROM (BIOS; UEFI boots the built snponly.efi over TFTP)."""
    model = MODELS[model]
    if model.romfile:
        model = model._replace(romfile=lab.roms["files"][model.romfile])
    return NodeVM(lab, model, NODES[node]["mac"], workdir)


def kernel_runs(serial):
    return "E2E-CMDLINE" in serial


@pytest.mark.parametrize("model", sorted(MODELS))
def test_rom_boots_over_https_with_verified_images_into_the_chain(lab, model, tmp_path):
    vm = node_vm(lab, model, model, str(tmp_path / "vm"))
    seconds, serial, requests = boot(lab, vm, kernel_runs)
    release = "/coreos/%s/" % VERSION
    assert requests == [("/coreos/boot.ipxe", "200"), ("/coreos/nodes/%s.ipxe" % vm.node_id, "200"),
                        (release + KERNEL, "200"), (release + INITRD, "200"),
                        (release + KERNEL + ".ipxe.sig", "200"), (release + INITRD + ".ipxe.sig", "200")], requests
    cmdline = re.search(r"E2E-CMDLINE (.*)", serial).group(1).split()
    assert "ignition.config.url=%s/nodes/%s/install.ign" % (BASE_URL, vm.node_id) in cmdline, cmdline
    assert "initrd=%s" % INITRD in cmdline and "flatcar.first_boot=1" in cmdline
    if vm.model.firmware == "uefi":
        assert re.search(r"sent \S*snponly\.efi to", lab.dnsmasq_text()), "OVMF fetched no snponly.efi over TFTP"
    else:
        # the embedded script of the built ROM, on the serial console (CONSOLE_SERIAL, BIOS)
        assert "netboot.coreos: booting from %s/boot.ipxe (attempt 1 of 2)" % BASE_URL in serial, serial[-3000:]
    print("%s: %s to the kernel in %.1f s over HTTPS, kernel and initrd verified" % (
        model, os.path.basename(vm.model.romfile) or "snponly.efi", seconds))


def test_a_server_certificate_of_another_ca_is_refused(lab, tmp_path):
    pki = lab.pki
    lab.restart(pki.wrong_server_crt, pki.wrong_server_key)
    try:
        vm = node_vm(lab, "bios-vmxnet3", "bios-vmxnet3", str(tmp_path / "vm"))
        seconds, serial, requests = boot(lab, vm, lambda text: "NETWORK BOOT FAILED" in text, timeout=120)
    finally:
        lab.restart(pki.server_crt, pki.server_key)
    assert requests == [], requests  # no request got through the TLS handshake
    failed = re.search(r"NETWORK BOOT FAILED: (\S+) could not be chained after 2 attempts \(error ([0-9a-f]{8}): "
                       r"https://ipxe.org/([0-9a-f]{8})\)", serial)
    assert failed and failed.group(1) == BASE_URL + "/boot.ipxe" and failed.group(2) == failed.group(3), serial[-2000:]
    print("wrong CA: refused after 2 attempts in %.1f s (error %s)" % (seconds, failed.group(2)))


def test_a_kernel_changed_after_signing_is_refused(lab, tmp_path):
    kernel = lab.repo / VERSION / KERNEL
    original = os.readlink(str(kernel))
    tampered = tmp_path / KERNEL
    shutil.copy(original, str(tampered))
    with open(str(tampered), "ab") as handle:
        handle.write(b"\0changed after signing")
    kernel.unlink()
    kernel.symlink_to(tampered)
    try:
        vm = node_vm(lab, "bios-e1000e", "tampered", str(tmp_path / "vm"))
        seconds, serial, requests = boot(lab, vm, lambda text: "netboot: powering off" in text, timeout=180)
    finally:
        kernel.unlink()
        kernel.symlink_to(original)
    url = "%s/%s/%s" % (BASE_URL, VERSION, KERNEL)
    refusal = re.search(r"netboot: kernel signature check failed: (\S+) \(https://ipxe.org/([0-9a-f]{8})\)", serial)
    assert refusal and refusal.group(1) == url, serial[-3000:]
    assert "refusing to boot an image that does not match its signature" in serial
    assert "not in the node plan" not in serial and "E2E-STEP kernel" not in serial
    release = "/coreos/%s/" % VERSION
    assert requests == [("/coreos/boot.ipxe", "200"), ("/coreos/nodes/%s.ipxe" % vm.node_id, "200"),
                        (release + KERNEL, "200"), (release + INITRD, "200"),
                        (release + KERNEL + ".ipxe.sig", "200")], requests
    print("tampered kernel: refused by imgverify in %.1f s (error %s)" % (seconds, refusal.group(2)))
