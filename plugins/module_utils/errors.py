# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions shared by the collection's clients (vCenter, Rancher, release mirror).

Every client raises a subclass of NetbootError whose message is one line that says what was wrong and what
to do; the module's main() maps them to fail_json in one place (see module_runner.run_module).
"""


class NetbootError(Exception):
    """An expected failure with a message fit for the user (no traceback needed)."""

    def __init__(self, msg, **details):
        super(NetbootError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ValidationError(NetbootError):
    """The user's input is invalid; nothing was changed."""


class NotFoundError(NetbootError):
    """A named object does not exist; the message lists what does."""

    def __init__(self, kind, name, available, where=None):
        names = sorted(str(a) for a in available)
        shown = ", ".join(names[:20]) + (" (and %d more)" % (len(names) - 20) if len(names) > 20 else "")
        location = " in %s" % where if where else ""
        msg = "%s '%s' not found%s; available: %s" % (kind, name, location, shown or "none")
        super(NotFoundError, self).__init__(msg, kind=kind, name=name, available=names)
        self.kind = kind
        self.name = name
        self.available = names
