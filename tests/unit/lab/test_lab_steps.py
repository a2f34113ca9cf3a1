"""tests/lab/lab.py without a lab: how a failing step is reported, and the failed task it names."""

import pytest

# tests/lab is on sys.path (tests/conftest.py)
import lab  # pylint: disable=import-error

PLAYBOOK_OUTPUT = """PLAY [Serve the boot repo] ***
TASK [netboot.coreos.http_repo : Sync the release into the repository] ***
ok: [lab-boot]
TASK [netboot.coreos.ipxe_dhcp : Copy the iPXE binaries into the TFTP root] ***
failed: [lab-boot] (item=ipxe.efi) => {"changed": false, "item": "ipxe.efi", "msg": "Destination /srv/tftp does not exist"}
PLAY RECAP ***
lab-boot : ok=39 changed=10 unreachable=0 failed=1
"""


def test_failed_task_names_the_task_host_and_message_only():
    assert lab.failed_task(PLAYBOOK_OUTPUT) == (
        "task 'netboot.coreos.ipxe_dhcp : Copy the iPXE binaries into the TFTP root' on lab-boot: "
        "Destination /srv/tftp does not exist")
    assert lab.failed_task("ERROR! the playbook: site.yml could not be found\n") == (
        "ERROR! the playbook: site.yml could not be found")


def test_a_failing_step_stops_with_its_name_and_the_tail_of_its_log(tmp_path, capsys):
    state = lab.Lab(str(tmp_path / "lab"))
    state.logs = str(tmp_path)

    def broken():
        state.log.write("".join("line %d\n" % n for n in range(40)))
        raise lab.LabError("`podman run` failed (exit 125): no such image")

    with pytest.raises(lab.StepFailed) as failed:
        state.step(5, 9, "boot server", broken)
    report = failed.value.report()
    assert "lab [5/9] boot server" in capsys.readouterr().out
    first, second = report.strip().splitlines()[:2]
    assert first == "lab: step 'boot server' failed: `podman run` failed (exit 125): no such image"
    assert second == "--- %s (last 25 lines) ---" % (tmp_path / "5-boot-server.log")
    # the last 25 lines: lines 17-39, then the error the step wrote to its log
    assert "line 39" in report and "line 16\n" not in report and "line 17\n" in report
    assert report.rstrip().endswith("or `make lab-down`")
