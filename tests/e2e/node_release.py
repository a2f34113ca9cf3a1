"""The test release a QEMU node boots: a real Debian kernel, an initramfs running the real Ignition, a disk image.

The real Flatcar image cannot be had here, so the release stands in for it with real parts:
- the kernel is the exact Debian package linux-image-amd64 depends on (its vmlinuz and the modules a VMware
  node needs: vmxnet3, e1000e, virtio-net, pvscsi, virtio-scsi, ext4, vfat);
- the initramfs holds busybox, the real Ignition binary of Debian's `ignition` package (with its libraries),
  shadow's useradd/usermod, and guest/init, which runs Ignition as Flatcar's initramfs does (platform metal,
  ignition.config.url from /proc/cmdline on the PXE boot; the OEM partition's config.ign on the first disk
  boot), plus guest/flatcar-install, a stand-in with flatcar-install's options and result on disk;
- the install image (flatcar_production[_<oem>]_image.bin.bz2) is a GPT disk laid out like Flatcar's: an ESP
  (partition 1) with SYSLINUX for BIOS and EFI, the kernel, the initramfs and flatcar/first_boot; the OEM
  partition 6 (ext4, oem-release names the OEM: vmware_raw carries open-vm-tools); the root partition 9 (ext4
  with core in /etc/passwd, as Flatcar's base layout has it).
Every piece is built once and cached under build/e2e, keyed by what it is made of.
"""

import bz2
import fcntl
import functools
import glob
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from real_ignition import IGNITION, IGNITION_VALIDATE  # pylint: disable=import-error

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(REPO, "build", "e2e")
GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")
# the modules a VMware-like node needs; their dependencies are added from each module's .modinfo
# (the crypto ones first: crc_t10dif, crc64_rocksoft and ext4 ask the crypto API for them when they load)
MODULES = ("crct10dif_generic", "crc64_rocksoft_generic", "crc32c_generic", "vmxnet3", "e1000e", "virtio_net",
           "virtio_pci", "vmw_pvscsi", "virtio_scsi", "sd_mod", "ext4", "vfat", "nls_cp437", "nls_ascii")
SHADOW_TOOLS = ("/usr/sbin/useradd", "/usr/sbin/usermod", "/usr/sbin/groupadd")
SYSLINUX_BIOS, SYSLINUX_EFI = "/usr/lib/syslinux/modules/bios", "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi"
GPT_MBR = "/usr/lib/syslinux/mbr/gptmbr.bin"
ESP_TYPE, LINUX_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
MIB = 1024 * 1024
# (number, label, start MiB, size MiB) as in Flatcar's layout (EFI-SYSTEM 1, OEM 6, ROOT 9)
PARTITIONS = ((1, "EFI-SYSTEM", 1, 40), (6, "OEM", 41, 8), (9, "ROOT", 49, 16))
IMAGE_MIB = 66
BASE_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/group": "root:x:0:\n",
    "etc/shadow": "root:*:19000:0:99999:7:::\n",
    "etc/gshadow": "root:*::\n",
    # Ignition's files stage ends by relabelling: it reads this file (guest/setfiles is a no-op)
    "etc/selinux/config": "SELINUX=disabled\nSELINUXTYPE=targeted\n",
}
ROOT_FILES = dict(BASE_FILES, **{
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\ncore:x:500:500:Flatcar Admin:/home/core:/bin/sh\n",
    "etc/group": "root:x:0:\ncore:x:500:\n",
    "etc/shadow": "root:*:19000:0:99999:7:::\ncore:*:19000:0:99999:7:::\n",
    "etc/gshadow": "root:*::\ncore:!::\n",
    "etc/os-release": "ID=flatcar\nNAME=\"netboot.coreos test release\"\n",
})
ROOT_OWNERS = {"home/core": (500, 500)}  # Ignition writes core's SSH keys as core
OEM_RELEASE = {"vmware_raw": "ID=vmware_raw\nNAME=\"VMware (open-vm-tools)\"\n"}
SYSLINUX_CFG = """SERIAL 0 115200
DEFAULT flatcar
PROMPT 0
TIMEOUT 0
LABEL flatcar
  LINUX /flatcar/vmlinuz
  INITRD /flatcar/initrd.gz
  APPEND netboot.root=/dev/sda9 console=ttyS0,115200n8
"""


class ReleaseError(AssertionError):
    """A piece of the test release cannot be built (a missing package, a failed tool)."""


def run(*args, **kwargs):
    proc = subprocess.run(args, capture_output=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise ReleaseError("`%s` failed (%d): %s" % (" ".join(args), proc.returncode,
                                                     (proc.stderr or proc.stdout).decode(errors="replace")[-2000:]))
    return proc.stdout


_LOCK_DEPTH = [0]


def cache_lock(function):
    """Run ``function`` holding build/e2e/.lock (re-entrant within a process), so that parallel pytest workers
    build each cached piece once and never see another's half-made one."""
    @functools.wraps(function)
    def locked(*args, **kwargs):
        if _LOCK_DEPTH[0]:
            return function(*args, **kwargs)
        os.makedirs(CACHE, exist_ok=True)
        with open(os.path.join(CACHE, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _LOCK_DEPTH[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                _LOCK_DEPTH[0] -= 1
    return locked


def digest(*parts):
    """A short key of the files (paths) and strings that make up a cached piece."""
    hasher = hashlib.sha256()
    for part in parts:
        if os.path.isfile(part):
            with open(part, "rb") as handle:
                hasher.update(handle.read())
        else:
            hasher.update(part.encode())
    return hasher.hexdigest()[:16]


def kernel_package():
    depends = run("apt-cache", "depends", "linux-image-amd64").decode()
    match = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)", depends)
    if not match:
        raise ReleaseError("linux-image-amd64 names no kernel package (run apt-get update): %s" % depends)
    return match.group(1)


def module_dependencies(path):
    with open(path, "rb") as handle:
        match = re.search(rb"\0depends=([^\0]*)\0", handle.read())
    return [name for name in (match.group(1).decode().split(",") if match else []) if name]


@cache_lock
def kernel():
    """(vmlinuz, modules directory with load-order) of Debian's current kernel package, fetched once."""
    package = kernel_package()
    release = package[len("linux-image-"):]
    target = os.path.join(CACHE, package)
    vmlinuz, modules = os.path.join(target, "vmlinuz"), os.path.join(target, "modules")
    if os.path.exists(os.path.join(modules, "load-order")):
        return vmlinuz, modules
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(modules)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        run("apt-get", "download", "-q", package, cwd=scratch)
        [deb] = glob.glob(os.path.join(scratch, "*.deb"))
        run("sh", "-c", "dpkg-deb --fsys-tarfile '%s' | tar -x -C '%s' './boot/vmlinuz-%s' './lib/modules/%s/kernel'"
            % (deb, scratch, release, release))
        shutil.copy(os.path.join(scratch, "boot", "vmlinuz-" + release), vmlinuz)
        found = {}
        for path in glob.glob(os.path.join(scratch, "lib", "modules", release, "kernel", "**", "*.ko"), recursive=True):
            found[os.path.basename(path)[:-3].replace("-", "_")] = path
        order = []

        def add(name):
            name = name.replace("-", "_")
            if name in order:
                return
            if name not in found:
                raise ReleaseError("kernel %s has no module %s" % (release, name))
            for dependency in module_dependencies(found[name]):
                add(dependency)
            order.append(name)

        for name in MODULES:
            add(name)
        for name in order:
            shutil.copy(found[name], os.path.join(modules, name + ".ko"))
        with open(os.path.join(modules, "load-order"), "w") as handle:
            handle.write("".join(name + ".ko\n" for name in order))
    return vmlinuz, modules


def shared_libraries(binary):
    """The absolute paths of the libraries (and the loader) ``binary`` needs, from ldd."""
    return sorted(set(re.findall(r"(/\S+\.so[.\d]*) \(0x", run("ldd", binary).decode())))


def _write(root, relative, text, mode=0o644):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


def _copy(root, source, relative=None):
    path = os.path.join(root, (relative or source).lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(os.path.realpath(source), path)


def require_tools():
    """The packages the release is built from (Makefile APT_PACKAGES); a clear error naming what is missing."""
    missing = [path for path in (IGNITION, IGNITION_VALIDATE, SYSLINUX_EFI, GPT_MBR, SYSLINUX_BIOS) + SHADOW_TOOLS
               if not os.path.exists(path)]
    missing += [tool for tool in ("busybox", "apt-get", "dpkg-deb", "mkfs.vfat", "mcopy", "syslinux", "mke2fs",
                                  "sfdisk", "ldd") if not shutil.which(tool)]
    if missing:
        raise ReleaseError("the test release needs %s: run `make deps` (packages ignition busybox-static syslinux "
                           "syslinux-efi syslinux-common mtools dosfstools fdisk e2fsprogs passwd)" % ", ".join(missing))


@cache_lock
def initramfs():
    """The gzipped newc initramfs (busybox's cpio: the host has none), built once per content."""
    _vmlinuz, modules = kernel()
    busybox = shutil.which("busybox")
    scripts = sorted(glob.glob(os.path.join(GUEST, "*")))
    key = digest(busybox, IGNITION, *(scripts + sorted(glob.glob(os.path.join(modules, "*"))) + list(SHADOW_TOOLS)))
    target = os.path.join(CACHE, "initramfs-%s.cpio.gz" % key)
    if os.path.exists(target):
        return target
    with tempfile.TemporaryDirectory(dir=CACHE) as root:
        for sub in ("proc", "sys", "dev", "run", "tmp", "var", "root"):
            os.makedirs(os.path.join(root, sub))
        _copy(root, busybox, "/bin/busybox")
        os.symlink("busybox", os.path.join(root, "bin", "sh"))  # /init's interpreter; init installs the rest
        for name, place in (("init", "/init"), ("flatcar-install", "/usr/bin/flatcar-install"),
                            ("systemctl", "/usr/bin/systemctl"), ("setfiles", "/usr/sbin/setfiles"),
                            ("udhcpc.script", "/usr/share/udhcpc/default.script")):
            _copy(root, os.path.join(GUEST, name), place)
        _copy(root, IGNITION, "/usr/bin/ignition")
        for binary in (IGNITION,) + SHADOW_TOOLS:
            if binary != IGNITION:
                _copy(root, binary)
            for library in shared_libraries(binary):
                _copy(root, library)
        for name in os.listdir(modules):
            _copy(root, os.path.join(modules, name), "/lib/modules/" + name)
        for relative, text in BASE_FILES.items():
            _write(root, relative, text)
        names = sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root)
                       for n in dirs + files)
        archive = run("busybox", "cpio", "-o", "-H", "newc", input=("\n".join(names) + "\n").encode(), cwd=root)
    partial = target + ".part"
    with open(partial, "wb") as handle:
        handle.write(gzip.compress(archive, compresslevel=6))
    os.replace(partial, target)
    return target


def _ext4(path, size_mib, label, files, owners=None):
    """An ext4 file system image of ``files`` (mke2fs -d copies the tree with its owners: no mount needed)."""
    with tempfile.TemporaryDirectory(dir=CACHE) as tree:
        for relative, text in files.items():
            _write(tree, relative, text, 0o640 if "shadow" in relative else 0o644)
        for relative, (uid, gid) in (owners or {}).items():
            os.makedirs(os.path.join(tree, relative), exist_ok=True)
            os.chown(os.path.join(tree, relative), uid, gid)
        run("mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-d", tree, path, "%dM" % size_mib)


def _esp(path, size_mib, vmlinuz, initrd):
    run("mkfs.vfat", "-n", "EFI-SYSTEM", "-h", str(PARTITIONS[0][2] * MIB // 512), "-C", path, str(size_mib * 1024))
    with tempfile.TemporaryDirectory(dir=CACHE) as tree:
        _write(tree, "syslinux.cfg", SYSLINUX_CFG)
        _write(tree, "EFI/BOOT/syslinux.cfg", SYSLINUX_CFG)
        _write(tree, "flatcar/first_boot", "")  # Flatcar's image ships it; the first disk boot runs Ignition
        _copy(tree, vmlinuz, "flatcar/vmlinuz")
        _copy(tree, initrd, "flatcar/initrd.gz")
        _copy(tree, SYSLINUX_EFI, "EFI/BOOT/BOOTX64.EFI")
        _copy(tree, os.path.join(os.path.dirname(SYSLINUX_BIOS), "efi64", "ldlinux.e64"), "EFI/BOOT/ldlinux.e64")
        _copy(tree, os.path.join(SYSLINUX_BIOS, "ldlinux.c32"), "ldlinux.c32")
        run("mcopy", "-s", "-i", path, *[os.path.join(tree, name) for name in sorted(os.listdir(tree))], "::/")
    run("syslinux", "--install", path)


@cache_lock
def image(oem=""):
    """flatcar_production[_<oem>]_image.bin.bz2 of the test release (path), built once per content."""
    vmlinuz, _modules = kernel()
    initrd = initramfs()
    key = digest(vmlinuz, initrd, SYSLINUX_EFI, GPT_MBR, SYSLINUX_CFG, repr(PARTITIONS), repr(ROOT_FILES), repr(ROOT_OWNERS),
                 OEM_RELEASE.get(oem, ""))
    name = "flatcar_production_%simage.bin.bz2" % (oem + "_" if oem else "")
    target = os.path.join(CACHE, "image-%s-%s" % (key, name))
    if os.path.exists(target):
        return target
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        disk = os.path.join(scratch, "disk.bin")
        with open(disk, "wb") as handle:
            handle.truncate(IMAGE_MIB * MIB)
        layout = "label: gpt\n" + "".join(
            "disk.bin%d : start=%d, size=%d, type=%s, name=%s%s\n"
            % (number, start * MIB // 512, size * MIB // 512, ESP_TYPE if number == 1 else LINUX_TYPE, label,
               ", attrs=LegacyBIOSBootable" if number == 1 else "")
            for number, label, start, size in PARTITIONS)
        run("sfdisk", "-q", "disk.bin", input=layout.encode(), cwd=scratch)
        pieces = {1: lambda p, s: _esp(p, s, vmlinuz, initrd),
                  6: lambda p, s: _ext4(p, s, "OEM", {"oem-release": OEM_RELEASE[oem]} if oem else {}),
                  9: lambda p, s: _ext4(p, s, "ROOT", ROOT_FILES, ROOT_OWNERS)}
        with open(disk, "r+b") as handle:
            with open(GPT_MBR, "rb") as mbr:
                handle.write(mbr.read(440))  # boot code only: the protective MBR's partition entry stays
            for number, _label, start, size in PARTITIONS:
                piece = os.path.join(scratch, "part%d" % number)
                pieces[number](piece, size)
                with open(piece, "rb") as part:
                    handle.seek(start * MIB)
                    shutil.copyfileobj(part, handle)
        partial = target + ".part"
        with open(disk, "rb") as source, bz2.open(partial, "wb", compresslevel=9) as compressed:
            shutil.copyfileobj(source, compressed, MIB)
    os.replace(partial, target)
    return target


def install(release_dir, artifacts, oem=""):
    """Put the release into the repository's <version>/ directory under the distro's file names."""
    vmlinuz, _modules = kernel()
    built_image = image(oem)
    placed = {artifacts["kernel"]: vmlinuz, artifacts["initramfs"]: initramfs(),
              os.path.basename(built_image).split("-", 2)[2]: built_image}
    os.makedirs(release_dir, exist_ok=True)
    for name, source in placed.items():
        destination = os.path.join(release_dir, name)
        if os.path.lexists(destination):
            os.unlink(destination)
        os.symlink(source, destination)
    return placed
