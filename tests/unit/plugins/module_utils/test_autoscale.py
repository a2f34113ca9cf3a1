"""decide(): the autoscaling rules, as a pure function of settings, samples, capacity, count and times."""

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils.autoscale import (
    check_settings, decide, plan_count, sample_of, state_name)
from ansible_collections.netboot.coreos.plugins.module_utils.cluster_capacity import totals_of
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

SETTINGS = dict(min=2, max=5, step=2, high=0.75, low=0.3, samples=3, cooldown=600, use_requests=True)
NOW = 1_000_000.0
GIB = 2.0 ** 30


def node(name, cpu_used=0.2, memory_used=0.2, roles=("worker",), managed=True, unschedulable=False):
    allocatable = dict(cpu=4.0, memory=16 * GIB)
    used = dict(cpu=cpu_used * 4.0, memory=memory_used * 16 * GIB)
    requested = dict(cpu=0.5, memory=2 * GIB)
    return dict(name=name, managed=managed, removable=managed and not {"etcd", "controlplane"} & set(roles),
                roles=list(roles), unschedulable=unschedulable, ready=True, allocatable=allocatable, used=used,
                requested=requested,
                used_ratio=dict((r, used[r] / allocatable[r]) for r in used),
                requested_ratio=dict((r, requested[r] / allocatable[r]) for r in used))


def capacity(nodes, pending=0):
    return dict(nodes=nodes, pending=[dict(name="p%d" % i) for i in range(pending)], totals=totals_of(nodes),
                managed=[n["name"] for n in nodes if n["managed"]])


def samples(*cpu_values, memory=0.2, requests=0.1, pending=0):
    return [dict(time=NOW - 60 * (len(cpu_values) - i), cpu=v, memory=memory, cpu_requests=requests,
                 memory_requests=requests, pending=pending) for i, v in enumerate(cpu_values)]


COLD_NODES = [node("cp", 0.1, 0.1, roles=("etcd", "controlplane", "worker")), node("w1", 0.15, 0.1),
              node("w2", 0.05, 0.1), node("w3", 0.2, 0.2)]


def test_hot_cpu_for_the_window_scales_up_by_step():
    result = decide(SETTINGS, samples(0.8, 0.9, 0.85), capacity(COLD_NODES), 3, None, NOW)
    assert (result["direction"], result["count_before"], result["count_after"]) == ("up", 3, 5)
    assert result["rule"] == "cpu use above 75% for the last 3 samples (80%, 90%, 85%)"
    assert result["line"] == ("autoscale: up 3 -> 5 (cpu use above 75% for the last 3 samples (80%, 90%, 85%)); "
                              "cpu 85% memory 20%, requests cpu 10% memory 10%, 0 pending, 3 nodes")


def test_hot_memory_only_scales_up():
    window = samples(0.1, 0.1, 0.1, memory=0.9)
    result = decide(SETTINGS, window, capacity(COLD_NODES), 3, None, NOW)
    assert result["direction"] == "up" and result["rule"].startswith("memory use above 75% for the last 3 samples")


def test_hot_requests_count_only_with_use_requests():
    window = samples(0.1, 0.1, 0.1, requests=0.8)
    assert decide(SETTINGS, window, capacity(COLD_NODES), 3, None, NOW)["rule"].startswith("cpu requests above 75%")
    assert decide(dict(SETTINGS, use_requests=False), window, capacity(COLD_NODES), 3, None, NOW)["direction"] == "down"


def test_pending_pods_scale_up_even_on_idle_nodes_and_without_a_full_window():
    result = decide(SETTINGS, samples(0.1, pending=2), capacity(COLD_NODES, pending=2), 3, None, NOW)
    assert result["direction"] == "up" and result["count_after"] == 5
    assert result["rule"] == "2 pods pending for lack of cpu or memory"


def test_step_never_passes_max():
    assert decide(SETTINGS, samples(0.9, 0.9, 0.9), capacity(COLD_NODES), 4, None, NOW)["count_after"] == 5


def test_at_max_nothing_with_a_warning():
    result = decide(SETTINGS, samples(0.9, 0.9, 0.9), capacity(COLD_NODES), 5, None, NOW)
    assert result["direction"] == "none" and result["count_after"] == 5
    assert result["warnings"] == ["the cluster needs more nodes (cpu use above 75% for the last 3 samples (90%, "
                                  "90%, 90%)) but it has max 5 already: raise max"]


def test_cold_for_the_window_removes_the_least_used_managed_worker():
    result = decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(COLD_NODES), 3, None, NOW)
    assert (result["direction"], result["count_after"], result["node"]) == ("down", 2, "w2")
    assert result["rule"] == "all below 30% for the last 3 samples; least used w2 (cpu 5% memory 10%)"


def test_cold_never_removes_etcd_controlplane_unmanaged_or_cordoned_nodes():
    nodes = [node("cp", 0.0, 0.0, roles=("etcd", "controlplane", "worker")), node("other", 0.0, 0.0, managed=False),
             node("cordoned", 0.0, 0.0, unschedulable=True), node("w1", 0.2, 0.2), node("w2", 0.1, 0.25)]
    # w1's busiest resource (20%) is below w2's (25% memory)
    assert decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(nodes), 3, None, NOW)["node"] == "w1"


def test_tie_removes_the_later_name():
    nodes = [node("w1", 0.1, 0.1), node("w3", 0.1, 0.1), node("w2", 0.1, 0.1)]
    assert decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(nodes), 3, None, NOW)["node"] == "w3"


def test_cold_but_the_rest_would_run_hot_keeps_the_node():
    # use alone would allow it (56% memory on the one left), requests would not (2 x 40% = 80% cpu requests)
    nodes = [node("w1", 0.1, 0.28), node("w2", 0.1, 0.28)]
    for n in nodes:
        n["requested"] = dict(cpu=1.6, memory=0.4 * 16 * GIB)
    window = samples(0.1, 0.1, 0.1, memory=0.28, requests=0.29)
    result = decide(dict(SETTINGS, min=1), window, capacity(nodes), 2, None, NOW)
    assert result["direction"] == "none"
    assert result["rule"] == "below 30% for 3 samples but without w2 cpu requests would be 80% (high 75%)"


def test_cold_inside_cooldown_does_nothing():
    result = decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(COLD_NODES), 3, NOW - 120, NOW)
    assert result["direction"] == "none" and result["rule"] == "cooldown: last change 120s ago, 480s left"


def test_one_hot_sample_among_cold_ones_does_nothing():
    result = decide(SETTINGS, samples(0.1, 0.9, 0.1), capacity(COLD_NODES), 3, None, NOW)
    assert result["direction"] == "none"
    assert result["rule"] == "within 30%-75% (no metric above high, or all below low, for 3 samples)"
    assert decide(SETTINGS, samples(0.1, 0.1, 0.9), capacity(COLD_NODES), 3, None, NOW)["direction"] == "none"


def test_too_few_samples_do_nothing():
    result = decide(SETTINGS, samples(0.9, 0.9), capacity(COLD_NODES), 3, None, NOW)
    assert result["direction"] == "none" and result["rule"] == "collecting samples (2 of 3)"


def test_at_min_cold_does_nothing_and_below_min_goes_up():
    assert decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(COLD_NODES), 2, None, NOW)["rule"] == \
        "below 30% for 3 samples but at min 2"
    result = decide(SETTINGS, samples(0.5), capacity(COLD_NODES), 1, None, NOW)
    assert (result["direction"], result["count_after"], result["rule"]) == ("up", 2, "below min 2")
    over = decide(SETTINGS, samples(0.5), capacity(COLD_NODES), 6, None, NOW)
    assert (over["direction"], over["count_after"], over["node"]) == ("down", 5, "w2")


def test_after_the_cooldown_a_cold_window_acts_again():
    assert decide(SETTINGS, samples(0.1, 0.1, 0.1), capacity(COLD_NODES), 3, NOW - 601, NOW)["direction"] == "down"


@pytest.mark.parametrize("bad, message", [
    (dict(min=3, max=2), "autoscale min 3 and max 2: need 0 <= min <= max"),
    (dict(step=0), "autoscale step 0: scale up by 1 or more nodes"),
    (dict(low=0.8, high=0.7), "autoscale low 0.8 and high 0.7: need 0 < low < high <= 1"),
    (dict(high=75), "autoscale low 0.3 and high 75: need 0 < low < high <= 1"),
    (dict(samples=0), "autoscale samples 0 and cooldown 900: need samples >= 1"),
])
def test_bad_settings_named(bad, message):
    with pytest.raises(ValidationError) as err:
        check_settings(bad)
    assert err.value.msg.startswith(message)


def test_sample_of_capacity():
    cap = capacity(COLD_NODES, pending=1)
    sample = sample_of(cap, NOW)
    assert sample["pending"] == 1 and sample["time"] == NOW
    assert sample["cpu"] == pytest.approx((0.1 + 0.15 + 0.05 + 0.2) / 4, abs=1e-4)
    assert sample["memory_requests"] == pytest.approx(0.125, abs=1e-4)


PLAN = [dict(name="n%02d" % i, hostname="host%d" % i) for i in range(1, 7)]


def test_plan_count_fills_gaps_first_and_keeps_every_member():
    up = dict(direction="up", count_before=3, count_after=4, node="")
    assert plan_count(PLAN, ["host1", "host2", "host3"], up) == 4
    assert plan_count(PLAN, ["host1", "host3", "host4"], up) == 4  # host2's gap is filled
    assert plan_count(PLAN, ["host1", "host5", "host6"], dict(up, count_after=5)) == 6  # both gaps below host6
    down = dict(direction="down", count_before=3, count_after=2, node="host3")
    assert plan_count(PLAN, ["host1", "host2", "host3"], down) == 2
    assert plan_count(PLAN, ["host1", "host2", "host3"], dict(down, node="host2")) == 3
    assert plan_count(PLAN, ["host1", "host2"], dict(direction="none", count_before=2, count_after=2, node="")) == 2


def test_state_name_is_a_dns_label():
    assert state_name("Prod_K8s") == "autoscale-prod-k8s"
    with pytest.raises(ValidationError, match="gives no ConfigMap name"):
        state_name("__")
