"""Digests and GPG verification (release_verify) against a generated key and the real, outdated Flatcar key."""

import hashlib
import os
import tempfile

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import release_verify
from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError
from ansible_collections.netboot.coreos.plugins.module_utils.release import HttpClient
from ansible_collections.netboot.coreos.plugins.module_utils.release_verify import (
    Keyring, StreamCheck, VerificationError, check_digest, file_digest, parse_digests)
from conftest import shared_path
from release_mirror import SigningKey

FLATCAR_FPR = "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"

DIGESTS = """# MD5 HASH
0123456789abcdef0123456789abcdef  flatcar_production_pxe.vmlinuz
# SHA1 HASH
0123456789abcdef0123456789abcdef01234567  flatcar_production_pxe.vmlinuz
# SHA512 HASH
%s  flatcar_production_pxe.vmlinuz
%s  other_file
""" % ("a" * 128, "b" * 128)


def test_parse_digests_reads_the_sha512_section_only():
    assert parse_digests(DIGESTS, "flatcar_production_pxe.vmlinuz") == "a" * 128
    assert parse_digests(DIGESTS, "other_file") == "b" * 128


def test_parse_digests_without_the_file_names_it():
    with pytest.raises(VerificationError, match="no SHA512 digest for missing.bin"):
        parse_digests(DIGESTS, "missing.bin")


def test_check_digest_mismatch_says_both_values(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"data" * 1000)
    actual = file_digest(str(path), "sha512")
    assert actual == hashlib.sha512(b"data" * 1000).hexdigest()
    check_digest("f", "sha512", actual.upper(), actual)
    with pytest.raises(VerificationError, match="digest mismatch for f: sha512 ff.* got %s" % actual):
        check_digest("f", "sha512", "ff" * 64, actual)


def _signed(tmp_path, key, data=b"artifact bytes\n" * 100):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    key.detach_sign(str(path), str(path) + ".sig")
    return str(path), str(path) + ".sig"


def _no_fetch(url):
    raise AssertionError("unexpected fetch of %s" % url)


def test_verify_file_accepts_a_good_signature_from_the_pinned_key(tmp_path, release_signing_key, monkeypatch):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    data, sig = _signed(tmp_path, release_signing_key)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with Keyring(key_path, release_signing_key.fingerprint, _no_fetch) as keyring:
        status = keyring.verify_file(sig, data, "artifact")
        assert os.listdir(str(scratch)) == [], "no GNUPGHOME or named temporary file: nothing to leave behind"
    assert status.primary == release_signing_key.fingerprint
    assert status.signer == release_signing_key.signing_subkey


def test_verify_file_rejects_tampered_data(tmp_path, release_signing_key):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    data, sig = _signed(tmp_path, release_signing_key)
    with open(data, "ab") as handle:
        handle.write(b"x")
    with Keyring(key_path, release_signing_key.fingerprint, _no_fetch) as keyring:
        with pytest.raises(VerificationError, match="bad signature on artifact"):
            keyring.verify_file(sig, data, "artifact")


def test_verify_file_rejects_garbage_signature(tmp_path, release_signing_key):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    data, sig = _signed(tmp_path, release_signing_key)
    with open(sig, "wb") as handle:
        handle.write(b"<html>not a signature</html>")
    with Keyring(key_path, None, _no_fetch) as keyring:
        with pytest.raises(VerificationError, match="no valid signature on artifact"):
            keyring.verify_file(sig, data, "artifact")


def test_key_with_another_primary_fingerprint_is_refused(tmp_path, release_signing_key):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    with pytest.raises(VerificationError, match="has primary key %s, not the pinned %s"
                       % (release_signing_key.fingerprint, FLATCAR_FPR)):
        with Keyring(key_path, FLATCAR_FPR, _no_fetch):
            pass


def test_streamed_check_matches_the_file(tmp_path, release_signing_key):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    data, sig = _signed(tmp_path, release_signing_key)
    with Keyring(key_path, release_signing_key.fingerprint, _no_fetch) as keyring:
        sink = StreamCheck("sha256", keyring, sig)
        with open(data, "rb") as handle:
            for chunk in iter(lambda: handle.read(7), b""):
                sink.update(chunk)
        status = keyring.finish_stream(sink, sig, data, "artifact")
    assert status.good
    assert sink.hexdigest() == file_digest(data, "sha256")


def test_clearsigned_text_is_returned_only_when_signed(tmp_path, release_signing_key):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    armored = release_signing_key.clearsign(DIGESTS)
    with Keyring(key_path, release_signing_key.fingerprint, _no_fetch) as keyring:
        assert parse_digests(keyring.clearsigned_text(armored, "x.DIGESTS.asc"), "other_file") == "b" * 128
        tampered = armored.replace(b"a" * 128, b"c" * 128)
        with pytest.raises(VerificationError, match="bad signature on x.DIGESTS.asc"):
            keyring.clearsigned_text(tampered, "x.DIGESTS.asc")


def test_rotated_subkey_is_found_by_one_refetch(tmp_path, release_mirror):
    """The cached key predates the subkey that signs: one refetch of the key URL fixes it, and is cached."""
    key = SigningKey()
    try:
        cache = str(tmp_path / "cache" / "key.asc")
        os.makedirs(os.path.dirname(cache))
        key.export_public(cache)               # last year's key: primary + first subkey
        old_cache = open(cache, "rb").read()
        key.add_subkey()                       # this year's subkey signs
        release_mirror.publish_key("rotated.asc", key.export_public(str(tmp_path / "new.asc")))
        data, sig = _signed(tmp_path, key)
        client = HttpClient(timeout=5, retries=0)
        with Keyring(release_mirror.key_url("rotated.asc"), key.fingerprint, client.get_bytes, cache) as keyring:
            keyring.save_cache()
            status = keyring.verify_file(sig, data, "artifact")
            assert keyring.refetched and keyring.key_fetches == 1
        assert status.signer == key.signing_subkey
        assert open(cache, "rb").read() != old_cache, "the refetched key replaces the cached one"
        assert len(release_mirror.requested("/keys/rotated.asc")) == 1
    finally:
        key.close()


def test_outdated_flatcar_key_fails_after_one_refetch(tmp_path, release_mirror, release_signing_key):
    """The real 2024 Flatcar key lacks the subkey that signs: refetch once, then fail naming the subkey."""
    outdated = shared_path("signing-keys", "flatcar-image-signing-key-2024.asc")
    release_mirror.publish_key("flatcar.asc", outdated)
    data, sig = _signed(tmp_path, release_signing_key)
    cache = str(tmp_path / "keys" / "flatcar.asc")
    client = HttpClient(timeout=5, retries=0)
    with Keyring(release_mirror.key_url("flatcar.asc"), FLATCAR_FPR, client.get_bytes, cache) as keyring:
        keyring.save_cache()
        with pytest.raises(VerificationError) as caught:
            keyring.verify_file(sig, data, "flatcar_production_image.bin.bz2")
    msg = caught.value.msg
    assert release_signing_key.signing_subkey[-16:] in msg
    assert "does not contain (even after fetching it again)" in msg and "point gpg_key at the current key" in msg
    assert len(release_mirror.requested("/keys/flatcar.asc")) == 2
    with open(cache, "rb") as handle, open(outdated, "rb") as original:
        assert handle.read() == original.read(), "the key pinned to %s is cached" % FLATCAR_FPR


def test_missing_gpg_binary_is_reported(tmp_path, release_signing_key, monkeypatch):
    key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
    data, sig = _signed(tmp_path, release_signing_key)
    monkeypatch.setattr(release_verify, "GPGV_COMMAND", "/nonexistent/gpgv")
    with pytest.raises(NetbootError, match="cannot run /nonexistent/gpgv .*install GnuPG's gpgv"):
        with Keyring(key_path, None, _no_fetch) as keyring:
            keyring.verify_file(sig, data, "artifact")


def test_signature_by_another_key_names_the_signer_and_the_expected_key(tmp_path, release_signing_key):
    """Not a rotation: the expected key still has a valid signing subkey, so no rotation hint."""
    other = SigningKey(uid="Someone Else <else@example.invalid>")
    try:
        key_path = release_signing_key.export_public(str(tmp_path / "key.asc"))
        data, sig = _signed(tmp_path, other)
        with Keyring(key_path, release_signing_key.fingerprint, _no_fetch) as keyring:
            with pytest.raises(VerificationError) as caught:
                keyring.verify_file(sig, data, "artifact")
        msg = caught.value.msg
        assert "signature on artifact was made by key %s" % other.signing_subkey in msg
        assert "expected a signature by %s" % release_signing_key.signing_subkey[-16:] in msg
        assert "rotated" not in msg and "signed by another key than the distro's" in msg
    finally:
        other.close()


def test_read_keys_finds_primary_subkeys_and_their_expiry():
    with open(shared_path("signing-keys", "flatcar-image-signing-key-2024.asc"), "rb") as handle:
        keys = release_verify.read_keys(handle.read())
    assert keys[0].fingerprint == FLATCAR_FPR and keys[0].primary == FLATCAR_FPR
    subkeys = [k for k in keys[1:] if k.can_sign]
    assert subkeys and all(k.primary == FLATCAR_FPR for k in subkeys)
    newest = max(subkeys, key=lambda k: k.expires or 0)
    assert newest.fingerprint.endswith("8837E271") and release_verify._day(newest.expires) == "2025-03-06"
