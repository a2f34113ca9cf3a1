# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter netboot.coreos.connection_options (documented in connection_options.yml)."""

from ansible.errors import AnsibleFilterError


def connection_options(options):
    """The options that are set: None and empty strings are dropped, so lower layers of precedence apply."""
    if not isinstance(options, dict):
        raise AnsibleFilterError("connection_options expects a dict of option: value, got %s"
                                 % type(options).__name__)
    return {key: value for key, value in options.items() if value is not None and value != ""}


class FilterModule(object):
    def filters(self):
        return {"connection_options": connection_options}
