"""awx/configure.yml through the real awx.awx modules (from the `ansible` package): every task's arguments,
as Ansible templates them, pass the module's own argument spec. No controller runs here, so CONTROLLER_HOST
points at a closed loopback port: a task whose arguments are valid gets as far as its first API request and
fails with "Connection refused"; one with a bad argument fails earlier with the module's validation message.
The playbook is copied with ignore_errors on each task so that every task runs."""

import os
import shutil
import socket

import yaml
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.parsing.yaml.dumper import AnsibleDumper

from conftest import REPO, run_playbook

SECRETS = {"awx_vcenter_host": "vcenter.example.com", "awx_vcenter_username": "svc-netboot@vsphere.local",
           "awx_vcenter_password": "vc-password-9f1", "awx_rancher_url": "https://rancher.example.com",
           "awx_rancher_token": "token-ab12c:rancher-secret-77"}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure_copy(tmp_path, break_task=None):
    """awx/ copied to tmp_path with ignore_errors on every task; with break_task (task name, argument, value)
    only that task, with that argument changed."""
    copy = tmp_path / "awx"
    shutil.copytree(os.path.join(REPO, "awx"), copy)
    with open(copy / "configure.yml") as handle:
        plays = yaml.load(handle, Loader=AnsibleLoader)  # nosec: Ansible's safe loader
    if break_task:
        plays[0]["tasks"] = [task for task in plays[0]["tasks"] if task["name"] == break_task[0]]
        next(value for key, value in plays[0]["tasks"][0].items() if key.startswith("awx.awx."))[break_task[1]] = \
            break_task[2]
    for task in plays[0]["tasks"]:
        task["ignore_errors"] = True
    with open(copy / "configure.yml", "w") as handle:
        yaml.dump(plays, handle, Dumper=AnsibleDumper)
    return str(copy / "configure.yml")


def awx_results(run):
    """(task name, item label, result) of every awx.awx task."""
    found = []
    for play in run.data["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                for one in result.get("results", [result]):
                    found.append((task["task"]["name"], one.get("item", {}).get("name", ""), one))
    return found


def run_configure(playbook, port):
    env = {"CONTROLLER_HOST": "https://127.0.0.1:%d" % port, "CONTROLLER_OAUTH_TOKEN": "awx-token-0c4e7d2a91b3",
           "CONTROLLER_VERIFY_SSL": "true"}
    return run_playbook(playbook, extra_vars=SECRETS, env=env)


def test_every_task_passes_its_module_argument_spec(tmp_path):
    port = closed_port()
    run = run_configure(configure_copy(tmp_path), port)
    results = awx_results(run)
    names = [name for name, _item, _result in results]
    assert len(names) == 14, names  # 9 objects, 5 job templates
    refused = "https://127.0.0.1:%d/api/v2/" % port
    for name, item, result in results:
        assert refused in result.get("msg", ""), (name, item, result)
        assert "Connection refused" in result["msg"], (name, item, result["msg"])
    templates = {item: result["invocation"]["module_args"] for name, item, result in results
                 if name == "Keep the job templates"}
    assert sorted(templates) == sorted(t["name"] for t in yaml.safe_load(
        open(os.path.join(REPO, "awx", "controller.yml")).read().replace("!unsafe", ""))["awx_job_templates"])
    site = templates["netboot.coreos site"]
    assert site["playbook"] == "site.yml" and site["survey_enabled"] is True
    assert [q["variable"] for q in site["survey_spec"]["spec"]] == [
        "coreos_node_count", "coreos_channel", "coreos_version", "rancher_cluster"]
    assert site["credentials"] == ["netboot.coreos vCenter", "netboot.coreos Rancher"]
    kind = next(result["invocation"]["module_args"] for name, _item, result in results
                if name.startswith("Keep the Rancher credential type"))
    # AWX renders the injectors at launch: they must reach AWX as templates, not rendered by this play
    assert kind["injectors"] == {"env": {"RANCHER_URL": "{{ rancher_url }}", "RANCHER_TOKEN": "{{ rancher_token }}"}}
    assert "token-ab12c:rancher-secret-77" not in run.stdout and "vc-password-9f1" not in run.stdout


def test_a_bad_argument_is_refused_by_the_module(tmp_path):
    """The check above can fail: a job_type awx.awx does not know is refused before any request."""
    run = run_configure(configure_copy(tmp_path, ("Keep the job templates", "job_type", "deploy")), closed_port())
    messages = [result["msg"] for name, _item, result in awx_results(run) if name == "Keep the job templates"]
    assert len(messages) == 5
    assert all(msg.startswith("value of job_type must be one of: run, check, got: deploy") for msg in messages), messages
