# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where modules turn the clients' exceptions into fail_json."""

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError


def run_module(module, work):
    """Call ``work()`` which returns ``(changed, result)``; exit or fail the module accordingly.

    ``result`` may hold ``diff`` (before/after) and ``warnings``; a NetbootError becomes one clear
    ``msg`` with its details and no traceback.
    """
    try:
        changed, result = work()
    except NetbootError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(changed=changed, **result)
