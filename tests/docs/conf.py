"""Sphinx configuration of the docs site that `make docs` builds offline into build/docs/html: the guides of
docs/ (Markdown through MyST, Mermaid diagrams) and the module, filter, test and role reference that
antsibull-docs generates from the docs in code."""

import re

from docutils import nodes

project = "netboot.coreos"
author = "netboot.coreos maintainers"
root_doc = "index"
extensions = ["myst_parser", "sphinxcontrib.mermaid", "sphinx_antsibull_ext"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# ```mermaid fences render as diagrams, as they do on GitHub and Galaxy
myst_fence_as_directive = ["mermaid"]
# GitHub's heading anchors, so links such as boot-chain.md#the-nodes-life-... resolve in the site too
myst_heading_anchors = 4
html_theme = "alabaster"
html_title = "netboot.coreos"
# offline: no inventories of other sites are fetched
intersphinx_mapping = {}
# links from the guides to files outside the site (awx/, roles/*/README.md) stay plain links; tests/docs/linkcheck.py
# checks that every relative link and anchor of the Markdown files resolves
suppress_warnings = ["myst.xref_missing"]

# The generated reference points at labels of the Ansible documentation (ansible.builtin plugins, the common
# return values). Offline there is no intersphinx inventory for them, so those labels become plain links to
# docs.ansible.com; any other unknown label, one of this collection's included, still fails the build.
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
ANSIBLE_LABELS = {
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}
PLUGIN_LABEL = re.compile(r"ansible_collections\.(?P<ns>\w+)\.(?P<name>\w+)\.(?P<plugin>\w+)(?:__(?P<anchor>\S+))?")


def ansible_docs_link(app, env, node, contnode):  # pylint: disable=unused-argument
    """A link to docs.ansible.com for a label of the Ansible documentation; None (a warning) for any other."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "std":
        return None
    url = None
    match = PLUGIN_LABEL.fullmatch(target)
    if target in ANSIBLE_LABELS:
        url = ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    elif match and (match["ns"], match["name"]) != ("netboot", "coreos"):
        url = ANSIBLE_DOCS + "collections/%s/%s/%s.html" % (match["ns"], match["name"], match["plugin"])
        url += "#" + match["anchor"] if match["anchor"] else ""
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", ansible_docs_link)
