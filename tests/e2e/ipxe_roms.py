"""The real iPXE, built once per test run by the netboot.coreos.ipxe_build module from ../shared/ipxe.

``build()`` runs the module (plugins/modules/ipxe_build.py, as Ansible does) on the iPXE snapshot in
../shared/ipxe with the options the ROM tests need: the ROMs of the three VMware NICs and snponly.efi, the
embedded chain to ``BOOT_URL`` (HTTPS), trust in exactly the test CA (tests/fixtures/test_pki.py, kept in
build/ipxe-roms/pki so the build stays valid), imgverify, and the serial console (BIOS). Its manifest makes a
second call a no-op; a file lock (build/ipxe-roms.lock) makes parallel pytest workers, and a build started in
the background by tests/conftest.py, share one build. Where ../shared is absent the caller skips.

Run as a script (``python tests/e2e/ipxe_roms.py``) it builds and prints the module's result as JSON: how
tests/conftest.py starts the build in the background at the start of the unit tier.
"""

import fcntl
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED_IPXE = os.path.join(os.path.dirname(REPO), "shared", "ipxe")
DEST = os.path.join(REPO, "build", "ipxe-roms")
LOCK = DEST + ".lock"
LOG = DEST + ".log"
SERVER = "10.97.0.2"  # the boot network's server (integration.test_ipxe_dhcp_netns.SERVER)
BOOT_URL = "https://%s/coreos/boot.ipxe" % SERVER
ROMS = {"e1000-82545em": "8086100f.mrom", "e1000e": "808610d3.mrom", "vmxnet3": "15ad07b0.rom"}
NICS = ("e1000", "e1000e", "vmxnet3")  # the module's NIC types, whose ROMs are ROMS' values


def source_archive():
    """The iPXE snapshot tarball in ../shared/ipxe, or None where ../shared (or the snapshot) is absent."""
    found = sorted(glob.glob(os.path.join(SHARED_IPXE, "ipxe-*.tar.*")))
    return found[-1] if found else None


def pki():
    sys.path.insert(0, os.path.join(REPO, "tests", "fixtures"))
    from test_pki import TestPKI  # pylint: disable=import-error,import-outside-toplevel
    return TestPKI(os.path.join(DEST, "pki"), addresses=(SERVER,))


def module_args(archive, certificates):
    return {"src_archive": archive, "dest": DEST, "work_dir": os.path.join(DEST, ".work"), "nics": list(NICS),
            "efi": True, "boot_url": BOOT_URL, "retries": 2, "retry_delay": 1, "trust": [certificates.ca_crt],
            "image_verify": True, "console_serial": True, "jobs": os.cpu_count() or 1, "nice": 10}


def build():
    """Build (or find built) the ROMs; returns (module result, seconds waited for the lock, test PKI)."""
    archive = source_archive()
    if not archive:
        raise FileNotFoundError("no iPXE snapshot in %s" % SHARED_IPXE)
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from conftest import run_module  # pylint: disable=import-error,import-outside-toplevel
    os.makedirs(DEST, exist_ok=True)
    started = time.monotonic()
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others find it done
        waited = time.monotonic() - started
        certificates = pki()
        result = run_module("ipxe_build", module_args(archive, certificates))
    if result.get("failed"):
        raise RuntimeError("the ipxe_build module failed: %s\n%s" % (result.get("msg"), result.stderr[-3000:]))
    return result, waited, certificates


if __name__ == "__main__":
    outcome, lock_wait, _pki = build()
    print(json.dumps({"changed": outcome.get("changed"), "duration": outcome.get("duration"), "lock_wait": lock_wait,
                      "sizes": outcome.get("sizes")}))
