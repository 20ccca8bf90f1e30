"""Every curated answer set renders a project that is lint-clean and whose own
suite passes with warnings as errors."""

from itertools import combinations
from pathlib import Path

import jinja2
import pytest
import yaml
from answer_sets import ANSWER_SETS, ASYNC_FEATURES, DATABASE_OPTIONS, PAIRED_FEATURES
from rendering import (
    REPO_ROOT,
    assert_ruff_clean,
    assert_suite_passes,
    read_answers,
    render,
    run_suite,
    server_environment,
)


def _enabled(answers: dict[str, object], feature: str) -> bool:
    value = answers.get(feature, False)
    return value not in (False, "none")


# Harness mode renders into existing projects: tests/adoption/test_adopt.py covers it.
COVERED_BY_ADOPTION_TESTS = {"scaffold"}


def test_answer_sets_cover_every_value_and_pair() -> None:
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    for name, spec in questions.items():
        if (
            name.startswith("_")
            or spec.get("when") is False
            or name in COVERED_BY_ADOPTION_TESTS
        ):
            continue
        if spec.get("type") == "bool":
            values = [True, False]
        elif "choices" in spec:
            choices = spec["choices"]
            values = list(choices.values() if isinstance(choices, dict) else choices)
        else:
            continue
        default = spec.get("default")
        if isinstance(default, str) and "{{" in default:
            # A default derived for adopted projects: a new service's value.
            default = jinja2.Template(default).render(scaffold="service")
        seen = {answers.get(name, default) for answers in ANSWER_SETS.values()}
        assert set(values) <= seen, f"{name}: no answer set uses {set(values) - seen}"
    for first, second in combinations(PAIRED_FEATURES, 2):
        assert any(
            _enabled(answers, first) and _enabled(answers, second)
            for answers in ANSWER_SETS.values()
        ), f"no answer set combines {first} and {second}"
    for option in DATABASE_OPTIONS:
        on = [answers for answers in ANSWER_SETS.values() if answers.get(option)]
        for feature in ASYNC_FEATURES:
            assert any(_enabled(answers, feature) for answers in on), (option, feature)
        for database in ASYNC_FEATURES["async_db"]:
            assert any(a["async_db"] == database for a in on), (option, database)
    assert any(
        all(
            _enabled(answers, feature)
            for feature in [*PAIRED_FEATURES, *DATABASE_OPTIONS]
        )
        for answers in ANSWER_SETS.values()
    ), "no all-features answer set"


@pytest.fixture(scope="module")
def default_readme(template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    project = render(template, tmp_path_factory.mktemp("readme") / "default")
    return (project / "README.md").read_text()


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_answer_set_renders_a_passing_lint_clean_project(
    name: str, template: Path, tmp_path: Path, default_readme: str
) -> None:
    answers = ANSWER_SETS[name]
    project = render(template, tmp_path / name, answers)

    # The README is the team's: no answer changes it, so toggling a feature
    # cannot conflict with their edits. What the answers wire in is described
    # in TESTING.md, which the template owns.
    assert (project / "README.md").read_text() == default_readme
    assert "[TESTING.md](TESTING.md)" in default_readme
    assert "`copier update` rewrites it" in (project / "TESTING.md").read_text()
    # The guide's numbered "forcing scenarios" are not explained in a project:
    # its docstrings and TESTING.md say why a test needs async_client instead.
    jargon = [
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".md"}
        and "scenario" in path.read_text().lower()
    ]
    assert not jargon, jargon

    recorded = read_answers(project)
    for question, value in answers.items():
        assert recorded[question] == value
    assert_ruff_clean(project)
    # Measured as CI measures it, and held to the project's own gate.
    gate = f"--cov-fail-under={recorded['coverage_fail_under']}"
    assert_suite_passes(
        run_suite(
            project, "--cov", gate, env=server_environment(project, answers, name)
        )
    )
