# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rancher client: registration tokens for nodes from the v3 (Rancher 2.x) or v1 (Rancher 1.x) API.

No AnsibleModule in here. ``RancherClient`` speaks HTTP (auth, TLS, retries with backoff, collection
pagination, errors that never echo a credential); ``ensure_registration_token`` is the module's work: find
the cluster (v3) or project (v1), reuse a valid registration token or create one, and return what a node
needs to join. The API key used here never appears in what it returns.
"""

import base64
import hashlib
import re
import shlex
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.netboot.coreos.plugins.module_utils.http_api import JsonApiClient, redact_url
from ansible_collections.netboot.coreos.plugins.module_utils.errors import (
    NetbootError, NotFoundError, ValidationError)

# The connection options of netboot.coreos.rancher_token (documented by the netboot.coreos.rancher fragment).
RANCHER_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["RANCHER_URL"])),
    api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["RANCHER_TOKEN"])),
    access_key=dict(type="str", no_log=True, fallback=(env_fallback, ["RANCHER_ACCESS_KEY"])),
    secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["RANCHER_SECRET_KEY"])),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="int", default=30),
    retries=dict(type="int", default=3),
)

# Annotation Rancher puts on the management (v3) cluster of a provisioning.cattle.io cluster (RKE2/K3s
# "v2prov"); Rancher's own token formatter uses it to choose the system-agent node command.
V2PROV_OWNER_ANNOTATION = "objectset.rio.cattle.io/owner-gvk"
V2PROV_OWNER = "provisioning.cattle.io/v1, Kind=Cluster"
# Rancher >= 2.15 keeps this placeholder in stored commands instead of the token itself.
TOKEN_PLACEHOLDER = "{token}"
DEFAULT_TOKEN_NAME = "default-token"
MAX_PAGES = 1000


class RancherError(NetbootError):
    """Any failure talking to Rancher."""


class RancherConnectionError(RancherError):
    """Rancher could not be reached, its certificate was rejected, or it timed out."""


class RancherAuthError(RancherError):
    """Rancher rejected the credential (401) or refused the action (403)."""


class RancherAPIError(RancherError):
    """Rancher answered with an unexpected status or payload."""


def ca_checksum(cacerts):
    """Rancher's CA checksum: sha256 hex of the cacerts setting with one trailing newline; empty when unset."""
    if not cacerts or not cacerts.strip():
        return ""
    if not cacerts.endswith("\n"):
        cacerts += "\n"
    return hashlib.sha256(cacerts.encode("utf-8")).hexdigest()


def command_arg(command, flag):
    """The value after ``flag`` in a shell command line (``--server``, ``--token``), or ''."""
    try:
        words = shlex.split(command or "")
    except ValueError:
        return ""
    for index, word in enumerate(words[:-1]):
        if word == flag:
            return words[index + 1]
    return ""


def agent_image(command):
    """The container image of a ``docker run ... IMAGE --server ...`` (RKE1) or ``docker run ... IMAGE URL``
    (Rancher 1.x) node command, or ''."""
    try:
        words = shlex.split(command or "")
    except ValueError:
        return ""
    for index, word in enumerate(words):
        if word == "--server" and index > 0:
            return words[index - 1]
    for index, word in enumerate(words):
        if re.match(r"^https?://", word) and index > 0 and "/" in words[index - 1] and not words[index - 1].startswith("-"):
            return words[index - 1]
    return ""


class RancherClient(JsonApiClient):
    """One Rancher endpoint and credential. ``get``/``post``/``collection`` return parsed JSON."""

    connection_error = RancherConnectionError
    api_error = RancherAPIError
    not_json_hint = "is url the Rancher server?"

    def __init__(self, url, api_token=None, access_key=None, secret_key=None, validate_certs=True,
                 ca_path=None, timeout=30, retries=3):
        if not url or not re.match(r"^https?://[^/]", url):
            raise ValidationError("url '%s' is not a Rancher server URL: use https://rancher.example.com"
                                  % redact_url(url or ""))
        if retries < 0 or timeout <= 0:
            raise ValidationError("timeout must be > 0 and retries >= 0 (got timeout=%s, retries=%s)"
                                  % (timeout, retries))
        headers = {}
        if api_token:
            headers["Authorization"] = "Bearer %s" % api_token
            self.credential = "api_token (RANCHER_TOKEN)"
        elif access_key or secret_key:
            pair = "%s:%s" % (access_key or "", secret_key or "")
            headers["Authorization"] = "Basic %s" % base64.b64encode(pair.encode("utf-8")).decode("ascii")
            self.credential = "access_key/secret_key"
        else:
            self.credential = None
        super(RancherClient, self).__init__(
            url, "Rancher %s" % redact_url(url.rstrip("/")), headers=headers,
            secrets=(api_token, access_key, secret_key), validate_certs=validate_certs, ca_path=ca_path,
            timeout=timeout, retries=retries)

    @classmethod
    def from_params(cls, params, api_version="v3"):
        """The client for ``api_version``: v1 prefers the access/secret key pair, v3 the API token."""
        api_token = params.get("api_token")
        if api_version == "v1" and params.get("access_key"):
            api_token = None
        return cls(params["url"], api_token=api_token, access_key=params.get("access_key"),
                   secret_key=params.get("secret_key"), validate_certs=params.get("validate_certs", True),
                   ca_path=params.get("ca_path"), timeout=params.get("timeout") or 30,
                   retries=params.get("retries") if params.get("retries") is not None else 3)

    def http_error(self, status, what, attempt, detail):
        detail = ": %s" % detail if detail else ""
        if status == 401:
            if not self.credential:
                msg = ("Rancher %s requires authentication for %s: set api_token (RANCHER_TOKEN) or "
                       "access_key/secret_key" % (self.shown_url, what))
            else:
                msg = ("Rancher %s rejected the %s (HTTP 401%s): check that it is valid, not expired, and "
                       "belongs to this server" % (self.shown_url, self.credential, detail))
            return RancherAuthError(msg, url=self.shown_url, status=status)
        if status == 403:
            return RancherAuthError(
                "Rancher %s refused %s for the %s (HTTP 403%s): the credential is valid but lacks permission; "
                "use one of a cluster owner or an administrator" % (self.shown_url, what, self.credential, detail),
                url=self.shown_url, status=status)
        tries = " after %d attempts" % (attempt + 1) if attempt else ""
        hint = ": is url the Rancher server and api_version right for it?" if status == 404 else ""
        return RancherAPIError("Rancher %s answered %s with HTTP %d%s%s%s"
                               % (self.shown_url, what, status, tries, detail, hint),
                               url=self.shown_url, status=status)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, body):
        return self.request("POST", path, body=body)

    def collection(self, path, query=None):
        """Every item of a Rancher collection, following ``pagination.next`` (limit/marker pages)."""
        items = []
        url = self._absolute(path, query)
        seen = set()
        for _page in range(MAX_PAGES):
            page = self.get(url)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise RancherAPIError("Rancher %s answered GET %s with something that is not a collection (no "
                                      "'data' list): is api_version right for this server?"
                                      % (self.shown_url, self.shown_path(url)),
                                      url=self.shown_url)
            items.extend(page["data"])
            seen.add(url)
            following = (page.get("pagination") or {}).get("next")
            if not following:
                return items
            if following in seen:
                raise RancherAPIError("Rancher %s pagination loops at %s" % (self.shown_url, redact_url(following)),
                                      url=self.shown_url)
            url = following
        raise RancherAPIError("Rancher %s collection %s has more than %d pages" % (self.shown_url, path, MAX_PAGES),
                              url=self.shown_url)


# -- the module's work ---------------------------------------------------------------------------------------


def resolve_api_version(params):
    """v1 for Rancher 1.x (project_id, or a key pair without cluster and api_token), v3 otherwise."""
    version = params.get("api_version") or "auto"
    if version == "auto":
        v1_hint = params.get("project_id") or (
            params.get("access_key") and not params.get("api_token") and not params.get("cluster"))
        version = "v1" if v1_hint else "v3"
    if version == "v3" and not params.get("cluster"):
        raise ValidationError("cluster is required with the v3 API (Rancher 2.x): give the cluster's name or id")
    if version == "v1" and not params.get("project_id"):
        raise ValidationError("project_id is required with the v1 API (Rancher 1.x), for example 1a5")
    if not (params.get("api_token") or params.get("access_key")):
        raise ValidationError("no Rancher credential: set api_token (or RANCHER_TOKEN) for Rancher 2.x, "
                              "access_key and secret_key for Rancher 1.x")
    return version


def empty_result(provisioning, cluster_id, server_url):
    return dict(provisioning=provisioning, cluster_id=cluster_id, server_url=server_url, token="", token_id="",
                node_command="", insecure_node_command="", system_agent_command="", ca_checksum="",
                manifest_url="", registration_url="", agent_image="")


def substitute_placeholder(value, token):
    """Rancher >= 2.15: commands carry ``{token}``; put the token in."""
    if isinstance(value, str) and TOKEN_PLACEHOLDER in value:
        return value.replace(TOKEN_PLACEHOLDER, token)
    return value


def system_agent_command(server_url, token, checksum, roles=("worker",)):
    """The v2prov node command: system-agent-install with server, token, CA checksum and role flags."""
    words = ["curl", "-fL", server_url + "/system-agent-install.sh", "|", "sudo", "sh", "-s", "-",
             "--server", server_url, "--label", "cattle.io/os=linux", "--token", token]
    if checksum:
        words += ["--ca-checksum", checksum]
    words += ["--%s" % role for role in roles]
    return " ".join(w if w == "|" else shlex.quote(w) for w in words)


def usable_v3_token(item):
    return bool(item.get("token")) and item.get("state", "active") == "active" and not item.get("removed")


def find_cluster(client, wanted):
    """The v3 cluster named ``wanted`` (or with that id); NotFoundError lists the names that exist."""
    matches = client.collection("/v3/clusters", {"name": wanted})
    matches = [c for c in matches if c.get("name") == wanted]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValidationError("more than one Rancher cluster is named '%s' (ids %s): give the id as cluster"
                              % (wanted, ", ".join(sorted(c.get("id", "?") for c in matches))))
    clusters = client.collection("/v3/clusters")
    for cluster in clusters:
        if cluster.get("id") == wanted:
            return cluster
    raise NotFoundError("Rancher cluster", wanted, [c.get("name") or c.get("id") for c in clusters],
                        where=client.shown_url)


def v3_ca_checksum(client):
    """sha256 of the server's CA (settings/cacerts, else /cacerts); '' for a public CA."""
    try:
        setting = client.get("/v3/settings/cacerts")
        if not isinstance(setting, dict) or "value" not in setting:
            raise RancherAPIError("Rancher %s answered GET /v3/settings/cacerts without a 'value'" % client.shown_url)
        return ca_checksum(setting.get("value") or "")
    except RancherAuthError:
        return ca_checksum(client.request("GET", "/cacerts", raw=True))


def wait_for_token(client, path, ready, what, deadline):
    """Re-read ``path`` until ``ready(item)``: Rancher fills a new token in asynchronously."""
    delay = 0.2
    while True:
        item = client.get(path)
        if ready(item):
            return item
        if time.time() >= deadline:
            raise RancherAPIError("Rancher %s created %s but it was not ready within %ss: rerun to reuse it"
                                  % (client.shown_url, what, client.timeout), url=client.shown_url)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def v3_registration_token(client, params, check_mode):
    cluster = find_cluster(client, params["cluster"])
    cluster_id = cluster["id"]
    annotations = cluster.get("annotations") or {}
    tokens = client.collection("/v3/clusterregistrationtokens", {"clusterId": cluster_id})
    usable = sorted((t for t in tokens if t.get("clusterId", cluster_id) == cluster_id and usable_v3_token(t)),
                    key=lambda t: (t.get("name") != DEFAULT_TOKEN_NAME, t.get("created") or "", t.get("id", "")))
    changed = not usable
    provisioning = "v2prov" if annotations.get(V2PROV_OWNER_ANNOTATION) == V2PROV_OWNER else "rke1"
    if changed and check_mode:
        result = empty_result(provisioning, cluster_id, client.url)
        result["msg"] = "a registration token would be created for cluster %s" % cluster_id
        result["diff"] = dict(before=dict(registration_token=None), after=dict(registration_token="(new)"))
        return True, result
    if changed:
        created = client.post("/v3/clusterregistrationtoken",
                              dict(type="clusterRegistrationToken", clusterId=cluster_id))
        if not isinstance(created, dict) or not created.get("id"):
            raise RancherAPIError("Rancher %s answered POST /v3/clusterregistrationtoken without an id"
                                  % client.shown_url, url=client.shown_url)
        item = created if usable_v3_token(created) else wait_for_token(
            client, "/v3/clusterregistrationtokens/%s" % created["id"], usable_v3_token,
            "registration token %s" % created["id"], time.time() + client.timeout)
    else:
        item = usable[0]
    token = item["token"]
    fields = dict((k, substitute_placeholder(item.get(k) or "", token))
                  for k in ("nodeCommand", "insecureNodeCommand", "manifestUrl"))
    if provisioning == "rke1" and "system-agent-install.sh" in fields["nodeCommand"]:
        provisioning = "v2prov"  # a provisioning cluster whose v3 object lacks the owner annotation
    server_url = (command_arg(fields["nodeCommand"], "--server") or client.url).rstrip("/")
    checksum = v3_ca_checksum(client)
    result = empty_result(provisioning, cluster_id, server_url)
    result.update(token=token, token_id=item.get("id", ""), node_command=fields["nodeCommand"],
                  insecure_node_command=fields["insecureNodeCommand"], manifest_url=fields["manifestUrl"],
                  ca_checksum=checksum)
    if provisioning == "v2prov":
        result["system_agent_command"] = system_agent_command(server_url, token, checksum, params.get("roles") or ["worker"])
    else:
        result["agent_image"] = agent_image(fields["nodeCommand"])
    if changed:
        result["diff"] = dict(before=dict(registration_token=None), after=dict(registration_token=result["token_id"]))
    return changed, result


def usable_v1_token(item):
    return item.get("state") == "active" and bool(item.get("token")) and bool(item.get("registrationUrl"))


def v1_registration_token(client, params, check_mode):
    project = params["project_id"]
    base = "/v1/projects/%s/registrationTokens" % project
    try:
        tokens = client.collection(base, {"state": "active"})
    except RancherAPIError as exc:
        if exc.details.get("status") != 404:
            raise
        projects = client.collection("/v1/projects")
        raise NotFoundError("Rancher 1.x project (environment) id", project,
                            ["%s (%s)" % (p.get("id"), p.get("name")) for p in projects], where=client.shown_url)
    usable = sorted((t for t in tokens if usable_v1_token(t)), key=lambda t: str(t.get("id")))
    changed = not usable
    if changed and check_mode:
        result = empty_result("v1", project, client.url)
        result["msg"] = "a registration token would be created in project %s" % project
        result["diff"] = dict(before=dict(registration_token=None), after=dict(registration_token="(new)"))
        return True, result
    if changed:
        created = client.post(base, dict(type="registrationToken", name="netboot.coreos"))
        if not isinstance(created, dict) or not created.get("id"):
            raise RancherAPIError("Rancher %s answered POST %s without an id" % (client.shown_url, base),
                                  url=client.shown_url)
        item = created if usable_v1_token(created) else wait_for_token(
            client, "%s/%s" % (base, created["id"]), usable_v1_token,
            "registration token %s" % created["id"], time.time() + client.timeout)
    else:
        item = usable[0]
    registration_url = item["registrationUrl"]
    parts = urlsplit(registration_url)
    result = empty_result("v1", project, "%s://%s" % (parts.scheme, parts.netloc))
    result.update(token=item["token"], token_id=str(item.get("id", "")), node_command=item.get("command") or "",
                  registration_url=registration_url,
                  agent_image=item.get("image") or agent_image(item.get("command")))
    if changed:
        result["diff"] = dict(before=dict(registration_token=None), after=dict(registration_token=result["token_id"]))
    return changed, result


def ensure_registration_token(params, check_mode=False, client=None):
    """The work of netboot.coreos.rancher_token: ``(changed, result)``; creates a token only when none is valid."""
    if params.get("state", "present") != "present":
        raise ValidationError("state '%s' is not supported: use present" % params.get("state"))
    version = resolve_api_version(params)
    client = client or RancherClient.from_params(params, version)
    if version == "v1":
        return v1_registration_token(client, params, check_mode)
    return v3_registration_token(client, params, check_mode)
