"""Print what vCenter holds for one VM as JSON, read through pyVmomi (the molecule verify step asserts on it).

    read_template.py VCSIM_VARS_YML NAME [DATASTORE_FILE_PATH]
"""

import hashlib
import json
import ssl
import sys
import urllib.request

import yaml
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim


def main():
    settings_file, name = sys.argv[1], sys.argv[2]
    rom_path = sys.argv[3] if len(sys.argv) > 3 else None
    with open(settings_file) as handle:
        lab = yaml.safe_load(handle)
    context = ssl._create_unverified_context()  # the lab simulator's self-signed certificate
    si = SmartConnect(host=lab["vcenter_hostname"], port=int(lab["vcenter_port"]), user=lab["vcenter_username"],
                      pwd=lab["vcenter_password"], sslContext=context)
    try:
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
        matches = [vm for vm in view.view if vm.name == name]
        report = {"found": len(matches)}
        if matches:
            vm = matches[0]
            extra = {}
            for option in vm.config.extraConfig:
                extra[option.key] = option.value  # the simulator appends on reconfigure: the last value wins
            devices = vm.config.hardware.device
            nic = next(d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard))
            disk = next(d for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
            keys = {nic.key: "network", disk.key: "disk"}
            report.update(
                template=vm.config.template, memory_mb=vm.config.hardware.memoryMB, firmware=vm.config.firmware,
                extra_config={k: v for k, v in extra.items() if v != ""},
                nic_type=type(nic).__name__.rsplit(".", 1)[-1], thin=disk.backing.thinProvisioned,
                boot_order=[keys.get(b.deviceKey, str(b.deviceKey)) for b in vm.config.bootOptions.bootOrder])
        if rom_path:
            datastore, path = rom_path[1:].split("] ", 1)
            cookie = si._stub.cookie.split(";")[0]  # pylint: disable=protected-access
            url = "https://%s:%s/folder/%s?dcPath=DC0&dsName=%s" % (
                lab["vcenter_hostname"], lab["vcenter_port"], path, datastore)
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, context=context) as response:
                report["rom_sha256"] = hashlib.sha256(response.read()).hexdigest()
        print(json.dumps(report, sort_keys=True))
    finally:
        Disconnect(si)


if __name__ == "__main__":
    main()
