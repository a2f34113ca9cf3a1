"""Shared pytest fixtures: the collection on sys.path, module and playbook runners, the lab vCenter."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
SHARED = os.path.join(os.path.dirname(REPO), "shared")
# Ansible's own files (its local temp directory, caches) go under build/, not ~/.ansible: set before ansible is
# imported, and inherited by every ansible-playbook the tests start
os.environ["ANSIBLE_HOME"] = os.path.join(REPO, "build", "ansible-home")


def _link_collection():
    """Expose the repo as ansible_collections/netboot/coreos (imports and ANSIBLE_COLLECTIONS_PATH)."""
    parent = os.path.join(COLLECTIONS, "ansible_collections", "netboot")
    link = os.path.join(parent, "coreos")
    os.makedirs(parent, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(REPO, link)


_link_collection()
sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests"))  # tests import the helpers below with `from conftest import ...`
sys.path.insert(0, os.path.join(REPO, "tests", "fixtures"))

import vcsim as lab_vcsim  # noqa: E402  pylint: disable=wrong-import-position


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "PYTHONPATH": COLLECTIONS,
        "ANSIBLE_NOCOWS": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    })
    env.update(extra or {})
    return env


def shared_path(*parts):
    """A file under ../shared, or skip the test where ../shared is absent (a user's clone)."""
    path = os.path.join(SHARED, *parts)
    if not os.path.exists(path):
        pytest.skip("needs %s: ../shared is absent (it exists in CI and the developers' work trees)" % path)
    return path


class ModuleResult(dict):
    """A module's JSON result plus the process's exit status and stderr."""

    rc = 0
    stderr = ""


def run_module(name, args, check_mode=False, diff=False, env=None):
    """Run plugins/modules/<name>.py as Ansible does (an args file on argv); return its parsed result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    path = os.path.join(REPO, "plugins", "modules", name + ".py")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    try:
        proc = subprocess.run([sys.executable, path, handle.name], capture_output=True, text=True,
                              env=ansible_env(env), cwd=REPO, check=False)
    finally:
        os.unlink(handle.name)
    try:
        result = ModuleResult(json.loads(proc.stdout))
    except ValueError:
        result = ModuleResult(failed=True, msg="module printed no JSON", module_stdout=proc.stdout)
    result.rc = proc.returncode
    result.stderr = proc.stderr
    return result


class PlaybookRun:
    """The outcome of one ansible-playbook run (ansible.posix.json callback)."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            self.data = {"plays": [], "stats": {}}

    @property
    def stats(self):
        """Summed recap over hosts: ok, changed, failures, unreachable, skipped."""
        total = {}
        for host_stats in self.data.get("stats", {}).values():
            for key, value in host_stats.items():
                total[key] = total.get(key, 0) + value
        return total

    def task_results(self, task_name):
        """Per-host results of every task named ``task_name``."""
        found = []
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                if task["task"]["name"] == task_name:
                    found.extend(task["hosts"].values())
        return found

    def failure_messages(self):
        msgs = []
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                for res in task["hosts"].values():
                    if res.get("failed"):
                        msgs.append(res.get("msg", ""))
        return msgs


def run_playbook(playbook, extra_vars=None, check=False, diff=False, inventory=None, env=None, tags=None):
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook,
           "-i", inventory or "localhost,", "-c", "local"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", tags]
    extra = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    extra.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(extra), cwd=REPO, check=False)
    return PlaybookRun(proc)


@pytest.fixture(scope="session")
def vcsim():
    """A fresh lab vCenter simulator for this test run: the vcenter module options as a dict."""
    proc, settings = lab_vcsim.start()
    yield settings
    lab_vcsim.stop_pid(proc.pid)
    proc.wait()


def vm_folder_missing_message(client, name):
    """The lookup error for folder ``name`` under DC0/vm, listing the folders vCenter holds there now (read
    through pyVmomi, not the client's lookup): other tests of the session add folders of their own."""
    from pyVmomi import vim  # pylint: disable=import-outside-toplevel
    from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError  # pylint: disable=import-outside-toplevel
    datacenter = client.datacenter("DC0")
    folders = [child.name for child in datacenter.vmFolder.childEntity if isinstance(child, vim.Folder)]
    return NotFoundError("folder", name, folders, where="'DC0/vm'").msg


@pytest.fixture(scope="session")
def release_signing_key():
    """A generated GPG signing key for loopback release mirrors (tests/fixtures/release_mirror.py)."""
    from release_mirror import SigningKey  # pylint: disable=import-outside-toplevel
    key = SigningKey()
    yield key
    key.close()


@pytest.fixture
def release_mirror(tmp_path, release_signing_key):
    """A started loopback release mirror signed by the session's key; add releases with add_flatcar() etc."""
    from release_mirror import ReleaseMirror  # pylint: disable=import-outside-toplevel
    with ReleaseMirror(str(tmp_path / "mirror"), key=release_signing_key) as mirror:
        yield mirror
