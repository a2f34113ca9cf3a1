"""What every benchmark in benchmarks/ shares: the row format, medians with their spread, the machine's load,
timed commands (wall and CPU) and timed ansible-playbook runs, the empty-playbook baseline.

A benchmark imports it as ``import benchlib`` (its own directory is on sys.path when run as
``.venv/bin/python benchmarks/<name>.py``) and prints each figure with ``benchlib.row``::

    <what>: <figure> (target <target>): met|NOT met
      load 2.31 / 2.05 / 1.90 -> 2.40 / 2.10 / 1.92 on 2 CPUs

so that every figure carries the load it was measured under (benchmarks/README.md).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from conftest import COLLECTIONS, REPO, ansible_env  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def load():
    """The 1, 5 and 15 minute load averages now."""
    return os.getloadavg()


def load_text(before, after=None):
    """``load 2.31 / 2.05 / 1.90 [-> after] on 2 CPUs``."""
    text = "load %.2f / %.2f / %.2f" % tuple(before)
    if after is not None:
        text += " -> %.2f / %.2f / %.2f" % tuple(after)
    return text + " on %d CPUs" % os.cpu_count()


def median(values):
    return statistics.median(values)


def spread(values, unit="s", digits=2):
    """``1.23 s (1.10-1.40, 5 runs)``: the median, then min-max and how many values."""
    form = "%%.%df" % digits
    text = (form + " %s") % (median(values), unit) if unit else form % median(values)
    if len(values) > 1:
        text += (" (" + form + "-" + form + ", %d runs)") % (min(values), max(values), len(values))
    return text


def verdict(met):
    return "met" if met else "NOT met"


def row(what, figure, target=None, met=None, load_before=None, load_after=None):
    """Print ``<what>: <figure> (target <target>): met|NOT met`` (or ``(no target)``), then the load line."""
    if target is None:
        print("%s: %s (no target)" % (what, figure))
    else:
        print("%s: %s (target %s): %s" % (what, figure, target, verdict(met)))
    print("  " + load_text(load_before if load_before is not None else load(), load_after), flush=True)


class Measured:
    """Repeated measurements of one thing, with the load when it was made (make it before measuring) and after
    the last value."""

    def __init__(self):
        self.values = []
        self.load_before = load()
        self.load_after = None

    def add(self, value):
        self.values.append(value)
        self.load_after = load()

    def median(self):
        return median(self.values)

    def minus(self, offset):
        """The same measurements less ``offset`` (e.g. an empty playbook's median), with the same load."""
        shifted = Measured()
        shifted.values = [value - offset for value in self.values]
        shifted.load_before, shifted.load_after = self.load_before, self.load_after
        return shifted

    def spread(self, unit="s", digits=2):
        return spread(self.values, unit, digits)

    def row(self, what, target=None, met=None, figure=None):
        row(what, figure or self.spread(), target, met, self.load_before, self.load_after)


class Run:
    """One finished command: wall and CPU seconds (its own and its waited-for children's), status, output."""

    def __init__(self, wall, cpu, returncode, stdout, stderr):
        self.wall, self.cpu, self.returncode, self.stdout, self.stderr = wall, cpu, returncode, stdout, stderr


def timed(cmd, env=None, cwd=None, check=True):
    """Run ``cmd`` to its end (output to temporary files, so no pipe can fill) and return a ``Run``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        status, usage = os.wait4(proc.pid, 0)[1:]
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(wall, usage.ru_utime + usage.ru_stime, proc.returncode,
                  out.read().decode(errors="replace"), err.read().decode(errors="replace"))
    if check and run.returncode:
        sys.exit("benchmark command failed (%d): %s\n%s\n%s"
                 % (run.returncode, " ".join(cmd), run.stdout[-3000:], run.stderr[-3000:]))
    return run


def module_process(module, workdir, args):
    """One run of a module's own process, as Ansible's worker runs it (an args file on argv): a ``Run`` with
    ``.result`` (the module's JSON); exits with its message when the module failed."""
    path = os.path.join(workdir, "module-args.json")
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    run = timed([sys.executable, os.path.join(REPO, "plugins", "modules", module + ".py"), path], env=ansible_env())
    run.result = json.loads(run.stdout)
    if run.result.get("failed"):
        sys.exit("%s failed: %s" % (module, run.result.get("msg")))
    return run


def write_playbook(workdir, name, tasks, play_vars=None):
    """A one-play playbook on localhost (JSON is YAML) with ``tasks``; returns its path."""
    play = {"name": name, "hosts": "localhost", "gather_facts": False,
            "vars": dict({"ansible_python_interpreter": sys.executable}, **(play_vars or {})), "tasks": tasks}
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w") as handle:
        json.dump([play], handle)
    return path


def playbook_env(extra=None):
    return ansible_env(dict({"ANSIBLE_PIPELINING": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal"},
                            **(extra or {})))


def run_playbook(path, args=(), env=None):
    """One ``ansible-playbook -i localhost, -c local`` run as a ``Run``; exits with its output on failure."""
    return timed([PLAYBOOK, "-i", "localhost,", "-c", "local", path] + list(args), env=env or playbook_env())


def empty_playbook(workdir, runs):
    """Wall times of ``runs`` runs of a play with no task: Ansible's own start-up on this machine."""
    return empty_playbook_cpu(workdir, runs)[0]


def empty_playbook_cpu(workdir, runs):
    """(wall, CPU) Measured of ``runs`` runs of a play with no task (CPU: ansible-playbook and its children)."""
    wall, cpu = Measured(), Measured()
    path = write_playbook(workdir, "empty", [])
    for _run in range(runs):
        run = run_playbook(path)
        wall.add(run.wall)
        cpu.add(run.cpu)
    return wall, cpu
