"""Check the relative links of the repository's Markdown files: every `[text](target)` that is not a URL must name
a file or directory that exists, and its `#anchor` a heading of the target file (GitHub's anchors: lower case,
punctuation dropped, spaces as hyphens, -1, -2 ... for repeated headings). Links inside code are not links.

    python tests/docs/linkcheck.py [ROOT]      exit 1 and one line per broken link when any is broken
"""

import os
import re
import sys

SKIP_DIRS = {".git", ".venv", "venv", "build", "node_modules", "__pycache__", ".pytest_cache", ".ansible"}
SKIP_PATHS = {os.path.join("tests", "output")}
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


def markdown_files(root):
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and os.path.normpath(os.path.join(relative, d))
                         not in SKIP_PATHS)
        for name in sorted(files):
            if name.endswith(".md"):
                yield os.path.join(directory, name)


def prose_lines(text):
    """(line number, line) outside fenced code blocks, with inline code blanked out."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
            continue
        if fence is None:
            yield number, INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)


def slug(heading):
    """GitHub's anchor of a heading's text."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path, cache={}):  # pylint: disable=dangerous-default-value
    """Every anchor of a Markdown file: its headings' slugs (repeats numbered) and explicit <a name/id>."""
    if path not in cache:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        found, seen = set(), {}
        for _number, line in prose_lines(text):
            heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if heading:
                base = slug(heading.group(1))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else "%s-%d" % (base, count))
            found.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", line))
        cache[path] = found
    return cache[path]


def check_file(path, root):
    """(links checked, [problem lines]) for one Markdown file."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    checked, problems = 0, []
    where = os.path.relpath(path, root)
    for number, line in prose_lines(text):
        for target in LINK.findall(line):
            if EXTERNAL.match(target):
                continue
            checked += 1
            file_part, _hash, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(resolved):
                problems.append("%s:%d: %s: no such file %s" % (where, number, target, os.path.relpath(resolved, root)))
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                problems.append("%s:%d: %s: no heading with anchor '#%s' in %s"
                                % (where, number, target, anchor, os.path.relpath(resolved, root)))
    return checked, problems


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.getcwd())
    files, checked, problems = 0, 0, []
    for path in markdown_files(root):
        files += 1
        count, found = check_file(path, root)
        checked += count
        problems += found
    for problem in problems:
        print(problem)
    print("markdown links: %d files, %d relative links, %d broken" % (files, checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
