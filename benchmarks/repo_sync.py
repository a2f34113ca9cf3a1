"""Benchmark coreos_repo_sync against ansible.builtin.get_url and curl on one loopback release mirror.

(a) No-op rerun: task time (profile_tasks) of coreos_repo_sync vs get_url with ``checksum:`` on the same
    files, and the whole no-op playbook's wall time, as the version present grows from 1 to 8 GiB. A ping task
    in each playbook shows Ansible's own per-task cost on this machine, and the module's process is also timed
    alone (what the module itself costs).
(b) Cold sync throughput of the module process (digest + streamed GPG checks + fsync included) vs curl
    fetching the same files from the same mirror, and the module's peak memory.

Run: ``.venv/bin/python benchmarks/repo_sync.py [--sizes 1,2,4,8] [--workdir DIR]``; prints the figures.
The 1 GiB release (kernel, initramfs, install image) is generated, signed, served and synced for real. The
version then grows to N GiB with extra 512 MiB files in the version directory, hard links of the synced image
recorded in its manifest as further artifacts: both tools then check N GiB of files (get_url re-hashes each),
without generating and signing another 7 GiB, which would take minutes and measure nothing else.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "fixtures"))
sys.path.insert(0, os.path.join(REPO, "tests"))

from conftest import ansible_env  # noqa: E402  pylint: disable=wrong-import-position
from release_mirror import FLATCAR_NAMES, ReleaseMirror  # noqa: E402  pylint: disable=wrong-import-position

GIB = 1024 ** 3
MIB = 1024 ** 2
VERSION = "3975.2.0"
# realistic proportions: Flatcar's PXE kernel, PXE initramfs and install image add up to about 1 GiB
SIZES_1GIB = {"kernel": 64 * MIB, "initramfs": 448 * MIB, "image": 512 * MIB}


def benchmark_env():
    return ansible_env({"ANSIBLE_PIPELINING": "1", "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"})


PING = {"name": "ping", "ansible.builtin.ping": {}}


def playbook(workdir, name, tasks):
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w") as handle:
        json.dump([{"name": name, "hosts": "localhost", "gather_facts": False,
                    "vars": {"ansible_python_interpreter": sys.executable}, "tasks": [PING] + tasks}], handle)
    return path


def run_playbook(path):
    """Wall time of the ansible-playbook run, the profile_tasks time of each task by name, changed count."""
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local", path]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=benchmark_env(), check=False)
    wall = time.monotonic() - start
    if proc.returncode:
        sys.exit("playbook %s failed:\n%s%s" % (path, proc.stdout[-3000:], proc.stderr[-2000:]))
    tasks = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(.*?) -{3,} (\d+\.\d+)s$", line.strip())
        if match:
            tasks[match.group(1).strip()] = float(match.group(2))
    changed = int(re.search(r"changed=(\d+)", proc.stdout).group(1))
    return wall, tasks, changed


MODULE = [sys.executable, os.path.join(REPO, "plugins", "modules", "coreos_repo_sync.py")]


def run_module_process(workdir, args, command=None):
    """Run a module as Ansible's worker does (args file on argv): wall time, peak RSS (MiB), result."""
    args_path = os.path.join(workdir, "module-args.json")
    with open(args_path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    out_path = os.path.join(workdir, "module-out.json")
    start = time.monotonic()
    with open(out_path, "w") as out:
        proc = subprocess.Popen((command or MODULE) + [args_path], stdout=out, env=benchmark_env())
        status, usage = os.wait4(proc.pid, 0)[1:]
    wall = time.monotonic() - start
    with open(out_path) as handle:
        result = json.load(handle)
    if status or result.get("failed"):
        sys.exit("module run failed: %s" % result.get("msg"))
    return wall, usage.ru_maxrss / 1024.0, result


def sha256_of(path):
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(8 * MIB), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def grow_version(version_dir, size_gib):
    """Add hard links of the install image (512 MiB) until the version holds ``size_gib`` GiB; return all names."""
    manifest_path = os.path.join(version_dir, ".manifest.json")
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    image = manifest["files"]["image"]
    extras = (size_gib * GIB - sum(SIZES_1GIB.values())) // SIZES_1GIB["image"]
    for index in range(extras):
        name = "extra_%02d.bin" % index
        key = name
        if key not in manifest["files"]:
            for suffix in ("", ".sig"):
                os.link(os.path.join(version_dir, image["name"] + suffix), os.path.join(version_dir, name + suffix))
            entry = dict(image, name=name, signature=dict(image["signature"], name=name + ".sig"))
            manifest["files"][key] = entry
    with open(manifest_path + ".tmp", "w") as handle:
        json.dump(manifest, handle)
    os.rename(manifest_path + ".tmp", manifest_path)
    return ["kernel", "initramfs", "image"] + ["extra_%02d.bin" % i for i in range(extras)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,4,8", help="GiB of artifacts present for the no-op runs")
    parser.add_argument("--workdir", help="scratch directory (default: a temporary one, removed after)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.workdir or tempfile.mkdtemp(prefix="repo-sync-bench-")
    total = sum(SIZES_1GIB.values())
    began = time.monotonic()
    try:
        print("generating a %.2f GiB signed Flatcar release on the loopback mirror ..." % (total / GIB), flush=True)
        with ReleaseMirror(os.path.join(workdir, "mirror")) as mirror:
            base = mirror.add_flatcar(VERSION, sizes=SIZES_1GIB)
            release_url = "%s/amd64-usr/%s" % (base, VERSION)
            names = [FLATCAR_NAMES[k] for k in ("kernel", "initramfs", "image")]
            dest = os.path.join(workdir, "repo")
            module_args = dict(dest=dest, base_url=base, version=VERSION, gpg_key=mirror.key_path,
                               gpg_fingerprint=mirror.key.fingerprint)

            # (b) cold sync: curl, then the module process
            curl_dir = os.path.join(workdir, "curl")
            os.makedirs(curl_dir)
            os.sync()  # both start with no dirty pages to write back
            start = time.monotonic()
            subprocess.run(["curl", "-sSf"] + sum([["-o", os.path.join(curl_dir, n), "%s/%s" % (release_url, n)]
                                                   for n in names], []), check=True)
            curl_time = time.monotonic() - start
            os.sync()
            curl_durable = time.monotonic() - start
            shutil.rmtree(curl_dir)
            os.sync()
            cold_time, rss, result = run_module_process(workdir, module_args)
            assert result["changed"] and all(f["verified"] for f in result["files"])
            print("\n(b) cold sync of %.2f GiB (3 files) from the loopback mirror" % (total / GIB))
            print("    curl                     %6.2f s  %7.1f MiB/s" % (curl_time, total / MIB / curl_time))
            print("    curl, then sync          %6.2f s  %7.1f MiB/s  (on disk, as durable as the module's fsync)"
                  % (curl_durable, total / MIB / curl_durable))
            figures = (cold_time, total / MIB / cold_time, 100 * curl_time / cold_time,
                       100 * curl_durable / cold_time, rss)
            print("    coreos_repo_sync module  %6.2f s  %7.1f MiB/s  = %3.0f %% of curl, %3.0f %% of curl+sync  "
                  "(peak RSS %.0f MiB; sha512 + streamed gpg --verify + fsync)" % figures, flush=True)

            # (a) no-op reruns as the version present grows
            version_dir = os.path.join(dest, VERSION)
            image_sha256 = sha256_of(os.path.join(version_dir, FLATCAR_NAMES["image"]))
            digests = dict((n, sha256_of(os.path.join(version_dir, n))) for n in names[:2])
            print("\n(a) no-op rerun with N GiB present (task times from profile_tasks; ping = Ansible's own per-task cost)")
            ping_module = [sys.executable, "-m", "ansible.modules.ping"]
            ping_process = min(run_module_process(workdir, {}, ping_module)[0] for attempt in range(3))
            print("    (a module process that does nothing, ansible.builtin.ping run alone: %.3f s)" % ping_process)
            for header in (("GiB", "repo_sync", "get_url", "ratio", "ping", "repo_sync", "repo_sync"),
                           ("", "task", "task", "", "task", "process", "playbook wall")):
                print("    %-4s %13s %13s %8s %9s %13s %16s" % header)
            for size in sizes:
                artifacts = grow_version(version_dir, size)
                files = dict(digests, **dict((FLATCAR_NAMES.get(a, a), image_sha256) for a in artifacts[2:]))
                sync = {"name": "coreos_repo_sync",
                        "netboot.coreos.coreos_repo_sync": dict(module_args, artifacts=artifacts)}
                wall, tasks, changed = run_playbook(playbook(workdir, "noop-%d" % size, [sync]))
                assert changed == 0, "the module's rerun must change nothing"
                get_url = {"name": "get_url", "ansible.builtin.get_url": {
                    "url": release_url + "/{{ item.key }}", "dest": version_dir + "/{{ item.key }}",
                    "checksum": "sha256:{{ item.value }}"}, "loop": "{{ files | dict2items }}"}
                gu_tasks, gu_changed = run_playbook(playbook(workdir, "geturl-%d" % size, [
                    dict(get_url, vars={"files": files})]))[1:]
                assert gu_changed == 0, "get_url's rerun must change nothing"
                process_time, result = run_module_process(workdir, dict(module_args, artifacts=artifacts))[::2]
                assert not result["changed"] and len(result["files"]) == len(artifacts)
                print("    %-4d %11.3f s %11.2f s %7.1fx %7.2f s %11.3f s %14.2f s" % (
                    size, tasks["coreos_repo_sync"], gu_tasks["get_url"], gu_tasks["get_url"] / tasks["coreos_repo_sync"],
                    tasks["ping"], process_time, wall), flush=True)
            sync = {"name": "coreos_repo_sync", "netboot.coreos.coreos_repo_sync": dict(module_args, version="current")}
            wall, tasks, changed = run_playbook(playbook(workdir, "noop-current", [sync]))
            print("    version: current (one version.txt GET): task %.3f s, ping %.2f s, playbook %.2f s, changed=%d"
                  % (tasks["coreos_repo_sync"], tasks["ping"], wall, changed))
        took = (time.monotonic() - began, os.getloadavg()[0], os.cpu_count())
        print("\nbenchmark took %.0f s; load average %.1f on %d CPUs" % took)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
