"""netboot.coreos.file_tree through ansible-playbook on localhost: a real module run on a temporary tree."""

import os
import sys

from tests.conftest import run_playbook  # pylint: disable=import-error

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Tree
      netboot.coreos.file_tree:
        root: "{{ tree_root }}"
        files: "{{ tree_files }}"
        managed: ["nodes/*"]
        mode: "0640"
      no_log: "{{ tree_secret | default(false) }}"
      register: tree

    - name: Show the result
      ansible.builtin.debug:
        msg: "{{ tree | dict2items | selectattr('key', 'in', ['created', 'updated', 'removed']) | items2dict }}"
      when: not (tree_secret | default(false))
"""
TASK = "Tree"


def play(tmp_path, files, check=False, diff=False, env=None, **extra):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    return run_playbook(str(playbook), check=check, diff=diff, env=env,
                        extra_vars=dict(extra, tree_root=str(tmp_path / "root"), tree_files=files,
                                        ansible_python_interpreter=sys.executable))


def test_converges_idempotent_and_check_mode_predicts(tmp_path):
    files = {"nodes/a.ipxe": "a\n", "nodes/a/node.ign": "{}", "top.txt": "t\n"}
    predicted = play(tmp_path, files, check=True, diff=True)
    assert predicted.rc == 0, predicted.failure_messages() or predicted.stderr
    assert not (tmp_path / "root").exists()
    result = predicted.task_results(TASK)[0]
    assert result["changed"] and result["created"] == sorted(files)
    assert {"before_header": "nodes/a.ipxe", "after_header": "nodes/a.ipxe", "before": "", "after": "a\n"} \
        in result["diff"]
    real = play(tmp_path, files)
    assert real.rc == 0 and real.task_results(TASK)[0]["created"] == sorted(files)
    assert oct(os.stat(tmp_path / "root" / "nodes/a.ipxe").st_mode & 0o777) == "0o640"
    again = play(tmp_path, files)
    assert again.rc == 0 and again.stats["changed"] == 0
    smaller = {"top.txt": "t\n", "nodes/b.ipxe": "b\n"}
    predicted = play(tmp_path, smaller, check=True).task_results(TASK)[0]
    real = play(tmp_path, smaller).task_results(TASK)[0]
    assert predicted["removed"] == real["removed"] == ["nodes/a.ipxe", "nodes/a/", "nodes/a/node.ign"]
    assert predicted["created"] == real["created"] == ["nodes/b.ipxe"]
    assert sorted(os.listdir(tmp_path / "root" / "nodes")) == ["b.ipxe"]


def test_bad_path_fails_naming_it_and_writes_nothing(tmp_path):
    run = play(tmp_path, {"nodes/ok": "x", "../escape": "y", "/etc/evil": "z"})
    assert run.rc != 0
    [message] = run.failure_messages()
    assert "'../escape' contains '..'" in message and "'/etc/evil' is absolute" in message
    assert "nothing was written" in message and "Traceback" not in run.stdout
    assert not (tmp_path / "root").exists()


def test_no_log_hides_the_contents_even_verbose(tmp_path):
    files = {"nodes/a/node.ign": "token=regtoken-secret\n"}
    run = play(tmp_path, files, diff=True, env={"ANSIBLE_VERBOSITY": "3"}, tree_secret=True)
    assert run.rc == 0, run.stderr
    assert (tmp_path / "root" / "nodes/a/node.ign").read_text() == "token=regtoken-secret\n"
    assert "regtoken-secret" not in run.stdout + run.stderr
    shown = play(tmp_path, {"nodes/a/node.ign": "token=other-secret\n"}, tree_secret=False)
    assert shown.task_results(TASK)[0]["updated"] == ["nodes/a/node.ign"]
    result = shown.task_results(TASK)[0]
    # the invocation echoes each file's size, not its content
    assert result["invocation"]["module_args"]["files"] == {"nodes/a/node.ign": "(19 characters)"}
    assert "other-secret" not in repr(result)
