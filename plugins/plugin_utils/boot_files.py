# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file of the boot chain the http_repo role serves under /coreos/, as {relative path: content}.

``boot_files(nodes, release, settings)`` is the one place that says what goes into

- ``boot.ipxe``: chains ``nodes/<mac>.ipxe`` and falls back to the default profile;
- ``nodes/<mac>.ipxe``: boots the release's PXE kernel and initrd with the first-boot config URL; with
  ``image_verify`` it first checks both against their CMS signatures (``imgverify``) and, when one does not
  match, says which on the console and powers the machine off instead of booting it;
- Flatcar and Fedora CoreOS: ``nodes/<mac>/install.ign`` (stage 1: run the installer from this mirror, reboot)
  and ``nodes/<mac>/node.ign`` (stage 2: host name, NTP, time zone, SSH keys, updates, extras, Rancher join);
- legacy CoreOS: ``nodes/<mac>/install.sh`` (stage 1, run by coreos-cloudinit) and
  ``nodes/<mac>/cloud-config.yaml`` (stage 2).

With ``default_profile: install`` a machine outside the plan gets ``nodes/default.ipxe`` and ``nodes/default/``
(no host name, no Rancher join). The Ignition documents come from ``ignition.render_json`` (every field checked),
the Rancher join from ``rancher_join.render_join``, the node records from ``node_plan.check_nodes``.
"""

import json

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import check_nodes
from ansible_collections.netboot.coreos.plugins.plugin_utils.ignition import check_config, render_json
from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import render_join

DISTROS = ("flatcar", "fedora-coreos", "coreos")
DEFAULT_PROFILES = ("exit", "install")
DEFAULT_NTP_CLIENTS = {"flatcar": "timesyncd", "coreos": "timesyncd", "fedora-coreos": "chronyd"}
# The settings and their defaults (the http_repo role passes every one; None: required)
SETTINGS = {
    "distro": None,
    "base_url": None,
    "ignition_spec": "3.3.0",
    "ssh_authorized_keys": [],
    "ntp_servers": [],
    "ntp_client": "",
    "timezone": "UTC",
    "update_strategy": "reboot",
    "update_group": "stable",
    "extra_units": [],
    "extra_files": [],
    "install_device": "/dev/sda",
    "install_oem": "",
    "console_args": [],
    "kernel_args": [],
    "default_profile": "exit",
    "rancher": {},
    "rancher_url": "",
    "image_verify": False,
}
# the suffix of the CMS signature the http_repo role writes beside each kernel and initrd for iPXE's imgverify
# (not .sig: that is the distribution's GPG signature, which the mirror keeps)
IMAGE_SIGNATURE_SUFFIX = ".ipxe.sig"
MANAGED = "# Ansible managed"
DEFAULT_NODE = {"name": "default", "hostname": None, "mac": None}
NTPD_TAIL = ("\ndriftfile /var/lib/ntp/ntp.drift\nrestrict default nomodify nopeer noquery limited kod\n"
             "restrict 127.0.0.1\nrestrict [::1]\n")
CHRONY_TAIL = "\ndriftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n"
NODE_IGN_STAGED = "/var/lib/netboot-install/node.ign"


def _q(value):
    """A YAML scalar as JSON (what the templates' ``to_json`` wrote): YAML reads it back unchanged."""
    return json.dumps(value)


def _settings(settings):
    if not isinstance(settings, dict):
        raise ValidationError("boot_files: settings must be a mapping, got %s" % type(settings).__name__)
    unknown = sorted(str(key) for key in settings if key not in SETTINGS)
    if unknown:
        raise ValidationError("boot_files: unknown setting(s) %s; valid: %s" % (", ".join(unknown), ", ".join(SETTINGS)))
    merged = dict(SETTINGS, **settings)
    missing = [key for key in SETTINGS if merged[key] is None]
    if missing:
        raise ValidationError("boot_files: settings %s are required" % ", ".join(missing))
    if merged["distro"] not in DISTROS:
        raise ValidationError("boot_files: distro %r is not one of %s" % (merged["distro"], ", ".join(DISTROS)))
    if merged["default_profile"] not in DEFAULT_PROFILES:
        raise ValidationError("boot_files: default_profile %r is not one of %s"
                              % (merged["default_profile"], ", ".join(DEFAULT_PROFILES)))
    if not isinstance(merged["image_verify"], bool):
        raise ValidationError("boot_files: image_verify must be true or false, got %r" % (merged["image_verify"],))
    merged["ntp_client"] = merged["ntp_client"] or DEFAULT_NTP_CLIENTS[merged["distro"]]
    merged["base_url"] = str(merged["base_url"])
    # the SSH keys and extras checked field by field (Ignition's rules, for cloud-config too); the extras in their
    # checked form (modes as integers, unset fields dropped), as node.ign gets them
    extras = check_config({"passwd": {"users": [{"name": "core", "ssh_authorized_keys": merged["ssh_authorized_keys"]}]},
                           "storage": {"files": merged["extra_files"]}, "systemd": {"units": merged["extra_units"]}})
    merged["extra_files"] = extras.get("storage", {}).get("files", [])
    merged["extra_units"] = extras.get("systemd", {}).get("units", [])
    fetched = [item["path"] for item in merged["extra_files"] if "source" in item.get("contents", {})]
    if merged["distro"] == "coreos" and fetched:
        raise ValidationError("boot_files: legacy CoreOS cloud-config cannot fetch file contents from a URL: give "
                              "contents.inline for %s" % ", ".join(fetched))
    return merged


def _release(release):
    if not isinstance(release, dict) or "version" not in release or not isinstance(release.get("artifacts"), dict):
        raise ValidationError("boot_files: release must be a mapping with version and artifacts (the result of "
                              "netboot.coreos.coreos_repo_sync), got %r" % (release,))
    return release


def _ntp_config(servers, tail):
    return "\n".join("server %s iburst" % server for server in servers) + tail


def ipxe_boot(s):
    """boot.ipxe: a planned MAC chains its own script, any other machine the default profile."""
    lines = ["#!ipxe", MANAGED,
             "# Planned nodes chain their own script (nodes/<mac>.ipxe); any other machine gets the default profile.",
             "# --replace: a node script that fails (e.g. a refused signature) never returns here as \"not planned\"",
             "chain --replace --autofree %s/nodes/${mac:hexhyp}.ipxe || goto unplanned" % s["base_url"], ":unplanned"]
    if s["default_profile"] == "install":
        lines += ["echo ${mac} is not in the node plan: installing with the generic configuration",
                  "chain --replace --autofree %s/nodes/default.ipxe" % s["base_url"]]
    else:
        lines += ["echo ${mac} is not in the node plan: booting from the local disk", "exit"]
    return "\n".join(lines) + "\n"


def ipxe_node(node, node_id, release, s):
    """nodes/<id>.ipxe: the release's PXE kernel and initrd with the distro's first-boot arguments."""
    release_url = "%s/%s" % (s["base_url"], release["version"])
    node_url = "%s/nodes/%s" % (s["base_url"], node_id)
    artifacts = release["artifacts"]
    if s["distro"] == "flatcar":
        args = ["flatcar.first_boot=1", "ignition.config.url=%s/install.ign" % node_url]
    elif s["distro"] == "fedora-coreos":
        args = ["coreos.live.rootfs_url=%s/%s" % (release_url, artifacts["rootfs"]), "ignition.firstboot",
                "ignition.platform.id=metal", "ignition.config.url=%s/install.ign" % node_url]
    else:
        args = ["coreos.first_boot=1", "cloud-config-url=%s/install.sh" % node_url]
    lines = [
        "#!ipxe", MANAGED,
        "# %s (%s): %s %s from RAM; the first boot installs to %s" % (
            node["name"], node["hostname"] or "unplanned MAC", s["distro"], release["version"], s["install_device"]),
        "kernel %s/%s initrd=%s %s" % (release_url, artifacts["kernel"], artifacts["initramfs"],
                                       " ".join(args + list(s["console_args"]) + list(s["kernel_args"]))),
        "initrd %s/%s" % (release_url, artifacts["initramfs"])]
    if not s["image_verify"]:
        return "\n".join(lines + ["boot", ""])
    checks, refusals = [], []
    for what, key in (("kernel", "kernel"), ("initrd", "initramfs")):
        url = "%s/%s" % (release_url, artifacts[key])
        checks.append("imgverify %s %s%s || goto %s-refused" % (artifacts[key], url, IMAGE_SIGNATURE_SUFFIX, what))
        refusals += [":%s-refused" % what,
                     "echo netboot: %s signature check failed: %s (https://ipxe.org/${errno:hexraw})" % (what, url),
                     "goto refused"]
    return "\n".join(lines + ["# image_verify: both must match their CMS signatures (the http_repo role signs them)"]
                     + checks + ["boot"] + refusals + [
                         ":refused",
                         "echo netboot: refusing to boot an image that does not match its signature %s: re-sync "
                         "the release with the http_repo role or check its signing certificate" % IMAGE_SIGNATURE_SUFFIX,
                         "echo netboot: powering off in 60 s",
                         "sleep 60",
                         "poweroff", ""])


def install_config(node_id, release, s):
    """Stage 1 (install.ign): fetch node.ign, install to disk from this mirror, reboot."""
    base, version, device = s["base_url"], release["version"], s["install_device"]
    if s["distro"] == "flatcar":
        command = "/usr/bin/flatcar-install -d %s -i %s -b %s -V %s%s" % (
            device, NODE_IGN_STAGED, base, version, (" -o " + s["install_oem"]) if s["install_oem"] else "")
    else:
        command = "/usr/bin/coreos-installer install %s --ignition-file %s --image-url %s/%s/%s" % (
            device, NODE_IGN_STAGED, base, version, release["artifacts"]["image"])
    unit = "\n".join([
        "[Unit]", "Description=Install %s %s to %s from %s" % (s["distro"], version, device, base),
        "Wants=network-online.target", "After=network-online.target", "",
        "[Service]", "Type=oneshot", "ExecStart=" + command, "ExecStart=/usr/bin/systemctl --no-block reboot", "",
        "[Install]", "WantedBy=multi-user.target", ""])
    return {
        "storage": {"files": [{"path": NODE_IGN_STAGED, "mode": 0o600,
                               "contents": {"source": "%s/nodes/%s/node.ign" % (base, node_id)}}]},
        "systemd": {"units": [{"name": "netboot-install.service", "enabled": True, "contents": unit}]},
    }


def _file(path, text):
    return {"path": path, "mode": 0o644, "overwrite": True, "contents": {"inline": text}}


def node_config(node, s):
    """Stage 2 (node.ign) before the extras: core's keys, host name, NTP, update settings, time zone."""
    files = []
    if node["hostname"]:
        files.append(_file("/etc/hostname", node["hostname"] + "\n"))
    servers, client = s["ntp_servers"], s["ntp_client"]
    if servers and client == "timesyncd":
        files.append(_file("/etc/systemd/timesyncd.conf.d/50-netboot.conf", "[Time]\nNTP=%s\n" % " ".join(servers)))
    elif servers and client == "ntpd":
        files.append(_file("/etc/ntp.conf", _ntp_config(servers, NTPD_TAIL)))
    elif servers and client == "chronyd":
        files.append(_file("/etc/chrony.conf", _ntp_config(servers, CHRONY_TAIL)))
    if s["distro"] == "flatcar":
        files.append(_file("/etc/flatcar/update.conf",
                           "GROUP=%s\nREBOOT_STRATEGY=%s\n" % (s["update_group"], s["update_strategy"])))
    else:
        files.append(_file("/etc/zincati/config.d/55-netboot-updates.toml",
                           "[updates]\nenabled = false\n" if s["update_strategy"] == "off"
                           else '[updates]\nstrategy = "immediate"\n'))
    if client == "ntpd":
        units = [{"name": "systemd-timesyncd.service", "mask": True}, {"name": "ntpd.service", "enabled": True}]
    elif client == "chronyd":
        units = [{"name": "chronyd.service", "enabled": True}]
    else:
        units = [{"name": "systemd-timesyncd.service", "enabled": True}]
    return {
        "passwd": {"users": [{"name": "core", "ssh_authorized_keys": list(s["ssh_authorized_keys"])}]},
        "storage": {"files": files, "links": [{"path": "/etc/localtime", "overwrite": True, "hard": False,
                                               "target": "../usr/share/zoneinfo/" + s["timezone"]}]},
        "systemd": {"units": units},
    }


def _extras(node, s):
    """The site's extra files and units, then the node's Rancher join (a planned node, with a token result)."""
    files, units, directories = list(s["extra_files"]), list(s["extra_units"]), []
    if s["rancher"] and node["mac"] is not None:
        join = render_join(s["rancher"], node, url=s["rancher_url"])
        directories = join["storage"]["directories"]
        files += join["storage"]["files"]
        units += join["systemd"]["units"]
    return files, units, directories


def node_ignition(node, s):
    config = node_config(node, s)
    files, units, directories = _extras(node, s)
    config["storage"]["files"] += files
    if directories:
        config["storage"]["directories"] = directories
    config["systemd"]["units"] += units
    return render_json(config, str(s["ignition_spec"]))


def install_script(node, node_id, release, s):
    """Stage 1 of legacy CoreOS: coreos-install from this mirror with the node's cloud-config, then reboot."""
    base, version, device = s["base_url"], release["version"], s["install_device"]
    return "\n".join([
        "#!/bin/sh", MANAGED,
        "# Stage 1 of %s (legacy CoreOS, run by coreos-cloudinit from cloud-config-url): install" % node["name"],
        "# CoreOS %s to %s from the local mirror with the node's cloud-config, then reboot." % (version, device),
        "set -eu",
        "curl -fsSL --retry 5 -o /tmp/cloud-config.yaml %s/nodes/%s/cloud-config.yaml" % (base, node_id),
        "coreos-install -d %s -c /tmp/cloud-config.yaml -b %s -V %s%s" % (
            device, base, version, (" -o " + s["install_oem"]) if s["install_oem"] else ""),
        "systemctl --no-block reboot", ""])


def cloud_config(node, s):
    """Stage 2 of legacy CoreOS: the cloud-config coreos-install copies to the installed system."""
    lines = ["#cloud-config", MANAGED,
             "# Stage 2 of %s (legacy CoreOS): coreos-install copies it to the installed system." % node["name"]]
    if node["hostname"]:
        lines.append("hostname: %s" % _q(node["hostname"]))
    lines += ["ssh_authorized_keys: %s" % _q(list(s["ssh_authorized_keys"])), "write_files:"]
    servers, client = s["ntp_servers"], s["ntp_client"]
    if servers and client == "timesyncd":
        lines += ["  - path: /etc/systemd/timesyncd.conf", '    permissions: "0644"',
                  "    content: %s" % _q("[Time]\nNTP=%s\n" % " ".join(servers))]
    elif servers and client == "ntpd":
        lines += ["  - path: /etc/ntp.conf", '    permissions: "0644"',
                  "    content: %s" % _q(_ntp_config(servers, NTPD_TAIL))]
    files, units, _directories = _extras(node, s)
    for item in files:
        lines += ["  - path: %s" % _q(item["path"]), "    permissions: %s" % _q("%04o" % item.get("mode", 0o644)),
                  "    content: %s" % _q(item.get("contents", {}).get("inline", ""))]
    lines += ["coreos:", "  update:", "    group: %s" % _q(s["update_group"]),
              "    reboot-strategy: %s" % _q(s["update_strategy"]), "  units:"]
    if client == "ntpd":
        lines += ["    - name: systemd-timesyncd.service", "      mask: true",
                  "    - name: ntpd.service", "      enable: true", "      command: start"]
    else:
        lines += ["    - name: systemd-timesyncd.service", "      command: restart"]
    lines += ["    - name: netboot-timezone.service", "      command: start", "      content: |",
              "        [Unit]", "        Description=Set the time zone to %s" % s["timezone"],
              "        [Service]", "        Type=oneshot",
              "        ExecStart=/usr/bin/timedatectl set-timezone %s" % s["timezone"]]
    for unit in units:
        lines.append("    - name: %s" % _q(unit["name"]))
        if unit.get("mask"):
            lines.append("      mask: true")
        if unit.get("enabled"):
            lines += ["      enable: true", "      command: start"]
        if unit.get("contents"):
            lines.append("      content: %s" % _q(unit["contents"]))
        if unit.get("dropins"):
            lines.append("      drop-ins:")
            for dropin in unit["dropins"]:
                lines += ["        - name: %s" % _q(dropin["name"]),
                          "          content: %s" % _q(dropin.get("contents", ""))]
    return "\n".join(lines) + "\n"


def node_files(node, release, s):
    """The files of one node (or of the default profile's pseudo node) under nodes/."""
    node_id = "default" if node["mac"] is None else node["mac"].replace(":", "-")
    prefix = "nodes/%s/" % node_id
    files = {"nodes/%s.ipxe" % node_id: ipxe_node(node, node_id, release, s)}
    if s["distro"] == "coreos":
        files[prefix + "install.sh"] = install_script(node, node_id, release, s)
        files[prefix + "cloud-config.yaml"] = cloud_config(node, s)
    else:
        files[prefix + "install.ign"] = render_json(install_config(node_id, release, s), str(s["ignition_spec"]))
        files[prefix + "node.ign"] = node_ignition(node, s)
    return files


def boot_files(nodes, release, settings):
    """{path relative to the repository root: content} of boot.ipxe and every planned node's boot files.

    ``nodes`` are node plan records (checked by ``node_plan.check_nodes``), ``release`` is ``{version,
    artifacts}`` (``rootfs`` and ``image`` for Fedora CoreOS), ``settings`` the keys of SETTINGS. Raises
    ValidationError naming the bad node, setting or Ignition field; returns nothing half-made.
    """
    s = _settings(settings)
    release = _release(release)
    planned = check_nodes(nodes, source="boot_files: nodes")
    files = {"boot.ipxe": ipxe_boot(s)}
    for node in planned + ([DEFAULT_NODE] if s["default_profile"] == "install" else []):
        files.update(node_files(node, release, s))
    return files
