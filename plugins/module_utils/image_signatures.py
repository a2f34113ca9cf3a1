# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CMS detached signatures of boot images, for iPXE's ``imgverify``.

Each file gets ``<file><suffix>`` (DER, ``openssl cms -sign -binary -noattr -outform DER``, the signer's
certificate inside, no signed attributes: what iPXE's CMS code reads). A signature is current when it verifies
the file's bytes with the given certificate as the only possible signer (``openssl cms -verify -nointern
-certfile <cert> -noverify``: the chain is iPXE's business, through the CA it was built to trust); only files
whose signature is missing or not current are signed, so a second run changes nothing, and check mode reports
what would be signed without signing. A new signature is written beside the file and renamed over the old
one, so a node never reads half a signature.
"""

import os
import shutil
import subprocess
import tempfile

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError

SUFFIX = ".ipxe.sig"


def _openssl(args):
    try:
        return subprocess.run(["openssl"] + args, capture_output=True, check=False)
    except OSError as exc:
        raise NetbootError("image signing: cannot run openssl: %s (install openssl on the repository host)"
                           % (exc.strerror or exc)) from None


def _read_pem(path, what, marker):
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise ValidationError("image signing: the %s '%s' cannot be read: %s" % (what, path, exc.strerror or exc)) from None
    if marker not in text:
        raise ValidationError("image signing: '%s' is not a PEM %s (no %s line)" % (path, what, marker.decode()))


def check_inputs(files, certificate, key):
    """The certificate, the key and every file must be usable before anything is signed."""
    if not certificate or not key:
        raise ValidationError("image signing needs both a code-signing certificate and its private key; got "
                              "certificate '%s' and key '%s'" % (certificate or "", key or ""))
    _read_pem(certificate, "code-signing certificate", b"-----BEGIN CERTIFICATE-----")
    _read_pem(key, "private key of the code-signing certificate", b"PRIVATE KEY-----")
    purpose = _openssl(["x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage"])
    if purpose.returncode != 0 or b"Code Signing" not in purpose.stdout:
        raise ValidationError("image signing: the certificate '%s' has no extendedKeyUsage codeSigning, which iPXE's "
                              "imgverify requires of the signer" % certificate)
    matches = [_openssl(["x509", "-in", certificate, "-noout", "-pubkey"]),
               _openssl(["pkey", "-in", key, "-pubout"])]
    if any(proc.returncode != 0 for proc in matches) or matches[0].stdout != matches[1].stdout:
        raise ValidationError("image signing: the key '%s' does not belong to the certificate '%s' (or cannot be "
                              "read without a passphrase)" % (key, certificate))
    missing = [path for path in files if not os.path.isfile(path)]
    if missing:
        raise ValidationError("image signing: no such file to sign: %s" % ", ".join(missing))


def is_current(path, certificate, suffix=SUFFIX):
    """True when ``path + suffix`` is a signature of ``path``'s bytes by ``certificate``."""
    signature = path + suffix
    if not os.path.isfile(signature):
        return False
    proc = _openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", path,
                     "-certfile", certificate, "-nointern", "-noverify", "-out", os.devnull])
    return proc.returncode == 0


def sign(path, certificate, key, suffix=SUFFIX):
    """Write ``path + suffix`` (through a temporary file in the same directory)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".partial", dir=directory)
    os.close(handle)
    try:
        proc = _openssl(["cms", "-sign", "-binary", "-noattr", "-outform", "DER", "-in", path, "-signer",
                         certificate, "-inkey", key, "-md", "sha256", "-out", partial])
        if proc.returncode != 0:
            raise NetbootError("image signing: openssl cms -sign of '%s' failed: %s"
                               % (path, proc.stderr.decode(errors="replace").strip()[-1000:]))
        os.chmod(partial, 0o644)
        signature = path + suffix
        if os.path.exists(signature):
            shutil.copymode(signature, partial)
        os.replace(partial, signature)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def sign_images(params, check_mode=False):
    """The module's work: (changed, result)."""
    files = list(params["files"])
    certificate, key, suffix = params["certificate"], params["private_key"], params["suffix"]
    if not suffix or "/" in suffix:
        raise ValidationError("image signing: suffix '%s' must be a non-empty file name ending such as .ipxe.sig"
                              % suffix)
    check_inputs(files, certificate, key)
    due = [path for path in files if not is_current(path, certificate, suffix)]
    if not check_mode:
        for path in due:
            sign(path, certificate, key, suffix)
    return bool(due), {
        "signed": due, "signatures": {path: path + suffix for path in files},
        "diff": {"before": {"current": sorted(set(files) - set(due))}, "after": {"current": sorted(files)}}}
