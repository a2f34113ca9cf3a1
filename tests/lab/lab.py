"""The embedded lab: `make lab` runs the whole chain on this machine, `make lab-down` removes it.

    lab.py up   [--state-dir DIR] [--check]     (DIR: build/lab)
    lab.py down [--state-dir DIR]

`up`, one step after the other (each step's output goes to DIR/logs/<step>.log):
  simulator    the lab vCenter simulator (tests/lab/vcsim.py)
  release      the test release of tests/e2e/node_release.py (kernel, initramfs, stand-in installer, install
               images), laid out and signed like a Flatcar release by the lab's own key
  boot image   the boot server's image: Debian with systemd, nginx, dnsmasq, gpg, iPXE and an SSH server (the
               controller's way in, through the network namespace), no apt source
  network      the lab network 10.97.0.0/24: network namespaces and a bridge, no uplink (e2e.node_vm.BootLab)
  boot server  a systemd container on that network (10.97.0.2, pxe0) that site.yml configures
  mirror       the signed release mirror (tests/fixtures/release_mirror.py) on the boot server's loopback
  rancher      the Rancher API test server (tests/fixtures/rancher_api.py) on this machine's loopback
  site.yml     ansible-playbook -i inventories/lab site.yml: repo (nginx, coreos_repo_sync, boot files, Rancher
               join), DHCP (dnsmasq), the template (with the vmxnet3 iPXE ROM) and the node VMs
  boot         the first planned node under QEMU (TCG, vmxnet3 + iPXE ROM) with its planned MAC: DHCP, boot.ipxe,
               node script, kernel, install.ign, install, reboot from disk, node.ign (e2e.node_vm.NodeVM)
then one summary. What is running is reused: a second `up` runs site.yml against the same lab (it changes
nothing) and boots a new empty-disk node again. `--check` runs the steps up to site.yml, then
`ansible-playbook --check --diff site.yml`, and stops there. A failing step stops the lab with its name and
the tail of its log.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
for _path in (os.path.join(REPO, "tests", "fixtures"), os.path.join(REPO, "tests"), HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from conftest import ansible_env  # noqa: E402  pylint: disable=wrong-import-position,import-error
from e2e import node_release  # noqa: E402  pylint: disable=wrong-import-position,import-error
from e2e.node_vm import MODELS, BootFailure, BootLab, NodeVM  # noqa: E402  pylint: disable=wrong-import-position,import-error
from release_mirror import FLATCAR_NAMES, ReleaseMirror, SigningKey  # noqa: E402  pylint: disable=wrong-import-position,import-error
import vcsim  # noqa: E402  pylint: disable=wrong-import-position,import-error

IMAGE_PACKAGES = "nginx,dnsmasq,gpg,ipxe,openssh-server"
IMAGE = "localhost/netboot-lab-boot:" + hashlib.sha1(IMAGE_PACKAGES.encode()).hexdigest()[:8]
VERSION = "9999.1.0"
MIRROR_PORT = 8080
SERVER_IP = "10.97.0.2"
MODEL = MODELS["bios-vmxnet3"]  # the template's NIC (vmware_template_nic_type) and its iPXE ROM
STAGES = (("DHCP", 0, "DHCP"), ("iPXE script", 0, "node script"), ("kernel", 0, "kernel"),
          ("install.ign", 0, "install.ign"), ("installed", 0, "install"), ("node.ign applied", 1, "node.ign"))


class LabError(Exception):
    """A step could not do its work; the message says what failed."""


class StepFailed(Exception):
    """A step that failed: its name, its log and the error."""

    def __init__(self, name, log, error):
        super().__init__(name)
        self.name, self.log, self.error = name, log, error

    def report(self, lines=25):
        """What the user sees: the step, the error in one line, the tail of the step's log, what to do."""
        with open(self.log) as handle:
            tail = handle.read().splitlines()[-lines:]
        return ("\nlab: step '%s' failed: %s\n--- %s (last %d lines) ---\n%s\n---\nfix it and run `make lab` "
                "again (what runs is reused), or `make lab-down`" % (self.name, self.error, self.log, len(tail),
                                                                     "\n".join(tail)))


def alive(pid, marker):
    """True when process ``pid`` runs and its command line contains ``marker`` (a stale pid file is no proof)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return marker.encode() in handle.read()
    except (OSError, TypeError):
        return False


def read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def failed_task(output):
    """'<task> on <host>: <msg>' of the last failed task in ansible-playbook's output (not its whole result)."""
    task, found = None, None
    for line in output.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        match = re.match(r"^(?:fatal|failed): \[([^\]]+)\].*?=> (\{.*\})\s*$", line)
        if match:
            try:
                message = json.loads(match.group(2)).get("msg", match.group(2))
            except ValueError:
                message = match.group(2)
            found = "task '%s' on %s: %s" % (task, match.group(1), str(message)[:400])
    return found or (output.strip().splitlines() or ["no output"])[-1]


def read_env(path):
    with open(path) as handle:
        return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)


class Lab:
    """One lab, named after its state directory (so a test's lab and the user's never meet)."""

    def __init__(self, state_dir):
        self.dir = os.path.abspath(state_dir)
        key = hashlib.sha1(self.dir.encode()).hexdigest()[:6]
        self.prefix = "lab" + key  # network namespaces <prefix>br (bridge) and <prefix>srv (boot server)
        self.container = "netboot-lab-" + key
        self.logs = os.path.join(self.dir, "logs")
        self.server = os.path.join(self.dir, "boot-server")  # the container's log directories, bind-mounted
        self.mirror_root = os.path.join(self.dir, "mirror")
        self.log = None
        self.record = {}

    # -- plumbing ------------------------------------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, *cmd, check=True, **kwargs):
        """Run ``cmd`` with its output in the step's log; LabError naming it when it fails."""
        self.log.write("$ %s\n" % " ".join(cmd))
        self.log.flush()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                              **kwargs)
        self.log.write(proc.stdout)
        self.log.flush()
        if check and proc.returncode != 0:
            raise LabError("`%s` failed (exit %d): %s" % (" ".join(cmd), proc.returncode,
                                                          proc.stdout.strip().splitlines()[-1:] or ""))
        return proc

    def daemon(self, name, cmd, marker):
        """Start ``cmd`` in its own session (it outlives this script), pid in <name>.pid, output in logs."""
        pid_file = self.path(name + ".pid")
        pid = read_pid(pid_file)
        if pid and alive(pid, marker):
            self.log.write("%s already running (pid %d)\n" % (name, pid))
            return False
        with open(os.path.join(self.logs, name + ".out"), "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        with open(pid_file, "w") as handle:
            handle.write("%d\n" % proc.pid)
        self.log.write("started %s (pid %d): %s\n" % (name, proc.pid, " ".join(cmd)))
        return True

    def wait_for(self, what, test, timeout=30):
        deadline = time.monotonic() + timeout
        while not test():
            if time.monotonic() > deadline:
                raise LabError("%s did not happen within %d s" % (what, timeout))
            time.sleep(0.2)

    def boot_lab(self):
        """The lab network as e2e.node_vm sees it: its namespaces, nginx's access log and dnsmasq's log."""
        return BootLab(self.path("boot"), prefix=self.prefix,
                       http_log=os.path.join(self.server, "nginx", "access.log"),
                       dnsmasq_log=os.path.join(self.server, "log", "dnsmasq.log"))

    def step(self, number, total, name, function):
        started = time.monotonic()
        log = os.path.join(self.logs, "%d-%s.log" % (number, name.replace(" ", "-").replace(".", "-")))
        print("lab [%d/%d] %-12s" % (number, total, name), end=" ", flush=True)
        with open(log, "w") as self.log:
            try:
                result = function()
            except (LabError, BootFailure, node_release.ReleaseError, subprocess.CalledProcessError,
                    OSError, RuntimeError) as error:
                self.log.write("\n%s\n" % error)
                print("FAILED after %.1f s" % (time.monotonic() - started), flush=True)
                raise StepFailed(name, log, error) from None
        print("%.1f s%s" % (time.monotonic() - started, " (%s)" % result if isinstance(result, str) else ""),
              flush=True)
        return result

    # -- the steps -----------------------------------------------------------------------------------------

    def simulator(self):
        pid = vcsim.read_pid(self.dir)
        if pid and alive(pid, "vcsim") and os.path.exists(self.path("vcsim.env")):
            self.vcenter = read_env(self.path("vcsim.env"))
            return "running, pid %d" % pid
        proc, settings = vcsim.start(binary=self.run_build_vcsim())
        vcsim.write_settings(self.dir, proc.pid, settings)
        self.vcenter = read_env(self.path("vcsim.env"))
        return "started on port %s" % settings["port"]

    def run_build_vcsim(self):
        self.run(os.path.join(HERE, "build-vcsim.sh"), vcsim.BINARY)
        return vcsim.BINARY

    def release(self):
        node_release.require_tools()
        vmlinuz, _modules = node_release.kernel()
        sources = {FLATCAR_NAMES["kernel"]: vmlinuz, FLATCAR_NAMES["initramfs"]: node_release.initramfs(),
                   FLATCAR_NAMES["image"]: node_release.image(),
                   "flatcar_production_vmware_raw_image.bin.bz2": node_release.image("vmware_raw")}
        stamp_path = os.path.join(self.mirror_root, "lab-release.json")
        stamp = {"version": VERSION, "sources": sources}
        if os.path.exists(stamp_path):
            with open(stamp_path) as handle:
                known = json.load(handle)
            if {k: known.get(k) for k in stamp} == stamp:
                self.fingerprint = known["fingerprint"]
                return "unchanged"
        mirror = ReleaseMirror(self.mirror_root, key=SigningKey(self.path("gnupg")))
        try:
            mirror.add_flatcar(VERSION, sources=sources)
        finally:
            mirror.server.server_close()  # laid out here, served from the boot server's loopback
        self.fingerprint = mirror.key.fingerprint
        with open(stamp_path, "w") as handle:
            json.dump(dict(stamp, fingerprint=self.fingerprint), handle, indent=1)
        return "Flatcar %s signed by %s" % (VERSION, self.fingerprint[-16:])

    def boot_image(self):
        self.run(os.path.join(HERE, "build-image.sh"), IMAGE, IMAGE_PACKAGES)
        return IMAGE

    def network(self):
        net = self.boot_lab().net
        have = set(self.run("ip", "netns", "list").stdout.split())
        if {net.ns("br"), net.ns("srv")} <= have:
            return "10.97.0.0/24 in %s*" % self.prefix
        # a half-made network goes first, and the container that used it with it
        self.run("podman", "rm", "--force", "--time", "5", self.container, check=False)
        net.down()
        try:
            net.up()
        except subprocess.CalledProcessError as error:
            raise LabError("the lab network cannot be built: `%s` failed: %s"
                           % (" ".join(error.cmd), error.stderr.strip())) from None
        return "created 10.97.0.0/24 in %s*" % self.prefix

    def boot_server(self):
        state = self.run("podman", "inspect", "--format", "{{.State.Status}} {{.ImageName}}", self.container,
                         check=False)
        status, image = (state.stdout.split() + ["", ""])[:2] if state.returncode == 0 else ("absent", "")
        if status != "absent" and image != IMAGE:  # made from an older image
            self.run("podman", "rm", "--force", "--time", "5", self.container)
            status = "absent"
        key = self.path("ssh", "id_ed25519")
        if not os.path.exists(key):
            os.makedirs(os.path.dirname(key), exist_ok=True)
            self.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "netboot.coreos lab", "-f", key)
        if status == "running":
            result = "running"
        elif status != "absent":
            self.run("podman", "start", self.container)
            result = "restarted"
        else:
            for sub in ("log", "nginx"):
                os.makedirs(os.path.join(self.server, sub), exist_ok=True)
            dnsmasq_log = os.path.join(self.server, "dnsmasq-log.conf")
            with open(dnsmasq_log, "w") as handle:
                handle.write("# the lab reads the DHCP exchanges from here (boot-server/log on the host)\n"
                             "log-facility=/var/log/lab/dnsmasq.log\n")
            self.run("podman", "run", "--detach", "--name", self.container, "--hostname", "lab-boot",
                     "--network", "ns:/run/netns/" + self.boot_lab().net.ns("srv"),
                     "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--systemd", "always",
                     "--label", "netboot.coreos.lab=" + self.dir,
                     "--volume", "%s:/var/log/lab" % os.path.join(self.server, "log"),
                     "--volume", "%s:/var/log/nginx" % os.path.join(self.server, "nginx"),
                     "--volume", "%s:/etc/dnsmasq.d/00-lab-log.conf:ro" % dnsmasq_log,
                     "--volume", "%s.pub:/root/.ssh/authorized_keys:ro" % key,
                     IMAGE, "/sbin/init")
            result = "started %s" % self.container
        # running or degraded: systemd has finished starting (a unit of the image failing is not the lab's)
        self.wait_for("systemd in %s reaching running" % self.container, lambda: self.run(
            "podman", "exec", self.container, "systemctl", "is-system-running", check=False
        ).stdout.strip() in ("running", "degraded"), timeout=60)
        host_key = self.run("podman", "exec", self.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").stdout
        with open(self.path("ssh", "known_hosts"), "w") as handle:
            handle.write("%s %s\n" % (self.container, " ".join(host_key.split()[:2])))
        return result

    def mirror(self):
        started = self.daemon("mirror", ["ip", "netns", "exec", self.boot_lab().net.ns("srv"), sys.executable,
                                         os.path.abspath(__file__), "serve-mirror", "--state-dir", self.dir],
                              "serve-mirror")
        ready = self.path("mirror.ready")
        if started and os.path.exists(ready):
            os.unlink(ready)
        self.wait_for("the release mirror answering", lambda: os.path.exists(ready))
        return "http://127.0.0.1:%d (boot server's loopback)" % MIRROR_PORT

    def rancher(self):
        env = self.path("logs", "rancher.out")
        self.daemon("rancher", [sys.executable, os.path.join(REPO, "tests", "fixtures", "rancher_api.py"),
                                "--cluster", "lab:v2prov"], "rancher_api.py")
        self.wait_for("the Rancher API test server", lambda: "RANCHER_CLUSTER_ID=" in open(env).read())
        self.rancher_env = read_env(env)
        return "test server %s" % self.rancher_env["RANCHER_URL"]

    def write_vars(self):
        variables = {
            "vcenter_hostname": self.vcenter["VMWARE_HOST"], "vcenter_port": int(self.vcenter["VMWARE_PORT"]),
            "vcenter_username": self.vcenter["VMWARE_USER"], "vcenter_password": self.vcenter["VMWARE_PASSWORD"],
            "vcenter_validate_certs": False,
            "rancher_url": self.rancher_env["RANCHER_URL"], "rancher_api_token": self.rancher_env["RANCHER_TOKEN"],
            "rancher_cluster": self.rancher_env["RANCHER_CLUSTER"],
            "lab_boot_container": self.container, "lab_boot_netns": self.boot_lab().net.ns("srv"),
            "lab_boot_ssh_key": self.path("ssh", "id_ed25519"), "lab_boot_known_hosts": self.path("ssh", "known_hosts"),
            "http_repo_sync_base_url": "http://127.0.0.1:%d/flatcar/stable" % MIRROR_PORT,
            "http_repo_sync_gpg_key": "http://127.0.0.1:%d/keys/signing-key.asc" % MIRROR_PORT,
            "http_repo_sync_gpg_fingerprint": self.fingerprint,
        }
        path = self.path("lab.vars.json")
        with open(path, "w") as handle:
            json.dump(variables, handle, indent=1)
        os.chmod(path, 0o600)
        return path

    def site(self, check=False):
        """ansible-playbook site.yml against the lab; self.record: per-play counts and times, the node plan."""
        record = self.path("site-check.json" if check else "site.json")
        if os.path.exists(record):
            os.unlink(record)
        env = ansible_env({"ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
                           "ANSIBLE_CALLBACKS_ENABLED": "lab_record", "LAB_RECORD": record,
                           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_PIPELINING": "1"})
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/lab",
               "site.yml", "-e", "@" + self.write_vars()] + (["--check", "--diff"] if check else [])
        proc = self.run(*cmd, check=False, env=env, cwd=REPO)
        if os.path.exists(record):
            with open(record) as handle:
                self.record = json.load(handle)
        if proc.returncode != 0:
            raise LabError("ansible-playbook exited %d: %s" % (proc.returncode, failed_task(proc.stdout)))
        plays = self.record.get("plays", [])
        return "%d plays, changed=%d, %.1f s" % (
            len(plays), sum(p["changed"] for p in plays), sum(p["seconds"] for p in plays))

    def boot(self):
        plan = self.record.get("node_plan") or []
        if not plan:
            raise LabError("site.yml computed no node plan (coreos_node_plan): nothing to boot")
        node = plan[0]
        lab = self.boot_lab()
        self.run("ip", "-n", lab.net.ns("br"), "link", "del", "tap0", check=False)  # a tap of an earlier boot
        workdir = self.path("node", node["name"])
        shutil.rmtree(workdir, ignore_errors=True)
        vm = NodeVM(lab, MODEL, node["mac"], workdir)
        install = vm.power_on("install")
        self.log.write(install.serial)
        first = vm.power_on("first disk boot")
        self.log.write(first.serial)
        leases = re.findall(r"DHCPACK\(\S+\) (\S+) %s" % re.escape(node["mac"]), install.dnsmasq)
        self.boot_result = {"name": node["name"], "ip": leases[-1] if leases else None,
                            "stages": [(label, install.steps[step] if power_on == 0 else
                                        install.duration + first.steps[step]) for label, power_on, step in STAGES],
                            "serial": [os.path.join(workdir, "power-on-%d.serial.log" % n) for n in (1, 2)]}
        return "%s installed and booted from disk in %.0f s" % (node["name"], install.duration + first.duration)

    # -- summary -------------------------------------------------------------------------------------------

    def power_states(self, names):
        from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient  # pylint: disable=import-outside-toplevel,import-error
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        with VCenterClient(self.vcenter["VMWARE_HOST"], self.vcenter["VMWARE_USER"], self.vcenter["VMWARE_PASSWORD"],
                           port=int(self.vcenter["VMWARE_PORT"]), validate_certs=False) as client:
            rows = client.retrieve(vim.VirtualMachine, ["name", "runtime.powerState"])
        return {row["name"]: row.get("runtime.powerState") for row in rows if row.get("name") in names}

    def summary(self):
        plan = self.record.get("node_plan") or []
        power = self.power_states({node["name"] for node in plan})
        booted = getattr(self, "boot_result", None)
        lines = ["", "netboot.coreos lab (state %s)" % self.dir, "",
                 "%-12s %-17s %-12s %-11s %s" % ("NODE", "MAC", "IP", "VM POWER", "BOOT (QEMU, %s)" % MODEL.name)]
        for node in plan:
            if booted and node["name"] == booted["name"]:
                stage = "%s: %s" % (booted["stages"][-1][0], ", ".join("%s %.1f s" % s for s in booted["stages"]))
                address = booted["ip"] or node.get("ip")
            else:
                stage, address = "not booted (the lab boots the first planned node)", node.get("ip")
            lines.append("%-12s %-17s %-12s %-11s %s" % (node["name"], node["mac"], address or "-",
                                                         power.get(node["name"], "absent"), stage))
        plays = self.record.get("plays", [])
        lines += ["", "site.yml (%.1f s):" % sum(p["seconds"] for p in plays)]
        lines += ["  %-48s %6.1f s  changed=%d" % (p["name"], p["seconds"], p["changed"]) for p in plays]
        srv = self.boot_lab().net.ns("srv")
        lines += ["", "look around:",
                  "  vCenter simulator   https://%s:%s/sdk (user %s; settings in %s)"
                  % (self.vcenter["VMWARE_HOST"], self.vcenter["VMWARE_PORT"], self.vcenter["VMWARE_USER"],
                     self.path("vcsim.env")),
                  "  Rancher API         %s  -- a TEST SERVER (tests/fixtures/rancher_api.py), not Rancher"
                  % self.rancher_env["RANCHER_URL"],
                  "  boot repo (nginx)   http://%s/coreos/boot.ipxe on the lab network: "
                  "ip netns exec %s curl http://%s/coreos/boot.ipxe" % (SERVER_IP, srv, SERVER_IP),
                  "  release mirror      http://127.0.0.1:%d/flatcar/stable/amd64-usr/%s/ (boot server's loopback)"
                  % (MIRROR_PORT, VERSION),
                  "  boot server         podman exec -it %s bash   (nginx, dnsmasq; logs in %s)"
                  % (self.container, self.server)]
        if booted:
            lines.append("  serial log          %s" % "  ".join(booted["serial"]))
        lines += ["  step logs           %s" % self.logs, "", "tear it all down:  make lab-down%s" % (
            "" if self.dir == os.path.join(REPO, "build", "lab") else " LAB_DIR=%s" % self.dir)]
        text = "\n".join(lines) + "\n"
        with open(self.path("summary.txt"), "w") as handle:
            handle.write(text)
        print(text, end="")

    # -- up and down ---------------------------------------------------------------------------------------

    def steps(self, check=False):
        """(name, function) of every step of `up`: what site.yml needs, then site.yml, then the boot."""
        steps = [("simulator", self.simulator), ("release", self.release), ("boot image", self.boot_image),
                 ("network", self.network), ("boot server", self.boot_server), ("mirror", self.mirror),
                 ("rancher", self.rancher)]
        return steps + ([("site.yml check", lambda: self.site(check=True))] if check else [
            ("site.yml", self.site), ("boot", self.boot)])

    def run_steps(self, steps):
        os.makedirs(self.logs, exist_ok=True)
        for number, (name, function) in enumerate(steps, 1):
            self.step(number, len(steps), name, function)

    def up(self, check=False):
        self.run_steps(self.steps(check))
        if check:
            for play in self.record.get("plays", []):
                tasks = [task.split(" : ", 1)[-1] for task in play["changed_tasks"]]
                print("  %-48s would change %d: %s" % (play["name"], play["changed"], "; ".join(tasks) or "-"))
            return
        self.summary()

    def down(self):
        stopped = []
        if subprocess.run(["podman", "container", "exists", self.container], check=False).returncode == 0:
            subprocess.run(["podman", "rm", "--force", "--time", "5", self.container], check=False,
                           stdout=subprocess.DEVNULL)
            stopped.append("boot server " + self.container)
        for name, marker in (("mirror", "serve-mirror"), ("rancher", "rancher_api.py"), ("vcsim", "vcsim")):
            pid = read_pid(self.path(name + ".pid"))
            if pid and alive(pid, marker):
                os.killpg(pid, signal.SIGTERM) if name != "vcsim" else vcsim.stop_pid(pid)
                stopped.append("%s (pid %d)" % (name, pid))
        net = self.boot_lab().net
        have = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split())
        if have & {net.ns("br"), net.ns("srv"), net.ns("cli")}:
            net.down()
            stopped.append("network %s*" % self.prefix)
        shutil.rmtree(self.dir, ignore_errors=True)
        print("lab down: %s; removed %s" % (", ".join(stopped) or "nothing was running", self.dir))


def serve_mirror(state_dir):
    """The lab's release mirror (run inside the boot server's network namespace by the mirror step)."""
    lab = Lab(state_dir)
    mirror = ReleaseMirror(lab.mirror_root, key=SigningKey(lab.path("gnupg")), host="127.0.0.1", port=MIRROR_PORT)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mirror.start()
    with open(lab.path("mirror.ready"), "w") as handle:
        handle.write(mirror.url + "\n")
    stop.wait()
    mirror.server.shutdown()
    mirror.server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "serve-mirror"])
    parser.add_argument("--state-dir", default=os.path.join(REPO, "build", "lab"))
    parser.add_argument("--check", action="store_true", help="run site.yml in check mode (with --diff) and stop")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("lab: run as root (it creates network namespaces, a container and tap devices)")
    lab = Lab(args.state_dir)
    if args.action == "serve-mirror":
        serve_mirror(args.state_dir)
    elif args.action == "down":
        lab.down()
    else:
        try:
            lab.up(check=args.check)
        except StepFailed as failure:
            print(failure.report())
            sys.exit(1)


if __name__ == "__main__":
    main()
