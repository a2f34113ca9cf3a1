"""The http_repo role's image signing (tags http_repo_configs + http_repo_image_signing, on localhost): the
kernel and initrd get CMS signatures the node scripts imgverify; a second run changes nothing, check mode
predicts a re-signing, a bad certificate or key fails before anything is written."""

import os
import subprocess
import sys

import pytest

from conftest import run_playbook
from integration.test_http_repo_render import ARTIFACTS, BASE, KEY, NODES, PLAYBOOK, files_under  # pylint: disable=import-error
from test_pki import TestPKI  # pylint: disable=import-error

KERNEL, INITRD = ARTIFACTS["flatcar"]["kernel"], ARTIFACTS["flatcar"]["initramfs"]
SIGN_TASK = "netboot.coreos.http_repo : Sign the PXE kernel and initrd for imgverify"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return TestPKI(tmp_path_factory.mktemp("pki"))


def sign(tmp_path, pki, check=False, **overrides):
    root = tmp_path / "repo"
    (root / "42.1").mkdir(parents=True, exist_ok=True)
    for name in (KERNEL, INITRD):
        if not (root / "42.1" / name).exists():
            (root / "42.1" / name).write_bytes(name.encode() * 1000)
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"ansible_python_interpreter": sys.executable, "netboot_base_url": BASE, "http_repo_root": str(root), "http_repo_nodes": NODES[:1],
             "http_repo_sync_images": False, "http_repo_version": "42.1", "http_repo_artifacts": ARTIFACTS["flatcar"],
             "http_repo_ssh_authorized_keys": [KEY], "http_repo_timezone": "Europe/Berlin",
             "http_repo_image_signing_certificate": pki.signing_crt, "http_repo_image_signing_key": pki.signing_key}
    extra.update(overrides)
    return run_playbook(str(playbook), extra_vars=extra, check=check, tags="http_repo_configs,http_repo_image_signing"), root


def verifies(path, ca):
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(path) + ".ipxe.sig",
                           "-content", str(path), "-CAfile", ca, "-purpose", "any", "-out", os.devnull],
                          capture_output=True, check=False).returncode == 0


def test_signs_once_and_the_node_script_verifies(tmp_path, pki):
    run, root = sign(tmp_path, pki)
    assert run.rc == 0, run.failure_messages() or run.stderr
    release = root / "42.1"
    assert verifies(release / KERNEL, pki.ca_crt) and verifies(release / INITRD, pki.ca_crt)
    script = (root / "nodes" / "00-50-56-00-00-21.ipxe").read_text()
    assert "imgverify %s %s/42.1/%s.ipxe.sig || goto kernel-refused\n" % (KERNEL, BASE, KERNEL) in script
    assert "imgverify %s %s/42.1/%s.ipxe.sig || goto initrd-refused\n" % (INITRD, BASE, INITRD) in script
    again = sign(tmp_path, pki)[0]
    assert again.rc == 0 and again.stats["changed"] == 0
    (release / KERNEL).write_bytes(b"a new kernel")
    predicted = sign(tmp_path, pki, check=True)[0]
    [result] = predicted.task_results(SIGN_TASK)
    assert predicted.rc == 0 and result["changed"] and result["signed"] == [str(release / KERNEL)]
    assert not verifies(release / KERNEL, pki.ca_crt)  # check mode signed nothing
    assert sign(tmp_path, pki)[0].stats["changed"] == 1 and verifies(release / KERNEL, pki.ca_crt)


@pytest.mark.parametrize("overrides, message", [
    ({"http_repo_image_signing_certificate": "/nonexistent/signing.crt"},
     "the code-signing certificate '/nonexistent/signing.crt' cannot be read"),
    ({"http_repo_image_signing_key": ""}, "needs both a code-signing certificate and its private key"),
    ({"http_repo_image_signing_certificate": "", "http_repo_image_signing_key": "/etc/signing.key"},
     "needs both a code-signing certificate and its private key"),
])
def test_a_bad_certificate_or_key_fails_before_any_file(tmp_path, pki, overrides, message):
    run, root = sign(tmp_path, pki, **overrides)
    assert run.rc != 0 and any(message in msg for msg in run.failure_messages()), run.failure_messages()
    assert files_under(root) == sorted(["42.1/" + INITRD, "42.1/" + KERNEL])  # no boot file, no signature
