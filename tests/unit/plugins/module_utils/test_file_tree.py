"""module_utils/file_tree: a tree under a temporary root made equal to {path: content}."""

import os
import stat

import pytest

from ansible_collections.netboot.coreos.plugins.module_utils import file_tree
from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError
from ansible_collections.netboot.coreos.plugins.module_utils.file_tree import sync_tree

FILES = {"boot.ipxe": "#!ipxe\n", "nodes/a.ipxe": "a\n", "nodes/a/node.ign": "{}", "nodes/b.ipxe": "b\n",
         "nodes/b/node.ign": "{\"b\": 1}"}
MANAGED = ["boot.ipxe", "nodes/*"]


def tree(root):
    found = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path) as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_create_then_nothing_changes(tmp_path):
    root = str(tmp_path / "repo" / "coreos")
    changed, result = sync_tree(root, FILES, MANAGED)
    assert changed and result["created"] == sorted(FILES) and result["updated"] == [] and result["removed"] == []
    assert tree(root) == FILES
    assert mode_of(os.path.join(root, "nodes/a/node.ign")) == 0o644 and mode_of(os.path.join(root, "nodes")) == 0o755
    assert sync_tree(root, FILES, MANAGED) == (False, {"root": root, "created": [], "updated": [], "removed": [],
                                                       "unchanged": 5})


def test_only_what_differs_is_written(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    untouched = os.stat(os.path.join(root, "nodes/a.ipxe")).st_ino
    changed, result = sync_tree(root, dict(FILES, **{"nodes/b.ipxe": "B\n"}), MANAGED)
    assert changed and result["updated"] == ["nodes/b.ipxe"] and result["created"] == [] and result["unchanged"] == 4
    assert os.stat(os.path.join(root, "nodes/a.ipxe")).st_ino == untouched  # not rewritten
    assert tree(root)["nodes/b.ipxe"] == "B\n"


def test_write_is_atomic_rename(tmp_path, monkeypatch):
    """A new file appears whole under its name: written to a hidden temporary file, then renamed."""
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    renames = []
    real_rename = os.rename

    def spy(src, dst):
        renames.append((os.path.dirname(src), os.path.basename(src), dst))
        with open(src) as handle:
            assert handle.read() == "new\n"  # complete before the rename
        real_rename(src, dst)

    monkeypatch.setattr(file_tree.os, "rename", spy)
    sync_tree(root, dict(FILES, **{"nodes/a.ipxe": "new\n"}), MANAGED)
    [(directory, name, dst)] = renames
    assert directory == os.path.join(root, "nodes") and name.startswith(".a.ipxe.") and dst.endswith("nodes/a.ipxe")
    assert sorted(os.listdir(os.path.join(root, "nodes"))) == ["a", "a.ipxe", "b", "b.ipxe"]


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)

    def refuse(src, dst):
        raise OSError(28, "No space left on device", dst)

    monkeypatch.setattr(file_tree.os, "rename", refuse)
    with pytest.raises(NetbootError, match="No space left on device"):
        sync_tree(root, dict(FILES, **{"nodes/a.ipxe": "new\n"}), MANAGED)
    assert sorted(os.listdir(os.path.join(root, "nodes"))) == ["a", "a.ipxe", "b", "b.ipxe"]
    assert tree(root)["nodes/a.ipxe"] == "a\n"


def test_unlisted_managed_files_go_unmanaged_stay(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    os.makedirs(os.path.join(root, "42.1"))
    (tmp_path / "42.1" / "kernel").write_text("k")
    (tmp_path / "nodes" / ".x.ipxe.abc.tmp").write_text("left by a killed run")
    kept = {k: v for k, v in FILES.items() if not k.startswith("nodes/b")}
    changed, result = sync_tree(root, kept, MANAGED)
    assert changed
    assert result["removed"] == ["nodes/.x.ipxe.abc.tmp", "nodes/b.ipxe", "nodes/b/", "nodes/b/node.ign"]
    assert tree(root) == dict(kept, **{"42.1/kernel": "k"})
    assert not os.path.exists(os.path.join(root, "nodes/b"))


def test_empty_list_removes_every_managed_file_but_keeps_the_rest(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    (tmp_path / "index.html").write_text("x")
    changed, result = sync_tree(root, {}, MANAGED)
    assert changed and "boot.ipxe" in result["removed"]
    assert tree(root) == {"index.html": "x"} and os.path.isdir(os.path.join(root, "nodes"))


def test_no_managed_patterns_remove_nothing(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    assert sync_tree(root, {}, [])[0] is False
    assert tree(root) == FILES


def test_check_mode_predicts_and_changes_nothing(tmp_path):
    root = str(tmp_path / "repo")
    predicted = sync_tree(root, FILES, MANAGED, check_mode=True)
    assert not os.path.exists(root)
    assert predicted == sync_tree(root, FILES, MANAGED)
    other = {"boot.ipxe": "#!ipxe\nexit\n", "nodes/c.ipxe": "c\n"}
    before = tree(root)
    predicted = sync_tree(root, other, MANAGED, check_mode=True)
    assert tree(root) == before
    assert predicted == sync_tree(root, other, MANAGED)
    assert predicted[1]["removed"] == ["nodes/a.ipxe", "nodes/a/", "nodes/a/node.ign", "nodes/b.ipxe", "nodes/b/",
                                       "nodes/b/node.ign"]


def test_diff_mode_shows_before_and_after(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    changed, result = sync_tree(root, {"boot.ipxe": "#!ipxe\nexit\n", "nodes/a.ipxe": "a\n",
                                       "nodes/a/node.ign": "{}", "nodes/b.ipxe": "b\n",
                                       "nodes/b/node.ign": "{\"b\": 1}", "nodes/c.ipxe": "c\n"},
                                MANAGED, check_mode=True, diff=True)
    assert changed
    assert {"before_header": "boot.ipxe", "after_header": "boot.ipxe", "before": "#!ipxe\n",
            "after": "#!ipxe\nexit\n"} in result["diff"]
    assert {"before_header": "nodes/c.ipxe", "after_header": "nodes/c.ipxe", "before": "", "after": "c\n"} in result["diff"]
    assert "diff" not in sync_tree(root, FILES, MANAGED)[1]


def test_results_never_carry_contents(tmp_path):
    secret = "token=regtoken-secret\n"
    root = str(tmp_path)
    sync_tree(root, {"nodes/a/node.ign": "old"}, MANAGED)
    for check_mode in (True, False):
        _changed, result = sync_tree(root, {"nodes/a/node.ign": secret}, MANAGED, check_mode=check_mode)
        assert "regtoken-secret" not in repr(result)


def test_mode_and_owner_are_fixed_in_place(tmp_path):
    root = str(tmp_path)
    sync_tree(root, FILES, MANAGED)
    os.chmod(os.path.join(root, "nodes/a.ipxe"), 0o600)
    os.chmod(os.path.join(root, "nodes/a"), 0o700)
    inode = os.stat(os.path.join(root, "nodes/a.ipxe")).st_ino
    changed, result = sync_tree(root, FILES, MANAGED, owner=str(os.getuid()), group=str(os.getgid()))
    assert changed and result["updated"] == ["nodes/a.ipxe", "nodes/a/"]
    assert mode_of(os.path.join(root, "nodes/a.ipxe")) == 0o644 and mode_of(os.path.join(root, "nodes/a")) == 0o755
    assert os.stat(os.path.join(root, "nodes/a.ipxe")).st_ino == inode
    assert sync_tree(root, FILES, MANAGED, mode="0644")[0] is False
    changed, result = sync_tree(root, FILES, MANAGED, mode="0640", directory_mode=0o750)
    assert changed and mode_of(os.path.join(root, "boot.ipxe")) == 0o640


@pytest.mark.parametrize("files,message", [
    ({"/etc/passwd": "x"}, "'/etc/passwd' is absolute"),
    ({"nodes/../../etc/passwd": "x"}, "'nodes/../../etc/passwd' contains '..'"),
    ({"nodes//a": "x"}, "'nodes//a' has an empty or '.' part"),
    ({"nodes/./a": "x"}, "'nodes/./a' has an empty or '.' part"),
    ({"nodes/": "x"}, "'nodes/' has an empty or '.' part"),
    ({"": "x"}, "'' not a non-empty string"),
    ({"a\0b": "x"}, "contains a NUL character"),
    ({"nodes/a": 1}, "the contents of nodes/a must be strings"),
    ({"x": "1", "x/y": "2"}, "file_tree: x/y lie(s) under a path that is also listed as a file"),
])
def test_a_bad_path_fails_naming_it_and_writes_nothing(tmp_path, files, message):
    root = str(tmp_path / "repo")
    good = dict(FILES, **files)
    with pytest.raises(ValidationError) as error:
        sync_tree(root, good, MANAGED)
    assert message in error.value.msg and "nothing was written" in error.value.msg
    assert not os.path.exists(root)


def test_every_bad_path_is_named(tmp_path):
    with pytest.raises(ValidationError) as error:
        sync_tree(str(tmp_path), {"/a": "", "../b": "", "ok": ""}, ["../*"])
    assert "'/a' is absolute" in error.value.msg and "'../b' contains '..'" in error.value.msg
    assert "managed pattern '../*' contains '..'" in error.value.msg
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("kwargs,message", [
    ({"root": "relative/dir"}, "root 'relative/dir' must be an absolute path"),
    ({"mode": "rw-r--r--"}, "mode 'rw-r--r--' is not a permission mode"),
    ({"directory_mode": "0999"}, "directory_mode '0999' is not a permission mode"),
    ({"owner": "no-such-user-here"}, "owner 'no-such-user-here' does not exist on this host"),
    ({"group": "no-such-group-here"}, "group 'no-such-group-here' does not exist on this host"),
])
def test_bad_options(tmp_path, kwargs, message):
    args = dict({"root": str(tmp_path / "repo"), "files": FILES, "managed": MANAGED}, **kwargs)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        sync_tree(**args)
    assert not os.path.exists(str(tmp_path / "repo"))


def test_a_directory_in_the_way_fails_before_writing(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "nodes", "a.ipxe"))
    with pytest.raises(ValidationError, match="nodes/a.ipxe is a directory on the host"):
        sync_tree(root, FILES, MANAGED)
    assert tree(root) == {}
    (tmp_path / "blocked").write_text("x")
    with pytest.raises(ValidationError, match="blocked exists and is not a directory"):
        sync_tree(root, {"blocked/file": "x"}, MANAGED)


def test_symlinks_are_replaced_not_followed(tmp_path):
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.write_text("keep")
    sync_tree(str(root), FILES, MANAGED)
    os.unlink(str(root / "nodes/a.ipxe"))
    os.symlink(str(outside), str(root / "nodes/a.ipxe"))
    os.symlink(str(tmp_path), str(root / "nodes/stale-link"))
    changed, result = sync_tree(str(root), FILES, MANAGED)
    assert changed and result["updated"] == ["nodes/a.ipxe"] and result["removed"] == ["nodes/stale-link"]
    assert outside.read_text() == "keep" and not os.path.islink(str(root / "nodes/a.ipxe"))


def test_validate_checks_each_new_content_before_it_replaces_anything(tmp_path):
    root = str(tmp_path / "etc")
    checker = str(tmp_path / "check.sh")
    with open(checker, "w") as handle:
        # accepts a file holding "ok", rejects anything else, naming the file it was given
        handle.write('#!/bin/sh\ngrep -qx ok "$1" || { echo "bad line 1 of $1" >&2; exit 3; }\n')
    os.chmod(checker, 0o755)
    command = checker + " %s"
    assert sync_tree(root, {"a.conf": "ok\n"}, validate=command)[0]
    with pytest.raises(NetbootError) as failed:
        sync_tree(root, {"a.conf": "broken\n"}, validate=command)
    assert "a.conf failed the validate command (exit 3)" in failed.value.msg
    assert "bad line 1 of a.conf" in failed.value.msg  # the temporary file's name is the target's in the message
    assert tree(root) == {"a.conf": "ok\n"}  # the old content stays, no temporary file is left
    # check mode predicts without running it; an unchanged file is not validated again
    assert sync_tree(root, {"a.conf": "broken\n"}, validate=command, check_mode=True)[0]
    assert sync_tree(root, {"a.conf": "ok\n"}, validate=checker + " %s-never-there") == \
        (False, {"root": root, "created": [], "updated": [], "removed": [], "unchanged": 1})


@pytest.mark.parametrize("validate, message", [
    ("dnsmasq --test", "must be a command with %s"),
    ("dnsmasq 'unclosed %s", "is not a valid command line"),
    ("/nonexistent/checker %s", "cannot run the validate command /nonexistent/checker for a.conf"),
])
def test_bad_validate_commands_fail_clearly(tmp_path, validate, message):
    with pytest.raises(NetbootError, match=message):
        sync_tree(str(tmp_path / "etc"), {"a.conf": "x\n"}, validate=validate)
    assert not os.path.exists(str(tmp_path / "etc" / "a.conf"))


def test_invocation_shows_sizes_not_contents():
    shown = file_tree.invocation_files({"nodes/a/node.ign": "token=secret\n", "bad": 3})
    assert shown == {"nodes/a/node.ign": "(13 characters)", "bad": 3}
    assert file_tree.invocation_files("not a mapping") == "not a mapping"
