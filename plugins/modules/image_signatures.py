#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: image_signatures
short_description: Sign boot images with CMS detached signatures for iPXE's imgverify
version_added: 0.1.0
description:
  - Writes beside each file in O(files) a CMS detached signature C(<file><suffix>) (DER, no signed attributes,
    the signer's certificate inside; C(openssl cms -sign -binary -noattr -outform DER)), which iPXE's C(imgverify)
    checks against the CA it was built to trust (the netboot.coreos.ipxe_build role's O(ignore:ipxe_build_trust)).
  - A signature is rewritten only when it is missing or does not verify the file's current bytes with O(certificate)
    as the signer, so a changed image or a new certificate is signed again and a second run changes nothing.
  - Checks the certificate (PEM, extendedKeyUsage codeSigning), that the key belongs to it and that every file exists
    before anything is signed.
  - Needs openssl on the host.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Verifies the existing signatures and reports the files that would be signed.
  diff_mode:
    support: full
    details:
      - Before and after list the files whose signature is current.
options:
  files:
    description:
      - The files to sign (for example a release's PXE kernel and initrd).
    type: list
    elements: path
    required: true
  certificate:
    description:
      - PEM code-signing certificate (extendedKeyUsage codeSigning) issued by a CA the nodes' iPXE trusts.
    type: path
    required: true
  private_key:
    description:
      - PEM private key of O(certificate), unencrypted. Only its path is passed; the key never leaves the file.
    type: path
    required: true
  suffix:
    description:
      - Ending of the signature file names. Not C(.sig), which holds the distribution's GPG signatures.
    type: str
    default: .ipxe.sig
"""

EXAMPLES = r"""
- name: Sign the PXE kernel and initrd for imgverify
  netboot.coreos.image_signatures:
    files:
      - /srv/coreos/4081.2.0/flatcar_production_pxe.vmlinuz
      - /srv/coreos/4081.2.0/flatcar_production_pxe_image.cpio.gz
    certificate: /etc/pki/netboot/signing.crt
    private_key: /etc/pki/netboot/signing.key
"""

RETURN = r"""
signed:
  description: The files signed by this run (would be signed, in check mode).
  returned: success
  type: list
  elements: str
signatures:
  description: The signature file of each file.
  returned: success
  type: dict
  sample: {/srv/coreos/4081.2.0/flatcar_production_pxe.vmlinuz: /srv/coreos/4081.2.0/flatcar_production_pxe.vmlinuz.ipxe.sig}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.image_signatures import sign_images
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module

ARGUMENT_SPEC = dict(
    files=dict(type="list", elements="path", required=True),
    certificate=dict(type="path", required=True),
    # a path: the errors name it; the key itself is read by openssl only
    private_key=dict(type="path", required=True, no_log=False),
    suffix=dict(type="str", default=".ipxe.sig"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, lambda: sign_images(module.params, module.check_mode))


if __name__ == "__main__":
    main()
