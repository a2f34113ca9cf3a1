"""Benchmark the ipxe_dhcp role's reservations: whole ansible-playbook runs for 10, 200 and 1,000 nodes, cold
and warm, above an empty playbook, inside a network namespace of its own (the host's dnsmasq is never touched).

The namespace holds a veth pair whose end pxe0 = 10.96.0.2/16 is the boot network the role validates against.
Each run is the role as it runs on a boot server, less the package installation: ``validate.yml`` (facts,
settings, the node plan's reservations) then ``dnsmasq.yml`` (the one rendered dnsmasq file, written by one
netboot.coreos.file_tree run after ``dnsmasq --test`` accepted it), writing to a scratch path; the service start and restart are skipped by the role's own
guard for a host where dnsmasq is not installed yet (``ipxe_dhcp_fresh_check``). The node plan is the
``netboot.coreos.node_plan`` filter's (names, MACs, planned IPs), as site.yml builds it.
Cold: the configuration file is absent; warm: the same run again (the file must stay untouched).

Rows (medians of ``--runs`` runs, default 5, less the median of an empty playbook run in the same namespace);
targets for 200 nodes: <= 5 s cold, <= 2 s warm. Each wall row is followed by the CPU seconds of the same runs
(ansible-playbook and its children, less an empty playbook's), the figure that moves less with the load.

Run as root: ``.venv/bin/python benchmarks/dhcp.py [--runs 5] [--counts 10,200,1000]``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import benchlib

TARGETS = {200: {"cold": 5.0, "warm": 2.0}}
NETNS = "benchdhcp%d" % (os.getpid() % 100000)


def ip(*args):
    proc = subprocess.run(("ip",) + args, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit("ip %s: %s" % (" ".join(args), proc.stderr.strip()))


def in_netns(book, extra_vars_file):
    run = benchlib.timed(["ip", "netns", "exec", NETNS, benchlib.PLAYBOOK, "-i", "localhost,", "-c", "local", book,
                          "-e", "@" + extra_vars_file], env=benchlib.playbook_env())
    return run


def measure(workdir, book, variables, runs):
    """{cold, warm: (wall, CPU)} Measured of ``runs`` cold runs, each followed by a warm one."""
    conf = variables.get("ipxe_dhcp_config_path")
    extra = os.path.join(workdir, "vars-%d.json" % len(os.listdir(workdir)))
    with open(extra, "w") as handle:
        json.dump(variables, handle)
    cold, warm, cold_cpu, warm_cpu = (benchlib.Measured() for _measured in range(4))
    for _run in range(runs):
        if conf and os.path.exists(conf):
            os.unlink(conf)
        first = in_netns(book, extra)
        cold.add(first.wall)
        cold_cpu.add(first.cpu)
        if conf:
            before = os.stat(conf).st_mtime_ns
        again = in_netns(book, extra)
        warm.add(again.wall)
        warm_cpu.add(again.cpu)
        if conf and os.stat(conf).st_mtime_ns != before:
            sys.exit("the warm run rewrote %s: it must change nothing" % conf)
    return {"cold": (cold, cold_cpu), "warm": (warm, warm_cpu)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--counts", default="10,200,1000")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmarks/dhcp.py needs root (a network namespace of its own)")
    counts = [int(c) for c in args.counts.split(",")]
    print("ipxe_dhcp reservations, whole ansible-playbook runs in netns %s, median (min-max) of %d"
          % (NETNS, args.runs), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-dhcp-") as workdir:
        ip("netns", "add", NETNS)
        try:
            ip("-n", NETNS, "link", "add", "pxe0", "type", "veth", "peer", "name", "pxe0p")
            ip("-n", NETNS, "addr", "add", "10.96.0.2/16", "dev", "pxe0")
            for link in ("pxe0", "pxe0p"):
                ip("-n", NETNS, "link", "set", link, "up")
            ip("-n", NETNS, "link", "set", "lo", "up")
            empty_book = benchlib.write_playbook(workdir, "empty", [])
            empty, empty_cpu = measure(workdir, empty_book, {}, args.runs)["cold"]
            empty.row("an empty playbook in the namespace (Ansible's own start-up)")
            empty_cpu.row("an empty playbook in the namespace, CPU seconds")
            role = [{"name": "Validate", "ansible.builtin.include_role": {
                "name": "netboot.coreos.ipxe_dhcp", "tasks_from": "validate.yml", "public": True}},
                {"name": "Configure", "ansible.builtin.include_role": {
                    "name": "netboot.coreos.ipxe_dhcp", "tasks_from": "dnsmasq.yml"}}]
            book = benchlib.write_playbook(workdir, "dhcp", role, {"plan": (
                "{{ [] | netboot.coreos.node_plan(cluster_name='bench', count=node_count, "
                "name_format='bench-node{index:04d}', ip_range='10.96.1.0-10.96.7.255') }}")})
            for count in counts:
                variables = {"node_count": count, "ipxe_dhcp_nodes": "{{ plan }}", "ipxe_dhcp_interface": "pxe0",
                             "ipxe_dhcp_mode": "dhcp", "ipxe_dhcp_range_start": "10.96.200.1",
                             "ipxe_dhcp_range_end": "10.96.200.250", "ipxe_dhcp_base_url": "http://10.96.0.2/coreos",
                             "ipxe_dhcp_tftp_root": os.path.join(workdir, "tftp"),
                             "ipxe_dhcp_config_path": os.path.join(workdir, "dnsmasq-%d.conf" % count),
                             "ipxe_dhcp_fresh_check": True}
                measured_pairs = measure(workdir, book, variables, args.runs)
                with open(variables["ipxe_dhcp_config_path"]) as handle:
                    reservations = sum(1 for line in handle if line.startswith("dhcp-host="))
                if reservations != count:
                    sys.exit("%d nodes gave %d dhcp-host lines" % (count, reservations))
                for name in ("cold", "warm"):
                    measured, cpu = measured_pairs[name]
                    above = measured.minus(empty.median())
                    target = TARGETS.get(count, {}).get(name)
                    what = "ipxe_dhcp %d reservations %s, whole playbook, above an empty playbook" % (count, name)
                    if target is None:
                        above.row(what)
                    else:
                        above.row(what, "<= %.0f s" % target, above.median() <= target)
                    cpu.minus(empty_cpu.median()).row(
                        "ipxe_dhcp %d reservations %s, CPU seconds above an empty playbook's" % (count, name))
        finally:
            subprocess.run(["ip", "netns", "del", NETNS], check=False)


if __name__ == "__main__":
    main()
