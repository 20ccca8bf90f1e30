"""The coverage gate and the CI shards of a new service, run as its workflow
runs them: each command is read from the rendered .github/workflows/tests.yml
and run here (`uv run` dropped: this environment holds what projects install),
with the environment the workflow gives it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from answer_sets import ANSWER_SETS
from rendering import (
    assert_suite_passes,
    read_answers,
    render,
    run_suite,
    suite_environment,
)

WORKFLOW = Path(".github/workflows/tests.yml")
# Split across runners, with no server to start.
SHARDED = "sqlite-websockets-strict-inline"
UNCOVERED_MODULE = '''\
"""Reports nobody has written a test for yet."""


def monthly_total(amounts: list[int]) -> int:
    total = 0
    for amount in amounts:
        if amount < 0:
            raise ValueError("amounts are never negative")
        total += amount
    return total


def describe(total: int) -> str:
    return "nothing" if total == 0 else f"{total} in all"
'''


def workflow_runs(project: Path) -> dict[str, Any]:
    """The tests job's pytest command and environment, and the coverage job's
    commands, as the workflow writes them."""
    jobs = yaml.safe_load((project / WORKFLOW).read_text())["jobs"]
    tests = jobs["tests"]
    pytest_step = next(s for s in tests["steps"] if "pytest" in s.get("run", ""))
    return {
        "pytest": pytest_step["run"],
        "env": tests["env"],
        "coverage": [
            step["run"] for step in jobs["coverage"]["steps"] if "run" in step
        ][-2:],
    }


def run_test_job(
    project: Path, runs: dict[str, Any], index: int = 0, shard: int = 1, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The tests job's pytest step as matrix job `index` (and `shard`) runs it."""
    contexts = {"strategy.job-index": index, "matrix.shard": shard}
    env = suite_environment(project)
    for key, value in runs["env"].items():
        env[key] = re.sub(
            r"\$\{\{ (strategy\.job-index|matrix\.shard) \}\}",
            lambda match: str(contexts[match.group(1)]),
            str(value),
        )
    command = shlex.split(runs["pytest"])
    assert command[:3] == ["uv", "run", "pytest"], command
    return run_suite(project, *command[3:], *extra, env=env)


def run_coverage_job(project: Path, runs: dict[str, Any]) -> str:
    """The coverage job's combine and report: what they print, or, when one
    fails, CoverageGateFailed with what it printed."""
    printed = ""
    for line in runs["coverage"]:
        command = shlex.split(line)
        assert command[:3] == ["uv", "run", "coverage"], command
        result = subprocess.run(
            [sys.executable, "-m", "coverage", *command[3:]],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        printed += result.stdout + result.stderr
        if result.returncode != 0:
            raise CoverageGateFailed(printed)
    return printed


class CoverageGateFailed(Exception):
    pass


def passed_tests(result: subprocess.CompletedProcess[str]) -> set[str]:
    return set(re.findall(r"PASSED (\S+)", result.stdout))


def test_the_gate_fails_ci_when_a_module_goes_untested(
    template: Path, tmp_path: Path
) -> None:
    project = render(template, tmp_path / "service")
    runs = workflow_runs(project)
    assert read_answers(project)["coverage_fail_under"] == 90

    assert_suite_passes(run_test_job(project, runs))
    report = run_coverage_job(project, runs)
    assert re.search(r"^TOTAL .* 100%$", report, re.M), report

    # A module no test imports still counts (the package is the source).
    package = project / "src" / "my_service"
    (package / "reports.py").write_text(UNCOVERED_MODULE)
    assert_suite_passes(run_test_job(project, runs))
    with pytest.raises(CoverageGateFailed) as failed:
        run_coverage_job(project, runs)

    assert "src/my_service/reports.py" in str(failed.value)
    assert re.search(r"total of \d+ is less than fail-under=90", str(failed.value))


def test_shards_run_every_test_once_and_their_coverage_meets_the_gate(
    template: Path, tmp_path: Path
) -> None:
    """The durations TESTING.md says to store, then each of the workflow's
    shards: together they run each test exactly once, on xdist, and the
    coverage job's combined total meets the project's gate."""
    answers = ANSWER_SETS[SHARDED]
    project = render(template, tmp_path / "service", answers)
    runs = workflow_runs(project)
    assert answers["ci_shards"] == 2

    stored = run_suite(project, "-n", "auto", "--store-durations", "-v")
    assert_suite_passes(stored)
    every_test = passed_tests(stored)
    durations = json.loads((project / ".test_durations").read_text())
    assert set(durations) == every_test

    shares = [run_test_job(project, runs, shard, shard, "-v") for shard in (1, 2)]

    for share in shares:
        assert_suite_passes(share)
        assert "workers [" in share.stdout, "a shard must still run on xdist"
    first, second = (passed_tests(share) for share in shares)
    assert first
    assert second
    assert not first & second
    assert first | second == every_test
    data = sorted(path.name for path in project.glob(".coverage.*"))
    assert data == [".coverage.1", ".coverage.2"]
    printed = run_coverage_job(project, runs)
    assert re.search(r"^TOTAL .* \d+%$", printed, re.M), printed
