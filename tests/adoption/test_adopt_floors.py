"""The floors an adopted harness declares are true: the lowest-direct matrix.

An adopted harness runs on the releases an existing project keeps, so its
floors (hooks/harness_template_hooks/dependencies.py, ADOPTED_FLOORS) sit far below
a new service's. Each is the lowest release on which the adopted layouts pass,
proven here, never read off a changelog: the old-stack layouts of
tests/adoption/test_adopt.py are adopted, then their .venv is rebuilt with
`uv pip install --resolution lowest-direct`
from what the harness requires (each at its floor) and the project's own pins
for everything else; every requirement of the harness's must land exactly on
its floor, and the project's own suite, the harness's smoke tests and the
team's tests must pass, serial and with `-n 2`.

Two layouts hold every adopt-mode floor between them, at a small cost (uv's
cache keeps the wheels): the Poetry-pinned depot (PostgreSQL, Redis, pytest
7.2, pytest-asyncio 0.20, httpx 0.23, on real servers) and the shelf (the
harness on anyio 3.6's plugin). httpx-ws keeps a new service's floor: it needs
anyio 4 and httpx 0.25.1, so no old stack takes WebSockets.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from adoption import (
    LAYOUTS,
    NO_ASYNC_ANSWERS,
    adopt,
    install_pins,
    passed_tests,
)
from harness_template_hooks import adoption_fit, dependencies, project_survey
from packaging.requirements import Requirement
from packaging.version import Version
from rendering import EXISTING_APPS, install_own_pins, outcome_counts, read_answers
from rendering import run_own_suite as run_in_own_environment

FLOOR_LAYOUTS = ("poetry_old_stack", "anyio_old_stack")


def harness_floors(project: Path, name: str) -> list[str]:
    """The harness's requirements for the adopted `project`, each at the oldest
    floor it runs on (as for a project whose pins exclude every newer one); its
    old Starlette is seen in the .venv its pins installed."""
    answers: dict[str, Any] = {**NO_ASYNC_ANSWERS, **read_answers(project)}
    answers["needs_async_client"] = LAYOUTS[name].async_client
    survey = project_survey.survey(project)
    needed: list[str] = dependencies.harness_requirements(
        answers,
        old_starlette=adoption_fit.old_starlette(survey),
        excluded=lambda spec: True,
    )
    return needed


def lowest_direct(project: Path, floors: list[str]) -> None:
    """The project's .venv anew: the harness's requirements at their lowest,
    the project's own pins for every other package."""
    harness = {Requirement(spec).name.lower() for spec in floors}
    pins = [
        declaration.text
        for declaration in project_survey.declarations(project)
        if declaration.name not in harness | {"python"}
    ]
    shutil.rmtree(project / ".venv")
    install_own_pins(
        project, [*floors, *pins], os.environ, "--resolution", "lowest-direct"
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xdist_group(f"floors-{name}"))
        for name in FLOOR_LAYOUTS
    ],
)
def test_every_adopt_mode_floor_passes_the_layout(
    name: str, template: Path, tmp_path: Path
) -> None:
    layout = LAYOUTS[name]
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / name, project)
    install_pins(project)
    own = run_in_own_environment(project, layout.environment(project, f"{name}_own"))
    own_counts = outcome_counts(own.stdout)
    adopt(template, project, layout.answers)
    floors = harness_floors(project, name)

    lowest_direct(project, floors)

    installed = project_survey.installed_versions(project)
    for spec in floors:
        requirement = Requirement(spec)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        floor = next(s.version for s in requirement.specifier if s.operator == ">=")
        name_ = dependencies.package_name(spec)
        assert Version(installed[name_]) == Version(floor), (spec, installed[name_])
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)
    expected = set(layout.own_tests) | set(layout.smoke_tests())
    for workers in (["-p", "no:xdist"], ["-n", "2"]):
        env = layout.environment(project, f"floors_{name}_{workers[-1]}")
        result = run_in_own_environment(project, env, "-vv", *workers)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        passed = passed_tests(result.stdout)
        assert expected <= passed, output
        added = {t for t in passed if t.split("[")[0] in layout.added_tests_ids()}
        assert {t.split("[")[0] for t in added} == layout.added_tests_ids(), output
        counts = outcome_counts(result.stdout)
        own_passed = counts["passed"] - len(layout.smoke_tests()) - len(added)
        assert {**counts, "passed": own_passed} == own_counts, output
