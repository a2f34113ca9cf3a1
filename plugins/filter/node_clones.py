# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the node_clones role and the scale, decommission and reinstall playbooks (documented in
node_clones_summary.yml, node_clones_leaving.yml, node_names.yml, node_records.yml and node_plan_without.yml)."""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

SUMMARY_ROW = "%-24s %-17s %-15s %-11s %s"
# how the summary words an action that is not self-explanatory
ACTION_WORDS = {"not_managed": "not managed, left alone"}


def node_names(value, variable="node names"):
    """The node names in ``value`` (a comma-separated string or a list), trimmed, without empty ones."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        value = to_text(value).split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(name, (str, bytes)) for name in value):
        raise AnsibleFilterError("%s must be node names, as a list or separated by commas (node07,node08); got %r"
                                 % (variable, value))
    return [to_text(name).strip() for name in value if to_text(name).strip()]


def node_records(names, plan):
    """For each name, its node plan record, or a record of just the name when the plan has none."""
    by_name = {node["name"]: node for node in plan or []}
    return [by_name.get(name, {"name": name}) for name in names]


def node_plan_without(plan, names):
    """The node plan without the nodes named in ``names`` (a list or a comma-separated string)."""
    leaving = set(node_names(names))
    return [node for node in plan if node["name"] not in leaving]


def node_clones_leaving(nodes, plan=None):
    """The VMs a vmware_node_clones result deletes (or would delete), as cluster_node_remove takes them: the VM
    name and BIOS UUID, with the host name and roles of the node plan's record where it has one."""
    by_name = {node["name"]: node for node in plan or []}
    leaving = []
    for node in nodes or []:
        if node["action"] == "deleted":
            record = by_name.get(node["name"], {})
            leaving.append({"name": node["name"], "uuid": node.get("uuid"), "hostname": record.get("hostname"),
                            "roles": record.get("roles") or []})
    return leaving


def node_clones_summary(nodes, plan=None):
    """The summary lines of a vmware_node_clones result: a header, then per node its name, MAC, planned IP,
    power state (absent: no VM) and action (with the error of a failed node)."""
    ips = {node["name"]: node.get("ip") for node in plan or []}
    lines = [SUMMARY_ROW % ("NODE", "MAC", "IP", "POWER", "ACTION")]
    for node in nodes or []:
        action = ACTION_WORDS.get(node["action"], node["action"])
        if node.get("error"):
            action += ": " + node["error"]
        lines.append(SUMMARY_ROW % (node["name"], node.get("mac") or "-", ips.get(node["name"]) or "-",
                                    node.get("power_state") or "absent", action))
    return lines


class FilterModule(object):
    def filters(self):
        return {"node_names": node_names, "node_records": node_records, "node_plan_without": node_plan_without,
                "node_clones_leaving": node_clones_leaving, "node_clones_summary": node_clones_summary}
