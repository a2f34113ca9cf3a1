"""The variables the Markdown docs name exist: a role's variable (`http_repo_root`, `ipxe_dhcp_mode: proxy`) in
that role's files, a cluster, connection or playbook variable (`coreos_*`, `vcenter_*`, `rancher_*`,
`autoscale_*`, ...) in the collection's roles, playbooks, plugins, inventories or awx/. A renamed or removed
variable that a guide still names fails here."""

import glob
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.listdir(os.path.join(REPO, "roles")))
SHARED_PREFIXES = ("coreos", "vcenter", "rancher", "autoscale", "scale", "decommission", "reinstall", "netboot")
# names the docs show on purpose as what is not a setting (the error a typo gets)
TYPO_EXAMPLES = {"coreos_node_cuont"}
NAME = re.compile(r"`([a-z][a-z0-9_]+)(?:[:=][^`]*)?`")


def text_of(*patterns):
    texts = []
    for pattern in patterns:
        for path in glob.glob(os.path.join(REPO, pattern), recursive=True):
            if os.path.isfile(path):
                with open(path, errors="replace") as handle:
                    texts.append(handle.read())
    return "\n".join(texts)


ROLE_TEXT = {role: text_of("roles/%s/defaults/**/*" % role, "roles/%s/meta/**/*" % role, "roles/%s/tasks/**/*" % role,
                           "roles/%s/vars/**/*" % role) for role in ROLES}
CODE_TEXT = text_of("roles/**/*.yml", "roles/**/*.j2", "playbooks/*.yml", "plugins/**/*.py", "plugins/**/*.yml",
                    "inventories/**/*.yml", "awx/**/*.yml", "site.yml")
PAGES = sorted(glob.glob(os.path.join(REPO, "docs", "*.md")) + glob.glob(os.path.join(REPO, "roles", "*", "README.md"))
               + [os.path.join(REPO, "README.md"), os.path.join(REPO, "awx", "README.md")])


def unknown_names(path):
    with open(path) as handle:
        names = set(NAME.findall(handle.read())) - TYPO_EXAMPLES
    unknown = []
    for name in sorted(names):
        role = next((r for r in ROLES if name.startswith(r + "_")), None)
        if role is not None:
            if not re.search(r"\b%s\b" % name, ROLE_TEXT[role]):
                unknown.append("%s (role %s)" % (name, role))
        elif name.startswith(tuple(p + "_" for p in SHARED_PREFIXES)) and not re.search(r"\b%s\b" % name, CODE_TEXT):
            unknown.append(name)
    return unknown


@pytest.mark.parametrize("path", PAGES, ids=[os.path.relpath(p, REPO) for p in PAGES])
def test_every_variable_a_page_names_exists(path):
    assert unknown_names(path) == []


def test_a_renamed_variable_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Set `http_repo_rot: /srv` and `coreos_node_count: 3`, `vcenter_hostnme`, `ipxe_dhcp_mode`.\n")
    assert unknown_names(str(page)) == ["http_repo_rot (role http_repo)", "vcenter_hostnme"]
