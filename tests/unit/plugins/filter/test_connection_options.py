"""connection_options keeps what is set (false and 0 included) and drops null and empty strings."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.filter.connection_options import connection_options


def test_unset_values_are_dropped_and_false_is_kept():
    assert connection_options({"hostname": "", "port": None, "validate_certs": False, "proxy_port": 0,
                               "username": "svc"}) == {"validate_certs": False, "proxy_port": 0, "username": "svc"}


def test_nothing_set_is_an_empty_dict():
    assert connection_options({"hostname": None, "password": ""}) == {}


def test_not_a_dict_names_what_it_got():
    with pytest.raises(AnsibleFilterError, match="expects a dict of option: value, got list"):
        connection_options(["hostname"])
