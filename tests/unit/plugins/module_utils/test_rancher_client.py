"""The Rancher client and the token work against the loopback Rancher API fixture (tests/fixtures/rancher_api.py)."""

import hashlib
import socket

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import rancher
from ansible_collections.netboot.coreos.plugins.module_utils.errors import NotFoundError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.rancher import (
    RancherAPIError, RancherAuthError, RancherClient, RancherConnectionError, ensure_registration_token)
from rancher_api import RancherAPI


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(RancherClient, "backoff", 0.01)


@pytest.fixture
def api():
    with RancherAPI() as server:
        server.add_cluster("prod")
        yield server


@pytest.fixture(scope="module")
def tls_api():
    with RancherAPI(tls=True) as server:
        server.add_cluster("prod")
        yield server


def params(server, **extra):
    return dict(dict(url=server.url, api_token=server.api_token, cluster="prod", validate_certs=True,
                     ca_path=server.ca_file, timeout=5, retries=2), **extra)


def test_pagination_follows_next_with_limit_and_marker(api):
    api.page_size = 2
    for index in range(5):
        api.add_cluster("c%d" % index)
    client = RancherClient.from_params(params(api))
    names = [c["name"] for c in client.collection("/v3/clusters")]
    assert names == ["prod", "c0", "c1", "c2", "c3", "c4"]
    pages = [r[1] for r in api.requests if r[1].startswith("/v3/clusters")]
    assert len(pages) == 3 and "marker=" in pages[1] and "limit=2" in pages[2]


def test_existing_token_reused_without_post(api):
    changed, result = ensure_registration_token(params(api))
    assert changed is False and not api.created_tokens()
    assert result["token_id"] == api.clusters[0]["id"] + ":default-token"
    assert result["token"] == api.tokens[0]["token"]


def test_token_created_when_none_valid_and_waited_for(api):
    cluster = api.add_cluster("bare", default_token=False)
    api.add_token(cluster["id"], name="old", state="inactive")
    changed, result = ensure_registration_token(params(api, cluster="bare"))
    assert changed is True and len(api.created_tokens()) == 1
    created = [t for t in api.tokens if t["id"] == result["token_id"]][0]
    assert result["token"] == created["token"] and len(result["token"]) == 54
    assert result["diff"] == {"before": {"registration_token": None},
                              "after": {"registration_token": result["token_id"]}}
    # the second run finds it
    changed, again = ensure_registration_token(params(api, cluster="bare"))
    assert changed is False and again["token"] == result["token"] and len(api.created_tokens()) == 1


def test_check_mode_never_creates(api):
    api.add_cluster("bare", default_token=False)
    changed, result = ensure_registration_token(params(api, cluster="bare"), check_mode=True)
    assert changed is True and result["token"] == "" and not api.created_tokens()
    assert result["msg"].startswith("a registration token would be created for cluster c-")


def test_cluster_found_by_id_and_not_found_lists_names(api):
    cluster_id = api.clusters[0]["id"]
    assert ensure_registration_token(params(api, cluster=cluster_id))[1]["cluster_id"] == cluster_id
    api.add_cluster("edge", "v2prov")
    with pytest.raises(NotFoundError) as err:
        ensure_registration_token(params(api, cluster="nope"))
    assert err.value.msg == "Rancher cluster 'nope' not found in %s; available: edge, prod" % api.url


def test_duplicate_cluster_names_ask_for_the_id(api):
    api.add_cluster("prod")
    with pytest.raises(ValidationError, match="more than one Rancher cluster is named 'prod'"):
        ensure_registration_token(params(api))


def test_placeholder_of_rancher_2_15_is_substituted():
    with RancherAPI(placeholder=True, cacerts="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----") as api:
        api.add_cluster("prod")
        api.add_cluster("edge", "v2prov")
        token = api.tokens[0]["token"]
        result = ensure_registration_token(params(api))[1]
        for key in ("node_command", "manifest_url"):
            assert "{token}" not in result[key] and token in result[key]
        edge = ensure_registration_token(params(api, cluster="edge"))[1]
        assert "{token}" not in edge["insecure_node_command"] and api.tokens[1]["token"] in edge["insecure_node_command"]


def test_ca_checksum_is_sha256_of_cacerts_and_matches_node_command(api):
    api.cacerts = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"
    result = ensure_registration_token(params(api))[1]
    assert result["ca_checksum"] == hashlib.sha256((api.cacerts + "\n").encode()).hexdigest()
    assert rancher.command_arg(result["node_command"], "--ca-checksum") == result["ca_checksum"]
    api.cacerts = ""
    assert ensure_registration_token(params(api))[1]["ca_checksum"] == ""


def test_ca_checksum_falls_back_to_public_cacerts_when_settings_forbidden(api):
    api.cacerts = "PEM"
    api.forbidden.add(r"^/v3/settings/")
    assert ensure_registration_token(params(api))[1]["ca_checksum"] == hashlib.sha256(b"PEM\n").hexdigest()


def test_v2prov_result_has_system_agent_command_with_roles():
    with RancherAPI(cacerts="PEM") as api:
        api.add_cluster("edge", "v2prov")
        result = ensure_registration_token(params(api, cluster="edge", roles=["etcd", "controlplane"]))[1]
        assert result["provisioning"] == "v2prov" and result["agent_image"] == ""
        assert result["system_agent_command"] == (
            "curl -fL {0}/system-agent-install.sh | sudo sh -s - --server {0} --label cattle.io/os=linux "
            "--token {1} --ca-checksum {2} --etcd --controlplane".format(api.url, result["token"], result["ca_checksum"]))


def test_retries_5xx_with_backoff_then_succeeds(api):
    api.fault(r"^/v3/clusterregistrationtokens$", status=503, times=2)
    changed, result = ensure_registration_token(params(api, retries=2))
    assert result["token"] and changed is False
    assert len([r for r in api.requests if r[1].startswith("/v3/clusterregistrationtokens?")]) == 3


def test_backoff_doubles_between_retries(api, monkeypatch):
    slept = []
    monkeypatch.setattr(rancher.time, "sleep", slept.append)
    api.fault(r"^/v3/clusters$", status=502, times=3)
    assert ensure_registration_token(params(api, retries=3))[1]["token"]
    assert slept == [0.01, 0.02, 0.04]


def test_4xx_is_not_retried(api):
    api.fault(r"^/v3/clusters$", status=422, times=1)
    with pytest.raises(RancherAPIError, match="with HTTP 422: injected fault$"):
        ensure_registration_token(params(api, retries=3))
    assert len([r for r in api.requests if r[1].startswith("/v3/clusters")]) == 1


def test_5xx_after_retries_is_one_clear_line(api):
    api.fault(r"^/v3/clusters$", status=500, times=5)
    with pytest.raises(RancherAPIError) as err:
        ensure_registration_token(params(api, retries=1))
    assert err.value.msg == ("Rancher %s answered GET /v3/clusters?name=prod with HTTP 500 after 2 attempts: "
                             "injected fault" % api.url)


def test_slow_answer_retried_then_times_out(api):
    api.fault(r"^/v3/clusters$", delay=1.5, times=1)
    assert ensure_registration_token(params(api, timeout=1, retries=1))[1]["token"]
    api.fault(r"^/v3/clusters$", delay=1.5, times=2)
    with pytest.raises(RancherConnectionError) as err:
        ensure_registration_token(params(api, timeout=1, retries=1))
    assert "did not answer GET /v3/clusters?name=prod within 1s (2 attempts)" in err.value.msg


def test_401_names_the_credential_without_echoing_it(api):
    wrong = "token-wrong:ThisSecretMustNotAppearInErrors0123456789"
    with pytest.raises(RancherAuthError) as err:
        ensure_registration_token(params(api, api_token=wrong))
    assert err.value.msg == ("Rancher %s rejected the api_token (RANCHER_TOKEN) (HTTP 401: must authenticate): "
                             "check that it is valid, not expired, and belongs to this server" % api.url)
    assert "ThisSecret" not in str(err.value.details)


def test_403_says_permission_is_missing(api):
    api.forbidden.add(r"^/v3/clusterregistrationtoken")
    with pytest.raises(RancherAuthError) as err:
        ensure_registration_token(params(api))
    assert "refused GET /v3/clusterregistrationtokens?clusterId=" in err.value.msg
    assert "valid but lacks permission" in err.value.msg and api.api_token not in err.value.msg


def test_error_body_echoing_the_token_is_scrubbed(api):
    client = RancherClient.from_params(params(api))
    assert client.scrub("bad header Bearer %s" % api.api_token) == "bad header Bearer ********"


def test_not_json_and_not_a_collection(api):
    api.fault(r"^/v3/clusters$", status=200, body="<html>login</html>")
    with pytest.raises(RancherAPIError, match=r"answered GET /v3/clusters\?name=prod with something that is not JSON"):
        ensure_registration_token(params(api))
    api.fault(r"^/v3/clusters$", status=200, body='{"type": "cluster"}')
    with pytest.raises(RancherAPIError, match="not a collection"):
        ensure_registration_token(params(api))


def test_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RancherConnectionError) as err:
        RancherClient("http://127.0.0.1:%d" % port, api_token="x", retries=0).get("/v3")
    assert err.value.msg == "cannot connect to Rancher http://127.0.0.1:%d: Connection refused" % port


def test_url_credentials_are_not_echoed():
    with pytest.raises(RancherConnectionError) as err:
        RancherClient("http://admin:hunter2@127.0.0.1:1", api_token="x", retries=0).get("/v3")
    assert "hunter2" not in err.value.msg and "http://127.0.0.1:1" in err.value.msg


def test_tls_self_signed_rejected_by_default(tls_api):
    with pytest.raises(RancherConnectionError) as err:
        ensure_registration_token(params(tls_api, ca_path=None))
    assert err.value.msg.startswith("TLS verification of Rancher %s failed (" % tls_api.url)
    assert "set ca_path to the CA bundle that signed its certificate" in err.value.msg


def test_tls_ca_path_trusts_the_server_and_wrong_ca_fails(tls_api, tmp_path):
    assert ensure_registration_token(params(tls_api))[1]["ca_checksum"] == hashlib.sha256(
        open(tls_api.ca_file, "rb").read()).hexdigest()
    with RancherAPI(tls=True) as other:
        with pytest.raises(RancherConnectionError, match="does not hold the CA that signed its certificate"):
            ensure_registration_token(params(tls_api, ca_path=other.ca_file))


def test_tls_validate_certs_false_accepts_self_signed(tls_api):
    assert ensure_registration_token(params(tls_api, ca_path=None, validate_certs=False))[1]["token"]


def test_v1_reuses_active_token_with_basic_auth(api):
    api.add_v1_token()
    v1 = dict(url=api.url, access_key=api.access_key, secret_key=api.secret_key, project_id="1a5", timeout=5,
              retries=0)
    changed, result = ensure_registration_token(v1)
    assert changed is False and result["provisioning"] == "v1" and result["cluster_id"] == "1a5"
    assert result["registration_url"] == "%s/v1/scripts/%s" % (api.url, api.v1_tokens[0]["token"])
    assert result["agent_image"] == "rancher/agent:v1.2.11" and result["node_command"].endswith(result["registration_url"])
    assert api.requests[-1][2] is True


def test_v1_creates_and_waits_for_registering_token(api):
    v1 = dict(url=api.url, access_key=api.access_key, secret_key=api.secret_key, project_id="1a5", timeout=5)
    assert ensure_registration_token(v1, check_mode=True)[0] is True and not api.v1_tokens
    changed, result = ensure_registration_token(v1)
    assert changed is True and api.v1_tokens[0]["state"] == "active"
    assert result["token"] == api.v1_tokens[0]["token"]


def test_v1_unknown_project_lists_projects(api):
    v1 = dict(url=api.url, access_key=api.access_key, secret_key=api.secret_key, project_id="1a9")
    with pytest.raises(NotFoundError) as err:
        ensure_registration_token(v1)
    assert err.value.msg == ("Rancher 1.x project (environment) id '1a9' not found in %s; available: 1a5 (Default)"
                             % api.url)


@pytest.mark.parametrize("bad, message", [
    (dict(cluster=None), "cluster is required with the v3 API"),
    (dict(api_version="v1", cluster=None), "project_id is required with the v1 API"),
    (dict(api_token=None), "no Rancher credential: set api_token (or RANCHER_TOKEN)"),
    (dict(url="rancher.example.com"), "url 'rancher.example.com' is not a Rancher server URL"),
    (dict(retries=-1), "timeout must be > 0 and retries >= 0"),
])
def test_bad_options(api, bad, message):
    with pytest.raises(ValidationError) as err:
        ensure_registration_token(params(api, **bad))
    assert message in err.value.msg


def test_nodes_listed_by_cluster_for_waiters(api):
    cluster_id = api.clusters[0]["id"]
    api.register_node(cluster_id, "prod-node01", roles=("etcd", "worker"))
    client = RancherClient.from_params(params(api))
    nodes = client.collection("/v3/nodes", {"clusterId": cluster_id})
    assert [(n["hostname"], n["nodeName"], n["etcd"], n["controlPlane"]) for n in nodes] == [
        ("prod-node01", "prod-node01", True, False)]
    assert client.collection("/v3/nodes", {"clusterId": "c-other"}) == []
    created = client.post("/v3/nodes", {"clusterId": cluster_id, "hostname": "prod-node02", "worker": True})
    assert created["nodeName"] == "prod-node02" and created["worker"] is True and created["etcd"] is False
    assert len(client.collection("/v3/nodes", {"clusterId": cluster_id})) == 2
