"""awx/: the surveys are survey specs AWX accepts, each job template names a playbook of the project and a
survey whose variables that playbook reads, and the Rancher credential type injects what the modules read."""

import copy
import glob
import os
import re

import pytest
import yaml
from ansible.parsing.yaml.loader import AnsibleLoader

from awx_survey import SurveyError, check_spec, extra_vars

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(REPO, "awx")


def load(path):
    """YAML as Ansible reads it (controller.yml marks AWX's injector templates !unsafe)."""
    with open(path) as handle:
        return yaml.load(handle, Loader=AnsibleLoader)  # nosec: Ansible's safe loader


CONTROLLER = load(os.path.join(AWX, "controller.yml"))
TEMPLATES = CONTROLLER["awx_job_templates"]


def survey(name):
    return load(os.path.join(AWX, "surveys", name + ".yml"))


def collection_sources():
    """Text of everything a job's playbook can read a variable in: playbooks, roles, plugins, site.yml."""
    paths = [os.path.join(REPO, "site.yml")]
    for pattern in ("playbooks/*.yml", "roles/**/*.yml", "roles/**/*.j2", "plugins/**/*.py"):
        paths += glob.glob(os.path.join(REPO, pattern), recursive=True)
    return "\n".join(open(path).read() for path in paths)


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["survey"] for t in TEMPLATES])
def test_survey_is_a_spec_awx_accepts(template):
    check_spec(survey(template["survey"]))


def test_every_survey_file_belongs_to_a_template():
    files = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(AWX, "surveys", "*.yml"))}
    assert files == {t["survey"] for t in TEMPLATES}


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["survey"] for t in TEMPLATES])
def test_survey_variables_are_read_by_the_collection(template):
    sources = collection_sources()
    for item in survey(template["survey"])["spec"]:
        assert re.search(r"\b%s\b" % item["variable"], sources), (template["name"], item["variable"])


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["survey"] for t in TEMPLATES])
def test_job_template_playbook_is_in_the_project(template):
    assert os.path.isfile(os.path.join(REPO, template["playbook"])), template["playbook"]


def test_surveys_ask_what_the_issue_names():
    """node count, channel/version and cluster for site; count for scale; node names for the named ones."""
    asked = {t["survey"]: {item["variable"] for item in survey(t["survey"])["spec"]} for t in TEMPLATES}
    assert {"coreos_node_count", "coreos_channel", "coreos_version", "rancher_cluster"} <= asked["site"]
    assert {"scale_node_count", "rancher_cluster"} <= asked["scale"]
    assert "decommission_node_names" in asked["decommission"]
    assert "reinstall_node_names" in asked["reinstall"]
    assert "rancher_cluster" in asked["autoscale"]


def test_autoscale_survey_asks_every_setting_of_the_decision():
    """Node count bounds, step, thresholds, samples, cooldown and requests: each autoscale_* variable that
    autoscale.yml hands cluster_autoscale (the kubeconfig ones are site settings, not a launch's choice)."""
    with open(os.path.join(REPO, "playbooks", "autoscale.yml")) as handle:
        plays = yaml.safe_load(handle)
    task = next(t for t in plays[0]["tasks"] if "netboot.coreos.cluster_autoscale" in t)
    read = set(re.findall(r"\b(autoscale_\w+)\b", " ".join(map(str, task["netboot.coreos.cluster_autoscale"].values()))))
    settings = {name for name in read if not name.startswith("autoscale_kubeconfig")}
    assert settings == {"autoscale_min", "autoscale_max", "autoscale_step", "autoscale_high", "autoscale_low",
                        "autoscale_samples", "autoscale_cooldown", "autoscale_use_requests"}
    asked = {item["variable"] for item in survey("autoscale")["spec"]}
    assert asked == settings | {"rancher_cluster"}
    assert not any(item["required"] for item in survey("autoscale")["spec"])  # the schedule answers nothing


def test_autoscale_answers_pass_and_bad_ones_are_refused():
    autoscale = survey("autoscale")
    answer = {"autoscale_min": 2, "autoscale_max": 12, "autoscale_high": 0.8, "autoscale_low": 0.25,
              "autoscale_cooldown": 1200, "autoscale_use_requests": "false"}
    assert extra_vars(autoscale, answer) == answer  # no defaults: unanswered questions leave the inventory's values
    with pytest.raises(SurveyError, match="'autoscale_high' value 1.5 is too large"):
        extra_vars(autoscale, {"autoscale_high": 1.5})
    with pytest.raises(SurveyError, match="'autoscale_step' value 0 is too small"):
        extra_vars(autoscale, {"autoscale_step": 0})
    with pytest.raises(SurveyError, match=r"Value yes for 'autoscale_use_requests' expected to be one of \['true'"):
        extra_vars(autoscale, {"autoscale_use_requests": "yes"})


def test_autoscale_schedule_answers_its_survey():
    """A scheduled run has no one to answer: its extra_data must be a complete, valid answer."""
    schedule = CONTROLLER["awx_autoscale_schedule"]
    template = next(t for t in TEMPLATES if t["name"] == schedule["job_template"])
    extra_vars(survey(template["survey"]), schedule["extra_data"])
    # AWX's rrule shape: a DTSTART (with TZID or in UTC) then one RRULE, here every 5 minutes
    match = re.fullmatch(r"DTSTART(;TZID=[\w/]+)?:\d{8}T\d{6}Z? RRULE:(?P<rule>\S+)", schedule["rrule"])
    assert match, schedule["rrule"]
    parts = dict(part.split("=", 1) for part in match.group("rule").split(";"))
    assert parts == {"FREQ": "MINUTELY", "INTERVAL": "5"}


def test_answers_become_extra_vars_and_bad_ones_are_refused():
    site = survey("site")
    assert extra_vars(site, {"coreos_node_count": 3, "coreos_channel": "beta"}) == {
        "coreos_node_count": 3, "coreos_channel": "beta"}
    with pytest.raises(SurveyError, match=r"Value edge for 'coreos_channel' expected to be one of \['stable'"):
        extra_vars(site, {"coreos_channel": "edge"})
    with pytest.raises(SurveyError, match="'coreos_node_count' value 501 is too large"):
        extra_vars(site, {"coreos_node_count": 501})
    with pytest.raises(SurveyError, match="Value 3 for 'coreos_node_count' expected to be an integer"):
        extra_vars(site, {"coreos_node_count": "3"})
    with pytest.raises(SurveyError, match="'scale_node_count' value missing"):
        extra_vars(survey("scale"), {})
    with pytest.raises(SurveyError, match="Variables vcenter_password are not allowed on launch"):
        extra_vars(site, {"vcenter_password": "x"})


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("description"), "Field 'description' is missing"),
    (lambda s: s["spec"].append(dict(s["spec"][0])), "'variable' 'coreos_node_count' duplicated"),
    (lambda s: s["spec"][0].update(type="number"), "'number' in survey question 0 is not one of"),
    (lambda s: s["spec"][0].update(required="no"), "'required' in survey question 0 expected to be boolean"),
    (lambda s: s["spec"][0].update(default="3"), "Default value 3 in survey question 0 expected to be integer"),
    (lambda s: s["spec"][1].pop("choices"), "must specify choices"),
    (lambda s: s["spec"][1].update(default="edge"), "Default choice must be answered from the choices"),
    (lambda s: s["spec"][2].update(max="40"), "The max limit in survey question 2 expected to be integer"),
])
def test_spec_checker_refuses_what_awx_refuses(change, message):
    spec = copy.deepcopy(survey("site"))
    change(spec)
    with pytest.raises(SurveyError, match=re.escape(message)):
        check_spec(spec)


def test_rancher_credential_type_injects_what_the_modules_read():
    kind = CONTROLLER["awx_rancher_credential_type"]
    fields = {field["id"]: field for field in kind["inputs"]["fields"]}
    assert set(kind["inputs"]["required"]) == set(fields) == {"rancher_url", "rancher_token"}
    assert fields["rancher_token"]["secret"] is True
    assert kind["injectors"] == {"env": {"RANCHER_URL": "{{ rancher_url }}", "RANCHER_TOKEN": "{{ rancher_token }}"}}
    fragment = open(os.path.join(REPO, "plugins", "doc_fragments", "rancher.py")).read()
    for variable in kind["injectors"]["env"]:
        assert "E(%s)" % variable in fragment
