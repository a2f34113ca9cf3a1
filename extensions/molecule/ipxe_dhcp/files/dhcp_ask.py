"""Run a batch of DHCP client cases and print {case name: result} as JSON (one ansible task per batch).

A case is {"name", "mac" (optional), "options" (udhcpc -x values), "request" (an IP to ask for, udhcpc -r),
"probe" (dhcp_probe.py arguments)}. A case with a MAC runs on a macvlan sub-interface of pxe0 carrying that
MAC. Without "probe" the result is the lease busybox udhcpc obtained (udhcpc-json.sh prints it) or null; with
"probe" it is dhcp_probe.py's list of replies.
dhcp_probe.py and udhcpc-json.sh (executable) sit beside this file. Used by the molecule scenario (in the
client container) and by tests/integration/test_ipxe_dhcp_netns.py (in the client namespace).
Usage: python3 dhcp_ask.py '<JSON list of cases>'
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def interface(case):
    if not case.get("mac"):
        return "pxe0"
    name = "m" + case["mac"].replace(":", "")[-4:]
    if subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode:
        subprocess.run(["ip", "link", "add", "link", "pxe0", "name", name, "address", case["mac"], "type",
                        "macvlan", "mode", "bridge"], check=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
    return name


def run(case):
    iface = interface(case)
    if "probe" in case:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "dhcp_probe.py"), iface] + case["probe"], capture_output=True,
                              text=True, check=True)
        return json.loads(proc.stdout)
    args = ["busybox", "udhcpc", "-i", iface, "-q", "-n", "-f", "-t", "3", "-T", "1",
            "-s", os.path.join(HERE, "udhcpc-json.sh")]
    for option in case.get("options", []):
        args += ["-x", option]
    if case.get("request"):
        args += ["-r", case["request"]]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    leases = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(leases[-1]) if proc.returncode == 0 and leases else None


def main():
    print(json.dumps({case["name"]: run(case) for case in json.loads(sys.argv[1])}, sort_keys=True))


if __name__ == "__main__":
    main()
