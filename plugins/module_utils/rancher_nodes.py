# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodes of a Rancher cluster, read through RancherClient, and waiting until given hosts registered.

No AnsibleModule in here. ``read_nodes`` lists a cluster's v3 node objects (paginated) as plain records;
``rancher_node_info`` is the work of netboot.coreos.rancher_node_info: read them once, or poll until every
wanted host name is registered, with an error that names the missing hosts when the time is up.
"""

import time

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import (
    RancherClient, RancherError, find_cluster)


class RancherWaitError(RancherError):
    """Hosts that were waited for did not register in time."""


def node_record(item):
    """A v3 node as the module returns it: id, host name, Kubernetes node name, state and Rancher roles."""
    roles = [role for role, key in (("etcd", "etcd"), ("controlplane", "controlPlane"), ("worker", "worker"))
             if item.get(key)]
    return {"id": item.get("id"), "hostname": item.get("hostname") or item.get("requestedHostname"),
            "node_name": item.get("nodeName") or item.get("hostname"), "state": item.get("state"), "roles": roles}


def read_nodes(client, cluster_id):
    """Every node of the cluster ``cluster_id`` (all pages)."""
    return [node_record(item) for item in client.collection("/v3/nodes", {"clusterId": cluster_id})]


def missing_hosts(nodes, hostnames):
    """The host names in ``hostnames`` that no node is registered as (by host name or node name)."""
    known = {node["hostname"] for node in nodes} | {node["node_name"] for node in nodes}
    return [name for name in hostnames if name not in known]


def rancher_node_info(params, sleep=time.sleep, clock=time.monotonic):
    """``(False, result)``: the cluster's nodes; with ``wait``, once every host in ``hostnames`` is registered."""
    if params["wait_timeout"] < 0 or params["wait_delay"] <= 0:
        raise ValidationError("wait_timeout must be 0 or more and wait_delay more than 0 (got wait_timeout=%s, "
                              "wait_delay=%s)" % (params["wait_timeout"], params["wait_delay"]))
    client = RancherClient.from_params(params)
    cluster = find_cluster(client, params["cluster"])
    hostnames = params["hostnames"] or []
    deadline = clock() + params["wait_timeout"]
    polls = 0
    while True:
        nodes = read_nodes(client, cluster["id"])
        polls += 1
        missing = missing_hosts(nodes, hostnames)
        if not missing or not params["wait"]:
            return False, dict(cluster_id=cluster["id"], nodes=nodes, missing=missing, polls=polls)
        if clock() >= deadline:
            registered = sorted(node["hostname"] or node["node_name"] or "?" for node in nodes)
            raise RancherWaitError(
                "%d of %d hosts did not register in Rancher cluster %s (%s) within %ss: %s; registered: %s. "
                "Check the nodes' consoles (the rancher-join unit) or raise wait_timeout"
                % (len(missing), len(hostnames), params["cluster"], cluster["id"], params["wait_timeout"],
                   ", ".join(missing), ", ".join(registered) or "none"),
                cluster_id=cluster["id"], missing=missing, nodes=nodes)
        sleep(params["wait_delay"])
