"""Benchmark netboot.coreos.coreos_repo_sync against curl (and curl, sha512sum, gpgv side by side) on one
loopback release mirror (tests/fixtures/release_mirror.py: a real HTTP server on 127.0.0.1).

Rows (medians of ``--runs`` cold syncs, default 5, each into an empty destination after ``sync``):
  1. link-bound: the mirror paced at 120 MB/s; the module's own process (as Ansible's worker runs it: an args
     file on argv) against ``curl`` fetching the same three files; target: the module >= 95 % of curl's speed;
  2. CPU-bound: the mirror unpaced; the module's process against the floor of the same work done by separate
     tools side by side (at once): ``curl`` downloading the files, ``sha512sum`` hashing them and ``gpgv``
     checking their signatures (on the mirror's copies); targets: wall <= 1.2x the floor's (the longest of the
     three), CPU seconds <= 1.1x the floor's (the sum of the three);
  3. the whole playbook (ansible-playbook with the one task) beside them, on the paced mirror (no target);
  4. the no-op rerun (module process and whole playbook) as the version present grows (``--sizes``, default
     1,2,4,8 GiB); target: flat (the largest size's median <= the smallest's + 0.25 s).
The module also fsyncs what it writes; curl does not (every run starts after ``sync``, so neither pays for
the other's dirty pages).

Run: ``.venv/bin/python benchmarks/repo_sync.py [--runs 5] [--sizes 1,2,4,8] [--pace-mb 120]``. The 1 GiB
release (kernel, initramfs, install image) is generated, signed, served and synced for real; for the no-op
ladder the version grows with hard links of the synced install image recorded in its manifest as further
artifacts, so the module checks N GiB of files without generating and signing 7 GiB more.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile

import benchlib

from release_mirror import FLATCAR_NAMES, ReleaseMirror  # noqa: E402  pylint: disable=wrong-import-order,import-error

GIB = 1024 ** 3
MIB = 1024 ** 2
VERSION = "3975.2.0"
# realistic proportions: Flatcar's PXE kernel, PXE initramfs and install image add up to about 1 GiB
SIZES_1GIB = {"kernel": 64 * MIB, "initramfs": 448 * MIB, "image": 512 * MIB}
KEYS = ("kernel", "initramfs", "image")
TARGET_LINK, TARGET_WALL, TARGET_CPU, TARGET_FLAT = 0.95, 1.2, 1.1, 0.25

# the same work by separate tools side by side (three lanes at once, the wall is the longest, the CPU the sum):
# curl downloads the files, sha512sum hashes them and gpgv checks their signatures on the mirror's copies
# ($1: release URL, $2: keyring, $3: output directory, $4: the mirror's release directory, then the names)
FLOOR = """set -eu
url=$1 keyring=$2 out=$3 src=$4
shift 4
for name; do curl -sSf -o "$out/$name" "$url/$name"; done & fetch=$!
(cd "$src" && sha512sum "$@" > /dev/null) & hash=$!
for name; do gpgv --keyring "$keyring" "$src/$name.sig" "$src/$name" 2> /dev/null; done & check=$!
wait $fetch
wait $hash
wait $check
"""


def module_process(workdir, args):
    """One run of the module's own process: a benchlib.Run with ``.result``; exits on failure."""
    return benchlib.module_process("coreos_repo_sync", workdir, args)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.sync()


def cold_runs(workdir, runs, module_args, release_url, keyring, source, with_floor, with_playbook):
    """Measured wall times (and CPU for the module and the floor) of ``runs`` cold syncs of each tool."""
    dest, out = module_args["dest"], os.path.join(workdir, "out")
    names = [FLATCAR_NAMES[k] for k in KEYS]
    book = benchlib.write_playbook(workdir, "cold", [{"name": "Sync", "netboot.coreos.coreos_repo_sync": module_args}])
    figures = {k: benchlib.Measured() for k in ("curl", "module", "module_cpu", "floor", "floor_cpu", "playbook")}
    for _run in range(runs):
        fresh(out)
        os.makedirs(out)
        run = benchlib.timed(["curl", "-sSf"] + sum([["-o", os.path.join(out, n), "%s/%s" % (release_url, n)]
                                                     for n in names], []))
        figures["curl"].add(run.wall)
        if with_floor:
            fresh(out)
            os.makedirs(out)
            run = benchlib.timed(["bash", "-c", FLOOR, "floor", release_url, keyring, out, source] + names)
            figures["floor"].add(run.wall)
            figures["floor_cpu"].add(run.cpu)
        fresh(dest)
        run = module_process(workdir, module_args)
        assert run.result["changed"] and all(f["verified"] for f in run.result["files"]), run.result
        figures["module"].add(run.wall)
        figures["module_cpu"].add(run.cpu)
        if with_playbook:
            fresh(dest)
            figures["playbook"].add(benchlib.run_playbook(book).wall)
    fresh(out)
    return figures


def speed(measured, total):
    """``117.3 MB/s (110.2-119.0, 5 runs)`` from wall times."""
    return benchlib.spread([total / 1e6 / value for value in measured.values], "MB/s", 1)


def grow_version(version_dir, size_gib):
    """Add hard links of the install image (512 MiB) until the version holds ``size_gib`` GiB; return the artifacts."""
    manifest_path = os.path.join(version_dir, ".manifest.json")
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    image = manifest["files"]["image"]
    extras = (size_gib * GIB - sum(SIZES_1GIB.values())) // SIZES_1GIB["image"]
    for index in range(extras):
        name = "extra_%02d.bin" % index
        if name not in manifest["files"]:
            for suffix in ("", ".sig"):
                os.link(os.path.join(version_dir, image["name"] + suffix), os.path.join(version_dir, name + suffix))
            manifest["files"][name] = dict(image, name=name, signature=dict(image["signature"], name=name + ".sig"))
    with open(manifest_path + ".tmp", "w") as handle:
        json.dump(manifest, handle)
    os.rename(manifest_path + ".tmp", manifest_path)
    return list(KEYS) + ["extra_%02d.bin" % i for i in range(extras)]


def noop_ladder(workdir, runs, module_args, sizes):
    """The no-op rerun's module process and whole playbook as the version grows; the flatness row."""
    version_dir = os.path.join(module_args["dest"], VERSION)
    process = {}
    for size in sizes:
        args = dict(module_args, artifacts=grow_version(version_dir, size))
        book = benchlib.write_playbook(workdir, "noop-%d" % size, [{"name": "Sync",
                                                                   "netboot.coreos.coreos_repo_sync": args}])
        process[size], playbook = benchlib.Measured(), benchlib.Measured()
        for _run in range(runs):
            run = module_process(workdir, args)
            assert not run.result["changed"] and len(run.result["files"]) == len(args["artifacts"]), run.result
            process[size].add(run.wall)
            playbook.add(benchlib.run_playbook(book).wall)
        process[size].row("no-op rerun, %d GiB present, the module's process" % size)
        playbook.row("no-op rerun, %d GiB present, whole playbook" % size)
    low, high = process[sizes[0]], process[sizes[-1]]
    grew = high.median() - low.median()
    benchlib.row("no-op rerun, module process, %d GiB -> %d GiB present" % (sizes[0], sizes[-1]),
                 "%.3f s -> %.3f s (%+.3f s)" % (low.median(), high.median(), grew),
                 "flat: <= +%.2f s" % TARGET_FLAT, grew <= TARGET_FLAT, low.load_before, high.load_after)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1,2,4,8", help="GiB of artifacts present for the no-op runs")
    parser.add_argument("--pace-mb", type=float, default=120.0, help="the link-bound mirror's pace, MB/s")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    total = sum(SIZES_1GIB.values())
    with tempfile.TemporaryDirectory(prefix="bench-repo-sync-") as workdir:
        print("coreos_repo_sync: generating a %.2f GiB signed Flatcar release on a loopback mirror ..."
              % (total / GIB), flush=True)
        with ReleaseMirror(os.path.join(workdir, "mirror")) as mirror:
            base = mirror.add_flatcar(VERSION, sizes=SIZES_1GIB)
            release_url = "%s/amd64-usr/%s" % (base, VERSION)
            source = os.path.join(mirror.root, release_url[len(mirror.url) + 1:])
            keyring = os.path.join(workdir, "keyring.gpg")
            with open(mirror.key_path, "rb") as armored, open(keyring, "wb") as binary:
                subprocess.run(["gpg", "--dearmor"], stdin=armored, stdout=binary, check=True)
            module_args = dict(dest=os.path.join(workdir, "repo"), base_url=base, version=VERSION,
                               gpg_key=mirror.key_path, gpg_fingerprint=mirror.key.fingerprint)
            print("cold sync of %.2f GiB (3 files), medians (min-max) of %d runs" % (total / GIB, args.runs))

            mirror.pace = args.pace_mb * 1e6
            link = cold_runs(workdir, args.runs, module_args, release_url, keyring, source, False, True)
            link["curl"].row("cold 1 GiB, link-bound (mirror paced at %.0f MB/s), curl" % args.pace_mb,
                             figure=speed(link["curl"], total))
            link["module"].row("cold 1 GiB, link-bound, the module's process", figure=speed(link["module"], total))
            share = link["curl"].median() / link["module"].median()
            benchlib.row("cold 1 GiB, link-bound, the module's process against curl (medians)",
                         "%.1f %% of curl's speed" % (100 * share), ">= %.0f %%" % (100 * TARGET_LINK),
                         share >= TARGET_LINK, link["curl"].load_before, link["module"].load_after)
            link["playbook"].row("cold 1 GiB, link-bound, whole playbook (%.1f %% of curl's speed)"
                                 % (100 * link["curl"].median() / link["playbook"].median()),
                                 figure=speed(link["playbook"], total))

            mirror.pace = None
            cpu = cold_runs(workdir, args.runs, module_args, release_url, keyring, source, True, False)
            cpu["curl"].row("cold 1 GiB, CPU-bound (loopback, unpaced), curl alone (verifies nothing)",
                            figure=speed(cpu["curl"], total))
            cpu["floor"].row("cold 1 GiB, CPU-bound, curl, sha512sum, gpgv side by side, wall")
            cpu["floor_cpu"].row("cold 1 GiB, CPU-bound, curl, sha512sum, gpgv side by side, CPU",
                                 figure=cpu["floor_cpu"].spread("CPU-s"))
            cpu["module"].row("cold 1 GiB, CPU-bound, the module's process, wall")
            cpu["module_cpu"].row("cold 1 GiB, CPU-bound, the module's process, CPU",
                                  figure=cpu["module_cpu"].spread("CPU-s"))
            wall = cpu["module"].median() / cpu["floor"].median()
            benchlib.row("cold 1 GiB, CPU-bound, the module's wall against the side-by-side floor (medians)",
                         "%.2fx" % wall, "<= %.1fx" % TARGET_WALL, wall <= TARGET_WALL,
                         cpu["curl"].load_before, cpu["module"].load_after)
            used = cpu["module_cpu"].median() / cpu["floor_cpu"].median()
            benchlib.row("cold 1 GiB, CPU-bound, the module's CPU against the side-by-side floor (medians)",
                         "%.2fx" % used, "<= %.1fx" % TARGET_CPU, used <= TARGET_CPU,
                         cpu["curl"].load_before, cpu["module"].load_after)

            noop_ladder(workdir, args.runs, module_args, sizes)


if __name__ == "__main__":
    main()
