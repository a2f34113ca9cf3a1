"""repo.yml's Rancher play with the credential only in RANCHER_URL / RANCHER_TOKEN (as an AWX credential injects
it), and an inventory value winning over the environment. No repo_servers host: only the Rancher play runs."""

import socket
import sys

import pytest

from conftest import run_playbook
from rancher_api import RancherAPI

TASK = "Get or create the cluster registration token"


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
