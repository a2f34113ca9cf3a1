"""Benchmark netboot.coreos.vmware_node_clones against community.vmware.vmware_guest in a loop.

Against one fresh lab vCenter simulator (tests/lab/vcsim.py), each measured as a whole ansible-playbook run:
(a) cloning N nodes (default 50) with this collection's module (one task, concurrent clones, planned MACs);
(b) the same N nodes (same names, template, MACs, power on) with community.vmware.vmware_guest in a loop;
plus the no-op rerun of each. Prints the times and the ratios; targets: cold >= 20x faster than the loop,
the module's whole no-op run <= 2 s.

Run: ``.venv/bin/python benchmarks/node_clones.py [--count 50] [--parallel 8]``.
"""

import argparse
import json
import os
import resource
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


def ansible_env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOWS="1", ANSIBLE_PIPELINING="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    env["PYTHONPATH"] = COLLECTIONS
    return env


def make_template(settings):
    """Two folders (one per tool) and a template cloned from a stock simulator VM."""
    from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
    from pyVmomi import vim

    with VCenterClient.from_params(settings) as client:
        dc = client.datacenter("DC0")
        for name in ("bench-module", "bench-loop"):
            dc.vmFolder.CreateFolder(name)
        source = [r["obj"] for r in client.retrieve(vim.VirtualMachine, ["name"]) if r["name"] == SOURCE_VM][0]
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=client.cluster(dc, "DC0_C0").resourcePool),
                                powerOn=False, template=True)
        client.wait_for_task(source.CloneVM_Task(folder=dc.vmFolder, name=TEMPLATE, spec=spec), "template")


def write_playbooks(workdir, settings, count, parallel):
    connection = dict(hostname=settings["hostname"], port=settings["port"], username=settings["username"],
                      password=settings["password"], validate_certs=False)
    common = {"hosts": "localhost", "gather_facts": False,
              "vars": {"ansible_python_interpreter": sys.executable,
                       "plan": "{{ [] | netboot.coreos.node_plan(cluster_name='bench', count=%d, "
                               "name_format='bench-node{index:02d}') }}" % count}}
    module = dict(common, name="vmware_node_clones", tasks=[{
        "name": "Clone the nodes", "netboot.coreos.vmware_node_clones": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="bench-module", template=TEMPLATE,
            cluster_name="bench", nodes="{{ plan }}", parallel=parallel)}])
    loop = dict(common, name="vmware_guest loop", tasks=[{
        "name": "Clone the nodes one by one", "community.vmware.vmware_guest": dict(
            connection, datacenter="DC0", cluster="DC0_C0", folder="/DC0/vm/bench-loop", template=TEMPLATE,
            name="{{ item.name }}", state="poweredon",
            networks=[{"name": "DC0_DVPG0", "mac": "{{ item.mac }}", "device_type": "e1000"}]),
        "loop": "{{ plan }}", "loop_control": {"label": "{{ item.name }}"}}])
    # Ansible's own cost on this machine: the same play shape with one ping task
    ping = dict(common, name="ping", tasks=[{"name": "ping", "ansible.builtin.ping": {}}])
    paths = {}
    for name, play in (("module", module), ("loop", loop), ("ping", ping)):
        paths[name] = os.path.join(workdir, name + ".yml")
        with open(paths[name], "w") as handle:
            json.dump([play], handle)
    return paths


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(playbook):
    """Wall time, CPU time (ansible-playbook and its module processes) and changed results of one run."""
    started, cpu = time.monotonic(), cpu_seconds()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", playbook], capture_output=True, text=True, env=ansible_env(), check=False)
    elapsed, cpu = time.monotonic() - started, cpu_seconds() - cpu
    if proc.returncode != 0:
        sys.exit("benchmark run failed: %s\n%s\n%s" % (playbook, proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed, cpu, proc.stdout.count("CHANGED")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    proc, settings = vcsim.start()
    try:
        make_template(settings)
        with tempfile.TemporaryDirectory(prefix="bench-node-clones-") as workdir:
            books = write_playbooks(workdir, settings, args.count, args.parallel)
            figures = {("ping", "noop"): timed_run(books["ping"])}
            for tool in ("module", "loop"):
                for run in ("cold", "noop"):
                    figures[tool, run] = timed_run(books[tool])
            for (tool, run), (wall, cpu, changed) in sorted(figures.items()):
                print("%-7s %-5s wall %7.2f s  cpu %7.2f s  (%d changed tasks)" % (tool, run, wall, cpu, changed))
    finally:
        vcsim.stop_pid(proc.pid)
        proc.wait()
    cold = figures["loop", "cold"][0] / figures["module", "cold"][0]
    noop = figures["loop", "noop"][0] / figures["module", "noop"][0]
    print("%d nodes, whole ansible-playbook runs on one fresh simulator:" % args.count)
    print("  cold:  vmware_node_clones %.2f s, vmware_guest loop %.2f s -> %.1fx faster (target >= 20x)"
          % (figures["module", "cold"][0], figures["loop", "cold"][0], cold))
    print("  no-op: vmware_node_clones %.2f s, vmware_guest loop %.2f s -> %.1fx faster (target: module <= 2 s: %s)"
          % (figures["module", "noop"][0], figures["loop", "noop"][0], noop,
             "met" if figures["module", "noop"][0] <= 2 else "NOT met"))
    print("  a one-ping playbook takes %.2f s wall / %.2f s cpu here (load average %.1f): Ansible's own floor"
          % (figures["ping", "noop"][0], figures["ping", "noop"][1], os.getloadavg()[0]))


if __name__ == "__main__":
    main()
