"""Benchmark netboot.coreos.vmware_node_clones, whole ansible-playbook runs against the lab vCenter simulator.

Rows (each the median of ``--runs`` runs, default 5, every run on a fresh simulator with a fresh template):
  1. 50 nodes cloned and powered on by the module (one task) against the same 50 nodes (names, template,
     MACs, power on) with community.vmware.vmware_guest in a loop; target: the module >= 25x faster (against
     the loop measured here, and, for reference, against the issue's peer figure of 52.7 s);
  2. 200 nodes cloned and powered on by the module; target: <= 1 s above an empty playbook (a play with no
     task: Ansible's own start-up on this machine);
  3. the no-op rerun of those 200 nodes (no target: what a converged run costs).
Beside each cold run it prints what the simulator costs and what we cost, so a reader sees the floor: the
simulator's own CPU seconds during the run (read from /proc/<pid>/stat of the vcsim process; govmomi 0.24
runs the clones of one template one at a time), the playbook's CPU seconds (ansible-playbook, its worker and
the module), and the module's own process run alone (as Ansible's worker runs it: an args file on argv) with
its wall and CPU seconds.
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
ISSUE_PEER_50 = 52.7  # the issue's figure for the vmware_guest loop, 50 nodes (quiet 2-core machine)
PLAYBOOK_CPU, PROCESS_CPU = "ansible-playbook, its worker and the module", "the module's process"


def process_cpu(pid):
    """CPU seconds (user + system) the process ``pid`` has used so far, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Figures:
    """What one kind of run measured: wall, the playbook's CPU, the simulator's CPU (each a benchlib.Measured)."""

    def __init__(self):
        self.wall, self.cpu, self.sim_cpu = benchlib.Measured(), benchlib.Measured(), benchlib.Measured()

    def add(self, run, sim_cpu):
        self.wall.add(run.wall)
        self.cpu.add(run.cpu)
        self.sim_cpu.add(sim_cpu)


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


def module_args(settings, count):
    """The module's arguments for ``count`` planned nodes (the plan rendered by the node_plan filter here)."""
    from ansible_collections.netboot.coreos.plugins.filter.node_plan import node_plan  # pylint: disable=import-outside-toplevel

    args = dict(clone_tasks(settings, "module")[0]["netboot.coreos.vmware_node_clones"])
    args["nodes"] = node_plan([], cluster_name="bench", count=count, name_format="bench-node{index:03d}")
    return args


def measure(workdir, tool, count, runs, cold, noop=None, process=None):
    """Add ``runs`` cold runs to ``cold`` (Figures; their no-op reruns to ``noop``), each on a fresh simulator
    with a fresh template; with ``process`` (Figures) also one run of the module's own process alone, on
    another fresh simulator."""
    plan = ("{{ [] | netboot.coreos.node_plan(cluster_name='bench', count=%d, name_format='bench-node{index:03d}') }}"
            % count)
    for run in range(runs):
        for alone in ((False, True) if process is not None else (False,)):
            proc, settings = vcsim.start()
            try:
                if tool != "empty":
                    make_template(settings)
                before = process_cpu(proc.pid)
                if alone:
                    result = benchlib.module_process("vmware_node_clones", workdir, module_args(settings, count))
                    assert result.result["changed"], result.result
                    process.add(result, process_cpu(proc.pid) - before)
                    continue
                book = benchlib.write_playbook(workdir, "%s-%d-%d" % (tool, count, run), clone_tasks(settings, tool),
                                               {"plan": plan})
                cold.add(benchlib.run_playbook(book), process_cpu(proc.pid) - before)
                if noop is not None:
                    before = process_cpu(proc.pid)
                    noop.add(benchlib.run_playbook(book), process_cpu(proc.pid) - before)
            finally:
                vcsim.stop_pid(proc.pid)


def cost_rows(what, figures, count, ours):
    """The simulator's CPU and ours (``ours`` says whose: the playbook's or the module process's) beside a row."""
    if not figures.sim_cpu.values:
        return
    per_clone = 1000 * figures.sim_cpu.median() / count if count else 0
    figures.sim_cpu.row("%s: the simulator's own CPU (%.1f ms per node)" % (what, per_clone),
                        figure=figures.sim_cpu.spread("CPU-s"))
    figures.cpu.row("%s: our CPU (%s)" % (what, ours), figure=figures.cpu.spread("CPU-s"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--scale-count", type=int, default=200)
    args = parser.parse_args()
    print("vmware_node_clones, whole ansible-playbook runs, median (min-max) of %d, each on a fresh simulator"
          % args.runs, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-node-clones-") as workdir:
        empty = Figures()
        measure(workdir, "empty", 0, args.runs, empty)
        empty.wall.row("an empty playbook (Ansible's own start-up)")
        empty.cpu.row("an empty playbook, CPU", figure=empty.cpu.spread("CPU-s"))

        module, alone = Figures(), Figures()
        measure(workdir, "module", args.count, args.runs, module, process=alone)
        module.wall.row("clone %d nodes, whole playbook, vmware_node_clones" % args.count)
        cost_rows("clone %d nodes, whole playbook" % args.count, module, args.count, PLAYBOOK_CPU)
        alone.wall.row("clone %d nodes, the module's process alone, wall" % args.count)
        cost_rows("clone %d nodes, the module's process alone" % args.count, alone, args.count, PROCESS_CPU)
        loop = Figures()
        measure(workdir, "loop", args.count, args.runs, loop)
        loop.wall.row("clone %d nodes, whole playbook, community.vmware.vmware_guest in a loop" % args.count)
        ratio = loop.wall.median() / module.wall.median()
        benchlib.row("clone %d nodes, whole playbook, vmware_node_clones against the vmware_guest loop" % args.count,
                     "%.1fx faster (medians)" % ratio, ">= %dx" % TARGET_RATIO, ratio >= TARGET_RATIO,
                     module.wall.load_before, loop.wall.load_after)
        if args.count == 50:
            peer = ISSUE_PEER_50 / module.wall.median()
            benchlib.row("clone 50 nodes, whole playbook, vmware_node_clones against the issue's peer figure "
                         "(vmware_guest loop %.1f s on a quiet machine)" % ISSUE_PEER_50,
                         "%.1fx faster" % peer, ">= %dx" % TARGET_RATIO, peer >= TARGET_RATIO,
                         module.wall.load_before, module.wall.load_after)

        scale, scale_noop, scale_alone = Figures(), Figures(), Figures()
        measure(workdir, "module", args.scale_count, args.runs, scale, scale_noop, process=scale_alone)
        scale.wall.row("clone %d nodes, whole playbook, vmware_node_clones" % args.scale_count)
        above = scale.wall.minus(empty.wall.median())
        above.row("clone %d nodes, whole playbook, above an empty playbook (its median)" % args.scale_count,
                  "<= %.0f s" % TARGET_ABOVE_EMPTY, above.median() <= TARGET_ABOVE_EMPTY)
        cost_rows("clone %d nodes, whole playbook" % args.scale_count, scale, args.scale_count, PLAYBOOK_CPU)
        scale_alone.wall.row("clone %d nodes, the module's process alone, wall" % args.scale_count)
        cost_rows("clone %d nodes, the module's process alone" % args.scale_count, scale_alone, args.scale_count,
                  PROCESS_CPU)
        floor = scale.sim_cpu.median()
        reach = "fits above it" if floor < TARGET_ABOVE_EMPTY else "is out of reach against this simulator"
        benchlib.row("clone %d nodes, the simulator's floor above an empty playbook (its own CPU; govmomi 0.24 runs "
                     "one template's clones one at a time)" % args.scale_count,
                     "%.2f CPU-s: the <= %.0f s target %s" % (floor, TARGET_ABOVE_EMPTY, reach),
                     load_before=scale.wall.load_before, load_after=scale.wall.load_after)
        scale_noop.wall.row("%d nodes, the no-op rerun, whole playbook (%.2f s above an empty playbook)"
                            % (args.scale_count, scale_noop.wall.median() - empty.wall.median()))


if __name__ == "__main__":
    main()
