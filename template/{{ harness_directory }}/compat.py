"""The one place the harness bends to the older releases an adopted project keeps.

An adopted harness runs on the versions the project declares and has
installed, down to the lowest its answers file's adoption accepted; every
switch on a version is here, decided when the tests start from what is
installed:

- pytest-asyncio before 0.24 has no `loop_scope`: the harness's async fixtures
  run as plain fixtures on an event loop of the harness's own, one for the
  session (`_harness_event_loop`), and an async test that uses one of them runs
  on that loop too (pytest_pyfunc_call below, for 0.20 to 0.23). The project's
  own `event_loop` fixture, whatever its scope, keeps serving its own tests.
- redis-py before 5.0.1 closes an asyncio client with `close()`, not `aclose()`;
  fakeredis before 2.21 has its asyncio client only as `fakeredis.aioredis.FakeRedis`.
"""

import asyncio
import functools
import importlib
import inspect
import warnings
from collections.abc import Callable, Generator, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import pytest

Function = TypeVar("Function", bound=Callable[..., Any])

HARNESS_LOOP = "_harness_event_loop"


def installed_version(distribution: str) -> tuple[int, ...]:
    """The installed release of `distribution` as numbers, () when absent."""
    try:
        text = version(distribution)
    except PackageNotFoundError:
        return ()
    numbers = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


# pytest-asyncio 0.24 gave fixtures `loop_scope`; before it, a fixture's loop
# is the `event_loop` fixture the test gets. (Without pytest-asyncio, anyio
# runs the async fixtures: nothing here applies.)
LOOP_SCOPES = not () < installed_version("pytest-asyncio") < (0, 24)


async def close_redis(client: Any) -> None:
    """Close a redis.asyncio client, on any redis-py the harness supports."""
    closing = getattr(client, "aclose", None) or client.close
    await closing()


def fake_async_redis(server: Any, **options: Any) -> Any:
    """A fakeredis asyncio client on `server` (decoding responses, as the
    harness's real clients do, unless `options` say otherwise), on any
    fakeredis the harness supports."""
    fakeredis = importlib.import_module("fakeredis")
    client_class = getattr(fakeredis, "FakeAsyncRedis", None)
    if client_class is None:
        client_class = importlib.import_module("fakeredis.aioredis").FakeRedis
    return client_class(server=server, **{"decode_responses": True, **options})


def on_the_harness_loop(function: Function) -> Function:
    """The async fixture `function` as a plain fixture that runs it on the
    harness's session loop (pytest-asyncio before 0.24)."""
    signature = inspect.signature(function)
    own = list(signature.parameters)

    def arguments(given: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in given.items() if name in own}

    wrapper: Any
    if inspect.isasyncgenfunction(function):

        def wrapper(**given: Any) -> Iterator[Any]:
            loop: asyncio.AbstractEventLoop = given[HARNESS_LOOP]
            generator = function(**arguments(given))
            yield loop.run_until_complete(generator.__anext__())
            try:
                loop.run_until_complete(generator.__anext__())
            except StopAsyncIteration:
                return
            raise RuntimeError(f"{function.__name__} yields more than once")

    else:

        def wrapper(**given: Any) -> Any:
            loop: asyncio.AbstractEventLoop = given[HARNESS_LOOP]
            return loop.run_until_complete(function(**arguments(given)))

    functools.update_wrapper(wrapper, function)
    parameters = list(signature.parameters.values())
    if HARNESS_LOOP not in own:
        parameters.append(
            inspect.Parameter(HARNESS_LOOP, inspect.Parameter.KEYWORD_ONLY)
        )
    wrapper.__signature__ = signature.replace(parameters=parameters)
    return wrapper  # type: ignore[no-any-return]


if not LOOP_SCOPES:

    @pytest.fixture(scope="session", name=HARNESS_LOOP)
    def _harness_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
        """The event loop of the harness's async fixtures, for the whole session."""
        loop = asyncio.new_event_loop()
        yield loop
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    @pytest.hookimpl(tryfirst=True, hookwrapper=True)
    def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, None]:
        """An async test using the harness's async fixtures runs on their loop,
        not on its own. pytest-asyncio reads the loop from the test's loop
        fixture (0.20 to 0.22: `event_loop`) or, from 0.23, takes the current
        event loop: both are the harness's for the call."""
        arguments = pyfuncitem.funcargs
        harness_loop = arguments.get(HARNESS_LOOP)
        if not isinstance(harness_loop, asyncio.AbstractEventLoop):
            yield
            return
        swapped = {
            name: value
            for name, value in arguments.items()
            if isinstance(value, asyncio.AbstractEventLoop)
            and value is not harness_loop
        }
        arguments.update(dict.fromkeys(swapped, harness_loop))
        policy = asyncio.get_event_loop_policy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                current: asyncio.AbstractEventLoop | None = policy.get_event_loop()
            except RuntimeError:
                current = None
        policy.set_event_loop(harness_loop)
        try:
            yield
        finally:
            policy.set_event_loop(current)
            arguments.update(swapped)
