# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """Connection options of the netboot.coreos Rancher modules."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Rancher server, for example V(https://rancher.example.com) (Rancher 2.x) or
        V(http://rancher.example.com:8080) (Rancher 1.x).
      - If not set, the value of the E(RANCHER_URL) environment variable is used.
    type: str
    required: true
  api_token:
    description:
      - Rancher 2.x API token (bearer token), V(token-xxxxx:secret).
      - If not set, the value of the E(RANCHER_TOKEN) environment variable is used.
      - It is only sent to Rancher; it is never returned nor written to a node.
    type: str
  access_key:
    description:
      - Rancher 1.x API access key (HTTP basic auth user), used with O(secret_key).
      - With the v1 API the key pair wins over O(api_token) (for example E(RANCHER_TOKEN) set for other plays);
        with the v3 API O(api_token) wins, and the pair V(token-xxxxx)/V(secret) is accepted too.
      - If not set, the value of the E(RANCHER_ACCESS_KEY) environment variable is used.
    type: str
  secret_key:
    description:
      - Rancher 1.x API secret key (HTTP basic auth password).
      - If not set, the value of the E(RANCHER_SECRET_KEY) environment variable is used.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of Rancher (against O(ca_path) if set, else the system trust store).
      - Set to V(false) only for labs with self-signed certificates.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed Rancher's certificate (a private CA).
    type: path
  timeout:
    description:
      - Seconds to wait for each answer of Rancher (and for a new token to become ready).
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a request that timed out or got HTTP 500, 502, 503 or 504, with exponential
        backoff (0.5 s, 1 s, 2 s, ...).
    type: int
    default: 3
notes:
  - Credentials are never echoed in error messages; an HTTP 401 or 403 names the option that was rejected.
"""
