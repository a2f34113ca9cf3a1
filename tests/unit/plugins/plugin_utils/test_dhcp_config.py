"""Validation and normalisation of the ipxe_dhcp settings (plugin_utils/dhcp_config.py)."""

import pytest

from ansible_collections.netboot.coreos.plugins.plugin_utils.dhcp_config import build_dhcp_config, kea_fragment
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

FACTS = {"interfaces": ["lo", "pxe0"],
         "pxe0": {"ipv4": {"address": "10.97.0.2", "netmask": "255.255.255.0", "network": "10.97.0.0"}},
         "lo": {"ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}}}
NODES = [{"name": "c1-node01", "hostname": "c1-node01.example.com", "mac": "00:50:56:00:00:01",
          "ip": "10.97.0.21"},
         {"name": "c1-node02", "hostname": "c1-node02", "mac": "00:50:56:00:00:02", "ip": None}]


def settings(**overrides):
    base = {"mode": "dhcp", "backend": "dnsmasq", "interface": "pxe0", "range_start": "10.97.0.100",
            "range_end": "10.97.0.200", "router": "10.97.0.1", "dns_servers": ["10.97.0.1"],
            "lease_time": "1h", "base_url": "http://10.97.0.2/coreos/", "efi_binary": "snponly.efi"}
    base.update(overrides)
    return base


def fails(match, nodes=None, facts=None, **overrides):
    with pytest.raises(ValidationError, match=match) as info:
        build_dhcp_config(settings(**overrides), nodes=nodes, facts=FACTS if facts is None else facts)
    assert "\n" not in info.value.msg
    return info.value.msg


def test_dhcp_mode_normalised():
    config = build_dhcp_config(settings(), nodes=NODES, facts=FACTS)
    assert config["cidr"] == "10.97.0.0/24" and config["netmask"] == "255.255.255.0"
    assert config["server_ip"] == "10.97.0.2"
    assert config["boot_url"] == "http://10.97.0.2/coreos/boot.ipxe"
    assert (config["range_start"], config["range_end"], config["lease_time"]) == ("10.97.0.100", "10.97.0.200", 3600)
    assert config["reservations"] == [
        {"name": "c1-node01", "hostname": "c1-node01", "mac": "00:50:56:00:00:01", "ip": "10.97.0.21"},
        {"name": "c1-node02", "hostname": "c1-node02", "mac": "00:50:56:00:00:02", "ip": None}]


def test_proxy_mode_needs_no_range_and_keeps_macs():
    config = build_dhcp_config(settings(mode="proxy", range_start=None, range_end=None, router=None),
                               nodes=NODES, facts=FACTS)
    assert config["range_start"] is None and config["mode"] == "proxy"
    assert [r["ip"] for r in config["reservations"]] == [None, None]


def test_unknown_mode():
    assert "ipxe_dhcp_mode must be one of dhcp, proxy; got 'relay'" in fails("mode", mode="relay")


def test_unknown_backend_and_efi_binary():
    fails("ipxe_dhcp_backend must be one of dnsmasq, isc, kea", backend="infoblox")
    fails("ipxe_dhcp_efi_binary must be one of snponly.efi, ipxe.efi", efi_binary="grubx64.efi")


def test_range_outside_interface_subnet():
    msg = fails("range_start", range_start="10.98.0.10")
    assert "10.98.0.10 is outside the subnet of interface pxe0, 10.97.0.0/24" in msg
    fails("range_end 10.97.1.5 is outside", range_end="10.97.1.5")
    fails("range_end 10.97.0.50 comes before range_start 10.97.0.100", range_end="10.97.0.50")
    fails("contains this server's own address 10.97.0.2", range_start="10.97.0.1")
    fails("range_start must be an IPv4 address", range_start="ten")


def test_node_records_are_checked_by_the_plan_rules():
    """node_plan.check_nodes' rules and wording, prefixed with the role variable that holds the records."""
    assert fails("mac", nodes=[dict(NODES[0], mac="00:50:56:zz:00:01")]) == (
        "ipxe_dhcp_nodes: node 'c1-node01': mac '00:50:56:zz:00:01' is not a MAC address; use the form "
        "00:50:56:xx:xx:xx")
    fails("node 'c1-node01': mac '0050.5600.0001' is not a MAC address", nodes=[dict(NODES[0], mac="0050.5600.0001")])
    fails("node 'c1-node01' has no mac", nodes=[dict(NODES[0], mac=None)])
    fails("node 'c1-node01': mac '02:00:5e:00:00:01' is outside VMware's static range",
          nodes=[dict(NODES[0], mac="02:00:5e:00:00:01")])
    fails(r"node 'c1-node01': unknown key\(s\) mak", nodes=[dict(NODES[0], mak="00:50:56:00:00:09")])
    fails("nodes must be a list of node records", nodes={"a": 1})


def test_uppercase_mac_is_lowercased():
    config = build_dhcp_config(settings(), nodes=[dict(NODES[0], mac="00:50:56:2A:00:01")], facts=FACTS)
    assert config["reservations"][0]["mac"] == "00:50:56:2a:00:01"


def test_reservation_ip_outside_subnet_in_dhcp_mode():
    msg = fails("outside the DHCP subnet", nodes=[dict(NODES[0], ip="10.98.0.21")])
    assert "node c1-node01 ip 10.98.0.21 is outside the DHCP subnet 10.97.0.0/24" in msg
    fails("outside the DHCP subnet", nodes=[dict(NODES[0], ip="10.97.0.255")])
    fails("this DHCP server's own address", nodes=[dict(NODES[0], ip="10.97.0.2")])


def test_reservation_ip_ignored_in_proxy_mode():
    config = build_dhcp_config(settings(mode="proxy"), nodes=[dict(NODES[0], ip="10.98.0.21")], facts=FACTS)
    assert config["reservations"][0]["ip"] is None


def test_duplicates_and_hostnames():
    fails("duplicate mac '00:50:56:00:00:01' on nodes 'c1-node01' and 'c1-node02'",
          nodes=[NODES[0], dict(NODES[1], mac="00:50:56:00:00:01")])
    fails("duplicate ip '10.97.0.21' on nodes 'c1-node01' and 'c1-node02'",
          nodes=[NODES[0], dict(NODES[1], ip="10.97.0.21")])
    fails("node 'c1-node01': hostname 'bad_name' is not a valid RFC 1123 host name",
          nodes=[dict(NODES[0], hostname="bad_name")])
    fails("node c1-node01 ip 10.97.0.2 is this DHCP server's own address", nodes=[dict(NODES[0], ip="10.97.0.2")])


def test_interface_checks():
    fails("ipxe_dhcp_interface 'eth9' does not exist on this host; available: lo, pxe0", interface="eth9")
    facts = dict(FACTS, pxe0={"ipv4": {}})
    fails("interface 'pxe0' has no IPv4 address", facts=facts)
    fails("subnet 10.98.0.0/24 is not the subnet of interface pxe0", subnet="10.98.0.0/24")


def test_lease_time_and_base_url():
    assert build_dhcp_config(settings(lease_time=600), facts=FACTS)["lease_time"] == 600
    assert build_dhcp_config(settings(lease_time="2d"), facts=FACTS)["lease_time"] == 172800
    fails("lease_time must be seconds", lease_time="60")
    fails("lease_time must be seconds", lease_time="forever")
    fails("needs netboot_base_url", base_url="")
    fails("needs netboot_base_url", base_url="ftp://x/coreos")


def test_snippet_backends_need_subnet_and_tftp_server():
    fails("subnet is required for backend isc", backend="isc", interface=None, facts={})
    fails("tftp_server must be set for backend kea", backend="kea", interface=None, subnet="10.97.0.0/24",
          facts={})
    config = build_dhcp_config(settings(backend="isc", interface=None, subnet="10.97.0.0/24",
                                        tftp_server="10.97.0.2"), nodes=NODES, facts={})
    assert config["server_ip"] == "10.97.0.2" and config["range_start"] is None
    fails("outside the DHCP subnet", backend="isc", interface=None, subnet="10.97.0.0/24", tftp_server="10.97.0.2",
          nodes=[dict(NODES[0], ip="10.98.0.21")], facts={})


def test_kea_fragment():
    config = build_dhcp_config(settings(backend="kea", interface=None, subnet="10.97.0.0/24",
                                        tftp_server="10.97.0.2"), nodes=NODES, facts={})
    fragment = kea_fragment(config)
    names = [c["name"] for c in fragment["client-classes"]]
    assert names == ["ipxe", "pxe-efi", "pxe-bios"]
    assert fragment["client-classes"][0]["boot-file-name"] == "http://10.97.0.2/coreos/boot.ipxe"
    assert fragment["client-classes"][1]["boot-file-name"] == "snponly.efi"
    assert "not member('ipxe')" in fragment["client-classes"][1]["test"]
    assert fragment["reservations"] == [
        {"hw-address": "00:50:56:00:00:01", "hostname": "c1-node01", "ip-address": "10.97.0.21"},
        {"hw-address": "00:50:56:00:00:02", "hostname": "c1-node02"}]


def test_filter_reports_or_raises():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.netboot.coreos.plugins.filter.dhcp_config import dhcp_config
    assert dhcp_config(settings(mode="relay"), facts=FACTS, fail=False) == {
        "error": "ipxe_dhcp_mode must be one of dhcp, proxy; got 'relay'"}
    with pytest.raises(AnsibleFilterError, match="dhcp_config: ipxe_dhcp_mode must be one of"):
        dhcp_config(settings(mode="relay"), facts=FACTS)


def test_ipv6_ra_needs_a_routable_ipv6_address_on_the_interface():
    link_only = dict(FACTS, pxe0=dict(FACTS["pxe0"], ipv6=[{"address": "fe80::1", "prefix": "64", "scope": "link"}]))
    fails("ipv6_ra needs a global or unique-local IPv6 address", facts=link_only, ipv6_ra=True)
    ula = dict(FACTS, pxe0=dict(FACTS["pxe0"], ipv6=[{"address": "fd97::2", "prefix": "64", "scope": "global"}]))
    assert build_dhcp_config(settings(ipv6_ra=True), facts=ula)["ipv6_ra"] is True


@pytest.mark.parametrize("typed, meant", [("false", False), ("no", False), ("0", False), (False, False),
                                          ("true", True), ("yes", True), (True, True)])
def test_flags_as_a_user_types_them(typed, meant):
    """``-e ipxe_dhcp_disable_dns=false`` gives the string 'false': it must mean false, not a non-empty string."""
    config = build_dhcp_config(settings(no_ping=typed, disable_dns=typed, log_dhcp=typed), facts=FACTS)
    assert (config["no_ping"], config["disable_dns"], config["log_dhcp"]) == (meant, meant, meant)
    ula = dict(FACTS, pxe0=dict(FACTS["pxe0"], ipv6=[{"address": "fd97::2", "prefix": "64", "scope": "global"}]))
    assert build_dhcp_config(settings(ipv6_ra=typed), facts=ula)["ipv6_ra"] is meant


def test_a_flag_that_is_not_a_boolean_is_named():
    assert fails("log_dhcp", log_dhcp="maybe") == "ipxe_dhcp_log_dhcp must be true or false; got 'maybe'"
