"""The embedded lab end to end, through the entry point a user runs (`make lab`, `make lab-down`), in a lab of
its own (LAB_DIR under the test's tmp dir: its own simulator, network namespaces, boot server and node).

In order: `make lab LAB_ARGS=--check` (site.yml --check --diff before anything is configured), `make lab` (the
real run: what check mode predicted changes, the first planned node installs and applies node.ign), `make lab`
again (changed=0 in every play, the node boots again), `make lab-down` (nothing of the lab is left).
"""

import json
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make(target, state, *args):
    proc = subprocess.run(["make", "--no-print-directory", target, "LAB_DIR=" + state] + list(args), cwd=REPO,
                          capture_output=True, text=True, timeout=1800, check=False)
    return proc


def record(state, name):
    with open(os.path.join(state, name)) as handle:
        return json.load(handle)


def summary_rows(output, plan):
    """{node name: the summary's row for it, split in columns NODE MAC IP POWER BOOT...}."""
    rows = {}
    for line in output.splitlines():
        words = line.split(None, 4)
        if words and words[0] in {node["name"] for node in plan}:
            rows[words[0]] = words
    return rows


@pytest.fixture
def lab_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the lab needs root: it creates network namespaces, a container and tap devices", pytrace=False)
    state = str(tmp_path / "lab")
    yield state
    down = make("lab-down", state)
    assert down.returncode == 0, down.stdout + down.stderr
    prefix = re.search(r"network (lab[0-9a-f]+)\*", down.stdout)
    assert prefix, down.stdout  # the lab had a network, and lab-down removed it
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert prefix.group(1) not in namespaces
    assert not os.path.exists(state)


def test_make_lab_check_then_up_twice(lab_dir):
    check = make("lab", lab_dir, "LAB_ARGS=--check")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    predicted = record(lab_dir, "site-check.json")
    assert not os.path.exists(os.path.join(lab_dir, "node")), "check mode booted a node"

    first = make("lab", lab_dir)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    real = record(lab_dir, "site.json")
    assert [p["name"] for p in predicted["plays"]] == [p["name"] for p in real["plays"]]
    for guess, done in zip(predicted["plays"], real["plays"]):
        # each play that changes was predicted to, and check mode claims no change the real run did not make
        assert (guess["changed"] > 0) == (done["changed"] > 0), (guess, done)
        assert set(guess["changed_tasks"]) <= set(done["changed_tasks"]), (guess, done)
    assert real["plays"][1]["changed"] > 0  # a new boot server: nginx, the release and the boot files

    plan = real["node_plan"]
    assert len(plan) == 3
    rows = summary_rows(first.stdout, plan)
    assert sorted(rows) == sorted(node["name"] for node in plan), first.stdout
    for node in plan:
        name, mac, address, power = rows[node["name"]][:4]
        assert (mac, power) == (node["mac"], "poweredOn"), rows[name]
    booted = rows[plan[0]["name"]]
    assert booted[2] == plan[0]["ip"], booted  # dnsmasq leased the planned address to the QEMU node
    assert booted[4].startswith("node.ign applied: DHCP "), booted
    assert all("not booted" in rows[node["name"]][4] for node in plan[1:])
    assert "TEST SERVER" in first.stdout and "make lab-down" in first.stdout
    serial = os.path.join(lab_dir, "node", plan[0]["name"], "power-on-2.serial.log")
    with open(serial) as handle:
        assert "E2E-STEP node.ign applied" in handle.read()

    again = make("lab", lab_dir)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    warm = record(lab_dir, "site.json")
    assert [(p["name"], p["changed"]) for p in warm["plays"]] == [(p["name"], 0) for p in real["plays"]], warm
    assert summary_rows(again.stdout, plan)[plan[0]["name"]][4].startswith("node.ign applied: DHCP ")
