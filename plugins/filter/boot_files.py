# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter netboot.coreos.boot_files (documented in boot_files.yml); the logic is in plugin_utils/boot_files.py."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.boot_files import boot_files as render_boot_files


def boot_files(nodes, release, settings):
    try:
        return render_boot_files(nodes, release, settings)
    except ValidationError as exc:
        raise AnsibleFilterError(exc.msg)


class FilterModule:
    def filters(self):
        return {"boot_files": boot_files}
