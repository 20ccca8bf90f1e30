"""harness_template_hooks/migrate_answers.py on its own: a renamed choice's
value (`key:old=new`) is rewritten in an answers file, beside key renames, and
nothing else is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness_template_hooks.migrate_answers import migrate, parse_arguments
from rendering import HARNESS_ANSWERS_FILE, HOOKS

pytestmark = pytest.mark.quick

# As an adoption made before `scaffold=harness` was renamed `scaffold=adopt`
# left its answers file, with a comment a team added.
ADOPTED_AS_HARNESS = """\
# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY
_commit: 6a9e797
_src_path: /srv/templates/copier-fastapi-harness
app_import: orders.main:app
fixture_prefix: harness_
scaffold: harness  # adopted in 2026
tests_dir: tests/harness_checks
"""


def test_a_renamed_choice_is_rewritten_and_nothing_else() -> None:
    migrated = migrate(ADOPTED_AS_HARNESS, ["scaffold:harness=adopt"])

    assert migrated == ADOPTED_AS_HARNESS.replace(
        "scaffold: harness  #", "scaffold: adopt  #"
    )
    assert migrate(migrated, ["scaffold:harness=adopt"]) == migrated


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("scaffold: harness\n", "scaffold: adopt\n"),
        ("scaffold: 'harness'\n", "scaffold: 'adopt'\n"),
        ('scaffold: "harness"\n', 'scaffold: "adopt"\n'),
        ("scaffold: harness", "scaffold: adopt"),
        ("scaffold: adopt\n", "scaffold: adopt\n"),
        ("scaffold: service\n", "scaffold: service\n"),
        ("scaffold: harnesses\n", "scaffold: harnesses\n"),
        ("scaffold: 'harness\n", "scaffold: 'harness\n"),
        ("scaffold:\n  - harness\n", "scaffold:\n  - harness\n"),
        ("  scaffold: harness\n", "  scaffold: harness\n"),
        ("other_scaffold: harness\n", "other_scaffold: harness\n"),
    ],
)
def test_only_the_whole_top_level_value_is_rewritten(line: str, expected: str) -> None:
    assert migrate(line, ["scaffold:harness=adopt"]) == expected


def test_keys_are_renamed_before_their_values_are_rewritten() -> None:
    migrated = migrate("mode: harness\n", ["mode=scaffold", "scaffold:harness=adopt"])

    assert migrated == "scaffold: adopt\n"


@pytest.mark.parametrize(
    "argument",
    ["scaffold:harness", "scaffold:=adopt", "scaffold:harness=", "1st:a=b", "a b=c"],
)
def test_a_malformed_argument_is_refused(argument: str) -> None:
    with pytest.raises(SystemExit, match="expected"):
        parse_arguments([argument])


def test_the_hook_rewrites_the_file_in_place_once(tmp_path: Path) -> None:
    answers = tmp_path / HARNESS_ANSWERS_FILE
    answers.write_text(ADOPTED_AS_HARNESS)
    command = [sys.executable, str(HOOKS / "migrate_answers.py"), HARNESS_ANSWERS_FILE]

    for _ in range(2):
        result = subprocess.run(
            [*command, "scaffold:harness=adopt"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert answers.read_text() == ADOPTED_AS_HARNESS.replace(
            "scaffold: harness ", "scaffold: adopt "
        )
