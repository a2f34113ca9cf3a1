"""The node plan is computed in one place (the netboot.coreos.node_plan role) for every playbook that needs it."""

import json
import os

import pytest
import yaml

from conftest import REPO, run_playbook
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan

SHOW_PLAN = """
- name: Show the node plan
  hosts: localhost
  gather_facts: false
  roles:
    - role: netboot.coreos.node_plan
  tasks:
    - name: Print the plan
      ansible.builtin.debug:
        msg: "{{ coreos_node_plan | to_json }}"
"""
PLAN_CONSUMERS = {"netboot.coreos.http_repo", "netboot.coreos.ipxe_dhcp", "netboot.coreos.node_clones"}


def show_plan(tmp_path, inventory, extra_vars=None):
    playbook = tmp_path / "show_plan.yml"
    playbook.write_text(SHOW_PLAN)
    return run_playbook(str(playbook), inventory=inventory, extra_vars=extra_vars)


def printed_plan(run):
    assert run.rc == 0, run.failure_messages() or run.stderr
    return json.loads(run.task_results("Print the plan")[0]["msg"])


def inventory_vars(name):
    with open(os.path.join(REPO, "inventories", name, "group_vars", "all", "cluster.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("name", ["lab", "example"])
def test_inventories_get_the_plan_of_their_description(tmp_path, name):
    described = inventory_vars(name)
    assert "coreos_node_plan" not in described, "the inventory must not carry its own copy of the plan expression"
    expected = build_node_plan(described.get("coreos_nodes"), cluster_name=described["coreos_cluster_name"],
                               count=described["coreos_node_count"], name_format=described["coreos_node_name_format"],
                               ip_range=described["coreos_node_ip_range"],
                               hostname_format=described["coreos_hostname_format"])
    plan = printed_plan(show_plan(tmp_path, os.path.join(REPO, "inventories", name)))
    assert plan == expected and len(plan) == described["coreos_node_count"]


def test_a_count_of_zero_plans_no_nodes_on_purpose(tmp_path):
    assert printed_plan(show_plan(tmp_path, os.path.join(REPO, "inventories", "lab"), {"coreos_node_count": 0})) == []


def write_inventory(tmp_path, described):
    group_vars = tmp_path / "inventory" / "group_vars" / "all"
    group_vars.mkdir(parents=True)
    (group_vars / "cluster.yml").write_text(yaml.safe_dump(dict({"coreos_cluster_name": "t"}, **described)))
    (tmp_path / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    return str(tmp_path / "inventory")


@pytest.mark.parametrize("described, words", [
    ({}, "nothing describes the nodes: give a count (coreos_node_count"),
    ({"coreos_node_cuont": 3}, "coreos_node_cuont is not a node plan setting; the settings are coreos_nodes,"),
    ({"coreos_nodes": [{"name": "w1", "mak": "00:50:56:00:00:01"}]}, "node 'w1': unknown key(s) mak"),
])
def test_a_missing_or_misspelt_description_fails_clearly(tmp_path, described, words):
    run = show_plan(tmp_path, write_inventory(tmp_path, described))
    assert run.rc != 0 and any(words in msg for msg in run.failure_messages()), run.failure_messages()


def test_an_explicit_empty_node_list_plans_no_nodes(tmp_path):
    assert printed_plan(show_plan(tmp_path, write_inventory(tmp_path, {"coreos_nodes": []}))) == []


@pytest.mark.parametrize("count", ["-1", "many"])
def test_scale_with_a_bad_count_names_it_before_touching_vcenter(count):
    run = run_playbook(os.path.join(REPO, "playbooks", "scale.yml"), inventory=os.path.join(REPO, "inventories", "lab"),
                       extra_vars={"scale_node_count": count})
    messages = " ".join(run.failure_messages())
    assert run.rc != 0 and count in messages and ("0 or more" in messages or "int" in messages), messages
    assert not run.task_results("Converge the node VMs"), "the clones must not be reached with a bad count"


def test_scale_count_goes_through_the_same_mechanism(tmp_path):
    playbook = tmp_path / "scale_plan.yml"
    # its own plays (the repo and DHCP plays it imports compute the plan with the same count)
    plays = [p for p in yaml.safe_load(open(os.path.join(REPO, "playbooks", "scale.yml"))) if "roles" in p]
    for play in plays:  # the scale playbook's own plan line, without the clones
        play["roles"] = [r for r in play["roles"] if r["role"] == "netboot.coreos.node_plan"]
        play["tasks"] = yaml.safe_load(SHOW_PLAN)[0]["tasks"]
    playbook.write_text(yaml.safe_dump(plays))
    run = run_playbook(str(playbook), inventory=os.path.join(REPO, "inventories", "lab"),
                       extra_vars={"scale_node_count": 12})
    plan = printed_plan(run)
    assert [n["name"] for n in plan] == ["lab-node%02d" % i for i in range(1, 13)]
    assert plan[:3] == printed_plan(show_plan(tmp_path, os.path.join(REPO, "inventories", "lab")))


def test_every_play_that_needs_the_plan_computes_it_first():
    for name in sorted(os.listdir(os.path.join(REPO, "playbooks"))):
        with open(os.path.join(REPO, "playbooks", name)) as handle:
            plays = yaml.safe_load(handle) or []
        for play in plays:
            roles = [r["role"] if isinstance(r, dict) else r for r in play.get("roles", [])]
            consumers = [i for i, role in enumerate(roles) if role in PLAN_CONSUMERS]
            if consumers:
                assert "netboot.coreos.node_plan" in roles[:consumers[0]], \
                    "%s: play %r uses the node plan without netboot.coreos.node_plan first" % (name, play.get("name"))
