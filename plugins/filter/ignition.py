# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter netboot.coreos.ignition: a Butane-like config dict -> checked Ignition JSON (docs in ignition.yml)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.ignition import DEFAULT_SPEC, render_json


def ignition(config, spec=DEFAULT_SPEC):
    """The Ignition JSON document of ``config`` for Ignition spec ``spec``."""
    try:
        return render_json(config, str(spec))
    except ValidationError as exc:
        raise AnsibleFilterError("netboot.coreos.ignition: %s" % exc.msg)


class FilterModule(object):
    """Ignition rendering filters."""

    def filters(self):
        return {"ignition": ignition}
