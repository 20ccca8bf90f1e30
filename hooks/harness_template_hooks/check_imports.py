"""Adopt hook (hooks/check_imports.py): check that the answered import paths
name real objects; `refusal` judges one answer at the prompt (extensions.py).

`main` takes `question=package.module:name` arguments, empty answers skipped,
and `--environment=<JSON>`, which names the environment variables the app reads
at import (database_url_env, redis_url_env, and the part=VARIABLE pairs of
database_env_parts, redis_env_parts): each gets a placeholder when unset, as
the harness sets them in tests. The import runs in the project's own
interpreter (.venv/bin/python when there is one), with the project root and
src/ on the path.
A module of the project that cannot be found, or a missing name, fails with
which answer, what failed and how to fix it; a third-party package missing from
the interpreter only warns, since it proves nothing about the answer.
"""

import atexit
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .adopt_support import import_roots, in_project
from .project_survey import NOT_SEARCHED, redis_attributes

# Runs in the project's interpreter: imports each answer and reports one JSON
# object per answer on stdout.
PROBE = r"""
import importlib, json, os, re, sys, traceback

def missing_environment(error):
    # os.environ["NAME"] at import, or a settings class with a required field.
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        name = error.args[0]
        frames = traceback.extract_tb(error.__traceback__)
        if name not in os.environ and any("environ" in (f.line or "") for f in frames):
            return [name]
    if type(error).__name__ == "ValidationError" and hasattr(error, "errors"):
        names = [
            str(e["loc"][0]).upper() for e in error.errors()
            if e.get("type") == "missing" and e.get("loc")
        ]
        return [n for n in names if n not in os.environ]
    return []

def kind_of(obj):
    return [cls.__name__ for cls in type(obj).__mro__]

def served_routes(routes):
    # FastAPI 0.137 on keeps an included router as one entry of `routes`; its
    # routes as served (the inclusion's dependencies added) are behind it.
    for route in routes or []:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            yield route
            continue
        for context in contexts():
            yield getattr(context, "starlette_route", None) or context

def calls_of_routes(app):
    # Every dependency any route (HTTP or WebSocket) runs, through sub-dependencies.
    calls, pending = set(), list(served_routes(getattr(app, "routes", [])))
    while pending:
        route = pending.pop()
        mounted = getattr(getattr(route, "app", None), "routes", [])
        pending.extend(served_routes(mounted))
        dependants = [getattr(route, "dependant", None)]
        while dependants:
            dependant = dependants.pop()
            for sub in getattr(dependant, "dependencies", []) if dependant else []:
                calls.add(sub.call)
                dependants.append(sub)
    return calls

def makes_async_sessions(factory):
    # sessionmaker(engine, class_=AsyncSession): SQLAlchemy 1.4's async idiom.
    made = getattr(factory, "class_", None)
    return any(c.__name__ == "AsyncSession" for c in getattr(made, "__mro__", ()))

def hands_out_a_sync_sessionmaker(function):
    # SQLAlchemy's synchronous sessionmaker: a module-level one yielded or
    # returned, or one named by the return annotation. Supported: an
    # async_sessionmaker, and a sessionmaker whose class_ is an AsyncSession.
    import ast, inspect, textwrap
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        tree = None
    namespace = getattr(function, "__globals__", {})
    factories = [
        namespace.get(node.value.id)
        for node in (ast.walk(tree) if tree else ())
        if isinstance(node, (ast.Yield, ast.Return))
        and isinstance(node.value, ast.Name)
        and type(namespace.get(node.value.id)).__name__ == "sessionmaker"
    ]
    if any(makes_async_sessions(factory) for factory in factories):
        return False
    annotation = str(inspect.signature(function).return_annotation)
    return bool(factories) or bool(re.search(r"\bsessionmaker\b", annotation))

def reports_for(answers):
    application = None
    reports = []
    for question, path in answers.items():
        module_name, _, name = path.partition(":")
        factory = name.endswith("()")
        name = name.removesuffix("()")
        report = {"question": question, "path": path}
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            ours = module_name == missing or module_name.startswith(missing + ".")
            report.update(status="not_found" if ours else "dependency_missing",
                          detail=missing)
        except Exception as error:
            names = missing_environment(error)
            if names:
                report.update(status="environment", detail=" ".join(names))
            else:
                report.update(
                    status="import_error", detail=f"{type(error).__name__}: {error}"
                )
        else:
            obj = getattr(module, name, None)
            if obj is None:
                report.update(status="no_name", detail=name)
            elif question == "app_import" and factory and not callable(obj):
                report.update(status="wrong_kind", detail=f"{name} is not callable")
            elif question == "app_import" and not factory and (
                "Starlette" not in kind_of(obj)
            ):
                kind = type(obj).__name__
                report.update(status="wrong_kind",
                              detail=f"{name} is a {kind}, not an ASGI app")
            elif question == "db_metadata" and "MetaData" not in kind_of(
                getattr(obj, "metadata", obj)
            ):
                report.update(
                    status="wrong_kind",
                    detail=f"{name} is neither a MetaData nor a declarative Base",
                )
            elif question.endswith(("_dependency", "_function")) and not callable(obj):
                report.update(status="wrong_kind", detail=f"{name} is not callable")
            elif question == "db_session_dependency" and hands_out_a_sync_sessionmaker(
                obj
            ):
                report.update(status="sync_factory", detail=name)
            elif (
                question.endswith("_dependency")
                and application is not None
                and obj not in calls_of_routes(application)
            ):
                report.update(status="unused", detail=name)
            else:
                report.update(status="ok")
                if question == "app_import":
                    try:
                        application = obj() if factory else obj
                    except Exception:
                        application = None
        reports.append(report)
    return reports

# Reports go to the stdout this process started with; whatever the project
# prints while it is imported goes to stderr with the rest of its output.
channel = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
# One request in the arguments, or one per line on stdin (a kept prober).
requests = sys.argv[1:] or iter(sys.stdin.readline, "")
for request in requests:
    channel.write(json.dumps(reports_for(json.loads(request))) + "\n")
    channel.flush()
"""

FIXES = {
    "not_found": (
        "module {detail!r} is not importable from {roots}",
        "give the module path as you would import it, relative to the project "
        "root or src/ (e.g. myapp.main:app for src/myapp/main.py)",
    ),
    "no_name": (
        "the module has no attribute {detail!r}",
        "name the object after the colon exactly as the module defines it",
    ),
    "wrong_kind": ("{detail}", "point the answer at the right object"),
    "import_error": (
        "importing it raised {detail}",
        "make the module importable without side effects that fail here",
    ),
    "sync_factory": (
        "{detail} hands out SQLAlchemy's synchronous sessionmaker; db_session is "
        "an AsyncSession in the test's transaction, on the test's event loop, "
        "which a synchronous session cannot join",
        "answer a dependency that yields an AsyncSession, or one that hands out "
        "an async_sessionmaker (routes opening `async with factory() as "
        "session:`): db_session overrides either",
    ),
    "unused": (
        "no route of the app depends on {detail}, directly or through other "
        "dependencies, so overriding it changes nothing (a resource kept on "
        "app.state and read there is never replaced{attribute})",
        "name the dependency your routes use (their Depends(...)), or have "
        "them get the resource through one",
    ),
    "environment": (
        "importing it reads the environment variable(s) {detail}, which are not set",
        "run Copier with them set, as your tests run (e.g. `{example} uvx --with "
        "copier-template-extensions --with tomlkit copier copy ...`)",
    ),
}


# Set for the import when unset, for the variables the answers name: the
# harness points them at the test services before the tests import the app.
PLACEHOLDERS = {
    "postgresql": "postgresql+asyncpg://harness@import-check.invalid/harness_test",
    "sqlite": "sqlite+aiosqlite:///:memory:",
    "redis": "redis://import-check.invalid:6379/0",
}
# The same for each part of an engine's or a Redis client's address.
PART_PLACEHOLDERS = {
    "database_env_parts": {
        "host": "import-check.invalid",
        "port": "5432",
        "user": "harness",
        "password": "harness",
        "database": "harness_test",
    },
    "redis_env_parts": {
        "host": "import-check.invalid",
        "port": "6379",
        "db": "0",
        "username": "harness",
        "password": "harness",
    },
}
# Words in a variable's name that say which answer it belongs to.
DATABASE_WORDS = ("DATABASE", "DB", "POSTGRES", "PG", "SQL", "DSN")
REDIS_WORDS = ("REDIS", "CACHE")
# A variable's last word naming one part of an address, and that part.
PART_WORDS = {
    "database_env_parts": {
        "HOST": "host",
        "SERVER": "host",
        "PORT": "port",
        "USER": "user",
        "USERNAME": "user",
        "PASSWORD": "password",
        "PASS": "password",
        "DB": "database",
        "NAME": "database",
        "DATABASE": "database",
    },
    "redis_env_parts": {
        "HOST": "host",
        "PORT": "port",
        "DB": "db",
        "USER": "username",
        "USERNAME": "username",
        "PASSWORD": "password",
        "PASS": "password",
    },
}


def part_variables(answer: str) -> dict[str, str]:
    """ "host=PG_HOST,port=PG_PORT" as {"host": "PG_HOST", "port": "PG_PORT"}."""
    pairs = (pair.partition("=") for pair in answer.split(",") if pair)
    return {part: variable for part, _, variable in pairs}


def placeholders(environment: dict[str, str]) -> dict[str, str]:
    """Values for the answered variables (database_url_env, redis_url_env and
    each part of database_env_parts, redis_env_parts)."""
    values = {}
    if environment.get("database_url_env"):
        values[environment["database_url_env"]] = PLACEHOLDERS.get(
            environment.get("async_db", ""), PLACEHOLDERS["postgresql"]
        )
    if environment.get("redis_url_env"):
        values[environment["redis_url_env"]] = PLACEHOLDERS["redis"]
    for answer, parts in PART_PLACEHOLDERS.items():
        for part, variable in part_variables(environment.get(answer, "")).items():
            values[variable] = parts[part]
    return values


def answer_for(variable: str, environment: dict[str, str]) -> str:
    """The answer naming `variable` that the harness lacks, or ''. A variable
    holding one part of an address (POSTGRES_PASSWORD, REDIS_HOST) belongs in
    the parts answer, as `part=VARIABLE`."""
    words = variable.upper().replace("-", "_").split("_")
    for answer, parts_answer, service, kinds in (
        ("database_url_env", "database_env_parts", "async_db", DATABASE_WORDS),
        ("redis_url_env", "redis_env_parts", "cache", REDIS_WORDS),
    ):
        asked = environment.get(service, "none") != "none"
        if not asked or not set(words) & set(kinds):
            continue
        part = PART_WORDS[parts_answer].get(words[-1]) if len(words) > 1 else None
        if part and not environment.get(parts_answer):
            return f"{parts_answer}={part}"
        if not part and not environment.get(answer):
            return answer
    return ""


def given_answers(answers: dict[str, str]) -> str:
    """`-d` options giving each variable its answer; a parts answer lists its
    variables together, and asks for the parts the import did not need."""
    urls = [
        f"-d {answer}={name}" for name, answer in answers.items() if "=" not in answer
    ]
    parts: dict[str, list[str]] = {}
    for name, answer in answers.items():
        if "=" in answer:
            question, _, part = answer.partition("=")
            parts.setdefault(question, []).append(f"{part}={name}")
    for question, pairs in parts.items():
        named = {pair.partition("=")[0] for pair in pairs}
        others = [p for p in PART_PLACEHOLDERS[question] if p not in named]
        urls.append(
            f"-d {question}={','.join(pairs)},... (adding each of "
            f"{', '.join(others)} your app reads from a variable of its own)"
        )
    return " ".join(urls)


def project_python(project: Path) -> str:
    for candidate in (".venv/bin/python", ".venv/Scripts/python.exe"):
        if (project / candidate).exists():
            return str(project / candidate)
    return sys.executable


def _probe_command(
    project: Path, variables: dict[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    """The project's interpreter running PROBE, and its environment: the
    project root and src/ on the path, `variables` set where the environment
    lacks them."""
    env = {**(variables or {}), **os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        [*map(str, import_roots(project)), *filter(None, [env.get("PYTHONPATH")])]
    )
    # -B: importing the project must not leave __pycache__ in its tree, which
    # would then be dirty for the next `copier update`.
    return [project_python(project), "-B", "-c", PROBE], env


def probe(
    project: Path, answers: dict[str, str], variables: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """One report per answered import path, from the project's own interpreter;
    `variables` are set where the environment lacks them."""
    command, env = _probe_command(project, variables)
    result = subprocess.run(
        [*command, json.dumps(answers)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode or not result.stdout:
        raise ProbeError(
            f"Could not run the import check with {command[0]}:\n{result.stderr}"
        )
    reports: list[dict[str, str]] = json.loads(result.stdout)
    return reports


class Prober:
    """The project's interpreter kept running, answering one import check after
    another: Copier judges each import answer as it is given, and each check
    would otherwise start Python and import the app again (about half a second
    on a small app). Its modules stay imported between checks, so it is only
    kept while the project's sources are unchanged (`_prober`)."""

    def __init__(self, project: Path) -> None:
        command, env = _probe_command(project, None)
        self._python = command[0]
        # Why it stopped answering, once it has (it is not restarted).
        self._failure: str | None = None
        # stderr to a file: a pipe nobody reads fills up and stalls the app.
        # It lives as long as the process, closed by close().
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._process = subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )

    def reports(self, answers: dict[str, str]) -> list[dict[str, str]]:
        if self._failure is not None:
            raise ProbeError(self._failure)
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(json.dumps(answers) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError:
            line = ""
        if not line:
            self._errors.seek(0)
            self._failure = (
                f"Could not run the import check with {self._python}:\n"
                f"{self._errors.read()}"
            )
            self.close()
            raise ProbeError(self._failure)
        reports: list[dict[str, str]] = json.loads(line)
        return reports

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._errors.close()


# The kept prober of each project, with the sources state it was started on.
_probers: dict[Path, tuple[object, Prober]] = {}


def _prober(project: Path, state: object) -> Prober:
    kept = _probers.get(project)
    if kept is not None and kept[0] == state:
        return kept[1]
    if kept is not None:
        kept[1].close()  # a source changed: its imports are stale
    prober = Prober(project)
    _probers[project] = (state, prober)
    return prober


@atexit.register
def _close_probers() -> None:
    while _probers:
        _probers.popitem()[1][1].close()


class ProbeError(Exception):
    """The project's interpreter could not run the import check."""


# Refused by Copier's validators, before anything is written: what the answer
# names is not what the harness needs. The short fix leads, so that it shows on
# the one line Copier gives a refusal at the prompt. (An import that fails for
# another reason, a missing environment variable say, is reported after
# rendering, by main().)
REFUSED_BEFORE_WRITING = {
    "not_found": "give the module as you import it",
    "no_name": "name the object as the module defines it",
    "wrong_kind": "point the answer at the right object",
    "sync_factory": "needs async sessions",
    "unused": "answer the dependency your routes use",
}


def refusal(project: Path, question: str, answers: dict[str, str]) -> str:
    """Why the answer to `question` names the wrong object, with the fix; or ''.

    `answers` holds the answer and those it is judged with (app_import, whose
    routes must depend on a dependency answer).
    """
    answers = {name: path for name, path in answers.items() if path}
    if question not in answers:
        return ""
    try:
        reports = _probed(project, json.dumps(answers), _sources_state(project))
    except ProbeError:
        return ""  # main() reports it after rendering
    for report in reports:
        if report["question"] == question and report["status"] in (
            REFUSED_BEFORE_WRITING
        ):
            detail, fix = explained(report, import_roots(project))
            return (
                f"{REFUSED_BEFORE_WRITING[report['status']]}: {detail}. Fix: {fix}. "
                "Nothing was written."
            )
    return ""


@functools.cache
def _probed(project: Path, answers: str, state: object) -> list[dict[str, str]]:
    # Copier renders a validator several times per answer: check once, until
    # a source file changes.
    return _prober(project, state).reports(json.loads(answers))


def _sources_state(project: Path) -> tuple[tuple[str, int], ...]:
    """Each Python file of the project with its modification time."""
    state = []
    for directory, subdirectories, files in os.walk(project):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_SEARCHED]
        state += [
            (
                os.path.join(directory, name),
                os.lstat(os.path.join(directory, name)).st_mtime_ns,
            )
            for name in files
            if name.endswith(".py")
        ]
    return tuple(state)


def explained(report: dict[str, str], roots: list[Path]) -> tuple[str, str]:
    """What failed, and the fix, for a report that is not "ok"."""
    what, fix = FIXES[report["status"]]
    roots_shown = ", ".join(str(root) for root in roots)
    attribute = ""
    if report["status"] == "unused" and report["question"] == "cache_dependency":
        # The app keeps its Redis client on itself: that is the answer.
        found = redis_attributes(roots[0])
        attribute = (
            f"; your app sets app.{found[0]} to a Redis client: answer "
            f"-d cache_attribute={found[0]} instead of cache_dependency"
            if found
            else "; for a Redis client your lifespan keeps on the app, answer "
            "cache_attribute (e.g. state.redis) instead of cache_dependency"
        )
    shown = what.format(detail=report["detail"], roots=roots_shown, attribute=attribute)
    return shown, fix


@in_project
def main(project: Path, arguments: list[str]) -> int:
    answers = dict(argument.split("=", 1) for argument in arguments)
    environment = json.loads(answers.pop("--environment", "{}"))
    answers = {question: path for question, path in answers.items() if path}
    roots = import_roots(project)
    python = project_python(project)
    try:
        reports = probe(project, answers, placeholders(environment))
    except ProbeError as error:
        print(error)
        return 1
    failures = 0
    for report in reports:
        status, question, path = report["status"], report["question"], report["path"]
        if status == "ok":
            continue
        if status == "dependency_missing":
            print(
                f"warning: cannot check {question}={path}: {python} lacks the "
                f"package {report['detail']!r} it imports. Install the project's "
                "dependencies (e.g. into .venv) and re-run Copier to check it."
            )
            continue
        failures += 1
        detail, fix = explained(report, roots)
        if status == "environment":
            names = report["detail"].split()
            answers_to_give = {
                name: answer
                for name in names
                if (answer := answer_for(name, environment))
            }
            if answers_to_give:
                # The harness sets these itself: the answer is what is missing.
                give = given_answers(answers_to_give)
                print(
                    f"error: {question}={path}: {detail}.\n  Fix: if your app builds "
                    "its engine or Redis client from it when imported, run Copier "
                    f"again with {give}: the harness then points it at the test "
                    "database or Redis before your app is imported."
                )
                continue
            example = " ".join(f"{name}=..." for name in names)
            print(
                f"error: {question}={path}: {detail}.\n  Fix: "
                + fix.format(example=example)
                + "."
            )
            continue
        print(
            f"error: {question}={path}: {detail}.\n"
            f"  Fix: {fix}, then run Copier again with "
            f"-d {question}=package.module:name."
        )
    if failures:
        # This check is Copier's first task: the ones that touch the project's
        # own files (pyproject.toml, tests/conftest.py) have not run.
        print(
            "Nothing of yours was changed: pyproject.toml and your conftest.py "
            "are untouched. The harness files written so far (harness/ and "
            "test_harness_smoke.py beside your tests, "
            ".copier-answers.fastapi-harness.yml) are rewritten when you run "
            "Copier again with the fixed answer."
        )
    return 1 if failures else 0
