# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and normalise the settings of the ipxe_dhcp role before any file is written.

``build_dhcp_config(settings, nodes, facts)`` checks the mode, backend, interface, subnet, range, lease time
and the per-node reservations (node records through node_plan.check_nodes) and returns one flat dict that the dnsmasq, ISC dhcpd and Kea templates render
as they are. ``kea_fragment(config)`` turns that dict into the Kea ``Dhcp4`` keys (client classes and
reservations). Every problem raises ValidationError with one line naming the variable, the bad value and what
would be valid.
"""

import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import check_nodes

MODES = ("dhcp", "proxy")
BACKENDS = ("dnsmasq", "isc", "kea")
EFI_BINARIES = ("snponly.efi", "ipxe.efi")
BIOS_BINARY = "undionly.kpxe"
LEASE_RE = re.compile(r"^([0-9]+)([smhdw]?)$")
LEASE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_LEASE = 120  # dnsmasq refuses shorter leases


def _fail(msg):
    raise ValidationError(msg)


def _choice(prefix, key, value, choices):
    if value not in choices:
        _fail("%s%s must be one of %s; got %r" % (prefix, key, ", ".join(choices), value))
    return value


def _address(prefix, key, value):
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        _fail("%s%s must be an IPv4 address such as 10.0.0.10; got %r" % (prefix, key, value))


def _interface_network(facts, interface):
    """The IPv4 network of ``interface`` from gathered facts, or None when it has no IPv4 address."""
    names = facts.get("interfaces") or []
    if interface not in names:
        _fail("ipxe_dhcp_interface %r does not exist on this host; available: %s"
              % (interface, ", ".join(sorted(names)) or "none"))
    ipv4 = (facts.get(interface.replace("-", "_").replace(".", "_")) or {}).get("ipv4") or {}
    if not ipv4.get("address"):
        return None, None
    network = ipaddress.IPv4Network("%s/%s" % (ipv4["address"], ipv4["netmask"]), strict=False)
    return ipaddress.IPv4Address(ipv4["address"]), network


def _check_ipv6_ra(prefix, facts, interface):
    """dnsmasq builds its router advertisements from the interface's IPv6 prefixes; link-local ones do not count."""
    ipv6 = (facts.get(interface.replace("-", "_").replace(".", "_")) or {}).get("ipv6") or []
    if not [address for address in ipv6 if address.get("scope") == "global"]:
        _fail("%sipv6_ra needs a global or unique-local IPv6 address (such as fd00::2/64) on interface %s: "
              "dnsmasq sends router advertisements only for the interface's IPv6 prefixes" % (prefix, interface))


def _network(prefix, settings, backend, facts):
    """The served subnet and this server's address on it (the TFTP next-server by default)."""
    interface = settings.get("interface") or ""
    server_ip, if_network = None, None
    if backend == "dnsmasq":
        if not interface:
            _fail("%sinterface must name the boot network interface dnsmasq serves" % prefix)
        server_ip, if_network = _interface_network(facts or {}, interface)
        if if_network is None:
            _fail("%sinterface %r has no IPv4 address; dnsmasq serves the subnet of that address"
                  % (prefix, interface))
    subnet = settings.get("subnet") or ""
    if subnet:
        try:
            network = ipaddress.IPv4Network(str(subnet), strict=False)
        except ValueError:
            _fail("%ssubnet must be an IPv4 network such as 10.0.0.0/24; got %r" % (prefix, subnet))
        if if_network is not None and network != if_network:
            _fail("%ssubnet %s is not the subnet of interface %s (%s)" % (prefix, network, interface, if_network))
    elif if_network is not None:
        network = if_network
    else:
        _fail("%ssubnet is required for backend %s (the subnet the site's DHCP server serves), "
              "for example 10.0.0.0/24" % (prefix, backend))
    return network, server_ip


def _inside(prefix, key, address, network, what="the subnet"):
    if address not in network or address in (network.network_address, network.broadcast_address):
        _fail("%s%s %s is outside %s %s (usable %s-%s)" % (
            prefix, key, address, what, network, network.network_address + 1, network.broadcast_address - 1))


def _lease_seconds(prefix, value):
    match = LEASE_RE.match(str(value).strip().lower())
    seconds = int(match.group(1)) * LEASE_UNITS[match.group(2)] if match else 0
    if seconds < MIN_LEASE:
        _fail("%slease_time must be seconds or a number with unit s, m, h, d or w, at least 2m; got %r"
              % (prefix, value))
    return seconds


def _reservations(prefix, nodes, mode, backend, network, server_ip):
    """One reservation per node: MAC, IP (or None), the host name's first label.

    The records are checked by node_plan.check_nodes (the plan's own rules); what is checked here is what only
    DHCP knows: a reserved IP must be an IPv4 address inside the served subnet and not this server's.
    """
    check_ips = backend != "dnsmasq" or mode == "dhcp"
    result = []
    for node in check_nodes(nodes, source="%snodes" % prefix):
        address = None
        if node["ip"] and check_ips:
            where = "nodes: node %s ip" % node["name"]
            address = _address(prefix, where, node["ip"])
            _inside(prefix, where, address, network, "the DHCP subnet")
            if address == server_ip:
                _fail("%snodes: node %s ip %s is this DHCP server's own address" % (prefix, node["name"], address))
        result.append({"name": node["name"], "hostname": node["hostname"].split(".", 1)[0], "mac": node["mac"],
                       "ip": str(address) if address else None})
    return result


def _flag(prefix, settings, key, default):
    """A boolean setting as a user types it (``-e x=false`` is the string 'false')."""
    value = settings.get(key, default)
    try:
        return boolean(value, strict=True)
    except TypeError:
        _fail("%s%s must be true or false; got %r" % (prefix, key, value))


def build_dhcp_config(settings, nodes=None, facts=None, prefix="ipxe_dhcp_"):
    """Validate ``settings`` (role variables without the prefix) and return the normalised config."""
    mode = _choice(prefix, "mode", settings.get("mode"), MODES)
    backend = _choice(prefix, "backend", settings.get("backend", "dnsmasq"), BACKENDS)
    efi_binary = _choice(prefix, "efi_binary", settings.get("efi_binary", "snponly.efi"), EFI_BINARIES)
    base_url = str(settings.get("base_url") or "").rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base_url):
        _fail("%sboot_url needs netboot_base_url, an http:// or https:// URL such as "
              "http://repo.example.com/coreos; got %r" % (prefix, settings.get("base_url")))
    network, server_ip = _network(prefix, settings, backend, facts)
    if settings.get("tftp_server"):
        server_ip = _address(prefix, "tftp_server", settings["tftp_server"])
    if server_ip is None:
        _fail("%stftp_server must be set for backend %s: the TFTP server that serves the iPXE binaries"
              % (prefix, backend))

    config = {
        "mode": mode, "backend": backend, "interface": settings.get("interface") or None,
        "network": str(network.network_address), "netmask": str(network.netmask),
        "prefix": network.prefixlen, "cidr": str(network), "broadcast": str(network.broadcast_address),
        "server_ip": str(server_ip), "boot_url": base_url + "/boot.ipxe",
        "bios_file": BIOS_BINARY, "efi_file": efi_binary,
        "range_start": None, "range_end": None, "router": None,
        "dns_servers": [], "domain": settings.get("domain") or None,
        "lease_time": _lease_seconds(prefix, settings.get("lease_time", "12h")),
        "ipv6_ra": _flag(prefix, settings, "ipv6_ra", False),
        "no_ping": _flag(prefix, settings, "no_ping", True),
        "disable_dns": _flag(prefix, settings, "disable_dns", True),
        "log_dhcp": _flag(prefix, settings, "log_dhcp", False),
    }
    if backend == "dnsmasq" and config["ipv6_ra"]:
        _check_ipv6_ra(prefix, facts or {}, config["interface"])
    if backend == "dnsmasq" and mode == "dhcp":
        start = _address(prefix, "range_start", settings.get("range_start"))
        end = _address(prefix, "range_end", settings.get("range_end"))
        _inside(prefix, "range_start", start, network, "the subnet of interface %s," % config["interface"])
        _inside(prefix, "range_end", end, network, "the subnet of interface %s," % config["interface"])
        if end < start:
            _fail("%srange_end %s comes before range_start %s" % (prefix, end, start))
        if start <= server_ip <= end:
            _fail("%srange %s-%s contains this server's own address %s" % (prefix, start, end, server_ip))
        config.update(range_start=str(start), range_end=str(end))
    if settings.get("router"):
        router = _address(prefix, "router", settings["router"])
        _inside(prefix, "router", router, network)
        config["router"] = str(router)
    config["dns_servers"] = [str(_address(prefix, "dns_servers", item)) for item in settings.get("dns_servers") or []]
    config["reservations"] = _reservations(prefix, nodes or [], mode, backend, network, server_ip)
    return config


def kea_fragment(config):
    """Kea ``Dhcp4`` keys for the same classes and reservations as the dnsmasq config."""
    not_ipxe = "not member('ipxe') and "
    efi_test = "(option[93].hex == 0x0007 or option[93].hex == 0x0009)"
    classes = [
        {"name": "ipxe", "test": "option[77].hex == 'iPXE' or option[175].exists",
         "boot-file-name": config["boot_url"]},
        {"name": "pxe-efi", "test": not_ipxe + efi_test,
         "next-server": config["server_ip"], "boot-file-name": config["efi_file"]},
        {"name": "pxe-bios", "test": not_ipxe + "option[93].hex == 0x0000",
         "next-server": config["server_ip"], "boot-file-name": config["bios_file"]},
    ]
    reservations = []
    for item in config["reservations"]:
        entry = {"hw-address": item["mac"], "hostname": item["hostname"]}
        if item["ip"]:
            entry["ip-address"] = item["ip"]
        reservations.append(entry)
    return {"client-classes": classes, "reservations": reservations}
