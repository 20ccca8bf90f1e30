"""How the harness defines its fixtures and finds the project's objects.

One definition serves every project, whatever its answers (_project.py):

- `named("client")` is the name a test asks for: with a fixture prefix
  (FIXTURE_PREFIX), `harness_client`, clear of the project's own fixtures.
- `@harness_fixture` registers a fixture under that name; a parameter naming
  another of the harness's fixtures is renamed the same way. An async fixture
  runs on the session's event loop, which every async test shares, under the
  project's runner: pytest-asyncio (`loop_scope="session"`; before 0.24, the
  harness's own session loop, compat.py) or anyio (its session-scoped
  `anyio_backend`).
- `project_object("package.module:name")` imports one of the project's objects.
"""

import functools
import importlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest

from . import _project, compat

Function = TypeVar("Function", bound=Callable[..., Any])

# The fixtures tests ask for by name: these take the prefix. The others are the
# harness's own plumbing (names starting with "_", or named after the harness).
PUBLIC_FIXTURES = frozenset(
    {
        "app",
        "client",
        "async_client",
        "db_engine",
        "db_session",
        "test_database_url",
        "factories",
        "scratch_database_url",
        "cache",
        "test_redis_url",
        "outbound",
        "background_work",
        "as_user",
        "authenticated_as",
    }
)


def named(name: str) -> str:
    """The name this project's tests use for the harness's fixture `name`."""
    return _project.FIXTURE_PREFIX + name if name in PUBLIC_FIXTURES else name


def project_object(path: str) -> Any:
    """The object `path` names: "package.module:name" (a trailing call, such as
    "()", is the caller's to make)."""
    module, _, attribute = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in attribute.partition("(")[0].split("."):
        found = getattr(found, part)
    return found


def is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def harness_fixture(
    *, scope: str = "function", autouse: bool = False
) -> Callable[[Function], Function]:
    """Register the decorated function as the harness's fixture of its name."""

    def define(function: Function) -> Function:
        extra = ("anyio_backend",) if _runs_on_anyio(function) else ()
        renamed = _with_fixture_names(function, extra)
        options: dict[str, Any] = {"scope": scope, "autouse": autouse}
        decorator: Any = pytest.fixture
        if is_async(function) and _project.ASYNC_RUNNER == "pytest-asyncio":
            if compat.LOOP_SCOPES:
                import pytest_asyncio

                decorator = pytest_asyncio.fixture
                options["loop_scope"] = "session"
            else:
                # No loop_scope before pytest-asyncio 0.24: the harness's own
                # session loop runs it (compat.py).
                renamed = compat.on_the_harness_loop(renamed)
        return decorator(renamed, name=named(function.__name__), **options)  # type: ignore[no-any-return]

    return define


def _runs_on_anyio(function: Callable[..., Any]) -> bool:
    # anyio's plugin runs an async fixture only where `anyio_backend` is among
    # the fixtures the test pulls in: each one asks for it.
    return is_async(function) and _project.ASYNC_RUNNER == "anyio"


def _with_fixture_names(function: Function, extra: tuple[str, ...] = ()) -> Function:
    """`function` asking for the harness's fixtures by this project's names
    (and for `extra` fixtures it does not use)."""
    signature = inspect.signature(function)
    own = list(signature.parameters)
    renamed = {name: named(name) for name in own if named(name) != name}
    added = [name for name in extra if name not in own]
    if not renamed and not added:
        return function
    original = {new: old for old, new in renamed.items()}

    def arguments(given: dict[str, Any]) -> dict[str, Any]:
        return {
            original.get(name, name): value
            for name, value in given.items()
            if original.get(name, name) in own
        }

    wrapper: Any
    if inspect.isasyncgenfunction(function):

        async def wrapper(**given: Any) -> AsyncIterator[Any]:
            generator = function(**arguments(given))
            try:
                async for value in generator:
                    yield value
            finally:
                await generator.aclose()

    elif inspect.iscoroutinefunction(function):

        async def wrapper(**given: Any) -> Any:
            return await function(**arguments(given))

    elif inspect.isgeneratorfunction(function):

        def wrapper(**given: Any) -> Iterator[Any]:
            yield from function(**arguments(given))

    else:

        def wrapper(**given: Any) -> Any:
            return function(**arguments(given))

    functools.update_wrapper(wrapper, function)
    parameters = [
        parameter.replace(name=renamed.get(parameter.name, parameter.name))
        for parameter in signature.parameters.values()
    ] + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str)
        for name in added
    ]
    wrapper.__signature__ = signature.replace(parameters=parameters)
    return wrapper  # type: ignore[no-any-return]
