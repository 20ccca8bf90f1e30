"""The app under test, and the promise that a test's dependency overrides never leak.

Every test uses it: `client` and, where the project has one, `async_client`
each serve an app built here.

- An app object (APP in _project.py, "module:app") is one object shared with
  every client, the project's own TestClient included: its lifespan state is
  shared, so the clients run the lifespan per test and never hold it open past
  one, and the loop guard fails a test asking for both clients. A factory
  ("module:create_app()") gives `client` and `async_client` an instance each,
  whose lifespans run once per session, each on its client's event loop.
- A generated service builds its app from `app_settings`: override that
  fixture in tests/conftest.py to change the settings.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from . import _project
from .definitions import harness_fixture, named, project_object

# Imported when the harness loads, after environment.py (loaded first, where the
# project has one) has pointed the app's variables at the test services.
APP_SOURCE: Any = project_object(_project.APP)
# APP names a factory when it ends with its call: "()", or "(settings)" for one
# called with `app_settings`.
IS_FACTORY = _project.APP.endswith(")")
TAKES_SETTINGS = _project.APP.endswith("(settings)")
# The project's one app object serves every client, the project's own too:
# lifespans must never overlap on it, so each runs per test.
SHARES_ONE_APP_INSTANCE = not IS_FACTORY
# With a fakeredis, the app's own Redis client never connects.
UNREACHABLE_REDIS_URL = "redis://fakeredis.invalid:6379/0"

READS_ENVIRONMENT = (
    _project.DATABASE_FROM_ENVIRONMENT or _project.REDIS_FROM_ENVIRONMENT
)

if _project.CACHE_ATTRIBUTE:
    from .cache import serve_test_clients_on_the_attribute

if READS_ENVIRONMENT:
    from .environment import close_connections_when_lifespan_ends


def _wrap_lifespan(app: FastAPI) -> None:
    """What every lifespan of `app` does in tests, the project's own clients'
    included: the test's Redis client on the app's attribute while it runs,
    the connections it opened on its loop closed when it ends."""
    if _project.CACHE_ATTRIBUTE:
        serve_test_clients_on_the_attribute(app)
    if READS_ENVIRONMENT:
        close_connections_when_lifespan_ends(app)


if not IS_FACTORY:
    # The clients the app builds at import serve every loop in turn, the
    # project's own TestClient's too: wrapped before any test runs.
    _wrap_lifespan(APP_SOURCE)


def app_under_test(settings: Any = None) -> FastAPI:
    """The project's app object, or a new instance from its factory."""
    if not IS_FACTORY:
        return APP_SOURCE  # type: ignore[no-any-return]
    instance: FastAPI = APP_SOURCE(settings) if TAKES_SETTINGS else APP_SOURCE()
    _wrap_lifespan(instance)
    return instance


def _served_instance(request: pytest.FixtureRequest) -> FastAPI:
    settings = request.getfixturevalue("app_settings") if TAKES_SETTINGS else None
    instance = app_under_test(settings)
    if _project.CACHE:
        from .cache import serve_private_fake_cache

        if request.getfixturevalue(named("test_redis_url")) is None:
            serve_private_fake_cache(instance)
    return instance


if _project.SETTINGS:

    @harness_fixture(scope="session")
    def app_settings(request: pytest.FixtureRequest) -> Any:
        """Settings the app is built with in tests; override it to change them."""
        fields: dict[str, Any] = {}
        if _project.DATABASE != "none":
            fields["database_url"] = request.getfixturevalue(named("test_database_url"))
        if _project.CACHE_DEPENDENCY:
            test_redis_url = request.getfixturevalue(named("test_redis_url"))
            fields["redis_url"] = test_redis_url or UNREACHABLE_REDIS_URL
        settings_class = project_object(_project.SETTINGS)
        # A developer's .env must not leak into the test run.
        return settings_class(_env_file=None, **fields)


@harness_fixture(scope="session")
def _app_for_client(request: pytest.FixtureRequest) -> FastAPI:
    """The instance `client` serves, on its own event loop."""
    return _served_instance(request)


if _project.ASYNC_CLIENT:

    @harness_fixture(scope="session")
    def _app_for_async_client(request: pytest.FixtureRequest) -> FastAPI:
        """The instance `async_client` serves, on the tests' event loop.

        From a factory, a separate instance: its lifespan opens resources bound
        to that loop, which must never be mixed with those `client`'s instance
        opened on its own loop.
        """
        return _served_instance(request)


# The dependency overrides a test of the harness starts from, on the app the
# project shares with its own tests: those set before the first test ran (at
# import, by a conftest.py), and those the fixtures a test asks for set. What
# the project's other fixtures set and left behind (a `client` fixture of its
# own that never clears its overrides) is not one of them.
_overrides_at_start: dict[Any, Any] = {}
_set_by_fixture: dict[Any, tuple[str, Any]] = {}


def _shared_overrides() -> dict[Any, Any] | None:
    if IS_FACTORY:
        return None  # each instance is the harness's own
    return APP_SOURCE.dependency_overrides  # type: ignore[no-any-return]


def pytest_collection_finish(session: pytest.Session) -> None:
    overrides = _shared_overrides()
    if overrides is not None:
        _overrides_at_start.update(overrides)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any) -> Iterator[None]:
    """Note which fixture set each override of the shared app."""
    overrides = _shared_overrides()
    before = dict(overrides) if overrides is not None else {}
    yield
    for key, value in (overrides or {}).items():
        if key not in before or before[key] is not value:
            _set_by_fixture[key] = (fixturedef.argname, value)


def _expected_overrides(
    current: dict[Any, Any], requested: list[str]
) -> dict[Any, Any]:
    expected = dict(_overrides_at_start)
    for key, value in current.items():
        name, set_value = _set_by_fixture.get(key, ("", None))
        if name in requested and set_value is value:
            expected[key] = value
    return expected


@harness_fixture()
def app(request: pytest.FixtureRequest) -> Iterator[FastAPI]:
    """The FastAPI app under test: the instance this test's client serves.

    It starts from the dependency overrides the test expects: those set before
    the first test (at import, in a conftest.py) and those the fixtures it asks
    for set, never what another test's fixtures left behind. Change
    `app.dependency_overrides` freely: after the test, pass or fail, they are
    exactly what they were before it.
    """
    uses_async_client = named("async_client") in request.fixturenames
    instance: FastAPI = request.getfixturevalue(
        "_app_for_async_client" if uses_async_client else "_app_for_client"
    )
    overrides = instance.dependency_overrides
    saved = dict(overrides)
    if overrides is _shared_overrides():
        expected = _expected_overrides(overrides, list(request.fixturenames))
        overrides.clear()
        overrides.update(expected)
    try:
        yield instance
    finally:
        overrides.clear()
        overrides.update(saved)
        # Also undo a test that replaced the dict itself.
        instance.dependency_overrides = overrides
