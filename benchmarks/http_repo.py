"""Benchmark the http_repo role's boot files (tag http_repo_configs), whole ansible-playbook runs on localhost.

For 10, 200 and 1,000 planned nodes (``--counts``), each the median of ``--runs`` runs (default 5):
  - cold: a fresh, empty repository root (every file created);
  - warm: the same plan again on the repository the cold run wrote (nothing changes, changed=0 is checked);
both above an empty playbook (a play with no task: Ansible's own start-up on this machine). The role runs as
site.yml runs it (validation, then the boot files: one netboot.coreos.boot_files call, one file_tree run),
with ``--tags http_repo_configs`` and a release given by name (no nginx, no image sync: a benchmark never
takes over the host's nginx). Targets for 200 nodes (issue 17): <= 5 s cold, <= 2 s warm above an empty
playbook; the 10- and 1,000-node rows have no target. Each wall row is followed by the CPU seconds of the same
runs (ansible-playbook and its children, less an empty playbook's): the figure that moves less with the load.

Run: ``.venv/bin/python benchmarks/http_repo.py [--runs 5] [--counts 10,200,1000]``.
"""

import argparse
import os
import shutil
import tempfile

import benchlib

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfpCwYYdFjjCyym0zgHIMGYcgPUrvqWvGg7lIYg4Zw4 ops@ed25519"
TARGETS = {200: {"cold": 5.0, "warm": 2.0}}
ROLE_VARS = {
    "netboot_base_url": "http://repo.example.com/coreos", "http_repo_sync_images": False,
    "http_repo_version": "3975.2.0", "http_repo_ssh_authorized_keys": [KEY],
    "http_repo_artifacts": {"kernel": "flatcar_production_pxe.vmlinuz",
                            "initramfs": "flatcar_production_pxe_image.cpio.gz",
                            "image": "flatcar_production_vmware_raw_image.bin.bz2"},
    "http_repo_ntp_servers": ["ntp1.example.com"], "http_repo_timezone": "Europe/Berlin",
    # a registration token, so node.ign carries the Rancher join as in production
    "http_repo_rancher": {"provisioning": "v2prov", "token": "bench-token", "ca_checksum": "",
                          "server_url": "https://rancher.example.com"},
}


def role_playbook(workdir, count, root):
    """The role on localhost with a plan of ``count`` nodes, given as the node_plan role leaves it (a fact)."""
    from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan  # pylint: disable=import-outside-toplevel
    plan = build_node_plan(None, cluster_name="bench", count=count, name_format="bench-node{index:04d}",
                           ip_range="10.20.0.0/16")
    return benchlib.write_playbook(
        workdir, "http-repo-%d" % count,
        [{"name": "Boot files", "ansible.builtin.import_role": {"name": "netboot.coreos.http_repo"}}],
        dict(ROLE_VARS, coreos_node_plan=plan, http_repo_root=root))


def changed_count(run):
    """How many tasks reported a change (the minimal callback prints ``localhost | CHANGED =>`` for each)."""
    return sum(1 for line in run.stdout.splitlines() if line.startswith("localhost | CHANGED"))


def measure(workdir, count, runs):
    """{cold, warm: (wall, CPU)} Measured of ``runs`` cold runs on a fresh root, each followed by a warm rerun."""
    root = os.path.join(workdir, "repo-%d" % count)
    book = role_playbook(workdir, count, root)
    args = ["--tags", "http_repo_configs"]
    cold, warm, cold_cpu, warm_cpu = (benchlib.Measured() for _measured in range(4))
    for _run in range(runs):
        shutil.rmtree(root, ignore_errors=True)
        first = benchlib.run_playbook(book, args)
        files = sum(len(names) for _dir, _dirs, names in os.walk(root))
        if files != 1 + 3 * count:
            raise SystemExit("%d nodes: the cold run wrote %d files, expected %d" % (count, files, 1 + 3 * count))
        cold.add(first.wall)
        cold_cpu.add(first.cpu)
        again = benchlib.run_playbook(book, args)
        if changed_count(again):
            raise SystemExit("%d nodes: the warm run changed %d tasks, expected 0" % (count, changed_count(again)))
        warm.add(again.wall)
        warm_cpu.add(again.cpu)
    return {"cold": (cold, cold_cpu), "warm": (warm, warm_cpu)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--counts", default="10,200,1000", help="comma-separated node counts")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print("http_repo boot files (tag http_repo_configs), whole ansible-playbook runs, median (min-max) of %d"
          % args.runs, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-http-repo-") as workdir:
        empty, empty_cpu = benchlib.empty_playbook_cpu(workdir, args.runs)
        empty.row("an empty playbook (Ansible's own start-up)")
        empty_cpu.row("an empty playbook, CPU seconds")
        for count in counts:
            measured_pairs = measure(workdir, count, args.runs)
            for name in ("cold", "warm"):
                measured, cpu = measured_pairs[name]
                above = measured.minus(empty.median())
                target = TARGETS.get(count, {}).get(name)
                what = "http_repo boot files, %d nodes, %s, above an empty playbook" % (count, name)
                if target is None:
                    above.row(what + " (%.2f s whole)" % measured.median())
                else:
                    above.row(what, "<= %.0f s" % target, above.median() <= target)
                cpu.minus(empty_cpu.median()).row(
                    "http_repo boot files, %d nodes, %s, CPU seconds above an empty playbook's" % (count, name))


if __name__ == "__main__":
    main()
