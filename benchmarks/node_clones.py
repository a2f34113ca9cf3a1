"""Benchmark netboot.coreos.vmware_node_clones, whole ansible-playbook runs against the lab vCenter simulator.

Rows (each the median of ``--runs`` runs, default 5, every run on a fresh simulator with a fresh template):
  1. 50 nodes cloned and powered on by the module (one task) against the same 50 nodes (names, template,
     MACs, power on) with community.vmware.vmware_guest in a loop; target: the module >= 25x faster;
  2. 200 nodes cloned and powered on by the module; target: <= 1 s above an empty playbook (a play with no
     task: Ansible's own start-up on this machine);
  3. the no-op rerun of those 200 nodes (no target: what a converged run costs).
Prints each row with its spread (min-max), the target and met / NOT met, and the machine's load average
before and after (the figures move with the load: quote them together).

Run: ``.venv/bin/python benchmarks/node_clones.py [--runs 5] [--count 50] [--scale-count 200]``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, COLLECTIONS)

import vcsim  # noqa: E402  pylint: disable=wrong-import-position

SOURCE_VM = "DC0_C0_RP0_VM0"
TEMPLATE = "bench-template"
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def ansible_env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOWS="1", ANSIBLE_PIPELINING="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    env["PYTHONPATH"] = COLLECTIONS
    return env


def make_template(settings):
    """A template cloned from a stock simulator VM, and the folder the nodes go in."""
    from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
    from pyVmomi import vim

    with VCenterClient.from_params(settings) as client:
        dc = client.datacenter("DC0")
        dc.vmFolder.CreateFolder("bench")
        source = client.find_vm(dc.vmFolder, SOURCE_VM, "DC0", required=True)
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=client.cluster(dc, "DC0_C0").resourcePool),
                                powerOn=False, template=True)
        client.run_task("making the template", source.CloneVM_Task, folder=dc.vmFolder, name=TEMPLATE, spec=spec)


def write_playbook(workdir, name, settings, count, tool):
    connection = dict(hostname=settings["hostname"], port=settings["port"], username=settings["username"],
                      password=settings["password"], validate_certs=False)
    play = {"hosts": "localhost", "gather_facts": False, "name": name,
            "vars": {"ansible_python_interpreter": sys.executable,
                     "plan": "{{ [] | netboot.coreos.node_plan(cluster_name='bench', count=%d, "
                             "name_format='bench-node{index:03d}') }}" % count}}
    if tool == "module":
        play["tasks"] = [{"name": "Clone the nodes", "netboot.coreos.vmware_node_clones": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="bench", template=TEMPLATE,
            cluster_name="bench", nodes="{{ plan }}")}]
    elif tool == "loop":
        play["tasks"] = [{"name": "Clone the nodes one by one", "community.vmware.vmware_guest": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="/DC0/vm/bench", template=TEMPLATE,
            name="{{ item.name }}", state="poweredon",
            networks=[{"name": "DC0_DVPG0", "mac": "{{ item.mac }}", "device_type": "e1000"}]),
            "loop": "{{ plan }}", "loop_control": {"label": "{{ item.name }}"}}]
    else:
        play["tasks"] = []
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w") as handle:
        json.dump([play], handle)
    return path


def timed_run(playbook):
    started = time.monotonic()
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "-c", "local", playbook], capture_output=True, text=True,
                          env=ansible_env(), check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit("benchmark run failed: %s\n%s\n%s" % (playbook, proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed


def measure(workdir, tool, count, runs, rerun=False):
    """Wall times of ``runs`` cold runs (and of their no-op reruns), each on a fresh simulator."""
    cold, noop = [], []
    for run in range(runs):
        proc, settings = vcsim.start()
        try:
            if tool != "empty":
                make_template(settings)
            book = write_playbook(workdir, "%s-%d-%d" % (tool, count, run), settings, count, tool)
            cold.append(timed_run(book))
            if rerun:
                noop.append(timed_run(book))
        finally:
            vcsim.stop_pid(proc.pid)
            proc.wait()
    return cold, noop


def figure(times):
    return "%.2f s (%.2f-%.2f)" % (statistics.median(times), min(times), max(times))


def verdict(met):
    return "met" if met else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--scale-count", type=int, default=200)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-node-clones-") as workdir:
        empty = measure(workdir, "empty", 0, args.runs)[0]
        module = measure(workdir, "module", args.count, args.runs)[0]
        loop = measure(workdir, "loop", args.count, args.runs)[0]
        scale, scale_noop = measure(workdir, "module", args.scale_count, args.runs, rerun=True)
    load_after = os.getloadavg()

    ratio = statistics.median(loop) / statistics.median(module)
    above = statistics.median(scale) - statistics.median(empty)
    above_noop = statistics.median(scale_noop) - statistics.median(empty)
    print("vmware_node_clones, whole ansible-playbook runs, median (min-max) of %d, each on a fresh simulator"
          % args.runs)
    print("  machine: %d CPUs, load average %.2f / %.2f / %.2f before, %.2f / %.2f / %.2f after"
          % ((os.cpu_count(),) + load_before + load_after))
    print("  an empty playbook:                         %s" % figure(empty))
    print("  %3d nodes, vmware_guest loop:              %s" % (args.count, figure(loop)))
    print("  %3d nodes, vmware_node_clones:             %s" % (args.count, figure(module)))
    print("    -> %.1fx faster; target >= 25x: %s" % (ratio, verdict(ratio >= 25)))
    print("  %3d nodes, vmware_node_clones:             %s" % (args.scale_count, figure(scale)))
    print("    -> %.2f s above an empty playbook; target <= 1 s: %s" % (above, verdict(above <= 1)))
    print("  %3d nodes, no-op rerun:                    %s (%.2f s above an empty playbook; no target)"
          % (args.scale_count, figure(scale_noop), above_noop))


if __name__ == "__main__":
    main()
