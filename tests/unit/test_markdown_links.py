"""Every relative link in the repository's Markdown files points at a file that exists in the
repository (a link that leaves it is broken in any other clone), and a ``#section`` of a
Markdown file names one of its headings."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files() -> list[Path]:
    # Tracked and not-ignored files only: the virtualenvs, .state and node_modules are ignored.
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.md"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    return sorted({ROOT / name for name in listed if name and "node_modules" not in name})


def relative_links(path: Path) -> list[str]:
    links = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # http:, mailto:
        links.append(target)
    return links


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}  # a repeated heading's anchors are base, base-1, base-2, ...
    names = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading:
            base = slug(heading.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            names.add(f"{base}-{n}" if n else base)
    return frozenset(names)


def broken(path: Path, link: str) -> str | None:
    """Why ``link`` in ``path`` does not resolve; None when it does."""
    target, _, section = link.partition("#")
    resolved = (path.parent / target).resolve() if target else path
    if not resolved.is_relative_to(ROOT):
        return "outside the repository"
    if not resolved.exists():
        return "no such file"
    if section and resolved.suffix == ".md" and section not in anchors(resolved):
        return "no such heading"
    return None


def test_markdown_files_are_found() -> None:
    found = markdown_files()
    assert ROOT / "README.md" in found
    assert ROOT / "sidecar" / "README.md" in found


def test_the_checks_catch_what_they_should() -> None:
    page = ROOT / "README.md"
    assert broken(page, "sidecar/README.md") is None
    assert broken(page, "../outside.md") == "outside the repository"
    assert broken(page, "no/such/file.md") == "no such file"
    assert broken(page, "#two-commands") is None
    assert broken(page, "#no-such-heading-here") == "no such heading"
    assert slug("Who may call: service identity (Consul Connect, native) — issue 13") == \
        "who-may-call-service-identity-consul-connect-native--issue-13"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    bad = [(link, why) for link in relative_links(path) if (why := broken(path, link))]
    assert bad == [], f"{path.relative_to(ROOT)} has broken links: {bad}"
