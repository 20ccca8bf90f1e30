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
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest
import yaml
from adoption import LAYOUTS, snapshot
from answer_sets import ASYNC_FEATURES
from jinja2.sandbox import SandboxedEnvironment
from releases import commit_everything
from rendering import (
    EXISTING_APPS,
    HARNESS_ANSWERS_FILE,
    REPO_ROOT,
    assert_suite_passes,
    load_extensions,
    read_answers,
    run_suite,
)

ENTER = "\r"
DOWN = "\x1b[B"
UP = "\x1b[A"
# prompt_toolkit reads Ctrl-H as backspace.
BACKSPACE = "\x08"
TIMEOUT = 60
# The narrowest terminal people work in; tall enough that nothing scrolls away.
COLUMNS, ROWS = 80, 400
# Copier's own start of a refusal's line.
REFUSAL_PREFIX = "Validation error for question '{}': "


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

    def answer_with(self, reply: Callable[[str], object]) -> None:
        """Answer what the program asks of the terminal, as terminals do: the
        cursor's position, which prompt_toolkit asks before each prompt and
        otherwise waits a second for."""
        self.screen.write_process_input = reply

    # pexpect copies everything it reads into this "log file".
    def write(self, text: str) -> None:
        self.stream.feed(text)

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines()).strip()

    def unwrapped(self) -> str:
        """The text with lines the terminal wrapped at its edge joined again."""
        rows = [row.rstrip("\n") for row in self.screen.display]
        return "".join(
            row if len(row) == COLUMNS else row.rstrip() + "\n" for row in rows
        )


class Questionnaire:
    """`copier copy` in a pseudo-terminal, answered question by question."""

    def __init__(
        self, template: Path, destination: Path, cwd: Path | None = None
    ) -> None:
        self.specs = questions()
        self.asked: list[str] = []
        self.screen = Screen()
        self.terminal = pexpect.spawn(
            sys.executable,
            ["-m", "copier", "copy", "--trust", str(template), str(destination)],
            cwd=cwd,
            env={**os.environ, "TERM": "xterm-256color"},
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(ROWS, COLUMNS),
            timeout=TIMEOUT,
        )
        self.terminal.logfile_read = self.screen
        self.screen.answer_with(
            lambda reply: os.write(self.terminal.child_fd, reply.encode())
        )

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

    def refusal(self, name: str, value: str) -> str:
        """Type `value`, which the question refuses: the error line as shown.

        Copier shows a validator's message on one line under the prompt, cut
        at the terminal's edge; the line stays until the next answer is judged.
        """
        marker = REFUSAL_PREFIX.format(name)
        self.terminal.send(keys_for(self.specs[name], value))
        self.wait_for(lambda: self.lines_with(marker), marker)
        # The line is written in pieces: read until the terminal is quiet.
        while self.read_some(quiet_for=1.0):
            pass
        last = [line for line in self.screen.lines() if line][-1]
        # Still the same question: nothing was asked after the refusal.
        assert marker in last, f"{value!r} was not refused:\n{self.screen.text()}"
        return last

    def lines_with(self, text: str) -> list[str]:
        return [line for line in self.screen.lines() if text in line]

    def read_some(self, quiet_for: float) -> bool:
        """Feed what the terminal writes to the screen; False once it is quiet."""
        try:
            self.terminal.read_nonblocking(65536, timeout=quiet_for)
        except pexpect.TIMEOUT:
            return False
        return True

    def wait_for(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f"{what}:\n{self.screen.text()}"
            self.read_some(quiet_for=0.1)

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
# Bad answers typed at the prompt, each with the fix its refusal must show.
SERVICE_REFUSALS = {
    "project_name": [("  ", "e.g. Orders API")],
    "package_name": [
        ("class", "try class_service"),
        ("json", "try json_service"),
        ("pytest", "try pytest_service"),
        ("Orders-API", "try orders_api"),
        ("1abc", "try service_1abc (leading digit)"),
        ("", "e.g. orders_api"),
    ],
    # At the prompt: no --data to suggest, and nothing cut at the edge.
    "coverage_fail_under": [("abc", "type a whole number 0-100")],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_questionnaire_asks_what_applies_and_renders_a_passing_project(
    scenario: str, template: Path, tmp_path: Path
) -> None:
    plan = SCENARIOS[scenario]
    # Every refusal in one walk; the others check the first.
    refusals = (
        SERVICE_REFUSALS
        if scenario == "testclient-only"
        else {"package_name": SERVICE_REFUSALS["package_name"][:1]}
    )
    project = tmp_path / "orders-api"
    session = Questionnaire(template, project)

    while (name := session.next_question()) is not None:
        # Each bad answer is refused with its fix, and the same question stays
        # open until a valid answer is given.
        refuse_each(session, name, refusals.get(name, []))
        if name == "package_name":
            session.answer(name, "orders_api")
        elif name in plan:
            session.answer(name, plan[name])
        elif name in refusals:
            # The refused text is still in the field: type the default.
            session.answer(name, session.specs[name]["default"])
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


def refuse_each(
    session: Questionnaire, name: str, refusals: list[tuple[str, str]]
) -> None:
    for value, fix in refusals:
        shown = session.refusal(name, value)
        # A line cut at the terminal's edge fills every column.
        assert len(shown) < COLUMNS, f"{value!r}: cut at {COLUMNS} columns: {shown}"
        assert fix in shown, f"{value!r}: the fix {fix!r} is not shown: {shown}"


def test_a_relative_template_path_is_refused_at_the_prompt_without_a_traceback(
    template: Path, tmp_path: Path
) -> None:
    """`copier copy ../template-checkout my-service`, typed as a person would:
    the path is refused before any question, in one message naming the fix."""
    workspace = tmp_path / "work"
    workspace.mkdir()
    checkout = tmp_path / "template-checkout"
    shutil.copytree(template, checkout)
    session = Questionnaire(
        Path("../template-checkout"), Path("my-service"), cwd=workspace
    )

    assert session.finish() != 0, session.screen.text()
    shown = session.screen.unwrapped()
    assert "Traceback" not in shown, shown
    assert 'the template\'s path "../template-checkout" is relative' in shown, shown
    assert "Give the template's absolute path" in shown, shown
    assert not (workspace / "my-service").exists()


ADOPTED = "async_resources"
ADOPT_REFUSALS = {
    "app_import": [("", "e.g. myapp.main:app"), ("ledger.main.app", "myapp.main:app")],
    "db_session_dependency": [("get_db", "e.g. myapp.db:get_db")],
    "db_metadata": [("ledger.models", "e.g. myapp.models:Base")],
    "cache_dependency": [("ledger.cache:", "e.g. myapp.deps:get_redis")],
}
# Left to their defaults, which read the project: its async tests run in
# pytest-asyncio's strict mode.
FITTING_DEFAULTS = ("asyncio_mode",)


def test_adopting_through_the_questionnaire_renders_a_passing_harness(
    template: Path, tmp_path: Path
) -> None:
    """The ledger app, with async SQLAlchemy and redis.asyncio behind its own
    dependencies, adopts the harness answering question by question: the import
    paths are asked with no default, refused with the fix while malformed."""
    layout = LAYOUTS[ADOPTED]
    project = tmp_path / "ledger"
    shutil.copytree(EXISTING_APPS / ADOPTED, project)
    commit_everything(project, "The ledger service before adopting the harness")
    plan = {"scaffold": "adopt", **layout.answers}
    session = Questionnaire(template, project)

    while (name := session.next_question()) is not None:
        refuse_each(session, name, ADOPT_REFUSALS.get(name, []))
        if name in plan and name not in FITTING_DEFAULTS:
            session.answer(name, plan[name])
        else:
            session.accept_default()

    assert session.finish() == 0, session.screen.text()
    assert_helps_shown_in_full(session)
    assert set(ADOPT_REFUSALS) <= set(session.asked), session.asked
    assert "project_name" not in session.asked
    answers = read_answers(project)
    for question, value in plan.items():
        assert answers[question] == value, question
    assert (project / "tests/harness").is_dir()
    # The project's own tests and the harness's smoke tests (not the tests
    # the layout's team adds later).
    expected = {*layout.own_tests, *layout.smoke_tests()}
    # On the real servers its answers need, as every adoption test runs.
    result = run_suite(
        project, "-vv", env=layout.environment(project, "ledger_questionnaire")
    )
    assert_suite_passes(result, at_least=len(expected))
    passed = {
        line.split(" ")[0] for line in result.stdout.splitlines() if " PASSED" in line
    }
    assert expected <= passed, result.stdout


def test_a_choice_picked_at_the_prompt_that_contradicts_the_project_is_refused(
    template: Path, tmp_path: Path
) -> None:
    """Copier runs no validator on a choice picked from a list (only on typed
    and --data answers): asyncio_mode=auto, picked against the ledger's strict
    mode, is refused once the questions are answered, with nothing written."""
    layout = LAYOUTS[ADOPTED]
    project = tmp_path / "ledger"
    shutil.copytree(EXISTING_APPS / ADOPTED, project)
    before = snapshot(project)
    plan = {"scaffold": "adopt", **layout.answers}
    session = Questionnaire(template, project)

    while (name := session.next_question()) is not None:
        if name == "asyncio_mode":
            # The list opens on the fitting default, strict; auto is above it.
            session.terminal.send(UP + ENTER)
        elif name in plan:
            session.answer(name, plan[name])
        else:
            session.accept_default()

    assert session.finish() != 0, session.screen.text()
    assert "asyncio_mode" in session.asked
    shown = session.screen.unwrapped()
    assert "These answers do not fit this project; nothing was written:" in shown
    assert (
        "- asyncio_mode=auto: this project sets asyncio_mode = strict in "
        "pyproject.toml [tool.pytest.ini_options], which adopting never changes. "
        "Answer asyncio_mode=strict."
    ) in shown, shown
    assert snapshot(project) == before


# Answers a person may type at any text prompt, with the ones each question's
# validator tells apart (the walks above show some of them on the screen).
TYPED_BADLY = ["", " ", "a b", "class", "Orders-API", "x:", "main.app", "main:app "]
TYPED_BADLY_FOR = {
    "project_name": [" Orders ", "</title>", "x" * 61],
    "package_name": ["_orders", "json", "pytest", "tests", "o" * 51],
    "app_import": ["orders.class:app", "main:create_app(x)"],
}


def typed_questions() -> list[str]:
    """Questions answered by typing text: the ones whose refusals Copier shows
    on one line under the prompt (choices and yes/no prompts are not judged
    as typed)."""
    return [
        name
        for name, spec in questions().items()
        if "validator" in spec
        and "choices" not in spec
        and spec["type"] in ("str", "yaml")
    ]


@pytest.mark.parametrize("name", typed_questions())
def test_every_refusal_puts_its_fix_within_80_columns(
    name: str, tmp_path: Path
) -> None:
    """Each validator's message, rendered as Copier renders it for an answer
    typed at the prompt: the fix (up to the first ": " or " (" that follows it)
    fits one 80-column line after Copier's prefix. What follows may be cut."""
    refused = 0
    for value in TYPED_BADLY + TYPED_BADLY_FOR.get(name, []):
        message = typed_refusal(name, value, tmp_path)
        if not message:
            continue
        refused += 1
        fix = re.split(r": | \(", message, maxsplit=1)[0]
        line = REFUSAL_PREFIX.format(name) + fix
        assert len(line) <= COLUMNS, f"{value!r}: the fix is cut: {message}"
    assert refused, f"{name}: none of {TYPED_BADLY} was refused"


def typed_refusal(
    name: str,
    value: str,
    destination: Path,
    answers: dict[str, Any] | None = None,
) -> str:
    """The validator's message for `value` typed at the prompt, rendered as
    Copier renders it (no --data, no --defaults), after `answers` to the
    questions asked before; "" when it is accepted."""
    extensions = load_extensions()
    environment = SandboxedEnvironment(
        extensions=[
            "jinja2_ansible_filters.AnsibleCoreFiltersExtension",
            extensions.AnswerFilters,
            extensions.AdoptionExtension,
        ]
    )
    validator = environment.from_string(questions()[name]["validator"])
    context = {
        "scaffold": "adopt"
        if name in ADOPT_REFUSALS or name in TYPED_WHILE_ADOPTING
        else "service",
        **(answers or {}),
        "_copier_conf": {
            "defaults": False,
            "data": {},
            "dst_path": destination,
            "answers_file": HARNESS_ANSWERS_FILE,
        },
    }
    return validator.render({**context, name: value}).strip()


# What a newcomer types at a new service's prompts: each refusal is shown in
# full on the one line Copier gives it, so nothing of the reason is cut.
TYPED_BY_A_NEWCOMER = {
    "package_name": [
        *["1abc", "2fa", "Orders-API", "main.app", "", "class", "json"],
        # Names the project has: tests/, src/, pytest's conftest, the stdlib's test.
        *["tests", "src", "conftest", "test"],
        # Taken, and too long for "try NAME_service (why)" on the line.
        *["multiprocessing", "typing_extensions", "pytest_asyncio"],
    ],
    "coverage_fail_under": ["abc", "92.5", "101", "-1", "90%", "", "true"],
    "ci_shards": ["two", "0", "33", "1.5", ""],
}


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in TYPED_BY_A_NEWCOMER.items() for value in values],
)
def test_a_new_services_refusals_fit_80_columns_in_full(
    name: str, value: str, tmp_path: Path
) -> None:
    message = typed_refusal(name, value, tmp_path)

    assert message, f"{value!r} was not refused"
    line = REFUSAL_PREFIX.format(name) + message
    # A line filling every column cannot be told from one cut at the edge.
    assert len(line) < COLUMNS, f"{value!r}: cut at {COLUMNS} columns: {line}"
    # Typed at the prompt: there is no --data to change.
    assert "--data" not in message, message


def test_a_new_service_may_be_named_app(tmp_path: Path) -> None:
    """FastAPI's own tutorials name the package app; nothing of the project
    or the harness is imported as a top-level app, so the name is free."""
    assert typed_refusal("package_name", "app", tmp_path) == ""
    assert load_extensions().package_name_from("App") == "app"


# What a person adopting the harness types at its prompts, with the answers
# given before (the database's variable for the Redis questions). The project
# in the destination has a README.md, a tests/harness/ of its own and no
# db/alembic.ini.
TYPED_WHILE_ADOPTING: dict[str, list[tuple[str, dict[str, str]]]] = {
    "tests_dir": [
        ("a b", {}),
        ("/srv/tests", {}),
        ("../tests", {}),
        ("README.md", {}),
        # The project's own tests/harness/, where the harness would go.
        ("tests", {}),
    ],
    "database_url_env": [
        ("database-url", {}),
        ("1DATABASE_URL", {}),
        ("HARNESS_TEST_DATABASE_URL", {}),
        ("PYTEST_ADDOPTS", {}),
    ],
    "redis_url_env": [
        ("redis url", {}),
        ("harness_test_redis_url", {}),
        ("APP_URL", {"database_url_env": "APP_URL"}),
    ],
    "database_env_parts": [
        ("DATABASE_URL", {}),
        ("server=PGHOST,database=PGDATABASE", {}),
        ("host=PGHOST,port=PGPORT", {}),
        ("host=PGHOST,host=DB_HOST,database=PGDATABASE", {}),
        ("host=pg-host,database=PGDATABASE", {}),
        ("host=HARNESS_TEST_DATABASE_URL,database=PGDATABASE", {}),
        ("host=PG,database=PG", {}),
        ("host=PGHOST,database=APP_URL", {"database_url_env": "APP_URL"}),
        ("host=PGHOST, database=PGDATABASE", {}),
    ],
    "redis_env_parts": [
        ("REDIS_URL", {}),
        ("server=REDIS_HOST,db=REDIS_DB", {}),
        ("port=REDIS_PORT", {}),
        ("host=REDIS_HOST,db=REDIS_HOST", {}),
        ("host=APP_URL,db=REDIS_DB", {"database_url_env": "APP_URL"}),
    ],
    "alembic_config": [
        ("/etc/alembic.ini", {}),
        ("../alembic.ini", {}),
        ("db\\alembic.ini", {}),
        ("db/\talembic.ini", {}),
        ("db/alembic.ini", {}),
    ],
    "cache_attribute": [
        ("state.redis()", {}),
        ("app.state.redis", {}),
        ("state.class", {}),
    ],
    "fixture_prefix": [("harness", {}), ("Harness_", {}), ("a b", {})],
    "environment_prefix": [("harness_", {}), ("HARNESS", {}), ("A B", {})],
}


@pytest.mark.parametrize(
    ("name", "value", "answers"),
    [
        (name, value, answers)
        for name, typed in TYPED_WHILE_ADOPTING.items()
        for value, answers in typed
    ],
)
def test_adoptions_refusals_fit_80_columns_in_full(
    name: str, value: str, answers: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "README.md").write_text("The ledger service.\n")
    (tmp_path / "tests" / "harness").mkdir(parents=True)
    (tmp_path / "tests" / "harness" / "fixtures.py").write_text("")

    message = typed_refusal(name, value, tmp_path, answers)

    assert message, f"{value!r} was not refused"
    line = REFUSAL_PREFIX.format(name) + message
    assert len(line) < COLUMNS, f"{value!r}: cut at {COLUMNS} columns: {line}"
    assert "--data" not in message, message


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


# The answers that wire in async_client, each for a reason of its own.
ASYNC_ANSWERS = (
    "async_db",
    "cache",
    "websockets",
    "concurrency",
    "outbound_http",
    "streaming",
)


@pytest.mark.parametrize("name", ASYNC_ANSWERS)
def test_an_async_answer_says_in_plain_words_why_it_adds_async_client(
    name: str,
) -> None:
    shown = " ".join(help_lines(questions()[name]))

    assert "async_client" in shown
    assert "the test's own event loop" in shown


@pytest.mark.parametrize("name", questions())
def test_no_help_speaks_of_the_guides_numbered_scenarios(name: str) -> None:
    """The guide numbers the reasons a test needs async_client ("forcing
    scenario (1)"); a prompt cannot point there, so each help says the reason."""
    shown = " ".join(help_lines(questions()[name]))

    assert not re.search(r"scenario", shown, re.IGNORECASE), shown


def test_the_postgresql_answer_says_what_runs_with_and_without_a_server() -> None:
    spec = questions()["async_db"]
    shown = " ".join(help_lines(spec))

    assert "the server TEST_DATABASE_URL names" in shown
    assert "without it, each test run starts an embedded PostgreSQL from a" in shown
    assert "nothing to install" in shown
    assert re.search(r"\d+-\d+ s on a busy one", shown), shown
    label = next(
        label for label, value in spec["choices"].items() if value == "postgresql"
    )
    assert "one each run starts" in label, label


def documented_questions(markdown: str) -> list[str]:
    """Question names, in order, from the table under "## The questions"."""
    section = markdown.split("\n## The questions\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)


def test_the_questions_table_lists_every_question_in_the_order_asked() -> None:
    guide = (REPO_ROOT / "docs/guide.md").read_text()

    assert documented_questions(guide) == list(questions())


@pytest.mark.parametrize(
    ("existing", "name", "answers", "fix", "clashing"),
    [
        # own_fixtures' tests/conftest.py defines app and client.
        ("own_fixtures", "fixture_prefix", {}, "answer harness_", "app, client"),
        # src_tests' conftest reads TEST_REDIS_URL (and FLUSHALLs it).
        (
            "src_tests",
            "environment_prefix",
            LAYOUTS["src_tests"].answers,
            "answer HARNESS_",
            "TEST_REDIS_URL",
        ),
    ],
)
def test_a_clashing_prefix_typed_at_the_prompt_is_refused_fix_first(
    existing: str,
    name: str,
    answers: dict[str, Any],
    fix: str,
    clashing: str,
    tmp_path: Path,
) -> None:
    """An empty prefix typed beside the project's own names: the prefix that
    fits comes first, within Copier's 80-column line, then what clashes."""
    project = tmp_path / existing
    shutil.copytree(EXISTING_APPS / existing, project)

    message = typed_refusal(name, "", project, {**answers, name: ""})

    assert message.startswith(f"{fix} ("), message
    assert len(REFUSAL_PREFIX.format(name) + fix) < COLUMNS, message
    assert clashing in message, message
