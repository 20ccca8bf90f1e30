"""The generated suites' runs share the libraries' bytecode and never a project's
(`rendering.keep_library_bytecode`, `rendering.suite_environment`)."""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rendering import bare_suite, suite_bytecode, suite_environment

pytestmark = pytest.mark.quick


def run_python(project: Path, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=suite_environment(project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(params=["in the run", "elsewhere"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A project in the run's temporary directory, and one outside it, where
    some tests make theirs (the embedded PostgreSQL's, under its own TMPDIR)."""
    if request.param == "in the run":
        yield tmp_path / "svc"
        return
    elsewhere = Path(tempfile.mkdtemp(prefix="suite-bytecode-test-"))
    try:
        yield elsewhere / "svc"
    finally:
        shutil.rmtree(elsewhere)


def test_a_module_edited_at_the_same_size_in_the_same_second_is_read_afresh(
    project: Path,
) -> None:
    module = project / "src" / "settings.py"
    module.parent.mkdir(parents=True)
    module.write_text('CACHE_ATTRIBUTE = "state.redis"\n')
    written = module.stat()
    read = "import settings; print(settings.CACHE_ATTRIBUTE)"
    assert run_python(project, read) == "state.redis"

    # The edit a test makes right after a run: same size, same whole second.
    module.write_text('CACHE_ATTRIBUTE = "state.cache"\n')
    os.utime(module, ns=(written.st_atime_ns, written.st_mtime_ns))
    assert module.stat().st_size == written.st_size

    assert run_python(project, read) == "state.cache"
    # No project's module, this one's or another test's, is kept.
    assert not list(suite_bytecode["prefix"].rglob("settings.*.pyc"))


def test_the_libraries_and_pytests_rewrite_of_its_plugins_are_kept(
    tmp_path: Path,
) -> None:
    project = bare_suite(
        tmp_path / "svc", **{"test_nothing.py": "def test_nothing():\n    pass\n"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project,
        env=suite_environment(project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    prefix = suite_bytecode["prefix"]
    assert list(prefix.rglob("_pytest/main.cpython-*.pyc"))
    # xdist is loaded in every generated suite, and its plugin rewritten.
    assert list(prefix.rglob("xdist/plugin.*-pytest-*.pyc"))
    assert not (project / "tests" / "__pycache__").exists()
    assert not list(prefix.rglob("test_nothing*.pyc"))
