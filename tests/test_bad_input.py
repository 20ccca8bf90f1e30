"""Bad answers given on the command line (`--data`, `--data-file`) are refused
before anything is written: a non-zero exit, an error that names the question
and says how to fix it, and the destination exactly as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml


class BadInput(NamedTuple):
    question: str
    value: str
    # Words of the fix the error must spell out.
    fix: str
    # Other answers that make `question` asked at all.
    context: tuple[tuple[str, str], ...] = ()

    @property
    def answers(self) -> dict[str, str]:
        return {**dict(self.context), self.question: self.value}


RENAME = "pick another name"
IDENTIFIER = "use lowercase letters, digits and underscores"
ASYNC = (("websockets", "true"),)

BAD_INPUTS: dict[str, BadInput] = {
    "package-keyword": BadInput("package_name", "class", RENAME),
    "package-soft-keyword": BadInput("package_name", "match", RENAME),
    "package-uppercase": BadInput("package_name", "Orders", 'e.g. "orders"'),
    "package-dash": BadInput("package_name", "orders-api", 'e.g. "orders_api"'),
    "package-space": BadInput("package_name", "orders api", IDENTIFIER),
    "package-leading-digit": BadInput("package_name", "2fa", IDENTIFIER),
    "package-empty": BadInput("package_name", "", 'such as "orders_api"'),
    "package-stdlib": BadInput("package_name", "json", RENAME),
    "package-stdlib-asyncio": BadInput("package_name", "asyncio", RENAME),
    "package-test-tool": BadInput("package_name", "pytest", RENAME),
    "package-tests-dir": BadInput("package_name", "tests", RENAME),
    "package-framework": BadInput("package_name", "fastapi", RENAME),
    "project-blank": BadInput("project_name", "   ", "give the service a name"),
    "websockets-maybe": BadInput("websockets", "maybe", "--data websockets=true"),
    "concurrency-word": BadInput("concurrency", "sometimes", "concurrency=false"),
    "async-db-unknown": BadInput("async_db", "mysql", "'sqlite', 'postgresql'"),
    "async-db-wrong-case": BadInput("async_db", "SQLite", "'sqlite'"),
    "cache-unknown": BadInput("cache", "memcached", "'none', 'redis'"),
    "runner-unknown": BadInput("async_runner", "trio", "'anyio'", ASYNC),
    "asyncio-mode-unknown": BadInput("asyncio_mode", "legacy", "'strict'", ASYNC),
}


def copier_copy(
    template: Path, destination: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *options,
         str(template), str(destination)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def snapshot(directory: Path) -> dict[str, bytes] | None:
    """Every path under `directory` with its content; None when it does not exist."""
    if not directory.exists():
        return None
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        if path.is_file()
        else b"<dir>"
        for path in sorted(directory.rglob("*"))
    }


@pytest.fixture(params=["missing-destination", "existing-destination"])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    target = tmp_path / "service"
    if request.param == "existing-destination":
        target.mkdir()
        (target / "NOTES.md").write_text(
            "The team's notes, written before copier ran.\n"
        )
    return target


def assert_refused(result: subprocess.CompletedProcess[str], bad: BadInput) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    # The last line is the message the user acts on.
    message = result.stderr.strip().splitlines()[-1]
    assert f"'{bad.question}'" in message, message
    assert bad.fix in message, message


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_data_is_refused_and_nothing_is_written(
    case: str, template: Path, destination: Path
) -> None:
    bad = BAD_INPUTS[case]
    before = snapshot(destination)
    options = [f"--data={question}={value}" for question, value in bad.answers.items()]

    result = copier_copy(template, destination, *options)

    assert_refused(result, bad)
    assert snapshot(destination) == before


@pytest.mark.parametrize(
    "case",
    ["package-keyword", "package-stdlib", "websockets-maybe", "async-db-unknown"],
)
def test_bad_data_file_is_refused_and_nothing_is_written(
    case: str, template: Path, destination: Path, tmp_path: Path
) -> None:
    bad = BAD_INPUTS[case]
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(bad.answers))
    before = snapshot(destination)

    result = copier_copy(template, destination, f"--data-file={data_file}")

    assert_refused(result, bad)
    assert snapshot(destination) == before


def test_good_data_is_accepted(template: Path, destination: Path) -> None:
    """The refusals above are about the values: the same command with valid
    answers renders the project, the team's file untouched."""
    before = snapshot(destination) or {}

    result = copier_copy(
        template, destination, "--data=package_name=orders_api", "--data=websockets=yes"
    )

    assert result.returncode == 0, result.stderr
    after = snapshot(destination)
    assert after is not None
    assert (destination / "src/orders_api/main.py").exists()
    assert (destination / "tests/test_notifications.py").exists()
    assert {path: after[path] for path in before} == before
