"""Every sample output in README.md and docs/, regenerated from its command: `make docs-check`.

A sample is a fenced block whose first line is `$ <command>` (more `$` lines may follow, each
with its output). The check runs each command as a user would, with `python` from the
environment running this script, in a scratch folder that has the entry points (so runs land
in its own `outputs/`, shown as `/…/outputs`), then compares the output with the block. Numbers,
dates and times are masked (they change from run to run and machine to machine) and spaces
are collapsed; every word must match, and a line `…` in a block stands for any lines. A run
folder named in a command (`outputs/train/runs/bilstm_2026-11-27_14-10-10`) is the newest
folder of that name the samples before it made.

    python tools/docs_check.py            # exit 1 and the first stale line of each stale block
    python tools/docs_check.py --write    # rewrite stale blocks from the new output
    python tools/docs_check.py README.md  # one file
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENTRY_POINTS = ("train.py", "eval.py", "export.py")
ELIDED = "…"
TIME = re.compile(r"\d{4}-\d\d-\d\d[ _T]\d\d[:-]\d\d[:-]\d\d(,\d+)?")
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
RUN_FOLDER = re.compile(r"outputs/train/runs/([A-Za-z0-9_]+?)_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d")
# A command that only shows its documented output on a machine without CUDA.
WITHOUT_CUDA = "without CUDA"


@dataclass
class Segment:
    """One `$ command` of a block (its shown lines) and the output shown after it."""

    command: list[str]
    output: list[str]


@dataclass
class Block:
    """A sample block: where it sits in its file, its indentation and its segments."""

    path: Path
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    indent: str
    segments: list[Segment]


def find_blocks(path: Path) -> list[Block]:
    """The sample blocks of a Markdown file: fenced blocks starting with `$ `."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```", lines[i])
        if not fence:
            i += 1
            continue
        indent = fence.group(1)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        body = [line[len(indent) :] for line in lines[i + 1 : end]]
        if body and body[0].startswith("$ "):
            blocks.append(Block(path, i + 1, end, indent, segments(body)))
        i = end + 1
    return blocks


def segments(body: list[str]) -> list[Segment]:
    found: list[Segment] = []
    continued = False  # the command's line ends with `\`: its next line is the command too
    for line in body:
        if line.startswith("$ "):
            found.append(Segment([line], []))
        elif continued:
            found[-1].command.append(line)
        else:
            found[-1].output.append(line)
        continued = (line.startswith("$ ") or continued) and line.rstrip().endswith("\\")
    return found


def mask(line: str) -> str:
    """A line as compared: times and numbers masked, spaces collapsed."""
    line = NUMBER.sub("#", TIME.sub("<time>", line))
    return " ".join(line.split())


def same(shown: str, actual: str) -> bool:
    """Masked lines match; a shown line ending in `…` matches any line it begins."""
    if shown.endswith(ELIDED) and shown != ELIDED:
        return actual.startswith(shown[: -len(ELIDED)].rstrip())
    return shown == actual


def align(shown: list[str], actual: list[str]) -> list[int] | None:
    """For each shown line, the index of the actual line it matches (`…` matches any lines,
    and maps to -1), or None when the shown lines do not match."""
    shown_masked, actual_masked = [mask(s) for s in shown], [mask(a) for a in actual]
    memo: dict[tuple[int, int], list[int] | None] = {}

    def match(i: int, j: int) -> list[int] | None:
        if (i, j) in memo:
            return memo[i, j]
        if i == len(shown):
            result = [] if j == len(actual) else None
        elif shown[i].strip() == ELIDED:
            result = None
            for k in range(j, len(actual) + 1):
                rest = match(i + 1, k)
                if rest is not None:
                    result = [-1, *rest]
                    break
        elif j < len(actual) and same(shown_masked[i], actual_masked[j]):
            rest = match(i + 1, j + 1)
            result = None if rest is None else [j, *rest]
        else:
            result = None
        memo[i, j] = result
        return result

    sys.setrecursionlimit(max(10_000, 4 * (len(shown) + len(actual))))
    return match(0, 0)


def first_difference(shown: list[str], actual: list[str]) -> str:
    """The first shown line that no longer matches, beside what the command printed there."""
    j = 0
    for line in shown:
        if line.strip() == ELIDED:
            tail = "\n           ".join(actual[-4:])
            return f"  shown:   a block with `…` lines\n  printed, ending: {tail}"
        if j >= len(actual) or not same(mask(line), mask(actual[j])):
            printed = actual[j] if j < len(actual) else "(nothing more)"
            return f"  shown:   {line}\n  printed: {printed}"
        j += 1
    return f"  shown:   (nothing more)\n  printed: {actual[j] if j < len(actual) else ''}"


class Runner:
    """Runs the samples' commands in one scratch folder, in the order the docs show them."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        for name in ENTRY_POINTS:
            (scratch / name).symlink_to(REPO / name)
        bin_dir = Path(sys.executable).parent
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as in a terminal
            "HYDRA_FULL_ERROR": "0",
            "COLUMNS": "200",
        }

    def run(self, command: list[str]) -> list[str]:
        text = "\n".join([command[0].removeprefix("$ "), *command[1:]])
        text = RUN_FOLDER.sub(self._newest_run, text)
        result = subprocess.run(
            ["bash", "-c", text],
            cwd=self.scratch,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
        )
        output = result.stdout.replace(str(self.scratch.resolve()), "/…")
        output = output.replace(str(self.scratch), "/…")
        return output.rstrip("\n").splitlines()

    def _newest_run(self, found: re.Match) -> str:
        runs = sorted((self.scratch / "outputs" / "train" / "runs").glob(f"{found.group(1)}_*"))
        return str(runs[-1].relative_to(self.scratch)) if runs else found.group(0)


def check_block(block: Block, runner: Runner, cuda: bool) -> list[str] | None:
    """The block's new lines when it is stale, else None."""
    new_lines: list[str] = []
    stale = False
    for segment in block.segments:
        if cuda and WITHOUT_CUDA in segment.command[0]:
            new_lines += segment.command + segment.output
            continue
        actual = runner.run(segment.command)
        alignment = align(segment.output, actual)
        if alignment is None:
            stale = True
            print(
                f"{block.path.relative_to(REPO)}:{block.start}: stale sample of "
                f"`{segment.command[0][2:]}`\n{first_difference(segment.output, actual)}",
                flush=True,
            )
            kept = actual if ELIDED not in [s.strip() for s in segment.output] else None
            new_lines += segment.command + (kept if kept is not None else segment.output)
        else:
            new_lines += segment.command + [
                ELIDED if j < 0 else actual[j] for j in alignment
            ]  # the numbers of this run
    return new_lines if stale else None


def write_block(block: Block, new_lines: list[str]) -> None:
    lines = block.path.read_text().splitlines()
    lines[block.start : block.end] = [block.indent + line if line else line for line in new_lines]
    block.path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--write", action="store_true", help="rewrite stale blocks")
    args = parser.parse_args()
    every = [REPO / "README.md", *sorted(REPO.glob("docs/*.md"))]
    files = [p.resolve() for p in args.files] or every
    import torch

    cuda = torch.cuda.is_available()
    stale = 0
    with tempfile.TemporaryDirectory(prefix="docs-check-") as scratch:
        runner = Runner(Path(scratch))
        for path in files:
            # Bottom to top: rewriting a block leaves the line numbers above it as they are.
            results = [(block, check_block(block, runner, cuda)) for block in find_blocks(path)]
            for block, new_lines in reversed(results):
                if new_lines is None:
                    continue
                stale += 1
                if args.write and not any(line.strip() == ELIDED for line in new_lines):
                    write_block(block, new_lines)
                elif args.write:
                    print(f"  {path.name}:{block.start}: has `…` lines: update it by hand")
    blocks = sum(len(find_blocks(path)) for path in files)
    print(f"{blocks} samples checked, {stale} stale" + (" (rewritten)" if args.write else ""))
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
