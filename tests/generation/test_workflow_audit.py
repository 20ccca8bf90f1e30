"""The CI a new service gets: a workflow zizmor finds nothing in (audited
offline, for every answer set), the Python matrix plus one job at the declared
floors, a Dependabot config that keeps its pins and dependencies current, and
`copier check-update` for the template, which Dependabot does not follow."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from answer_sets import ALL_FEATURES, ANSWER_SETS
from releases import commit_everything, git
from rendering import REPO_ROOT, copy_template, read_answers, render

WORKFLOW = Path(".github/workflows/tests.yml")
DEPENDABOT = Path(".github/dependabot.yml")
SUPPORTED_PYTHONS = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())[
    "python_versions"
]["default"]
# `uses: owner/repo@<40 hex digits> # vX.Y.Z`
PINNED_USES = re.compile(r"^\s*- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def zizmor(*inputs: Path, persona: str = "regular") -> list[dict[str, Any]]:
    """zizmor's findings for the inputs, offline (no GitHub API, no network)."""
    result = subprocess.run(
        [
            Path(sys.executable).parent / "zizmor",
            "--offline",
            f"--persona={persona}",
            "--strict-collection",
            "--format",
            "json",
            *map(str, inputs),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Exit status 0 is no findings, 10 and up findings; anything else an error.
    assert result.returncode == 0 or result.returncode >= 10, result.stderr
    return json.loads(result.stdout or "[]")


def test_every_rendered_workflow_passes_zizmor(template: Path, tmp_path: Path) -> None:
    projects = [
        render(template, tmp_path / name, answers)
        for name, answers in ANSWER_SETS.items()
    ]
    for project in projects:
        assert (project / WORKFLOW).is_file(), project.name
        assert (project / DEPENDABOT).is_file(), project.name

    findings = zizmor(*projects)

    assert findings == [], json.dumps(findings, indent=1)[:4000]


def test_the_one_pedantic_finding_the_service_images_is_named_in_the_workflow(
    template: Path, tmp_path: Path
) -> None:
    """Pinning the service images by digest needs their registry, which this
    template's tests do not reach: until they are pinned, the workflow says so
    where a reader meets them, with the command that gives the digest."""
    project = render(template, tmp_path / "services", ANSWER_SETS[ALL_FEATURES])

    findings = zizmor(project, persona="pedantic")

    flagged = sorted(
        location["concrete"]["feature"].strip()
        for finding in findings
        for location in finding["locations"]
        if location["symbolic"]["kind"] == "Primary"
    )
    assert {finding["ident"] for finding in findings} == {"unpinned-images"}, flagged
    assert flagged == ["image: postgres:17", "image: redis:7"], flagged
    workflow = (project / WORKFLOW).read_text()
    assert "zizmor's pedantic persona reports them (unpinned-images)" in workflow
    assert "docker buildx imagetools inspect postgres:17" in workflow


def test_zizmor_reports_what_the_workflow_avoids(
    template: Path, tmp_path: Path
) -> None:
    """The audit above can fail: the workflow as it was before is flagged."""
    project = render(template, tmp_path / "service")
    workflow = (project / WORKFLOW).read_text()
    weakened = re.sub(r"@[0-9a-f]{40} # (v\d+)\.\d+\.\d+", r"@\1", workflow)
    weakened = weakened.replace("          persist-credentials: false\n", "")
    weakened = weakened.replace("        with:\n      - uses", "      - uses")
    weakened = re.sub(r"\npermissions: \{\}\n", "\n", weakened)
    weakened = re.sub(r"\n    permissions:\n      contents: read\n", "\n", weakened)
    weak = tmp_path / "weakened"
    (weak / WORKFLOW).parent.mkdir(parents=True)
    (weak / WORKFLOW).write_text(weakened)

    audits = {finding["ident"] for finding in zizmor(weak)}

    assert {"unpinned-uses", "artipacked", "excessive-permissions"} <= audits


# Unsplit without services; split with PostgreSQL and Redis; unsplit with both.
WORKFLOW_SETS = [
    "default",
    ALL_FEATURES,
    "websockets-concurrency-postgresql-redis-inline",
]


@pytest.mark.parametrize("name", WORKFLOW_SETS)
def test_workflow_matrix_services_pins_and_dependabot_config(
    name: str, template: Path, tmp_path: Path
) -> None:
    project = render(template, tmp_path / name, ANSWER_SETS[name])
    answers = read_answers(project)
    text = (project / WORKFLOW).read_text()
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["tests"]

    shards = answers["ci_shards"]
    matrix = job["strategy"]["matrix"]
    assert matrix["python-version"] == SUPPORTED_PYTHONS
    assert matrix["resolution"] == ["highest"]
    lowest = {"python-version": SUPPORTED_PYTHONS[0], "resolution": "lowest-direct"}
    if shards == 1:
        assert "shard" not in matrix
        assert matrix["include"] == [lowest]
    else:
        # The floors job is split as well: every shard of every combination.
        assert matrix["shard"] == list(range(1, shards + 1))
        assert matrix["include"] == [
            {**lowest, "shard": shard} for shard in range(1, shards + 1)
        ]
    assert job["env"]["UV_PYTHON"] == "${{ matrix.python-version }}"
    assert job["env"]["UV_RESOLUTION"] == "${{ matrix.resolution }}"
    # Read by `uv sync`: the installed packages are compiled to bytecode.
    assert job["env"]["UV_COMPILE_BYTECODE"] == "1"
    assert "uv sync" in [step.get("run") for step in job["steps"]]
    assert workflow["permissions"] == {}
    assert job["permissions"] == {"contents": "read"}
    uses = [line for line in text.splitlines() if "uses:" in line]
    assert uses, text
    for line in uses:
        assert PINNED_USES.match(line), line
    checkout = next(step for step in job["steps"] if "checkout" in step.get("uses", ""))
    assert checkout["with"]["persist-credentials"] is False

    services = job.get("services", {})
    if answers["async_db"] == "postgresql":
        assert set(services) == {"postgres", "redis"}
        assert job["env"]["TEST_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert job["env"]["TEST_REDIS_URL"] == "redis://localhost:6379/0"
    else:
        assert services == {}
        assert "TEST_DATABASE_URL" not in job["env"]

    dependabot = yaml.safe_load((project / DEPENDABOT).read_text())
    assert dependabot["version"] == 2
    updates = {update["package-ecosystem"]: update for update in dependabot["updates"]}
    assert set(updates) == {"github-actions", "uv"}
    for update in updates.values():
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] in {"daily", "weekly", "monthly"}


@pytest.mark.parametrize("name", WORKFLOW_SETS)
def test_each_job_keeps_its_coverage_and_one_job_gates_them_combined(
    name: str, template: Path, tmp_path: Path
) -> None:
    """Every test job (every shard) uploads its coverage data under a name no
    other job uses; the coverage job, after all of them, combines every one
    and applies the answer's threshold to the total."""
    project = render(template, tmp_path / name, ANSWER_SETS[name])
    answers = read_answers(project)
    workflow = yaml.safe_load((project / WORKFLOW).read_text())
    tests, coverage = workflow["jobs"]["tests"], workflow["jobs"]["coverage"]
    job = "${{ strategy.job-index }}"

    assert tests["env"]["COVERAGE_FILE"] == f".coverage.{job}"
    pytest_run = next(s["run"] for s in tests["steps"] if "pytest" in s.get("run", ""))
    # The same step for any number of shards: pytest reads the share it runs
    # from the environment.
    assert pytest_run == "uv run pytest -n auto --cov --cov-report="
    if answers["ci_shards"] > 1:
        assert tests["env"]["PYTEST_ADDOPTS"] == (
            f"--splits {answers['ci_shards']} --group ${{{{ matrix.shard }}}}"
        )
    else:
        assert "PYTEST_ADDOPTS" not in tests["env"]
    upload = next(s for s in tests["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == f"coverage-{job}"
    assert upload["with"]["path"] == ".coverage.*"
    # The data files start with a dot, which the action leaves out by default.
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["if-no-files-found"] == "error"

    assert coverage["needs"] == "tests"
    assert coverage["permissions"] == {"contents": "read"}
    download = next(
        s for s in coverage["steps"] if "download-artifact" in s.get("uses", "")
    )
    assert download["with"] == {"pattern": "coverage-*", "merge-multiple": True}
    runs = [step["run"] for step in coverage["steps"] if "run" in step]
    assert runs[-2:] == [
        "uv run coverage combine",
        f"uv run coverage report --fail-under={answers['coverage_fail_under']}",
    ]


def test_copier_check_update_reports_a_newer_template_commit(tmp_path: Path) -> None:
    """What the README offers in place of Dependabot for the template itself,
    whose versions are the commits of its main branch (no tags)."""
    template = copy_template(tmp_path / "template")
    commit_everything(template, "a version")
    older = git(template, "rev-parse", "HEAD").strip()
    commit_everything(template, "a newer version")
    status = {}
    for name, commit in [("older", older), ("newest", None)]:
        project = render(template, tmp_path / name, vcs_ref=commit)
        commit_everything(project, "generated")
        status[name] = subprocess.run(
            [sys.executable, "-m", "copier", "check-update", "--quiet"],
            cwd=project,
            capture_output=True,
            timeout=120,
            check=False,
        ).returncode

    # 2: a newer version of the template exists; 0: up to date.
    assert status == {"older": 2, "newest": 0}
