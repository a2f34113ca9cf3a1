#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ipxe_build
short_description: Build iPXE ROMs for VMware's NICs and EFI binaries with an embedded chain to the boot repository
version_added: 0.1.0
description:
  - Builds, from an iPXE source the operator names (a git URL and ref, a local tree or a tar archive), the option
    ROM of each NIC in O(nics) (C(8086100f.mrom) for e1000, C(808610d3.mrom) for e1000e, C(15ad07b0.rom) for
    vmxnet3), C(snponly.efi) when O(efi=true), and any other O(targets), into O(dest).
  - The binaries embed a script that runs DHCP and chains O(boot_url) (the repository's C(boot.ipxe)), retrying
    O(retries) times, then prints a clear message on the console and exits; DHCP needs no iPXE-specific option.
  - With O(trust), iPXE trusts exactly those CA certificates (C(TRUST=)) for HTTPS and for C(imgverify), and has
    them built in (C(CERT=)). HTTPS is built in when O(boot_url) is https or O(https=true); O(image_verify=true)
    adds the C(imgverify) and C(imgtrust) commands.
  - Builds only when the inputs differ from the last build's manifest (C(ipxe-build.json) in O(dest)) or a built
    file changed; inputs are the source's identity (git commit, archive SHA-256, tree digest), the targets, the build
    configuration, the embedded script, the CA files' contents and O(make_args).
  - The source is staged under O(work_dir), one tree per source identity, kept so that a later build of the same
    source recompiles only what changed. A failed build leaves the last good files and manifest in O(dest).
  - Needs make, gcc, binutils, perl, the liblzma headers, openssl (with O(trust)) and git (with O(git_url)) on
    the build host; the netboot.coreos.ipxe_build role installs them on request.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Resolves the source's identity (C(git ls-remote) for a branch or tag) and reports whether a build is due.
  diff_mode:
    support: full
    details:
      - Before and after show the source identity and the targets of the last and the wanted build.
options:
  git_url:
    description:
      - A git repository of iPXE (for example C(https://github.com/ipxe/ipxe.git)). Exactly one of O(git_url),
        O(src_dir) and O(src_archive) is required.
    type: str
  git_ref:
    description:
      - The branch, tag or full 40-digit commit of O(git_url) to build.
    type: str
    default: master
  src_dir:
    description:
      - A local iPXE tree (the checkout root or its C(src) directory). It is copied, never built in place.
    type: path
  src_archive:
    description:
      - A local tar archive (optionally gzip, bzip2 or xz compressed) of an iPXE tree.
    type: path
  dest:
    description:
      - Directory that receives the built files and the manifest C(ipxe-build.json). Created when missing.
    type: path
    required: true
  work_dir:
    description:
      - Directory for the staged sources and the build; defaults to O(dest)/.work.
    type: path
  nics:
    description:
      - VMware NIC types whose BIOS option ROM to build.
    type: list
    elements: str
    choices: [e1000, e1000e, vmxnet3]
    default: []
  efi:
    description:
      - Build C(snponly.efi), the binary EFI VMs chainload from the firmware's PXE.
    type: bool
    default: false
  targets:
    description:
      - More files to build, by name; BIOS C(<vendor><device>.rom) or C(.mrom), C(undionly.kpxe), C(ipxe.pxe),
        C(ipxe.lkrn), EFI C(snponly.efi), C(ipxe.efi).
    type: list
    elements: str
    default: []
  boot_url:
    description:
      - The URL the embedded script chains, the repository's C(boot.ipxe)
        (for example C(http://repo.example.com/coreos/boot.ipxe)).
    type: str
    required: true
  retries:
    description:
      - Attempts of DHCP and chain before the script gives up.
    type: int
    default: 3
  retry_delay:
    description:
      - Seconds between attempts.
    type: int
    default: 5
  https:
    description:
      - Build HTTPS in even when O(boot_url) is plain http (the boot scripts may fetch over https).
    type: bool
    default: false
  trust:
    description:
      - PEM CA certificates iPXE trusts, and no other (its default is ca.ipxe.org's root); for HTTPS to the
        repository and for C(imgverify) of the kernel and initrd signatures.
    type: list
    elements: path
    default: []
  image_verify:
    description:
      - Build the C(imgverify) and C(imgtrust) commands in; needs O(trust) (the CA of the code-signing certificate).
    type: bool
    default: false
  console_serial:
    description:
      - Also write iPXE's console to the first serial port (VMs with a serial port, test labs).
    type: bool
    default: false
  make_args:
    description:
      - More C(make) variables, for example C(DEBUG=tls).
    type: list
    elements: str
    default: []
  jobs:
    description:
      - Parallel make jobs; defaults to the number of CPUs.
    type: int
  nice:
    description:
      - Niceness added to the build so that it yields to other work on the build host.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Build the vmxnet3 ROM and snponly.efi from an iPXE release tag
  netboot.coreos.ipxe_build:
    git_url: https://github.com/ipxe/ipxe.git
    git_ref: v1.21.1
    dest: /var/cache/netboot-coreos/ipxe
    nics: [vmxnet3]
    efi: true
    boot_url: http://repo.example.com/coreos/boot.ipxe
  register: ipxe

- name: HTTPS to the repository, trusting only the site CA, with image verification
  netboot.coreos.ipxe_build:
    src_archive: /srv/src/ipxe.tar.xz
    dest: /var/cache/netboot-coreos/ipxe
    nics: [e1000e]
    boot_url: https://repo.example.com/coreos/boot.ipxe
    trust: [/etc/pki/site/ca.crt]
    image_verify: true
"""

RETURN = r"""
files:
  description: Path of each built file in O(dest), by file name.
  returned: success
  type: dict
  sample: {15ad07b0.rom: /var/cache/netboot-coreos/ipxe/15ad07b0.rom}
roms:
  description: Path of the option ROM of each NIC type in O(nics).
  returned: success
  type: dict
  sample: {vmxnet3: /var/cache/netboot-coreos/ipxe/15ad07b0.rom}
efi_binary:
  description: Path of C(snponly.efi) when O(efi=true), else null.
  returned: success
  type: str
sizes:
  description: Size in bytes of each built file (empty in check mode when a build is due).
  returned: success
  type: dict
  sample: {15ad07b0.rom: 73216}
source:
  description: The source built, C(kind) (git, dir, archive), C(location), C(id) (commit, SHA-256 or tree digest), C(ref).
  returned: success
  type: dict
manifest:
  description: Path of the manifest of the inputs and files of the last build.
  returned: success
  type: str
script:
  description: The embedded iPXE script.
  returned: success
  type: str
commands:
  description: The make commands this run ran (empty when nothing was built).
  returned: success
  type: list
  elements: list
duration:
  description: Seconds the make commands took.
  returned: success
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.ipxe_build import build_ipxe
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module

ARGUMENT_SPEC = dict(
    git_url=dict(type="str"),
    git_ref=dict(type="str", default="master"),
    src_dir=dict(type="path"),
    src_archive=dict(type="path"),
    dest=dict(type="path", required=True),
    work_dir=dict(type="path"),
    nics=dict(type="list", elements="str", choices=["e1000", "e1000e", "vmxnet3"], default=[]),
    efi=dict(type="bool", default=False),
    targets=dict(type="list", elements="str", default=[]),
    boot_url=dict(type="str", required=True),
    retries=dict(type="int", default=3),
    retry_delay=dict(type="int", default=5),
    https=dict(type="bool", default=False),
    trust=dict(type="list", elements="path", default=[]),
    image_verify=dict(type="bool", default=False),
    console_serial=dict(type="bool", default=False),
    make_args=dict(type="list", elements="str", default=[]),
    jobs=dict(type="int"),
    nice=dict(type="int", default=10),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           mutually_exclusive=[("git_url", "src_dir", "src_archive")],
                           required_one_of=[("git_url", "src_dir", "src_archive")])
    run_module(module, lambda: build_ipxe(module.params, module.check_mode))


if __name__ == "__main__":
    main()
