"""ipxe_build without compiling iPXE: targets, the embedded script, the make commands, the manifest and the
sources (a tree, an archive, a git repository), run with the real make against the stand-in iPXE tree of
tests/fixtures/ipxe_tree.py (the real build is tests/e2e/test_ipxe_build.py)."""

import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import ipxe_build as ib
from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ipxe_tree import make_tree  # pylint: disable=import-error

BOOT_URL = "http://10.0.0.2/coreos/boot.ipxe"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "ipxe")


def params(tmp_path, **changes):
    base = dict(git_url=None, git_ref="master", src_dir=None, src_archive=None, dest=str(tmp_path / "out"),
                work_dir=str(tmp_path / "work"), nics=["vmxnet3"], efi=False, targets=[], boot_url=BOOT_URL,
                retries=3, retry_delay=5, https=False, trust=[], image_verify=False, console_serial=False,
                make_args=[], jobs=1, nice=0)
    base.update(changes)
    return base


def test_targets_come_from_the_nic_types_efi_and_extra_names():
    assert ib.wanted_targets({"nics": ["vmxnet3", "e1000", "e1000e"], "efi": True, "targets": ["undionly.kpxe"]}) == [
        "15ad07b0.rom", "8086100f.mrom", "808610d3.mrom", "snponly.efi", "undionly.kpxe"]
    assert ib.target_dir("15ad07b0.rom") == "bin" and ib.target_dir("ipxe.efi") == "bin-x86_64-efi"


@pytest.mark.parametrize("name", ["ipxe.iso", "15ad07b.rom", "../15ad07b0.rom"])
def test_an_unknown_target_is_refused_naming_what_is_valid(name):
    with pytest.raises(ValidationError, match=r"target '%s' is not an iPXE file .* 15ad07b0\.rom.*snponly\.efi"
                       % re.escape(name)):
        ib.wanted_targets({"targets": [name]})


def test_nothing_to_build_is_refused():
    with pytest.raises(ValidationError, match="nothing to build: give nics \\(e1000, e1000e, vmxnet3\\)"):
        ib.wanted_targets({"nics": [], "efi": False, "targets": []})


def test_one_make_per_platform_with_the_embedded_script_and_exactly_the_trusted_cas():
    commands = ib.make_commands("/w/src-x", ["15ad07b0.rom", "8086100f.mrom", "snponly.efi"], "/w/embedded.ipxe",
                                ["/ca/site.crt", "/ca/sign.crt"], 2, ["DEBUG=tls"])
    common = ["make", "-C", "/w/src-x/src", "-j2", "NO_WERROR=1", "CONFIG=netboot", "EMBED=/w/embedded.ipxe",
              "TRUST=/ca/site.crt,/ca/sign.crt", "CERT=/ca/site.crt,/ca/sign.crt", "DEBUG=tls"]
    assert commands == [common + ["bin/15ad07b0.rom", "bin/8086100f.mrom"], common + ["bin-x86_64-efi/snponly.efi"]]
    assert ib.make_commands("/t", ["snponly.efi"], "/e", [], 1, []) == [
        ["make", "-C", "/t/src", "-j1", "NO_WERROR=1", "CONFIG=netboot", "EMBED=/e", "bin-x86_64-efi/snponly.efi"]]


def test_the_embedded_script_chains_the_url_with_retries_then_says_why_it_stopped():
    script = ib.embedded_script("https://repo/coreos/boot.ipxe", 4, 7)
    lines = script.splitlines()
    assert lines[0] == "#!ipxe" and "set netboot-url https://repo/coreos/boot.ipxe" in lines
    assert "dhcp && chain --autofree ${netboot-url} && exit 0 || set netboot-error ${errno:hexraw}" in lines
    assert "iseq ${netboot-try} 4 && goto netboot-failed ||" in lines and "sleep 7" in lines
    assert any(line.startswith("echo netboot.coreos: NETWORK BOOT FAILED") and "after 4 attempts" in line
               for line in lines)
    assert lines[-1] == "exit 1"


def test_the_build_configuration_follows_https_image_verify_and_serial_console():
    assert ib.local_config(False, False, False) == {"general.h": "/* netboot.coreos.ipxe_build */\n",
                                                    "console.h": "/* netboot.coreos.ipxe_build */\n"}
    config = ib.local_config(True, True, True)
    assert "#define DOWNLOAD_PROTO_HTTPS" in config["general.h"] and "#define IMAGE_TRUST_CMD" in config["general.h"]
    # the serial console for the BIOS build only (EFI iPXE writes to the firmware's console, which OVMF mirrors)
    assert "#if defined ( PLATFORM_pcbios )\n#define CONSOLE_SERIAL\n#endif\n" in config["console.h"]


@pytest.mark.parametrize("change, message", [
    ({"boot_url": "tftp://10.0.0.2/boot.ipxe"}, "boot_url 'tftp://10.0.0.2/boot.ipxe' must be an http:// or https://"),
    ({"boot_url": "http://repo/a b"}, "without spaces or quotes"),
    ({"retries": 0}, "retries must be 1 or more and retry_delay 0 or more; got retries=0"),
    ({"image_verify": True}, "image_verify needs trust: the CA that issued the code-signing certificate"),
    ({"trust": ["/nonexistent/ca.crt"]}, "trust: the CA certificate '/nonexistent/ca.crt' cannot be read"),
])
def test_bad_options_are_refused_before_anything_is_made(tmp_path, tree, change, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        ib.build_ipxe(params(tmp_path, src_dir=str(tree), **change))
    assert not os.path.exists(tmp_path / "out") and not os.path.exists(tmp_path / "work")


def test_a_trust_file_that_is_no_pem_certificate_is_refused(tmp_path, tree):
    key = tmp_path / "ca.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(ValidationError, match="trust: '%s' is not a PEM certificate" % key):
        ib.build_ipxe(params(tmp_path, src_dir=str(tree), trust=[str(key)]))


def test_exactly_one_source_is_required(tmp_path, tree):
    with pytest.raises(ValidationError, match="name exactly one iPXE source: .* got none"):
        ib.build_ipxe(params(tmp_path))
    with pytest.raises(ValidationError, match="got git_url, src_dir"):
        ib.build_ipxe(params(tmp_path, git_url="https://example.com/ipxe.git", src_dir=str(tree)))


def test_a_directory_that_is_no_ipxe_tree_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="src_dir '%s' is not an iPXE source tree: it must hold src/Makefile"
                       % (tmp_path / "empty")):
        ib.build_ipxe(params(tmp_path, src_dir=str(tmp_path / "empty")))


def test_builds_once_then_only_when_an_input_changes_and_check_mode_predicts(tmp_path, tree):
    ca = tmp_path / "ca.crt"
    ca.write_text(CA)
    wanted = params(tmp_path, src_dir=str(tree / "src"), nics=["vmxnet3", "e1000"], efi=True, trust=[str(ca)])
    assert ib.build_ipxe(wanted, check_mode=True)[0] is True
    assert not os.path.exists(tmp_path / "out")

    changed, result = ib.build_ipxe(wanted)
    assert changed and len(result["commands"]) == 2
    rom = (tmp_path / "out" / "15ad07b0.rom").read_text()
    assert rom.startswith("target bin/15ad07b0.rom\ntrust %s\ncert %s\n#!ipxe\n" % (ca, ca))
    assert "set netboot-url %s" % BOOT_URL in rom
    assert result["roms"] == {"vmxnet3": str(tmp_path / "out" / "15ad07b0.rom"),
                              "e1000": str(tmp_path / "out" / "8086100f.mrom")}
    assert result["efi_binary"] == str(tmp_path / "out" / "snponly.efi")
    assert result["sizes"]["15ad07b0.rom"] == len(rom)
    manifest = json.loads((tmp_path / "out" / ib.MANIFEST).read_text())
    assert manifest["source"] == {"kind": "dir", "id": ib.tree_digest(str(tree))}
    assert manifest["targets"] == ["15ad07b0.rom", "8086100f.mrom", "snponly.efi"]

    assert ib.build_ipxe(wanted, check_mode=True)[0] is False
    changed, result = ib.build_ipxe(wanted)
    assert not changed and result["commands"] == [] and result["sizes"]["15ad07b0.rom"] == len(rom)

    for change in ({"boot_url": "http://10.0.0.3/coreos/boot.ipxe"}, {"retries": 5}, {"console_serial": True},
                   {"make_args": ["DEBUG=tls"]}, {"efi": False}):
        assert ib.build_ipxe(dict(wanted, **change), check_mode=True)[0] is True, change
    assert (tmp_path / "out" / "15ad07b0.rom").read_text() == rom  # check mode built nothing

    ca.write_text(CA.replace("MIIB", "MIIC"))  # same path, other CA
    assert ib.build_ipxe(wanted, check_mode=True)[0] is True
    ca.write_text(CA)
    (tree / "src" / "config" / "general.h").write_text("/* iPXE, patched */\n")
    assert ib.build_ipxe(wanted, check_mode=True)[0] is True
    assert ib.build_ipxe(wanted)[0] is True and ib.build_ipxe(wanted)[0] is False


def test_a_changed_built_file_is_rebuilt(tmp_path, tree):
    wanted = params(tmp_path, src_dir=str(tree))
    ib.build_ipxe(wanted)
    rom = tmp_path / "out" / "15ad07b0.rom"
    good = rom.read_text()
    rom.write_text("tampered")
    assert ib.build_ipxe(wanted)[0] is True and rom.read_text() == good


def test_the_staged_tree_is_kept_and_the_operators_tree_is_never_written(tmp_path, tree):
    before = sorted(str(p.relative_to(tree)) for p in tree.rglob("*"))
    ib.build_ipxe(params(tmp_path, src_dir=str(tree)))
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == before
    staged = [name for name in os.listdir(tmp_path / "work") if name.startswith("src-")]
    assert staged == ["src-dir-%s" % ib.tree_digest(str(tree))[:16]]
    assert (tmp_path / "work" / staged[0] / "src" / "config" / "local" / "netboot" / "general.h").exists()


def test_a_failed_build_keeps_the_last_good_files_and_says_what_failed(tmp_path, tree):
    wanted = params(tmp_path, src_dir=str(tree))
    ib.build_ipxe(wanted)
    good = (tmp_path / "out" / "15ad07b0.rom").read_text()
    manifest = (tmp_path / "out" / ib.MANIFEST).read_text()
    with pytest.raises(NetbootError) as failure:
        ib.build_ipxe(dict(wanted, boot_url="http://other/boot.ipxe", make_args=["FAIL=missing-header"]))
    assert failure.value.msg.startswith("the iPXE build failed (exit 2): make -C ")
    assert "compiler error: missing-header" in failure.value.msg
    assert (tmp_path / "out" / "15ad07b0.rom").read_text() == good
    assert (tmp_path / "out" / ib.MANIFEST).read_text() == manifest
    assert ib.build_ipxe(wanted)[0] is False


def test_an_archive_with_a_top_directory_is_built_and_keyed_by_its_digest(tmp_path, tree):
    archive = tmp_path / "ipxe.tar.xz"
    with tarfile.open(archive, "w:xz") as handle:
        handle.add(str(tree), arcname="ipxe-1.21.1")
    changed, result = ib.build_ipxe(params(tmp_path, src_archive=str(archive)))
    assert changed and result["source"]["id"] == ib.file_sha256(str(archive))
    assert (tmp_path / "out" / "15ad07b0.rom").read_text().startswith("target bin/15ad07b0.rom")


def test_an_archive_without_an_ipxe_tree_is_refused(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "README").write_text("no iPXE here")
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as handle:
        handle.add(str(tmp_path / "stuff"), arcname="stuff")
    with pytest.raises(ValidationError, match="the archive source '%s' holds no iPXE tree" % archive):
        ib.build_ipxe(params(tmp_path, src_archive=str(archive)))
    assert not os.path.exists(tmp_path / "out")
    with pytest.raises(ValidationError, match="src_archive '.*README' is not a readable tar archive"):
        ib.build_ipxe(params(tmp_path, src_archive=str(tmp_path / "stuff" / "README")))


@pytest.fixture
def git_repo(tmp_path, tree):
    if not shutil.which("git"):
        pytest.skip("needs git")
    repo = tmp_path / "ipxe.git"
    shutil.copytree(tree, repo)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    for cmd in (["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-q", "-m", "iPXE"], ["tag", "v1.0"]):
        subprocess.run(["git", "-C", str(repo)] + cmd, check=True, env=env)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    return "file://%s" % repo, commit


@pytest.mark.parametrize("ref", ["master", "v1.0", "commit"])
def test_a_git_ref_is_resolved_to_its_commit_and_built(tmp_path, git_repo, ref):
    url, commit = git_repo
    wanted = params(tmp_path, git_url=url, git_ref=commit if ref == "commit" else ref)
    assert ib.build_ipxe(wanted, check_mode=True)[1]["source"]["id"] == commit
    changed, result = ib.build_ipxe(wanted)
    assert changed and result["source"] == {"kind": "git", "location": url, "id": commit, "ref": wanted["git_ref"]}
    assert (tmp_path / "work" / ("src-git-" + commit[:16]) / "src" / "Makefile").exists()
    assert ib.build_ipxe(wanted)[0] is False


def test_a_git_ref_that_does_not_exist_is_refused_listing_the_refs(tmp_path, git_repo):
    url, _commit = git_repo
    with pytest.raises(ValidationError, match="git_ref 'v9' is neither a branch nor a tag of '%s' .* branches and "
                       "tags: refs/heads/master, refs/tags/v1.0$" % url):
        ib.build_ipxe(params(tmp_path, git_url=url, git_ref="v9"))
    assert not os.path.exists(tmp_path / "out")
