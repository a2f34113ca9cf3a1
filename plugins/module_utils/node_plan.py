# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node plan: one normalised list of nodes (name, hostname, MAC, IP, Rancher roles, sizing).

The same list drives DHCP reservations, per-node boot configs and the VM clones, so it must be
deterministic: a node's MAC is derived from the cluster name and the node name (a SHA-256 hash folded
into VMware's static range 00:50:56:00:00:00-00:50:56:3F:FF:FF) and stays the same across runs.

Formats use Python ``str.format`` syntax:
  name_format      fields {cluster} {index}                                e.g. ``{cluster}-node{index:02d}``
  hostname_format  fields {name} {cluster} {index} {ip} {ip_dashed} {last_octet}  e.g. ``coreos{last_octet}``
"""

import hashlib
import ipaddress
import re
import string

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

DEFAULT_NAME_FORMAT = "{cluster}-node{index:02d}"
DEFAULT_HOSTNAME_FORMAT = "{name}"
DEFAULT_ROLES = ("worker",)
RANCHER_ROLES = ("etcd", "controlplane", "worker")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# VMware's range for manually assigned MACs: 00:50:56:00:00:00 - 00:50:56:3F:FF:FF (22 bits).
MAC_PREFIX = 0x005056000000
MAC_SPACE = 0x400000
NODE_KEYS = ("name", "hostname", "mac", "ip", "roles", "labels", "taints", "num_cpus", "memory_mb")

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# A node name becomes the VM name, the default host name and part of log lines: no '/', spaces or '%'.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
NAME_RULE = "use 1-80 letters, digits, '.', '-' or '_' starting with a letter or digit (it becomes the VM name)"
# Kubernetes label and taint syntax: a key is [prefix/]name, a value is empty or a name (both 63 characters).
_K8S_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
_TAINT_RE = re.compile(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?:(?P<effect>\w+)$")
_OMIT_PREFIX = "__omit_place_holder__"


def _unset(value):
    """None, '' and Ansible's omit placeholder all mean 'not given'."""
    return value is None or (isinstance(value, str) and (value == "" or value.startswith(_OMIT_PREFIX)))


# -- MACs ------------------------------------------------------------------------------------------------

def mac_to_int(mac):
    return int(mac.replace(":", ""), 16)


def int_to_mac(value):
    text = "%012x" % value
    return ":".join(text[i:i + 2] for i in range(0, 12, 2))


def normalise_mac(mac, node):
    """A lowercase MAC inside VMware's static range, or ValidationError naming it and the node."""
    if not isinstance(mac, str) or not _MAC_RE.match(mac):
        raise ValidationError("node '%s': mac %r is not a MAC address; use the form 00:50:56:xx:xx:xx" % (node, mac))
    value = mac_to_int(mac)
    if not MAC_PREFIX <= value < MAC_PREFIX + MAC_SPACE:
        raise ValidationError("node '%s': mac '%s' is outside VMware's static range 00:50:56:00:00:00-"
                              "00:50:56:3f:ff:ff that vCenter accepts for manual MACs" % (node, mac.lower()))
    return int_to_mac(value)


def derived_mac_offset(cluster_name, node_name):
    """Where ``node_name``'s MAC starts probing inside the 22-bit static range (stable across runs)."""
    digest = hashlib.sha256(("%s/%s" % (cluster_name, node_name)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % MAC_SPACE


def unique_values(nodes, key):
    """``{value: node name}`` for the nodes whose ``key`` is set; ValidationError when two nodes share one."""
    taken = {}
    for node in nodes:
        value = node.get(key)
        if value is None:
            continue
        if value in taken:
            raise ValidationError("duplicate %s '%s' on nodes '%s' and '%s'; every node needs its own"
                                  % (key, value, taken[value], node["name"]))
        taken[value] = node["name"]
    return taken


def assign_macs(cluster_name, nodes):
    """Fill in ``mac`` for nodes without one; explicit MACs win, a hash collision probes to the next free one."""
    taken = unique_values(nodes, "mac")
    if len(taken) + sum(1 for n in nodes if n["mac"] is None) > MAC_SPACE:
        raise ValidationError("%d nodes do not fit VMware's static MAC range (%d addresses)" % (len(nodes), MAC_SPACE))
    for node in nodes:
        if node["mac"] is not None:
            continue
        offset = derived_mac_offset(cluster_name, node["name"])
        mac = int_to_mac(MAC_PREFIX + offset)
        while mac in taken:
            offset = (offset + 1) % MAC_SPACE
            mac = int_to_mac(MAC_PREFIX + offset)
        taken[mac] = node["name"]
        node["mac"] = mac


# -- IPs -------------------------------------------------------------------------------------------------

def parse_ip_range(ip_range):
    """The addresses of ``a.b.c.d-e.f.g.h`` (inclusive) or a CIDR (usable hosts), as a list of ip_address."""
    text = str(ip_range).strip()
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
            return hosts
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            if first.version != last.version or last < first:
                raise ValueError("the range ends before it starts")
            return [ipaddress.ip_address(v) for v in range(int(first), int(last) + 1)]
        return [ipaddress.ip_address(text)]
    except ValueError as exc:
        raise ValidationError("ip_range %r is not valid (%s); use '10.0.0.10-10.0.0.60' or a CIDR like "
                              "'10.0.0.0/24'" % (ip_range, exc))


def normalise_ip(ip, node):
    try:
        return str(ipaddress.ip_address(str(ip).strip()))
    except ValueError:
        raise ValidationError("node '%s': ip %r is not an IP address" % (node, ip))


def assign_ips(nodes, ip_range):
    """Give nodes without an explicit ip the next free address of ``ip_range`` (explicit IPs are skipped)."""
    taken = unique_values(nodes, "ip")
    wanting = [n for n in nodes if n["ip"] is None]
    if _unset(ip_range) or not wanting:
        return
    free = [str(a) for a in parse_ip_range(ip_range) if str(a) not in taken]
    if len(free) < len(wanting):
        raise ValidationError("ip_range '%s' is too small: %d free addresses for %d nodes without an explicit ip; "
                              "widen the range" % (ip_range, len(free), len(wanting)))
    for node, address in zip(wanting, free):
        node["ip"] = address


# -- names -----------------------------------------------------------------------------------------------

def validate_hostname(hostname, node):
    """RFC 1123 host name, lowercase (Kubernetes node names must be)."""
    labels = hostname.split(".") if isinstance(hostname, str) else [None]
    if not isinstance(hostname, str) or len(hostname) > 253 or not all(
            label and _LABEL_RE.match(label) for label in labels):
        raise ValidationError(
            "node '%s': hostname %r is not a valid RFC 1123 host name; use lowercase letters, digits and '-', "
            "labels of 1-63 characters that start and end with a letter or digit, separated by '.'" % (node, hostname))
    return hostname


def _format_fields(fmt, option):
    if not isinstance(fmt, str):
        raise ValidationError("%s %r must be a string (str.format syntax)" % (option, fmt))
    try:
        parsed = string.Formatter().parse(fmt)
        return {part[1].split(".")[0].split("[")[0] for part in parsed if part[1]}
    except ValueError as exc:
        raise ValidationError("%s %r is not a valid str.format pattern: %s" % (option, fmt, exc))


def _apply_format(fmt, option, allowed, values, node):
    unknown = _format_fields(fmt, option) - set(allowed)
    if unknown:
        raise ValidationError("%s %r uses unknown field(s) %s; available: %s (str.format syntax)"
                              % (option, fmt, ", ".join("{%s}" % f for f in sorted(unknown)),
                                 ", ".join("{%s}" % f for f in allowed)))
    try:
        return fmt.format(**values)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValidationError("%s %r cannot be applied to node '%s': %s" % (option, fmt, node, exc))


def generated_names(cluster_name, count, name_format, start):
    if "index" not in _format_fields(name_format, "name_format"):
        raise ValidationError("name_format %r must contain {index} (str.format syntax, e.g. 'node{index:02d}' "
                              "or '{cluster}-node-{index:02d}')" % name_format)
    names = []
    for index in range(start, start + count):
        name = _apply_format(name_format, "name_format", ("cluster", "index"), dict(cluster=cluster_name, index=index),
                             "#%d" % index)
        if not _NAME_RE.match(name):
            raise ValidationError("name_format %r gives node name %r, which is not valid; %s"
                                  % (name_format, name, NAME_RULE))
        names.append((index, name))
    return names


def hostname_for(node, hostname_format, cluster_name):
    fields = ("name", "cluster", "index", "ip", "ip_dashed", "last_octet")
    needs_ip = _format_fields(hostname_format, "hostname_format") & {"ip", "ip_dashed", "last_octet"}
    if needs_ip and node["ip"] is None:
        raise ValidationError("hostname_format %r uses the IP but node '%s' has no ip; set ip_range or the node's ip"
                              % (hostname_format, node["name"]))
    ip = node["ip"] or ""
    values = dict(name=node["name"], cluster=cluster_name, index=node["index"], ip=ip,
                  ip_dashed=ip.replace(".", "-").replace(":", "-"), last_octet=ip.rsplit(".", 1)[-1])
    return _apply_format(hostname_format, "hostname_format", fields, values, node["name"]).lower()


# -- per-node settings -----------------------------------------------------------------------------------

def _positive_int(value, key, node):
    if _unset(value):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise ValidationError("node '%s': %s %r must be a positive integer" % (node, key, value))
    return number


def _roles(value, node):
    if _unset(value):
        return list(DEFAULT_ROLES)
    roles = [value] if isinstance(value, str) else value
    if not isinstance(roles, (list, tuple)) or not roles:
        raise ValidationError("node '%s': roles %r must be a non-empty list of %s" % (node, value, ", ".join(RANCHER_ROLES)))
    for role in roles:
        if role not in RANCHER_ROLES:
            raise ValidationError("node '%s': role %r is not a Rancher node role; use %s"
                                  % (node, role, ", ".join(RANCHER_ROLES)))
    return [r for r in RANCHER_ROLES if r in roles]


def _k8s_key(key):
    """True for a Kubernetes qualified name: ``[DNS-subdomain/]name``, the name at most 63 characters."""
    prefix, name = key.rpartition("/")[::2]
    if prefix and (len(prefix) > 253 or not all(label and _LABEL_RE.match(label) for label in prefix.split("."))):
        return False
    return bool(_K8S_NAME_RE.match(name))


def _k8s_value(value):
    return value == "" or bool(_K8S_NAME_RE.match(value))


def _labels(value, node):
    if _unset(value):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("node '%s': labels %r must be a mapping of label key to value" % (node, value))
    labels = {}
    for key, text in value.items():
        key, text = str(key), "" if text is None else str(text)
        if not _k8s_key(key) or not _k8s_value(text):
            raise ValidationError(
                "node '%s': label %s=%s is not a valid Kubernetes label; a key is [prefix/]name and a value is "
                "empty or a name, a name being at most 63 letters, digits, '-', '_' or '.' that start and end "
                "with a letter or digit (the prefix a lowercase DNS name)" % (node, key, text))
        labels[key] = text
    return labels


def _taint(value, node):
    if isinstance(value, dict):
        if set(value) - {"key", "value", "effect"} or "key" not in value or "effect" not in value:
            raise ValidationError("node '%s': taint %r needs key, effect and optional value" % (node, value))
        value = "%s=%s:%s" % (value["key"], value.get("value") or "", value["effect"])
    match = _TAINT_RE.match(value) if isinstance(value, str) else None
    if (not match or match.group("effect") not in TAINT_EFFECTS or not _k8s_key(match.group("key"))
            or not _k8s_value(match.group("value") or "")):
        raise ValidationError("node '%s': taint %r is not 'key=value:Effect' with a Kubernetes label key and value "
                              "and Effect one of %s" % (node, value, ", ".join(TAINT_EFFECTS)))
    return "%s=%s:%s" % (match.group("key"), match.group("value") or "", match.group("effect"))


def _taints(value, node):
    if _unset(value):
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError("node '%s': taints %r must be a list of 'key=value:Effect'" % (node, value))
    return [_taint(t, node) for t in value]


def check_node_name(name, where):
    """``name`` when it can be its VM name as is (vCenter escapes '/', '\\' and '%', and stops at 80 characters)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValidationError("%s: name %r is not a valid node name; %s" % (where, name, NAME_RULE))
    return name


def _node_name(name, position, entry):
    if _unset(name):
        raise ValidationError("nodes[%d] has no name: %r" % (position, entry))
    return check_node_name(name, "nodes[%d]" % position)


def _unknown_keys(record, name):
    unknown = sorted(str(k) for k in set(record) - set(NODE_KEYS))
    if unknown:
        raise ValidationError("node '%s': unknown key(s) %s; valid keys: %s"
                              % (name, ", ".join(unknown), ", ".join(NODE_KEYS)))


def _entry(entry, position):
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise ValidationError("nodes[%d] %r must be a mapping with at least a name" % (position, entry))
    _unknown_keys(entry, _node_name(entry.get("name"), position, entry))
    return entry


def _settings(entry, name):
    """The normalised fields of one entry or record besides its name and hostname (None where not given)."""
    return {
        "name": name,
        "mac": None if _unset(entry.get("mac")) else normalise_mac(entry["mac"], name),
        "ip": None if _unset(entry.get("ip")) else normalise_ip(entry["ip"], name),
        "roles": _roles(entry.get("roles"), name),
        "labels": _labels(entry.get("labels"), name),
        "taints": _taints(entry.get("taints"), name),
        "num_cpus": _positive_int(entry.get("num_cpus"), "num_cpus", name),
        "memory_mb": _positive_int(entry.get("memory_mb"), "memory_mb", name),
    }


def _count(count):
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = -1
    if isinstance(count, bool) or number < 0 or str(number) != str(count).strip():
        raise ValidationError("count %r must be a whole number of nodes (0 or more)" % (count,))
    return number


def build_node_plan(nodes=None, cluster_name=None, count=None, name_format=None, ip_range=None,
                    hostname_format=None, start=1):
    """Return the normalised node plan (a list of dicts, see NODE_KEYS) or raise ValidationError.

    Either ``nodes`` or ``count`` must be given: an empty plan is a statement (``[]`` or ``count=0``), never the
    result of a missing setting. With ``count`` the names come from ``name_format`` (indexes ``start``..``start+count-1``) and entries of
    ``nodes`` with those names add per-node settings; entries naming nodes beyond ``count`` are kept for
    later and left out. Without ``count`` the ``nodes`` list is the plan, in its order.
    """
    if _unset(cluster_name) or not isinstance(cluster_name, str):
        raise ValidationError("cluster_name is required (it seeds the nodes' MACs and marks their VMs): got %r"
                              % (cluster_name,))
    if _unset(nodes) and _unset(count):
        raise ValidationError("nothing describes the nodes: give a count (coreos_node_count, with "
                              "coreos_node_name_format) or a node list (coreos_nodes); coreos_node_count: 0 or "
                              "coreos_nodes: [] plans no nodes on purpose")
    if _unset(nodes):
        nodes = []
    if not isinstance(nodes, (list, tuple)):
        raise ValidationError("nodes must be a list of node entries, got %r" % (nodes,))
    entries = [_entry(e, i) for i, e in enumerate(nodes)]
    seen = set()
    for entry in entries:
        if entry["name"] in seen:
            raise ValidationError("duplicate node name '%s'; node names must be unique" % entry["name"])
        seen.add(entry["name"])
    by_name = {e["name"]: e for e in entries}

    if _unset(count):
        planned = [(position + int(start), entry) for position, entry in enumerate(entries)]
    else:
        fmt = DEFAULT_NAME_FORMAT if _unset(name_format) else name_format
        planned = [(index, by_name.get(name, {"name": name}))
                   for index, name in generated_names(cluster_name, _count(count), fmt, int(start))]

    plan = [dict(_settings(entry, entry["name"]), index=index, hostname=entry.get("hostname"))
            for index, entry in planned]
    names = set()
    for node in plan:
        if node["name"] in names:
            raise ValidationError("duplicate node name '%s' (check name_format); node names must be unique"
                                  % node["name"])
        names.add(node["name"])

    assign_macs(cluster_name, plan)
    assign_ips(plan, ip_range)
    hostname_fmt = DEFAULT_HOSTNAME_FORMAT if _unset(hostname_format) else hostname_format
    for node in plan:
        if _unset(node["hostname"]):
            node["hostname"] = hostname_for(node, hostname_fmt, cluster_name)
        validate_hostname(node["hostname"], node["name"])
    unique_values(plan, "hostname")
    return [{key: node[key] for key in NODE_KEYS} for node in plan]


def check_nodes(nodes, source="the node plan"):
    """The normalised records of ``nodes`` (node plan records), or ValidationError naming the node and the field.

    Consumers of the plan (DHCP reservations, boot files, clones, the Rancher join) call this instead of checking
    records themselves. ``name`` and ``mac`` are required; the other fields of NODE_KEYS default as the plan
    does (``hostname`` to the lowercased name). A valid plan comes back equal to itself.
    """
    if not isinstance(nodes, (list, tuple)):
        raise ValidationError("%s must be a list of node records (the netboot.coreos.node_plan filter's output), "
                              "got %s" % (source, type(nodes).__name__))
    checked = []
    try:
        for position, record in enumerate(nodes):
            checked.append(_checked_record(record, position))
        for key in ("name", "mac", "ip", "hostname"):
            unique_values(checked, key)
    except ValidationError as exc:
        raise ValidationError("%s: %s" % (source, exc.msg))
    return checked


def _checked_record(record, position):
    if not isinstance(record, dict):
        raise ValidationError("nodes[%d] must be a node record (a mapping with name, mac, ...), got %r"
                              % (position, record))
    name = _node_name(record.get("name"), position, record)
    _unknown_keys(record, name)
    if _unset(record.get("mac")):
        raise ValidationError("node '%s' has no mac; every node record needs one (records come from the "
                              "netboot.coreos.node_plan filter)" % name)
    node = _settings(record, name)
    hostname = record.get("hostname")
    node["hostname"] = validate_hostname(name.lower() if _unset(hostname) else hostname, name)
    return {key: node[key] for key in NODE_KEYS}
