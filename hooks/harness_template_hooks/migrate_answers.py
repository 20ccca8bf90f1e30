"""Rename answer keys in a project's answers file: `old=new` pairs.

Run by Copier as a `_migrations` entry before an update whose template renamed
a question, so the answer the team gave under the old name is kept under the
new one instead of being asked again or replaced by the default:

    python hooks/migrate_answers.py .copier-answers.yml ws=websockets

Idempotent: a key already renamed is left alone. Only top-level keys are renamed,
line by line, so the file's comments and layout are kept. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def parse_renames(pairs: list[str]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for pair in pairs:
        old, separator, new = pair.partition("=")
        if not (separator and old.isidentifier() and new.isidentifier()):
            raise SystemExit(f"migrate_answers: expected old=new, got {pair!r}")
        renames[old] = new
    return renames


def top_level_blocks(text: str) -> list[tuple[str | None, str]]:
    """Split YAML text into (key, lines) blocks; a block runs until the next
    top-level key. Comments and blank lines stay with the block above."""
    blocks: list[tuple[str | None, str]] = []
    for line in text.splitlines(keepends=True):
        key = re.match(r"([A-Za-z_]\w*):(\s|$)", line)
        if key or not blocks:
            blocks.append((key.group(1) if key else None, line))
        else:
            name, lines = blocks[-1]
            blocks[-1] = (name, lines + line)
    return blocks


def rename_answers(text: str, renames: dict[str, str]) -> str:
    """Return `text` with each top-level `old:` key renamed to `new:`."""
    blocks = top_level_blocks(text)
    present = {name for name, _ in blocks}
    migrated = []
    for name, lines in blocks:
        new = renames.get(name or "")
        if new is None:
            migrated.append(lines)
        elif new in present:
            # Both names answered (an earlier, partial edit): the new one wins.
            print(f"migrate_answers: dropping {name}, {new} is set", file=sys.stderr)
        else:
            migrated.append(f"{new}:{lines[len(name or '') + 1 :]}")
    return "".join(migrated)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    answers_file = Path(argv[0])
    renames = parse_renames(argv[1:])
    if not answers_file.is_file():
        raise SystemExit(f"migrate_answers: no answers file at {answers_file}")
    original = answers_file.read_text()
    migrated = rename_answers(original, renames)
    if migrated != original:
        answers_file.write_text(migrated)
    return 0
