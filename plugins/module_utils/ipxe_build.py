# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iPXE built from the operator's source: the NIC ROMs and EFI binaries VMware needs, with an embedded chain.

A run first knows all its inputs (the options, the source's identity: a git commit, an archive's SHA-256 or
a tree's digest, the CA files' digests, the embedded script and the build configuration) and compares them
with the manifest of the last build in ``dest``; only when they differ does it stage the source under
``work_dir`` (one tree per source identity, reused by later builds so only changed objects recompile), write
iPXE's named configuration ``config/local/netboot/``, run ``make`` once per platform directory (``bin`` for
BIOS, ``bin-x86_64-efi`` for EFI) and move the results into ``dest``; the manifest is written last, so a
failed build leaves the last good files and manifest in place and the next run builds again.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.ipxe_template import NIC_TYPES

MANIFEST = "ipxe-build.json"
# bumped when the way a build is made changes, so older builds are rebuilt
BUILD_FORMAT = 2
CONFIG_NAME = "netboot"
PLATFORM_DIRS = {"bios": "bin", "efi": "bin-x86_64-efi"}
EFI_TARGETS = ("snponly.efi", "ipxe.efi")
BIOS_TARGETS = ("undionly.kpxe", "ipxe.pxe", "ipxe.lkrn")
PCI_ROM = re.compile(r"^[0-9a-f]{8}\.m?rom$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
URL = re.compile(r"^https?://[^\s\"'\\]+$")
OUTPUT_TAIL = 40


def target_dir(name):
    """The make output directory of target file ``name`` (``bin`` or ``bin-x86_64-efi``); ValidationError if unknown."""
    if name in EFI_TARGETS:
        return PLATFORM_DIRS["efi"]
    if name in BIOS_TARGETS or PCI_ROM.match(name):
        return PLATFORM_DIRS["bios"]
    raise ValidationError(
        "target '%s' is not an iPXE file this module builds: use a PCI ROM <vendor><device>.rom or .mrom "
        "(e.g. 15ad07b0.rom), %s or %s" % (name, ", ".join(BIOS_TARGETS), ", ".join(EFI_TARGETS)))


def wanted_targets(params):
    """The file names to build: each NIC's ROM (NIC_TYPES), snponly.efi when ``efi``, then ``targets``."""
    names = [NIC_TYPES[nic]["rom_file"] for nic in params.get("nics") or []]
    if params.get("efi"):
        names.append("snponly.efi")
    names += params.get("targets") or []
    unique = sorted(set(names))
    if not unique:
        raise ValidationError("nothing to build: give nics (%s), efi=true or targets" % ", ".join(sorted(NIC_TYPES)))
    for name in unique:
        target_dir(name)
    return unique


def embedded_script(boot_url, retries, retry_delay):
    """The iPXE script built into the binaries: DHCP, then chain ``boot_url``, ``retries`` times, then a clear
    console message and exit (the firmware goes on to its next boot device)."""
    return "\n".join([
        "#!ipxe",
        "# netboot.coreos: chain the boot repository directly (built by netboot.coreos.ipxe_build)",
        "set netboot-url %s" % boot_url,
        "set netboot-try:int32 0",
        ":netboot-retry",
        "inc netboot-try",
        "echo netboot.coreos: booting from ${netboot-url} (attempt ${netboot-try} of %d)" % retries,
        # ${errno:hexraw}: the 8 hex digits of https://ipxe.org/<code> (plain ${errno} reads 0x...)
        "dhcp && chain --autofree ${netboot-url} && exit 0 || set netboot-error ${errno:hexraw}",
        "iseq ${netboot-try} %d && goto netboot-failed ||" % retries,
        "sleep %d" % retry_delay,
        "goto netboot-retry",
        ":netboot-failed",
        "echo netboot.coreos: NETWORK BOOT FAILED: ${netboot-url} could not be chained after %d attempts "
        "(error ${netboot-error}: https://ipxe.org/${netboot-error})" % retries,
        "echo netboot.coreos: check the DHCP lease, that the repository server answers, and (https) that its "
        "certificate is signed by the CA this iPXE was built to trust",
        "sleep 10",
        "exit 1",
        "",
    ])


def local_config(https, image_verify, console_serial):
    """iPXE's named configuration (config/local/netboot/<header>): header name -> content."""
    general = ["/* netboot.coreos.ipxe_build */"]
    if https:
        general.append("#define DOWNLOAD_PROTO_HTTPS")  # BIOS builds leave it out by default
    if image_verify:
        general.append("#define IMAGE_TRUST_CMD")  # imgverify, imgtrust
    console = ["/* netboot.coreos.ipxe_build */"]
    if console_serial:
        # BIOS builds only: the EFI build has its own console (CONSOLE_EFI) and its serial port belongs to the
        # firmware, which already mirrors the EFI console there
        console += ["#if defined ( PLATFORM_pcbios )", "#define CONSOLE_SERIAL", "#endif"]
    return {"general.h": "\n".join(general) + "\n", "console.h": "\n".join(console) + "\n"}


def make_commands(tree, targets, embed, trust, jobs, make_args):
    """One make command per platform directory, in a fixed order (BIOS first)."""
    common = ["make", "-C", os.path.join(tree, "src"), "-j%d" % jobs, "NO_WERROR=1", "CONFIG=" + CONFIG_NAME,
              "EMBED=" + embed]
    if trust:
        # TRUST: the only roots iPXE accepts; CERT: the same certificates built in, so no chain download
        common += ["TRUST=" + ",".join(trust), "CERT=" + ",".join(trust)]
    common += list(make_args)
    commands = []
    for platform in ("bios", "efi"):
        paths = ["%s/%s" % (PLATFORM_DIRS[platform], name) for name in targets
                 if target_dir(name) == PLATFORM_DIRS[platform]]
        if paths:
            commands.append(common + paths)
    return commands


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_tree(root):
    return os.path.isfile(os.path.join(root, "src", "Makefile")) and \
        os.path.isfile(os.path.join(root, "src", "config", "general.h"))


def source_tree(path):
    """The iPXE checkout root for ``path``: ``path`` itself, its parent when it is the ``src`` directory, or its
    only subdirectory (an archive's top directory); None when none of them holds src/Makefile."""
    path = os.path.abspath(path)
    candidates = [path]
    if os.path.basename(path) == "src":
        candidates.append(os.path.dirname(path))
    if os.path.isdir(path):
        entries = [os.path.join(path, name) for name in os.listdir(path)]
        subdirs = [entry for entry in entries if os.path.isdir(entry)]
        if len(subdirs) == 1 and len(entries) == 1:
            candidates.append(subdirs[0])
    return next((candidate for candidate in candidates if is_tree(candidate)), None)


def tree_digest(root):
    """SHA-256 over the paths and contents of ``root``'s iPXE sources (build output and .git left out)."""
    digest = hashlib.sha256()
    src = os.path.join(root, "src")
    for current, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != ".git" and not (current == src and d.startswith("bin")))
        for name in sorted(files):
            path = os.path.join(current, name)
            digest.update(os.path.relpath(path, src).encode() + b"\0")
            if os.path.islink(path):
                digest.update(b"link:" + os.readlink(path).encode())
            else:
                digest.update(file_sha256(path).encode())
            digest.update(b"\0")
    return digest.hexdigest()


def run(cmd, what, cwd=None, nice=0, stdin=None):
    """Run ``cmd``; a failure raises NetbootError naming ``what`` with the command and the end of its output."""
    def lower_priority():
        os.nice(nice)
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              preexec_fn=lower_priority if nice else None, check=False)
    except OSError as exc:
        raise NetbootError("%s: cannot run %s: %s" % (what, cmd[0], exc.strerror or exc), cmd=cmd) from None
    output = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-OUTPUT_TAIL:])
        raise NetbootError("%s failed (exit %d): %s\n%s" % (what, proc.returncode, " ".join(cmd), tail),
                           cmd=cmd, rc=proc.returncode, output=tail)
    return output


class Source:
    """Where the iPXE source comes from: ``identity()`` without changing anything, ``stage()`` into work_dir."""

    def __init__(self, params):
        self.git_url, self.git_ref = params.get("git_url"), params.get("git_ref") or "master"
        self.src_dir, self.src_archive = params.get("src_dir"), params.get("src_archive")
        given = [name for name in ("git_url", "src_dir", "src_archive") if params.get(name)]
        if len(given) != 1:
            raise ValidationError("name exactly one iPXE source: git_url (with git_ref), src_dir or src_archive; "
                                  "got %s" % (", ".join(given) or "none"))
        self.kind = {"git_url": "git", "src_dir": "dir", "src_archive": "archive"}[given[0]]
        self.tree = None
        self._id = None

    def check(self):
        """Fail on a source that cannot be used, before anything is changed."""
        if self.kind == "dir":
            self.tree = source_tree(self.src_dir)
            if not self.tree:
                raise ValidationError("src_dir '%s' is not an iPXE source tree: it must hold src/Makefile and "
                                      "src/config/general.h (a clone of https://github.com/ipxe/ipxe)" % self.src_dir)
        elif self.kind == "archive":
            if not os.path.isfile(self.src_archive) or not tarfile.is_tarfile(self.src_archive):
                raise ValidationError("src_archive '%s' is not a readable tar archive (.tar, .tar.gz, .tar.xz, "
                                      ".tar.bz2) of an iPXE source tree" % self.src_archive)
        elif not shutil.which("git"):
            raise ValidationError("git_url needs git on the build host: install it (the role's "
                                  "ipxe_build_install_dependencies: true does)")

    def identity(self):
        """The source's identity: the git commit, the archive's SHA-256 or the tree's digest."""
        if self._id is None:
            if self.kind == "dir":
                self._id = tree_digest(self.tree)
            elif self.kind == "archive":
                self._id = file_sha256(self.src_archive)
            else:
                self._id = self.resolve_ref()
        return self._id

    def resolve_ref(self):
        if COMMIT.match(self.git_ref):
            return self.git_ref
        what = "git ls-remote of git_url '%s'" % self.git_url
        refs = remote_refs(run(["git", "ls-remote", self.git_url, self.git_ref], what))
        for name in ("refs/tags/%s^{}" % self.git_ref, "refs/tags/" + self.git_ref, "refs/heads/" + self.git_ref,
                     self.git_ref):
            if name in refs:
                return refs[name]
        known = sorted(name for name in remote_refs(run(["git", "ls-remote", "--heads", "--tags", self.git_url], what))
                       if not name.endswith("^{}"))
        raise ValidationError("git_ref '%s' is neither a branch nor a tag of '%s' nor a full 40-digit commit; "
                              "branches and tags: %s" % (self.git_ref, self.git_url, ", ".join(known[:30]) or "none"))

    def summary(self):
        location = {"git": self.git_url, "dir": self.src_dir, "archive": self.src_archive}[self.kind]
        return {"kind": self.kind, "location": location, "id": self.identity(),
                "ref": self.git_ref if self.kind == "git" else None}

    def stage(self, work_dir):
        """A private copy of the source under ``work_dir`` (kept for later builds of the same source)."""
        tree = os.path.join(work_dir, "src-%s-%s" % (self.kind, self.identity()[:16]))
        if os.path.isfile(os.path.join(tree, ".netboot-staged")):
            return tree
        staging = tempfile.mkdtemp(prefix=".staging-", dir=work_dir)
        try:
            if self.kind == "dir":
                shutil.copytree(self.tree, os.path.join(staging, "ipxe"), symlinks=True,
                                ignore=lambda path, names: [n for n in names if n == ".git" or (
                                    os.path.basename(path) == "src" and n.startswith("bin"))])
            elif self.kind == "archive":
                with tarfile.open(self.src_archive) as archive:
                    extract(archive, os.path.join(staging, "ipxe"))
            else:
                self.fetch(work_dir, os.path.join(staging, "ipxe"))
            root = source_tree(os.path.join(staging, "ipxe"))
            if not root:
                raise ValidationError("the %s source '%s' holds no iPXE tree (src/Makefile and src/config/general.h)"
                                      % (self.kind, self.summary()["location"]))
            with open(os.path.join(root, ".netboot-staged"), "w") as marker:
                json.dump(self.summary(), marker)
            if os.path.exists(tree):
                shutil.rmtree(tree)  # an earlier copy that never completed
            os.rename(root, tree)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return tree

    def fetch(self, work_dir, dest):
        """The commit's files into ``dest``, through a git repository kept in ``work_dir`` (shallow when the
        server allows fetching the commit, else the branches and tags)."""
        repo = os.path.join(work_dir, "git")
        commit = self.identity()
        if not os.path.isdir(os.path.join(repo, ".git")):
            run(["git", "init", "-q", repo], "git init")
        present = subprocess.run(["git", "-C", repo, "cat-file", "-e", commit + "^{commit}"],
                                 capture_output=True, check=False).returncode == 0
        if not present:
            try:
                run(["git", "-C", repo, "fetch", "-q", "--depth", "1", self.git_url, commit], "git fetch")
            except NetbootError:
                run(["git", "-C", repo, "fetch", "-q", self.git_url, "+refs/heads/*:refs/netboot/heads/*",
                     "+refs/tags/*:refs/netboot/tags/*"], "git fetch of '%s'" % self.git_url)
        archive = subprocess.run(["git", "-C", repo, "archive", "--format=tar", commit], capture_output=True,
                                 check=False)
        if archive.returncode != 0:
            raise ValidationError("commit %s (git_ref '%s') is not in '%s': %s" % (
                commit, self.git_ref, self.git_url, archive.stderr.decode(errors="replace").strip()))
        os.makedirs(dest)
        with tarfile.open(fileobj=_BytesReader(archive.stdout), mode="r|") as stream:
            extract(stream, dest)


def remote_refs(output):
    """git ls-remote output as {ref name: commit}."""
    return dict(reversed(line.split("\t", 1)) for line in output.splitlines() if "\t" in line)


class _BytesReader:
    """A minimal file object over bytes for tarfile's stream mode."""

    def __init__(self, data):
        self.data, self.offset = data, 0

    def read(self, size=-1):
        end = len(self.data) if size < 0 else self.offset + size
        chunk = self.data[self.offset:end]
        self.offset += len(chunk)
        return chunk


def extract(archive, dest):
    """Extract a tar archive refusing members that would land outside ``dest`` (absolute, .., device files)."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(dest, filter="data")
        return
    for member in archive:
        target = os.path.realpath(os.path.join(dest, member.name))
        if not target.startswith(os.path.realpath(dest) + os.sep) or member.isdev() or (
                member.issym() and os.path.isabs(member.linkname)):
            raise ValidationError("the archive member '%s' would be written outside the source tree" % member.name)
        archive.extract(member, dest)


def check_params(params):
    """Everything about the options that can be wrong, before anything is read or changed."""
    boot_url = params["boot_url"]
    if not URL.match(boot_url):
        raise ValidationError("boot_url '%s' must be an http:// or https:// URL without spaces or quotes (the "
                              "repository's boot.ipxe, e.g. http://repo.example.com/coreos/boot.ipxe)" % boot_url)
    if params["retries"] < 1 or params["retry_delay"] < 0:
        raise ValidationError("retries must be 1 or more and retry_delay 0 or more; got retries=%s, retry_delay=%s"
                              % (params["retries"], params["retry_delay"]))
    for path in params.get("trust") or []:
        try:
            with open(path) as handle:
                text = handle.read()
        except (IOError, OSError, UnicodeDecodeError) as exc:
            raise ValidationError("trust: the CA certificate '%s' cannot be read: %s" % (
                path, getattr(exc, "strerror", None) or exc)) from None
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise ValidationError("trust: '%s' is not a PEM certificate (-----BEGIN CERTIFICATE-----)" % path)
    if params.get("image_verify") and not params.get("trust"):
        raise ValidationError("image_verify needs trust: the CA that issued the code-signing certificate (without "
                              "it iPXE would trust only its default root, ca.ipxe.org)")
    missing = [tool for tool in ("make", "gcc", "perl") + (("openssl",) if params.get("trust") else ())
               if not shutil.which(tool)]
    if missing:
        raise ValidationError("the build host lacks %s: install iPXE's build dependencies (the role's "
                              "ipxe_build_install_dependencies: true does)" % ", ".join(missing))


def wanted_manifest(params, source, targets):
    https = params["boot_url"].startswith("https://") or bool(params.get("https"))
    config = local_config(https, bool(params.get("image_verify")), bool(params.get("console_serial")))
    script = embedded_script(params["boot_url"], params["retries"], params["retry_delay"])
    return {
        "format": BUILD_FORMAT,
        "source": {"kind": source.kind, "id": source.identity()},
        "targets": targets,
        "config": config,
        "script": script,
        "trust": [file_sha256(path) for path in params.get("trust") or []],
        "make_args": list(params.get("make_args") or []),
    }


def read_manifest(dest):
    try:
        with open(os.path.join(dest, MANIFEST)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def up_to_date(dest, manifest, recorded):
    """True when ``recorded`` (the last build's manifest) has the same inputs and every file is intact."""
    if not recorded or {k: v for k, v in recorded.items() if k != "files"} != manifest:
        return False
    files = recorded.get("files") or {}
    return set(files) == set(manifest["targets"]) and all(
        os.path.isfile(os.path.join(dest, name)) and file_sha256(os.path.join(dest, name)) == entry["sha256"]
        for name, entry in files.items())


def write_file(path, content):
    """Write ``content`` unless the file already holds it (make rebuilds what depends on a newer file)."""
    try:
        with open(path) as handle:
            if handle.read() == content:
                return
    except (IOError, OSError):
        pass
    with open(path, "w") as handle:
        handle.write(content)


def build(params, source, manifest, work_dir, dest):
    """Stage, configure and make; then move the files into ``dest`` and write the manifest (last)."""
    os.makedirs(work_dir, exist_ok=True)
    tree = source.stage(work_dir)
    config_dir = os.path.join(tree, "src", "config", "local", CONFIG_NAME)
    os.makedirs(config_dir, exist_ok=True)
    for header, content in manifest["config"].items():
        write_file(os.path.join(config_dir, header), content)
    embed = os.path.join(work_dir, "embedded.ipxe")
    write_file(embed, manifest["script"])
    trust = [os.path.abspath(path) for path in params.get("trust") or []]
    jobs = params.get("jobs") or os.cpu_count() or 1
    commands = make_commands(tree, manifest["targets"], embed, trust, jobs, manifest["make_args"])
    started = time.monotonic()
    for cmd in commands:
        run(cmd, "the iPXE build", nice=params.get("nice") or 0)
    duration = time.monotonic() - started
    os.makedirs(dest, exist_ok=True)
    files = {}
    for name in manifest["targets"]:
        built = os.path.join(tree, "src", target_dir(name), name)
        partial = os.path.join(dest, ".%s.tmp" % name)
        shutil.copyfile(built, partial)
        os.chmod(partial, 0o644)
        os.replace(partial, os.path.join(dest, name))
        files[name] = {"sha256": file_sha256(os.path.join(dest, name)), "size": os.path.getsize(built)}
    recorded = dict(manifest, files=files)
    partial = os.path.join(dest, "." + MANIFEST + ".tmp")
    with open(partial, "w") as handle:
        json.dump(recorded, handle, indent=1, sort_keys=True)
    os.replace(partial, os.path.join(dest, MANIFEST))
    return commands, duration, files


def build_ipxe(params, check_mode=False):
    """The module's work: (changed, result). Builds only when the inputs differ from the last build's."""
    check_params(params)
    targets = wanted_targets(params)
    source = Source(params)
    source.check()
    dest = params["dest"]
    work_dir = params.get("work_dir") or os.path.join(dest, ".work")
    manifest = wanted_manifest(params, source, targets)
    recorded = read_manifest(dest)
    changed = not up_to_date(dest, manifest, recorded)
    result = {"source": source.summary(), "dest": dest, "manifest": os.path.join(dest, MANIFEST),
              "files": {name: os.path.join(dest, name) for name in targets},
              "roms": {nic: os.path.join(dest, NIC_TYPES[nic]["rom_file"]) for nic in params.get("nics") or []},
              "efi_binary": os.path.join(dest, "snponly.efi") if params.get("efi") else None,
              "script": manifest["script"], "commands": [], "duration": 0.0,
              "diff": {"before": {"source": (recorded or {}).get("source"), "targets": (recorded or {}).get("targets")},
                       "after": {"source": manifest["source"], "targets": targets}}}
    if changed and not check_mode:
        commands, duration, files = build(params, source, manifest, work_dir, dest)
        result.update(commands=commands, duration=round(duration, 1))
        recorded = dict(manifest, files=files)
    built = recorded if recorded and not (changed and check_mode) else {}
    result["sizes"] = {name: entry["size"] for name, entry in built.get("files", {}).items()}
    return changed, result
