# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time zone names checked against the tz database on the controller.

Python's zoneinfo reads the system's database (/usr/share/zoneinfo) and falls back to the ``tzdata`` package
(requirements.txt), so an execution environment without the OS package still has one. The nodes' OS ships
the same IANA names; a name the controller does not know would leave the node's /etc/localtime dangling.
"""

import zoneinfo

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError

_ALWAYS_THERE = "UTC"


def is_timezone(name):
    """True when ``name`` is a zone of the tz database; ValidationError when the controller has no database."""
    if not isinstance(name, str):
        return False
    try:
        zoneinfo.ZoneInfo.no_cache(name)
        return True
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    try:
        zoneinfo.ZoneInfo.no_cache(_ALWAYS_THERE)
    except zoneinfo.ZoneInfoNotFoundError:
        raise ValidationError("no tz database on the controller to check time zone %r against: install the OS "
                              "package tzdata or the Python package tzdata (requirements.txt)" % (name,))
    return False
