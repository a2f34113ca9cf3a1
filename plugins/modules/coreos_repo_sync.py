#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: coreos_repo_sync
short_description: Mirror a verified CoreOS-family release (PXE kernel, initramfs, install image) into a boot repository
version_added: 0.1.0
description:
  - Downloads one release of Flatcar Container Linux, Fedora CoreOS or legacy CoreOS Container Linux into
    O(dest)/<version>/ with the file names the release server uses, so the distro's installer can install from
    this mirror (C(flatcar-install -b <base> -V <version>) fetches C(flatcar_production_image.bin.bz2) and its C(.sig)).
  - File names come from the release metadata (Flatcar C(version.txt) and C(.DIGESTS), the Fedora CoreOS stream
    JSON or build C(meta.json)), never guessed.
  - Every file is hashed while it streams, checked against the digest in the signed metadata and against its detached
    GPG signature (C(gpgv) against an unnamed keyring file, with no GNUPGHOME and no gpg-agent), and moved into place only when every file of the
    version verified. Then O(dest)/current (a symlink) switches to the version.
  - An interrupted download resumes with HTTP Range, from the same run's retries or the next run. Transient errors
    (HTTP 5xx, resets, timeouts) are retried with exponential backoff.
  - A manifest per version (name, size, mtime, digest) lets a rerun confirm the version without re-hashing it.
  - Requires C(gpgv) (GnuPG) on the host when O(verify=true).
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Resolves the version and reports the files it would fetch and the versions it would prune; downloads nothing.
  diff_mode:
    support: full
    details:
      - Before and after show the current version and the versions in O(dest).
options:
  distro:
    description:
      - The distribution.
    type: str
    choices: [flatcar, fedora-coreos, coreos]
    default: flatcar
  channel:
    description:
      - The release channel (Flatcar C(stable), C(beta), C(alpha), C(lts); legacy CoreOS C(stable), C(beta), C(alpha))
        or Fedora CoreOS stream (C(stable), C(testing), C(next)).
    type: str
    default: stable
    aliases: [stream]
  version:
    description:
      - The release to mirror, or C(current) for the channel's newest release (Flatcar C(version.txt), the Fedora
        CoreOS stream JSON).
      - Legacy CoreOS needs an explicit version.
    type: str
    default: current
  arch:
    description:
      - The architecture (C(amd64) and C(x86_64) are the same, as are C(arm64) and C(aarch64)).
    type: str
    choices: [amd64, x86_64, arm64, aarch64]
    default: amd64
  dest:
    description:
      - The repository root; the files land in O(dest)/<version>/ and O(dest)/current points at the version.
      - Created when missing. Hidden entries C(.staging) (interrupted downloads) and C(.keys) (key cache) live here too.
    type: path
    required: true
  base_url:
    description:
      - The release server or a local mirror of it. A literal C({channel}) is replaced by O(channel).
      - Flatcar and legacy CoreOS, the directory holding C(<arch>-usr/); Fedora CoreOS, the directory holding
        C(streams/) and C(prod/).
      - Defaults to C(https://{channel}.release.flatcar-linux.net) and C(https://builds.coreos.fedoraproject.org);
        legacy CoreOS has no default (its servers are gone).
    type: str
  artifacts:
    description:
      - What to mirror, as keys C(kernel), C(initramfs), C(rootfs) (Fedora CoreOS only) and C(image) (the install image).
      - For Flatcar and legacy CoreOS any other entry is a file name in the release directory,
        for example C(flatcar_production_vmware_raw_image.bin.bz2).
      - Defaults to the PXE files plus the install image (Fedora CoreOS adds C(rootfs)).
    type: list
    elements: str
  verify:
    description:
      - Check each file's detached GPG signature and the digest from the signed metadata.
      - When false, only digests are compared (when the metadata has them) and a warning says so.
    type: bool
    default: true
  verify_existing:
    description:
      - How a rerun confirms files already present. C(quick) compares size and mtime with the version's manifest;
        C(full) re-hashes every file and fetches again any that differ.
    type: str
    choices: [quick, full]
    default: quick
  gpg_key:
    description:
      - The signing key, a path or an http(s) URL. A URL's key is fetched once into O(dest)/.keys and fetched again
        once when a signature names a subkey the cached key lacks (signing subkeys rotate yearly).
      - Defaults to the distro's official key URL; legacy CoreOS has none, so set it or O(verify=false).
    type: str
  gpg_fingerprint:
    description:
      - The primary key fingerprint the key must have and every signature must come from.
      - Defaults to the distro's (Flatcar C(F88CFEDEFF29A5B4D9523864E25D9AED0593B34A), legacy CoreOS
        C(04127D0BFABEC8871FFB2CCE50E0885593D2DCB4)); Fedora CoreOS has no default because its keyring holds one key per
        Fedora release.
    type: str
  keep:
    description:
      - How many versions to keep in O(dest) (oldest removed first). Never removes the synced version nor the one
        O(dest)/current points at, and only removes directories this module made. Unset keeps every version.
    type: int
  set_current:
    description:
      - Point O(dest)/current at the synced version once it verified.
    type: bool
    default: true
  validate_certs:
    description:
      - Verify the TLS certificates of the mirror against the system's trust store (for a private mirror's CA, add it
        there, or set E(SSL_CERT_FILE) to a bundle holding it). A certificate that fails is not retried.
      - Proxies come from E(https_proxy), E(http_proxy) and E(no_proxy).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the mirror to connect or send data.
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a transient failure (backoff 1, 2, 4... seconds).
    type: int
    default: 3
notes:
  - Only the files change; the module does not serve them. The C(netboot.coreos.http_repo) role serves O(dest) at C(/coreos/).
"""

EXAMPLES = r"""
- name: Mirror the current Flatcar stable release
  netboot.coreos.coreos_repo_sync:
    dest: /srv/netboot/coreos
    distro: flatcar
    channel: stable
    keep: 3
  register: flatcar

- name: Show the kernel file to boot
  ansible.builtin.debug:
    msg: "{{ flatcar.version }}/{{ flatcar.artifacts.kernel }}"

- name: Mirror a pinned Fedora CoreOS release from an air-gapped mirror
  netboot.coreos.coreos_repo_sync:
    dest: /srv/netboot/coreos
    distro: fedora-coreos
    stream: stable
    version: 41.20241027.3.0
    base_url: https://mirror.example.com/fcos
    gpg_key: /etc/pki/fedora.gpg

- name: Mirror a legacy CoreOS release from a private mirror
  netboot.coreos.coreos_repo_sync:
    dest: /srv/netboot/coreos
    distro: coreos
    version: 1122.2.0
    base_url: https://mirror.example.com/coreos/stable
    gpg_key: https://mirror.example.com/keys/CoreOS_Image_Signing_Key.asc
"""

RETURN = r"""
version:
  description: The version synced (C(current) resolved).
  returned: success
  type: str
  sample: 3975.2.0
path:
  description: The version's directory.
  returned: success
  type: str
  sample: /srv/netboot/coreos/3975.2.0
current:
  description: The version O(dest)/current points at after the run.
  returned: success
  type: str
  sample: 3975.2.0
artifacts:
  description: File names inside RV(path), by artifact key (C(kernel), C(initramfs), C(rootfs), C(image)).
  returned: success
  type: dict
  sample:
    kernel: flatcar_production_pxe.vmlinuz
    initramfs: flatcar_production_pxe_image.cpio.gz
    image: flatcar_production_image.bin.bz2
files:
  description:
    - One entry per artifact with C(key), C(name), C(size), C(sha512) (Flatcar, legacy CoreOS) or C(sha256)
      (Fedora CoreOS), C(verified) (signature checked) and C(fetched) (downloaded by this run).
    - In check mode a file to fetch has C(size=null) and no digest.
  returned: success
  type: list
  elements: dict
  sample:
    - {key: kernel, name: flatcar_production_pxe.vmlinuz, size: 57534464, sha512: "5a1b...", verified: true, fetched: true}
fetched:
  description: Names of the files downloaded (would be, in check mode).
  returned: success
  type: list
  elements: str
bytes_fetched:
  description: Bytes downloaded, metadata and signatures included.
  returned: success
  type: int
  sample: 1073741824
pruned:
  description: Versions removed (would be, in check mode) to honour O(keep).
  returned: success
  type: list
  elements: str
  sample: [3760.2.0]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.release_repo import sync_release

ARGUMENT_SPEC = dict(
    distro=dict(type="str", choices=["flatcar", "fedora-coreos", "coreos"], default="flatcar"),
    channel=dict(type="str", default="stable", aliases=["stream"]),
    version=dict(type="str", default="current"),
    arch=dict(type="str", choices=["amd64", "x86_64", "arm64", "aarch64"], default="amd64"),
    dest=dict(type="path", required=True),
    base_url=dict(type="str"),
    artifacts=dict(type="list", elements="str"),
    verify=dict(type="bool", default=True),
    verify_existing=dict(type="str", choices=["quick", "full"], default="quick"),
    gpg_key=dict(type="str", no_log=False),
    gpg_fingerprint=dict(type="str"),
    keep=dict(type="int"),
    set_current=dict(type="bool", default=True),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, lambda: sync_release(module.params, module.check_mode))


if __name__ == "__main__":
    main()
