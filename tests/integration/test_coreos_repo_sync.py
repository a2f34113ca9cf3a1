"""coreos_repo_sync run as Ansible runs it (module subprocess, playbook) against the loopback release mirror."""

import json
import os
import subprocess
import sys
import time

from conftest import REPO, ansible_env, run_module, run_playbook, shared_path

FLATCAR_FPR = "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A"
FIXTURE = os.path.join(REPO, "tests", "fixtures", "release_mirror.py")


def module_args(mirror, dest, base, **extra):
    args = dict(dest=str(dest), base_url=base, gpg_key=mirror.key_url(), gpg_fingerprint=mirror.key.fingerprint)
    args.update(extra)
    return args


def test_module_syncs_then_reruns_unchanged(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    result = run_module("coreos_repo_sync", module_args(release_mirror, dest, base))
    assert result.rc == 0, result
    assert result["changed"] and result["version"] == "3975.2.0"
    assert result["artifacts"]["image"] == "flatcar_production_image.bin.bz2"
    assert (dest / "3975.2.0" / "flatcar_production_image.bin.bz2.sig").exists()
    again = run_module("coreos_repo_sync", module_args(release_mirror, dest, base))
    assert again.rc == 0 and again["changed"] is False and again["fetched"] == []


def test_check_and_diff_mode_report_without_acting(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    dest = tmp_path / "repo"
    result = run_module("coreos_repo_sync", module_args(release_mirror, dest, base), check_mode=True, diff=True)
    assert result.rc == 0 and result["changed"]
    assert result["diff"] == {"before": {"current": None, "versions": []},
                              "after": {"current": "3975.2.0", "versions": ["3975.2.0"]}}
    assert not dest.exists()


def test_errors_are_one_clear_line_without_traceback(release_mirror, tmp_path):
    base = release_mirror.add_flatcar("3975.2.0")
    for args, expected in [
        (dict(channel="edge"), "unknown channel 'edge' for flatcar; valid: stable, beta, alpha, lts"),
        (dict(version="1.0.0"), "flatcar version '1.0.0' not found"),
        (dict(gpg_fingerprint=FLATCAR_FPR), "not the pinned %s" % FLATCAR_FPR),
    ]:
        result = run_module("coreos_repo_sync", module_args(release_mirror, tmp_path / "repo", base, **args))
        assert result.rc == 1 and result["failed"], result
        assert expected in result["msg"] and "\n" not in result["msg"]
        assert "Traceback" not in result.stderr and "exception" not in result
    assert not (tmp_path / "repo" / "current").exists()


def test_outdated_flatcar_key_is_refetched_once_then_reported(release_mirror, tmp_path):
    """The official key pinned to Flatcar's fingerprint, but this copy lacks the subkey that signed."""
    release_mirror.publish_key("Flatcar_Image_Signing_Key.asc",
                               shared_path("signing-keys", "flatcar-image-signing-key-2024.asc"))
    base = release_mirror.add_flatcar("3975.2.0")
    args = dict(dest=str(tmp_path / "repo"), base_url=base,
                gpg_key=release_mirror.key_url("Flatcar_Image_Signing_Key.asc"))
    result = run_module("coreos_repo_sync", args)
    assert result.rc == 1
    assert "which gpg_key %s does not contain (even after fetching it again)" % args["gpg_key"] in result["msg"]
    assert result["key_id"] == release_mirror.key.signing_subkey[-16:]
    assert len(release_mirror.requested("/keys/Flatcar_Image_Signing_Key.asc")) == 2
    assert not (tmp_path / "repo" / "3975.2.0").exists()


def test_playbook_second_run_changes_nothing(release_mirror, tmp_path):
    base = release_mirror.add_fcos("41.20241027.3.0")
    playbook = tmp_path / "sync.yml"
    playbook.write_text("""
- name: Mirror Fedora CoreOS
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Sync the stream's current release
      netboot.coreos.coreos_repo_sync:
        distro: fedora-coreos
        stream: stable
        dest: "{{ dest }}"
        base_url: "{{ base }}"
        gpg_key: "{{ key }}"
      register: synced
    - name: Check the result
      ansible.builtin.assert:
        that:
          - synced.artifacts.rootfs is search('live-rootfs')
          - synced.path == dest + '/' + synced.version
""")
    extra = dict(dest=str(tmp_path / "repo"), base=base, key=release_mirror.key_path,
                 ansible_python_interpreter=sys.executable)
    first = run_playbook(str(playbook), extra_vars=extra)
    assert first.rc == 0, first.failure_messages() or first.stderr
    assert first.stats["changed"] == 1
    second = run_playbook(str(playbook), extra_vars=extra)
    assert second.rc == 0 and second.stats["changed"] == 0


def test_fixture_command_serves_a_signed_release(tmp_path):
    """The CLI others use (molecule): prints KEY=VALUE lines, serves until killed."""
    proc = subprocess.Popen([sys.executable, FIXTURE, "--root", str(tmp_path / "m"), "--port", "0",
                             "--distro", "flatcar", "--version", "3975.2.0"], stdout=subprocess.PIPE, text=True)
    try:
        settings = {}
        while "ARCH" not in settings:  # the last line printed
            key, value = proc.stdout.readline().strip().split("=", 1)
            settings[key] = value
        assert settings["BASE_URL"].endswith("/flatcar/stable") and os.path.isfile(settings["GPG_KEY"])
        result = run_module("coreos_repo_sync", dict(dest=str(tmp_path / "repo"), base_url=settings["BASE_URL"],
                                                     gpg_key=settings["GPG_KEY"],
                                                     gpg_fingerprint=settings["GPG_FINGERPRINT"]))
        assert result.rc == 0 and result["version"] == "3975.2.0", result
    finally:
        proc.terminate()
        deadline = time.time() + 10
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
    assert proc.returncode == 0


def _processes_mentioning(text):
    """PIDs of the processes whose command line contains ``text``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_a_killed_run_leaves_no_process_and_no_temporary_directory(release_mirror, tmp_path):
    """An AWX job cancelled mid-verification: no gpg-agent, no gpgv, no temporary GnuPG home left behind."""
    image = "flatcar_production_image.bin.bz2"
    base = release_mirror.add_flatcar("3975.2.0", sizes={"image": 4 * 1024 * 1024})
    release_mirror.fault("/flatcar/stable/amd64-usr/3975.2.0/" + image, "stall", delay=60)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args(release_mirror, tmp_path / "repo", base,
                                                                        timeout=90, retries=0)}))
    env = ansible_env({"TMPDIR": str(scratch)})
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "plugins", "modules", "coreos_repo_sync.py"),
                             str(args_file)], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while not release_mirror.requested(image) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)  # half the image is in: the streamed signature check is running
        assert proc.poll() is None and release_mirror.requested(image), proc.stderr.read() if proc.poll() else ""
        verifying = [pid for pid in _processes_mentioning(str(tmp_path)) if pid != proc.pid]
        assert verifying, "a signature check runs while the image downloads"
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.time() + 10
    while _processes_mentioning(str(tmp_path)) and time.time() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(tmp_path)) == [], "no gpg, gpgv or gpg-agent outlives the run"
    assert os.listdir(str(scratch)) == [], "no temporary GnuPG home or key file outlives the run"
