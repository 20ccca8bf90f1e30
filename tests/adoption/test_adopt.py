"""Adopting the harness into an existing project (`scaffold=adopt`).

Each layout under tests/existing_apps/ is a small project a team already has,
with tests of its own (see LAYOUTS). For each: adopting renders only the
harness and merges into, never overwrites, the project's files; with and
without `-n 2`, the project's own suite passes with the same counts as before,
beside the harness's smoke tests and the tests its team writes with the
harness (team_tests.py: on real PostgreSQL and Redis where the app has them);
`copier update` to a newer tag keeps every file of the project's (its merges
run again, changing nothing). One adoption per layout serves all of these.

The suites run through rendering.run_suite, which puts src/ on PYTHONPATH; the
flat layouts rely on the `pythonpath` the adoption merges into pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from adoption import (
    LAYOUTS,
    NO_ASYNC_ANSWERS,
    SHOP_WITH_UNFIT_DEPENDENCIES,
    STRICT_ANSWERS,
    Layout,
    adopt,
    copier_cli,
    copier_in,
    harness_owned,
    install_pins,
    merged_into,
    passed_tests,
    refused_output,
    run_hook,
    run_own_suite,
    snapshot,
    update_adopted,
)
from harness_template_hooks import (
    adoption_fit,
    merge_pyproject,
    project_survey,
    pytest_settings,
)
from releases import (
    commit_everything,
    git,
    released_at,
    replace_in,
    versioned_template,
)
from rendering import (
    EXISTING_APPS,
    HARNESS_ANSWERS_FILE,
    HOOKS,
    assert_suite_passes,
    database_url_for,
    outcome_counts,
    read_answers,
    render,
    run_captured,
    run_suite,
    suite_environment,
)
from rendering import run_own_suite as run_in_own_environment

# What v2 of the template changes in a harness-owned file.
SMOKE_TEST = "tests/test_harness_smoke.py"
SMOKE_TEST_SOURCE = (
    "template/{{ tests_dir }}/{% if scaffold == 'adopt' %}"
    "test_harness_smoke.py{% endif %}.jinja"
)
V2_CHANGE = ("The template owns this file", "The template owns this file, v2 too")
# Settings adopting may extend with the entries the harness needs.
LIST_SETTINGS = ("testpaths", "pythonpath")


@pytest.fixture(scope="module")
def tagged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of the template tagged 1.0.0, and 2.0.0 with a harness change."""
    return versioned_template(
        tmp_path_factory.mktemp("tagged-template"),
        v2=lambda repo: replace_in(repo / SMOKE_TEST_SOURCE, *V2_CHANGE),
    )


@dataclass
class Adopted:
    name: str
    layout: Layout
    project: Path
    before: dict[str, bytes]  # the team's files before adopting
    after: dict[str, bytes]  # everything right after adopting (1.0.0)
    own_counts: dict[str, int]  # the project's own suite, before adopting


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(name, marks=pytest.mark.xdist_group(f"adopt-{name}"))
        for name in LAYOUTS
    ],
)
def adopted(
    request: pytest.FixtureRequest,
    tagged_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Adopted:
    """A copy of the layout, a git repo, with the harness adopted at 1.0.0."""
    name: str = request.param
    layout = LAYOUTS[name]
    project = tmp_path_factory.mktemp(name) / "project"
    shutil.copytree(EXISTING_APPS / (layout.source or name), project)
    before = snapshot(project)
    if layout.own_environment:
        pins = install_pins(project)
        git(project, "init", "-q", "-b", "main")
        (project / ".git" / "info" / "exclude").write_text(".venv/\n")
        own = run_in_own_environment(
            project, suite_environment(project, **layout.own_variables())
        )
    else:
        own = run_own_suite(project, layout.own_variables())
    assert own.returncode == 0, own.stdout + own.stderr
    own_counts = outcome_counts(own.stdout)
    commit_everything(project, "the team's project")
    adopt(tagged_template, project, layout.answers, "1.0.0")
    after = snapshot(project)
    if layout.own_environment:
        # The team installs what adopting declared: its own pins stay as they were.
        assert install_pins(project) == pins
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)
    commit_everything(project, "adopt the FastAPI test harness")
    return Adopted(name, layout, project, before, after, own_counts)


def test_adoption_adds_only_the_harness_and_merges_the_rest(adopted: Adopted) -> None:
    before, after = adopted.before, adopted.after
    added = set(after) - set(before)
    changed = {path for path in set(before) & set(after) if before[path] != after[path]}

    assert set(before) <= set(after), "adopting deleted files of the project"
    assert all(merged_into(path) for path in added if not harness_owned(path)), added
    assert all(merged_into(path) for path in changed), changed
    tests_dir = adopted.layout.tests_dir
    assert adopted.layout.smoke_test in added
    assert f"{tests_dir}/harness/fastapi_harness/__init__.py" in added
    # Nothing of a new service: no src/ package, README, compose file or workflow.
    assert not any(path.startswith(("src/my_service", ".github/")) for path in added)
    assert "README.md" not in added
    answers = read_answers(adopted.project)
    assert answers["scaffold"] == "adopt"
    assert {key: answers[key] for key in adopted.layout.chosen} == (
        adopted.layout.chosen
    )


def test_an_existing_conftest_gains_one_line(adopted: Adopted) -> None:
    """Where pytest loads the tests' conftest.py first (a top-level tests/),
    it registers the harness; deeper down, the pytest settings' `-p` does."""
    conftest = f"{adopted.layout.tests_dir}/conftest.py"
    registration = 'pytest_plugins = ["fastapi_harness"]  # the FastAPI test harness\n'
    if "/" in adopted.layout.tests_dir:
        assert adopted.after.get(conftest) == adopted.before.get(conftest)
        pyproject = adopted.after["pyproject.toml"].decode()
        assert '"-p", "fastapi_harness"' in pyproject
    elif conftest in adopted.before:
        original = adopted.before[conftest].decode()
        assert adopted.after[conftest].decode() == original + registration
    else:
        assert adopted.after[conftest].decode().endswith(registration)


def test_pyproject_keeps_what_it_had_and_gains_the_test_setup(
    adopted: Adopted, tmp_path: Path
) -> None:
    if "pyproject.toml" not in adopted.after:
        # Nothing to put there: settings and requirements went to its own files.
        assert "pyproject.toml" not in adopted.before
        return
    merged = adopted.after["pyproject.toml"].decode()
    if "pyproject.toml" in adopted.before:
        # Floors below the harness's are raised in place (test_adopt_fit.py).
        pristine = tmp_path / "pristine"
        shutil.copytree(
            EXISTING_APPS / (adopted.layout.source or adopted.name), pristine
        )
        document = tomlkit.parse(adopted.before["pyproject.toml"].decode())
        answers = {**NO_ASYNC_ANSWERS, **read_answers(adopted.project)}
        answers["needs_async_client"] = adopted.layout.async_client
        merge_pyproject.raise_floors(
            document,
            merge_pyproject.harness_dependencies(
                answers, project_survey.survey(pristine)
            ),
        )
        original = tomlkit.dumps(document)
        comments = [line for line in original.splitlines() if "#" in line]
        assert all(comment in merged.splitlines() for comment in comments)
        assert_only_extended(
            tomlkit.parse(original).unwrap(), tomlkit.parse(merged).unwrap()
        )
    else:
        assert merged.startswith("# Created when adopting the FastAPI test harness")


def test_requirements_land_where_the_project_keeps_its_own(
    adopted: Adopted, tmp_path: Path
) -> None:
    """Every requirement the harness needs is declared once: those the project
    lacked all in the one place it keeps its test dependencies (a requirements
    file anywhere in its tree, a group, an extra), none it had declared again."""
    pristine = tmp_path / "pristine"
    shutil.copytree(EXISTING_APPS / (adopted.layout.source or adopted.name), pristine)
    before = project_survey.survey(pristine)
    home = project_survey.dependency_home(before)
    if adopted.layout.dependency_home:
        assert home.where() == adopted.layout.dependency_home
    after = project_survey.survey(adopted.project)
    answers = {**NO_ASYNC_ANSWERS, **read_answers(adopted.project)}
    answers["needs_async_client"] = adopted.layout.async_client
    # Judged on what the adopted project has installed (its own .venv, where
    # a layout keeps one), as adopting judged it.
    wanted = merge_pyproject.harness_dependencies(answers, after)

    assert {project_survey.package_name(r) for r in wanted} <= set(after.declared)
    had = {(d.name, d.file, d.table) for d in before.declarations}
    new = [d for d in after.declarations if (d.name, d.file, d.table) not in had]
    assert {(d.file, d.table) for d in new} <= {(home.file, home.table)}, new
    assert not [d.where for d in new if d.name in before.declared], new
    assert len(new) == len({d.name for d in new}), new
    if "pyproject.toml" not in adopted.before and "pyproject.toml" in adopted.after:
        created = tomlkit.parse(adopted.after["pyproject.toml"].decode())
        assert home.file == "pyproject.toml" or set(created) == {"tool"}, created


def test_pytest_settings_go_where_the_project_keeps_them(
    adopted: Adopted, tmp_path: Path
) -> None:
    after = project_survey.pytest_config(adopted.project)
    pristine = tmp_path / "pristine"
    shutil.copytree(EXISTING_APPS / (adopted.layout.source or adopted.name), pristine)
    before = project_survey.pytest_config(pristine)

    if before.exists:
        assert (after.file, after.section) == (before.file, before.section)
    if before.exists and before.file != "pyproject.toml":  # (that one: above)
        # Every line of it is kept, in order; only lists may grow at their end.
        kept = iter(adopted.after[before.file].decode().splitlines())
        for line in adopted.before[before.file].decode().splitlines():
            if line.strip():
                assert any(
                    now == line
                    or (now.startswith(line) and line.startswith(LIST_SETTINGS))
                    for now in kept
                ), f"{before.file}: {line!r} was changed or moved"
    pyproject_text = adopted.after.get("pyproject.toml", b"").decode()
    pyproject = tomlkit.parse(pyproject_text).unwrap()
    pytest_tables = pyproject.get("tool", {}).get("pytest", {})
    native = {key for key in pytest_tables if key != "ini_options"}
    assert not (native and "ini_options" in pytest_tables), "pytest would refuse"
    settings = {key: survey_value(after, key) for key in after.settings}
    assert "." in settings["pythonpath"]
    found = project_survey.survey(pristine)
    runner = adopted.layout.answers.get("async_runner") or adoption_fit.fitting(
        found, "async_runner"
    )
    assert read_answers(adopted.project).get("async_runner", runner) == runner
    if adopted.layout.async_client and runner == "pytest-asyncio":
        if found.uses_pytest_asyncio:
            # The project's own loop scopes are its own tests' business.
            key = "asyncio_default_test_loop_scope"
            assert settings.get(key) == survey_value(before, key)
        else:
            assert settings["asyncio_default_test_loop_scope"] == "session"


def survey_value(config: Any, key: str) -> Any:
    return pytest_settings.current_value(config, key)


def assert_only_extended(original: Any, merged: Any, where: str = "") -> None:
    """Every value of `original` is in `merged`: lists may only have grown at
    the end, tables may only have gained keys."""
    if isinstance(original, dict):
        for key, value in original.items():
            assert key in merged, f"{where}.{key} was removed"
            assert_only_extended(value, merged[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert merged[: len(original)] == original, f"{where} was changed"
    else:
        assert merged == original, f"{where} was changed"


def assert_own_smoke_and_team_tests_pass(
    adopted: Adopted, project: Path, workers: str | None, label: str
) -> None:
    """The acceptance of adopting: the project's own suite as before, the
    harness's smoke tests, and the tests its team writes with the harness
    (team_tests.py), on real PostgreSQL and Redis where the app has them."""
    layout = adopted.layout
    # A project whose own conftest FLUSHALLs one Redis cannot run its suite on
    # two workers at once (each wipes the other's keys): under xdist, one.
    workers = "1" if workers and layout.own_redis else workers
    args = ["-n", workers] if workers else ["-p", "no:xdist"]
    env = layout.environment(project, f"{adopted.name}_{label}")
    for path, (source, _) in layout.refused_tests.items():
        (project / path).write_text(source)
    try:
        # -vv: one line per test even where the project's addopts has -q.
        result = layout.run(project, "-vv", *args, env=env)
    finally:
        for path in layout.refused_tests:
            (project / path).unlink()

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    errors = counts.pop("error", 0) + counts.pop("errors", 0)
    assert errors == len(layout.refused_tests), output
    assert result.returncode == (1 if errors else 0), output
    assert not {"failed", "skipped"} & set(counts), output
    for _, messages in layout.refused_tests.values():
        for message in messages:
            assert message in " ".join(output.split())
    passed = passed_tests(result.stdout)
    assert set(layout.own_tests) | set(layout.smoke_tests()) <= passed, output
    added = {test for test in passed if test.split("[")[0] in layout.added_tests_ids()}
    assert {test.split("[")[0] for test in added} == layout.added_tests_ids(), output
    # The project's own tests: as many as before adopting, with the same outcomes.
    own_passed = counts["passed"] - len(layout.smoke_tests()) - len(added)
    assert {**counts, "passed": own_passed} == adopted.own_counts, output
    if layout.answers.get("async_db") == "postgresql":
        survey = project_survey.survey(project)
        assert "asyncpg" in survey.declared


def test_own_smoke_and_team_tests_pass_under_xdist(adopted: Adopted) -> None:
    """Right after adopting, on two xdist workers; serially after the update
    below (test_update_to_a_newer_tag_keeps_the_projects_files)."""
    assert_own_smoke_and_team_tests_pass(adopted, adopted.project, "2", "xdist")


# Adopting twice, on the layouts whose merges differ in kind: pytest settings
# in pyproject.toml, pytest 9's [tool.pytest], setup.cfg and pytest.ini;
# dependencies in requirements files and in Poetry's dev group; a conftest with
# fixtures of its own. Every layout's merges run again on its adopted project
# in the update below, which finds the project's files unchanged.
ADOPTED_TWICE = (
    "flat",
    "pytest9_native",
    "strict_setup_cfg",
    "pytest_ini",
    "poetry_dev_group",
    "own_fixtures",
)


@pytest.mark.parametrize(
    "adopted",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(f"adopt-{name}"))
        for name in ADOPTED_TWICE
    ],
    indirect=True,
)
def test_adopting_again_changes_nothing(
    adopted: Adopted, tagged_template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(adopted.project, project, symlinks=True)
    first = snapshot(project)

    adopt(tagged_template, project, adopted.layout.answers, "1.0.0")

    assert snapshot(project) == first


# The tasks that adopt (copier.yml's _tasks with scaffold == 'adopt').
ADOPT_TASKS = ("check_imports.py", "merge_pyproject.py", "register_harness.py")


def test_update_to_a_newer_tag_keeps_the_projects_files(
    adopted: Adopted,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "project"
    shutil.copytree(adopted.project, project, symlinks=True)
    before = snapshot(project)
    tasks_ran_in: list[tuple[str, Path]] = []
    run = subprocess.run

    def recorded(command: Any, *args: Any, **kwargs: Any) -> Any:
        # Copier runs each task with subprocess.run in the directory it renders.
        name = Path(str(command[1] if isinstance(command, list) else "")).name
        if name in ADOPT_TASKS:
            tasks_ran_in.append((name, Path.cwd().resolve()))
        return run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recorded)

    update_adopted(project)

    monkeypatch.undo()
    # In the project only, once each: not in the scratch copies Copier
    # renders the old and the new version into.
    assert sorted(tasks_ran_in) == [(name, project.resolve()) for name in ADOPT_TASKS]
    # Said as an update; the fixture names the prefix steered clear of were
    # reported when adopting, and are not collected again.
    said = capfd.readouterr().out
    assert "Updated the FastAPI test harness." in said, said
    assert "Adopted" not in said, said
    assert "fixture names:" not in said, said
    after = snapshot(project)
    assert {path: data for path, data in after.items() if not harness_owned(path)} == {
        path: data for path, data in before.items() if not harness_owned(path)
    }
    assert V2_CHANGE[1] in (project / adopted.layout.smoke_test).read_text()
    assert read_answers(project)["_commit"] == "2.0.0"
    # The whole acceptance again, serially: without xdist, as a team runs a
    # single test while it works.
    assert_own_smoke_and_team_tests_pass(adopted, project, None, "update_serial")


# The last version whose adopted harness was the package tests.harness in
# tests/harness/, reading TEST_DATABASE_URL and TEST_REDIS_URL.
TESTS_HARNESS_VERSION = "688ad7b"


@pytest.mark.parametrize("name", ["own_fixtures", "flat"])
def test_a_project_adopted_as_tests_harness_updates_in_place(
    name: str, tmp_path: Path
) -> None:
    """An earlier adoption: its harness moves into tests/harness/fastapi_harness/,
    its registration is renamed where it was written, it keeps the variables
    its CI sets, and its suite passes."""
    template = versioned_template(
        tmp_path / "template", v1=released_at(TESTS_HARNESS_VERSION)
    )
    layout = LAYOUTS[name]
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / name, project)
    commit_everything(project, "the team's project")
    adopt(template, project, layout.answers, "1.0.0", scaffold="harness")
    commit_everything(project, "adopt the FastAPI test harness")

    update_adopted(project)

    answers = read_answers(project)
    assert answers["scaffold"] == "adopt"
    assert (answers["tests_dir"], answers["environment_prefix"]) == ("tests", "")
    assert not (project / "tests/harness/__init__.py").exists()
    assert (project / "tests/harness/fastapi_harness/_project.py").exists()
    settings = (project / "pyproject.toml").read_text()
    conftest = (project / "tests/conftest.py").read_text()
    assert "tests.harness" not in settings + conftest
    assert 'pytest_plugins = ["fastapi_harness"]' in conftest
    env = suite_environment(project)
    if layout.answers.get("async_db") == "postgresql":
        env["TEST_DATABASE_URL"] = database_url_for(f"{name}_from_tests_harness")
    assert_suite_passes(run_suite(project, env=env))


# The last version whose adopting answer was `scaffold=harness`, now `adopt`.
HARNESS_ANSWER_VERSION = "6a9e797"


def test_an_adoption_answered_scaffold_harness_updates_without_a_question(
    tmp_path: Path,
) -> None:
    """Adopted when the answer was `harness`: `copier update`, asking nothing,
    records it as `adopt` and changes nothing else of the project's, and of
    its harness only what the new version changes."""
    template = versioned_template(
        tmp_path / "template",
        v1=released_at(HARNESS_ANSWER_VERSION),
        v2=lambda repo: replace_in(repo / SMOKE_TEST_SOURCE, *V2_CHANGE),
    )
    layout = LAYOUTS["flat"]
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "flat", project)
    commit_everything(project, "the team's project")
    adopt(template, project, layout.answers, "1.0.0", scaffold="harness")
    commit_everything(project, "adopt the FastAPI test harness")
    assert read_answers(project)["scaffold"] == "harness"
    before = snapshot(project)

    # As the team runs it, with every answer on record: no terminal to ask on.
    updated = copier_in(
        project,
        *("update", "--trust", "--skip-answered", "--vcs-ref", "2.0.0"),
        *("--answers-file", HARNESS_ANSWERS_FILE),
    )

    assert updated.returncode == 0, updated.stdout + updated.stderr
    # The update guard rendered the last version with the answers it knew.
    assert "Could not render" not in updated.stdout, updated.stdout
    after = snapshot(project)
    assert not [path for path, data in after.items() if b"<<<<<<< " in data]
    assert read_answers(project)["scaffold"] == "adopt"
    assert {path: data for path, data in after.items() if not harness_owned(path)} == {
        path: data for path, data in before.items() if not harness_owned(path)
    }
    # The harness, and the answers, are what adopting 2.0.0 renders.
    fresh = tmp_path / "fresh"
    shutil.copytree(EXISTING_APPS / "flat", fresh)
    commit_everything(fresh, "the team's project")
    adopt(template, fresh, layout.answers, "2.0.0")
    assert after == snapshot(fresh)
    assert V2_CHANGE[1] in (project / layout.smoke_test).read_text()
    env = layout.environment(project, "flat_from_scaffold_harness")
    assert_suite_passes(layout.run(project, env=env))


def test_an_empty_prefix_beside_colliding_fixtures_is_refused(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "own_fixtures", project)

    output = refused_output(
        template, project, "app_import=todo.main:app", "fixture_prefix="
    )

    assert (
        "your conftest files define fixtures under names the harness's fixtures "
        "use: app (tests/conftest.py); client (tests/conftest.py)"
    ) in output
    assert "Answer fixture_prefix=harness_" in output


def test_adopting_beside_fixtures_of_the_harnesss_names_says_which_keep_them(
    template: Path, tmp_path: Path
) -> None:
    """With the default prefix that fits, the adoption's report names the
    project's fixtures that keep their names (an update does not collect them
    again: test_update_to_a_newer_tag_keeps_the_projects_files)."""
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "own_fixtures", project)

    result = copier_cli(template, project, "app_import=todo.main:app")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "fixture names: your conftest files define app (tests/conftest.py), "
        "client (tests/conftest.py): the harness's fixtures are named "
        "harness_app, harness_client and so on, and yours keep their names."
    ) in result.stdout.splitlines(), result.stdout


def test_the_harness_reads_variables_of_its_own_beside_the_projects(
    template: Path, tmp_path: Path
) -> None:
    """The depot's conftest reads TEST_REDIS_URL (and FLUSHALLs it): the plain
    names are refused, naming the file, and the default prefix fits."""
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "src_tests", project)
    answers = [f"{k}={v}" for k, v in LAYOUTS["src_tests"].answers.items()]

    output = refused_output(template, project, *answers, "environment_prefix=")

    assert "your project reads TEST_REDIS_URL" in output, output
    assert (
        "Answer environment_prefix=HARNESS_: the harness then reads "
        "HARNESS_TEST_REDIS_URL." in output
    ), output


def test_fixtures_a_conftest_star_imports_are_seen(tmp_path: Path) -> None:
    """pytest is asked what the conftest files bring in: a `client` star-imported
    from another module collides, which parsing the conftest never saw."""
    found = {
        (fixture.name, fixture.file)
        for fixture in project_survey.project_fixtures(EXISTING_APPS / "src_tests")
    }
    parsed = {
        f.name for f in project_survey.conftest_fixtures(EXISTING_APPS / "src_tests")
    }

    assert ("client", "src/tests/fixtures/client.py") in found
    assert "client" not in parsed
    assert (
        adoption_fit.fitting(
            project_survey.survey(EXISTING_APPS / "src_tests"), "fixture_prefix", {}
        )
        == "harness_"
    )


@pytest.mark.parametrize(
    ("layout", "tests_dir"),
    [("src_tests", "src/tests"), ("flat", "tests"), ("pytest_ini", "tests")],
)
def test_the_harness_goes_where_the_tests_live(layout: str, tests_dir: str) -> None:
    project = EXISTING_APPS / layout

    assert (
        project_survey.tests_directory(project, project_survey.pytest_config(project))
        == tests_dir
    )


# ── The hooks on their own ────────────────────────────────────────────────────


def test_a_conflicting_pytest_setting_is_reported_never_overwritten(
    tmp_path: Path,
) -> None:
    original = (
        "[project]\n"
        'name = "orders"  # the service\n'
        'dependencies = ["fastapi"]\n'
        "\n"
        "[tool.pytest.ini_options]\n"
        "# auto: we like unmarked async tests\n"
        'asyncio_mode = "auto"\n'
        'asyncio_default_test_loop_scope = "function"\n'
    )
    (tmp_path / "pyproject.toml").write_text(original)
    answers = json.dumps(STRICT_ANSWERS)

    report = run_hook(tmp_path, "merge_pyproject.py", answers)

    merged = (tmp_path / "pyproject.toml").read_text()
    assert merged.startswith(original)
    conflicts = [line for line in report.splitlines() if "CONFLICT" in line]
    assert any('asyncio_mode = "auto" is kept' in line for line in conflicts)
    # A project already on pytest-asyncio keeps its loop scopes: its own async
    # fixtures depend on them, and the harness names the session loop itself.
    settings = tomlkit.parse(merged)["tool"]["pytest"]["ini_options"]
    assert "asyncio_default_fixture_loop_scope" not in settings
    assert "pytest-asyncio>=1.2" in tomlkit.parse(merged)["dependency-groups"]["dev"]

    again = run_hook(tmp_path, "merge_pyproject.py", answers)

    assert (tmp_path / "pyproject.toml").read_text() == merged
    assert "added" not in again
    assert "set to" not in again


# pytest collecting a project's tests, as its team runs it, writing nothing.
COLLECT_ONLY = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]


@pytest.mark.parametrize(
    ("file", "original", "section"),
    [
        ("pytest.ini", "[pytest]\naddopts = -ra\n", "[pytest]"),
        ("setup.cfg", "[tool:pytest]\naddopts = -ra\n\n[flake8]\n", "[tool:pytest]"),
        ("tox.ini", "[tox]\nenvlist = py311\n\n[pytest]\n", "[pytest]"),
        ("pytest.toml", '[pytest]\naddopts = ["-ra"]\n', "[pytest]"),
    ],
)
def test_settings_go_into_the_file_pytest_reads(
    tmp_path: Path, file: str, original: str, section: str
) -> None:
    (tmp_path / file).write_text(original)

    report = run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    merged = (tmp_path / file).read_text()
    assert f"{file} {section} asyncio_mode: set to" in report
    _head, _, rest = merged.partition(section)
    assert rest.split("\n[", 1)[0].count("asyncio_mode") == 1, merged
    assert merged.startswith(original.split(section)[0] + section)
    assert "tool" not in tomlkit.parse((tmp_path / "pyproject.toml").read_text())
    collected = run_captured(COLLECT_ONLY, cwd=tmp_path)
    assert "Cannot use both" not in collected.stdout + collected.stderr
    assert "PytestConfigWarning" not in collected.stdout + collected.stderr
    assert collected.returncode == 5, collected.stdout + collected.stderr  # none

    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    assert (tmp_path / file).read_text() == merged


def test_pytest_9_native_table_is_merged_into_not_beside(tmp_path: Path) -> None:
    original = (
        "[project]\n"
        'name = "notes"\n'
        "\n"
        "[tool.pytest]\n"
        'minversion = "9.0"\n'
        'addopts = ["-ra"]  # ours\n'
    )
    (tmp_path / "pyproject.toml").write_text(original)

    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))
    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    merged = tomlkit.parse((tmp_path / "pyproject.toml").read_text())
    assert "ini_options" not in merged["tool"]["pytest"]
    assert merged["tool"]["pytest"]["asyncio_mode"] == "strict"
    assert merged["tool"]["pytest"]["pythonpath"] == [".", "tests/harness"]
    collected = run_captured(COLLECT_ONLY, cwd=tmp_path)
    assert collected.returncode == 5, collected.stdout + collected.stderr


def test_a_conftest_with_its_own_pytest_plugins_is_left_alone(tmp_path: Path) -> None:
    conftest = tmp_path / "tests" / "conftest.py"
    conftest.parent.mkdir()
    conftest.write_text('pytest_plugins = ["tests.fixtures.users"]\n')

    report = run_hook(tmp_path, "register_harness.py")

    assert conftest.read_text() == 'pytest_plugins = ["tests.fixtures.users"]\n'
    assert 'add "fastapi_harness" to that list' in report


def test_the_hooks_do_nothing_in_copiers_scratch_copies(tmp_path: Path) -> None:
    scratch = tmp_path / "copier._main.old_copy.abc123"
    scratch.mkdir()

    run_hook(scratch, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))
    run_hook(scratch, "register_harness.py")
    run_hook(scratch, "check_imports.py", "app_import=missing.module:app")

    assert list(scratch.iterdir()) == []


def test_the_merged_dependencies_are_a_new_services_own(
    template: Path, tmp_path: Path
) -> None:
    """The hook's list mirrors template/pyproject.toml.jinja: same names, same pins."""
    answers = {
        "websockets": True,
        "concurrency": True,
        "async_db": "sqlite",
        "cache": "redis",
    }
    service = tomlkit.parse(
        (render(template, tmp_path / "service", answers) / "pyproject.toml").read_text()
    )
    declared = set(service["project"]["dependencies"])
    declared |= set(service["dependency-groups"]["dev"])

    wanted = merge_pyproject.harness_dependencies(
        {**answers, "needs_async_client": True, "async_runner": "pytest-asyncio"}
    )

    assert set(wanted) <= declared


# ── Wrong answers ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("app_import=main:missing", "has no attribute 'missing'"),
        ("app_import=orders.main:app", "module 'orders' is not importable"),
        ("app_import=main:ping", "ping is a function, not an ASGI app"),
    ],
)
def test_an_app_import_that_does_not_import_fails_clearly(
    answer: str, message: str, template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "flat", project)

    result = copier_cli(template, project, answer)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Refused by the question's validator, before anything is written.
    assert "Validation error for question 'app_import'" in output
    assert message in output
    assert "Fix:" in output
    assert "Nothing was written" in output
    assert snapshot(project) == snapshot(EXISTING_APPS / "flat")


def test_an_app_import_of_the_wrong_form_is_refused(
    template: Path, tmp_path: Path
) -> None:
    result = copier_cli(template, tmp_path / "project", "app_import=main.app")

    assert result.returncode != 0
    assert "use e.g. myapp.main:app" in result.stdout + result.stderr


def test_adopting_with_defaults_and_no_app_import_names_the_answer_to_give(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "flat", project)
    before = snapshot(project)

    result = copier_cli(template, project)

    assert result.returncode != 0
    assert "pass -d app_import=myapp.main:app" in result.stderr.splitlines()[-1]
    assert snapshot(project) == before


# ── Answers that contradict the project: refused before anything is written ───


@pytest.mark.parametrize(
    ("layout", "answers", "conflict", "fix"),
    [
        (
            "anyio_suite",
            (
                "app_import=chat.main:app",
                "websockets=true",
                "async_runner=pytest-asyncio",
            ),
            "this project's async tests run on anyio (tests marked anyio in "
            "tests/test_messages.py; an anyio_backend fixture in tests/conftest.py)",
            "Answer async_runner=anyio.",
        ),
        (
            "strict_setup_cfg",
            ("app_import=inventory.app:app", "concurrency=true", "asyncio_mode=auto"),
            "auto mode would change how this project's async tests run",
            "Answer asyncio_mode=strict, or set asyncio_mode = auto in setup.cfg "
            "[tool:pytest] yourself first.",
        ),
        (
            "async_resources",
            (
                "app_import=ledger.main:app",
                "cache=redis",
                "cache_dependency=ledger.cache:get_redis",
                "asyncio_mode=auto",
            ),
            "this project sets asyncio_mode = strict in pyproject.toml "
            "[tool.pytest.ini_options], which adopting never changes",
            "Answer asyncio_mode=strict.",
        ),
    ],
)
def test_an_answer_that_contradicts_the_projects_async_setup_is_refused(
    template: Path,
    tmp_path: Path,
    layout: str,
    answers: tuple[str, ...],
    conflict: str,
    fix: str,
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / layout, project)

    output = refused_output(template, project, *answers)

    assert conflict in output
    assert fix in output


def test_the_defaults_fit_the_projects_async_setup(
    template: Path, tmp_path: Path
) -> None:
    """Adopting with no async answer given picks what the project runs on."""
    for layout, app, expected in [
        ("anyio_suite", "chat.main:app", {"async_runner": "anyio"}),
        (
            "strict_setup_cfg",
            "inventory.app:app",
            {"async_runner": "pytest-asyncio", "asyncio_mode": "strict"},
        ),
        (
            "flat",
            "main:app",
            {"async_runner": "pytest-asyncio", "asyncio_mode": "auto"},
        ),
    ]:
        project = tmp_path / layout
        shutil.copytree(EXISTING_APPS / layout, project)

        result = copier_cli(template, project, f"app_import={app}", "concurrency=true")

        assert result.returncode == 0, result.stdout + result.stderr
        recorded = read_answers(project)
        assert {key: recorded[key] for key in expected} == expected, layout


def test_pins_the_harness_cannot_live_with_are_refused_in_one_message(
    template: Path, tmp_path: Path
) -> None:
    """Pins below even the adopted harness's floors, and a feature (WebSockets)
    whose client needs newer releases: every conflict in one message, with the
    exact versions, before anything is written; the rest of the stack is kept."""
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "pinned_old_stack", project)
    replace_in(project / "requirements-dev.txt", "pytest==8.1.1", "pytest==7.1.3")
    replace_in(project / "requirements-dev.txt", "httpx==0.23.3", "httpx==0.23.0")

    output = refused_output(
        template, project, "app_import=svc.main:app", "websockets=true"
    )

    assert output.count("the harness cannot be installed next to") == 1
    assert "needs pytest>=7.2, but you declare pytest==7.1.3" in output
    # WebSockets' client needs httpx 0.25.1, above the harness's own 0.23.1.
    assert "needs httpx>=0.25.1, but you declare httpx==0.23.0" in output
    assert (
        "WebSockets over async_client needs httpx-ws>=0.9, which needs "
        "httpx>=0.25.1, but you declare httpx==0.23.0: answer without that feature"
    ) in output
    # Its Starlette predates httpx2's: the harness would go with its httpx.
    assert "httpx2" not in output
    # What it runs on is kept: pytest-asyncio 0.20 with its own event_loop.
    assert "pytest-asyncio" not in output
    assert "event_loop" not in output


@pytest.mark.parametrize(
    ("pyproject", "runner", "conflict"),
    [
        # Before loop_scope (0.24): the harness runs on it all the same.
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio==0.21.2"]\n',
            "pytest-asyncio",
            "",
        ),
        (
            '[tool.poetry.group.dev.dependencies]\npytest-asyncio = "^0.23"\n',
            "pytest-asyncio",
            "",
        ),
        # Below the harness's floor: anyio fits, and pytest-asyncio is refused.
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio==0.19.0"]\n',
            "anyio",
            "you declare pytest-asyncio==0.19.0",
        ),
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio>=1.2"]\n',
            "pytest-asyncio",
            "",
        ),
    ],
    ids=["pep621-pin-0.21", "poetry-caret-0.23", "below-the-floor", "recent"],
)
def test_a_pytest_asyncio_pin_decides_the_runner(
    tmp_path: Path, pyproject: str, runner: str, conflict: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    survey = project_survey.survey(tmp_path)
    dependencies = merge_pyproject.harness_dependencies

    assert adoption_fit.fitting(survey, "async_runner") == runner
    answers = {
        **NO_ASYNC_ANSWERS,
        "async_runner": "pytest-asyncio",
        "asyncio_mode": "strict",
        "concurrency": True,
        "needs_async_client": True,
    }
    problems = " ".join(adoption_fit.verdict(survey, answers, dependencies))
    if conflict:
        assert conflict in problems
        assert "answer async_runner=anyio" in problems
    else:
        assert problems == ""


# What a TestClient-only adoption answers: no async client, database or cache.
TESTCLIENT_ONLY = {
    "needs_async_client": False,
    "websockets": False,
    "async_db": "none",
    "cache": "none",
}


def test_an_old_starlette_gets_plain_httpx_not_httpx2(tmp_path: Path) -> None:
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    # Before 1.10, and from 0.37 on, whose TestClient runs on httpx 0.28.
    (site / "starlette-0.46.2.dist-info").mkdir(parents=True)
    survey = project_survey.survey(tmp_path)

    wanted = merge_pyproject.harness_dependencies(TESTCLIENT_ONLY, survey)

    assert sorted(wanted) == ["httpx>=0.28", "pytest-xdist>=3.6.1", "pytest>=8.4"]


def test_a_pin_in_any_file_the_project_declares_counts(tmp_path: Path) -> None:
    """pyproject.toml admits the harness's pytest, a requirements file pins one
    below its floor: the pin is a conflict, named as declared."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\n'
        '[project.optional-dependencies]\ntest = ["pytest>=7"]\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("pytest==7.1.3\n")
    survey = project_survey.survey(tmp_path)

    found = adoption_fit.conflict(survey, "pytest>=7.2")

    assert found == "you declare pytest==7.1.3"


def test_a_fastapi_pinned_before_starlette_1_10_keeps_its_starlette(
    tmp_path: Path,
) -> None:
    """FastAPI 0.95 declared alone, nothing installed: its Starlette (0.26)
    predates 1.10, so neither httpx2 nor starlette>=1.10 is added (FastAPI
    before 0.133 cannot install beside Starlette 1.10)."""
    (tmp_path / "requirements.txt").write_text("fastapi==0.95.2\n")
    survey = project_survey.survey(tmp_path)

    wanted = merge_pyproject.harness_dependencies(TESTCLIENT_ONLY, survey)

    names = {re.split(r"[<>=!~;\[ ]", spec)[0] for spec in wanted}
    assert "httpx" in names
    assert not names & {"httpx2", "starlette"}


@pytest.mark.parametrize(
    "source",
    [
        'import os\n\nENGINE_URL = os.environ["DATABASE_URL"]\n',
        "from pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    database_url: str\n\n\n"
        "settings = Settings()\n",
    ],
    ids=["os-environ", "settings-object"],
)
def test_an_app_that_reads_the_environment_at_import_is_told_to_set_it(
    tmp_path: Path, source: str
) -> None:
    (tmp_path / "main.py").write_text(
        source + "\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    result = subprocess.run(
        [sys.executable, str(HOOKS / "check_imports.py"), "app_import=main:app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "reads the environment variable(s) DATABASE_URL" in result.stdout
    assert "run Copier with them set" in result.stdout
    assert "DATABASE_URL=... uvx" in result.stdout
    assert "without side effects" not in result.stdout


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "db_session_dependency=shop:get_legacy_sessionmaker",
            "get_legacy_sessionmaker hands out SQLAlchemy's synchronous sessionmaker",
        ),
        (
            "cache_dependency=shop:get_redis",
            "no route of the app depends on get_redis",
        ),
    ],
)
def test_a_dependency_the_override_cannot_reach_is_refused(
    tmp_path: Path, answer: str, message: str
) -> None:
    (tmp_path / "shop.py").write_text(SHOP_WITH_UNFIT_DEPENDENCIES)

    result = subprocess.run(
        [
            sys.executable,
            str(HOOKS / "check_imports.py"),
            "app_import=shop:app",
            answer,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    # A session, or a factory of AsyncSessions (db_session lends a joined one):
    # an async_sessionmaker, or a sessionmaker(class_=AsyncSession).
    fitting = [
        subprocess.run(
            [
                *(sys.executable, str(HOOKS / "check_imports.py")),
                *("app_import=shop:app", f"db_session_dependency=shop:{name}"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        for name in ("get_session", "get_sessionmaker", "get_async_legacy_sessionmaker")
    ]

    assert result.returncode == 1
    assert f"error: {answer}: {message}" in " ".join(result.stdout.split())
    assert "Fix:" in result.stdout
    assert [(run.returncode, run.stdout) for run in fitting] == [(0, "")] * 3


SQLITE_ANSWERS = {**STRICT_ANSWERS, "async_db": "sqlite"}


@pytest.mark.parametrize(
    ("original", "where", "added"),
    [
        (
            '[tool.poetry]\nname = "x"\nversion = "0"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.115"\n\n'
            '[tool.poetry.group.dev.dependencies]\npytest = "^8.4"  # ours\n',
            ("tool", "poetry", "group", "dev", "dependencies"),
            {
                "pytest": "^8.4",
                "pytest-asyncio": ">=1.2",
                "sqlalchemy": {"version": ">=2.0.36", "extras": ["asyncio"]},
            },
        ),
        (
            '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi"]\n\n'
            '[tool.uv]\ndev-dependencies = ["pytest>=8.4"]\n',
            ("tool", "uv", "dev-dependencies"),
            ["pytest>=8.4", "pytest-asyncio>=1.2", "sqlalchemy[asyncio]>=2.0.36"],
        ),
    ],
    ids=["poetry-group", "uv-dev-dependencies"],
)
def test_dependencies_go_where_the_project_keeps_its_own(
    tmp_path: Path, original: str, where: tuple[str, ...], added: Any
) -> None:
    (tmp_path / "pyproject.toml").write_text(original)

    report = run_hook(tmp_path, "merge_pyproject.py", json.dumps(SQLITE_ANSWERS))

    merged = (tmp_path / "pyproject.toml").read_text()
    assert merged.startswith(original.rstrip("\n").rsplit("\n", 1)[0])
    target: Any = tomlkit.parse(merged).unwrap()
    for key in where:
        target = target[key]
    if isinstance(added, dict):
        assert {name: target[name] for name in added} == added
    else:
        assert [entry for entry in target if entry in added] == added
    assert "dependency-groups" not in tomlkit.parse(merged)
    assert "added" in report
    run_hook(tmp_path, "merge_pyproject.py", json.dumps(SQLITE_ANSWERS))
    assert (tmp_path / "pyproject.toml").read_text() == merged
