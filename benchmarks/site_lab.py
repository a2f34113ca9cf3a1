"""Benchmark site.yml on the embedded lab (tests/lab/lab.py), cold and warm, and the lab's QEMU boot.

Cold: site.yml on a new lab (an empty vCenter simulator, a new boot server with nothing configured, an empty
repository). Warm: site.yml again on the same lab (changed=0 expected). Boot: the first planned node from an
empty disk through DHCP, iPXE, install.ign, the install and the reboot to node.ign applied (QEMU, TCG).
Per-play times show which play is the slowest. The machine's load average is printed with the figures.

Run: ``.venv/bin/python benchmarks/site_lab.py [--state-dir DIR] [--keep]`` as root (the lab needs it); the lab
of DIR (build/benchmark-lab) is torn down first and at the end (--keep leaves it running).
"""

import argparse
import os
import sys

import benchlib

sys.path.insert(0, os.path.join(benchlib.REPO, "tests", "lab"))

import lab as lab_script  # noqa: E402  pylint: disable=wrong-import-position,import-error

TARGETS = {"cold": 90.0, "warm": 15.0}


def plays_table(title, record):
    plays = record.get("plays", [])
    print("%s, per play (slowest first):" % title)
    for play in sorted(plays, key=lambda p: -p["seconds"]):
        print("  %-48s %6.1f s  changed=%d" % (play["name"], play["seconds"], play["changed"]))
    return sum(p["seconds"] for p in plays), sum(p["changed"] for p in plays)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.path.join(benchlib.REPO, "build", "benchmark-lab"))
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    args = parser.parse_args()
    lab = lab_script.Lab(args.state_dir)
    lab.down()
    try:
        prepare = lab.steps()[:-2]
        lab.run_steps(prepare)
        figures, loads = {}, {}
        for number, run in enumerate(("cold", "warm"), len(prepare) + 1):
            before = benchlib.load()
            lab.step(number, len(prepare) + 3, "site.yml " + run, lab.site)
            loads[run] = (before, benchlib.load())
            figures[run] = plays_table("site.yml %s" % run, lab.record)
        before = benchlib.load()
        lab.step(len(prepare) + 3, len(prepare) + 3, "boot", lab.boot)
        loads["boot"] = (before, benchlib.load())
        cold, _changed = figures["cold"]
        warm, warm_changed = figures["warm"]
        benchlib.row("site.yml cold (new lab)", "%.1f s" % cold, "< %.0f s" % TARGETS["cold"], cold < TARGETS["cold"],
                     *loads["cold"])
        benchlib.row("site.yml warm (changed=%d)" % warm_changed, "%.1f s" % warm,
                     "< %.0f s, changed=0" % TARGETS["warm"], warm < TARGETS["warm"] and warm_changed == 0,
                     *loads["warm"])
        stages = ", ".join("%s %.1f s" % stage for stage in lab.boot_result["stages"])
        benchlib.row("lab boot, empty disk to node.ign applied (%s)" % stages,
                     "%.1f s" % lab.boot_result["stages"][-1][1], None, None, *loads["boot"])
    except lab_script.StepFailed as failure:
        sys.exit("benchmark: step '%s' failed: %s (log %s)" % (failure.name, failure.error, failure.log))
    finally:
        if not args.keep:
            lab.down()


if __name__ == "__main__":
    main()
