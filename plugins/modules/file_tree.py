#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: file_tree
short_description: Make a directory tree hold exactly the given files, in one run
version_added: 0.1.0
description:
  - Compares every file of O(files) with what is under O(root) and writes only those whose content differs,
    each atomically (a temporary file in the same directory, renamed over the old one, so a reader sees the old
    or the new file, never a part); files whose content is the same but whose mode or owner differ are fixed
    in place.
  - Removes the files under O(root) that match one of the O(managed) patterns and are no longer listed, and
    the directories they leave empty. Nothing outside O(managed) is ever removed.
  - Every path is checked before anything is touched; a path that is absolute, contains V(..) or an empty or
    V(.) part fails naming it, and nothing is written.
  - The result and the error messages name paths, never contents; the contents appear only in diff mode (the
    invocation in the result shows each file's size in place of its content). When the contents hold secrets,
    run the task with C(no_log) (the diff is then hidden too).
  - One module run for the whole tree, however many files (the netboot.coreos.http_repo role writes its boot
    files with it).
author:
  - netboot.coreos maintainers (@netboot-coreos)
extends_documentation_fragment:
  - netboot.coreos.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads and compares everything and reports what a real run would create, update and remove.
  diff_mode:
    support: full
    details:
      - One entry per file created, updated or removed, with the old and the new content.
options:
  root:
    description: The directory the paths of O(files) are relative to; created (with its parents) if missing.
    type: path
    required: true
  files:
    description:
      - Relative path to content (text, written as UTF-8), for example a key V(nodes/a.ipxe) with the script's text.
      - Missing parent directories are created with O(directory_mode), O(owner) and O(group).
    type: dict
    required: true
  managed:
    description:
      - Glob patterns of the relative paths this task owns, for example V(nodes/*) (C(*) matches C(/) too, so
        V(nodes/*) covers everything below C(nodes/)).
      - A file matching one of them that is not in O(files) is removed; empty means nothing is ever removed.
    type: list
    elements: str
    default: []
  mode:
    description: Permission mode of the files, an octal string such as V('0644').
    type: raw
    default: "0644"
  directory_mode:
    description: Permission mode of the directories it creates and of the existing ones that hold listed files.
    type: raw
    default: "0755"
  owner:
    description: Owner (name or uid) of the files and those directories; unset keeps what the process makes.
    type: str
  group:
    description: Group (name or gid) of the files and those directories; unset keeps what the process makes.
    type: str
  validate:
    description:
      - A command that checks each file before it is written, with C(%s) where the path of the new content goes
        (a temporary file next to the target), for example V(dnsmasq --test --conf-file=%s); split like a shell
        would, run without a shell.
      - A file it rejects (non-zero exit) is not written, and the task fails naming the file and showing the
        command's output; files written before it stay written. Not run in check mode, nor for files that are
        already as wanted.
    type: str
"""

EXAMPLES = r"""
- name: Write the boot files; remove those of nodes that left the plan
  netboot.coreos.file_tree:
    root: /srv/coreos
    files: "{{ coreos_node_plan | netboot.coreos.boot_files(release, settings) }}"
    managed: [boot.ipxe, "nodes/*"]
    owner: root
    group: root
  no_log: "{{ rancher_token_result is defined }}"  # node.ign holds the registration token
"""

RETURN = r"""
root:
  description: The root directory.
  returned: success
  type: str
  sample: /srv/coreos
created:
  description: Files that did not exist (in check mode, would be created).
  returned: success
  type: list
  elements: str
  sample: [nodes/00-50-56-00-00-01.ipxe]
updated:
  description: Files whose content, mode or owner differed, and directories (ending in C(/)) whose mode or owner did.
  returned: success
  type: list
  elements: str
  sample: [boot.ipxe]
removed:
  description: Managed files no longer listed, and the directories (ending in C(/)) they left empty.
  returned: success
  type: list
  elements: str
  sample: [nodes/00-50-56-00-00-02.ipxe, nodes/00-50-56-00-00-02/node.ign, nodes/00-50-56-00-00-02/]
unchanged:
  description: Number of listed files that were already as wanted.
  returned: success
  type: int
  sample: 12
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netboot.coreos.plugins.module_utils.file_tree import invocation_files, sync_tree
from ansible_collections.netboot.coreos.plugins.module_utils.module_runner import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            managed=dict(type="list", elements="str", default=[]),
            mode=dict(type="raw", default="0644"),
            directory_mode=dict(type="raw", default="0755"),
            owner=dict(type="str"),
            group=dict(type="str"),
            validate=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    module.params["files"] = invocation_files(params["files"])
    run_module(module, lambda: sync_tree(check_mode=module.check_mode, diff=module._diff, **params))


if __name__ == "__main__":
    main()
