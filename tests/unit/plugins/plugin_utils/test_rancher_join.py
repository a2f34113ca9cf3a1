"""Rendering of the Rancher join for one node: commands, the once-only unit, validation, no API key."""

import json
import shlex

import pytest

from ansible_collections.netboot.coreos.plugins.filter.rancher_join import rancher_join
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import render_join
from ansible.errors import AnsibleFilterError

API_KEY = "token-zz9xy:apikeysecretvaluethatmustneverreachanode0123456789abcd"
TOKEN = "9kx7vx4qxwmbz5hqsdjf8f6v2gk4kclpb6rzk5xnvt8lq9hzj7wsfc"
CHECKSUM = "3f1c9b0d2ae7d67b0a3c6b7f1e4a7f1c1c0b3f4e2d7a9b8c6d5e4f3a2b1c0d9e"
SERVER = "https://rancher.example.com"

RKE1 = dict(provisioning="rke1", cluster_id="c-abcde", server_url=SERVER, token=TOKEN, token_id="c-abcde:default-token",
            node_command="sudo docker run -d --privileged --restart=unless-stopped --net=host -v /etc/kubernetes:"
                         "/etc/kubernetes -v /var/run:/var/run  rancher/rancher-agent:v2.9.3 --server %s --token %s "
                         "--ca-checksum %s" % (SERVER, TOKEN, CHECKSUM),
            insecure_node_command="", system_agent_command="", ca_checksum=CHECKSUM,
            manifest_url=SERVER + "/v3/import/x.yaml", registration_url="", agent_image="rancher/rancher-agent:v2.9.3")
V2PROV = dict(RKE1, provisioning="v2prov", cluster_id="c-m-4xvz8r2q", agent_image="",
              node_command="curl -fL %s/system-agent-install.sh | sudo sh -s - --server %s --label "
                           "'cattle.io/os=linux' --token %s --ca-checksum %s" % (SERVER, SERVER, TOKEN, CHECKSUM))
V1_URL = "http://rancher1.example.com:8080/v1/scripts/D5F1A1E3C0E2A1B4C1D3:1546214400000:Xq7nB"
V1 = dict(provisioning="v1", cluster_id="1a5", server_url="http://rancher1.example.com:8080", token="D5F1A1E3C0E2",
          token_id="1c3", node_command="sudo docker run --rm --privileged rancher/agent:v1.2.11 " + V1_URL,
          insecure_node_command="", system_agent_command="", ca_checksum="", manifest_url="",
          registration_url=V1_URL, agent_image="rancher/agent:v1.2.11")

NODE = dict(name="prod-node01", hostname="prod-node01", mac="00:50:56:00:00:01", ip="10.0.0.11",
            roles=["worker", "etcd", "controlplane"], labels={"zone": "a", "example.com/tier": "gold"},
            taints=["dedicated=infra:NoSchedule"], num_cpus=4, memory_mb=8192)


def script_of(fragment):
    files = fragment["storage"]["files"]
    assert [f["path"] for f in files] == ["/var/lib/rancher-join/join.sh"]
    assert files[0]["mode"] == 0o700
    return files[0]["contents"]["inline"]


def last_command(fragment):
    return shlex.split(script_of(fragment).strip().splitlines()[-1])


def test_rke1_runs_rancher_agent_with_token_checksum_roles_labels_taints():
    words = last_command(render_join(RKE1, NODE))
    assert words[:6] == ["docker", "run", "-d", "--privileged", "--restart=unless-stopped", "--net=host"]
    image = words.index("rancher/rancher-agent:v2.9.3")
    assert words[image + 1:] == [
        "--server", SERVER, "--token", TOKEN, "--ca-checksum", CHECKSUM, "--node-name", "prod-node01",
        "--address", "10.0.0.11", "--internal-address", "10.0.0.11", "--etcd", "--controlplane", "--worker",
        "--label", "example.com/tier=gold", "--label", "zone=a", "--taints", "dedicated=infra:NoSchedule"]


def test_rke1_public_ca_has_no_checksum_and_default_role_is_worker():
    node = dict(name="n2", hostname="n2", mac="00:50:56:00:00:02", ip=None, labels={}, taints=[])
    words = last_command(render_join(dict(RKE1, ca_checksum=""), node))
    assert "--ca-checksum" not in words and "--address" not in words
    assert words[-3:] == ["--node-name", "n2", "--worker"]


def test_v2prov_installs_system_agent_into_writable_prefix_after_checking_the_ca():
    fragment = render_join(V2PROV, NODE, url="https://rancher.example.com/")
    lines = script_of(fragment).strip().splitlines()
    assert lines[:4] == ["#!/bin/sh", lines[1], "set -eu", "umask 077"]
    fetch_ca, check_ca, fetch_script, install = lines[4:]
    assert shlex.split(fetch_ca)[-1] == SERVER + "/cacerts" and "--insecure" in fetch_ca
    assert shlex.split(check_ca) == ["echo", "%s  /var/lib/rancher-join/cacerts" % CHECKSUM, "|", "sha256sum",
                                     "-c", "-"]
    assert "--insecure" not in fetch_script and "--cacert /var/lib/rancher-join/cacerts" in fetch_script
    words = shlex.split(install)
    assert words[0] == "CATTLE_AGENT_BIN_PREFIX=/opt"
    assert words[1:] == [
        "sh", "/var/lib/rancher-join/system-agent-install.sh", "--server", SERVER, "--label", "cattle.io/os=linux",
        "--token", TOKEN, "--ca-checksum", CHECKSUM, "--node-name", "prod-node01", "--address", "10.0.0.11",
        "--internal-address", "10.0.0.11", "--etcd", "--controlplane", "--worker",
        "--label", "example.com/tier=gold", "--label", "zone=a", "--taint", "dedicated=infra:NoSchedule"]


def test_v2prov_public_ca_downloads_with_system_trust_and_custom_prefix():
    fragment = render_join(dict(V2PROV, ca_checksum=""), NODE, bin_prefix="/var/opt/rancher")
    lines = script_of(fragment).strip().splitlines()[4:]
    assert len(lines) == 2 and "--insecure" not in lines[0] and "cacerts" not in lines[0]
    assert lines[1].startswith("CATTLE_AGENT_BIN_PREFIX=/var/opt/rancher sh ")
    assert "--ca-checksum" not in lines[1]


def test_v1_runs_legacy_agent_with_registration_url_labels_and_ip():
    words = last_command(render_join(V1, NODE))
    assert words == ["docker", "run", "--rm", "--privileged", "-e",
                     "CATTLE_HOST_LABELS=example.com/tier=gold&zone=a", "-e", "CATTLE_AGENT_IP=10.0.0.11",
                     "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "/var/lib/rancher:/var/lib/rancher",
                     "rancher/agent:v1.2.11", V1_URL]


@pytest.mark.parametrize("result", [RKE1, V2PROV, V1], ids=["rke1", "v2prov", "v1"])
def test_unit_joins_once_after_network_and_runtime(result):
    fragment = render_join(result, NODE)
    assert fragment["storage"]["directories"] == [{"path": "/var/lib/rancher-join", "mode": 0o700}]
    (unit,) = fragment["systemd"]["units"]
    assert unit["name"] == "rancher-join.service" and unit["enabled"] is True
    lines = unit["contents"].splitlines()
    after = next(line for line in lines if line.startswith("After="))
    assert "network-online.target" in after and "docker.service" in after
    assert "Wants=network-online.target" in lines
    assert "ConditionPathExists=!/var/lib/rancher-join/joined" in lines
    assert "ExecStartPost=/usr/bin/touch /var/lib/rancher-join/joined" in lines
    assert "ExecStart=/var/lib/rancher-join/join.sh" in lines and "Type=oneshot" in lines
    assert "WantedBy=multi-user.target" in lines
    assert ("Requires=docker.service" in lines) == (result["provisioning"] != "v2prov")


@pytest.mark.parametrize("result", [RKE1, V2PROV, V1], ids=["rke1", "v2prov", "v1"])
def test_api_key_never_rendered(result):
    """Even a token result that carries the API key (a careless set_fact) renders without it."""
    polluted = dict(result, api_token=API_KEY, invocation={"module_args": {"api_token": API_KEY}})
    rendered = json.dumps(render_join(polluted, NODE))
    assert API_KEY not in rendered and "apikeysecret" not in rendered
    assert result["token"] in rendered


def test_fragment_merges_with_combine_append():
    """Two fragments merged like the node config does keep both units and files."""
    from ansible.plugins.filter.core import combine
    base = {"systemd": {"units": [{"name": "other.service", "enabled": True}]}, "storage": {"files": []}}
    merged = combine(base, render_join(RKE1, NODE), recursive=True, list_merge="append")
    assert [u["name"] for u in merged["systemd"]["units"]] == ["other.service", "rancher-join.service"]
    assert len(merged["storage"]["files"]) == 1


@pytest.mark.parametrize("result, node, kwargs, message", [
    (dict(RKE1, provisioning="rke2"), NODE, {}, "token_result.provisioning is 'rke2'; expected one of rke1, v2prov, v1"),
    (dict(RKE1, token=""), NODE, {}, "token_result has no token, which a rke1 join needs"),
    (dict(V1, registration_url=None), NODE, {}, "token_result has no registration_url, which a v1 join needs"),
    (RKE1, dict(NODE, roles=["master"]), {}, "rancher_join: node 'prod-node01': role 'master' is not a Rancher node role; use etcd, controlplane, worker"),
    (RKE1, dict(NODE, taints=["dedicated=infra"]), {}, "rancher_join: node 'prod-node01': taint 'dedicated=infra' is not 'key=value:Effect'"),
    (RKE1, dict(NODE, labels={"bad key": "x"}), {}, "rancher_join: node 'prod-node01': label bad key=x is not a valid Kubernetes label"),
    (RKE1, dict(NODE, hostname="Bad_Host", name="x"), {}, "rancher_join: node 'x': hostname 'Bad_Host' is not a valid RFC 1123 host name"),
    (RKE1, dict(NODE, mac=None), {}, "rancher_join: node 'prod-node01' has no mac"),
    (V2PROV, NODE, {"bin_prefix": "/usr/local"}, "bin_prefix '/usr/local' must be an absolute path outside the read-only /usr"),
    (RKE1, NODE, {"url": "rancher.example.com"}, "url 'rancher.example.com' is not a Rancher server URL"),
    ("not a dict", NODE, {}, "token_result must be the registered result of netboot.coreos.rancher_token"),
    (RKE1, NODE, {"url": object()}, "url must be a string, got object; pass '' (not omit)"),
])
def test_bad_input_is_one_clear_line(result, node, kwargs, message):
    with pytest.raises(ValidationError) as err:
        render_join(result, node, **kwargs)
    assert message in err.value.msg and "\n" not in err.value.msg


def test_empty_url_means_the_server_url_of_the_token_result():
    words = last_command(render_join(RKE1, NODE, url=""))
    assert words[words.index("--server") + 1] == SERVER


def test_filter_maps_errors_to_filter_errors_and_passes_url():
    with pytest.raises(AnsibleFilterError, match="expected one of rke1, v2prov, v1"):
        rancher_join({"provisioning": None}, NODE)
    words = last_command(rancher_join(RKE1, NODE, url="https://other.example.com"))
    assert words[words.index("--server") + 1] == "https://other.example.com"


def test_shell_metacharacters_in_values_stay_quoted():
    fragment = render_join(dict(RKE1, agent_image="registry.example.com/rancher-agent:v2.9.3;reboot"), NODE)
    assert "'registry.example.com/rancher-agent:v2.9.3;reboot'" in script_of(fragment)
