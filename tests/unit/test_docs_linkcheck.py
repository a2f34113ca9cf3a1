"""tests/docs/linkcheck.py, the markdown link check of `make docs`, on a small tree of its own."""

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location("linkcheck", os.path.join(REPO, "tests", "docs", "linkcheck.py"))
linkcheck = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(linkcheck)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "roles" / "r").mkdir(parents=True)
    (tmp_path / "roles" / "r" / "README.md").write_text("# Role r\n")
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## The node's life: install once, then the disk\n\n## Tests\n\n## Tests\n\n"
        "```\n[in a fence](missing.md)\n```\n")
    return tmp_path


def write_readme(tree, body):
    (tree / "README.md").write_text("# Top\n\n" + body + "\n")


def test_good_links_pass(tree, capsys):
    write_readme(tree, "[g](docs/guide.md) [life](docs/guide.md#the-nodes-life-install-once-then-the-disk) "
                       "[second tests](docs/guide.md#tests-1) [self](#top) [dir](roles/r) [web](https://example.com/x) "
                       "`[code](nowhere.md)` [r](roles/r/README.md \"title\")")
    assert linkcheck.main(["linkcheck", str(tree)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "markdown links: 3 files, 6 relative links, 0 broken"


@pytest.mark.parametrize("link, problem", [
    ("[x](docs/gide.md)", "README.md:3: docs/gide.md: no such file docs/gide.md"),
    ("[x](docs/guide.md#the-node-s-life)", "README.md:3: docs/guide.md#the-node-s-life: no heading with anchor "
                                           "'#the-node-s-life' in docs/guide.md"),
    ("[x](docs/guide.md#tests-2)", "no heading with anchor '#tests-2'"),
    ("[x](#nowhere)", "README.md:3: #nowhere: no heading with anchor '#nowhere' in README.md"),
])
def test_a_broken_link_is_named_with_its_line_and_fails(tree, capsys, link, problem):
    write_readme(tree, link)
    assert linkcheck.main(["linkcheck", str(tree)]) == 1
    out = capsys.readouterr().out
    assert problem in out
    assert out.splitlines()[-1].endswith(", 1 broken")
