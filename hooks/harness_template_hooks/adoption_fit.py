"""Which answers fit an existing project, and which contradict it.

Copier's questions default to `fitting(...)` and their validators refuse what
`refusal(...)` names, so an adoption that cannot fit the project stops before
anything is written, with the conflict and the answer that fits in one message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .dependencies import REQUIREMENTS
from .project_survey import (
    HARNESS_FIXTURES,
    HARNESS_VARIABLES,
    Survey,
    adopted_before_prefixes,
    package_name,
    tests_directory,
    variable_readers,
)

# Why the harness needs each floor, and the way through when a project's pins
# exclude it.
WHY = {
    "pytest>=8.4": (
        "with database_url_env or redis_url_env, or tests below the top level, it "
        "is loaded by `-p fastapi_harness`, "
        "to set your app's variables before the app is imported, and pytest "
        "finds such a plugin on `pythonpath` from 8.4 on",
        "raise your pin to pytest>=8.4",
    ),
    "pytest-asyncio": (
        "the harness's async fixtures run on it",
        "answer async_runner=anyio (the harness then needs no pytest-asyncio), or "
        "raise your pin",
    ),
    "starlette": (
        "its TestClient runs on httpx2",
        "raise FastAPI (and Starlette) to a release on Starlette 1.10 or later",
    ),
}


def _listed(files: list[str]) -> str:
    shown = ", ".join(files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def _async_setup(survey: Survey) -> str:
    """How the project's async tests run today, in a few words."""
    facts = []
    if survey.anyio_marked:
        facts.append(f"tests marked anyio in {_listed(survey.anyio_marked)}")
    backend = survey.fixture("anyio_backend")
    if backend:
        facts.append(f"an anyio_backend fixture in {backend.file}")
    if survey.asyncio_mode is not None:
        facts.append(
            f"asyncio_mode = {survey.asyncio_mode} in {survey.pytest_config.where()}"
        )
    elif "pytest-asyncio" in survey.declared:
        facts.append(
            f"{survey.declared['pytest-asyncio']} declared with no asyncio_mode "
            "(pytest-asyncio's default: strict)"
        )
    if survey.asyncio_marked:
        facts.append(f"tests marked asyncio in {_listed(survey.asyncio_marked)}")
    return "; ".join(facts)


def fitting(
    survey: Survey, question: str, answers: dict[str, Any] | None = None
) -> str:
    """The answer to `question` that fits the project as it is."""
    if question == "fixture_prefix":
        return _free_prefix(survey, answers or {})
    if question == "tests_dir":
        return tests_directory(survey.project, survey.pytest_config)
    if question == "environment_prefix":
        # An earlier adoption keeps the names its CI sets, unless the project
        # reads them itself; a new one takes names of its own.
        if adopted_before_prefixes(survey.project) and not _variable_clashes(
            survey, "", answers or {}
        ):
            return ""
        return ENVIRONMENT_PREFIX
    if question == "async_runner":
        if survey.uses_anyio and not survey.uses_pytest_asyncio:
            return "anyio"
        # A pytest-asyncio pinned below what the harness needs: anyio fits it.
        if survey.asyncio_mode != "auto" and conflict(
            survey, adopted_requirement("pytest-asyncio")
        ):
            return "anyio"
        return "pytest-asyncio"
    if question == "asyncio_mode":
        if survey.asyncio_mode in ("auto", "strict"):
            return survey.asyncio_mode
        # pytest-asyncio's own default; auto would also take anyio's tests over.
        if survey.uses_pytest_asyncio or survey.uses_anyio:
            return "strict"
        return "auto"
    raise ValueError(f"no fitting answer is derived for {question}")


def refusal(
    survey: Survey,
    question: str,
    answers: dict[str, Any],
    dependencies: Callable[..., list[str]],
    typed: bool = False,
) -> str:
    """Why `answers[question]` cannot fit the project, naming the fix; or ''.

    `dependencies(answers, survey)` lists what the harness declares for answers.
    `typed`: the answer was typed at the prompt, where Copier shows the message
    on one line cut at 80 columns: the fix comes first, what clashes after.
    """
    answer = answers.get(question)
    if typed and question in ("fixture_prefix", "environment_prefix"):
        return _typed_prefix_refusal(survey, question, answer or "", answers)
    # Versions are judged once every answer is in (verdict): every conflict
    # then comes in one message, never one Copier run at a time.
    if question == "async_runner":
        return _runner_refusal(survey, answer, answers)
    if question == "asyncio_mode":
        return _mode_refusal(survey, answer)
    if question == "fixture_prefix":
        return _collision_refusal(survey, answer or "", answers)
    if question == "environment_prefix":
        return _variable_refusal(survey, answer or "", answers)
    return ""


def verdict(
    survey: Survey, answers: dict[str, Any], dependencies: Callable[..., list[str]]
) -> list[str]:
    """Every answer that contradicts the project, as `question=answer: why`;
    judged once all are given. Copier runs no validator on a choice picked at
    its prompt (async_runner, asyncio_mode), nor on the versions the features
    picked together need (sync_client=inline brings anyio, say)."""
    judged = {
        "fixture_prefix": _collision_refusal(
            survey, answers.get("fixture_prefix") or "", answers
        ),
        "environment_prefix": _variable_refusal(
            survey, answers.get("environment_prefix") or "", answers
        ),
    }
    if answers.get("needs_async_client"):
        runner = answers.get("async_runner")
        judged["async_runner"] = _runner_refusal(survey, runner, answers)
        if runner == "pytest-asyncio":
            judged["asyncio_mode"] = _mode_refusal(survey, answers.get("asyncio_mode"))
    if answers.get("streaming"):
        judged["streaming"] = _streaming_refusal(survey)
    problems = [
        f"{question}={answers.get(question)}: {why}"
        for question, why in judged.items()
        if why
    ]
    versions = version_refusal(survey, dependencies(answers, survey))
    return [*problems, *([versions] if versions else [])]


def _streaming_refusal(survey: Survey) -> str:
    # The streaming clients build on TestClient over httpx2 (streaming.py).
    older = conflict(survey, "starlette>=1.10") or conflict(survey, "fastapi>=0.133")
    if not older:
        return ""
    return (
        "the clients that stream build on the TestClient of Starlette 1.10, but "
        f"{older}. Raise FastAPI to 0.133 or later (on Starlette 1.10), or answer "
        "streaming=false."
    )


def _runner_refusal(survey: Survey, answer: str, answers: dict[str, Any]) -> str:
    if (
        answer == "pytest-asyncio"
        and survey.uses_anyio
        and not survey.uses_pytest_asyncio
    ):
        return (
            f"this project's async tests run on anyio ({_async_setup(survey)}). "
            "The harness's async fixtures would live on pytest-asyncio's event loop, "
            "not on the one your tests run on. Answer async_runner=anyio."
        )
    if answer == "anyio" and survey.asyncio_mode == "auto":
        return (
            f"pytest-asyncio runs in auto mode here ({survey.pytest_config.where()}) "
            "and would take the harness's anyio fixtures over. Answer "
            "async_runner=pytest-asyncio."
        )
    if answer == "anyio":
        backend = survey.fixture("anyio_backend")
        if backend and set(backend.params) - {"asyncio"}:
            return (
                f"the anyio_backend fixture in {backend.file} runs tests on "
                f"{', '.join(backend.params)}; the harness's clients, asyncpg and "
                "redis.asyncio run on asyncio only. Parametrize anyio_backend with "
                '"asyncio" alone, or answer async_runner=pytest-asyncio.'
            )
        session_wide = answers.get("async_db", "none") != "none" or str(
            answers.get("app_import", "")
        ).endswith("()")
        if backend and backend.scope != "session" and session_wide:
            return (
                f"the anyio_backend fixture in {backend.file} is {backend.scope}-"
                "scoped, but the harness keeps its async resources (the test "
                "database's engine, a factory app's lifespan) open for the whole "
                "session, and anyio gives a session-scoped fixture only a "
                'session-scoped backend. Make it @pytest.fixture(scope="session") '
                "(your tests keep running on asyncio), then run Copier again."
            )
    return ""


def _mode_refusal(survey: Survey, answer: str) -> str:
    fits = fitting(survey, "asyncio_mode")
    if answer == fits:
        return ""
    if survey.asyncio_mode is not None:
        return (
            f"this project sets asyncio_mode = {survey.asyncio_mode} in "
            f"{survey.pytest_config.where()}, which adopting never changes. Answer "
            f"asyncio_mode={fits}."
        )
    if answer == "auto":
        return (
            f"auto mode would change how this project's async tests run "
            f"({_async_setup(survey)}). Answer asyncio_mode=strict, or set "
            f"asyncio_mode = auto in {survey.pytest_config.where()} yourself first."
        )
    return ""


PREFIXES = ("harness_", "fastapi_harness_", "fh_")
# Adopted, the harness reads HARNESS_TEST_DATABASE_URL and HARNESS_TEST_REDIS_URL:
# names no project reads for its own tests.
ENVIRONMENT_PREFIX = "HARNESS_"


def harness_variables(answers: dict[str, Any], prefix: str) -> list[str]:
    """The environment variables the harness reads for these answers."""
    return [
        prefix + name
        for question, (answer, name) in HARNESS_VARIABLES.items()
        if answers.get(question, "none") in answer
    ]


def _variable_clashes(
    survey: Survey, prefix: str, answers: dict[str, Any]
) -> dict[str, list[str]]:
    """Each variable the harness would read that the project reads too (its
    files), or that names the app's own (database_url_env, redis_url_env)."""
    names = harness_variables(answers, prefix)
    clashes = variable_readers(survey.project, names)
    for question in ("database_url_env", "redis_url_env"):
        if answers.get(question) in names:
            clashes.setdefault(answers[question], []).append(f"answer {question}")
    return clashes


def _free_environment_prefix(survey: Survey, answers: dict[str, Any]) -> str:
    """The first prefix whose variables no file of the project reads."""
    return next(
        (
            candidate
            for candidate in (ENVIRONMENT_PREFIX, "FASTAPI_HARNESS_")
            if not _variable_clashes(survey, candidate, answers)
        ),
        "FASTAPI_HARNESS_",
    )


def _variable_refusal(survey: Survey, prefix: str, answers: dict[str, Any]) -> str:
    clashes = _variable_clashes(survey, prefix, answers)
    if not clashes:
        return ""
    listed = "; ".join(
        f"{name} ({', '.join(files[:3])})" for name, files in clashes.items()
    )
    fits = _free_environment_prefix(survey, answers)
    return (
        f"your project reads {listed} itself: the harness would point that "
        "variable at its own test services (and refuse a Redis holding your keys). "
        f"Answer environment_prefix={fits}: the harness then reads "
        f"{', '.join(harness_variables(answers, fits))}."
    )


def _clashes(survey: Survey, prefix: str, answers: dict[str, Any]) -> list[Any]:
    names = [prefix + name for name in harness_fixture_names(answers)]
    own = {f.name: f for f in survey.fixtures_named(names)}
    return [own[name] for name in names if name in own]


def _free_prefix(survey: Survey, answers: dict[str, Any]) -> str:
    """'' when no fixture of the project's shares a name with the harness's."""
    for prefix in ("", *PREFIXES):
        if not _clashes(survey, prefix, answers):
            return prefix
    return PREFIXES[-1]


def collision_report(survey: Survey, prefix: str, answers: dict[str, Any]) -> str:
    """What the prefix steered clear of, for the adoption's report; or ''."""
    if not prefix:
        return ""  # nothing steered clear of: no need to collect the fixtures
    clashes = _clashes(survey, "", answers)
    if not clashes:
        return ""
    listed = ", ".join(f"{f.name} ({f.file})" for f in clashes)
    return (
        f"your conftest files define {listed}: the harness's fixtures are named "
        f"{prefix}app, {prefix}client and so on, and yours keep their names."
    )


def _collision_refusal(survey: Survey, prefix: str, answers: dict[str, Any]) -> str:
    clashes = _clashes(survey, prefix, answers)
    if not clashes:
        return ""
    listed = "; ".join(f"{f.name} ({f.file})" for f in clashes)
    suggestion = _free_prefix(survey, answers)
    if prefix:
        return (
            f"with fixture_prefix={prefix} the harness's fixtures still share names "
            f"with your own: {listed}. Answer fixture_prefix={suggestion}."
        )
    return (
        f"your conftest files define fixtures under names the harness's fixtures "
        f"use: {listed}. Yours would shadow the harness's for your tests, and its "
        f"own fixtures would get yours. Answer fixture_prefix={suggestion} to name "
        f"the harness's fixtures {suggestion}client, {suggestion}app and so on "
        "(the default), or rename yours."
    )


def _typed_prefix_refusal(
    survey: Survey, question: str, prefix: str, answers: dict[str, Any]
) -> str:
    """A clashing prefix typed at the prompt: the prefix that fits, then the
    names that clash (their files are in the refusal --defaults prints)."""
    if question == "fixture_prefix":
        clashing = [fixture.name for fixture in _clashes(survey, prefix, answers)]
        fits = _free_prefix(survey, answers)
        own = "yours define"
    else:
        clashing = list(_variable_clashes(survey, prefix, answers))
        fits = _free_environment_prefix(survey, answers)
        own = "yours read"
    if not clashing:
        return ""
    fix = f"answer {fits}" if fits else "leave it empty"
    return f"{fix} ({own} {', '.join(clashing)})"


def harness_fixture_names(answers: dict[str, Any]) -> list[str]:
    """The public fixtures the answers wire in (unprefixed)."""
    names = ["app", "client"]
    needs_async = (
        answers.get("websockets")
        or answers.get("concurrency")
        or answers.get("streaming")
        or answers.get("outbound_http")
        or answers.get("async_db", "none") != "none"
        or answers.get("cache", "none") != "none"
    )
    if needs_async:
        names.append("async_client")
    if answers.get("async_db", "none") != "none":
        names += ["db_session", "db_engine", "test_database_url"]
        if answers.get("factories"):
            names.append("factories")
    if answers.get("cache", "none") != "none":
        names += ["cache", "test_redis_url"]
    if answers.get("auth", "none") != "none":
        # No `user`: adopted, the project constructs its own.
        names += ["as_user", "authenticated_as"]
    if answers.get("outbound_http"):
        names.append("outbound")
    if answers.get("background_work"):
        names.append("background_work")
    assert set(names) <= set(HARNESS_FIXTURES)
    return names


def adopted_requirement(name: str) -> str:
    """The adopted harness's requirement on the package `name`."""
    return next(r.adopted_spec for r in REQUIREMENTS if package_name(r.spec) == name)


def _specifier(requirement: str) -> SpecifierSet | None:
    try:
        return Requirement(requirement).specifier
    except InvalidRequirement:
        return None


def conflict(survey: Survey, needed: str) -> str:
    """How the project's declared or installed version excludes `needed`; or ''."""
    requirement = Requirement(needed)
    name = package_name(needed)
    floor = harness_floor(needed)
    found = []
    # Every place the project declares it: a pin in a requirements file counts
    # as much as the first declaration pyproject.toml holds.
    texts = [d.text for d in survey.declarations if d.name == name]
    declared = survey.declared.get(name)
    excluding = []
    for text in dict.fromkeys(texts or ([declared] if declared else [])):
        pins = _specifier(text)
        if not pins:
            continue
        candidates = [floor, *(_version(s.version) for s in pins)]
        if not any(
            c is not None
            and pins.contains(c, prereleases=True)
            and requirement.specifier.contains(c, prereleases=True)
            for c in candidates
        ):
            excluding.append(text)
    if excluding:
        found.append(f"you declare {' and '.join(excluding)}")
    installed = survey.installed.get(name)
    if (
        installed
        and _version(installed)
        and not requirement.specifier.contains(installed, prereleases=True)
    ):
        found.append(f".venv has {name} {installed}")
    return " and ".join(found)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def harness_floor(needed: str) -> Version | None:
    """The `>=` floor of a requirement of the harness's."""
    specifier = Requirement(needed).specifier
    return next((Version(s.version) for s in specifier if s.operator == ">="), None)


def lowest_admitted(specifier: SpecifierSet) -> Version | None:
    """The lower bound a specifier sets (None: none, any old release resolves)."""
    bounds = [
        _version(s.version.removesuffix(".*"))
        for s in specifier
        if s.operator in (">=", ">", "==", "~=", "===")
    ]
    return max(filter(None, bounds), default=None)


def below_floor(declared: str, needed: str) -> bool:
    """`declared` admits releases below the harness's floor for `needed` (while
    admitting the floor: a pin that excludes it is a conflict): resolved at its
    lowest, the project would install one the harness cannot import."""
    floor = harness_floor(needed)
    specifier = _specifier(declared)
    if floor is None or specifier is None:
        return False
    if not specifier.contains(floor, prereleases=True):
        return False  # a conflict, refused as one
    lowest = lowest_admitted(specifier)
    return lowest is None or lowest < floor


def raised_floor(declared: str, needed: str) -> str:
    """`declared` with its floor raised to the harness's: a lower `>=` or `>` is
    replaced, every other part (extras, upper bounds, markers) kept."""
    requirement = Requirement(declared)
    floor = harness_floor(needed)
    kept = [
        str(s)
        for s in requirement.specifier
        if not (s.operator in (">=", ">") and floor and Version(s.version) < floor)
    ]
    requirement.specifier = SpecifierSet(",".join([f">={floor}", *kept]))
    return str(requirement)


def low_floors(survey: Survey, requirements: list[str]) -> list[tuple[Any, str]]:
    """(declaration, the harness's requirement) for each declaration of a package
    the harness needs whose floor is below the harness's."""
    found = []
    for needed in requirements:
        name = package_name(needed)
        if conflict(survey, needed):
            continue
        found += [
            (declaration, needed)
            for declaration in survey.declarations
            if declaration.name == name and below_floor(declaration.text, needed)
        ]
    return found


def _floor_problems(survey: Survey, requirements: list[str]) -> list[str]:
    """Low floors in files adopting never writes (requirements files, setup.cfg)."""
    return [
        f"{declaration.where} declares {declaration.text}, below the harness's "
        f"{needed} (resolved at its lowest, the harness cannot import it): set "
        f"{raised_floor(declaration.text, needed)} there (adopting raises such floors "
        "only in pyproject.toml)"
        for declaration, needed in low_floors(survey, requirements)
        if not declaration.in_pyproject
    ]


def _breaks(survey: Survey, name: str, floor: Version | None) -> str:
    """Where raising the project's `name` to `floor` breaks its own code; or ''."""
    if floor is None:
        return ""
    found = []
    if name == "httpx" and floor >= Version("0.27") and survey.app_clients:
        change = "removed" if floor >= Version("0.28") else "deprecated (warns)"
        found.append(
            f"httpx {floor} {change} `AsyncClient(app=...)`, which "
            f"{_listed(survey.app_clients)} use: pass "
            "`transport=httpx.ASGITransport(app=app)` there"
        )
    plugin = survey.declared.get("pytest-asyncio")
    pins = _specifier(plugin) if plugin else None
    # Only releases before 0.23 admitted: none of them is for pytest 8.
    before_pytest_8 = pins is not None and not any(
        pins.contains(v) for v in ("0.23.8", "0.24.0", "1.2.0")
    )
    if name == "pytest" and floor >= Version("8") and before_pytest_8:
        found.append(
            f"your {plugin} predates pytest {floor} (pytest-asyncio 0.23 is "
            "the first for pytest 8): raise it too"
        )
    override = survey.fixture("event_loop")
    if name == "pytest-asyncio" and floor >= Version("1.0") and override:
        found.append(
            f"{override.file} overrides the event_loop fixture, which "
            "pytest-asyncio 1.0 removed: drop it (set "
            "asyncio_default_fixture_loop_scope instead)"
        )
    if not found:
        return ""
    return " (that breaks your own code: " + "; ".join(found) + ")"


def _brought_conflicts(survey: Survey, requirements: list[str]) -> list[str]:
    """Features whose requirement brings along a release the project's pins
    exclude (httpx-ws 0.9 needs anyio 4): only that feature is refused."""
    problems = []
    for requirement in REQUIREMENTS:
        if requirement.adopted_spec not in requirements:
            continue
        for brought in requirement.brings:
            excluded_by = conflict(survey, brought)
            if excluded_by:
                problems.append(
                    f"{requirement.purpose} needs {requirement.adopted_spec}, which "
                    f"needs {brought}, but {excluded_by}: answer without that "
                    f"feature, or raise your pin to {brought}"
                    + _breaks(survey, package_name(brought), harness_floor(brought))
                )
    return problems


def version_refusal(survey: Survey, requirements: list[str]) -> str:
    problems = []
    # A floor raised by what a feature brings along is judged as the feature's
    # (_brought_conflicts); the harness's own floor for that package, here.
    brought = {
        spec
        for requirement in REQUIREMENTS
        if requirement.adopted_spec in requirements
        for spec in requirement.brings
    }
    for needed in requirements:
        if needed in brought:
            needed = adopted_requirement(package_name(needed))
        excluded_by = conflict(survey, needed)
        if not excluded_by:
            continue
        name = package_name(needed)
        why, fix = WHY.get(needed) or WHY.get(name, ("", f"raise your pin to {needed}"))
        problems.append(
            f"the harness needs {needed}{f' ({why})' if why else ''}, but "
            f"{excluded_by}: {fix}" + _breaks(survey, name, harness_floor(needed))
        )
    problems += _brought_conflicts(survey, requirements)
    problems += _floor_problems(survey, requirements)
    if not problems:
        return ""
    return (
        "the harness cannot be installed next to this project's versions: "
        + "; ".join(problems)
        + "."
    )


def old_starlette(survey: Survey) -> bool:
    """The project's Starlette predates 1.10, whose TestClient runs on httpx2:
    the harness then goes with plain httpx, as that Starlette's TestClient does.
    Told by Starlette itself, or by a FastAPI pinned before 0.133, the first
    that allows Starlette 1.10 (a project often declares FastAPI alone)."""
    return bool(
        conflict(survey, "starlette>=1.10") or conflict(survey, "fastapi>=0.133")
    )


def app_testclient(survey: Survey) -> bool:
    """The project's Starlette predates 0.37: its TestClient calls
    `httpx.Client(app=...)`, which httpx 0.28 removed. Told by Starlette
    itself, or by a FastAPI pinned before 0.110.1, the first on Starlette 0.37."""
    return bool(
        conflict(survey, "starlette>=0.37") or conflict(survey, "fastapi>=0.110.1")
    )


_NO_FEATURES: dict[str, Any] = {
    "needs_async_client": False,
    "async_runner": "pytest-asyncio",
    "websockets": False,
    "concurrency": False,
    "streaming": False,
    "outbound_http": False,
    "async_db": "none",
    "cache": "none",
}
