# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tree of files under one root made equal to {relative path: content}, in one pass (netboot.coreos.file_tree).

``plan_tree`` reads what is there and compares: files to create, files whose content, mode or owner differ,
managed files (relative paths matching one of the ``managed`` glob patterns, where ``*`` also matches ``/``)
that are no longer listed, and the directories those leave empty. ``apply_tree`` then writes only what differs,
each file atomically (a temporary file in the same directory, renamed over the old one), and removes the
rest. Every path is checked before anything is touched: a bad path fails naming it, and nothing is written.
Results and errors name paths, never contents (contents may hold secrets); only the diff carries contents.
"""

import errno
import fnmatch
import grp
import os
import pwd
import shlex
import stat
import subprocess
import tempfile

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError, ValidationError

GLOB_CHARS = "*?["


class Plan:
    """What a run changes: relative paths (directories end in '/'), and the diff of each."""

    def __init__(self, root, want_diff=False):
        self.root = root
        self.want_diff = want_diff
        self.create = []      # (path, content) of files that do not exist
        self.update = []      # (path, content or None when only mode or owner differ)
        self.remove = []      # managed files no longer listed
        self.prune = []       # directories the removals leave empty (deepest first)
        self.directories = []  # missing directories to create, or existing ones whose mode or owner differ
        self.unchanged = 0
        self.diff = []

    def add_diff(self, header, before, after):
        """Record one entry of the diff (``before`` may be a callable: read only in diff mode)."""
        if self.want_diff:
            self.diff.append({"before_header": header, "after_header": header,
                              "before": before() if callable(before) else before, "after": after})

    @property
    def changed(self):
        return bool(self.create or self.update or self.remove or self.prune or self.directories)

    def result(self):
        result = {
            "root": self.root,
            "created": sorted(path for path, _content in self.create),
            "updated": sorted([path for path, _content in self.update]
                              + [path + "/" for path, exists in self.directories if exists]),
            "removed": sorted(self.remove + [path + "/" for path in self.prune]),
            "unchanged": self.unchanged,
        }
        if self.want_diff:
            result["diff"] = self.diff
        return result


def _path_problem(path):
    if not isinstance(path, str) or not path:
        return "not a non-empty string"
    if "\0" in path:
        return "contains a NUL character"
    if path.startswith("/"):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "contains '..'"
    if "." in parts or "" in parts:
        return "has an empty or '.' part"
    return None


def check_paths(files, managed):
    """ValidationError naming every bad path, pattern or content before anything is touched."""
    if not isinstance(files, dict):
        raise ValidationError("file_tree: files must be a mapping of relative path to content, got %s"
                              % type(files).__name__)
    bad = ["%r %s" % (path, problem) for path, problem in ((p, _path_problem(p)) for p in files) if problem]
    bad += ["managed pattern %r %s" % (pattern, problem)
            for pattern, problem in ((p, _path_problem(p)) for p in managed) if problem]
    if bad:
        raise ValidationError("file_tree: bad path(s): %s; give paths relative to root, without '..', '.' or empty "
                              "parts (nothing was written)" % "; ".join(sorted(bad)), paths=sorted(bad))
    not_text = sorted(path for path, content in files.items() if not isinstance(content, str))
    if not_text:
        raise ValidationError("file_tree: the contents of %s must be strings (nothing was written)"
                              % ", ".join(not_text))
    listed = set(files)
    clashes = sorted(path for path in files
                     if any("/".join(path.split("/")[:depth]) in listed for depth in range(1, path.count("/") + 1)))
    if clashes:
        raise ValidationError("file_tree: %s lie(s) under a path that is also listed as a file (nothing was written)"
                              % ", ".join(clashes))


def parse_mode(value, what):
    """An integer mode from an integer or an octal string such as '0644'."""
    if isinstance(value, str) and value.strip().isdigit() and set(value.strip()) <= set("01234567"):
        value = int(value.strip(), 8)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise ValidationError("file_tree: %s %r is not a permission mode; give an octal string such as '0644'"
                              % (what, value))
    return value


def resolve_owner(owner, group):
    """(uid, gid) of the names or numbers given; -1 where not given (left as the process makes it)."""
    def lookup(value, getter, what):
        if value is None or value == "":
            return -1
        if isinstance(value, int) or str(value).isdigit():
            return int(value)
        try:
            return getter(str(value))
        except KeyError:
            raise ValidationError("file_tree: %s %r does not exist on this host" % (what, value))
    return (lookup(owner, lambda name: pwd.getpwnam(name).pw_uid, "owner"),
            lookup(group, lambda name: grp.getgrnam(name).gr_gid, "group"))


def _literal_base(pattern):
    """The directories of ``pattern`` before the part with its first glob character (where walking starts)."""
    parts = pattern.split("/")
    index = next(i for i, part in enumerate(parts) if any(char in part for char in GLOB_CHARS))
    return "/".join(parts[:index])


def _read(full, size):
    with open(full, "rb") as handle:
        data = handle.read(size + 1)
    return data


def _before(full):
    """The diff's view of what is at ``full`` now."""
    try:
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode):
            return "(not a regular file)\n"
        data = _read(full, st.st_size)
    except OSError as exc:
        return "(unreadable: %s)\n" % exc.strerror
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(%d bytes, not UTF-8)\n" % len(data)


def _attrs_differ(st, mode, uid, gid):
    return (stat.S_IMODE(st.st_mode) != mode or (uid != -1 and st.st_uid != uid)
            or (gid != -1 and st.st_gid != gid))


def _attrs_text(st):
    return "mode %04o, owner %d:%d\n" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def _lstat(full):
    try:
        return os.lstat(full)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise NetbootError("file_tree: cannot read %s: %s" % (full, exc.strerror))


def _parents(files):
    """Every directory (relative, '' being root) that holds a listed file."""
    parents = {""}
    for path in files:
        parts = path.split("/")[:-1]
        parents.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return parents


def _owner_text(mode, uid, gid, st):
    return "mode %04o, owner %d:%d\n" % (mode, uid if uid != -1 else st.st_uid, gid if gid != -1 else st.st_gid)


def _plan_directories(plan, files, directory_mode, uid, gid):
    """Missing directories (root included), and existing ones below root whose mode or owner differ.

    Returns the set of missing ones: nothing below them needs reading.
    """
    missing = set()
    for directory in sorted(_parents(files)):
        full = os.path.join(plan.root, directory) if directory else plan.root
        st = None if directory and directory.rpartition("/")[0] in missing else _lstat(full)
        if st is None:
            missing.add(directory)
            plan.directories.append((directory, False))
            plan.add_diff(directory + "/", "", "directory, mode %04o\n" % directory_mode)
        elif not stat.S_ISDIR(st.st_mode):
            raise ValidationError("file_tree: %s exists and is not a directory, but listed files go below it; "
                                  "remove it first (nothing was written)" % full)
        elif directory and _attrs_differ(st, directory_mode, uid, gid):
            plan.directories.append((directory, True))
            plan.add_diff(directory + "/", _attrs_text(st), _owner_text(directory_mode, uid, gid, st))
    return missing


def _plan_files(plan, files, missing, mode, uid, gid):
    for path in sorted(files):
        content = files[path]
        full = os.path.join(plan.root, path)
        parent = path.rpartition("/")[0]
        st = None if parent in missing else _lstat(full)
        if st is None:
            plan.create.append((path, content))
            plan.add_diff(path, "", content)
            continue
        if stat.S_ISDIR(st.st_mode):
            raise ValidationError("file_tree: %s is a directory on the host, not a file; remove it first "
                                  "(nothing was written)" % path)
        wanted = content.encode("utf-8")
        same = False
        if stat.S_ISREG(st.st_mode) and st.st_size == len(wanted):
            try:
                same = _read(full, st.st_size) == wanted
            except OSError as exc:
                raise NetbootError("file_tree: cannot read %s: %s" % (full, exc.strerror))
        if not same:
            plan.update.append((path, content))
            plan.add_diff(path, lambda: _before(full), content)
        elif _attrs_differ(st, mode, uid, gid):
            plan.update.append((path, None))
            plan.add_diff(path, _attrs_text(st), _owner_text(mode, uid, gid, st))
        else:
            plan.unchanged += 1


def _plan_removals(plan, files, managed):
    """Managed entries under root that are not listed, and the managed directories they leave empty."""
    wanted_dirs = _parents(files)

    def is_managed(path):
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in managed)

    stale, emptied = set(), []
    for pattern in managed:
        if not any(char in pattern for char in GLOB_CHARS) and pattern not in files:
            st = _lstat(os.path.join(plan.root, pattern))
            if st is not None and not stat.S_ISDIR(st.st_mode):
                stale.add(pattern)
    bases = sorted(set(_literal_base(pattern) for pattern in managed
                       if any(char in pattern for char in GLOB_CHARS)))
    for base in bases:
        if any(other == "" or base.startswith(other + "/") for other in bases if other != base):
            continue  # walked with its parent
        top = os.path.join(plan.root, base) if base else plan.root
        if not os.path.isdir(top):
            continue
        for current, dirnames, filenames in os.walk(top, topdown=False):
            rel_dir = os.path.relpath(current, plan.root)
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(current, d))]:
                rel = rel_dir + "/" + name if rel_dir else name
                if rel not in files and is_managed(rel):
                    stale.add(rel)
            if rel_dir and rel_dir not in wanted_dirs and is_managed(rel_dir):
                entries = [rel_dir + "/" + name for name in os.listdir(current)]
                if all(entry in stale or entry in emptied for entry in entries):
                    emptied.append(rel_dir)
    for path in sorted(stale):
        plan.remove.append(path)
        plan.add_diff(path, lambda full=os.path.join(plan.root, path): _before(full), "")
    plan.prune = emptied  # deepest first (os.walk bottom-up)
    for path in emptied:
        plan.add_diff(path + "/", "directory\n", "")


def plan_tree(root, files, managed=(), mode=0o644, directory_mode=0o755, uid=-1, gid=-1, diff=False):
    """The Plan that makes ``root`` hold ``files``; reads only. Raises ValidationError before any change."""
    if not isinstance(root, str) or not root.startswith("/"):
        raise ValidationError("file_tree: root %r must be an absolute path" % (root,))
    managed = list(managed or [])
    check_paths(files, managed)
    plan = Plan(os.path.normpath(root), want_diff=diff)
    missing = _plan_directories(plan, files, directory_mode, uid, gid)
    _plan_files(plan, files, missing, mode, uid, gid)
    if "" not in missing:
        _plan_removals(plan, files, managed)
    return plan


def invocation_files(files):
    """``files`` as the invocation in the module's result shows it: each path with the size of its content, not
    the content (it may hold secrets, and the configs of 200 nodes echoed back double what the run sends)."""
    if not isinstance(files, dict):
        return files
    return {path: "(%d characters)" % len(content) if isinstance(content, str) else content
            for path, content in files.items()}


def check_validate(validate):
    """The command of ``validate`` as an argument list, or None; it must name the file to check with %s."""
    if validate is None or validate == "":
        return None
    if not isinstance(validate, str) or "%s" not in validate:
        raise ValidationError("file_tree: validate %r must be a command with %%s where the file to check goes, "
                              "for example 'dnsmasq --test --conf-file=%%s'" % (validate,))
    try:
        return shlex.split(validate)
    except ValueError as exc:
        raise ValidationError("file_tree: validate %r is not a valid command line: %s" % (validate, exc))


def _validate_file(validate, temp, path):
    """Run the ``validate`` argument list on ``temp`` (the new content of ``path``); fail naming ``path``."""
    command = [arg.replace("%s", temp) for arg in validate]
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except OSError as exc:
        raise NetbootError("file_tree: cannot run the validate command %s for %s: %s"
                           % (validate[0], path, exc.strerror))
    if proc.returncode:
        output = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().replace(temp, path)
        raise NetbootError("file_tree: %s failed the validate command (exit %d), so it was not written: %s"
                           % (path, proc.returncode, output[-2000:]), path=path, rc=proc.returncode)


def _write_atomically(full, content, mode, uid, gid, validate=None, path=None):
    directory, name = os.path.split(full)
    handle, temp = tempfile.mkstemp(dir=directory, prefix="." + name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content.encode("utf-8"))
            os.fchmod(out.fileno(), mode)
            if uid != -1 or gid != -1:
                os.fchown(out.fileno(), uid, gid)
        if validate:
            _validate_file(validate, temp, path or full)
        os.rename(temp, full)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def apply_tree(plan, mode=0o644, directory_mode=0o755, uid=-1, gid=-1, validate=None):
    """Carry out ``plan``: directories, then the files that differ, then the removals.

    ``validate`` (an argument list with ``%s``) checks each new content before it replaces anything.
    """
    try:
        for directory, exists in plan.directories:
            full = os.path.join(plan.root, directory) if directory else plan.root
            if not exists:
                os.makedirs(full, directory_mode, exist_ok=True)
            os.chmod(full, directory_mode)
            if uid != -1 or gid != -1:
                os.chown(full, uid, gid)
        for path, content in plan.create + plan.update:
            full = os.path.join(plan.root, path)
            if content is None:
                os.chmod(full, mode)
                if uid != -1 or gid != -1:
                    os.chown(full, uid, gid)
            else:
                _write_atomically(full, content, mode, uid, gid, validate, path)
        for path in plan.remove:
            os.unlink(os.path.join(plan.root, path))
        for path in plan.prune:
            os.rmdir(os.path.join(plan.root, path))
    except OSError as exc:
        raise NetbootError("file_tree: %s: %s" % (exc.filename or plan.root, exc.strerror))


def sync_tree(root, files, managed=(), mode="0644", directory_mode="0755", owner=None, group=None,
              validate=None, check_mode=False, diff=False):
    """(changed, result) of making ``root`` hold ``files``; in check mode only the prediction (no validation)."""
    command = check_validate(validate)
    file_mode = parse_mode(mode, "mode")
    dir_mode = parse_mode(directory_mode, "directory_mode")
    uid, gid = resolve_owner(owner, group)
    plan = plan_tree(root, files, managed, file_mode, dir_mode, uid, gid, diff=diff)
    if plan.changed and not check_mode:
        apply_tree(plan, file_mode, dir_mode, uid, gid, command)
    return plan.changed, plan.result()
