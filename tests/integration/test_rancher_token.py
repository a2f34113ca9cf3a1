"""netboot.coreos.rancher_token run like Ansible runs it, against the loopback Rancher API fixture.

Every return field for RKE1, v2prov and Rancher 1.x; check mode, diff and idempotence; every error as one
line without a traceback; and, through a playbook, that the API key is absent from the result and from every
rendered join fragment.
"""

import json
import re
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from conftest import run_module, run_playbook
from rancher_api import RancherAPI

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def api():
    with RancherAPI(tls=True) as server:
        server.add_cluster("prod")
        server.add_cluster("edge", "v2prov")
        server.add_v1_token()
        yield server


PLAN_NODE = {"name": "n1", "hostname": "n1", "mac": "00:50:56:00:00:11", "ip": "10.0.0.11", "roles": ["worker"]}


def args(server, **extra):
    return dict(dict(url=server.url, api_token=server.api_token, cluster="prod", ca_path=server.ca_file,
                     timeout=5, retries=1), **extra)


def assert_clean(result, server):
    text = json.dumps(result)
    assert server.api_token not in text and server.secret_key not in text
    assert "Traceback" not in result.stderr and "Traceback" not in text


def test_rke1_returns_every_field(api):
    result = run_module("rancher_token", args(api))
    assert result.rc == 0 and result["changed"] is False, result
    token = api.tokens[0]["token"]
    assert result["provisioning"] == "rke1" and result["cluster_id"] == api.clusters[0]["id"]
    assert result["token"] == token and result["token_id"] == api.clusters[0]["id"] + ":default-token"
    assert result["server_url"] == api.url
    assert HEX64.match(result["ca_checksum"])
    assert result["node_command"].startswith("sudo docker run -d --privileged")
    assert "--server %s --token %s --ca-checksum %s" % (api.url, token, result["ca_checksum"]) in result["node_command"]
    assert result["insecure_node_command"] == "" and result["system_agent_command"] == ""
    assert result["manifest_url"] == "%s/v3/import/%s_%s.yaml" % (api.url, token, result["cluster_id"])
    assert result["registration_url"] == "" and result["agent_image"] == "rancher/rancher-agent:v2.9.3"
    assert_clean(result, api)


def test_v2prov_returns_system_agent_command(api):
    result = run_module("rancher_token", args(api, cluster="edge", roles=["etcd", "controlplane", "worker"]))
    assert result.rc == 0, result
    token = result["token"]
    assert result["provisioning"] == "v2prov" and result["cluster_id"].startswith("c-m-")
    assert result["node_command"].startswith("curl -fL %s/system-agent-install.sh |" % api.url)
    assert result["insecure_node_command"].startswith("curl --insecure -fL ")
    assert result["system_agent_command"].endswith(
        "--server %s --label cattle.io/os=linux --token %s --ca-checksum %s --etcd --controlplane --worker"
        % (api.url, token, result["ca_checksum"]))
    assert result["agent_image"] == ""
    assert_clean(result, api)


def test_rancher_1x_returns_registration_url(api):
    result = run_module("rancher_token", dict(url=api.url, access_key=api.access_key, secret_key=api.secret_key,
                                              project_id="1a5", ca_path=api.ca_file))
    assert result.rc == 0, result
    assert result["provisioning"] == "v1" and result["cluster_id"] == "1a5"
    assert result["registration_url"] == "%s/v1/scripts/%s" % (api.url, result["token"])
    assert result["node_command"].endswith(" rancher/agent:v1.2.11 " + result["registration_url"])
    assert result["ca_checksum"] == "" and result["manifest_url"] == ""
    assert_clean(result, api)


def test_rancher_1x_keys_win_over_a_token_in_the_environment(api):
    result = run_module("rancher_token", dict(url=api.url, access_key=api.access_key, secret_key=api.secret_key,
                                              project_id="1a5", ca_path=api.ca_file),
                        env={"RANCHER_TOKEN": api.api_token})
    assert result.rc == 0 and result["provisioning"] == "v1", result
    assert_clean(result, api)


def test_v3_accepts_the_token_as_a_key_pair(api):
    access, secret = api.api_token.split(":")
    result = run_module("rancher_token", args(api, api_token=None, access_key=access, secret_key=secret),
                        env={"RANCHER_TOKEN": ""})
    assert result.rc == 0 and result["provisioning"] == "rke1" and result["token"], result
    assert_clean(result, api)


def test_check_mode_predicts_creation_and_real_run_converges(api):
    api.add_cluster("fresh", default_token=False)
    posts = len(api.created_tokens())
    check = run_module("rancher_token", args(api, cluster="fresh"), check_mode=True, diff=True)
    assert check["changed"] is True and check["token"] == "" and len(api.created_tokens()) == posts
    assert check["diff"] == {"before": {"registration_token": None}, "after": {"registration_token": "(new)"}}
    real = run_module("rancher_token", args(api, cluster="fresh"), diff=True)
    assert real["changed"] is True and real["token"] and len(api.created_tokens()) == posts + 1
    assert real["diff"]["after"]["registration_token"] == real["token_id"]
    again = run_module("rancher_token", args(api, cluster="fresh"), check_mode=True)
    assert again["changed"] is False and again["token"] == real["token"]


def test_environment_fallbacks(api):
    result = run_module("rancher_token", dict(cluster="prod", ca_path=api.ca_file),
                        env={"RANCHER_URL": api.url, "RANCHER_TOKEN": api.api_token})
    assert result.rc == 0 and result["token"] == api.tokens[0]["token"], result


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["401", "403", "cluster", "unreachable", "tls", "payload", "500", "no_credential"])
def test_errors_are_one_clear_line(api, case):
    extra, expected = {
        "401": (dict(api_token="token-bad00:NotTheRightSecretAtAll0123456789"),
                "rejected the api_token (RANCHER_TOKEN) (HTTP 401"),
        "403": (dict(cluster="locked"), "refused GET /v3/clusterregistrationtokens?clusterId="),
        "cluster": (dict(cluster="missing"), "Rancher cluster 'missing' not found in %s; available: " % api.url),
        "unreachable": (dict(url="http://127.0.0.1:%d" % closed_port()), "cannot connect to Rancher http://127.0.0.1:"),
        "tls": (dict(ca_path=None), "TLS verification of Rancher %s failed" % api.url),
        "payload": (dict(cluster="garbage"), "with something that is not JSON"),
        "500": (dict(cluster="broken"), "with HTTP 500 after 2 attempts"),
        "no_credential": (dict(api_token=None), "no Rancher credential"),
    }[case]
    if case == "403":
        locked = api.add_cluster("locked")
        api.forbidden.add(r"^/v3/clusterregistrationtokens$")
    if case == "payload":
        api.fault(r"^/v3/clusters$", status=200, body="<html>proxy login</html>")
    if case == "500":
        api.fault(r"^/v3/clusters$", status=500, times=2)
    try:
        result = run_module("rancher_token", args(api, **extra), env={"RANCHER_TOKEN": ""})
    finally:
        api.forbidden.clear()
    assert result.rc == 1 and result["failed"] is True, result
    assert expected in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert_clean(result, api)
    if case == "cluster":
        assert "edge" in result["msg"] and "prod" in result["msg"]
    if case == "403":
        assert locked["id"] in result["msg"]


PLAYBOOK = """
- name: Join nodes to Rancher with a registration token only
  hosts: localhost
  gather_facts: false
  vars:
    nodes:
      - {name: n1, hostname: n1, mac: "00:50:56:00:00:11", ip: 10.0.0.11, roles: [etcd, controlplane, worker], labels: {zone: a}, taints: []}
      - {name: n2, hostname: n2, mac: "00:50:56:00:00:12", ip: 10.0.0.12, roles: [worker], labels: {}, taints: ["gpu=true:NoSchedule"]}
  tasks:
    - name: Get the registration token
      netboot.coreos.rancher_token:
        url: "{{ rancher_url }}"
        api_token: "{{ rancher_api_token }}"
        cluster: "{{ rancher_cluster }}"
        ca_path: "{{ rancher_ca }}"
      register: registration
      no_log: true

    - name: Write each node's join fragment
      ansible.builtin.copy:
        dest: "{{ out_dir }}/{{ item.name }}.json"
        content: "{{ registration | netboot.coreos.rancher_join(item, url=rancher_url) | to_nice_json }}"
        mode: "0600"
      loop: "{{ nodes }}"
      no_log: true

    - name: Keep the token result for the test
      ansible.builtin.copy:
        dest: "{{ out_dir }}/result.json"
        content: "{{ registration | to_nice_json }}"
        mode: "0600"
      no_log: true
"""


@pytest.mark.parametrize("cluster", ["prod", "edge"])
def test_playbook_api_key_absent_from_result_and_every_fragment(api, tmp_path, cluster):
    playbook = tmp_path / "join.yml"
    playbook.write_text(PLAYBOOK)
    run = run_playbook(str(playbook), extra_vars=dict(rancher_url=api.url, rancher_api_token=api.api_token,
                                                      rancher_cluster=cluster, rancher_ca=api.ca_file,
                                                      out_dir=str(tmp_path),
                                                      ansible_python_interpreter=sys.executable))
    assert run.rc == 0, (run.failure_messages(), run.stderr[-2000:])
    assert api.api_token not in run.stdout and api.api_token.split(":")[1] not in run.stdout
    result = json.loads((tmp_path / "result.json").read_text())
    token = result["token"]
    for path in [tmp_path / "result.json", tmp_path / "n1.json", tmp_path / "n2.json"]:
        text = path.read_text()
        assert api.api_token not in text and api.api_token.split(":")[1] not in text, path
    fragments = {n: json.loads((tmp_path / ("%s.json" % n)).read_text()) for n in ("n1", "n2")}
    for name, fragment in fragments.items():
        script = fragment["storage"]["files"][0]["contents"]["inline"]
        assert token in script and "--node-name %s" % name in script
    assert "--etcd --controlplane --worker" in fragments["n1"]["storage"]["files"][0]["contents"]["inline"]
    n2 = fragments["n2"]["storage"]["files"][0]["contents"]["inline"]
    assert "gpu=true:NoSchedule" in n2 and "--etcd" not in n2
    if cluster == "edge":
        assert "CATTLE_AGENT_BIN_PREFIX=/opt sh " in n2
    assert yaml.safe_load(yaml.safe_dump(fragments["n1"]))  # plain data, mergeable


def write_join(fragment, tmp_path):
    script = tmp_path / "state" / "join.sh"
    script.parent.mkdir(mode=0o700, exist_ok=True)
    script.write_text(fragment["storage"]["files"][0]["contents"]["inline"])
    script.chmod(fragment["storage"]["files"][0]["mode"])
    return script


def test_v2prov_join_script_checks_the_ca_then_installs_into_the_prefix(api, tmp_path):
    """The rendered script run for real with curl: /cacerts must match the checksum, then the installer runs."""
    from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import render_join
    result = run_module("rancher_token", args(api, cluster="edge"))
    node = dict(name="n1", hostname="n1", mac="00:50:56:00:00:11", ip="10.0.0.11", roles=["etcd", "worker"], labels={"zone": "a"},
                taints=["gpu=true:NoSchedule"])
    fragment = render_join(result, node, bin_prefix=str(tmp_path / "opt"), state_dir=str(tmp_path / "state"))
    proc = subprocess.run([str(write_join(fragment, tmp_path))], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    recorded = (tmp_path / "opt" / "bin" / "rancher-system-agent.args").read_text().splitlines()
    assert recorded == ["--server", api.url, "--label", "cattle.io/os=linux", "--token", result["token"],
                        "--ca-checksum", result["ca_checksum"], "--node-name", "n1", "--address", "10.0.0.11",
                        "--internal-address", "10.0.0.11", "--etcd", "--worker", "--label", "zone=a",
                        "--taint", "gpu=true:NoSchedule"]


def test_v2prov_join_script_refuses_a_ca_that_does_not_match(api, tmp_path):
    from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import render_join
    result = run_module("rancher_token", args(api, cluster="edge"))
    forged = dict(result, ca_checksum="0" * 64)  # as if a man in the middle served another CA
    fragment = render_join(forged, PLAN_NODE, bin_prefix=str(tmp_path / "opt"), state_dir=str(tmp_path / "state"))
    proc = subprocess.run([str(write_join(fragment, tmp_path))], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "FAILED" in proc.stdout + proc.stderr
    assert not (tmp_path / "opt").exists() and not (tmp_path / "state" / "system-agent-install.sh").exists()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze (package systemd)")
@pytest.mark.parametrize("cluster", ["prod", "edge"])
def test_join_unit_passes_systemd_analyze(api, tmp_path, cluster):
    from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import render_join
    result = run_module("rancher_token", args(api, cluster=cluster))
    unit = render_join(result, PLAN_NODE)["systemd"]["units"][0]
    (tmp_path / unit["name"]).write_text(unit["contents"])
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / unit["name"])],
                          capture_output=True, text=True, check=False)
    # Only the host differs from a node (no docker.service, no join.sh here); the unit itself must parse.
    problems = [line for line in proc.stderr.splitlines()
                if "not found" not in line and "is not executable" not in line and line.strip()]
    assert problems == []
