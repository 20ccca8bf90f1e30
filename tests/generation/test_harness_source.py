"""The harness's modules as code: plain Python, linted and type-checked where
they are written.

Only tests/harness/_project.py is rendered from the answers; every other
module is copied as it is, so it can be checked here once for every project.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from answer_sets import ALL_FEATURES, ANSWER_SETS
from rendering import REPO_ROOT, copy_template, render

HARNESS = REPO_ROOT / "template" / "{{ harness_directory }}"
RENDERED = "_project.py.jinja"
# A feature's module is conditional by its name:
# `{% if cache != 'none' %}cache.py{% endif %}`.
CONDITIONAL_NAME = re.compile(r"\{%.*?%\}(?P<name>[^{]+)\{% endif %\}")
# What the harness had before its modules were plain: 180.
MOST_IFS = 60


def plain_modules() -> dict[str, Path]:
    """Every plain harness module, by the name projects get it under."""
    modules = {}
    for path in sorted(HARNESS.iterdir()):
        # Only what Copier renders: not a __pycache__ a local import left.
        if path.name == RENDERED or not path.is_file() or path.suffix == ".pyc":
            continue
        match = CONDITIONAL_NAME.fullmatch(path.name)
        modules[match["name"] if match else path.name] = path
    return modules


def test_only_the_project_module_is_rendered() -> None:
    rendered = [path.name for path in HARNESS.iterdir() if path.suffix == ".jinja"]
    assert rendered == [RENDERED]
    for name, path in plain_modules().items():
        assert name.endswith(".py"), path
        text = path.read_text()
        assert "{{" not in text, path
        assert "{%" not in text, path


def test_few_answer_branches_are_left_in_the_harness() -> None:
    branches = sum(
        len(re.findall(r"\{%-? *if\b", path.read_text()))
        for path in [HARNESS / RENDERED, *plain_modules().values()]
    )
    assert branches <= MOST_IFS


def ruff(*arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, "--no-cache", str(HARNESS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_plain_modules_pass_ruff_as_written() -> None:
    # Every module is read, those with conditional names included.
    read = ruff("check", "--show-files")
    for path in plain_modules().values():
        assert str(path) in read
    ruff("check")
    ruff("format", "--check")


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both runs: the second rechecks the harness, not the
    libraries it imports (most of mypy's time)."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.parametrize(
    "answer_set",
    [
        pytest.param(answers, marks=pytest.mark.xdist_group("mypy"))
        for answers in (ALL_FEATURES, "default")
    ],
)
def test_every_module_passes_mypy_strict(
    template: Path, tmp_path: Path, mypy_cache: Path, answer_set: str
) -> None:
    """Every plain module beside the _project.py a project renders: all the
    features' (the loaded modules import one another), and none."""
    project = render(template, tmp_path / "project", ANSWER_SETS[answer_set])
    harness = project / "tests" / "harness"
    for name, path in plain_modules().items():
        (harness / name).write_text(path.read_text())
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict"),
            *("--cache-dir", str(mypy_cache), "tests/harness"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bytecode_beside_the_modules_is_neither_listed_nor_rendered(
    tmp_path: Path,
) -> None:
    """An import of the template's modules in a shell without
    PYTHONDONTWRITEBYTECODE leaves a __pycache__ in template/."""
    template = copy_template(tmp_path / "template")
    cache = template / "template" / "{{ harness_directory }}" / "__pycache__"
    cache.mkdir()
    (cache / "definitions.cpython-311.pyc").write_bytes(b"\0")
    (cache.parent / "stray.pyc").write_bytes(b"\0")

    project = render(template, tmp_path / "project", ANSWER_SETS["default"])

    assert not list(project.rglob("__pycache__"))
    assert not list(project.rglob("*.pyc"))
