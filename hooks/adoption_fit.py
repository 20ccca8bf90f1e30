"""Which answers fit an existing project, and which contradict it.

Copier's questions default to `fitting(...)` and their validators refuse what
`refusal(...)` names, so an adoption that cannot fit the project stops before
anything is written, with the conflict and the answer that fits in one message.
"""

from __future__ import annotations

from typing import Any

from project_survey import HARNESS_FIXTURES, Survey


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


def fitting(survey: Survey, question: str) -> str:
    """The answer to `question` that fits the project as it is."""
    if question == "async_runner":
        if survey.uses_anyio and not survey.uses_pytest_asyncio:
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


def refusal(survey: Survey, question: str, answers: dict[str, Any]) -> str:
    """Why `answers[question]` cannot fit the project, naming the fix; or ''."""
    answer = answers.get(question)
    if question == "async_runner":
        return _runner_refusal(survey, answer, answers)
    if question == "asyncio_mode":
        return _mode_refusal(survey, answer)
    if question == "fixture_prefix":
        return _collision_refusal(survey, answer or "", answers)
    return ""


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
    if answer == "pytest-asyncio" and survey.fixture("event_loop"):
        fixture = survey.fixture("event_loop")
        return (
            f"{fixture.file} overrides the event_loop fixture, which pytest-asyncio "
            "1.0 removed; the harness needs pytest-asyncio>=1.2 (loop_scope). "
            "Answer async_runner=anyio, or move to pytest-asyncio>=1.2 (drop the "
            "override; set asyncio_default_fixture_loop_scope instead) first."
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


def _collision_refusal(survey: Survey, prefix: str, answers: dict[str, Any]) -> str:
    wired = harness_fixture_names(answers)
    own = {f.name: f for f in survey.fixtures}
    clashes = [own[name] for name in wired if prefix + name in own]
    if not clashes:
        return ""
    listed = "; ".join(f"{f.name} ({f.file})" for f in clashes)
    suggestion = next(
        candidate
        for candidate in ("harness_", "fh_", "h_")
        if not any(candidate + name in own for name in wired)
    )
    if prefix:
        return (
            f"with fixture_prefix={prefix} the harness's fixtures still share names "
            f"with your own: {listed}. Answer fixture_prefix={suggestion}."
        )
    return (
        f"your conftest files define fixtures under names the harness's fixtures "
        f"use: {listed}. Yours would shadow the harness's for your tests, and its "
        f"own fixtures would get yours. Answer fixture_prefix={suggestion} to name "
        f"the harness's fixtures {suggestion}client, {suggestion}app and so on, "
        "or rename yours."
    )


def harness_fixture_names(answers: dict[str, Any]) -> list[str]:
    """The public fixtures the answers wire in (unprefixed)."""
    names = ["app", "client"]
    needs_async = (
        answers.get("websockets")
        or answers.get("concurrency")
        or answers.get("async_db", "none") != "none"
        or answers.get("cache", "none") != "none"
    )
    if needs_async:
        names.append("async_client")
    if answers.get("async_db", "none") != "none":
        names += ["db_session", "db_engine", "test_database_url"]
    if answers.get("cache", "none") != "none":
        names += ["cache", "test_redis_url"]
    assert set(names) <= set(HARNESS_FIXTURES)
    return names
