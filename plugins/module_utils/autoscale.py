# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Autoscaling on real CPU and memory use: the rules (``decide``, pure) and where their memory lives.

No AnsibleModule in here. ``decide`` takes the settings, the recorded samples (cluster-wide ratios of use
and requests to allocatable, and the pending pods), the cluster's capacity, the managed node count, the time
of the last change and now, and returns the decision: up by ``step``, down by one named node, or nothing,
with the rule that fired and one line of figures. ``AutoscaleState`` keeps the samples and the last change in
a ConfigMap in the cluster itself (namespace ``netboot-coreos``), so every AWX run on every execution node
sees the same history; writes carry the ConfigMap's resourceVersion, so of two runs at once only one
records (and acts on) a decision, the other gets a conflict and stands down.
"""

import json
import re

from ansible_collections.netboot.coreos.plugins.module_utils.cluster_capacity import (
    RESOURCES, plan_index, read_capacity)
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import (
    KubernetesClient, KubernetesConflictError, KubernetesNotFoundError)

SETTINGS_SPEC = dict(
    min=dict(type="int", default=1),
    max=dict(type="int", default=10),
    step=dict(type="int", default=1),
    high=dict(type="float", default=0.75),
    low=dict(type="float", default=0.3),
    samples=dict(type="int", default=3),
    cooldown=dict(type="int", default=900),
    use_requests=dict(type="bool", default=True),
)
USE_METRICS = ("cpu", "memory")
REQUEST_METRICS = ("cpu_requests", "memory_requests")
STATE_NAMESPACE = "netboot-coreos"
UP, DOWN, NONE = "up", "down", "none"


def check_settings(settings):
    """``settings`` with defaults filled in; ValidationError naming the bad value and what is valid."""
    result = {}
    for key, spec in SETTINGS_SPEC.items():
        value = settings.get(key)
        result[key] = spec["default"] if value is None else value
    if result["min"] < 0 or result["max"] < result["min"]:
        raise ValidationError("autoscale min %s and max %s: need 0 <= min <= max" % (result["min"], result["max"]))
    if result["step"] < 1:
        raise ValidationError("autoscale step %s: scale up by 1 or more nodes" % result["step"])
    if not 0 < result["low"] < result["high"] <= 1:
        raise ValidationError("autoscale low %s and high %s: need 0 < low < high <= 1 (fractions of allocatable, "
                              "such as low=0.3 high=0.75)" % (result["low"], result["high"]))
    if result["samples"] < 1 or result["cooldown"] < 0:
        raise ValidationError("autoscale samples %s and cooldown %s: need samples >= 1 and cooldown >= 0 seconds"
                              % (result["samples"], result["cooldown"]))
    return result


def sample_of(capacity, now):
    """One sample: cluster-wide ratios of use and requests to allocatable, and the pods pending for room."""
    totals = capacity["totals"]
    sample = dict(time=round(now, 3), pending=len(capacity["pending"]))
    for resource in RESOURCES:
        sample[resource] = totals["used_ratio"][resource]
        sample[resource + "_requests"] = totals["requested_ratio"][resource]
    return sample


def percent(value):
    return "%d%%" % round(value * 100)


def figures(sample, count):
    return ("cpu %s memory %s, requests cpu %s memory %s, %d pending, %d nodes"
            % (percent(sample["cpu"]), percent(sample["memory"]), percent(sample["cpu_requests"]),
               percent(sample["memory_requests"]), sample["pending"], count))


def metric_name(metric):
    return metric.replace("_requests", " requests") if metric.endswith("_requests") else metric + " use"


def least_used(capacity):
    """The removable node that takes workloads with the lowest use (the larger of its CPU and memory ratios);
    the later name first on a tie, so the highest-numbered of equal nodes goes."""
    candidates = [n for n in capacity["nodes"] if n["removable"] and not n["unschedulable"]]
    if not candidates:
        return None
    candidates.sort(key=lambda n: n["name"], reverse=True)
    return min(candidates, key=lambda n: max(n["used_ratio"][r] for r in RESOURCES))


def projected_without(capacity, node):
    """Each metric's cluster-wide ratio once ``node`` is gone and its load has moved to the others."""
    totals = capacity["totals"]
    result = {}
    for resource in RESOURCES:
        left = totals["allocatable"][resource] - node["allocatable"][resource]
        for key, suffix in (("used", ""), ("requested", "_requests")):
            result[resource + suffix] = totals[key][resource] / left if left > 0 else float("inf")
    return result


def decision(action, rule, count, count_after, sample, node=None, warnings=()):
    line = "autoscale: %s %d -> %d (%s); %s" % (action, count, count_after, rule, figures(sample, count))
    return dict(direction=action, rule=rule, count_before=count, count_after=count_after, node=node or "",
                warnings=list(warnings), line=line)


def decide(settings, samples, capacity, count, last_change, now):
    """The decision for the latest of ``samples`` (oldest first; see the module docstring).

    ``count`` is how many managed nodes the cluster has; ``last_change`` the time (seconds) of the last
    scale-up or -down, or None.
    """
    settings = check_settings(settings)
    latest = samples[-1]
    low, high, window_size = settings["low"], settings["high"], settings["samples"]
    bottom, top = settings["min"], settings["max"]
    if last_change is not None and now - last_change < settings["cooldown"]:
        since = now - last_change
        return decision(NONE, "cooldown: last change %ds ago, %ds left" % (since, settings["cooldown"] - since),
                        count, count, latest)
    if count < bottom:
        return decision(UP, "below min %d" % bottom, count, bottom, latest)
    if count > top:
        return decision(DOWN, "above max %d" % top, count, count - 1, latest, (least_used(capacity) or {}).get("name"))
    metrics = USE_METRICS + (REQUEST_METRICS if settings["use_requests"] else ())
    window = samples[-window_size:]
    hot = [m for m in metrics if len(window) == window_size and all(s[m] > high for s in window)]
    if latest["pending"] or hot:
        if latest["pending"]:
            pods = "pod" if latest["pending"] == 1 else "pods"
            rule = "%d %s pending for lack of cpu or memory" % (latest["pending"], pods)
        else:
            rule = "%s above %s for the last %d samples (%s)" % (
                metric_name(hot[0]), percent(high), window_size, ", ".join(percent(s[hot[0]]) for s in window))
        if count >= top:
            warning = "the cluster needs more nodes (%s) but it has max %d already: raise max" % (rule, top)
            return decision(NONE, "at max %d: %s" % (top, rule), count, count, latest, warnings=[warning])
        return decision(UP, rule, count, min(count + settings["step"], top), latest)
    if len(window) < window_size:
        return decision(NONE, "collecting samples (%d of %d)" % (len(window), window_size), count, count, latest)
    if not all(s[m] < low for s in window for m in metrics):
        return decision(NONE, "within %s-%s (no metric above high, or all below low, for %d samples)"
                        % (percent(low), percent(high), window_size), count, count, latest)
    if count <= bottom:
        return decision(NONE, "below %s for %d samples but at min %d" % (percent(low), window_size, bottom),
                        count, count, latest)
    node = least_used(capacity)
    if node is None:
        return decision(NONE, "below %s for %d samples but no managed worker may be removed"
                        % (percent(low), window_size), count, count, latest)
    after = projected_without(capacity, node)
    # requests always count here: a node whose pods would not fit elsewhere stays (no down-then-up flapping)
    over = [m for m in USE_METRICS + REQUEST_METRICS if after[m] >= high]
    if over:
        return decision(NONE, "below %s for %d samples but without %s %s would be %s (high %s)"
                        % (percent(low), window_size, node["name"], metric_name(over[0]), percent(after[over[0]]),
                           percent(high)), count, count, latest)
    return decision(DOWN, "all below %s for the last %d samples; least used %s (cpu %s memory %s)"
                    % (percent(low), window_size, node["name"], percent(node["used_ratio"]["cpu"]),
                       percent(node["used_ratio"]["memory"])), count, count - 1, latest, node["name"])


def plan_count(plan_nodes, members, result):
    """How many nodes of the plan (in plan order) the converging playbooks should keep: every member, plus
    for a scale-up the first names that are not members (the gaps scale-downs left come first).

    A plan of that count keeps every member that stays; when more gaps than ``step`` lie below the last
    member, it fills all of them (a plan by count cannot skip a name).
    """
    names = list(plan_index(plan_nodes))
    staying = set(members) - set([result["node"]] if result["direction"] == DOWN else [])
    last = max([names.index(m) + 1 for m in staying if m in names] or [0])
    to_add = result["count_after"] - result["count_before"] if result["direction"] == UP else 0
    for position, name in enumerate(names, 1):
        if to_add <= 0:
            break
        if name not in staying:
            to_add -= 1
            last = max(last, position)
    return last


def state_name(cluster_name):
    """The ConfigMap of a cluster's autoscaler state: a DNS-1123 name from the plan's cluster name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", str(cluster_name).lower()).strip("-")[:50]
    if not slug:
        raise ValidationError("cluster_name '%s' gives no ConfigMap name: use letters, digits or '-'" % cluster_name)
    return "autoscale-" + slug


class AutoscaleState:
    """The samples, the last change and the last decision, in ConfigMap ``name`` of namespace netboot-coreos."""

    def __init__(self, client, name, namespace=STATE_NAMESPACE):
        self.client = client
        self.name = name
        self.namespace = namespace
        self.path = "/api/v1/namespaces/%s/configmaps/%s" % (namespace, name)
        self.resource_version = None
        self.samples, self.last_change, self.last_decision = [], None, ""

    def load(self):
        try:
            item = self.client.get(self.path)
        except KubernetesNotFoundError:
            return self
        data = item.get("data") or {}
        self.resource_version = item["metadata"]["resourceVersion"]
        try:
            self.samples = json.loads(data.get("samples") or "[]")
            self.last_change = float(data["last_change"]) if data.get("last_change") else None
        except ValueError:
            self.samples, self.last_change = [], None  # unreadable history: start over, never fail the run
        self.last_decision = data.get("last_decision", "")
        return self

    def save(self, samples, last_change, last_decision):
        """Write the state over the version that was loaded; False when another run wrote first (409)."""
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name, "namespace": self.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "netboot.coreos"}},
                "data": {"samples": json.dumps(samples, sort_keys=True),
                         "last_change": "" if last_change is None else "%.3f" % last_change,
                         "last_decision": last_decision}}
        try:
            if self.resource_version is None:
                self._ensure_namespace()
                written = self.client.post("/api/v1/namespaces/%s/configmaps" % self.namespace, body)
            else:
                body["metadata"]["resourceVersion"] = self.resource_version
                written = self.client.put(self.path, body)
        except KubernetesConflictError:
            return False
        self.resource_version = written["metadata"]["resourceVersion"]
        return True

    def _ensure_namespace(self):
        try:
            self.client.get("/api/v1/namespaces/%s" % self.namespace)
        except KubernetesNotFoundError:
            try:
                self.client.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": self.namespace}})
            except KubernetesConflictError:
                pass  # another run made it a moment ago


def autoscale(params, now, check_mode=False, client=None, capacity_reader=None):
    """The work of netboot.coreos.cluster_autoscale: read, decide, record. ``(changed, result)``."""
    settings = check_settings(params)
    client = client or KubernetesClient.from_params(params)
    # the state first: a run that writes while this one reads the cluster makes this one's write conflict
    state = AutoscaleState(client, state_name(params["cluster_name"])).load()
    capacity = (capacity_reader or read_capacity)(client, params.get("nodes"))
    count = len(capacity["managed"])
    sample = sample_of(capacity, now)
    samples = (state.samples + [sample])[-settings["samples"]:]
    result = decide(settings, samples, capacity, count, state.last_change, now)
    changing = result["direction"] != NONE
    result.update(capacity=capacity, samples=samples, recorded=False, raced=False,
                  plan_count=plan_count(params.get("nodes"), capacity["managed"], result),
                  node_name=plan_index(params.get("nodes")).get(result["node"], {}).get("name", ""))
    if check_mode:
        return changing, result
    recorded = state.save([] if changing else samples, now if changing else state.last_change, result["line"])
    if not recorded:
        result.update(direction=NONE, count_after=count, node="", node_name="", raced=True,
                      plan_count=plan_count(params.get("nodes"), capacity["managed"], dict(direction=NONE)),
                      rule="another run recorded a decision first; this one stands down",
                      line="autoscale: none %d -> %d (another run recorded a decision first; this one stands "
                           "down)" % (count, count))
        return False, result
    result["recorded"] = True
    return changing, result
