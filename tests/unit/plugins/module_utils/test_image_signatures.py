"""module_utils/image_signatures: CMS detached signatures of boot images (real openssl, a test PKI in tmp)."""

import os
import subprocess

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import image_signatures as sig
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

from test_pki import TestPKI  # pylint: disable=import-error


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return TestPKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def images(tmp_path):
    paths = []
    for name, data in (("vmlinuz", b"kernel bytes\x00" * 100), ("initrd.gz", b"initrd bytes" * 100)):
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    return paths


def params(pki, paths, **changes):
    return dict({"files": paths, "certificate": pki.signing_crt, "private_key": pki.signing_key,
                 "suffix": ".ipxe.sig"}, **changes)


def cms_verify(path, ca):
    """What iPXE's imgverify does, with openssl: the signature over the file's bytes, chained to ``ca``."""
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", path + ".ipxe.sig",
                           "-content", path, "-CAfile", ca, "-purpose", "any", "-out", os.devnull],
                          capture_output=True, check=False).returncode == 0


def test_signs_then_changes_nothing_and_resigns_a_changed_image(pki, images):
    changed, result = sig.sign_images(params(pki, images), check_mode=True)
    assert changed and result["signed"] == images and not any(os.path.exists(p + ".ipxe.sig") for p in images)
    changed, result = sig.sign_images(params(pki, images))
    assert changed and result["signed"] == images
    assert all(cms_verify(path, pki.ca_crt) for path in images)
    assert not cms_verify(images[0], pki.wrong_ca_crt)
    assert sig.sign_images(params(pki, images)) == (False, dict(result, signed=[], diff={
        "before": {"current": sorted(images)}, "after": {"current": sorted(images)}}))
    with open(images[0], "ab") as handle:
        handle.write(b"tampered")
    assert not cms_verify(images[0], pki.ca_crt)
    assert sig.sign_images(params(pki, images), check_mode=True)[1]["signed"] == [images[0]]
    assert sig.sign_images(params(pki, images))[1]["signed"] == [images[0]] and cms_verify(images[0], pki.ca_crt)


def test_a_new_certificate_resigns(pki, images, tmp_path):
    sig.sign_images(params(pki, images))
    other = TestPKI(tmp_path / "other")
    assert sig.sign_images(params(pki, images, certificate=other.signing_crt, private_key=other.signing_key),
                           check_mode=True)[1]["signed"] == images


@pytest.mark.parametrize("change, message", [
    ({"certificate": "/nonexistent/signing.crt"},
     "the code-signing certificate '/nonexistent/signing.crt' cannot be read"),
    ({"private_key": ""}, "needs both a code-signing certificate and its private key"),
    ({"certificate": "SERVER"}, "has no extendedKeyUsage codeSigning"),
    ({"private_key": "SERVERKEY"}, "does not belong to the certificate"),
    ({"files": ["/nonexistent/vmlinuz"]}, "no such file to sign: /nonexistent/vmlinuz"),
    ({"suffix": ""}, "suffix '' must be a non-empty file name ending"),
])
def test_bad_inputs_are_refused_before_anything_is_signed(pki, images, change, message):
    change = {key: {"SERVER": pki.server_crt, "SERVERKEY": pki.server_key}.get(value, value) if isinstance(value, str)
              else value for key, value in change.items()}
    with pytest.raises(ValidationError, match=message):
        sig.sign_images(params(pki, images, **change))
    assert not any(os.path.exists(p + ".ipxe.sig") for p in images)
