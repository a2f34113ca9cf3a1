# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter netboot.coreos.node_plan (documented in node_plan.yml); the logic is in module_utils/node_plan.py."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.node_plan import build_node_plan


def node_plan(nodes, cluster_name=None, count=None, name_format=None, ip_range=None, hostname_format=None,
              start=1):
    try:
        return build_node_plan(nodes, cluster_name=cluster_name, count=count, name_format=name_format,
                               ip_range=ip_range, hostname_format=hostname_format, start=start)
    except ValidationError as exc:
        raise AnsibleFilterError("node_plan: %s" % exc.msg)


class FilterModule(object):
    def filters(self):
        return {"node_plan": node_plan}
