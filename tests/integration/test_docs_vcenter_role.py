"""docs/production.md's vCenter role against the code and the simulator: every vSphere call the modules make has
a row in the privileges table, every privilege of the table is in the role to paste (govc and PowerCLI), and the
simulator's authorization manager, which refuses unknown privilege ids, accepts the role."""

import os
import re
import uuid

import pytest
from pyVmomi import VmomiSupport, vmodl

from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from conftest import REPO

PAGE = os.path.join(REPO, "docs", "production.md")
UTILS = os.path.join(REPO, "plugins", "module_utils")
# the module_utils that talk to vCenter, those that use pyVmomi (the modules' files only parse options and call these)
SOURCES = sorted(name for name in os.listdir(UTILS) if name.endswith(".py")
                 and "pyVmomi" in open(os.path.join(UTILS, name)).read())
PRIVILEGE = re.compile(r"`([A-Z]\w*(?:\.[A-Z]\w*)+)`")


def section(title):
    text = open(PAGE).read()
    start = text.index("\n## %s\n" % title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def table_rows():
    """{vSphere method: set of privilege ids} from the privileges table (`Type.Method` cells, `HTTP VERB /folder`)."""
    rows = {}
    for line in section("vCenter privileges").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for call in re.findall(r"`([^`]+)`", cells[0]):
            rows[call.split(" /")[0] if call.startswith("HTTP") else call.rsplit(".", 1)[-1]] = set(
                PRIVILEGE.findall(cells[2]))
    return rows


def vsphere_method_names():
    """Every method name of pyVmomi's managed types, as pyVmomi code may spell it."""
    names = set()
    for definition in VmomiSupport._managedDefMap.values():  # pylint: disable=protected-access
        for method in definition[5] or []:
            names.update((method[1], method[0][:1].upper() + method[0][1:]))
    return names


def calls_in_code():
    """The vSphere methods and datastore HTTP verbs the collection's vCenter code uses."""
    methods, known = set(), vsphere_method_names()
    assert {"vcenter.py", "ipxe_template.py", "node_clones.py"} <= set(SOURCES)
    for name in SOURCES:
        with open(os.path.join(UTILS, name)) as handle:
            text = handle.read()
        methods.update(m for m in re.findall(r"\.([A-Z]\w*)\b", text) if m in known)
        methods.update("HTTP " + verb for verb in re.findall(r'_datastore_file_request\(\s*"([A-Z]+)"', text))
    return methods


def role_blocks():
    """(govc privileges, PowerCLI privileges) of 'The role, ready to paste'."""
    text = section("vCenter privileges")
    govc = re.search(r"```sh\n(govc role\.create netboot-coreos .*?)\ngovc permissions", text, re.S).group(1)
    powercli = re.search(r"```powershell\n(New-VIRole .*?)```", text, re.S).group(1)
    return (set(re.findall(r"\b[A-Z]\w*(?:\.[A-Z]\w*)+\b", govc)),
            set(re.findall(r"'([A-Z]\w*(?:\.[A-Z]\w*)+)'", powercli)))


def test_every_vsphere_call_of_the_code_has_a_row_and_no_row_is_stale():
    code, documented = calls_in_code(), set(table_rows())
    assert {"CloneVM_Task", "CreateVM_Task", "ReconfigVM_Task", "Destroy_Task", "HTTP PUT"} <= code  # the scan works
    assert code - documented == set(), "vSphere calls without a row in docs/production.md"
    assert documented - code == set(), "rows of docs/production.md for calls the code no longer makes"


def test_the_role_holds_every_privilege_of_the_table_and_nothing_else():
    wanted = set().union(*table_rows().values()) - {"System.Read", "System.View", "System.Anonymous"}
    govc, powercli = role_blocks()
    assert govc == wanted
    assert powercli == wanted


@pytest.mark.vcsim
def test_the_simulator_accepts_the_role_and_refuses_an_unknown_privilege(vcsim):
    govc = sorted(role_blocks()[0])
    with VCenterClient.from_params(vcsim) as client:
        manager = client.content.authorizationManager
        name = "netboot-coreos-" + uuid.uuid4().hex[:6]
        role_id = manager.AddAuthorizationRole(name=name, privIds=govc)
        role = next(r for r in manager.roleList if r.roleId == role_id)
        assert set(govc) <= set(role.privilege)
        with pytest.raises(vmodl.fault.InvalidArgument):
            manager.AddAuthorizationRole(name=name + "-typo", privIds=govc + ["VirtualMachine.Provisioning.Deploy"])
        manager.RemoveAuthorizationRole(roleId=role_id, failIfUsed=False)
