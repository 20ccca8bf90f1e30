"""Answers that reach code arrive escaped for the language they land in.

`project_name` is written into a Python string (the settings' app name), a
docstring (the package's), TOML (the description) and Markdown (the README's
heading), and FastAPI serves it in the docs page's <title>. Hostile names
render projects that build, pass ruff and their own suite with warnings as
errors, import without running anything, and show the name exactly as given.
The filters themselves are checked on many more strings, against the parsers
of each language.

`package_name` is written into imports and URLs in many files: projects pass
ruff whatever its length, up to the longest the validator accepts.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from answer_sets import ALL_FEATURES, ANSWER_SETS
from rendering import (
    assert_ruff_clean,
    assert_suite_passes,
    load_extensions,
    render,
    ruff,
    run_captured,
    run_suite,
    suite_environment,
)

extensions = load_extensions()

# Each would, pasted verbatim, break the file it lands in or run code when the
# package is imported (the marker directory is what the injected code makes).
HOSTILE_NAMES = {
    "string-injection": 'Svc" + __import__("os").mkdir("INJECTED") + "',
    "docstring-injection": 'Svc"""; __import__("os").mkdir("INJECTED"); """',
    # Backslashes, look-alike characters, Markdown and HTML entity syntax, and
    # Jinja, which must arrive as text.
    "lookalikes-markup": 'C:\\new O\u2019Brien \u2013 "R&D" *x* [d](x) #1 {{7*7}}',
}

# Every kind of character the filters must handle, whether or not a validator
# lets it through to a project.
NASTY_STRINGS = [
    *HOSTILE_NAMES.values(),
    "",
    '"',
    "'",
    '""',
    "'\"'",
    '"""',
    "'''",
    "\\",
    "trailing backslash \\",
    "line\nbreak",
    "carriage\rreturn\ttab",
    "nul\x00 bell\x07 del\x7f c1\x85",
    "line\u2028separator",
    "emoji 🚀 and astral \U0001d518",
    "Ελληνικά Русский 中文 עברית",
    "</title><script>alert(1)</script>",
    "{{ 7 * 7 }} {% raw %}",
    'It\'s "Quoted"',
    "It's \"Q",
]


@pytest.mark.quick
@pytest.mark.parametrize("text", NASTY_STRINGS)
def test_python_string_is_a_literal_of_the_text(text: str) -> None:
    literal = extensions.python_string(text)
    assert ast.literal_eval(literal) == text
    assert literal.isascii()
    assert "\n" not in literal


@pytest.mark.quick
@pytest.mark.parametrize("text", NASTY_STRINGS)
def test_docstring_text_is_the_docstring(text: str) -> None:
    source = f'"""{extensions.docstring_text(text)}: a FastAPI service."""\n'
    module = ast.parse(source)
    assert len(module.body) == 1
    assert ast.get_docstring(module, clean=False) == f"{text}: a FastAPI service."


@pytest.mark.quick
@pytest.mark.parametrize("text", NASTY_STRINGS)
def test_toml_string_is_a_basic_string_of_the_text(text: str) -> None:
    assert tomllib.loads(f"value = {extensions.toml_string(text)}\n") == {"value": text}


@pytest.mark.quick
def test_python_filters_write_what_ruff_keeps(tmp_path: Path) -> None:
    """ruff format leaves every literal as rendered and ruff check flags none
    (look-alike characters, RUF001/RUF002, are escaped)."""
    lines = ['"""Module."""', ""]
    for index, text in enumerate(NASTY_STRINGS):
        lines.append(f"NAME_{index} = {extensions.python_string(text)}")
        lines.append(f"def doc_{index}() -> None:")
        lines.append(f'    """{extensions.docstring_text(text)}: a FastAPI service."""')
        lines.append("")
    source = tmp_path / "literals.py"
    source.write_text("\n".join(lines))
    ruff(tmp_path, "format", "--no-cache", "--line-length", "1000", ".")
    formatted = source.read_text()
    for text in NASTY_STRINGS:
        assert extensions.python_string(text) in formatted, text
        assert f'"""{extensions.docstring_text(text)}: a' in formatted, text
    check = ruff(tmp_path, "check", "--no-cache", "--select", "RUF,W,E9", ".")
    assert check.returncode == 0, check.stdout


# CommonMark: a backslash before ASCII punctuation stands for that character.
MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Characters that, unescaped, would start markup on a heading line.
MARKDOWN_MARKUP = re.compile(r"(?<!\\)(?:\\\\)*[`*_\[\]<>#&!|~{}]")


@pytest.mark.quick
@pytest.mark.parametrize("text", [t for t in NASTY_STRINGS if "\n" not in t])
def test_markdown_text_is_literal_text(text: str) -> None:
    escaped = extensions.markdown_text(text)
    assert "\n" not in escaped
    assert MARKDOWN_ESCAPE.sub(r"\1", escaped) == " ".join(text.split())
    assert not MARKDOWN_MARKUP.search(MARKDOWN_ESCAPE.sub("", escaped)), escaped


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.inside = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.title += data


# Runs in the generated project: imports it, then reports what the name
# became in each place it reaches at runtime.
PROBE = """
import json, sys
from fastapi.testclient import TestClient
package = __import__(sys.argv[1] + ".main").main
with TestClient(package.app) as client:
    docs = client.get("/docs").text
print(json.dumps({
    "title": package.app.title,
    "docstring": sys.modules[sys.argv[1]].__doc__,
    "docs": docs,
}))
"""


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_hostile_project_name_renders_a_working_project(
    case: str, template: Path, tmp_path: Path
) -> None:
    name = HOSTILE_NAMES[case]
    project = render(template, tmp_path / "service", {"project_name": name})
    package = next((project / "src").iterdir()).name

    assert_ruff_clean(project)
    assert_suite_passes(run_suite(project, "-p", "no:asyncio"))

    # Importing runs nothing of the name, wherever it is imported from.
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, package],
        cwd=tmp_path,
        env=suite_environment(project),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert not list(tmp_path.rglob("INJECTED"))
    seen = json.loads(probe.stdout)
    assert seen["title"] == name
    assert seen["docstring"] == f"{name}: a FastAPI service."
    page = _Title()
    page.feed(seen["docs"])
    assert page.title == f"{name} - Swagger UI"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == f"{name}: a FastAPI service."
    heading = (project / "README.md").read_text().splitlines()[0]
    assert heading == f"# {extensions.markdown_text(name)}"


def test_hostile_project_name_builds(template: Path, tmp_path: Path) -> None:
    """The build backend takes the escaped pyproject: the wheel's metadata
    carries the name as given."""
    name = HOSTILE_NAMES["lookalikes-markup"]
    project = render(template, tmp_path / "service", {"project_name": name})
    build = run_captured(
        [sys.executable, "-m", "uv", "build", "--wheel", "--quiet",
         "--out-dir", str(tmp_path / "dist")],
        timeout=300,
        cwd=project,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith("/METADATA")]
        summary = [
            line.removeprefix("Summary: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Summary: ")
        ]
    assert summary == [f"{name}: a FastAPI service."]


# The answers that put the package's name on the most lines: every feature, and
# the variants whose lines differ (create_all imports create_schema; sqlite
# names its file after the package; auth without a database keeps users in
# memory, imported beside the other feature modules).
ALL_FEATURES_ANSWERS = ANSWER_SETS[ALL_FEATURES]
PACKAGE_NAME_ANSWERS = {
    "all-features": ALL_FEATURES_ANSWERS,
    "sqlite-create_all-inline": {
        **ALL_FEATURES_ANSWERS,
        "async_db": "sqlite",
        "migrations": "none",
        "sync_client": "inline",
    },
    "auth-without-database": {
        key: value
        for key, value in ALL_FEATURES_ANSWERS.items()
        if key not in {"async_db", "factories", "migrations"}
    },
}
LONGEST_PACKAGE_NAME = extensions.PACKAGE_NAME_MAX


def package_name_of_length(length: int) -> str:
    return ("orders_api_" * length)[: length - 1] + "z"


@pytest.mark.parametrize("length", [LONGEST_PACKAGE_NAME, 30, 3])
@pytest.mark.parametrize("answers", PACKAGE_NAME_ANSWERS)
def test_package_name_of_any_accepted_length_renders_lint_clean(
    answers: str, length: int, template: Path, tmp_path: Path
) -> None:
    """Lines naming the package format the same for every length accepted:
    ruff check and ruff format --check pass (no suite run: rendering only)."""
    name = package_name_of_length(length)
    assert extensions.package_name_problem(name) == ""
    longer = package_name_of_length(LONGEST_PACKAGE_NAME + 1)
    assert extensions.package_name_problem(longer) != ""

    answers_given = {**PACKAGE_NAME_ANSWERS[answers], "package_name": name}
    project = render(template, tmp_path / "service", answers_given)
    # The line a team edits to add routers stays one line, as ruff keeps it.
    main = (project / "src" / name / "main.py").read_text()
    assert f"from {name}.routers import greetings, health\n" in main
    assert_ruff_clean(project)
