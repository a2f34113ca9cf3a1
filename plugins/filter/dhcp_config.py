# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters netboot.coreos.dhcp_config and netboot.coreos.dhcp_kea (documented in their .yml files);
the logic is in plugin_utils/dhcp_config.py."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.dhcp_config import build_dhcp_config, kea_fragment


def dhcp_config(settings, nodes=None, facts=None, prefix="ipxe_dhcp_", fail=True):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("dhcp_config: the input must be a mapping of settings; got %s"
                                 % type(settings).__name__)
    try:
        return build_dhcp_config(settings, nodes=nodes, facts=facts, prefix=prefix)
    except ValidationError as exc:
        if not fail:
            return {"error": exc.msg}
        raise AnsibleFilterError("dhcp_config: %s" % exc.msg)


def dhcp_kea(config):
    return kea_fragment(config)


class FilterModule(object):
    def filters(self):
        return {"dhcp_config": dhcp_config, "dhcp_kea": dhcp_kea}
