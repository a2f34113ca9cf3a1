"""wait_for_tasks' polling and timeout logic (the simulator finishes every task before answering)."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import TaskTimeoutError, VCenterClient, VCenterError


class _Task:
    def __init__(self, moid):
        self._moId = moid


class ScriptedStates(VCenterClient):
    """A client whose task reads come from a script of states, one list per poll."""

    def __init__(self, polls):
        super(ScriptedStates, self).__init__("vc.example.com", "u", "p")
        self.polls = list(polls)
        self.reads = 0

    def retrieve_objects(self, objects, properties):
        states = self.polls[min(self.reads, len(self.polls) - 1)]
        self.reads += 1
        return [{"obj": t, "info.state": states[t._moId]} for t in objects]


def test_outcomes_follow_task_order_and_poll_in_bulk():
    tasks = [_Task("task-1"), _Task("task-2")]
    client = ScriptedStates([{"task-1": "running", "task-2": "success"},
                             {"task-1": "success", "task-2": "success"}])
    outcomes = client.wait_for_tasks(tasks, timeout=5, poll=0.001)
    assert [o.task for o in outcomes] == tasks
    assert all(o.ok for o in outcomes)
    assert client.reads == 2


def test_timeout_names_the_pending_tasks():
    client = ScriptedStates([{"task-7": "running", "task-8": "success"}])
    with pytest.raises(TaskTimeoutError) as err:
        client.wait_for_tasks([_Task("task-7"), _Task("task-8")], timeout=0.05, poll=0.001)
    assert str(err.value) == "1 vCenter task(s) still running after 0.05s: task-7"


def test_call_maps_a_fault_raised_at_task_start_to_one_line():
    """CreateVM_Task raises DuplicateName when it is started, before any task exists."""
    from pyVmomi import vim

    def create_vm_task(**_spec):
        raise vim.fault.DuplicateName(name="tpl", msg="The name 'tpl' already exists.")

    client = VCenterClient("vc.example.com", "u", "p")
    with pytest.raises(VCenterError) as err:
        client.run_task("creating VM 'tpl'", create_vm_task, config=None)
    assert str(err.value) == "creating VM 'tpl' failed: The name 'tpl' already exists."


def test_call_maps_a_dropped_connection():
    import http.client

    def dropped():
        raise http.client.RemoteDisconnected("Remote end closed connection without response")

    with pytest.raises(VCenterError) as err:
        VCenterClient("vc.example.com", "u", "p", port=8443).call("clone of node 'n1'", dropped)
    assert str(err.value) == ("clone of node 'n1' failed: connection to vCenter https://vc.example.com:8443 lost "
                              "(Remote end closed connection without response)")


def test_a_fault_opening_the_inventory_view_is_one_line():
    """The container view of a bulk read is a vSphere call too: its fault goes through call, not as a traceback."""
    from pyVmomi import vim

    class ViewManager:
        def CreateContainerView(self, *_args):  # noqa: N802  pylint: disable=invalid-name
            raise vim.fault.NoPermission(privilegeId="System.View", msg="Permission to perform this operation was denied.")

    class Content:
        viewManager = ViewManager()
        rootFolder = None

    class NoView(VCenterClient):
        content = Content()

    with pytest.raises(VCenterError) as err:
        NoView("vc.example.com", "u", "p").retrieve(vim.VirtualMachine, ["name"])
    assert str(err.value) == "reading vCenter inventory failed: Permission to perform this operation was denied."
