# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a cluster has and uses, per node: the work of netboot.coreos.cluster_capacity_info.

No AnsibleModule in here. ``read_capacity`` makes three list calls through one ``KubernetesClient`` (nodes,
pods, NodeMetrics of metrics.k8s.io) and returns, per node, CPU (cores) and memory (bytes) allocatable, used
(metrics-server's working set) and requested (the sum of its pods' requests), the node's roles and whether
this collection manages it (its name is a host name of the node plan) and may remove it (managed, and
neither etcd nor controlplane); plus the pods pending because no node has the CPU or memory they request,
and the totals over the nodes that take workloads (schedulable workers).
"""

import re

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import (
    KubernetesAPIError, KubernetesError, KubernetesNotFoundError, quantity)

RESOURCES = ("cpu", "memory")
# Role labels of RKE1 (controlplane), RKE2/K3s and kubeadm (control-plane, master).
ROLE_LABELS = (
    ("etcd", "node-role.kubernetes.io/etcd"),
    ("controlplane", "node-role.kubernetes.io/controlplane"),
    ("controlplane", "node-role.kubernetes.io/control-plane"),
    ("controlplane", "node-role.kubernetes.io/master"),
    ("worker", "node-role.kubernetes.io/worker"),
)
PROTECTED_ROLES = ("etcd", "controlplane")
# The scheduler's reason when no node has room: "0/3 nodes are available: 3 Insufficient cpu, ..."
INSUFFICIENT = re.compile(r"Insufficient (cpu|memory)")
METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/nodes"


class MetricsUnavailableError(KubernetesError):
    """The cluster has no working metrics.k8s.io API (metrics-server missing or down)."""


def plan_index(plan_nodes):
    """Kubernetes node name (the plan's host name, else its name) -> plan record."""
    index = {}
    for record in plan_nodes or []:
        if isinstance(record, str):
            record = {"name": record}
        if not isinstance(record, dict) or not record.get("name"):
            raise ValidationError("nodes must be node plan records (mappings with a name) or names; got %r" % (record,))
        index[record.get("hostname") or record["name"]] = record
    return index


def node_roles(node, record):
    labels = node["metadata"].get("labels") or {}
    roles = set(role for role, label in ROLE_LABELS if labels.get(label) == "true")
    roles.update((record or {}).get("roles") or [])
    if not roles:
        roles.add("worker")  # a node without role labels takes workloads (plain Kubernetes)
    return sorted(roles)


def pod_requests(pod):
    """A pod's effective request per resource: the larger of its containers' sum and its largest init container."""
    spec = pod.get("spec") or {}
    result = {}
    for resource in RESOURCES:
        def request(container):
            value = ((container.get("resources") or {}).get("requests") or {}).get(resource)
            return quantity(value) if value is not None else 0.0
        running = sum(request(c) for c in spec.get("containers") or [])
        init = max([request(c) for c in spec.get("initContainers") or []] or [0.0])
        result[resource] = max(running, init)
    return result


def unschedulable_for(pod):
    """The resources (cpu, memory) a pending pod waits for, from its PodScheduled=False Unschedulable condition."""
    if (pod.get("status") or {}).get("phase") != "Pending" or (pod.get("spec") or {}).get("nodeName"):
        return []
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False" \
                and condition.get("reason") == "Unschedulable":
            return sorted(set(INSUFFICIENT.findall(condition.get("message") or "")))
    return []


def ratio(part, whole):
    return round(part / whole, 4) if whole else 0.0


def read_metrics(client):
    try:
        return client.list(METRICS_PATH)
    except KubernetesNotFoundError:
        raise MetricsUnavailableError(
            "%s has no metrics.k8s.io API (GET %s answered HTTP 404): install metrics-server "
            "(https://github.com/kubernetes-sigs/metrics-server), which autoscaling on CPU and memory use reads"
            % (client.label, METRICS_PATH), url=client.shown_url)
    except KubernetesAPIError as exc:
        if exc.details.get("status") in (503, 502):
            raise MetricsUnavailableError(
                "%s has the metrics.k8s.io API but metrics-server does not answer (HTTP %s): check the "
                "metrics-server deployment in kube-system" % (client.label, exc.details["status"]),
                url=client.shown_url)
        raise


def read_capacity(client, plan_nodes=None):
    """The cluster's capacity and use (see the module docstring); ``plan_nodes``: the node plan's records."""
    plan = plan_index(plan_nodes)
    nodes = client.list("/api/v1/nodes")
    pods = client.list("/api/v1/pods")
    usage = dict((m["metadata"]["name"], m.get("usage") or {}) for m in read_metrics(client))
    requested = {}
    counts = {}
    pending = []
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase")
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name and phase not in ("Succeeded", "Failed"):
            totals = requested.setdefault(node_name, dict.fromkeys(RESOURCES, 0.0))
            for resource, value in pod_requests(pod).items():
                totals[resource] += value
            counts[node_name] = counts.get(node_name, 0) + 1
        waiting = unschedulable_for(pod)
        if waiting:
            pending.append(dict(namespace=pod["metadata"].get("namespace", ""), name=pod["metadata"]["name"],
                                insufficient=waiting, requests=pod_requests(pod)))
    result_nodes = []
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        record = plan.get(name)
        roles = node_roles(node, record)
        allocatable = dict((r, quantity(((node.get("status") or {}).get("allocatable") or {}).get(r, 0)))
                           for r in RESOURCES)
        used = dict((r, quantity(usage.get(name, {}).get(r, 0))) for r in RESOURCES)
        asked = requested.get(name, dict.fromkeys(RESOURCES, 0.0))
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (node.get("status") or {}).get("conditions") or [])
        result_nodes.append(dict(
            name=name, plan_name=(record or {}).get("name", ""), managed=record is not None, roles=roles,
            removable=record is not None and not set(roles) & set(PROTECTED_ROLES),
            unschedulable=bool((node.get("spec") or {}).get("unschedulable")), ready=ready,
            has_metrics=name in usage, allocatable=allocatable, used=used, requested=asked,
            used_ratio=dict((r, ratio(used[r], allocatable[r])) for r in RESOURCES),
            requested_ratio=dict((r, ratio(asked[r], allocatable[r])) for r in RESOURCES),
            pods=counts.get(name, 0)))
    return dict(nodes=result_nodes, pending=pending, totals=totals_of(result_nodes),
                managed=[n["name"] for n in result_nodes if n["managed"]],
                removable=[n["name"] for n in result_nodes if n["removable"]])


def takes_workloads(node):
    return "worker" in node["roles"] and not node["unschedulable"] and node["ready"]


def totals_of(nodes):
    """Sums and ratios over the nodes that take workloads (schedulable, ready workers)."""
    counted = [n for n in nodes if takes_workloads(n)]
    sums = dict((key, dict((r, sum(n[key][r] for n in counted)) for r in RESOURCES))
                for key in ("allocatable", "used", "requested"))
    sums.update(used_ratio=dict((r, ratio(sums["used"][r], sums["allocatable"][r])) for r in RESOURCES),
                requested_ratio=dict((r, ratio(sums["requested"][r], sums["allocatable"][r])) for r in RESOURCES),
                nodes=len(counted))
    return sums
