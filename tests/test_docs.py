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


# `make docs-check` (tools/docs_check.py) reruns every sample; here, how it compares.
def docs_check():
    from tools import docs_check  # the repository root is on pytest's path

    return docs_check


def test_a_sample_matches_a_new_run_whatever_its_numbers_times_and_spacing():
    check = docs_check()
    shown = ["[2026-11-27 14:11:24,523][HYDRA] Trial 0: 0.23195 with {'merge': 'ave'}", "…", "x"]
    printed = ["[2027-01-02 03:04:05,006][HYDRA] Trial 0:   0.5 with {'merge': 'ave'}"]
    assert check.align(shown, [*printed, "a", "b", "x"]) == [0, -1, 3]
    assert check.align(shown, [*printed, "x"]) == [0, -1, 1]
    # Words are compared: another merge mode, a missing line or a new one is a stale sample.
    assert check.align(shown, [printed[0].replace("ave", "sum"), "x"]) is None
    assert check.align(["a", "b"], ["a"]) is None and check.align(["a"], ["a", "b"]) is None
    assert check.align(["job: /…/outputs/17_data…"], ["job: /…/outputs/3_data=1,x=2"]) == [0]


def test_every_sample_block_has_its_commands_and_output():
    check = docs_check()
    blocks = [block for path in DOCS for block in check.find_blocks(path)]
    assert len(blocks) >= 8
    for block in blocks:
        for segment in block.segments:
            assert segment.command[0].startswith("$ python ")
            assert segment.output, f"{block.path.name}:{block.start} shows no output"
