"""The node plan: names, deterministic MACs, IP pools, hostnames and the errors for bad input."""

import re

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import node_plan as np
from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan

MAC_RE = re.compile(r"^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$")


def plan(nodes=None, **kwargs):
    kwargs.setdefault("cluster_name", "prod")
    return build_node_plan(nodes, **kwargs)


def error_of(nodes=None, **kwargs):
    with pytest.raises(ValidationError) as err:
        plan(nodes, **kwargs)
    return err.value.msg


def test_record_shape_and_defaults():
    node = plan(["w1"])[0]
    assert node == {"name": "w1", "hostname": "w1", "mac": node["mac"], "ip": None, "roles": ["worker"],
                    "labels": {}, "taints": [], "num_cpus": None, "memory_mb": None}
    assert MAC_RE.match(node["mac"])


def test_count_with_name_format():
    names = [n["name"] for n in plan(count=3, name_format="node{index:02d}")]
    assert names == ["node01", "node02", "node03"]
    assert [n["name"] for n in plan(count=2)] == ["prod-node01", "prod-node02"]
    assert [n["name"] for n in plan(count=2, name_format="{cluster}-node-{index:02d}", start=0)] == \
        ["prod-node-00", "prod-node-01"]
    assert plan(count=0) == []


def test_macs_are_deterministic_distinct_and_in_range():
    first = plan(count=300, name_format="n{index}")
    again = plan(count=300, name_format="n{index}")
    assert [n["mac"] for n in first] == [n["mac"] for n in again]
    assert len({n["mac"] for n in first}) == 300
    assert all(MAC_RE.match(n["mac"]) for n in first)
    # the MAC depends on cluster and node name, not on the node's position
    assert plan(["n2"])[0]["mac"] == first[1]["mac"]
    assert plan(["n2"], cluster_name="other")[0]["mac"] != first[1]["mac"]


def test_scaling_keeps_existing_macs():
    small = plan(count=4, name_format="n{index}")
    large = plan(count=9, name_format="n{index}")
    assert [n["mac"] for n in large[:4]] == [n["mac"] for n in small]


def test_hash_collision_probes_to_next_free(monkeypatch):
    monkeypatch.setattr(np, "derived_mac_offset", lambda cluster, name: np.MAC_SPACE - 1)
    macs = [n["mac"] for n in plan(["a", "b", "c"])]
    assert macs == ["00:50:56:3f:ff:ff", "00:50:56:00:00:00", "00:50:56:00:00:01"]


def test_explicit_mac_wins_over_derived_one():
    derived = plan(["a"])[0]["mac"]
    nodes = plan([{"name": "a", "mac": "00:50:56:3F:00:01"}, {"name": "b", "mac": derived.upper()}])
    assert nodes[0]["mac"] == "00:50:56:3f:00:01"
    assert nodes[1]["mac"] == derived
    # a derived MAC never lands on an explicit one: 'a' moved
    nodes = plan(["a", {"name": "b", "mac": derived}])
    assert nodes[0]["mac"] != derived and nodes[1]["mac"] == derived


@pytest.mark.parametrize("mac, words", [
    ("00:50:56:40:00:00", "outside VMware's static range"),
    ("00:0c:29:00:00:01", "outside VMware's static range"),
    ("00:50:56:00:00", "is not a MAC address"),
    ("zz:50:56:00:00:01", "is not a MAC address"),
])
def test_bad_macs_are_named(mac, words):
    msg = error_of([{"name": "a", "mac": mac}])
    assert words in msg and mac.lower()[:8] in msg.lower() and "'a'" in msg


def test_duplicate_names_and_macs():
    assert "duplicate node name 'a'" in error_of(["a", {"name": "a"}])
    msg = error_of([{"name": "a", "mac": "00:50:56:00:00:01"}, {"name": "b", "mac": "00:50:56:00:00:01"}])
    assert "duplicate mac '00:50:56:00:00:01'" in msg and "'a'" in msg and "'b'" in msg
    # a name_format that maps two indexes to one name
    assert "duplicate node name 'n1' (check name_format)" in error_of(count=2, start=10, name_format="n{index!s:.1}")


def test_ip_range_dash_and_cidr_skip_explicit_ips():
    nodes = plan(["a", {"name": "b", "ip": "10.0.0.11"}, "c"], ip_range="10.0.0.10-10.0.0.12")
    assert [n["ip"] for n in nodes] == ["10.0.0.10", "10.0.0.11", "10.0.0.12"]
    assert "too small" in error_of(count=3, name_format="n{index}", ip_range="192.168.5.0/30")
    nodes = plan(count=2, name_format="n{index}", ip_range="192.168.5.0/30")
    assert [n["ip"] for n in nodes] == ["192.168.5.1", "192.168.5.2"]


def test_pool_too_small_names_the_range():
    msg = error_of(count=5, name_format="n{index}", ip_range="10.0.0.10-10.0.0.13")
    assert "ip_range '10.0.0.10-10.0.0.13' is too small" in msg and "4 free addresses for 5 nodes" in msg


@pytest.mark.parametrize("bad", ["10.0.0.20-10.0.0.10", "10.0.0.300-10.0.0.301", "10.0.0.0/33", "nope"])
def test_bad_ip_range(bad):
    assert "ip_range '%s' is not valid" % bad in error_of(["a"], ip_range=bad)


def test_duplicate_and_malformed_explicit_ips():
    assert "duplicate ip '10.0.0.5'" in error_of([{"name": "a", "ip": "10.0.0.5"}, {"name": "b", "ip": "10.0.0.5"}])
    assert "ip '10.0.0.256' is not an IP address" in error_of([{"name": "a", "ip": "10.0.0.256"}])


def test_hostname_format_last_octet():
    nodes = plan(count=2, name_format="node{index:02d}", ip_range="10.0.0.57-10.0.0.60",
                 hostname_format="coreos{last_octet}")
    assert [(n["name"], n["hostname"], n["ip"]) for n in nodes] == [
        ("node01", "coreos57", "10.0.0.57"), ("node02", "coreos58", "10.0.0.58")]
    nodes = plan(["Node01"], hostname_format="{cluster}-{name}.lab.example.com")
    assert nodes[0]["hostname"] == "prod-node01.lab.example.com"


def test_hostname_errors():
    assert "uses the IP but node 'a' has no ip" in error_of(["a"], hostname_format="coreos{last_octet}")
    msg = error_of(["node_1"])
    assert "hostname 'node_1' is not a valid RFC 1123 host name" in msg
    assert "not a valid RFC 1123" in error_of([{"name": "a", "hostname": "-bad"}])
    assert "not a valid RFC 1123" in error_of([{"name": "a", "hostname": "x" * 64}])
    assert "duplicate hostname 'same'" in error_of(["a", "b"], hostname_format="same")
    assert "unknown field(s) {octet}" in error_of(["a"], hostname_format="coreos{octet}")


def test_name_format_must_use_index_and_be_a_valid_pattern():
    msg = error_of(count=2, name_format="node%02d")
    assert "name_format 'node%02d' must contain {index}" in msg
    assert "name_format 'node{index' is not a valid str.format pattern" in error_of(count=1, name_format="node{index")
    assert "hostname_format 5 must be a string" in error_of(["a"], hostname_format=5)


def test_unknown_keys_are_named():
    msg = error_of([{"name": "a", "cpus": 4}])
    assert "node 'a': unknown key(s) cpus" in msg and "num_cpus" in msg


def test_node_settings_are_normalised():
    node = plan([{"name": "cp1", "roles": ["worker", "etcd", "controlplane"], "labels": {"zone": "a"},
                  "taints": ["dedicated=infra:NoSchedule", {"key": "gpu", "effect": "NoExecute"}],
                  "num_cpus": "4", "memory_mb": 8192}])[0]
    assert node["roles"] == ["etcd", "controlplane", "worker"]
    assert node["labels"] == {"zone": "a"}
    assert node["taints"] == ["dedicated=infra:NoSchedule", "gpu=:NoExecute"]
    assert (node["num_cpus"], node["memory_mb"]) == (4, 8192)


@pytest.mark.parametrize("entry, words", [
    ({"name": "a", "roles": ["master"]}, "role 'master' is not a Rancher node role"),
    ({"name": "a", "taints": ["x=y:Sometimes"]}, "taint 'x=y:Sometimes' is not 'key=value:Effect'"),
    ({"name": "a", "num_cpus": 0}, "num_cpus 0 must be a positive integer"),
    ({"name": "a", "memory_mb": "lots"}, "memory_mb 'lots' must be a positive integer"),
    ({"name": "a", "labels": ["x"]}, "labels ['x'] must be a mapping"),
    ({"mac": "00:50:56:00:00:01"}, "nodes[0] has no name"),
])
def test_bad_node_settings(entry, words):
    assert words in error_of([entry])


def test_count_with_overrides_and_entries_beyond_count():
    nodes = plan([{"name": "n2", "ip": "10.1.0.99", "roles": ["etcd"]}, {"name": "n9", "num_cpus": 8}],
                 count=3, name_format="n{index}", ip_range="10.1.0.1-10.1.0.5")
    assert [n["name"] for n in nodes] == ["n1", "n2", "n3"]
    assert [n["ip"] for n in nodes] == ["10.1.0.1", "10.1.0.99", "10.1.0.2"]
    assert nodes[1]["roles"] == ["etcd"]


def test_required_and_malformed_arguments():
    assert "cluster_name is required" in error_of(["a"], cluster_name=None)
    assert "count 'many' must be a whole number" in error_of(count="many")
    assert "nodes must be a list" in error_of({"name": "a"})
    # Ansible's omit placeholder counts as unset
    assert len(plan(["a"], count="__omit_place_holder__abc", ip_range="__omit_place_holder__abc")) == 1


def test_filter_plugin_raises_ansible_filter_error():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.netboot.coreos.plugins.filter.node_plan import FilterModule

    node_plan = FilterModule().filters()["node_plan"]
    assert node_plan([], cluster_name="c", count=1, name_format="x{index}")[0]["name"] == "x1"
    with pytest.raises(AnsibleFilterError, match="node_plan: duplicate node name 'a'"):
        node_plan(["a", "a"], cluster_name="c")


# -- names, labels and taints the consumers would reject fail here, in the plan ---------------------------

@pytest.mark.parametrize("name", ["web/1", "web 1", "-web", "a" * 81, "node%1"])
def test_node_names_that_cannot_be_vm_names_are_named(name):
    msg = error_of([name])
    assert "name %r is not a valid node name" % name in msg and "letters, digits" in msg


def test_generated_names_are_checked_too():
    msg = error_of(count=1, name_format="node {index}")
    assert "name_format 'node {index}' gives node name 'node 1', which is not valid" in msg


@pytest.mark.parametrize("labels, shown", [
    ({"bad key": "x"}, "label bad key=x"),
    ({"zone": "a b"}, "label zone=a b"),
    ({"Example.com/tier": "gold"}, "label Example.com/tier=gold"),
    ({"k": "x" * 64}, "label k=" + "x" * 64),
])
def test_labels_follow_kubernetes_syntax(labels, shown):
    msg = error_of([{"name": "a", "labels": labels}])
    assert "node 'a': %s is not a valid Kubernetes label" % shown in msg


def test_valid_kubernetes_labels_and_taints_pass():
    node = plan([{"name": "a", "labels": {"example.com/tier": "gold", "zone": "", "Node_Type.x": "A-1"},
                  "taints": ["node-role.kubernetes.io/infra=:NoSchedule"]}])[0]
    assert node["labels"] == {"example.com/tier": "gold", "zone": "", "Node_Type.x": "A-1"}
    assert node["taints"] == ["node-role.kubernetes.io/infra=:NoSchedule"]


@pytest.mark.parametrize("taint", ["bad key=x:NoSchedule", "k=a b:NoSchedule", "k=v:Sometimes", "dedicated=infra"])
def test_taints_follow_kubernetes_syntax(taint):
    assert "node 'a': taint %r is not 'key=value:Effect'" % taint in error_of([{"name": "a", "taints": [taint]}])


# -- check_nodes: the one check consumers of the plan call ------------------------------------------------

def check_error(nodes, **kwargs):
    with pytest.raises(ValidationError) as err:
        np.check_nodes(nodes, **kwargs)
    assert "\n" not in err.value.msg
    return err.value.msg


def test_check_nodes_returns_a_valid_plan_unchanged():
    nodes = plan([{"name": "cp1", "roles": ["etcd", "controlplane"], "labels": {"zone": "a"},
                   "taints": ["dedicated=infra:NoSchedule"], "num_cpus": 4}, "w1"], ip_range="10.0.0.0/28")
    assert np.check_nodes(nodes) == nodes


def test_check_nodes_fills_defaults_and_normalises():
    assert np.check_nodes([{"name": "W1", "mac": "00:50:56:00:00:AB", "num_cpus": "2"}]) == [{
        "name": "W1", "hostname": "w1", "mac": "00:50:56:00:00:ab", "ip": None, "roles": ["worker"], "labels": {},
        "taints": [], "num_cpus": 2, "memory_mb": None}]


def test_check_nodes_names_the_node_without_mac():
    msg = check_error([{"name": "n1", "hostname": "n1"}])
    assert msg.startswith("the node plan: node 'n1' has no mac") and "netboot.coreos.node_plan" in msg


@pytest.mark.parametrize("record, words", [
    ({"name": "a", "mac": "00:50:56:00:00:01", "labels": {"bad key": "x"}}, "node 'a': label bad key=x"),
    ({"name": "a", "mac": "00:50:56:00:00:01", "roles": ["master"]}, "node 'a': role 'master'"),
    ({"name": "a", "mac": "00:50:56:00:00:01", "num_cpus": "many"}, "node 'a': num_cpus 'many'"),
    ({"name": "a", "mac": "00:50:56:00:00:01", "hostname": "Bad_Host"}, "node 'a': hostname 'Bad_Host'"),
    ({"name": "a", "mac": "00:0c:29:00:00:01"}, "node 'a': mac '00:0c:29:00:00:01' is outside"),
    ({"name": "a", "mac": "00:50:56:00:00:01", "cpus": 2}, "node 'a': unknown key(s) cpus"),
    ({"name": "web/1", "mac": "00:50:56:00:00:01"}, "name 'web/1' is not a valid node name"),
    ({"mac": "00:50:56:00:00:01"}, "nodes[0] has no name"),
    ("w1", "nodes[0] must be a node record"),
])
def test_check_nodes_names_node_and_field(record, words):
    msg = check_error([record], source="ipxe_dhcp_nodes")
    assert msg.startswith("ipxe_dhcp_nodes: ") and words in msg


def test_check_nodes_rejects_duplicates_and_non_lists():
    one = {"name": "a", "mac": "00:50:56:00:00:01"}
    assert "duplicate mac '00:50:56:00:00:01' on nodes 'a' and 'b'" in check_error([one, dict(one, name="b")])
    assert "duplicate name 'a'" in check_error([one, dict(one, mac="00:50:56:00:00:02")])
    two = {"name": "b", "mac": "00:50:56:00:00:02", "hostname": "x"}
    assert "duplicate hostname 'x'" in check_error([dict(one, hostname="x"), two])
    assert "the node plan must be a list of node records" in check_error({"name": "a"})


def test_an_empty_plan_must_be_stated():
    for missing in (None, "", "__omit_place_holder__abc"):
        msg = error_of(missing)
        assert "nothing describes the nodes" in msg and "coreos_node_count: 0" in msg
    assert plan([]) == [] and plan(None, count=0) == []


@pytest.mark.parametrize("count", [-1, "-1", "1.5", True])
def test_bad_counts_are_named_with_what_is_valid(count):
    assert "count %r must be a whole number of nodes (0 or more)" % (count,) in error_of(count=count)
