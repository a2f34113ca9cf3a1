# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking node VMs out of the cluster safely before they are deleted: cordon, evict, remove from Rancher.

No AnsibleModule in here. ``remove_cluster_nodes`` is the work of netboot.coreos.cluster_node_remove. The
nodes given are VMs this collection manages (the caller read their ownership marker in vCenter); each is
found in Kubernetes by its BIOS UUID (``status.nodeInfo.systemUUID``), else by its planned host name, else
by its VM name. Everything is read and checked first: a node with the etcd or control plane role stops the
run before anything changes. Then every leaving node is cordoned, its pods are evicted through the Eviction
API (policy/v1, so PodDisruptionBudgets are honoured; DaemonSet and mirror pods stay, as ``kubectl drain``
leaves them), and once their pods are gone the nodes are removed from Rancher: the cluster.x-k8s.io Machine
of an RKE2/K3s (v2prov) cluster, else the v3 node; Rancher then deletes the Kubernetes node. Reached by
kubeconfig alone, the Node object is deleted. An eviction a PodDisruptionBudget refuses
(HTTP 429) stops the run: the nodes it cordoned are uncordoned and nothing is removed.
"""

import time
from urllib.parse import quote

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import (
    KubernetesClient, KubernetesNotFoundError, KubernetesTooManyRequestsError)
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import (
    V2PROV_OWNER, V2PROV_OWNER_ANNOTATION, RancherClient, find_cluster)
from ansible_collections.netboot.coreos.plugins.module_utils.rancher_nodes import read_nodes

# Kubernetes role labels of the nodes a scale-down never removes (RKE1, RKE2/K3s and kubeadm spellings)
PROTECTED_LABELS = ("node-role.kubernetes.io/etcd", "node-role.kubernetes.io/controlplane",
                    "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
PROTECTED_ROLES = ("etcd", "controlplane")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
# what each node's entry says happened (the same words in check mode)
REMOVED, NOT_IN_CLUSTER = "removed", "not_in_cluster"


class DrainError(NetbootError):
    """The drain stopped (an eviction refused, pods that did not leave in time); nothing was removed."""


def uuid_forms(uuid):
    """A VM's BIOS UUID as Linux may report it: as vSphere shows it, and with the first three fields byte-swapped
    (SMBIOS before VM hardware version 13)."""
    if not uuid:
        return set()
    uuid = uuid.lower()
    parts = uuid.split("-")
    if len(parts) != 5:
        return {uuid}

    def swap(field):
        return "".join(reversed([field[i:i + 2] for i in range(0, len(field), 2)]))

    return {uuid, "-".join([swap(parts[0]), swap(parts[1]), swap(parts[2])] + parts[3:])}


def find_kube_node(leaving, kube_nodes):
    """The Kubernetes Node of a leaving VM: by BIOS UUID, else planned host name, else VM name; or None."""
    forms = uuid_forms(leaving.get("uuid"))
    by_uuid = [n for n in kube_nodes
               if ((n.get("status") or {}).get("nodeInfo") or {}).get("systemUUID", "").lower() in forms]
    if by_uuid:
        return by_uuid[0]
    by_name = {n["metadata"]["name"]: n for n in kube_nodes}
    for name in (leaving.get("hostname"), leaving["name"]):
        if name and name in by_name:
            return by_name[name]
    return None


def evictable(pod):
    """Pods a drain evicts: not finished, not a mirror (static) pod, not a DaemonSet's."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    metadata = pod.get("metadata") or {}
    if MIRROR_ANNOTATION in (metadata.get("annotations") or {}):
        return False
    return not any(owner.get("kind") == "DaemonSet" for owner in metadata.get("ownerReferences") or [])


def protected_roles(leaving, kube_node, rancher_node):
    """The etcd / control plane roles the plan, Kubernetes or Rancher give the node."""
    roles = {r for r in leaving.get("roles") or [] if r in PROTECTED_ROLES}
    labels = (kube_node or {}).get("metadata", {}).get("labels") or {}
    roles.update(label.rsplit("/", 1)[1] for label in PROTECTED_LABELS if label in labels)
    roles.update(r for r in (rancher_node or {}).get("roles", []) if r in PROTECTED_ROLES)
    return sorted(roles)


class ClusterNodeRemoval:
    """One run: the leaving nodes as found in Kubernetes and Rancher, and the steps that take them out."""

    def __init__(self, kube, rancher, cluster, nodes, drain_timeout, sleep=time.sleep, clock=time.monotonic):
        self.kube, self.rancher, self.cluster = kube, rancher, cluster
        self.drain_timeout = drain_timeout
        self.sleep, self.clock = sleep, clock
        self.nodes = nodes
        self.cordoned = []

    def read(self):
        """Per leaving node: (record, Kubernetes node, Rancher node); ValidationError for a protected node."""
        kube_nodes = self.kube.list("/api/v1/nodes")
        rancher_nodes = read_nodes(self.rancher, self.cluster["id"]) if self.rancher else []
        self.machines = self.read_machines()
        found, refused = [], []
        for leaving in self.nodes:
            kube_node = find_kube_node(leaving, kube_nodes)
            node_name = kube_node["metadata"]["name"] if kube_node else None
            rancher_node = next((r for r in rancher_nodes if node_name and node_name in (r["node_name"], r["hostname"])),
                                None)
            roles = protected_roles(leaving, kube_node, rancher_node)
            if roles:
                refused.append("%s (%s)" % (leaving["name"], ", ".join(roles)))
            found.append((leaving, kube_node, rancher_node))
        if refused:
            raise ValidationError(
                "a scale-down never removes etcd or control plane nodes: %s; nothing was changed. Remove them by "
                "hand once the cluster no longer needs them, or choose other nodes" % "; ".join(refused))
        return found

    def read_machines(self):
        """Node name -> steve id of the cluster's Machines (v2prov clusters only; Rancher removes those nodes
        through their Machine)."""
        if not self.rancher or (self.cluster.get("annotations") or {}).get(V2PROV_OWNER_ANNOTATION) != V2PROV_OWNER:
            return {}
        machines = {}
        for machine in self.rancher.collection("/v1/cluster.x-k8s.io.machines"):
            labels = (machine.get("metadata") or {}).get("labels") or {}
            node_ref = (machine.get("status") or {}).get("nodeRef") or {}
            if labels.get("cluster.x-k8s.io/cluster-name") == self.cluster.get("name") and node_ref.get("name"):
                machines[node_ref["name"]] = machine["id"]
        return machines

    def pods_on(self, node_name):
        return [p for p in self.kube.list("/api/v1/pods", {"fieldSelector": "spec.nodeName=%s" % node_name})
                if evictable(p)]

    def run(self, check_mode):
        found = self.read()
        entries, members = [], []
        for leaving, kube_node, rancher_node in found:
            entry = {"name": leaving["name"], "kubernetes_node": kube_node["metadata"]["name"] if kube_node else None,
                     "rancher_node": rancher_node["id"] if rancher_node else None,
                     "action": REMOVED if kube_node or rancher_node else NOT_IN_CLUSTER, "evicted": []}
            entries.append(entry)
            if kube_node or rancher_node:
                members.append((entry, kube_node, rancher_node))
        if check_mode or not members:
            for entry, kube_node, _rancher in members:
                if kube_node:
                    entry["evicted"] = ["%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"])
                                        for p in self.pods_on(kube_node["metadata"]["name"])]
            return bool(members), dict(nodes=entries)
        try:
            # every leaving node first, so that no evicted pod is scheduled onto another leaving node
            for _entry, kube_node, _rancher in members:
                if kube_node and not (kube_node.get("spec") or {}).get("unschedulable"):
                    self.kube.cordon(kube_node["metadata"]["name"])
                    self.cordoned.append(kube_node["metadata"]["name"])
            for entry, kube_node, _rancher in members:
                if kube_node:
                    entry["evicted"] = self.evict(kube_node["metadata"]["name"])
            self.wait_gone([kube_node["metadata"]["name"] for _e, kube_node, _r in members if kube_node])
        except DrainError:
            self.uncordon()
            raise
        for entry, kube_node, rancher_node in members:
            machine = self.machines.get(entry["kubernetes_node"])
            if machine:
                self.rancher.request("DELETE", "/v1/cluster.x-k8s.io.machines/%s" % quote(machine, safe="/"))
            elif rancher_node:
                self.rancher.request("DELETE", "/v3/nodes/%s" % quote(rancher_node["id"], safe=":"))
            else:
                self.kube.delete("/api/v1/nodes/%s" % quote(kube_node["metadata"]["name"], safe=""))
        return True, dict(nodes=entries)

    def evict(self, node_name):
        evicted = []
        for pod in self.pods_on(node_name):
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            try:
                self.kube.evict(namespace, name)
            except KubernetesNotFoundError:
                continue  # gone already
            except KubernetesTooManyRequestsError as exc:
                raise DrainError(
                    "evicting pod %s/%s from node %s was refused (HTTP 429, a PodDisruptionBudget allows no "
                    "disruption now): the scale-down stopped; %s uncordoned, nothing removed from Rancher and no VM "
                    "deleted. Rerun when the budget allows it. (%s)"
                    % (namespace, name, node_name, ", ".join(self.cordoned) or "no node was", exc.msg))
            evicted.append("%s/%s" % (namespace, name))
        return evicted

    def wait_gone(self, node_names):
        deadline = self.clock() + self.drain_timeout
        delay = 1
        while True:
            left = ["%s/%s on %s" % (p["metadata"]["namespace"], p["metadata"]["name"], name)
                    for name in node_names for p in self.pods_on(name)]
            if not left:
                return
            if self.clock() >= deadline:
                raise DrainError("pods still on the leaving nodes after %ss: %s; the scale-down stopped, nodes "
                                 "uncordoned, nothing removed. Raise drain_timeout or look at the pods"
                                 % (self.drain_timeout, ", ".join(left)))
            self.sleep(delay)
            delay = min(delay * 2, 10)

    def uncordon(self):
        for name in self.cordoned:
            self.kube.cordon(name, unschedulable=False)


def remove_cluster_nodes(params, check_mode, sleep=time.sleep, clock=time.monotonic):
    """The module's work: ``(changed, result)``."""
    if params["drain_timeout"] < 0:
        raise ValidationError("drain_timeout must be 0 or more, got %s" % params["drain_timeout"])
    for node in params["nodes"]:
        if not isinstance(node, dict) or not node.get("name"):
            raise ValidationError("each of nodes needs a name (the VM's), e.g. {name: prod-node07, uuid: ...}; "
                                  "got %r" % (node,))
    rancher = cluster = None
    if not params.get("kubeconfig") or params.get("url"):
        if not params.get("url") or not params.get("cluster"):
            raise ValidationError("no way to the cluster: give url (RANCHER_URL), api_token (RANCHER_TOKEN) and "
                                  "cluster, or a kubeconfig (K8S_AUTH_KUBECONFIG)")
        rancher = RancherClient.from_params(params)
        cluster = find_cluster(rancher, params["cluster"])
    if params.get("kubeconfig"):
        kube = KubernetesClient.from_kubeconfig(params["kubeconfig"], params.get("kubeconfig_context"),
                                                params.get("timeout") or 30, params.get("retries"))
    else:
        kube = KubernetesClient.through_rancher(rancher, cluster["id"])
    removal = ClusterNodeRemoval(kube, rancher, cluster, params["nodes"], params["drain_timeout"], sleep, clock)
    return removal.run(check_mode)
