"""playbooks/autoscale.yml end to end: the lab vCenter simulator for the VMs, the Rancher API fixture
(tests/fixtures/rancher_api.py, a test server of the documented Rancher and Kubernetes API subset) for the
cluster, its metrics and the autoscaler's state. Each scenario asserts the decision and what changed in the
simulator and in the API server."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import REPO, ansible_env, run_playbook, PlaybookRun
from integration.test_vmware_node_clones import Lab  # pylint: disable=import-error
from ansible_collections.netboot.coreos.plugins.module_utils.autoscale import AutoscaleState
from ansible_collections.netboot.coreos.plugins.module_utils.kubernetes import KubernetesClient
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import RancherClient
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from rancher_api import RancherAPI

pytestmark = pytest.mark.vcsim

AUTOSCALE = os.path.join(REPO, "playbooks", "autoscale.yml")
SCALE = os.path.join(REPO, "playbooks", "scale.yml")
DECIDE = "Decide the node count from CPU and memory use, requests and pending pods"
REPORT = "Report the decision"
COLD = dict(cpu=0.05, memory=0.1, cpu_requests=0.05, memory_requests=0.05, pending=0)
HOT_CPU = dict(COLD, cpu=0.9)


@pytest.fixture
def lab(vcsim):
    with VCenterClient.from_params(vcsim) as client:
        yield Lab(vcsim, client)


@pytest.fixture
def rancher():
    with RancherAPI() as api:
        yield api


class Scenario:
    """A cluster of ``name``: Rancher and Kubernetes in the fixture, its VMs in the lab simulator."""

    def __init__(self, lab, rancher, name):
        self.lab, self.rancher, self.name = lab, rancher, name
        self.cluster = rancher.add_cluster(name)
        self.kube = rancher.kube(self.cluster["id"])

    def vars(self, **more):
        more = dict(dict(rancher_url=self.rancher.url, rancher_api_token=self.rancher.api_token,
                         rancher_cluster=self.name), **more)
        return self.lab.playbook_vars(self.name, **more)

    def node(self, index):
        return "%s-node%02d" % (self.name, index)

    def nodes(self, count, cpu_used="200m", memory_used="1Gi", roles=None, vms=True):
        """``count`` joined nodes (4 CPUs, 16 GiB each), their VMs made by scale.yml when ``vms``."""
        if vms:
            made = run_playbook(SCALE, self.vars(scale_node_count=count, coreos_nodes=self.overrides(roles)))
            assert made.rc == 0, made.failure_messages() or made.stderr[-2000:]
        for index in range(1, count + 1):
            node_roles = (roles or {}).get(index, ("worker",))
            self.rancher.add_kube_node(self.cluster["id"], self.node(index), roles=node_roles)
            self.kube.set_usage(self.node(index), cpu_used, memory_used)

    def overrides(self, roles):
        return [dict(name=self.node(i), roles=list(r)) for i, r in sorted((roles or {}).items())]

    def client(self):
        rancher = RancherClient(self.rancher.url, api_token=self.rancher.api_token, timeout=5, retries=0)
        return KubernetesClient.through_rancher(rancher, self.cluster["id"])

    def state(self):
        return AutoscaleState(self.client(), "autoscale-" + self.name).load()

    def seed(self, *samples, last_change=None):
        """The samples earlier runs recorded (oldest first, one a minute)."""
        now = time.time()
        stamped = [dict(s, time=now - 60 * (len(samples) - i)) for i, s in enumerate(samples)]
        assert self.state().save(stamped, last_change, "")

    def run(self, check=False, **settings):
        settings.setdefault("autoscale_cooldown", 0)
        settings.setdefault("autoscale_max", 6)
        return run_playbook(AUTOSCALE, self.vars(**settings), check=check)

    def managed_vms(self):
        return sorted(self.lab.managed(self.name))


def decision(run):
    [result] = run.task_results(DECIDE)
    return result


def report(run):
    return run.task_results(REPORT)[0]["msg"]


def test_hot_cpu_scales_up_by_step_check_mode_changes_nothing_and_cooldown_holds(lab, rancher):
    s = Scenario(lab, rancher, "as-hot")
    s.nodes(2, cpu_used="3600m")
    s.seed(HOT_CPU)
    predicted = s.run(check=True, autoscale_samples=2, autoscale_step=2)
    assert predicted.rc == 0, predicted.failure_messages()
    assert report(predicted).startswith("autoscale: up 2 -> 4 (cpu use above 75% for the last 2 samples (90%, 90%))")
    assert s.managed_vms() == [s.node(1), s.node(2)] and len(s.state().samples) == 1  # nothing recorded

    run = s.run(autoscale_samples=2, autoscale_step=2, autoscale_cooldown=600)
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert report(run) == ("autoscale: up 2 -> 4 (cpu use above 75% for the last 2 samples (90%, 90%)); cpu 90% "
                           "memory 6%, requests cpu 0% memory 0%, 0 pending, 2 nodes")
    assert s.managed_vms() == [s.node(i) for i in range(1, 5)]
    state = s.state()
    assert state.samples == [] and state.last_change == pytest.approx(time.time(), abs=120)
    assert state.last_decision == report(run)

    # the new nodes join, the load spreads and drops: still inside the cooldown, nothing happens
    for index in (3, 4):
        rancher.add_kube_node(s.cluster["id"], s.node(index))
    for index in range(1, 5):
        s.kube.set_usage(s.node(index), "100m", "1Gi")
    s.seed(COLD, COLD, last_change=state.last_change)
    held = s.run(autoscale_samples=2, autoscale_cooldown=600)
    assert held.rc == 0, held.failure_messages()
    assert decision(held)["direction"] == "none" and decision(held)["rule"].startswith("cooldown: last change ")
    assert s.managed_vms() == [s.node(i) for i in range(1, 5)] and len(s.kube.nodes) == 4


def test_hot_memory_only_scales_up(lab, rancher):
    s = Scenario(lab, rancher, "as-mem")
    s.nodes(1, cpu_used="100m", memory_used="14Gi")
    run = s.run(autoscale_samples=1)
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert report(run).startswith("autoscale: up 1 -> 2 (memory use above 75% for the last 1 samples (88%)); "
                                  "cpu 2% memory 88%")
    assert s.managed_vms() == [s.node(1), s.node(2)]


def test_pending_pods_with_idle_nodes_scale_up(lab, rancher):
    s = Scenario(lab, rancher, "as-pend")
    s.nodes(1, cpu_used="100m", memory_used="1Gi")
    s.kube.add_pod("db", memory="20Gi", unschedulable_reason="0/1 nodes are available: 1 Insufficient memory.")
    s.kube.add_pod("picky", unschedulable_reason="0/1 nodes are available: 1 node(s) didn't match node selector.")
    run = s.run()
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert report(run) == ("autoscale: up 1 -> 2 (1 pod pending for lack of cpu or memory); cpu 2% memory 6%, "
                           "requests cpu 0% memory 0%, 1 pending, 1 nodes")
    assert s.managed_vms() == [s.node(1), s.node(2)]


def test_cold_long_enough_removes_the_least_used_managed_worker_not_one_hot_sample(lab, rancher):
    s = Scenario(lab, rancher, "as-cold")
    s.nodes(3, roles={1: ("etcd", "controlplane", "worker")})
    s.kube.set_usage(s.node(1), "0", "0")  # the idlest, but etcd and controlplane: never removed
    s.kube.set_usage(s.node(2), "100m", "512Mi")
    s.kube.set_usage(s.node(3), "400m", "2Gi")
    s.kube.add_pod("web-2", node=s.node(2), cpu="100m", memory="128Mi", labels={"app": "web"})
    rancher_nodes = len(rancher.nodes)

    s.seed(COLD, HOT_CPU)  # one hot sample among cold ones
    mixed = s.run(autoscale_samples=3)
    assert mixed.rc == 0, mixed.failure_messages()
    assert decision(mixed)["direction"] == "none"
    assert decision(mixed)["rule"] == "within 30%-75% (no metric above high, or all below low, for 3 samples)"
    assert s.managed_vms() == [s.node(i) for i in (1, 2, 3)] and len(s.kube.nodes) == 3

    s.seed(COLD, COLD)
    run = s.run(autoscale_samples=3)
    assert run.rc == 0, run.failure_messages() or run.stderr[-2000:]
    assert report(run).startswith("autoscale: down 3 -> 2 (all below 30%% for the last 3 samples; least used "
                                  "%s (cpu 2%% memory 3%%))" % s.node(2))
    assert s.managed_vms() == [s.node(1), s.node(3)]
    assert sorted(s.kube.nodes) == [s.node(1), s.node(3)] and len(rancher.nodes) == rancher_nodes - 1
    assert s.kube.evictions == [("default", "web-2", True)]


def test_pdb_blocks_the_drain_nothing_deleted_node_uncordoned(lab, rancher):
    s = Scenario(lab, rancher, "as-pdb")
    s.nodes(2, cpu_used="100m", memory_used="512Mi")
    s.kube.add_pod("db-1", node=s.node(2), cpu="100m", memory="128Mi", labels={"app": "db"})
    s.kube.set_usage(s.node(1), "300m", "1Gi")
    s.kube.add_pdb("db", {"app": "db"}, disruptions_allowed=0)
    s.seed(COLD)
    run = s.run(autoscale_samples=2, node_clones_drain_timeout=5)
    assert run.rc != 0
    assert report(run).startswith("autoscale: down 2 -> 1 (all below 30%% for the last 2 samples; least used %s"
                                  % s.node(2))
    assert any("was refused (HTTP 429" in m and "no VM deleted" in m for m in run.failure_messages()), \
        run.failure_messages()
    assert s.managed_vms() == [s.node(1), s.node(2)]
    assert sorted(s.kube.nodes) == [s.node(1), s.node(2)]
    assert not s.kube.nodes[s.node(2)]["spec"].get("unschedulable")
    assert ("default", "db-1") in s.kube.pods and len(rancher.nodes) == 2


def test_at_max_nothing_with_a_warning(lab, rancher):
    s = Scenario(lab, rancher, "as-max")
    s.nodes(2, cpu_used="3900m", vms=False)
    run = s.run(autoscale_samples=1, autoscale_max=2)
    assert run.rc == 0, run.failure_messages()
    result = decision(run)
    assert result["direction"] == "none" and result["count_after"] == 2
    assert result["warnings"] == ["the cluster needs more nodes (cpu use above 75% for the last 1 samples (98%)) "
                                  "but it has max 2 already: raise max"]
    assert s.managed_vms() == [] and len(s.kube.nodes) == 2


def test_metrics_api_absent_is_a_clear_error_naming_metrics_server(lab, rancher):
    s = Scenario(lab, rancher, "as-nometrics")
    s.nodes(1, vms=False)
    s.kube.metrics = "absent"
    run = s.run(autoscale_samples=1)
    assert run.rc != 0
    assert decision(run)["msg"] == (
        "Kubernetes API of cluster %s through Rancher %s has no metrics.k8s.io API (GET "
        "/apis/metrics.k8s.io/v1beta1/nodes answered HTTP 404): install metrics-server "
        "(https://github.com/kubernetes-sigs/metrics-server), which autoscaling on CPU and memory use reads"
        % (s.cluster["id"], rancher.url))
    assert "Traceback" not in run.stdout and s.managed_vms() == []
    assert "netboot-coreos" not in s.kube.namespaces  # nothing recorded


def test_rancher_unreachable_is_a_clear_error_and_changes_nothing(lab, rancher):
    s = Scenario(lab, rancher, "as-down")
    s.nodes(1, vms=False)
    url = rancher.url
    rancher.stop()  # the fixture's server goes away; its objects stay to look at
    run = run_playbook(AUTOSCALE, s.vars(rancher_url=url, autoscale_samples=1, autoscale_cooldown=0))
    assert run.rc != 0
    message = decision(run)["msg"]
    assert message.startswith("cannot connect to Rancher %s: " % url), message
    assert rancher.api_token not in run.stdout and s.managed_vms() == []
    assert "netboot-coreos" not in s.kube.namespaces


def test_two_runs_at_once_one_decides(lab, rancher):
    s = Scenario(lab, rancher, "as-race")
    s.nodes(1, cpu_used="100m", vms=False)
    s.seed(COLD)  # both runs read this version of the state before either writes
    s.kube.add_pod("big", cpu="6", unschedulable_reason="0/1 nodes are available: 1 Insufficient cpu.")
    rancher.fault(r"/apis/metrics\.k8s\.io/", delay=8, times=2)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), AUTOSCALE, "-i", "localhost,",
           "-c", "local", "-e", json.dumps(s.vars(autoscale_cooldown=600, autoscale_max=6))]
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
             for _run in range(2)]
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        runs.append(PlaybookRun(subprocess.CompletedProcess(proc.args, proc.returncode, out, err)))
    assert [r.rc for r in runs] == [0, 0], [r.failure_messages() or r.stderr[-1000:] for r in runs]
    decisions = sorted((decision(r)["direction"], decision(r)["raced"]) for r in runs)
    assert decisions == [("none", True), ("up", False)]
    loser = [r for r in runs if decision(r)["raced"]][0]
    assert report(loser) == "autoscale: none 1 -> 1 (another run recorded a decision first; this one stands down)"
    assert s.managed_vms() == [s.node(1), s.node(2)]  # one scale-up, to 2 (node01's VM made as well)
    assert s.state().last_decision.startswith("autoscale: up 1 -> 2 (1 pod pending")
