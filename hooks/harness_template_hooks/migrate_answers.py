"""Rename answer keys in a project's answers file (`old=new`), and answer
values of a renamed choice (`key:old=new`).

Run by Copier as a `_migrations` entry before an update whose template renamed
a question or one of its choices, so the answer the team gave under the old
name is kept under the new one instead of being asked again or replaced by the
default:

    python hooks/migrate_answers.py .copier-answers.yml ws=websockets
    python hooks/migrate_answers.py .copier-answers.yml scaffold:harness=adopt

Keys are renamed first, then values, under the keys' new names. Idempotent: a
key already renamed, or a value other than the old one, is left alone. Only
top-level answers holding one plain word (quoted or not) are rewritten, line by
line, so the file's comments and layout are kept. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A choice's value as Copier writes it: one word, no YAML syntax in it.
WORD = re.compile(r"[A-Za-z0-9_][\w.-]*")


def parse_arguments(
    pairs: list[str],
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Split the arguments into key renames (`old=new`) and, by key, value
    rewrites (`key:old=new`)."""
    renames: dict[str, str] = {}
    rewrites: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, colon, value = pair.partition(":")
        old, separator, new = (value if colon else pair).partition("=")
        if colon:
            if not (
                separator
                and key.isidentifier()
                and WORD.fullmatch(old)
                and WORD.fullmatch(new)
            ):
                raise SystemExit(f"migrate_answers: expected key:old=new, got {pair!r}")
            rewrites.setdefault(key, {})[old] = new
        elif separator and old.isidentifier() and new.isidentifier():
            renames[old] = new
        else:
            raise SystemExit(
                f"migrate_answers: expected old=new or key:old=new, got {pair!r}"
            )
    return renames, rewrites


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


def rewrite_values(text: str, rewrites: dict[str, dict[str, str]]) -> str:
    """Return `text` with each top-level `key: old` answer made `key: new`,
    quoted as it was, any comment after it kept."""
    migrated = []
    for name, lines in top_level_blocks(text):
        values = rewrites.get(name or "", {})
        pattern = (
            rf"{name}:[ \t]+(?P<quote>['\"]?)(?P<value>[\w.-]+)(?P=quote)\s*(#.*)?$"
        )
        answer = re.match(pattern, lines.partition("\n")[0]) if values else None
        if answer and answer.group("value") in values:
            start, end = answer.span("value")
            lines = lines[:start] + values[answer.group("value")] + lines[end:]
        migrated.append(lines)
    return "".join(migrated)


def migrate(text: str, pairs: list[str]) -> str:
    """`text` with the keys renamed, then the values rewritten, that `pairs` name."""
    renames, rewrites = parse_arguments(pairs)
    return rewrite_values(rename_answers(text, renames), rewrites)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    answers_file = Path(argv[0])
    parse_arguments(argv[1:])
    if not answers_file.is_file():
        raise SystemExit(f"migrate_answers: no answers file at {answers_file}")
    original = answers_file.read_text()
    migrated = migrate(original, argv[1:])
    if migrated != original:
        answers_file.write_text(migrated)
    return 0
