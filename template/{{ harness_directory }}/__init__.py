"""The test harness. The template owns this package: `copier update` rewrites it.

tests/conftest.py registers it as a pytest plugin; put your own fixtures there.
Its modules are plugins of their own, each loaded only where the project's
answers (_project.py) call for it; `pytest --fixtures` lists the fixtures this
project has. With a fixture prefix (_project.FIXTURE_PREFIX), each public name
below starts with it.

- app (app.py): the FastAPI app under test; dependency overrides never outlive
  a test. app_settings, in a generated service: the settings it is built with.
- client (sync_client.py): the default client for `def` tests, TestClient or
  the inline client.
- async_client (async_client.py): httpx.AsyncClient running the app on the
  test's own event loop, for the tests that must share that loop (its
  docstring says which); the loop guard (loop_guard.py) fails a test that
  mixes `client` with a fixture bound to the test's loop, naming the fix.
- db_session, db_engine, test_database_url (database.py): the test database,
  and the session a test shares with the app, rolled back afterwards.
  postgres_server_url (postgres_server.py): the PostgreSQL server the tests
  create their database on. factories (factories.py): polyfactory factories
  saving through db_session. scratch_database_url (migrations.py): an empty
  database for tests that run the migrations themselves.
- cache, test_redis_url (cache.py): the Redis client a test shares with the app.
- outbound (outbound.py): answers the app's outbound HTTP calls (respx).
- background_work (background_work.py): waits for the work the app started
  that outlives its response.
- user (user.py), as_user, authenticated_as (signed_in.py): signed-in users.
"""

from . import _project


def _modules() -> list[str]:
    """The harness's modules this project's answers call for, in load order."""
    database = _project.DATABASE != "none"
    wanted = {
        # Shims for the older releases an adopted project keeps.
        "compat": True,
        # Before the app is imported: with a real test Redis, every connection
        # of the run carries its name (the claim's rules, cache.py).
        "redis_database": _project.CACHE,
        # First: it points the app's variables at the test services before the
        # app is imported.
        "environment": _project.DATABASE_FROM_ENVIRONMENT
        or _project.REDIS_FROM_ENVIRONMENT,
        "app": True,
        "sync_client": True,
        "async_client": _project.ASYNC_CLIENT,
        "loop_guard": _project.ASYNC_CLIENT,
        "postgres_server": _project.DATABASE == "postgresql",
        "database": database,
        "factories": database and _project.FACTORIES,
        "migrations": database and bool(_project.ALEMBIC_INI),
        "cache": _project.CACHE,
        "outbound": _project.OUTBOUND_HTTP,
        # After database: its waits end before the database is put back.
        "background_work": _project.BACKGROUND_WORK,
        "user": bool(_project.CURRENT_USER_DEPENDENCY)
        and _project.SCAFFOLD == "service",
        "signed_in": bool(_project.CURRENT_USER_DEPENDENCY),
    }
    return [module for module, loaded in wanted.items() if loaded]


# Named relative to this package, so the harness works wherever tests/ sits.
pytest_plugins = [f"{__name__}.{module}" for module in _modules()]
