"""The repository on disk (release_repo.sync_release): atomic versions, manifests, current, pruning, faults."""

import fcntl
import json
import os
import subprocess
import threading
import time

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError
from ansible_collections.netboot.coreos.plugins.module_utils.release_repo import (
    MANIFEST, STAGING, prune_plan, sync_release, version_key)

KERNEL = "flatcar_production_pxe.vmlinuz"
INITRD = "flatcar_production_pxe_image.cpio.gz"
IMAGE = "flatcar_production_image.bin.bz2"
RELEASE = "/flatcar/stable/amd64-usr/%s/"


def params(mirror, dest, base, **overrides):
    result = dict(distro="flatcar", channel="stable", version="current", arch="amd64", dest=str(dest),
                  base_url=base, artifacts=None, verify=True, verify_existing="quick", gpg_key=mirror.key_url(),
                  gpg_fingerprint=mirror.key.fingerprint, keep=None, set_current=True, validate_certs=True,
                  timeout=5, retries=1, backoff=0.01)
    result.update(overrides)
    return result


def listing(dest):
    """Every path under ``dest`` (relative), for 'nothing changed' checks."""
    found = []
    for top, dirs, files in os.walk(str(dest)):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(top, name), str(dest)))
    return sorted(found)


def test_flatcar_sync_lays_out_the_version_and_switches_current(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    changed, result = sync_release(params(release_mirror, dest, base))
    assert changed
    assert result["version"] == "3975.2.0" and result["path"] == str(dest / "3975.2.0")
    assert result["artifacts"] == {"kernel": KERNEL, "initramfs": INITRD, "image": IMAGE}
    assert sorted(os.listdir(str(dest / "3975.2.0"))) == sorted(
        [MANIFEST, KERNEL, KERNEL + ".sig", INITRD, INITRD + ".sig", IMAGE, IMAGE + ".sig"])
    for name in (KERNEL, IMAGE + ".sig"):
        with open(os.path.join(release_mirror.root, RELEASE.lstrip("/") % "3975.2.0", name), "rb") as original:
            assert (dest / "3975.2.0" / name).read_bytes() == original.read()
    assert os.readlink(str(dest / "current")) == "3975.2.0"
    assert all(f["verified"] and f["fetched"] and len(f["sha512"]) == 128 for f in result["files"])
    assert result["bytes_fetched"] > 65536 + 131072 + 262144
    assert os.listdir(str(dest / STAGING)) == [".lock"], "no download left behind"


def test_rerun_is_a_no_op_without_touching_the_mirror_files(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    sync_release(params(release_mirror, dest, base))
    before = len(release_mirror.requests)
    changed, result = sync_release(params(release_mirror, dest, base))
    assert not changed and result["fetched"] == [] and result["bytes_fetched"] < 200
    assert [r["path"] for r in release_mirror.requests[before:]] == [RELEASE % "current" + "version.txt"]
    changed, result = sync_release(params(release_mirror, dest, base, version="3975.2.0"))
    assert not changed and len(release_mirror.requests) == before + 1, "an explicit version needs no network"
    assert all(f["verified"] and not f["fetched"] for f in result["files"])


def test_check_mode_predicts_and_changes_nothing(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    changed, result = sync_release(params(release_mirror, dest, base), check_mode=True)
    assert changed and result["fetched"] == [KERNEL, INITRD, IMAGE]
    assert result["diff"]["after"] == {"current": "3975.2.0", "versions": ["3975.2.0"]}
    assert not dest.exists()
    assert not release_mirror.requested(IMAGE), "check mode downloads nothing"
    real_changed, real = sync_release(params(release_mirror, dest, base))
    assert real_changed == changed and real["fetched"] == result["fetched"] and real["diff"] == result["diff"]
    assert sync_release(params(release_mirror, dest, base), check_mode=True)[0] is False


def test_full_verification_refetches_a_silently_corrupted_file(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    sync_release(params(release_mirror, dest, base))
    kernel = dest / "3975.2.0" / KERNEL
    stat = kernel.stat()
    with open(str(kernel), "r+b") as handle:
        handle.write(b"bitrot")
    os.utime(str(kernel), ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert sync_release(params(release_mirror, dest, base))[0] is False, "quick trusts size + mtime"
    changed, result = sync_release(params(release_mirror, dest, base, verify_existing="full"))
    assert changed and result["fetched"] == [KERNEL]
    original = os.path.join(release_mirror.root, RELEASE.lstrip("/") % "3975.2.0", KERNEL)
    assert kernel.read_bytes() == open(original, "rb").read()


def test_changed_file_is_refetched_by_a_quick_rerun(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    sync_release(params(release_mirror, dest, base))
    (dest / "3975.2.0" / INITRD).write_bytes(b"truncated")
    changed, result = sync_release(params(release_mirror, dest, base))
    assert changed and result["fetched"] == [INITRD]


@pytest.mark.parametrize("fault, message", [
    ({"wrong_digest": [IMAGE]}, "digest mismatch for %s" % IMAGE),
    ({"bad_signature": [IMAGE]}, "bad signature on %s" % IMAGE),
    ({"pxe": False}, "release 3975.2.1 has no %s \\(the release has no PXE files\\)" % KERNEL),
])
def test_bad_release_installs_nothing_and_keeps_the_last_good_one(release_mirror, tmp_path, fault, message):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    sync_release(params(release_mirror, dest, base))
    release_mirror.add_flatcar("3975.2.1", **fault)
    with pytest.raises(NetbootError, match=message):
        sync_release(params(release_mirror, dest, base))
    assert os.readlink(str(dest / "current")) == "3975.2.0"
    assert not (dest / "3975.2.1").exists()
    assert not [p for p in listing(dest / STAGING) if p.endswith(IMAGE + ".part")], "no bad data kept to resume"
    if fault.get("pxe") is False:
        assert not release_mirror.requested("3975.2.1/" + IMAGE), "nothing downloaded before the metadata check"


def test_missing_signature_is_refused(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    os.unlink(os.path.join(release_mirror.root, RELEASE.lstrip("/") % "3975.2.0", INITRD + ".sig"))
    with pytest.raises(NetbootError, match="missing signature for %s" % INITRD):
        sync_release(params(release_mirror, tmp_path / "repo", base))
    assert not (tmp_path / "repo" / "3975.2.0").exists() and not (tmp_path / "repo" / "current").exists()


def test_interrupted_sync_resumes_on_the_next_run(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 2 * 1024 * 1024})
    dest = tmp_path / "repo"
    release_mirror.fault(RELEASE % "3975.2.0" + IMAGE, "drop")
    with pytest.raises(NetbootError, match="connection closed after 1048576 of 2097152 bytes"):
        sync_release(params(release_mirror, dest, base, retries=0))
    assert not (dest / "3975.2.0").exists() and not (dest / "current").exists()
    assert (dest / STAGING / "3975.2.0" / (IMAGE + ".part")).stat().st_size == 1024 * 1024
    changed, result = sync_release(params(release_mirror, dest, base))
    assert changed and result["files"][2]["verified"]
    assert release_mirror.requested(IMAGE)[-1]["range"] == "bytes=1048576-"
    assert not (dest / STAGING / "3975.2.0").exists()


def test_keep_prunes_the_oldest_but_never_the_current_one(release_mirror, tmp_path):
    dest = tmp_path / "repo"
    for version in ("3760.2.0", "3815.2.0", "3975.2.0"):
        base = release_mirror.add_flatcar(version)
        sync_release(params(release_mirror, dest, base, version=version, artifacts=["kernel"], keep=2))
    assert sorted(os.listdir(str(dest))) == [".keys", STAGING, "3815.2.0", "3975.2.0", "current"]
    os.makedirs(str(dest / "manual-files"))
    os.makedirs(str(dest / STAGING / "3975.2.0"))  # an abandoned download of a version that will be pruned
    # pin current to the oldest, then sync a newer version without switching: current stays, others go
    sync_release(params(release_mirror, dest, base, version="3815.2.0", artifacts=["kernel"]))
    base = release_mirror.add_flatcar("4081.2.0")
    changed, result = sync_release(params(release_mirror, dest, base, version="4081.2.0", artifacts=["kernel"],
                                          keep=1, set_current=False))
    assert changed and result["pruned"] == ["3975.2.0"] and result["current"] == "3815.2.0"
    assert sorted(os.listdir(str(dest))) == [".keys", STAGING, "3815.2.0", "4081.2.0", "current", "manual-files"]
    assert os.listdir(str(dest / STAGING)) == [".lock"]


def test_prune_plan_and_version_order():
    assert sorted(["3975.10.0", "3975.2.0", "40.20240416.3.1"], key=version_key) == [
        "40.20240416.3.1", "3975.2.0", "3975.10.0"]
    assert prune_plan(["1", "2", "3", "4"], 2, {"1"}) == ["2", "3"]
    assert prune_plan(["1", "2"], None, set()) == []


def test_fedora_coreos_sync_takes_names_and_sha256_from_the_stream(release_mirror, tmp_path):
    base = release_mirror.add_fcos("41.20241027.3.0")
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base, distro="fedora-coreos",
                                          gpg_fingerprint=None))
    assert changed and result["version"] == "41.20241027.3.0"
    assert result["artifacts"] == {
        "kernel": "fedora-coreos-41.20241027.3.0-live-kernel.x86_64",
        "initramfs": "fedora-coreos-41.20241027.3.0-live-initramfs.x86_64.img",
        "rootfs": "fedora-coreos-41.20241027.3.0-live-rootfs.x86_64.img",
        "image": "fedora-coreos-41.20241027.3.0-metal.x86_64.raw.xz"}
    assert all(len(f["sha256"]) == 64 and f["verified"] for f in result["files"])
    assert (tmp_path / "repo" / "41.20241027.3.0" / (result["artifacts"]["image"] + ".sig")).exists()


def test_fedora_coreos_wrong_sha256_is_refused(release_mirror, tmp_path):
    base = release_mirror.add_fcos("41.20241027.3.0", wrong_digest=["fedora-coreos-41.20241027.3.0-live-rootfs.x86_64.img"])
    with pytest.raises(NetbootError, match="digest mismatch for fedora-coreos-41.20241027.3.0-live-rootfs"):
        sync_release(params(release_mirror, tmp_path / "repo", base, distro="fedora-coreos", gpg_fingerprint=None))
    assert not (tmp_path / "repo" / "41.20241027.3.0").exists()


def test_legacy_coreos_sync(release_mirror, tmp_path):
    base = release_mirror.add_coreos("1122.2.0")
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base, distro="coreos",
                                          version="1122.2.0"))
    assert changed and result["artifacts"]["kernel"] == "coreos_production_pxe.vmlinuz"
    assert result["artifacts"]["image"] == "coreos_production_image.bin.bz2"


def test_verify_false_still_checks_digests_and_warns(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", bad_signature=[KERNEL])
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base, verify=False))
    assert changed and not any(f["verified"] for f in result["files"])
    assert "signatures of the fetched files were not checked" in result["warnings"][0]
    assert not (tmp_path / "repo" / "3975.2.0" / (KERNEL + ".sig")).exists()
    # turning verification on later verifies what is there by fetching it again
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base, artifacts=["image"]))
    assert changed and result["files"][0]["verified"]


def test_dest_that_is_a_file_is_refused(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NetbootError, match="dest .*/file is not a directory"):
        sync_release(params(release_mirror, tmp_path / "file", base))
    with pytest.raises(NetbootError, match="dest .*/file/repo is not writable: Not a directory"):
        sync_release(params(release_mirror, tmp_path / "file" / "repo", base))


def test_current_that_is_not_a_symlink_is_refused(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    os.makedirs(str(tmp_path / "repo" / "current"))
    with pytest.raises(NetbootError, match="current exists and is not a symlink"):
        sync_release(params(release_mirror, tmp_path / "repo", base))


def test_disk_full_installs_nothing(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 2 * 1024 * 1024})
    dest = tmp_path / "small"
    dest.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(dest)], capture_output=True,
                           check=False)
    if mount.returncode:
        pytest.skip("needs root to mount a small tmpfs: %s" % mount.stderr.decode().strip())
    try:
        with pytest.raises(NetbootError, match="not enough space for %s: it needs 2097152 more bytes" % IMAGE):
            sync_release(params(release_mirror, dest, base))
        assert listing(dest) == [".keys", ".keys/" + os.listdir(str(dest / ".keys"))[0], STAGING,
                                 STAGING + "/.lock", STAGING + "/3975.2.0"] + sorted(
            STAGING + "/3975.2.0/" + n for n in os.listdir(str(dest / STAGING / "3975.2.0")))
        assert not (dest / "3975.2.0").exists() and not (dest / "current").exists()
    finally:
        subprocess.run(["umount", str(dest)], check=True)


def test_manifest_records_what_a_rerun_compares(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    sync_release(params(release_mirror, tmp_path / "repo", base, artifacts=["kernel"]))
    manifest = json.loads((tmp_path / "repo" / "3975.2.0" / MANIFEST).read_text())
    entry = manifest["files"]["kernel"]
    stat = (tmp_path / "repo" / "3975.2.0" / KERNEL).stat()
    assert entry["name"] == KERNEL and entry["size"] == stat.st_size and entry["mtime_ns"] == stat.st_mtime_ns
    assert entry["algo"] == "sha512" and entry["verified"] and entry["signature"]["name"] == KERNEL + ".sig"


@pytest.mark.parametrize("option, value, message", [
    ("keep", 0, "invalid keep 0: it must be 1 or more"),
    ("timeout", 0, "invalid timeout 0: it must be 1 or more"),
    ("retries", -1, "invalid retries -1: it must be 0 or more"),
])
def test_numeric_options_are_checked_before_anything_happens(release_mirror, tmp_path, option, value, message):
    with pytest.raises(NetbootError, match=message):
        sync_release(params(release_mirror, tmp_path / "repo", "http://127.0.0.1:1", **{option: value}))
    assert not (tmp_path / "repo").exists()


def test_extra_release_file_by_name(release_mirror, tmp_path):
    """The http_repo role asks for the VMware OEM image by its file name instead of the generic image."""
    oem = "flatcar_production_vmware_raw_image.bin.bz2"
    base = release_mirror.add_flatcar("3975.2.0", extra_files=[oem])
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base,
                                          artifacts=["kernel", "initramfs", oem]))
    assert changed and result["artifacts"] == {"kernel": KERNEL, "initramfs": INITRD, oem: oem}
    assert (tmp_path / "repo" / "3975.2.0" / (oem + ".sig")).exists()
    assert result["files"][2]["verified"] and not (tmp_path / "repo" / "3975.2.0" / IMAGE).exists()


def test_legacy_coreos_without_a_key_asks_for_one(release_mirror, tmp_path):
    base = release_mirror.add_coreos("1122.2.0")
    with pytest.raises(NetbootError, match="coreos has no official key URL any more: set gpg_key"):
        sync_release(params(release_mirror, tmp_path / "repo", base, distro="coreos", version="1122.2.0",
                            gpg_key=None))
    assert not (tmp_path / "repo").exists()


def test_concurrent_syncs_of_one_dest_take_turns(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    (dest / STAGING).mkdir(parents=True)
    results = []
    with open(str(dest / STAGING / ".lock"), "w") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another run holds the repository
        worker = threading.Thread(target=lambda: results.append(sync_release(params(release_mirror, dest, base))))
        worker.start()
        time.sleep(1)
        assert worker.is_alive() and not results and not (dest / "3975.2.0").exists()
    worker.join(60)
    assert results and results[0][0] and (dest / "3975.2.0").exists()


@pytest.mark.parametrize("overrides, message", [
    ({"version": "9999.0.0"}, "flatcar version '9999.0.0' not found"),
    ({"channel": "beta", "base_url": "{mirror}/flatcar/{channel}"}, "channel 'beta' is missing on the mirror"),
    ({"base_url": "ftp://127.0.0.1/flatcar/stable"}, "base_url 'ftp://127.0.0.1/flatcar/stable' is not an http"),
    ({"gpg_key": "/nonexistent/key.asc"}, "gpg_key /nonexistent/key.asc is neither an http\\(s\\) URL nor a file"),
    ({"gpg_key": "ftp://keys.example.com/k.asc"}, "gpg_key ftp://keys.example.com/k.asc is neither"),
    ({"gpg_fingerprint": "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"}, "not the pinned F88CFEDE"),
])
@pytest.mark.parametrize("check_mode", [False, True])
def test_input_errors_create_nothing(release_mirror, tmp_path, overrides, message, check_mode):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    if "base_url" in overrides:
        overrides = dict(overrides, base_url=overrides["base_url"].replace("{mirror}", release_mirror.url))
    with pytest.raises(NetbootError, match=message):
        sync_release(params(release_mirror, dest, base, **overrides), check_mode)
    assert not dest.exists(), "nothing may be created before the inputs are known good"
    assert not release_mirror.requested(IMAGE), "no download before the inputs are known good"


def test_release_without_pxe_files_creates_nothing(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0", pxe=False)
    with pytest.raises(NetbootError, match="release 3975.2.0 has no %s" % KERNEL):
        sync_release(params(release_mirror, tmp_path / "repo", base))
    assert not (tmp_path / "repo").exists()


def test_failed_download_keeps_current_and_installed_versions(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    sync_release(params(release_mirror, dest, base))
    installed = dest / "3975.2.0"
    before = {p: (installed / p).stat().st_mtime_ns for p in listing(installed)}
    release_mirror.add_flatcar("3975.2.1")
    release_mirror.fault(RELEASE % "3975.2.1" + IMAGE, "error", times=5, status=503)
    with pytest.raises(NetbootError, match="HTTP 503"):
        sync_release(params(release_mirror, dest, base))
    assert os.readlink(str(dest / "current")) == "3975.2.0" and not (dest / "3975.2.1").exists()
    assert {p: (installed / p).stat().st_mtime_ns for p in listing(installed)} == before


def test_fedora_coreos_files_come_from_base_url_with_a_verbatim_upstream_stream(release_mirror, tmp_path):
    base = release_mirror.add_fcos("41.20241027.3.0", upstream_locations=True)
    changed, result = sync_release(params(release_mirror, tmp_path / "repo", base, distro="fedora-coreos",
                                          gpg_fingerprint=None, gpg_key=release_mirror.key_path))
    assert changed and all(f["verified"] and f["fetched"] for f in result["files"])
    for item in result["files"]:
        assert release_mirror.requested("/builds/41.20241027.3.0/x86_64/" + item["name"]), item["name"]


def test_fedora_coreos_stream_missing_on_the_mirror_says_so(release_mirror, tmp_path):
    base = release_mirror.add_fcos("41.20241027.3.0")
    with pytest.raises(NetbootError, match="stream 'next' is missing on the mirror"):
        sync_release(params(release_mirror, tmp_path / "repo", base, distro="fedora-coreos", channel="next",
                            gpg_fingerprint=None, gpg_key=release_mirror.key_path))
    assert not (tmp_path / "repo").exists()
