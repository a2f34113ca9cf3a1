"""The node_clones filters: the role's summary, the playbooks' name lists and the leaving nodes' records."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.filter.node_clones import (
    node_clones_leaving, node_clones_summary, node_names, node_plan_without, node_records)

PLAN = [{"name": "prod-node01", "hostname": "coreos10", "mac": "00:50:56:00:00:01", "ip": "10.0.0.10",
         "roles": ["worker"]},
        {"name": "prod-node02", "hostname": "coreos11", "mac": "00:50:56:00:00:02", "ip": "10.0.0.11",
         "roles": ["etcd", "controlplane"]}]


@pytest.mark.parametrize("value, names", [
    ("prod-node07, prod-node08,,", ["prod-node07", "prod-node08"]),
    (["prod-node07 ", " "], ["prod-node07"]),
    (None, []),
    ("", []),
])
def test_node_names_from_a_string_or_a_list(value, names):
    assert node_names(value) == names


def test_node_names_rejects_anything_else_naming_the_variable():
    with pytest.raises(AnsibleFilterError) as error:
        node_names({"a": 1}, "decommission_node_names")
    assert str(error.value) == ("decommission_node_names must be node names, as a list or separated by commas "
                                "(node07,node08); got {'a': 1}")


def test_node_records_take_the_plan_record_or_just_the_name():
    assert node_records(["prod-node02", "other"], PLAN) == [PLAN[1], {"name": "other"}]
    assert node_records(["prod-node02"], []) == [{"name": "prod-node02"}]


def test_node_plan_without_names():
    assert node_plan_without(PLAN, "prod-node01, nope") == [PLAN[1]]
    assert node_plan_without(PLAN, []) == PLAN


def test_leaving_nodes_carry_uuid_hostname_and_roles_where_planned():
    result = [{"name": "prod-node02", "action": "deleted", "uuid": "u2", "mac": "m", "power_state": None},
              {"name": "prod-node01", "action": "unchanged", "uuid": "u1"},
              {"name": "prod-node09", "action": "deleted", "uuid": "u9"},
              {"name": "prod-node10", "action": "not_managed", "uuid": None}]
    assert node_clones_leaving(result, PLAN) == [
        {"name": "prod-node02", "uuid": "u2", "hostname": "coreos11", "roles": ["etcd", "controlplane"]},
        {"name": "prod-node09", "uuid": "u9", "hostname": None, "roles": []}]


def test_summary_lines_and_a_foreign_vm_left_alone():
    result = [{"name": "prod-node01", "mac": "00:50:56:00:00:01", "power_state": "poweredOn", "action": "cloned"},
              {"name": "prod-node02", "mac": None, "power_state": None, "action": "unchanged"},
              {"name": "prod-node09", "mac": "00:50:56:aa:bb:cc", "power_state": "poweredOn",
               "action": "not_managed"},
              {"name": "prod-node03", "mac": None, "power_state": None, "action": "failed", "error": "name taken"}]
    assert node_clones_summary(result, PLAN) == [
        "NODE                     MAC               IP              POWER       ACTION",
        "prod-node01              00:50:56:00:00:01 10.0.0.10       poweredOn   cloned",
        "prod-node02              -                 10.0.0.11       absent      unchanged",
        "prod-node09              00:50:56:aa:bb:cc -               poweredOn   not managed, left alone",
        "prod-node03              -                 -               absent      failed: name taken"]
