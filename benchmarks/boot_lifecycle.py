"""Benchmark a node's boots under QEMU (TCG), BIOS and UEFI: power-on -> install.ign, install -> node.ign.

The VMs, the boot network and the repository are the e2e tier's (tests/e2e/node_vm.py, the lab of
tests/e2e/test_node_lifecycle.py: the http_repo role's files, the ipxe_dhcp role's dnsmasq, the real Ignition in
the test release). Each run is a new VM with an empty disk, disk first then network, powered on three times:

- power-on -> install.ign: from QEMU's start on the empty disk to the real Ignition having fetched and applied
  install.ign (DHCP, [snponly.efi,] boot.ipxe, the node script, kernel + initrd on the way); target <= 20 s;
- install -> node.ign: from the installer's "installed" line to node.ign applied on the first disk boot (the
  rest of the install, the reboot, the firmware, the disk's boot); no target;
- a later disk boot: power-on 3, start to the system up; no target.

Run as root (network namespaces, taps): ``.venv/bin/python benchmarks/boot_lifecycle.py [--runs 3]
[--models bios-vmxnet3,bios-e1000e,uefi-virtio]``, under the heavy lock (QEMU under TCG takes a core).
"""

import argparse
import os
import pathlib
import sys
import tempfile

import benchlib

sys.path.insert(0, benchlib.REPO)  # the e2e modules import tests.conftest and integration.* by package

from e2e.node_vm import MODELS, NodeVM  # noqa: E402  pylint: disable=wrong-import-position,import-error
from e2e.test_node_lifecycle import NODES, lifecycle_lab, require_host  # noqa: E402  pylint: disable=wrong-import-position,import-error

TARGET_INSTALL_IGN = 20.0


def one_life(lab, model, workdir):
    """Three power-ons of a new VM: (power-on -> install.ign, install -> node.ign, later disk boot) in s."""
    vm = NodeVM(lab, MODELS[model], NODES[model]["mac"], workdir)
    install = vm.power_on("install")
    first = vm.power_on("first disk boot")
    again = vm.power_on("disk boot")
    return (install.steps["install.ign"], install.duration - install.steps["install"] + first.steps["node.ign"],
            again.steps["booted"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="lives per model (each a new VM)")
    parser.add_argument("--models", default=",".join(sorted(MODELS)), help="of %s" % ", ".join(sorted(MODELS)))
    args = parser.parse_args()
    models = args.models.split(",")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        sys.exit("unknown model %s; valid: %s" % (", ".join(unknown), ", ".join(sorted(MODELS))))
    try:
        require_host()
    except BaseException as error:  # pytest.fail's exception: the host lacks what `make deps` provides
        sys.exit(str(error))
    print("node boots under QEMU (TCG), %d lives per model; each figure: median (min-max)" % args.runs, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-boot-lifecycle-") as workdir:
        with lifecycle_lab(pathlib.Path(workdir)) as lab:
            for model in models:
                figures = [benchlib.Measured() for _figure in range(3)]
                for run in range(args.runs):
                    life = one_life(lab, model, os.path.join(workdir, "%s-%d" % (model, run)))
                    for measured, value in zip(figures, life):
                        measured.add(value)
                to_install, to_node, disk = figures
                to_install.row("%s: power-on -> install.ign fetched and applied" % model,
                               "<= %.0f s" % TARGET_INSTALL_IGN, to_install.median() <= TARGET_INSTALL_IGN)
                to_node.row("%s: install -> node.ign applied on the disk boot" % model)
                disk.row("%s: a later disk boot, power-on -> system up" % model)


if __name__ == "__main__":
    main()
