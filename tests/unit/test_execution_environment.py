"""execution-environment.yml: `ansible-builder create` writes a build context (no container engine needed) whose
Python and system lists hold what the collection's code imports and runs, on Debian and on RPM platforms."""

import ast
import importlib.metadata
import os
import subprocess
import sys

import pytest
import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

from ansible_collections.netboot.coreos.plugins.module_utils.release_verify import GPGV_COMMAND

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
NOT_THIRD_PARTY = {"__future__", "ansible", "ansible_collections"}
# commands the collection's code runs on the controller -> the package that provides them per platform
COMMANDS = {GPGV_COMMAND: {"platform:dpkg": "gnupg", "platform:rpm": "gnupg2"}}


def third_party_imports():
    """Top-level names of the modules imported anywhere under plugins/ that are not stdlib or Ansible."""
    names = set()
    for root, _dirs, files in os.walk(os.path.join(REPO, "plugins")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(root, name)) as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names.update(alias.name.split(".")[0] for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in NOT_THIRD_PARTY}


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml",
                           "-c", str(out), "--output-filename", "Containerfile"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def requirements(path):
    """Name (lower case) -> specifier of each requirement line of a pip requirements file."""
    found = {}
    with open(path) as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                requirement = Requirement(line)
                found[requirement.name.lower()] = str(requirement.specifier)
    return found


def test_definition_pins_ansible_core_and_runner_like_requirements_dev():
    with open(os.path.join(REPO, "execution-environment.yml")) as handle:
        definition = yaml.safe_load(handle)
    dev = requirements(os.path.join(REPO, "requirements-dev.txt"))
    assert definition["version"] == 3
    for key, name in (("ansible_core", "ansible-core"), ("ansible_runner", "ansible-runner")):
        pinned = Requirement(definition["dependencies"][key]["package_pip"])
        assert pinned.name == name and str(pinned.specifier) == dev[name]


def test_context_lists_every_python_library_the_code_imports(context):
    listed = set(requirements(context / "_build" / "requirements.txt"))
    distributions = importlib.metadata.packages_distributions()
    imported = third_party_imports()
    assert "pyVmomi" in imported  # the scan itself works
    for module in imported:
        wanted = {d.lower() for d in distributions.get(module, [module])}
        assert wanted & listed, "plugins import %s (%s) but requirements.txt does not list it" % (module, wanted)


@pytest.mark.parametrize("platform", ["platform:dpkg", "platform:rpm"])
def test_context_lists_the_commands_the_code_runs(context, platform):
    with open(context / "_build" / "bindep.txt") as handle:
        depends = Depends(handle.read())
    packages = set(depends.list_all_packages(depends.active_rules([platform])))
    for command, providers in COMMANDS.items():
        assert providers[platform] in packages, "%s needs %s on %s" % (command, providers[platform], platform)


def test_image_build_introspection_merges_the_installed_collection(context, tmp_path):
    """What the image's builder stage runs: the collection's meta/execution-environment.yml is found too."""
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    proc = subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                           os.path.join(REPO, "build", "collections"),
                           "--user-pip", str(context / "_build" / "requirements.txt"),
                           "--user-bindep", str(context / "_build" / "bindep.txt"),
                           "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "pyvmomi>=8.0.1.0  # from collection netboot.coreos" in pip_out.read_text().splitlines()
    assert "gnupg2 [platform:rpm]  # from collection netboot.coreos" in bindep_out.read_text().splitlines()


def test_containerfile_builds_from_the_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==' in containerfile
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile
