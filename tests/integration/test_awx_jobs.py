"""The AWX job templates of awx/ run as AWX runs them: ansible-runner on an AWX-shaped private data directory
(tests/fixtures/awx_job.py) with the survey's answer as extravars and the credentials only as the environment
variables AWX's VMware vCenter type and the Rancher type of awx/ inject; against the lab simulator and the
Rancher API test server (tests/fixtures/rancher_api.py, which follows Rancher's documented API).

site runs for real (template and nodes in the simulator, the registration token read from Rancher), then
every job template's playbook runs in check mode with a survey answer that makes it act, so that each module
gets its arguments validated and its prediction is checked against the simulator, which must not change."""

import json
import os
import uuid

import pytest
import yaml
from ansible.parsing.yaml.loader import AnsibleLoader
from pyVmomi import vim

from ansible_collections.netboot.coreos.plugins.module_utils.node_clones import VM_PROPERTIES, vm_record
from ansible_collections.netboot.coreos.plugins.module_utils.vcenter import VCenterClient
from awx_job import (failures, localhost_inventory, rancher_credential_env, run_job, task_results,
                     vmware_credential_env, write_private_data_dir)
from awx_survey import extra_vars
from conftest import REPO
from rancher_api import RancherAPI

pytestmark = pytest.mark.vcsim

CLONES_TASK = "Clone, power and remove the node VMs"  # job events name a role's task without the role
TOKEN_TASK = "Get or create the cluster registration token"
AUTOSCALE_TASK = "Decide the node count from CPU and memory use, requests and pending pods"
CREDENTIAL_VARIABLES = ["VMWARE_HOST", "VMWARE_USER", "VMWARE_PASSWORD", "VMWARE_VALIDATE_CERTS",
                        "RANCHER_URL", "RANCHER_TOKEN"]


def awx_file(*parts):
    """A file of awx/ as Ansible reads it, as plain data (controller.yml marks AWX's templates !unsafe)."""
    with open(os.path.join(REPO, "awx", *parts)) as handle:
        return json.loads(json.dumps(yaml.load(handle, Loader=AnsibleLoader)))  # nosec: Ansible's safe loader


CONTROLLER = awx_file("controller.yml")
TEMPLATES = {t["survey"]: t for t in CONTROLLER["awx_job_templates"]}


class AWXLab:
    """A cluster of its own (name, VM folder, template) in the session's simulator, a Rancher with a cluster of
    that name, and AWX jobs against both."""

    def __init__(self, vcsim, client, rancher, tmp_path_factory):
        self.client, self.rancher, self.tmp = client, rancher, tmp_path_factory
        self.name = "awx" + uuid.uuid4().hex[:6]
        self.dc = client.datacenter("DC0")
        self.folder = self.dc.vmFolder.CreateFolder(self.name)
        self.rancher_cluster = rancher.add_cluster(self.name)
        with open(os.path.join(REPO, "inventories", "lab", "group_vars", "all", "cluster.yml")) as handle:
            cluster = yaml.safe_load(handle)
        # the AWX inventory's variables: the lab cluster's description, no credentials; AWX's VMware credential
        # has no port, so the simulator's port is an inventory value, as a vCenter on a non-standard port needs
        self.group_vars = dict(cluster, coreos_cluster_name=self.name, coreos_node_name_format=self.name + "-{index:02d}",
                               coreos_node_count=2, rancher_cluster=self.name, vcenter_folder=self.name,
                               vcenter_port=vcsim["port"],
                               vmware_template_name=self.name + "-template")
        self.envvars = dict(vmware_credential_env(vcsim["hostname"], vcsim["username"], vcsim["password"],
                                                  validate_certs=False),
                            **rancher_credential_env(CONTROLLER["awx_rancher_credential_type"]["injectors"],
                                                     rancher.url, rancher.api_token))

    def job(self, survey, answers, check=False):
        """Launch the job template whose survey is ``survey`` with ``answers``; the Runner."""
        template = TEMPLATES[survey]
        variables = extra_vars(awx_file("surveys", survey + ".yml"), answers)
        path = write_private_data_dir(str(self.tmp.mktemp(survey)), localhost_inventory(), self.group_vars,
                                      variables, self.envvars, check=check)
        return run_job(path, template["playbook"])

    def vms(self):
        """The folder's VMs as plain data: name -> moid, power state, template flag, marker, MAC, boot order,
        disk (file and size)."""
        found = {}
        for row in self.client.retrieve(vim.VirtualMachine, VM_PROPERTIES, self.folder):
            vm = vm_record(row)
            disk = vm["disk"]
            found[vm["name"]] = dict({key: vm[key] for key in ("moid", "power_state", "template", "marker", "mac",
                                                               "boot_order")},
                                     disk=(disk.backing.fileName, disk.capacityInKB) if disk else None)
        return found


@pytest.fixture(scope="module")
def awx_lab(vcsim, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        for name in CREDENTIAL_VARIABLES + ["VMWARE_PORT", "RANCHER_ACCESS_KEY", "RANCHER_SECRET_KEY"]:
            patch.delenv(name, raising=False)  # credentials come from the job's envvars only
        with RancherAPI() as rancher, VCenterClient.from_params(vcsim) as client:
            yield AWXLab(vcsim, client, rancher, tmp_path_factory)


@pytest.fixture(scope="module")
def site_run(awx_lab):
    return awx_lab.job("site", {"coreos_node_count": 2, "rancher_cluster": awx_lab.name})


def test_site_job_creates_the_template_and_nodes_with_credentials_from_the_environment(awx_lab, site_run):
    assert (site_run.status, site_run.rc) == ("successful", 0), failures(site_run)
    with open(os.path.join(site_run.config.private_data_dir, "env", "envvars")) as handle:
        assert sorted(yaml.safe_load(handle)) == sorted(CREDENTIAL_VARIABLES + ["ANSIBLE_COLLECTIONS_PATH",
                                                                                "ANSIBLE_NOCOWS", "PATH"])
    vms = awx_lab.vms()
    assert sorted(vms) == [awx_lab.name + "-01", awx_lab.name + "-02", awx_lab.name + "-template"]
    assert vms[awx_lab.name + "-template"]["template"] is True
    for node in (awx_lab.name + "-01", awx_lab.name + "-02"):
        assert (vms[node]["marker"], vms[node]["power_state"]) == (awx_lab.name, "poweredOn")
    cluster_id = awx_lab.rancher_cluster["id"]
    authed = [(method, path) for method, path, ok in awx_lab.rancher.requests if ok]
    assert ("GET", "/v3/clusters?name=" + awx_lab.name) in authed
    assert ("GET", "/v3/clusterregistrationtokens?clusterId=" + cluster_id) in authed
    assert all(ok for _method, _path, ok in awx_lab.rancher.requests)
    token = task_results(site_run, TOKEN_TASK)
    assert token and token[0]["censored"]  # no_log: the registration token is not in the job's events
    stdout = site_run.stdout.read()
    assert awx_lab.rancher.api_token not in stdout and awx_lab.envvars["VMWARE_PASSWORD"] not in stdout


def check_job(awx_lab, survey, answers):
    before = awx_lab.vms()
    run = awx_lab.job(survey, answers, check=True)
    assert (run.status, run.rc) == ("successful", 0), failures(run)
    assert awx_lab.vms() == before  # check mode changed nothing
    return run


def clone_actions(run):
    results = task_results(run, CLONES_TASK)
    assert len(results) == 1, results
    return {node["name"]: node["action"] for node in results[0]["nodes"]}


def test_site_job_in_check_mode_predicts_one_more_node(awx_lab, site_run):
    run = check_job(awx_lab, "site", {"coreos_node_count": 3, "coreos_channel": "stable", "coreos_version": "current",
                                      "rancher_cluster": awx_lab.name})
    template = task_results(run, "Keep the iPXE template VM " + awx_lab.group_vars["vmware_template_name"])
    assert [r["changed"] for r in template] == [False]
    assert clone_actions(run) == {awx_lab.name + "-01": "unchanged", awx_lab.name + "-02": "unchanged",
                                  awx_lab.name + "-03": "cloned"}


def test_scale_job_in_check_mode_predicts_removing_the_highest_node(awx_lab, site_run):
    run = check_job(awx_lab, "scale", {"scale_node_count": 1})
    assert clone_actions(run) == {awx_lab.name + "-01": "unchanged", awx_lab.name + "-02": "deleted"}


def test_decommission_job_in_check_mode_predicts_deleting_the_named_node(awx_lab, site_run):
    run = check_job(awx_lab, "decommission", {"decommission_node_names": awx_lab.name + "-01"})
    assert clone_actions(run) == {awx_lab.name + "-01": "deleted"}


def test_reinstall_job_in_check_mode_predicts_reinstalling_the_named_node(awx_lab, site_run):
    run = check_job(awx_lab, "reinstall", {"reinstall_node_names": awx_lab.name + "-02"})
    assert clone_actions(run) == {awx_lab.name + "-02": "reinstalled"}


def test_autoscale_job_in_check_mode_changes_nothing_and_takes_the_survey_settings(awx_lab, site_run):
    answers = {"rancher_cluster": awx_lab.name, "autoscale_min": 1, "autoscale_max": 4, "autoscale_step": 2,
               "autoscale_high": 0.8, "autoscale_low": 0.2, "autoscale_samples": 2, "autoscale_cooldown": 600,
               "autoscale_use_requests": "false"}
    run = check_job(awx_lab, "autoscale", answers)
    decision = task_results(run, AUTOSCALE_TASK)
    assert len(decision) == 1, decision
    args = decision[0]["invocation"]["module_args"]
    assert {key: args[key] for key in ("cluster", "min", "max", "step", "high", "low", "samples", "cooldown",
                                       "use_requests")} == {
        "cluster": awx_lab.name, "min": 1, "max": 4, "step": 2, "high": 0.8, "low": 0.2, "samples": 2,
        "cooldown": 600, "use_requests": False}


def test_site_job_for_real_does_what_check_mode_predicted(awx_lab, site_run):
    run = awx_lab.job("site", {"coreos_node_count": 3, "rancher_cluster": awx_lab.name})
    assert (run.status, run.rc) == ("successful", 0), failures(run)
    assert clone_actions(run)[awx_lab.name + "-03"] == "cloned"
    assert sorted(awx_lab.vms()) == [awx_lab.name + suffix for suffix in ("-01", "-02", "-03", "-template")]
