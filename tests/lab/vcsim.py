"""Start and stop the lab vCenter simulator and write its connection settings for Ansible.

    vcsim.py start [--port N] [--state-dir build/lab]   # builds tests/lab's vcsim if needed
    vcsim.py stop  [--state-dir build/lab]

`start` writes STATE_DIR/vcsim.env (VMWARE_* variables for `set -a; . vcsim.env`), STATE_DIR/vcsim.vars.yml
(inventory variables vcenter_*) and STATE_DIR/vcsim.pid. The pytest fixture uses the same functions.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BINARY = os.path.join(REPO, "build", "vcsim")


def build():
    subprocess.run([os.path.join(HERE, "build-vcsim.sh"), BINARY], check=True, stdout=sys.stderr)
    return BINARY


def start(port=0, binary=None, extra_args=()):
    """Start a simulator on 127.0.0.1; return (process, settings dict for the vcenter module options)."""
    binary = binary or build()
    proc = subprocess.Popen([binary, "-listen", "127.0.0.1:%d" % port] + list(extra_args),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("https://"):
        proc.kill()
        raise RuntimeError("vcsim did not start (printed %r)" % line)
    url = urlsplit(line)
    settings = dict(hostname=url.hostname, port=url.port, username=url.username, password=url.password,
                    validate_certs=False)
    return proc, settings


def _exited(pid):
    """Whether ``pid`` has exited; a child of ours is reaped here (unreaped, it would still pass kill(pid, 0))."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        pass  # not our child (a lab simulator started by an earlier command): kill(pid, 0) tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop_pid(pid, timeout=10):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _exited(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def write_settings(state_dir, pid, settings):
    os.makedirs(state_dir, exist_ok=True)
    with open(os.path.join(state_dir, "vcsim.env"), "w") as env:
        env.write("VMWARE_HOST=%(hostname)s\nVMWARE_PORT=%(port)s\nVMWARE_USER=%(username)s\n"
                  "VMWARE_PASSWORD=%(password)s\nVMWARE_VALIDATE_CERTS=false\n" % settings)
    with open(os.path.join(state_dir, "vcsim.vars.yml"), "w") as inv:
        inv.write("---\nvcenter_hostname: %(hostname)s\nvcenter_port: %(port)s\nvcenter_username: %(username)s\n"
                  "vcenter_password: %(password)s\nvcenter_validate_certs: false\n" % settings)
    with open(os.path.join(state_dir, "vcsim.pid"), "w") as pidfile:
        pidfile.write("%d\n" % pid)


def read_pid(state_dir):
    try:
        with open(os.path.join(state_dir, "vcsim.pid")) as pidfile:
            return int(pidfile.read().strip())
    except (OSError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--state-dir", default=os.path.join(REPO, "build", "lab"))
    args = parser.parse_args()
    old = read_pid(args.state_dir)
    if old:
        stop_pid(old)
        os.unlink(os.path.join(args.state_dir, "vcsim.pid"))
    if args.action == "stop":
        print("vcsim stopped" if old else "vcsim was not running")
        return
    proc, settings = start(args.port)
    write_settings(args.state_dir, proc.pid, settings)
    print("vcsim running on https://%(hostname)s:%(port)s (pid %%d); settings in %%s"
          % settings % (proc.pid, args.state_dir))


if __name__ == "__main__":
    main()
