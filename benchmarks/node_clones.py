"""Benchmark netboot.coreos.vmware_node_clones, whole ansible-playbook runs against the lab vCenter simulator.

Rows (each the median of ``--runs`` runs, default 5, every run on a fresh simulator with a fresh template):
  1. 50 nodes cloned and powered on by the module (one task) against the same 50 nodes (names, template,
     MACs, power on) with community.vmware.vmware_guest in a loop; target: the module >= 25x faster;
  2. 200 nodes cloned and powered on by the module; target: <= 1 s above an empty playbook (a play with no
     task: Ansible's own start-up on this machine);
  3. the no-op rerun of those 200 nodes (no target: what a converged run costs).
Prints each row as benchlib does (benchmarks/README.md): the figure with its spread (min-max), the target
and met / NOT met, and the load it was measured under (the figures move with the load: quote them together).

Run: ``.venv/bin/python benchmarks/node_clones.py [--runs 5] [--count 50] [--scale-count 200]``.
"""

import argparse
import os
import sys
import tempfile

import benchlib

sys.path.insert(0, os.path.join(benchlib.REPO, "tests", "lab"))

import vcsim  # noqa: E402  pylint: disable=wrong-import-position,import-error

SOURCE_VM = "DC0_C0_RP0_VM0"
TEMPLATE = "bench-template"
TARGET_RATIO = 25
TARGET_ABOVE_EMPTY = 1.0


def make_template(settings):
    """A template cloned from a stock simulator VM, and the folder the nodes go in."""
    from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient  # pylint: disable=import-outside-toplevel
    from pyVmomi import vim  # pylint: disable=import-outside-toplevel

    with VCenterClient.from_params(settings) as client:
        dc = client.datacenter("DC0")
        dc.vmFolder.CreateFolder("bench")
        source = client.find_vm(dc.vmFolder, SOURCE_VM, "DC0", required=True)
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=client.cluster(dc, "DC0_C0").resourcePool),
                                powerOn=False, template=True)
        client.run_task("making the template", source.CloneVM_Task, folder=dc.vmFolder, name=TEMPLATE, spec=spec)


def clone_tasks(settings, tool):
    """The playbook's tasks: the module (one task), vmware_guest in a loop, or none (an empty playbook)."""
    connection = dict(hostname=settings["hostname"], port=settings["port"], username=settings["username"],
                      password=settings["password"], validate_certs=False)
    if tool == "module":
        return [{"name": "Clone the nodes", "netboot.coreos.vmware_node_clones": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="bench", template=TEMPLATE,
            cluster_name="bench", nodes="{{ plan }}")}]
    if tool == "loop":
        return [{"name": "Clone the nodes one by one", "community.vmware.vmware_guest": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="/DC0/vm/bench", template=TEMPLATE,
            name="{{ item.name }}", state="poweredon",
            networks=[{"name": "DC0_DVPG0", "mac": "{{ item.mac }}", "device_type": "e1000"}]),
            "loop": "{{ plan }}", "loop_control": {"label": "{{ item.name }}"}}]
    return []


def measure(workdir, tool, count, runs, cold, noop=None):
    """Add the wall times of ``runs`` cold runs to ``cold`` (and of their no-op reruns to ``noop``), each run on
    a fresh simulator with a fresh template."""
    plan = ("{{ [] | netboot.coreos.node_plan(cluster_name='bench', count=%d, name_format='bench-node{index:03d}') }}"
            % count)
    for run in range(runs):
        proc, settings = vcsim.start()
        try:
            if tool != "empty":
                make_template(settings)
            book = benchlib.write_playbook(workdir, "%s-%d-%d" % (tool, count, run), clone_tasks(settings, tool),
                                           {"plan": plan})
            cold.add(benchlib.run_playbook(book).wall)
            if noop is not None:
                noop.add(benchlib.run_playbook(book).wall)
        finally:
            vcsim.stop_pid(proc.pid)
            proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--scale-count", type=int, default=200)
    args = parser.parse_args()
    print("vmware_node_clones, whole ansible-playbook runs, median (min-max) of %d, each on a fresh simulator"
          % args.runs, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-node-clones-") as workdir:
        empty = benchlib.Measured()
        measure(workdir, "empty", 0, args.runs, empty)
        empty.row("an empty playbook (Ansible's own start-up)")
        module = benchlib.Measured()
        measure(workdir, "module", args.count, args.runs, module)
        module.row("clone %d nodes, whole playbook, vmware_node_clones" % args.count)
        loop = benchlib.Measured()
        measure(workdir, "loop", args.count, args.runs, loop)
        loop.row("clone %d nodes, whole playbook, community.vmware.vmware_guest in a loop" % args.count)
        ratio = loop.median() / module.median()
        benchlib.row("clone %d nodes, whole playbook, vmware_node_clones against the vmware_guest loop" % args.count,
                     "%.1fx faster (medians)" % ratio, ">= %dx" % TARGET_RATIO, ratio >= TARGET_RATIO,
                     module.load_before, loop.load_after)

        scale, scale_noop = benchlib.Measured(), benchlib.Measured()
        measure(workdir, "module", args.scale_count, args.runs, scale, scale_noop)
        scale.row("clone %d nodes, whole playbook, vmware_node_clones" % args.scale_count)
        above = scale.minus(empty.median())
        above.row("clone %d nodes, whole playbook, above an empty playbook (its median)" % args.scale_count,
                  "<= %.0f s" % TARGET_ABOVE_EMPTY, above.median() <= TARGET_ABOVE_EMPTY)
        scale_noop.row("%d nodes, the no-op rerun, whole playbook (%.2f s above an empty playbook)"
                       % (args.scale_count, scale_noop.median() - empty.median()))


if __name__ == "__main__":
    main()
