# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """How the netboot.coreos modules that read or change a cluster reach its Kubernetes API."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file whose server, CA and token or client certificate reach the cluster's API
        directly. When set, the Rancher options are not used.
      - If not set, the value of the E(K8S_AUTH_KUBECONFIG) environment variable is used (what an AWX
        Kubernetes credential injects).
      - Users that authenticate with C(exec) or C(auth-provider) plugins are not supported.
    type: path
  kubeconfig_context:
    description:
      - Context of O(kubeconfig) to use; default its C(current-context).
    type: str
  url:
    description:
      - Base URL of the Rancher server, for example V(https://rancher.example.com); the cluster's API is then
        reached through Rancher's proxy C(<url>/k8s/clusters/<cluster id>) with O(api_token).
      - If not set, the value of the E(RANCHER_URL) environment variable is used.
    type: str
  api_token:
    description:
      - Rancher 2.x API token (bearer token), V(token-xxxxx:secret), for Rancher's proxy.
      - If not set, the value of the E(RANCHER_TOKEN) environment variable is used.
    type: str
  cluster:
    description:
      - Name or id (V(c-xxxxx), V(c-m-xxxxxxxx)) of the Rancher cluster, for Rancher's proxy.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of Rancher (against O(ca_path) if set, else the system trust store).
      - With O(kubeconfig), its C(insecure-skip-tls-verify) decides instead.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed Rancher's certificate (a private CA). With O(kubeconfig), its
        C(certificate-authority) or C(certificate-authority-data) is used instead.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer of the API server.
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a request that timed out or got HTTP 500, 502, 503 or 504, with exponential
        backoff (0.5 s, 1 s, 2 s, ...).
    type: int
    default: 3
notes:
  - Credentials are never echoed in error messages; an HTTP 401 or 403 names the credential that was rejected
    and the call.
"""
