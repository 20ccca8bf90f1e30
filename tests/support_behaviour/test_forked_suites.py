"""A generated suite run in a fork (`forked_suites.run_pytest`) runs as
`python -m pytest` in a new interpreter does."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import forked_suites
import pytest
from forked_suites import FRESH_INTERPRETERS, LIBRARIES, Forker, run_pytest
from rendering import (
    PYTEST_WARNINGS_AS_ERRORS,
    bare_suite,
    outcome_counts,
    suite_environment,
)

pytestmark = pytest.mark.quick

# These suites have no pytest settings: pytest-asyncio, loaded, would warn.
PYTEST = [sys.executable, *PYTEST_WARNINGS_AS_ERRORS, "-p", "no:asyncio"]

# What a run sees of the interpreter it runs in, written where the test reads it.
SEES = """\
import json, os, sys, tempfile, warnings


def test_sees():
    seen = {
        "argv0": os.path.basename(sys.argv[0]),
        "path": sys.path[:3],
        "cwd": os.getcwd(),
        "variable": os.environ.get("A_VARIABLE"),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "pycache_prefix": sys.pycache_prefix,
        "tempdir": tempfile.gettempdir(),
        "stdin": sys.stdin.read(),
        "parent": os.getppid(),
        "main": sys.modules["__main__"].__spec__.name,
        "open_files": sorted(os.listdir("/dev/fd")),
    }
    with open(os.environ["SEEN"], "w") as file:
        json.dump(seen, file)
    print("to stdout")
    print("to stderr", file=sys.stderr)


def test_fails():
    assert 1 == 2


def test_warns():
    warnings.warn("a warning is an error", DeprecationWarning)
"""


@pytest.fixture(autouse=True)
def forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are of the forks, whatever the shell asks of other runs."""
    monkeypatch.delenv(FRESH_INTERPRETERS, raising=False)


def suite(tmp_path: Path) -> Path:
    project = bare_suite(tmp_path / "svc", **{"test_sees.py": SEES})
    (project / "src").mkdir()
    return project


def run(project: Path, **extra: str) -> tuple[dict[str, object], str, str, int]:
    seen = project.parent / "seen.json"
    env = suite_environment(
        project, A_VARIABLE="a value", SEEN=str(seen), TMPDIR=str(project.parent)
    )
    env.update(extra)
    result = run_pytest([*PYTEST, "-s"], cwd=project, env=env, timeout=120)
    return json.loads(seen.read_text()), result.stdout, result.stderr, result.returncode


def test_a_fork_runs_the_suite_as_a_new_interpreter_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = suite(tmp_path)
    monkeypatch.setenv(FRESH_INTERPRETERS, "1")
    new_seen, new_out, new_err, new_code = run(project)
    monkeypatch.delenv(FRESH_INTERPRETERS)
    seen, out, err, code = run(project)

    forker = forked_suites._forkers["forker"]
    assert forker is not None
    assert seen.pop("parent") == forker.process.pid
    assert new_seen.pop("parent") == os.getpid()
    assert seen == new_seen
    # pytest's own first (the tests' directory), then python's.
    assert seen["path"] == [str(project / "tests"), str(project), str(project / "src")]
    assert seen["cwd"] == str(project)
    assert seen["variable"] == "a value"
    assert seen["tempdir"] == str(project.parent)
    assert seen["stdin"] == ""
    assert seen["main"] == "pytest.__main__"
    assert code == new_code == 1
    assert outcome_counts(out) == outcome_counts(new_out) == {"passed": 1, "failed": 2}
    assert "to stdout" in out
    assert "to stderr" in err
    assert err == new_err


def test_a_run_that_outlasts_its_timeout_is_killed(tmp_path: Path) -> None:
    sleeps = (
        "import os, time\n\ndef test_sleeps():\n"
        "    print(os.getpid(), flush=True)\n    time.sleep(60)\n"
    )
    project = bare_suite(tmp_path / "svc", **{"test_sleeps.py": sleeps})
    command = [*PYTEST, "-s"]
    with pytest.raises(subprocess.TimeoutExpired) as expired:
        run_pytest(command, cwd=project, env=suite_environment(project), timeout=3)
    pid = int(str(expired.value.output).split()[-1])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_run_that_changes_what_python_reads_at_start_gets_a_new_interpreter(
    tmp_path: Path,
) -> None:
    seen, *_ = run(suite(tmp_path), PYTHONHASHSEED="0")
    assert seen["parent"] == os.getpid()


def test_only_libraries_that_import_cleanly_are_imported_ahead(tmp_path: Path) -> None:
    libraries = {
        "warns_at_import": "import warnings\nwarnings.warn('old', FutureWarning)\n",
        "sets_filters_at_import": "import warnings\nwarnings.simplefilter('ignore')\n",
        "imports_a_plugins_package": "import anyio\n",
        "fails_to_import": "raise ImportError('no')\n",
        "imports_cleanly": "import json\n",
    }
    for name, source in libraries.items():
        (tmp_path / f"{name}.py").write_text(source)
    forker = Forker(list(libraries), path=[tmp_path])
    try:
        assert forker.libraries == ["imports_cleanly"]
        assert not {"warns_at_import", "anyio"} & set(forker.modules)
    finally:
        forker.close()


def test_no_pytest_plugins_package_is_imported_ahead() -> None:
    """pytest would warn that it cannot rewrite it (an error under `-W error`)."""
    forker = Forker(LIBRARIES)
    try:
        assert "pytest" in forker.libraries
        imported = {module.split(".")[0] for module in forker.modules}
        plugins = forked_suites._plugin_packages()
        assert {"anyio", "xdist", "pytest_asyncio"} <= plugins
        assert not plugins & imported
        assert forker.threads == 1
    finally:
        forker.close()


def test_a_suite_that_imports_a_library_ahead_still_loads_its_conftest(
    tmp_path: Path,
) -> None:
    conftest = textwrap.dedent(
        """\
        import pytest
        import sqlalchemy


        @pytest.fixture
        def version():
            return sqlalchemy.__version__
        """
    )
    test = "def test_version(version):\n    assert version\n"
    project = bare_suite(
        tmp_path / "svc", **{"conftest.py": conftest, "test_version.py": test}
    )
    result = run_pytest(PYTEST, cwd=project, env=suite_environment(project), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
