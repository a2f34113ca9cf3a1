# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes client: the cluster's API through Rancher's proxy or from a kubeconfig.

No AnsibleModule in here. ``KubernetesClient`` reaches the API server either as
``<rancher url>/k8s/clusters/<cluster id>/...`` with the Rancher credential and its TLS settings
(``KubernetesClient.through_rancher``), or directly with a kubeconfig's server, CA and token or client
certificate (``KubernetesClient.from_kubeconfig``). The HTTP transport is the Rancher client's
(``http_api.JsonApiClient``). ``get``/``list`` (following ``metadata.continue``)/``patch``/``post``/``put``/
``delete`` return parsed JSON; an error status becomes a ``KubernetesError`` subclass whose message names the
URL and the call, never the credential.
"""

import atexit
import base64
import os
import re
import shutil
import tempfile
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.http_api import JsonApiClient, redact_url
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import (
    RANCHER_ARGUMENT_SPEC, RancherClient, find_cluster)

# The connection options of modules that read or change the cluster: a kubeconfig, or Rancher (url, credential,
# TLS options of netboot.coreos.rancher_token) and the cluster's name or id.
KUBERNETES_ARGUMENT_SPEC = dict(
    url=dict(type="str", fallback=(env_fallback, ["RANCHER_URL"])),
    api_token=RANCHER_ARGUMENT_SPEC["api_token"],
    validate_certs=RANCHER_ARGUMENT_SPEC["validate_certs"],
    ca_path=RANCHER_ARGUMENT_SPEC["ca_path"],
    timeout=RANCHER_ARGUMENT_SPEC["timeout"],
    retries=RANCHER_ARGUMENT_SPEC["retries"],
    cluster=dict(type="str"),
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
    kubeconfig_context=dict(type="str"),
)

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
MAX_PAGES = 1000
LIST_LIMIT = 500

# Kubernetes resource quantities: decimal SI and binary suffixes (k8s.io/apimachinery resource.Quantity).
QUANTITY_SUFFIXES = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


class KubernetesError(NetbootError):
    """Any failure talking to the Kubernetes API."""


class KubernetesConnectionError(KubernetesError):
    """The API server (or Rancher's proxy) could not be reached, its certificate was rejected, or it timed out."""


class KubernetesAuthError(KubernetesError):
    """The API server rejected the credential (401) or RBAC refused the call (403)."""


class KubernetesAPIError(KubernetesError):
    """The API server answered with an unexpected status or payload."""


class KubernetesNotFoundError(KubernetesAPIError):
    """404: the object, or the whole API group (metrics.k8s.io without metrics-server), does not exist."""


class KubernetesConflictError(KubernetesAPIError):
    """409: the object changed since it was read (resourceVersion), or it already exists."""


class KubernetesTooManyRequestsError(KubernetesAPIError):
    """429: an eviction a PodDisruptionBudget refuses now, or the API server's rate limit."""


STATUS_ERRORS = {404: KubernetesNotFoundError, 409: KubernetesConflictError, 429: KubernetesTooManyRequestsError}


def quantity(value):
    """A Kubernetes quantity ("250m", "1Gi", "123456789n", 2) as a float in base units (cores, bytes)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = QUANTITY.match(str(value).strip()) if value is not None else None
    if not match:
        raise ValidationError("'%s' is not a Kubernetes quantity (such as 250m, 2, 512Mi, 1G)" % (value,))
    try:
        return float(Decimal(match.group(1)) * QUANTITY_SUFFIXES[match.group(2) or ""])
    except InvalidOperation:
        raise ValidationError("'%s' is not a Kubernetes quantity (such as 250m, 2, 512Mi, 1G)" % (value,))


def _private_dir():
    """A directory only we can read, removed when the process exits (kubeconfig *-data written as files)."""
    path = tempfile.mkdtemp(prefix="netboot-kube-")
    atexit.register(shutil.rmtree, path, True)
    return path


def _named(entries, name, kind, path):
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(kind) or {}
    names = sorted(str(e.get("name")) for e in entries or [] if isinstance(e, dict))
    raise ValidationError("kubeconfig %s has no %s named '%s'; it has: %s"
                          % (path, kind, name, ", ".join(names) or "none"))


class KubernetesClient(JsonApiClient):
    """One cluster's API server and credential."""

    connection_error = KubernetesConnectionError
    api_error = KubernetesAPIError
    not_json_hint = "is it a Kubernetes API server?"

    def __init__(self, server, label=None, headers=None, secrets=(), credential=None, validate_certs=True,
                 ca_path=None, client_cert=None, client_key=None, timeout=30, retries=3):
        if not server or not re.match(r"^https?://[^/]", server):
            raise ValidationError("Kubernetes API server '%s' is not a URL: use https://host:6443"
                                  % redact_url(server or ""))
        self.credential = credential
        super(KubernetesClient, self).__init__(
            server, label or "Kubernetes API %s" % redact_url(server.rstrip("/")), headers=headers,
            secrets=secrets, validate_certs=validate_certs, ca_path=ca_path, timeout=timeout, retries=retries,
            client_cert=client_cert, client_key=client_key)

    # -- ways in ------------------------------------------------------------------------------------------------

    @classmethod
    def through_rancher(cls, rancher, cluster_id):
        """The cluster's API behind Rancher's proxy, with ``rancher``'s credential, TLS and retry settings."""
        return cls("%s/k8s/clusters/%s" % (rancher.url, quote(cluster_id, safe="")),
                   label="Kubernetes API of cluster %s through %s" % (cluster_id, rancher.label),
                   headers=rancher.headers, secrets=rancher._secrets, credential=rancher.credential,
                   validate_certs=rancher.validate_certs, ca_path=rancher.ca_path, timeout=rancher.timeout,
                   retries=rancher.retries)

    @classmethod
    def from_kubeconfig(cls, path, context=None, timeout=30, retries=3):
        """The server and user of ``context`` (default: current-context) in the kubeconfig file ``path``."""
        try:
            import yaml  # a kubeconfig is YAML; PyYAML comes with ansible-core on the controller
        except ImportError:
            raise ValidationError("reading kubeconfig %s needs PyYAML (python3-yaml) where the module runs" % path)
        try:
            with open(path) as handle:
                config = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError("kubeconfig %s cannot be read: %s" % (path, str(exc).splitlines()[0]))
        if not isinstance(config, dict):
            raise ValidationError("kubeconfig %s is not a kubeconfig (no clusters, users, contexts)" % path)
        context = context or config.get("current-context")
        if not context:
            raise ValidationError("kubeconfig %s has no current-context: set kubeconfig_context" % path)
        selected = _named(config.get("contexts"), context, "context", path)
        cluster = _named(config.get("clusters"), selected.get("cluster"), "cluster", path)
        user = _named(config.get("users"), selected.get("user"), "user", path) if selected.get("user") else {}
        base = os.path.dirname(os.path.abspath(path))
        files = {}

        def file_of(key):
            """The path of ``key`` (relative to the kubeconfig) or of ``key-data`` written to a private file."""
            holder = cluster if key == "certificate-authority" else user
            if holder.get(key + "-data"):
                if "dir" not in files:
                    files["dir"] = _private_dir()
                target = os.path.join(files["dir"], key)
                with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                    out.write(base64.b64decode(holder[key + "-data"]))
                return target
            if holder.get(key):
                return os.path.join(base, holder[key])
            return None

        unsupported = [k for k in ("exec", "auth-provider") if user.get(k)]
        if unsupported:
            raise ValidationError("kubeconfig %s user '%s' authenticates with %s, which this collection does not "
                                  "run: use a token or a client certificate (or go through Rancher)"
                                  % (path, selected.get("user"), unsupported[0]))
        headers, secrets, credential = {}, [], "kubeconfig %s user '%s'" % (path, selected.get("user"))
        token = user.get("token")
        if not token and user.get("tokenFile"):
            try:
                with open(os.path.join(base, user["tokenFile"])) as handle:
                    token = handle.read().strip()
            except OSError as exc:
                raise ValidationError("kubeconfig %s tokenFile cannot be read: %s" % (path, exc))
        if token:
            headers["Authorization"] = "Bearer %s" % token
            secrets.append(token)
        elif user.get("username"):
            pair = "%s:%s" % (user["username"], user.get("password") or "")
            headers["Authorization"] = "Basic %s" % base64.b64encode(pair.encode("utf-8")).decode("ascii")
            secrets.append(user.get("password"))
        return cls(cluster.get("server"), headers=headers, secrets=secrets, credential=credential,
                   validate_certs=not cluster.get("insecure-skip-tls-verify", False),
                   ca_path=file_of("certificate-authority"), client_cert=file_of("client-certificate"),
                   client_key=file_of("client-key"), timeout=timeout, retries=retries)

    @classmethod
    def from_params(cls, params, rancher=None):
        """``kubeconfig`` when given, else Rancher's proxy for ``cluster`` (a name or an id)."""
        timeout = params.get("timeout") or 30
        retries = params.get("retries") if params.get("retries") is not None else 3
        if params.get("kubeconfig"):
            return cls.from_kubeconfig(params["kubeconfig"], params.get("kubeconfig_context"), timeout, retries)
        if not params.get("url") or not params.get("cluster"):
            raise ValidationError("no way to the cluster: give kubeconfig (or K8S_AUTH_KUBECONFIG), or url "
                                  "(RANCHER_URL), api_token (RANCHER_TOKEN) and cluster for Rancher's proxy")
        if not params.get("api_token"):
            raise ValidationError("api_token (RANCHER_TOKEN) is required to reach the cluster through Rancher")
        rancher = rancher or RancherClient.from_params(params)
        return cls.through_rancher(rancher, find_cluster(rancher, params["cluster"])["id"])

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def http_error(self, status, what, attempt, detail):
        shown = ": %s" % detail if detail else ""
        if status == 401:
            return KubernetesAuthError(
                "%s rejected the %s for %s (HTTP 401%s): check that it is valid and not expired"
                % (self.label, self.credential or "request without a credential", what, shown),
                url=self.shown_url, status=status)
        if status == 403:
            return KubernetesAuthError(
                "%s refused %s for the %s (HTTP 403%s): the credential is valid but its RBAC role does not "
                "allow this" % (self.label, what, self.credential or "anonymous user", shown),
                url=self.shown_url, status=status)
        tries = " after %d attempts" % (attempt + 1) if attempt else ""
        error = STATUS_ERRORS.get(status, KubernetesAPIError)
        return error("%s answered %s with HTTP %d%s%s" % (self.label, what, status, tries, shown),
                     url=self.shown_url, status=status, detail=detail)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def list(self, path, query=None, limit=LIST_LIMIT):
        """Every item of a list (``items``), following ``metadata.continue`` in pages of ``limit``."""
        items = []
        query = dict(query or {}, limit=limit)
        for _page in range(MAX_PAGES):
            answer = self.get(path, query)
            if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise KubernetesAPIError("%s answered GET %s with something that is not a list (no 'items')"
                                         % (self.label, path), url=self.shown_url)
            items.extend(answer["items"])
            following = (answer.get("metadata") or {}).get("continue")
            if not following:
                return items
            query = dict(query, **{"continue": following})
        raise KubernetesAPIError("%s list %s has more than %d pages" % (self.label, path, MAX_PAGES),
                                 url=self.shown_url)

    def post(self, path, body):
        return self.request("POST", path, body=body)

    def put(self, path, body):
        """Replace an object; with ``metadata.resourceVersion`` set, a 409 says someone changed it first."""
        return self.request("PUT", path, body=body)

    def patch(self, path, body, patch_type="merge"):
        """A merge (RFC 7386), strategic-merge or JSON (RFC 6902) patch."""
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValidationError("patch_type '%s' is not one of %s" % (patch_type, ", ".join(sorted(PATCH_CONTENT_TYPES))))
        return self.request("PATCH", path, body=body, content_type=PATCH_CONTENT_TYPES[patch_type])

    def delete(self, path, body=None):
        return self.request("DELETE", path, body=body)

    # -- the calls a drain is made of ---------------------------------------------------------------------------

    def cordon(self, node, unschedulable=True):
        """Mark ``node`` unschedulable (or schedulable again); the node as the server returns it."""
        return self.patch("/api/v1/nodes/%s" % quote(node, safe=""), {"spec": {"unschedulable": unschedulable}},
                          "strategic")

    def evict(self, namespace, pod, grace_period_seconds=None):
        """Ask to evict ``pod`` (policy/v1 Eviction); a PodDisruptionBudget that refuses raises
        KubernetesTooManyRequestsError."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": pod, "namespace": namespace}}
        if grace_period_seconds is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
        return self.post("/api/v1/namespaces/%s/pods/%s/eviction" % (quote(namespace, safe=""), quote(pod, safe="")),
                         body)
