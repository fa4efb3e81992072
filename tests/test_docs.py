"""The README and docs/ link only to files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def relative_links(markdown: Path) -> list[str]:
    targets = LINK.findall(markdown.read_text())
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_readme_links_every_docs_page():
    linked = {(REPO_ROOT / t).resolve() for t in relative_links(REPO_ROOT / "README.md")}
    assert set(DOCS[1:]) <= linked


@pytest.mark.parametrize("markdown", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(markdown: Path):
    links = relative_links(markdown)
    missing = [t for t in links if not (markdown.parent / t.split("#")[0]).exists()]
    assert not missing, f"{markdown.name} links to missing files: {missing}"


def test_the_link_pattern_finds_the_readmes_links():
    # Guards the test above against a pattern that finds nothing and so passes everything.
    assert len(relative_links(REPO_ROOT / "README.md")) >= 10
