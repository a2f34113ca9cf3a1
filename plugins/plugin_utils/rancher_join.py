# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Rancher join of one node, as a Butane-like fragment for node.ign.

``render_join(token_result, node)`` takes the result of netboot.coreos.rancher_token and one node plan record
and returns ``{storage: {directories, files}, systemd: {units}}``: a root-only script holding the join command
and a oneshot unit that runs it once (a marker file guards reruns) after the network is online and the
container runtime has started. Only the registration token, the server URL, the CA checksum and the agent image
are read from the token result: the Rancher API key used to obtain them never reaches a node.
"""

import re
import shlex

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import check_nodes

PROVISIONINGS = ("rke1", "v2prov", "v1")
UNIT_NAME = "rancher-join.service"
STATE_DIR = "/var/lib/rancher-join"
# /usr is read-only on Flatcar and Fedora CoreOS; /opt is writable (and /opt/bin is on Flatcar's PATH).
DEFAULT_BIN_PREFIX = "/opt"
# The host paths Rancher's own RKE1 / 1.x node commands mount into the agent container.
RKE1_DOCKER_ARGS = ["docker", "run", "-d", "--privileged", "--restart=unless-stopped", "--net=host",
                    "-v", "/etc/kubernetes:/etc/kubernetes", "-v", "/var/run:/var/run"]
V1_DOCKER_ARGS = ["docker", "run", "--rm", "--privileged", "-v", "/var/run/docker.sock:/var/run/docker.sock",
                  "-v", "/var/lib/rancher:/var/lib/rancher"]


def _quote(words):
    return " ".join(shlex.quote(str(w)) for w in words)


def _require(token_result, key, provisioning):
    value = token_result.get(key)
    if not value or not isinstance(value, str):
        raise ValidationError("rancher_join: token_result has no %s, which a %s join needs: pass the result of "
                              "netboot.coreos.rancher_token run without check mode" % (key, provisioning))
    return value


def rke1_command(token_result, server, node):
    """docker run of rancher/rancher-agent with --server/--token/--ca-checksum, node name/address and roles."""
    words = RKE1_DOCKER_ARGS + [_require(token_result, "agent_image", "rke1"), "--server", server,
                                "--token", _require(token_result, "token", "rke1")]
    if token_result.get("ca_checksum"):
        words += ["--ca-checksum", token_result["ca_checksum"]]
    words += _node_flags(node, taint_flag="--taints")
    return [_quote(words)]


def _labels(node):
    return ["%s=%s" % (k, node["labels"][k]) for k in sorted(node["labels"])]


def _node_flags(node, taint_flag):
    """Name, address, roles, labels and taints of the node, as rancher-agent and system-agent take them."""
    words = ["--node-name", node["hostname"]]
    if node["ip"]:
        words += ["--address", node["ip"], "--internal-address", node["ip"]]
    words += ["--%s" % role for role in node["roles"]]
    for label in _labels(node):
        words += ["--label", label]
    for taint in node["taints"]:
        words += [taint_flag, taint]
    return words


def v2prov_commands(token_result, server, node, bin_prefix, state_dir):
    """Fetch system-agent-install.sh (trusting only the checksummed CA) and run it with a writable bin prefix."""
    token = _require(token_result, "token", "v2prov")
    checksum = token_result.get("ca_checksum") or ""
    script = state_dir + "/system-agent-install.sh"
    lines = []
    if checksum:
        cacerts = state_dir + "/cacerts"
        # A private CA: take /cacerts only if it matches the checksum from the API, then trust just that CA.
        lines += [_quote(["curl", "-fsSL", "--retry", "5", "--insecure", "-o", cacerts, server + "/cacerts"]),
                  "echo %s | sha256sum -c -" % shlex.quote("%s  %s" % (checksum, cacerts)),
                  _quote(["curl", "-fsSL", "--retry", "5", "--cacert", cacerts, "-o", script,
                          server + "/system-agent-install.sh"])]
    else:
        lines.append(_quote(["curl", "-fsSL", "--retry", "5", "-o", script, server + "/system-agent-install.sh"]))
    words = ["sh", script, "--server", server, "--label", "cattle.io/os=linux", "--token", token]
    if checksum:
        words += ["--ca-checksum", checksum]
    words += _node_flags(node, taint_flag="--taint")
    lines.append("CATTLE_AGENT_BIN_PREFIX=%s %s" % (shlex.quote(bin_prefix), _quote(words)))
    return lines


def v1_command(token_result, node):
    """Rancher 1.x: docker run of rancher/agent with the registration URL; host labels and agent IP as env."""
    words = list(V1_DOCKER_ARGS[:4])
    labels = _labels(node)
    if labels:
        words += ["-e", "CATTLE_HOST_LABELS=%s" % "&".join(labels)]
    if node["ip"]:
        words += ["-e", "CATTLE_AGENT_IP=%s" % node["ip"]]
    words += V1_DOCKER_ARGS[4:] + [_require(token_result, "agent_image", "v1"),
                                   _require(token_result, "registration_url", "v1")]
    return [_quote(words)]


def join_unit(provisioning, state_dir):
    """The oneshot unit: once (marker), after network-online and the container runtime, retried on failure."""
    docker = provisioning in ("rke1", "v1")
    runtime = "docker.service" if docker else "containerd.service docker.service"
    return "\n".join([
        "[Unit]",
        "Description=Join this node to Rancher once (%s)" % provisioning,
        "Documentation=https://github.com/netboot-coreos/netboot.coreos/blob/main/docs/rancher.md",
        "Wants=network-online.target",
        "After=network-online.target time-sync.target %s" % runtime,
    ] + (["Requires=docker.service"] if docker else []) + [
        "ConditionPathExists=!%s/joined" % state_dir,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        "ExecStart=%s/join.sh" % state_dir,
        "ExecStartPost=/usr/bin/touch %s/joined" % state_dir,
        "Restart=on-failure",
        "RestartSec=30",
        "TimeoutStartSec=30min",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def render_join(token_result, node, url=None, bin_prefix=DEFAULT_BIN_PREFIX, state_dir=STATE_DIR):
    """The Butane-like fragment that joins ``node`` to Rancher with the registration token of ``token_result``.

    ``state_dir`` holds the script, the downloads and the marker (tests point it at a temporary directory).
    """
    if not isinstance(token_result, dict):
        raise ValidationError("rancher_join: token_result must be the registered result of "
                              "netboot.coreos.rancher_token, got %s" % type(token_result).__name__)
    node = check_nodes([node], source="rancher_join")[0]
    provisioning = token_result.get("provisioning")
    if provisioning not in PROVISIONINGS:
        raise ValidationError("rancher_join: token_result.provisioning is %r; expected one of %s"
                              % (provisioning, ", ".join(PROVISIONINGS)))
    if not re.match(r"^/[A-Za-z0-9_./-]*$", bin_prefix or "") or bin_prefix.startswith("/usr"):
        raise ValidationError("rancher_join: bin_prefix '%s' must be an absolute path outside the read-only /usr, "
                              "for example /opt" % bin_prefix)
    if url is not None and not isinstance(url, str):
        raise ValidationError("rancher_join: url must be a string, got %s; pass '' (not omit) to use the token "
                              "result's server_url" % type(url).__name__)
    if provisioning == "v1":
        commands = v1_command(token_result, node)
    else:
        server = (url or token_result.get("server_url") or "").rstrip("/")
        if not re.match(r"^https?://[^/@]+", server):
            raise ValidationError("rancher_join: url '%s' is not a Rancher server URL (https://rancher.example.com)"
                                  % server)
        if provisioning == "rke1":
            commands = rke1_command(token_result, server, node)
        else:
            commands = v2prov_commands(token_result, server, node, bin_prefix, state_dir)
    script = "\n".join([
        "#!/bin/sh",
        "# Joins %s to Rancher (%s) with a registration token; written by netboot.coreos.rancher_join."
        % (node["hostname"], provisioning),
        "set -eu",
        "umask 077",
    ] + commands + [""])
    return {
        "storage": {
            "directories": [{"path": state_dir, "mode": 0o700}],
            "files": [{"path": state_dir + "/join.sh", "mode": 0o700, "overwrite": True,
                       "contents": {"inline": script}}],
        },
        "systemd": {"units": [{"name": UNIT_NAME, "enabled": True, "contents": join_unit(provisioning, state_dir)}]},
    }
