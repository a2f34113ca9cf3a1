# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Butane-like config dicts -> Ignition JSON documents, every field checked strictly.

The input is the subset of Butane's syntax the collection uses (DESIGN.md "Shared data model"):
``passwd.users[]``, ``storage.files[]/directories[]/links[]`` and ``systemd.units[]``. Every key is checked:
an unknown or mistyped field fails with its path (``storage.files[2].contnets: unknown field; valid: ...``),
because Ignition itself ignores unknown keys. The checker is the run-time guard: what it lets through is
emitted in the shape every supported spec shares (the fields the collection uses exist unchanged from 3.0.0
on; 2.x adds the root filesystem). The tests prove the output with the real Ignition's validator.
"""

import base64
import binascii
import json
import posixpath
import re
import struct

from urllib.parse import quote

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

SPEC_VERSIONS = ("2.3.0", "3.0.0", "3.3.0", "3.4.0", "3.5.0")
# Flatcar reads 3.3.0 from 3185.0.0, Fedora CoreOS every 3.x, and Debian's ignition-validate (2.14) knows it
DEFAULT_SPEC = "3.3.0"
UNIT_TYPES = ("service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer",
              "slice", "scope")
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
URL_SCHEMES = ("http", "https", "tftp", "s3", "data")
# characters a data URL may carry unescaped (RFC 2397 / RFC 3986 minus those with a meaning in URLs: ?#%;)
DATA_URL_SAFE = "-_.~!*'()@&=+$,/:"

UNIT_NAME_RE = re.compile(r"^[A-Za-z0-9:_.\\@-]+\.(%s)$" % "|".join(UNIT_TYPES))
DROPIN_NAME_RE = re.compile(r"^[A-Za-z0-9:_.@-]+\.conf$")
USER_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,30}\$?$")
URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
OCTAL_MODE_RE = re.compile(r"^[0-7]{3,4}$")
BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")

# The accepted input: (key, kind, required) per object, in the order error messages list them.
# A kind is a check name (see _CHECKS), a tuple (a nested object) or a one-item list (a list of that kind).
OWNER = (("name", "str", False), ("id", "int", False))
CONTENTS = (("inline", "str", False), ("source", "url", False))
FILE = (("path", "path", True), ("mode", "mode", False), ("contents", CONTENTS, False),
        ("overwrite", "bool", False), ("user", OWNER, False), ("group", OWNER, False))
DIRECTORY = (("path", "path", True), ("mode", "mode", False), ("overwrite", "bool", False),
             ("user", OWNER, False), ("group", OWNER, False))
LINK = (("path", "path", True), ("target", "str", True), ("hard", "bool", False), ("overwrite", "bool", False),
        ("user", OWNER, False), ("group", OWNER, False))
DROPIN = (("name", "dropin_name", True), ("contents", "str", False))
UNIT = (("name", "unit_name", True), ("enabled", "bool", False), ("mask", "bool", False),
        ("contents", "str", False), ("dropins", [DROPIN], False))
USER = (("name", "user_name", True), ("ssh_authorized_keys", ["ssh_key"], False), ("groups", ["str"], False),
        ("password_hash", "str", False))
CONFIG = (("passwd", (("users", [USER], False),), False),
          ("storage", (("files", [FILE], False), ("directories", [DIRECTORY], False),
                       ("links", [LINK], False)), False),
          ("systemd", (("units", [UNIT], False),), False))

# Butane key -> Ignition key where they differ
IGNITION_KEYS = {"ssh_authorized_keys": "sshAuthorizedKeys", "password_hash": "passwordHash"}


def _fail(path, msg):
    raise ValidationError("%s: %s" % (path or "config", msg), path=path)


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value):
    return "got %s %s" % (type(value).__name__, _shown(value))


def _check_str(value, path):
    if not isinstance(value, str):
        _fail(path, "expected a string, %s" % _got(value))
    return value


def _check_bool(value, path):
    if not isinstance(value, bool):
        _fail(path, "expected a boolean (true or false), %s" % _got(value))
    return value


def _check_int(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(path, "expected a non-negative integer, %s" % _got(value))
    return value


def _check_mode(value, path):
    """A permission mode: an integer (YAML 0644 is already 420) or an octal string such as '0644'."""
    if isinstance(value, str) and OCTAL_MODE_RE.match(value):
        value = int(value, 8)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o7777:
        _fail(path, "expected a permission mode (an integer 0-4095 such as 0644 in YAML, or an octal string "
                    "such as '0644'), %s" % _got(value))
    return value


def _check_path(value, path):
    _check_str(value, path)
    if not value.startswith("/") or posixpath.normpath(value) != value or "\0" in value:
        _fail(path, "expected an absolute, normalised path such as /etc/hostname, got %s" % _shown(value))
    return value


def _check_url(value, path):
    _check_str(value, path)
    match = URL_RE.match(value)
    if not match or match.group(1).lower() not in URL_SCHEMES:
        _fail(path, "expected a URL with scheme %s, got %s" % (", ".join(URL_SCHEMES), _shown(value)))
    if match.group(1).lower() == "data" and "," not in value:
        _fail(path, "a data URL needs a comma before its payload (data:,text), got %s" % _shown(value))
    return value


def _check_unit_name(value, path):
    _check_str(value, path)
    if not UNIT_NAME_RE.match(value):
        _fail(path, "expected a systemd unit name ending in .%s, got %s" % (", .".join(UNIT_TYPES), _shown(value)))
    return value


def _check_dropin_name(value, path):
    _check_str(value, path)
    if not DROPIN_NAME_RE.match(value):
        _fail(path, "expected a drop-in file name ending in .conf (no slashes), got %s" % _shown(value))
    return value


def _check_user_name(value, path):
    _check_str(value, path)
    if not USER_NAME_RE.match(value):
        _fail(path, "expected a user name (lower case letters, digits, _ and -, at most 32), got %s"
              % _shown(value))
    return value


def _check_ssh_key(value, path):
    """An OpenSSH public key line: type, base64 blob whose embedded type matches, optional comment."""
    _check_str(value, path)
    fields = value.strip().split(None, 2)
    valid = False
    if len(fields) >= 2 and fields[0] in SSH_KEY_TYPES and "\n" not in value.strip() and BASE64_RE.match(fields[1]):
        try:
            blob = base64.b64decode(fields[1].encode("ascii"))
        except (binascii.Error, TypeError):
            blob = b""
        name = fields[0].encode("ascii")
        valid = blob[:4 + len(name)] == struct.pack(">I", len(name)) + name
    if not valid:
        _fail(path, "not an OpenSSH public key: %s; expected '<type> <base64> [comment]' with type one of %s"
              % (_shown(value), ", ".join(SSH_KEY_TYPES)))
    return value.strip()


_CHECKS = {
    "str": _check_str, "bool": _check_bool, "int": _check_int, "mode": _check_mode, "path": _check_path,
    "url": _check_url, "unit_name": _check_unit_name, "dropin_name": _check_dropin_name,
    "user_name": _check_user_name, "ssh_key": _check_ssh_key,
}


def _check(value, kind, path):
    """Check ``value`` against ``kind``; return it normalised (modes as integers, None fields dropped)."""
    if isinstance(kind, list):
        if not isinstance(value, (list, tuple)):
            _fail(path, "expected a list, %s" % _got(value))
        return [_check(item, kind[0], "%s[%d]" % (path, index)) for index, item in enumerate(value)]
    if isinstance(kind, tuple):
        return _check_object(value, kind, path)
    return _CHECKS[kind](value, path)


def _check_object(value, fields, path):
    if not isinstance(value, dict):
        _fail(path, "expected a mapping, %s" % _got(value))
    known = [field[0] for field in fields]
    for key in value:
        if key not in known:
            sub = "%s.%s" % (path, key) if path else str(key)
            _fail(sub, "unknown field; valid: %s" % ", ".join(known))
    checked = {}
    for key, kind, required in fields:
        sub = "%s.%s" % (path, key) if path else key
        if value.get(key) is None:
            if required:
                _fail(sub, "required field missing")
            continue
        checked[key] = _check(value[key], kind, sub)
    return checked


def _check_unique(items, key, path, what):
    seen = {}
    for index, item in enumerate(items):
        where = "%s[%d]" % (path, index)
        if item[key] in seen:
            _fail("%s.%s" % (where, key), "duplicate %s %s (also %s)" % (what, _shown(item[key]), seen[item[key]]))
        seen[item[key]] = where


def check_config(config):
    """Check a Butane-like config strictly; return it normalised. Raises ValidationError naming the path."""
    checked = _check_object(config if config is not None else {}, CONFIG, "")
    storage = checked.get("storage", {})
    nodes = []
    for section in ("files", "directories", "links"):
        nodes.extend(dict(item, _where="storage.%s[%d]" % (section, index))
                     for index, item in enumerate(storage.get(section, [])))
    seen = {}
    for node in nodes:
        if node["path"] in seen:
            _fail(node["_where"] + ".path", "duplicate path %s (also %s)" % (_shown(node["path"]), seen[node["path"]]))
        seen[node["path"]] = node["_where"]
    for index, item in enumerate(storage.get("files", [])):
        if "contents" in item and len(item["contents"]) != 1:
            _fail("storage.files[%d].contents" % index, "set exactly one of inline or source")
    units = checked.get("systemd", {}).get("units", [])
    _check_unique(units, "name", "systemd.units", "unit")
    for index, unit in enumerate(units):
        _check_unique(unit.get("dropins", []), "name", "systemd.units[%d].dropins" % index, "drop-in")
    _check_unique(checked.get("passwd", {}).get("users", []), "name", "passwd.users", "user")
    return checked


def data_url(text):
    """The shorter of the percent-encoded and the base64 data URL of ``text`` (as Butane does)."""
    raw = text.encode("utf-8")
    escaped = "data:," + quote(raw, safe=DATA_URL_SAFE)
    encoded = "data:;base64," + base64.b64encode(raw).decode("ascii")
    return escaped if len(escaped) <= len(encoded) else encoded


def _ignition_node(item, legacy):
    """A storage entry in Ignition form: contents as a data URL, owners as given, 2.x on the root filesystem."""
    node = {}
    for key, value in item.items():
        if key == "contents":
            node[key] = {"source": data_url(value["inline"]) if "inline" in value else value["source"]}
        else:
            node[key] = value
    if legacy:
        node["filesystem"] = "root"
    return node


def _ignition_keys(item):
    return dict((IGNITION_KEYS.get(key, key), value) for key, value in item.items())


def _check_spec(spec):
    if spec not in SPEC_VERSIONS:
        raise ValidationError("spec: Ignition spec %s is not supported; supported: %s"
                              % (_shown(spec), ", ".join(SPEC_VERSIONS)), path="spec")


def render(config, spec=DEFAULT_SPEC):
    """The Ignition document (a dict) of ``config`` for Ignition spec ``spec``; every input field checked."""
    _check_spec(spec)
    checked = check_config(config)
    legacy = spec.startswith("2.")
    document = {"ignition": {"version": spec}}
    users = checked.get("passwd", {}).get("users")
    if users:
        document["passwd"] = {"users": [_ignition_keys(user) for user in users]}
    storage = dict((section, [_ignition_node(item, legacy) for item in items])
                   for section, items in checked.get("storage", {}).items() if items)
    if storage:
        document["storage"] = storage
    units = checked.get("systemd", {}).get("units")
    if units:
        document["systemd"] = {"units": units}
    return document


def render_json(config, spec=DEFAULT_SPEC):
    """``render`` as compact JSON with sorted keys (stable bytes, so rewriting an unchanged config is a no-op)."""
    return json.dumps(render(config, spec), sort_keys=True, separators=(",", ":"))
