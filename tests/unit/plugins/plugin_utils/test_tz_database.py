"""Time zone names against the tz database (plugin_utils/tz_database.py, test plugin netboot.coreos.timezone)."""

import sys
import zoneinfo

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netboot.coreos.plugins.module_utils.errors import ValidationError
from ansible_collections.netboot.coreos.plugins.plugin_utils.tz_database import is_timezone
from ansible_collections.netboot.coreos.plugins.test.timezone import timezone


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_tz_database_zones(name):
    assert is_timezone(name) is True


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "europe/berlin", "Europe/../etc", "/etc/passwd",
                                  "zone.tab", "", "Europe/Berlin ", None, 1])
def test_names_that_are_not_zones(name):
    assert is_timezone(name) is False


@pytest.fixture
def no_system_database(tmp_path):
    """A controller without /usr/share/zoneinfo (an execution environment image without the OS tzdata)."""
    zoneinfo.reset_tzpath([str(tmp_path)])
    yield
    zoneinfo.reset_tzpath()


def test_the_python_tzdata_package_serves_when_the_system_has_no_database(no_system_database):
    # the fallback that requirements.txt installs
    import tzdata  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    assert is_timezone("Europe/Berlin") is True and is_timezone("Mars/Olympus") is False


def test_no_database_at_all_is_said_instead_of_calling_every_name_wrong(no_system_database, monkeypatch):
    for name in ["tzdata"] + [m for m in sys.modules if m.startswith("tzdata.")]:
        monkeypatch.setitem(sys.modules, name, None)  # and no tzdata package either: its imports fail
    with pytest.raises(ValidationError, match="no tz database on the controller to check time zone 'Europe/Berlin'"):
        is_timezone("Europe/Berlin")
    with pytest.raises(AnsibleFilterError, match="timezone: no tz database on the controller"):
        timezone("Europe/Berlin")
