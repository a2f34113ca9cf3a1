"""repo.yml's Rancher play with the credential only in RANCHER_URL / RANCHER_TOKEN (as an AWX credential injects
it), and an inventory value winning over the environment. No repo_servers host: only the Rancher play runs."""

import socket
import sys

import pytest

from conftest import run_playbook
from rancher_api import RancherAPI

TASK = "Get or create the cluster registration token"
SHOWN = "Report why the registration token could not be read"


@pytest.fixture(scope="module")
def api():
    with RancherAPI() as server:
        server.add_cluster("prod")
        yield server


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]


def run_repo(extra_vars, env):
    base = {"RANCHER_URL": "", "RANCHER_TOKEN": ""}  # nothing from the caller's environment
    base.update(env)
    return run_playbook("playbooks/repo.yml", extra_vars=dict(extra_vars, ansible_python_interpreter=sys.executable),
                        env=base)


def test_environment_only_gets_the_token(api):
    seen = len(api.requests)
    run = run_repo({"rancher_cluster": "prod"}, {"RANCHER_URL": api.url, "RANCHER_TOKEN": api.api_token})
    assert run.rc == 0, run.stderr[-2000:]
    result = run.task_results(TASK)[0]
    assert not result.get("skipped") and not result.get("failed")
    made = api.requests[seen:]
    assert made and all(authed for _method, _path, authed in made)  # RANCHER_TOKEN was sent
    assert any(path.startswith("/v3/clusterregistrationtoken") for _method, path, _authed in made)


def test_no_rancher_anywhere_skips_the_token(api):
    run = run_repo({}, {})
    assert run.rc == 0, run.stderr[-2000:]
    assert run.task_results(TASK)[0]["skipped"] is True


def test_a_rancher_url_in_the_environment_without_a_cluster_fails_instead_of_skipping(api):
    run = run_repo({}, {"RANCHER_URL": api.url, "RANCHER_TOKEN": api.api_token})
    assert run.rc != 0
    assert run.task_results(TASK)[0]["failed"] is True


def test_inventory_url_wins_over_the_environment(api):
    run = run_repo({"rancher_cluster": "prod", "rancher_url": api.url},
                   {"RANCHER_URL": closed_url(), "RANCHER_TOKEN": api.api_token})
    assert run.rc == 0, run.stderr[-2000:]
    run = run_repo({"rancher_cluster": "prod", "rancher_url": closed_url()},
                   {"RANCHER_URL": api.url, "RANCHER_TOKEN": api.api_token})
    assert run.rc != 0
    assert run.task_results(TASK)[0]["failed"] is True


@pytest.fixture(scope="module")
def private_ca_api():
    with RancherAPI(tls=True) as server:  # a self-signed CA that only rancher_ca_path knows
        server.add_cluster("prod")
        yield server


def shown_failure(run):
    """The one message the run shows for its failure: the token task's own result is hidden by no_log."""
    assert run.rc != 0
    assert "msg" not in run.task_results(TASK)[0]  # censored
    return run.task_results(SHOWN)[0]["msg"]


def test_a_private_ca_is_reached_through_rancher_ca_path(private_ca_api):
    base = {"rancher_cluster": "prod", "rancher_url": private_ca_api.url, "rancher_api_token": private_ca_api.api_token}
    assert "TLS verification of Rancher %s failed" % private_ca_api.url in shown_failure(run_repo(base, {}))
    run = run_repo(dict(base, rancher_ca_path=private_ca_api.ca_file), {})
    assert run.rc == 0, run.stderr[-2000:]
    assert not run.task_results(TASK)[0].get("failed")
    assert not run.task_results(SHOWN)  # no failure to report


def test_rancher_validate_certs_false_from_the_command_line(private_ca_api):
    run = run_repo({"rancher_cluster": "prod", "rancher_url": private_ca_api.url,
                    "rancher_api_token": private_ca_api.api_token, "rancher_validate_certs": "false"}, {})
    assert run.rc == 0, run.stderr[-2000:]


def test_the_error_is_shown_with_the_secret_scrubbed(private_ca_api):
    """no_log hides the token, not the reason: a rejected key is named as such, and the key itself appears nowhere."""
    wrong = "token-wrong:" + "s3cr3t" * 8
    base = {"rancher_url": private_ca_api.url, "rancher_ca_path": private_ca_api.ca_file}
    run = run_repo(dict(base, rancher_cluster="prod", rancher_api_token=wrong), {})
    assert "rejected the api_token (RANCHER_TOKEN) (HTTP 401" in shown_failure(run)
    assert "s3cr3t" not in run.stdout + run.stderr
    # the key pasted as the cluster name by mistake: the message names the cluster with the key's value scrubbed
    run = run_repo(dict(base, rancher_cluster=private_ca_api.api_token, rancher_api_token=private_ca_api.api_token), {})
    message = shown_failure(run)
    assert "********" in message and "prod" in message, message
    assert private_ca_api.api_token not in run.stdout + run.stderr
