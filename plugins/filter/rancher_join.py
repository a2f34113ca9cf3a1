# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter netboot.coreos.rancher_join (documented in rancher_join.yml); the logic is in plugin_utils/rancher_join.py."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.rancher_join import DEFAULT_BIN_PREFIX, render_join


def rancher_join(token_result, node, url=None, bin_prefix=DEFAULT_BIN_PREFIX):
    try:
        return render_join(token_result, node, url=url, bin_prefix=bin_prefix)
    except ValidationError as exc:
        raise AnsibleFilterError(exc.msg)


class FilterModule(object):
    def filters(self):
        return {"rancher_join": rancher_join}
