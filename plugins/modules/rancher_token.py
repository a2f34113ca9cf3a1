#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rancher_token
short_description: Get (or create) the registration token nodes use to join a Rancher cluster
version_added: 0.1.0
description:
  - Finds the Rancher 2.x cluster O(cluster) (v3 API) or the Rancher 1.x environment O(project_id) (v1 API),
    reuses a valid registration token or creates one when there is none, and returns what a node needs to
    join with that token only.
  - Reports the provisioning flavour of the cluster. V(rke1) clusters join with the C(rancher/rancher-agent)
    container, V(v2prov) (RKE2 and K3s custom clusters) with C(system-agent-install.sh), V(v1) (Rancher 1.x)
    with the C(rancher/agent) container and the registration URL.
  - Computes the CA checksum (sha256 of the server's C(cacerts) setting; empty for a public CA).
  - Handles Rancher 2.15 and later, whose stored commands carry a literal C({token}) placeholder, collection
    pagination (C(limit)/C(marker)), and retries with backoff on HTTP 5xx and timeouts.
  - "The returned C(token) is a secret that lets any machine join the cluster. Register the result with
    C(no_log: true) and hand it to the nodes only through the C(netboot.coreos.rancher_join) filter."
  - The API key (O(api_token), O(access_key)/O(secret_key)) is never part of the result.
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.rancher
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Never creates a token; reports C(changed=true) and empty token fields when one would be created.
  diff_mode:
    support: full
    details:
      - Shows the id of the token that was (or would be) created, never the token itself.
options:
  cluster:
    description:
      - Name or id (V(c-xxxxx), V(c-m-xxxxxxxx)) of the Rancher 2.x cluster. Required with the v3 API.
      - Fails, listing the cluster names that exist, if it is not found.
    type: str
  project_id:
    description:
      - Id of the Rancher 1.x environment (project), for example V(1a5). Required with the v1 API.
    type: str
  api_version:
    description:
      - Rancher API to use. V(auto) picks V(v1) when O(project_id) is given, or O(access_key) without
        O(api_token) and O(cluster); else V(v3).
    type: str
    choices: [auto, v1, v3]
    default: auto
  state:
    description:
      - V(present) reuses a valid registration token (the one named C(default-token) first) and creates one
        only when there is none.
    type: str
    choices: [present]
    default: present
  roles:
    description:
      - Role flags of the returned RV(system_agent_command) (v2prov only). The C(netboot.coreos.rancher_join)
        filter takes each node's roles from the node plan instead.
    type: list
    elements: str
    choices: [etcd, controlplane, worker]
    default: [worker]
notes:
  - Rancher fills a new token in asynchronously (2.x controller, 1.x C(registering) state); the module waits up to
    O(timeout) seconds for it.
seealso:
  - name: Rancher API tokens
    description: How to create the API token this module needs.
    link: https://ranchermanager.docs.rancher.com/reference-guides/user-settings/api-keys
"""

EXAMPLES = r"""
# Rancher 2.x, RKE1 custom cluster: the node runs rancher/rancher-agent
- name: Get the registration token of cluster prod (a secret, keep it out of the logs)
  netboot.coreos.rancher_token:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: prod
  register: rancher_registration
  no_log: true

# Rancher 2.6+ RKE2 or K3s custom cluster (v2prov): the node runs system-agent-install.sh
- name: Get the registration token of an RKE2 cluster signed by a private CA
  netboot.coreos.rancher_token:
    url: https://rancher.example.com
    api_token: "{{ rancher_api_token }}"
    cluster: rke2-prod
    ca_path: /etc/pki/rancher-ca.pem
    roles: [etcd, controlplane, worker]
  register: rancher_registration
  no_log: true

- name: Show which agent the nodes will run (not the token)
  ansible.builtin.debug:
    msg: "{{ rancher_registration.provisioning }} cluster {{ rancher_registration.cluster_id }}"

# Rancher 1.x (Cattle): the node runs rancher/agent with the registration URL
- name: Get a registration token of environment 1a5
  netboot.coreos.rancher_token:
    url: http://rancher.example.com:8080
    access_key: "{{ rancher_access_key }}"
    secret_key: "{{ rancher_secret_key }}"
    project_id: 1a5
  register: rancher_registration
  no_log: true

# Credentials from the environment (RANCHER_URL, RANCHER_TOKEN), e.g. an AWX credential
- name: Get the token with credentials from the environment
  netboot.coreos.rancher_token:
    cluster: "{{ rancher_cluster }}"
  register: rancher_registration
  no_log: true

- name: Render the join of every node for its node.ign
  ansible.builtin.set_fact:
    rancher_join_fragments: >-
      {{ rancher_join_fragments | default({}) | combine({item.name:
         rancher_registration | netboot.coreos.rancher_join(item, url=rancher_url)}) }}
  loop: "{{ coreos_node_plan }}"
  no_log: true
"""

RETURN = r"""
provisioning:
  description: How nodes join, V(rke1), V(v2prov) (RKE2/K3s custom cluster) or V(v1) (Rancher 1.x).
  returned: success
  type: str
  sample: v2prov
cluster_id:
  description: Id of the Rancher 2.x cluster, or the Rancher 1.x project id.
  returned: success
  type: str
  sample: c-m-4xvz8r2q
server_url:
  description: Rancher URL the nodes connect to (Rancher's C(server-url) setting as found in the node command).
  returned: success
  type: str
  sample: https://rancher.example.com
token:
  description: The registration token (a secret; empty in check mode when a token would be created).
  returned: success
  type: str
  sample: 9kx7vx4qxwmbz5hqsdjf8f6v2gk4kclpb6rzk5xnvt8lq9hzj7wsfc
token_id:
  description: Id of the registration token object (not secret).
  returned: success
  type: str
  sample: c-m-4xvz8r2q:default-token
node_command:
  description: Rancher's node command with the token filled in (C(docker run) for rke1 and v1, C(curl | sh) for v2prov).
  returned: success
  type: str
insecure_node_command:
  description: Rancher's node command that skips TLS verification of the download (v2prov; empty otherwise).
  returned: success
  type: str
system_agent_command:
  description:
    - v2prov only, else empty. C(system-agent-install.sh) with C(--server), C(--token), C(--ca-checksum) and
      the role flags of O(roles).
  returned: success
  type: str
  sample: >-
    curl -fL https://rancher.example.com/system-agent-install.sh | sudo sh -s - --server https://rancher.example.com
    --label cattle.io/os=linux --token 9kx... --ca-checksum 3f1... --worker
ca_checksum:
  description: sha256 of the server's CA certificates; empty for a public CA and for Rancher 1.x.
  returned: success
  type: str
  sample: 3f1c9b0d2ae7d67b0a3c6b7f1e4a7f1c1c0b3f4e2d7a9b8c6d5e4f3a2b1c0d9e
manifest_url:
  description: URL of the import manifest of the token (v3; empty for v1).
  returned: success
  type: str
  sample: https://rancher.example.com/v3/import/9kx..._c-m-4xvz8r2q.yaml
registration_url:
  description: Rancher 1.x registration URL the agent is started with (empty for v3).
  returned: success
  type: str
  sample: http://rancher.example.com:8080/v1/scripts/D5F1A1E3C0E2A1B4C1D3:1546214400000:Xq7nB
agent_image:
  description: Agent container image of the node command (rke1 and v1; empty for v2prov).
  returned: success
  type: str
  sample: rancher/rancher-agent:v2.9.3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import (
    RANCHER_ARGUMENT_SPEC, ensure_registration_token)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            RANCHER_ARGUMENT_SPEC,
            cluster=dict(type="str"),
            project_id=dict(type="str"),
            api_version=dict(type="str", default="auto", choices=["auto", "v1", "v3"]),
            state=dict(type="str", default="present", choices=["present"]),
            roles=dict(type="list", elements="str", default=["worker"], choices=["etcd", "controlplane", "worker"]),
        ),
        mutually_exclusive=[("cluster", "project_id")],
        required_together=[("access_key", "secret_key")],
        supports_check_mode=True,
    )
    run_module(module, lambda: ensure_registration_token(module.params, check_mode=module.check_mode))


if __name__ == "__main__":
    main()
