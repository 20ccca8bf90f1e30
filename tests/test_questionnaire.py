"""The interactive questionnaire, driven like a person would in a real terminal.

Each question is recognised by its help text (which is what Copier shows), so the
walk follows copier.yml: a question added later is answered with its default
unless a scenario says otherwise. The terminal is 80 columns wide and emulated
(pyte), so what a person would see is what the tests read: every help text must
be visible in full, since prompt_toolkit cuts a line at the terminal's edge.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest
import yaml
from answer_sets import ASYNC_FEATURES
from rendering import REPO_ROOT, assert_suite_passes, read_answers, run_suite

ENTER = "\r"
DOWN = "\x1b[B"
# prompt_toolkit reads Ctrl-H as backspace.
BACKSPACE = "\x08"
TIMEOUT = 60
# The narrowest terminal people work in; tall enough that nothing scrolls away.
COLUMNS, ROWS = 80, 400


def questions() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    return {
        name: spec
        for name, spec in config.items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def help_lines(spec: dict[str, Any]) -> list[str]:
    return [line.strip() for line in str(spec["help"]).splitlines() if line.strip()]


def help_opening(spec: dict[str, Any]) -> str:
    """The start of a question's help, as the terminal shows it."""
    return help_lines(spec)[0][:48]


def choice_values(spec: dict[str, Any]) -> list[Any]:
    choices = spec["choices"]
    return list(choices.values() if isinstance(choices, dict) else choices)


def keys_for(spec: dict[str, Any], value: Any) -> str:
    """Keystrokes that give `value` as the answer to a question."""
    if spec.get("type") == "bool":
        # A yes/no confirm answers on the key itself.
        return "y" if value else "n"
    if "choices" in spec:
        return DOWN * choice_values(spec).index(value) + ENTER
    # Text input starts with the default filled in: clear it, then type.
    return BACKSPACE * 80 + str(value) + ENTER


class Screen:
    """What an 80-column terminal shows of everything the questionnaire wrote."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.Stream(self.screen)

    # pexpect copies everything it reads into this "log file".
    def write(self, text: str) -> None:
        self.stream.feed(text)

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines()).strip()


class Questionnaire:
    """`copier copy` in a pseudo-terminal, answered question by question."""

    def __init__(self, template: Path, destination: Path) -> None:
        self.specs = questions()
        self.asked: list[str] = []
        self.screen = Screen()
        self.terminal = pexpect.spawn(
            sys.executable,
            ["-m", "copier", "copy", "--trust", str(template), str(destination)],
            env={**os.environ, "TERM": "xterm-256color"},
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(ROWS, COLUMNS),
            timeout=TIMEOUT,
        )
        self.terminal.logfile_read = self.screen

    def next_question(self) -> str | None:
        """Wait for a question not yet asked; None once Copier has finished."""
        pending = [name for name in self.specs if name not in self.asked]
        index = self.terminal.expect_exact(
            [help_opening(self.specs[name]) for name in pending] + [pexpect.EOF]
        )
        if index == len(pending):
            return None
        self.asked.append(pending[index])
        return pending[index]

    def answer(self, name: str, value: Any) -> None:
        self.terminal.send(keys_for(self.specs[name], value))

    def accept_default(self) -> None:
        self.terminal.send(ENTER)

    def finish(self) -> int:
        self.terminal.expect(pexpect.EOF)
        self.terminal.close()
        return self.terminal.exitstatus


SCENARIOS: dict[str, dict[str, Any]] = {
    # Nothing needs an async client: the runner questions must never come up.
    "testclient-only": {"project_name": "Orders API", "websockets": False},
    "websockets-anyio": {
        "project_name": "Orders API",
        "websockets": True,
        "async_runner": "anyio",
    },
    "concurrency-strict": {
        "project_name": "Orders API",
        "concurrency": True,
        "asyncio_mode": "strict",
    },
}
REFUSED_NAME = "class"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_questionnaire_asks_what_applies_and_renders_a_passing_project(
    scenario: str, template: Path, tmp_path: Path
) -> None:
    plan = SCENARIOS[scenario]
    project = tmp_path / "orders-api"
    session = Questionnaire(template, project)

    while (name := session.next_question()) is not None:
        if name == "package_name":
            # A keyword is refused with the reason, and the same question
            # stays open until a valid name is given.
            session.answer(name, REFUSED_NAME)
            session.terminal.expect_exact(f'package_name "{REFUSED_NAME}" is a')
            session.answer(name, "orders_api")
        elif name in plan:
            session.answer(name, plan[name])
        else:
            session.accept_default()

    assert session.finish() == 0, session.screen.text()
    assert_helps_shown_in_full(session)
    always_asked = [name for name, spec in session.specs.items() if "when" not in spec]
    assert set(always_asked) <= set(session.asked), session.asked
    assert "package_name" in session.asked
    answers = read_answers(project)
    needs_async_client = any(
        answers.get(feature, False) not in (False, "none") for feature in ASYNC_FEATURES
    )
    assert ("async_runner" in session.asked) == needs_async_client, session.asked
    assert ("asyncio_mode" in session.asked) == (
        needs_async_client and answers.get("async_runner") == "pytest-asyncio"
    ), session.asked
    assert answers["package_name"] == "orders_api"
    for question, value in plan.items():
        assert answers[question] == value
    assert (project / "src/orders_api/main.py").exists()
    assert_suite_passes(run_suite(project), at_least=4)


def assert_helps_shown_in_full(session: Questionnaire) -> None:
    """Every asked question's help is on the 80-column screen, line for line."""
    shown = session.screen.text()
    for name in session.asked:
        cut = [
            line
            for line in help_lines(session.specs[name])
            if not re.search(rf"^(🎤 )?{re.escape(line)}$", shown, re.MULTILINE)
        ]
        assert not cut, f"{name}: not shown in full at {COLUMNS} columns: {cut}"


# Copier prefixes a help's first line with the microphone emoji (two columns)
# and a space.
PROMPT_PREFIX = 3


@pytest.mark.parametrize("name", questions())
def test_every_help_line_fits_80_columns(name: str) -> None:
    """Questions the walks above do not reach (adopt mode's) are held to the
    width the walks show to be what a terminal displays in full."""
    spec = questions()[name]
    lines = help_lines(spec)
    too_long = [
        line
        for index, line in enumerate(lines)
        if len(line) + (PROMPT_PREFIX if index == 0 else 0) > COLUMNS
    ]
    assert not too_long, f"{name}: cut at {COLUMNS} columns: {too_long}"


def scenario_numbers() -> list[tuple[str, int]]:
    return [
        (name, int(match.group(1)))
        for name, spec in questions().items()
        if (match := re.search(r"Forcing scenario \((\d)\)", str(spec.get("help"))))
    ]


def test_forcing_scenarios_are_numbered_in_the_order_they_are_asked() -> None:
    numbered = scenario_numbers()
    assert {number for _, number in numbered} == {1, 2, 3}, numbered
    in_order = [number for _, number in numbered]
    assert in_order == sorted(in_order), f"asked in this order: {numbered}"


def documented_questions(markdown: str) -> list[str]:
    """Question names, in order, from the table under "## The questions"."""
    section = markdown.split("\n## The questions\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)


def test_the_questions_table_lists_every_question_in_the_order_asked() -> None:
    guide = (REPO_ROOT / "docs/guide.md").read_text()

    assert documented_questions(guide) == list(questions())
