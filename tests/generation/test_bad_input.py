"""Bad answers given on the command line (`--data`, `--data-file`) are refused
before anything is written: a non-zero exit, an error that names the question
and says how to fix it, and the destination exactly as it was."""

from __future__ import annotations

import contextlib
import io
import runpy
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import copier
import pytest
import yaml
from answer_sets import ANSWER_SETS
from rendering import EXISTING_APPS, REPO_ROOT, load_extensions


class BadInput(NamedTuple):
    question: str
    # A string as on the command line; anything YAML holds in a data file.
    value: object
    # Words of the fix the error must spell out.
    fix: str
    # Other answers that make `question` asked at all.
    context: tuple[tuple[str, str], ...] = ()

    @property
    def answers(self) -> dict[str, object]:
        return {**dict(self.context), self.question: self.value}


# The name suggested in place of a reserved one.
RENAME = "_service"
IDENTIFIER = "(only a-z 0-9 _)"
ASYNC = (("websockets", "true"),)
ADOPT = (("scaffold", "adopt"),)
ADOPTED_APP = (*ADOPT, ("app_import", "main:app"))
ADOPTED_DB = (
    *ADOPTED_APP,
    ("async_db", "sqlite"),
    ("db_session_dependency", "main:get_session"),
)
ADOPTED_CACHE = (*ADOPTED_APP, ("cache", "redis"))
ADOPTED_AUTH = (*ADOPTED_APP, ("auth", "bearer"))
# The answers before database_url_env and redis_url_env, all valid.
ADOPTED_DB_SCHEMA = (*ADOPTED_DB, ("db_metadata", "main:metadata"))
ADOPTED_CACHE_DEPENDENCY = (*ADOPTED_CACHE, ("cache_dependency", "main:get_cache"))
ADOPTED_DB_AND_CACHE = (
    *ADOPTED_DB_SCHEMA,
    ("database_url_env", "APP_URL"),
    *ADOPTED_CACHE_DEPENDENCY[len(ADOPTED_APP) :],
)
ADOPTED_PG_SCHEMA = (
    *ADOPTED_APP,
    ("async_db", "postgresql"),
    *ADOPTED_DB_SCHEMA[len(ADOPTED_APP) + 1 :],
)
VARIABLE_NAME = "use a name, e.g."
HARNESS_VARIABLE = "yours, not "
ONE_LINE = "remove the whitespace"

BAD_INPUTS: dict[str, BadInput] = {
    "package-keyword": BadInput("package_name", "class", RENAME),
    "package-soft-keyword": BadInput("package_name", "match", RENAME),
    "package-uppercase": BadInput("package_name", "Orders", "try orders "),
    "package-dash": BadInput("package_name", "orders-api", "try orders_api "),
    "package-space": BadInput("package_name", "orders api", IDENTIFIER),
    "package-leading-digit": BadInput(
        "package_name", "2fa", "try service_2fa (leading digit)"
    ),
    "package-empty": BadInput("package_name", "", "name it, e.g. orders_api"),
    "package-stdlib": BadInput("package_name", "json", RENAME),
    "package-stdlib-asyncio": BadInput("package_name", "asyncio", RENAME),
    "package-test-tool": BadInput("package_name", "pytest", RENAME),
    "package-tests-dir": BadInput(
        "package_name", "tests", "try tests_service (tests/ folder)"
    ),
    "package-framework": BadInput("package_name", "fastapi", RENAME),
    "package-leading-underscore": BadInput("package_name", "_orders", "try orders "),
    "package-trailing-underscore": BadInput("package_name", "orders_", "try orders "),
    # Import names of what every generated project installs.
    "package-dependency-h11": BadInput("package_name", "h11", RENAME),
    "package-dependency-dotenv": BadInput("package_name", "dotenv", RENAME),
    "package-test-tool-xdist": BadInput("package_name", "xdist", RENAME),
    "package-removed-stdlib": BadInput("package_name", "telnetlib", RENAME),
    # main.py's routers import must fit 88 columns (and orders_..._test_gw0
    # PostgreSQL's 63 bytes, distinct per worker).
    "package-too-long": BadInput("package_name", "o" * 51, "shorten to 50 characters"),
    "project-blank": BadInput("project_name", "   ", "give a name, e.g."),
    "project-newline": BadInput(
        "project_name", "Orders\nAPI", "one line of plain text"
    ),
    "project-surrounding-space": BadInput(
        "project_name", " Orders ", 'remove the outer spaces: "Orders"'
    ),
    "project-html": BadInput(
        "project_name", "</title><script>alert(1)</script>", "leave out < and >"
    ),
    "project-too-long": BadInput("project_name", "x" * 61, "shorten to 60 characters"),
    "app-import-trailing-newline": BadInput(
        "app_import", "main:app\n", ONE_LINE, ADOPT
    ),
    "app-import-trailing-space": BadInput("app_import", "main:app ", ONE_LINE, ADOPT),
    "app-import-keyword": BadInput(
        "app_import", "orders.class:app", "'class' is a keyword", ADOPT
    ),
    "db-session-trailing-newline": BadInput(
        "db_session_dependency", "main:get_session\n", ONE_LINE, ADOPTED_DB
    ),
    "db-metadata-trailing-newline": BadInput(
        "db_metadata", "main:Base\n", ONE_LINE, ADOPTED_DB
    ),
    "cache-dependency-trailing-newline": BadInput(
        "cache_dependency", "main:get_cache\n", ONE_LINE, ADOPTED_CACHE
    ),
    "current-user-trailing-newline": BadInput(
        "current_user_dependency", "main:get_user\n", ONE_LINE, ADOPTED_AUTH
    ),
    "auth-token-function-keyword": BadInput(
        "auth_token_function",
        "main.import:make_token",
        "'import' is a keyword",
        (*ADOPTED_AUTH, ("current_user_dependency", "main:get_user")),
    ),
    "database-url-env-dash": BadInput(
        "database_url_env", "database-url", VARIABLE_NAME, ADOPTED_DB_SCHEMA
    ),
    "database-url-env-trailing-space": BadInput(
        "database_url_env", "DATABASE_URL ", ONE_LINE, ADOPTED_DB_SCHEMA
    ),
    "database-url-env-the-harness-own": BadInput(
        "database_url_env",
        "HARNESS_TEST_DATABASE_URL",
        HARNESS_VARIABLE,
        ADOPTED_DB_SCHEMA,
    ),
    "redis-url-env-leading-digit": BadInput(
        "redis_url_env", "1REDIS_URL", VARIABLE_NAME, ADOPTED_CACHE_DEPENDENCY
    ),
    "redis-url-env-the-harness-own": BadInput(
        "redis_url_env",
        "harness_test_redis_url",
        HARNESS_VARIABLE,
        ADOPTED_CACHE_DEPENDENCY,
    ),
    "redis-url-env-pytest-own": BadInput(
        "redis_url_env", "PYTEST_ADDOPTS", HARNESS_VARIABLE, ADOPTED_CACHE_DEPENDENCY
    ),
    "redis-url-env-the-database-one": BadInput(
        "redis_url_env",
        "APP_URL",
        "use another: database_url_env's",
        ADOPTED_DB_AND_CACHE,
    ),
    "cache-attribute-called": BadInput(
        "cache_attribute",
        "state.redis()",
        "use a path like state.redis",
        ADOPTED_CACHE,
    ),
    "cache-attribute-and-dependency": BadInput(
        "cache_dependency",
        "main:get_cache",
        "cache_attribute or cache_dependency, not both",
        (*ADOPTED_CACHE, ("cache_attribute", "state.redis")),
    ),
    "database-env-parts-no-database": BadInput(
        "database_env_parts",
        "host=PG_HOST,port=PG_PORT",
        "add the database part",
        ADOPTED_PG_SCHEMA,
    ),
    "database-env-parts-on-sqlite": BadInput(
        "database_env_parts",
        "host=PG_HOST,database=PG_DB",
        "answer database_url_env instead",
        ADOPTED_DB_SCHEMA,
    ),
    "database-env-parts-a-url": BadInput(
        "database_env_parts",
        "DATABASE_URL",
        "use part=VARIABLE pairs",
        ADOPTED_PG_SCHEMA,
    ),
    "redis-env-parts-unknown-part": BadInput(
        "redis_env_parts",
        "server=REDIS_HOST,db=REDIS_DB",
        "parts: host, port, db",
        ADOPTED_CACHE_DEPENDENCY,
    ),
    "redis-env-parts-the-database-url": BadInput(
        "redis_env_parts",
        "host=APP_URL,db=REDIS_DB",
        "of its own",
        ADOPTED_DB_AND_CACHE,
    ),
    "redis-env-parts-the-harness-own": BadInput(
        "redis_env_parts",
        "host=HARNESS_TEST_REDIS_URL,db=REDIS_DB",
        HARNESS_VARIABLE,
        ADOPTED_CACHE_DEPENDENCY,
    ),
    "fixture-prefix-no-underscore": BadInput(
        "fixture_prefix", "harness", "use e.g. harness_ (a-z + _)", ADOPTED_APP
    ),
    "fixture-prefix-trailing-newline": BadInput(
        "fixture_prefix", "harness_\n", "use e.g. harness_ (a-z + _)", ADOPTED_APP
    ),
    "derived-needs-async-client": BadInput(
        "needs_async_client", "false", "answer websockets, concurrency", ASYNC
    ),
    "derived-app-is-factory": BadInput(
        "app_is_factory", "true", "answer app_import instead", ADOPTED_APP
    ),
    "derived-shares-one-app-instance": BadInput(
        "shares_one_app_instance", "false", "cannot be set", ADOPTED_APP
    ),
    "websockets-maybe": BadInput("websockets", "maybe", "--data websockets=true"),
    "concurrency-word": BadInput("concurrency", "sometimes", "concurrency=false"),
    "factories-word": BadInput(
        "factories", "yes please", "factories=true", (("async_db", "sqlite"),)
    ),
    "async-db-unknown": BadInput("async_db", "mysql", "'sqlite', 'postgresql'"),
    "async-db-wrong-case": BadInput("async_db", "SQLite", "'sqlite'"),
    "cache-unknown": BadInput("cache", "memcached", "'none', 'redis'"),
    "auth-unknown": BadInput("auth", "oauth2", "'none', 'bearer'"),
    "runner-unknown": BadInput("async_runner", "trio", "'anyio'", ASYNC),
    "asyncio-mode-unknown": BadInput("asyncio_mode", "legacy", "'strict'", ASYNC),
    "coverage-over-100": BadInput("coverage_fail_under", "101", "number 0-100"),
    "coverage-fraction": BadInput("coverage_fail_under", "92.5", "=90"),
    "shards-zero": BadInput("ci_shards", "0", "--data ci_shards=2"),
    "shards-word": BadInput("ci_shards", "two", "--data ci_shards=2"),
}


def copy_command(template: Path, destination: Path, *options: str) -> list[str]:
    """`copier copy --trust --defaults` with `options`, as typed."""
    return ["copier", "copy", "--trust", "--defaults", *options,
            str(template), str(destination)]  # fmt: skip


def copier_copy(
    template: Path, destination: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """The command run by `python -m copier` in this process: the refusals
    come from Copier's command line as users meet it (an uncaught exception
    goes to `sys.excepthook`, as the interpreter hands it), without a new
    interpreter for each of a hundred cases. What a hook task prints goes to
    the file descriptors, not these streams: a case that runs the tasks uses
    `copier_command`."""
    argv = copy_command(template, destination, *options)
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "argv", argv),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            runpy.run_module("copier", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except Exception as error:
            # What the interpreter does with an uncaught exception: the hook
            # (the template's prints its refusals alone), then exit code 1.
            sys.excepthook(type(error), error, error.__traceback__)
            code = 1
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def copier_command(
    template: Path, destination: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", *copy_command(template, destination, *options)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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


MISSING = "missing-destination"
EXISTING = "existing-destination"


# The app an adopting case's answers name (main:app and the rest), in the
# destination: each import path is imported as it is answered.
ADOPTED_APP_SOURCE = """\
from fastapi import Depends, FastAPI
from sqlalchemy import MetaData

metadata = MetaData()


async def get_session():
    yield None


def get_cache():
    return None


def get_user():
    return None


app = FastAPI()


@app.get("/")
async def home(
    session=Depends(get_session), cache=Depends(get_cache), user=Depends(get_user)
) -> dict:
    return {}
"""


def adopting(bad: BadInput) -> bool:
    return "app_import" in dict(bad.context)


def with_destinations(cases: dict[str, BadInput]) -> list[object]:
    """Every case against an existing destination (the team's file must stay
    as it was); the first case of each question against a missing one too
    (Copier validates before it creates the directory, the same for all),
    unless it adopts: the app it names is in the existing one."""
    firsts = {bad.question: case for case, bad in reversed(cases.items())}
    return [
        pytest.param(case, kind, id=f"{kind}-{case}")
        for case, bad in cases.items()
        for kind in (
            (MISSING, EXISTING)
            if firsts[bad.question] == case and not adopting(bad)
            else (EXISTING,)
        )
    ]


@pytest.fixture(params=[MISSING, EXISTING])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    target = tmp_path / "service"
    if request.param == EXISTING:
        target.mkdir()
        (target / "NOTES.md").write_text(
            "The team's notes, written before copier ran.\n"
        )
    return target


def assert_refused(result: subprocess.CompletedProcess[str], bad: BadInput) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    # One message, not Copier's traceback ending in it.
    assert "Traceback" not in result.stderr, result.stderr
    # The last line is the message the user acts on.
    message = result.stderr.strip().splitlines()[-1]
    assert f"'{bad.question}'" in message, message
    assert bad.fix in message, message
    # The fix is about the answer, never the user's rights on a server.
    assert "permission" not in message.lower(), message


@pytest.mark.parametrize(
    ("case", "destination"), with_destinations(BAD_INPUTS), indirect=["destination"]
)
def test_bad_data_is_refused_and_nothing_is_written(
    case: str, template: Path, destination: Path
) -> None:
    bad = BAD_INPUTS[case]
    if adopting(bad):
        (destination / "main.py").write_text(ADOPTED_APP_SOURCE)
    before = snapshot(destination)
    options = [f"--data={question}={value}" for question, value in bad.answers.items()]

    result = copier_copy(template, destination, *options)

    assert_refused(result, bad)
    assert snapshot(destination) == before


# What only a data file can hold: YAML lists, mappings, numbers and booleans.
# Copier would read each of the first ones as true.
BAD_DATA_FILE_INPUTS: dict[str, BadInput] = {
    "websockets-list": BadInput("websockets", [False], "websockets: false"),
    "websockets-mapping": BadInput(
        "websockets", {"enabled": False}, "websockets: false"
    ),
    "concurrency-number": BadInput("concurrency", 2, "concurrency: true"),
    "shards-bool": BadInput("ci_shards", True, "ci_shards: 2"),
    "coverage-percent-text": BadInput("coverage_fail_under", "90%", "number 0-100"),
    # `websockets:` with nothing after it: YAML's null, which Copier's type
    # check refused with its traceback before any validator ran.
    "websockets-empty": BadInput(
        "websockets", None, 'write an answer after "websockets:"'
    ),
    "package-empty": BadInput("package_name", None, "remove that line"),
    "async-db-empty": BadInput("async_db", None, "to take the default"),
    "derived-needs-async-client-bool": BadInput(
        "needs_async_client", False, "cannot be set", ASYNC
    ),
    "app-import-trailing-newline": BAD_INPUTS["app-import-trailing-newline"],
    "package-keyword": BAD_INPUTS["package-keyword"],
    "package-stdlib": BAD_INPUTS["package-stdlib"],
    "websockets-maybe": BAD_INPUTS["websockets-maybe"],
    "async-db-unknown": BAD_INPUTS["async-db-unknown"],
}


@pytest.mark.parametrize(
    ("case", "destination"),
    with_destinations(BAD_DATA_FILE_INPUTS),
    indirect=["destination"],
)
def test_bad_data_file_is_refused_and_nothing_is_written(
    case: str, template: Path, destination: Path, tmp_path: Path
) -> None:
    bad = BAD_DATA_FILE_INPUTS[case]
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


# ── Adopting never writes outside the project ─────────────────────────────────

FLAT_APP = EXISTING_APPS / "flat"


def adopt(template: Path, project: Path) -> subprocess.CompletedProcess[str]:
    return copier_command(
        template, project, "--data=scaffold=adopt", "--data=app_import=main:app"
    )


@pytest.mark.parametrize(
    ("link", "points_to"),
    [
        ("tests/conftest.py", "shared/conftest.py"),
        ("pyproject.toml", "shared/pyproject.toml"),
        # The file pytest reads its settings from, where they are merged.
        ("pytest.ini", "shared/pytest.ini"),
        ("tests", "shared"),
        ("tests/harness", "shared"),
        # Dangling: writing through it would create the target.
        ("tests/conftest.py", "shared/absent.py"),
    ],
)
def test_adopting_refuses_a_link_leading_outside_the_project(
    link: str, points_to: str, template: Path, tmp_path: Path
) -> None:
    """A team whose conftest.py or pyproject.toml is a link to a shared file
    elsewhere: adopting would write into that file. Refused, naming the link,
    before anything is written, the shared file untouched."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "conftest.py").write_text('"""Shared fixtures of several repos."""\n')
    (shared / "pyproject.toml").write_text('[project]\nname = "shared"\n')
    (shared / "pytest.ini").write_text("[pytest]\naddopts = -ra\n")
    project = tmp_path / "project"
    shutil.copytree(FLAT_APP, project)
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    if (project / link).is_dir():
        shutil.rmtree(project / link)
    (project / link).symlink_to(tmp_path / points_to)
    before = snapshot(tmp_path)

    result = adopt(template, project)

    assert result.returncode != 0, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert f"replace the link {link} with a copy" in message
    assert f"it leads to {tmp_path / points_to}" in message
    assert "nothing was written" in message
    assert snapshot(tmp_path) == before


def test_adopting_follows_a_link_that_stays_inside_the_project(
    template: Path, tmp_path: Path
) -> None:
    """A link within the project (config kept in a subdirectory) is the
    project's own file: adopting writes through it."""
    project = tmp_path / "project"
    shutil.copytree(FLAT_APP, project)
    (project / "config").mkdir()
    (project / "config" / "pyproject.toml").write_text('[project]\nname = "flat"\n')
    (project / "pyproject.toml").symlink_to(project / "config" / "pyproject.toml")

    result = adopt(template, project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "pyproject.toml").is_symlink()
    assert "pytest" in (project / "config" / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("hook", "link", "arguments"),
    [
        ("register_harness.py", "tests/conftest.py", []),
        ("merge_pyproject.py", "pyproject.toml", ['{"app_import": "main:app"}']),
    ],
)
def test_adopt_hooks_refuse_a_link_leading_outside(
    hook: str, link: str, arguments: list[str], tmp_path: Path
) -> None:
    """The hooks hold the line on their own too (run by hand, or by a future
    task order): the shared file stays as it was."""
    shared = tmp_path / "shared.txt"
    shared.write_text("# shared\n")
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / link).symlink_to(shared)

    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hooks" / hook), *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert f"{link} is a symbolic link to {shared}" in result.stderr
    assert shared.read_text() == "# shared\n"


# ── What a package name may not shadow, derived from what projects install ────


def installed_import_names(requirements: set[str]) -> dict[str, set[str]]:
    """Import names of `requirements` and everything they pull in, as
    installed in this environment (which holds every dependency any generated
    project declares), by distribution."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    extras: dict[str, set[str]] = {}
    pending = [Requirement(requirement) for requirement in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in extras and set(requirement.extras) <= extras[name]:
            continue
        extras.setdefault(name, set()).update(requirement.extras)
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            wanted = extras[name] or {""}
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in wanted
            ):
                pending.append(dependency)
    names: dict[str, set[str]] = {}
    for distribution in extras:
        for file in metadata.files(distribution) or []:
            top = file.parts[0]
            if top == ".." or top.endswith((".dist-info", ".data", ".pth")):
                continue
            if len(file.parts) > 1 and top != "__pycache__":
                names.setdefault(distribution, set()).add(top)
            elif top.endswith((".py", ".so", ".pyd")):
                names.setdefault(distribution, set()).add(top.split(".")[0])
    return names


def test_package_names_that_shadow_what_projects_install_are_refused(
    template: Path, tmp_path: Path
) -> None:
    """Every import name a generated project installs (its dependencies, its
    test tools, and theirs) is refused as a package name: derived from the
    pyproject.toml of every curated answer set, so a dependency added to the
    template is covered or this test names it."""
    requirements: set[str] = set()
    for label, answers in ANSWER_SETS.items():
        copier.run_copy(
            str(template),
            str(tmp_path / label),
            data=answers,
            defaults=True,
            unsafe=True,
            quiet=True,
            # Only the file that declares what the project installs.
            exclude=["/**", "!/pyproject.toml"],
        )
        pyproject = tomllib.loads((tmp_path / label / "pyproject.toml").read_text())
        requirements |= set(pyproject["project"]["dependencies"])
        for group in pyproject.get("dependency-groups", {}).values():
            requirements |= {entry for entry in group if isinstance(entry, str)}

    installed = installed_import_names(requirements)

    extensions = load_extensions()
    unrefused = {
        f"{name} (from {distribution})"
        for distribution, names in installed.items()
        for name in names
        if not extensions.package_name_problem(name)
    }
    assert not unrefused, (
        f"add to INSTALLED_IMPORT_NAMES in extensions.py: {sorted(unrefused)}"
    )
    assert {"h11", "dotenv", "greenlet", "xdist", "sniffio", "idna"} <= {
        name for names in installed.values() for name in names
    }
