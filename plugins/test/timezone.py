# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test netboot.coreos.timezone (documented in timezone.yml); the logic is in plugin_utils/tz_database.py."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.tz_database import is_timezone


def timezone(name):
    try:
        return is_timezone(name)
    except ValidationError as exc:
        raise AnsibleFilterError("timezone: %s" % exc.msg)


class TestModule(object):
    def tests(self):
        return {"timezone": timezone}
