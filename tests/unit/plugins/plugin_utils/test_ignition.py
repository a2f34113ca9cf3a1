"""Ignition rendering: Butane-like dicts -> Ignition JSON, strict input checks.

The ORACLE for every rendered document is the real Ignition's validator (Debian's ignition-validate 2.14:
3.0.0-3.3.0, and 3.4.0 as its 3.4.0-experimental). For 2.3.0 and 3.5.0, which it does not know, the upstream
JSON schema in ../shared/ignition-schema stands in (skipped where ../shared is absent).
"""

import base64
import copy
import json
import sys
from urllib.parse import unquote

import jsonschema
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.netboot.coreos.plugins.filter.ignition import FilterModule
from ansible_collections.netboot.coreos.plugins.plugin_utils import ignition
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

from tests.conftest import shared_path  # pylint: disable=import-error
import real_ignition  # pylint: disable=import-error,wrong-import-order

# the spec ignition-validate reads for each supported spec it knows; the others have the upstream schema file
REAL_VALIDATOR = {"3.0.0": "3.0.0", "3.3.0": "3.3.0", "3.4.0": "3.4.0-experimental"}
SCHEMA_FILES = {"2.3.0": "v2_x-spec2x-branch.json", "3.5.0": "v3_5.json"}
KEY_ED25519 = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfpCwYYdFjjCyym0zgHIMGYcgPUrvqWvGg7lIYg4Zw4 "
               "ops@ed25519")
KEY_RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDh2BoKEQGzk0krMGazLZRC0Hc4wNkwQfeB5QqBHUGProPVIs5FO+BgF5G3nU"
           "Gu9gHMtqiGALNEWGSrOYqnJKXq8hOTcji/cXsX07EtflrqD3f9oViskfpCsE8yvo0JPWz1KQhzyomjYMpTt5ANwZ2/CcOKEZwFej"
           "L3v2vbsq/RFQ== ops@rsa")
KEY_ECDSA = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNMo+ckEYBO/XCHcwRkGIJbVLI4"
             "3IV1lb3HDdXXMuBg6NiatL6uPDHXGLXpl+CEKHLWqiqwtnS6l+9pi4hGcnTk= ops@ecdsa")

FULL = {
    "passwd": {"users": [{"name": "core", "ssh_authorized_keys": [KEY_ED25519, KEY_RSA, KEY_ECDSA],
                          "groups": ["docker", "sudo"], "password_hash": "$6$salt$hash"}]},
    "storage": {
        "files": [
            {"path": "/etc/hostname", "mode": 0o644, "overwrite": True, "contents": {"inline": "node-1\n"}},
            {"path": "/etc/flatcar/update.conf", "mode": "0640",
             "contents": {"inline": "GROUP=stable\nREBOOT_STRATEGY=off\n"}, "user": {"name": "root"},
             "group": {"id": 0}},
            {"path": "/opt/bin/tool", "mode": 0o755, "contents": {"source": "http://repo.example/tool"}},
            {"path": "/etc/motd"},
        ],
        "directories": [{"path": "/opt/bin", "mode": 0o755, "user": {"id": 0}}],
        "links": [{"path": "/etc/localtime", "target": "/usr/share/zoneinfo/Europe/Berlin", "hard": False,
                   "overwrite": True}],
    },
    "systemd": {"units": [
        {"name": "docker.service", "enabled": True},
        {"name": "systemd-timesyncd.service", "mask": True},
        {"name": "install.service", "enabled": True, "contents": "[Unit]\nDescription=x\n[Install]\n"
                                                                 "WantedBy=multi-user.target\n",
         "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n"}]},
    ]},
}


def oracle(spec, document, workdir):
    """Validate ``document`` of ``spec`` with the real validator, or the upstream schema where it has none."""
    if spec in REAL_VALIDATOR:
        path = workdir / "config.ign"
        path.write_text(json.dumps(dict(document, ignition={"version": REAL_VALIDATOR[spec]})))
        real_ignition.validate(path)
    else:
        with open(shared_path("ignition-schema", SCHEMA_FILES[spec])) as handle:
            jsonschema.Draft4Validator(json.load(handle)).validate(document)


def decode(url):
    head, payload = url.split(",", 1)
    if head.endswith(";base64"):
        return base64.b64decode(payload).decode("utf-8")
    return unquote(payload)


def error_of(config, spec="3.4.0"):
    with pytest.raises(ValidationError) as info:
        ignition.render(config, spec)
    return info.value.msg


# -- valid configs --------------------------------------------------------------------------------------------

def test_every_supported_spec_has_an_oracle():
    assert sorted(list(REAL_VALIDATOR) + list(SCHEMA_FILES)) == sorted(ignition.SPEC_VERSIONS)
    assert ignition.DEFAULT_SPEC in REAL_VALIDATOR  # the default is proven by the real validator, no ../shared


@pytest.mark.parametrize("spec", sorted(ignition.SPEC_VERSIONS))
def test_full_config_passes_the_oracle(spec, tmp_path):
    document = json.loads(ignition.render_json(FULL, spec))
    oracle(spec, document, tmp_path)
    assert document["ignition"] == {"version": spec}
    user = document["passwd"]["users"][0]
    assert user["sshAuthorizedKeys"] == [KEY_ED25519, KEY_RSA, KEY_ECDSA]
    assert user["passwordHash"] == "$6$salt$hash" and user["groups"] == ["docker", "sudo"]
    files = {f["path"]: f for f in document["storage"]["files"]}
    assert files["/etc/hostname"]["mode"] == 420 and files["/etc/hostname"]["overwrite"] is True
    assert files["/etc/flatcar/update.conf"]["mode"] == 416  # the octal string '0640'
    assert files["/opt/bin/tool"]["contents"] == {"source": "http://repo.example/tool"}
    assert "contents" not in files["/etc/motd"]
    assert document["storage"]["directories"][0]["mode"] == 493
    assert document["storage"]["links"][0]["target"] == "/usr/share/zoneinfo/Europe/Berlin"
    units = {u["name"]: u for u in document["systemd"]["units"]}
    assert units["systemd-timesyncd.service"] == {"name": "systemd-timesyncd.service", "mask": True}
    assert units["install.service"]["dropins"] == [{"name": "10-env.conf",
                                                    "contents": "[Service]\nEnvironment=A=1\n"}]
    on_root = [n.get("filesystem") for s in ("files", "directories", "links") for n in document["storage"][s]]
    assert set(on_root) == ({"root"} if spec.startswith("2.") else {None})


def test_inline_contents_round_trip_through_data_urls():
    texts = ["node-1\n", "", "a b?c#d%e;f\n\tü€ 100%", "x" * 5000, "\x00\x01\x02binary-ish" * 40]
    config = {"storage": {"files": [{"path": "/f%d" % i, "contents": {"inline": t}} for i, t in enumerate(texts)]}}
    document = ignition.render(config, "3.4.0")
    for text, node in zip(texts, document["storage"]["files"]):
        source = node["contents"]["source"]
        assert source.startswith("data:") and "?" not in source and "#" not in source
        assert decode(source) == text
    # ordinary text stays readable; text that percent-encoding would triple goes base64
    assert document["storage"]["files"][0]["contents"]["source"] == "data:,node-1%0A"
    assert document["storage"]["files"][4]["contents"]["source"].startswith("data:;base64,")


def test_json_output_is_stable_and_compact():
    first = ignition.render_json(FULL, "3.3.0")
    shuffled = copy.deepcopy(FULL)
    shuffled = dict(reversed(list(shuffled.items())))
    assert ignition.render_json(shuffled, "3.3.0") == first
    assert "\n" not in first and ", " not in first.split('"sshAuthorizedKeys"')[0]


def test_empty_config_is_a_bare_document():
    assert ignition.render({}, "3.4.0") == {"ignition": {"version": "3.4.0"}}
    assert ignition.render(None, "2.3.0") == {"ignition": {"version": "2.3.0"}}
    assert ignition.render({"storage": {"files": []}, "systemd": {}}, "3.4.0") == {"ignition": {"version": "3.4.0"}}


def test_null_optional_fields_are_dropped():
    document = ignition.render({"storage": {"files": [{"path": "/a", "mode": None, "contents": None}]}})
    assert document["storage"]["files"] == [{"path": "/a"}]


# -- invalid input: every kind, each with the path of the bad field --------------------------------------------

@pytest.mark.parametrize("config,message", [
    ({"storage": {"files": [{"path": "/a"}, {"path": "/b"}, {"path": "/c", "contnets": {"inline": "x"}}]}},
     "storage.files[2].contnets: unknown field; valid: path, mode, contents, overwrite, user, group"),
    ({"storge": {}}, "storge: unknown field; valid: passwd, storage, systemd"),
    ({"variant": "flatcar"}, "variant: unknown field; valid: passwd, storage, systemd"),
    ({"passwd": {"users": [{"name": "core", "ssh_keys": []}]}},
     "passwd.users[0].ssh_keys: unknown field; valid: name, ssh_authorized_keys, groups, password_hash"),
    ({"systemd": {"units": [{"name": "a.service", "enable": True}]}},
     "systemd.units[0].enable: unknown field; valid: name, enabled, mask, contents, dropins"),
    ({"systemd": {"units": [{"name": "a.service", "dropins": [{"name": "a.conf", "content": ""}]}]}},
     "systemd.units[0].dropins[0].content: unknown field; valid: name, contents"),
    ({"storage": {"files": [{"path": "/a", "contents": {"inline": "x", "compression": "gzip"}}]}},
     "storage.files[0].contents.compression: unknown field; valid: inline, source"),
    ({"storage": {"links": [{"path": "/a"}]}}, "storage.links[0].target: required field missing"),
    ({"storage": {"files": [{"mode": 420}]}}, "storage.files[0].path: required field missing"),
    ({"systemd": {"units": [{"enabled": True}]}}, "systemd.units[0].name: required field missing"),
    ({"passwd": {"users": [{"groups": []}]}}, "passwd.users[0].name: required field missing"),
    ({"systemd": {"units": [{"name": "a.service", "enabled": "yes"}]}},
     "systemd.units[0].enabled: expected a boolean (true or false), got str 'yes'"),
    ({"storage": {"files": [{"path": "/a", "mode": "rw-r--r--"}]}}, "storage.files[0].mode: expected a permission"),
    ({"storage": {"files": [{"path": "/a", "mode": 0o10000}]}}, "storage.files[0].mode: expected a permission"),
    ({"storage": {"files": [{"path": "/a", "mode": True}]}}, "storage.files[0].mode: expected a permission"),
    ({"storage": {"files": [{"path": "/a", "user": {"id": -1}}]}},
     "storage.files[0].user.id: expected a non-negative integer, got int -1"),
    ({"storage": {"files": [{"path": "/a", "user": "root"}]}},
     "storage.files[0].user: expected a mapping, got str 'root'"),
    ({"storage": {"files": {"path": "/a"}}}, "storage.files: expected a list, got dict"),
    ({"storage": {"files": [{"path": "etc/hostname"}]}}, "storage.files[0].path: expected an absolute, normalised"),
    ({"storage": {"directories": [{"path": "/opt/../etc"}]}}, "storage.directories[0].path: expected an absolute"),
    ({"storage": {"files": [{"path": "/etc/x/"}]}}, "storage.files[0].path: expected an absolute"),
    ({"storage": {"files": [{"path": "/a", "contents": {"inline": 5}}]}},
     "storage.files[0].contents.inline: expected a string, got int 5"),
    ({"storage": {"files": [{"path": "/a", "contents": {"inline": "x", "source": "data:,x"}}]}},
     "storage.files[0].contents: set exactly one of inline or source"),
    ({"storage": {"files": [{"path": "/a", "contents": {}}]}},
     "storage.files[0].contents: set exactly one of inline or source"),
    ({"storage": {"files": [{"path": "/a", "contents": {"source": "ftp://h/x"}}]}},
     "storage.files[0].contents.source: expected a URL with scheme http, https, tftp, s3, data"),
    ({"storage": {"files": [{"path": "/a", "contents": {"source": "/local/file"}}]}},
     "storage.files[0].contents.source: expected a URL"),
    ({"storage": {"files": [{"path": "/a", "contents": {"source": "data:text"}}]}},
     "storage.files[0].contents.source: a data URL needs a comma"),
    ({"storage": {"files": [{"path": "/a"}], "links": [{"path": "/a", "target": "/b"}]}},
     "storage.links[0].path: duplicate path '/a' (also storage.files[0])"),
    ({"systemd": {"units": [{"name": "a.service"}, {"name": "a.service"}]}},
     "systemd.units[1].name: duplicate unit 'a.service' (also systemd.units[0])"),
    ({"systemd": {"units": [{"name": "a.service", "dropins": [{"name": "x.conf"}, {"name": "x.conf"}]}]}},
     "systemd.units[0].dropins[1].name: duplicate drop-in 'x.conf'"),
    ({"passwd": {"users": [{"name": "core"}, {"name": "core"}]}},
     "passwd.users[1].name: duplicate user 'core' (also passwd.users[0])"),
    ({"systemd": {"units": [{"name": "docker"}]}},
     "systemd.units[0].name: expected a systemd unit name ending in .service"),
    ({"systemd": {"units": [{"name": "a.service", "dropins": [{"name": "10-x"}]}]}},
     "systemd.units[0].dropins[0].name: expected a drop-in file name ending in .conf"),
    ({"passwd": {"users": [{"name": "Core User"}]}}, "passwd.users[0].name: expected a user name"),
    ({"passwd": {"users": [{"name": "core", "ssh_authorized_keys": KEY_RSA}]}},
     "passwd.users[0].ssh_authorized_keys: expected a list, got str"),
    ({"storage": []}, "storage: expected a mapping, got list []"),
])
def test_invalid_input_names_the_path(config, message):
    assert error_of(config).startswith(message)


@pytest.mark.parametrize("key", [
    "ssh-rsa",                                            # no key material
    "AAAAC3NzaC1lZDI1NTE5AAAAIBfpCwYYdFjjCyym0zgHIMGYcgPUrvqWvGg7lIYg4Zw4",  # no type
    "ssh-ed25519 not-base64!! ops",                     # blob not base64
    KEY_ED25519.replace("ssh-ed25519", "ssh-rsa"),      # blob of another key type
    "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIBfpCwYYdFjjCyym0zgHIMGYcgPUrvqWvGg7lIYg4Zw4",  # unknown type
    KEY_RSA + "\n" + KEY_ED25519,                        # two keys in one entry
    "-----BEGIN OPENSSH PRIVATE KEY-----",              # a private key pasted by mistake
])
def test_malformed_ssh_keys_are_rejected(key):
    message = error_of({"passwd": {"users": [{"name": "core", "ssh_authorized_keys": [KEY_RSA, key]}]}})
    assert message.startswith("passwd.users[0].ssh_authorized_keys[1]: not an OpenSSH public key")
    assert "ssh-ed25519" in message


def test_ssh_key_surrounding_whitespace_is_trimmed():
    document = ignition.render({"passwd": {"users": [{"name": "core", "ssh_authorized_keys": [" %s\n" % KEY_RSA]}]}})
    assert document["passwd"]["users"][0]["sshAuthorizedKeys"] == [KEY_RSA]


@pytest.mark.parametrize("spec", ["3.2.0", "3.4", "4.0.0", 3.4])
def test_unsupported_spec_lists_the_supported_ones(spec):
    with pytest.raises(ValidationError) as info:
        ignition.render({}, spec)
    assert info.value.msg.startswith("spec: Ignition spec %r is not supported; supported: 2.3.0, 3.0.0, 3.3.0, "
                                     "3.4.0, 3.5.0" % spec)


def test_config_that_is_not_a_mapping():
    assert error_of("passwd: {}") == "config: expected a mapping, got str 'passwd: {}'"


# -- the filter ------------------------------------------------------------------------------------------------

def test_filter_returns_json_and_wraps_errors():
    render = FilterModule().filters()["ignition"]
    assert json.loads(render(FULL, "3.3.0"))["ignition"]["version"] == "3.3.0"
    assert json.loads(render({}))["ignition"]["version"] == "3.3.0"
    with pytest.raises(AnsibleFilterError, match=r"^netboot.coreos.ignition: storage.files\[0\].contnets: unknown"):
        render({"storage": {"files": [{"path": "/a", "contnets": {}}]}})


def test_filter_in_a_playbook(tmp_path):
    from tests.conftest import run_playbook  # pylint: disable=import-error
    playbook = tmp_path / "play.yml"
    out = tmp_path / "node.ign"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.copy:\n        dest: %s\n        mode: '0644'\n"
        "        content: \"{{ cfg | netboot.coreos.ignition('3.3.0') }}\"\n"
        "      vars:\n        cfg:\n          storage:\n            files:\n"
        "              - {path: /etc/hostname, mode: 0644, contents: {inline: \"n1\\n\"}}\n"
        "    - ansible.builtin.debug:\n        msg: \"{{ {'storage': {'files': [{'path': 'a'}]}} "
        "| netboot.coreos.ignition }}\"\n" % out)
    run = run_playbook(str(playbook), extra_vars={"ansible_python_interpreter": sys.executable})
    document = json.loads(out.read_text())
    assert document["storage"]["files"] == [{"path": "/etc/hostname", "mode": 420,
                                             "contents": {"source": "data:,n1%0A"}}]
    assert run.stats["failures"] == 1
    assert any("storage.files[0].path: expected an absolute, normalised path" in m for m in run.failure_messages())
