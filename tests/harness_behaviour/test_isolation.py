"""Isolation attacks: nothing a test writes reaches the next test, whatever path.

An attack module is added to a generated project: every test first checks that
the database, the cache and the app's overrides are as a fresh test finds them,
then writes through one path (db_session, db_engine beside db_session, the app's
own session factory, client, async_client, concurrent requests, the cache
fixture, the app's own Redis client, dependency overrides). The module runs in
file order and reversed, so each test's leftovers meet a checking test in one
of the runs. On PostgreSQL with a real Redis, and on SQLite with fakeredis.
Misuse that cannot be isolated (one session used by two tasks at once) must
fail where it happens and leave the next test clean.
"""

import textwrap
from pathlib import Path

import pytest
from rendering import (
    assert_suite_passes,
    outcome_counts,
    render,
    required_redis_url,
    run_suite,
    server_environment,
    suite_environment,
)

# Every test of the attack module checks first, then writes through its path.
ATTACKS = """\
    import asyncio

    from sqlalchemy import text

    from my_service.models import Item
    from my_service.routers.greetings import hello


    def assert_fresh(items, hits, app):
        assert items == [], f"rows left by an earlier test: {items}"
        assert hits == 0, f"a counter left by an earlier test: {hits}"
        assert hello not in app.dependency_overrides, "an override leaked"


    def check_with_client(client, app):
        assert_fresh(
            client.get("/items").json(),
            client.get("/counters/leak").json()["hits"],
            app,
        )


    async def check_with_async_client(async_client, app):
        assert_fresh(
            (await async_client.get("/items")).json(),
            (await async_client.get("/counters/leak")).json()["hits"],
            app,
        )


    async def test_commits_through_db_session(db_session, async_client, app):
        await check_with_async_client(async_client, app)
        db_session.add(Item(name="db_session"))
        await db_session.commit()


    async def test_commits_through_db_engine_beside_db_session(
        db_session, db_engine, async_client, app
    ):
        await check_with_async_client(async_client, app)
        async with db_engine.begin() as connection:
            await connection.execute(Item.__table__.insert().values(name="engine"))


    async def test_commits_sql_text_naming_the_default_schema(
        db_engine, async_client, app
    ):
        await check_with_async_client(async_client, app)
        schema = "main" if db_engine.dialect.name == "sqlite" else "public"
        async with db_engine.begin() as connection:
            # Qualified, in capitals: still the table items.
            await connection.execute(
                text(f"INSERT INTO {schema}.ITEMS (name, quantity) VALUES ('x', 1)")
            )


    async def test_commits_through_the_apps_session_factory(
        db_session, async_client, app
    ):
        await check_with_async_client(async_client, app)
        async with app.state.db_sessions() as session:
            session.add(Item(name="factory"))
            await session.commit()


    def test_writes_through_client(client, app):
        check_with_client(client, app)
        assert client.post("/items", json={"name": "client"}).status_code == 201
        assert client.post("/counters/leak/hits").json()["hits"] == 1
        app.dependency_overrides[hello] = lambda: {"message": "client"}


    async def test_writes_through_async_client(async_client, app):
        await check_with_async_client(async_client, app)
        response = await async_client.post("/items", json={"name": "async"})
        assert response.status_code == 201
        assert (await async_client.post("/counters/leak/hits")).json()["hits"] == 1
        app.dependency_overrides[hello] = lambda: {"message": "async"}


    async def test_writes_through_concurrent_requests(async_client, app):
        await check_with_async_client(async_client, app)
        responses = await asyncio.gather(
            *(async_client.post("/items", json={"name": f"n{n}"}) for n in range(10)),
            *(async_client.post("/counters/leak/hits") for _ in range(10)),
        )
        assert {response.status_code for response in responses} == {200, 201}


    async def test_writes_through_the_cache_fixture(cache, async_client, app):
        await check_with_async_client(async_client, app)
        await cache.incr("counter:leak")
    """

# Only with a real Redis: the app's own client (with fakeredis it is never used).
ATTACKS_ON_REAL_REDIS = """\


    async def test_writes_through_the_apps_own_redis_client(async_client, app):
        await check_with_async_client(async_client, app)
        await app.state.cache.incr("counter:leak")
    """

REVERSED_ORDER_PLUGIN = """\
    def pytest_collection_modifyitems(items):
        items.reverse()
    """

# Misuse: two tasks in one session at once, and a task left running after the
# test; the next test must find a clean, usable session.
MISUSE = """\
    import asyncio

    from sqlalchemy import func, select, text

    from my_service.models import Item


    async def test_gathers_requests_that_share_db_session(db_session, async_client):
        await asyncio.gather(
            *(async_client.post("/items", json={"name": f"g{n}"}) for n in range(5))
        )


    async def test_leaves_a_task_running_in_db_session(db_session):
        asyncio.get_running_loop().create_task(
            db_session.execute(text("SELECT pg_sleep(2)"))
        )
        await asyncio.sleep(0.1)


    async def test_runs_next_on_a_clean_session(db_session, async_client):
        assert await db_session.scalar(select(func.count()).select_from(Item)) == 0
        assert (await async_client.get("/items")).json() == []
        response = await async_client.post("/items", json={"name": "after"})
        assert response.status_code == 201
    """

ANSWERS = {
    "postgresql": {"async_db": "postgresql", "cache": "redis", "concurrency": True},
    "sqlite": {"async_db": "sqlite", "cache": "redis", "concurrency": True},
}


def add_test_file(project: Path, name: str, source: str) -> None:
    (project / "tests" / name).write_text(textwrap.dedent(source))


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest) -> str:
    """The database of the projects below: each of their tests runs on both."""
    return request.param


@pytest.fixture(scope="module")
def attacked(
    database: str, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A project with the attack module, and the servers it runs against."""
    answers = ANSWERS[database]
    project = render(template, tmp_path_factory.mktemp(database) / "svc", answers)
    attacks = ATTACKS
    env = suite_environment(project)
    if database == "postgresql":
        env = server_environment(project, answers, "isolation")
        env["TEST_REDIS_URL"] = required_redis_url()
        attacks += ATTACKS_ON_REAL_REDIS
    add_test_file(project, "test_attacks.py", attacks)
    add_test_file(project, "reversed_order.py", REVERSED_ORDER_PLUGIN)
    return project, env


@pytest.mark.parametrize("order", ["file-order", "reversed"])
def test_nothing_a_test_writes_reaches_the_next_test(
    attacked: tuple[Path, dict[str, str]], order: str
) -> None:
    project, env = attacked
    plugin = ["-p", "tests.reversed_order"] if order == "reversed" else []

    result = run_suite(
        project, "tests/test_attacks.py", "-p", "no:xdist", *plugin, env=env
    )

    assert_suite_passes(result, at_least=7)


def test_one_session_used_by_two_tasks_fails_there_and_the_next_test_is_clean(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    answers = ANSWERS["postgresql"]
    project = render(template, tmp_path_factory.mktemp("misuse") / "svc", answers)
    add_test_file(project, "test_misuse.py", MISUSE)
    env = server_environment(project, answers, "misuse")

    result = run_suite(project, "tests/test_misuse.py", "-p", "no:xdist", "-v", env=env)

    output = result.stdout + result.stderr
    assert outcome_counts(result.stdout) == {"passed": 2, "failed": 1}, output
    assert "test_gathers_requests_that_share_db_session FAILED" in output
    assert "db_session was used by two tasks at once" in output
    assert "test_runs_next_on_a_clean_session PASSED" in output
    assert "current transaction is aborted" not in output
    assert "another operation is in progress" not in output


# ── What a test changed is put back, and only that ──────────────────────────
# A migration seeds two items; every test checks it finds them, and that the
# next item it inserts, whatever the path, is numbered 3.
SEED_MIGRATION = '''\
    """Seed two items.

    Revision ID: 0009
    Revises: {head}
    """

    import sqlalchemy as sa
    from alembic import op

    revision = "0009"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        items = sa.table("items", sa.column("name"), sa.column("quantity"))
        seeds = [{{"name": "seeded-a", "quantity": 1}}, {{"name": "seeded-b"}}]
        op.bulk_insert(items, [{{"quantity": 2, **seed}} for seed in seeds])


    def downgrade() -> None:
        op.execute("DELETE FROM items")
    '''
SEEDED_START = """\
    import asyncio

    import pytest
    from sqlalchemy import select, text, update
    from sqlalchemy.exc import DBAPIError

    from my_service.models import Item

    SEEDS = ["seeded-a", "seeded-b"]


    async def seeded(db_engine):
        async with db_engine.connect() as connection:
            rows = await connection.execute(select(Item.name).order_by(Item.id))
            return [name for (name,) in rows]


    async def flushed_number(db_session, name):
        item = Item(name=name)
        db_session.add(item)
        await db_session.flush()
        return item.id


    async def test_inserts_through_db_session(db_session, db_engine):
        assert await seeded(db_engine) == SEEDS
        assert await flushed_number(db_session, "session") == 3


    async def test_inserts_then_fails_a_statement_in_db_session(db_session, db_engine):
        assert await seeded(db_engine) == SEEDS
        assert await flushed_number(db_session, "doomed") == 3
        with pytest.raises(DBAPIError):
            await db_session.execute(text("SELECT no_such_column FROM items"))


    def test_inserts_through_client(client):
        assert [item["name"] for item in client.get("/items").json()] == SEEDS
        assert client.post("/items", json={"name": "client"}).json()["id"] == 3


    async def test_inserts_through_async_client(async_client, db_engine):
        assert await seeded(db_engine) == SEEDS
        response = await async_client.post("/items", json={"name": "async"})
        assert response.json()["id"] == 3


    async def test_commits_through_db_engine(db_engine):
        assert await seeded(db_engine) == SEEDS
        async with db_engine.begin() as connection:
            inserted = await connection.execute(
                Item.__table__.insert().values(name="engine").returning(Item.id)
            )
            assert inserted.scalar_one() == 3


    async def test_changes_and_deletes_seeded_rows(db_engine):
        assert await seeded(db_engine) == SEEDS
        async with db_engine.begin() as connection:
            await connection.execute(update(Item).values(name="changed"))
            await connection.execute(Item.__table__.delete().where(Item.id == 1))


    async def test_inserts_concurrently(async_client, db_engine):
        assert await seeded(db_engine) == SEEDS
        responses = await asyncio.gather(
            *(async_client.post("/items", json={"name": f"n{n}"}) for n in range(10))
        )
        assert sorted(r.json()["id"] for r in responses) == list(range(3, 13))
    """
# What the harness runs after each test, seen from the server's side.
WHAT_PUTTING_BACK_COSTS = """\
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from my_service.models import Item
    from tests.harness import _project

    # PostgreSQL's sequences are not transactional: a rolled-back insert moved one.
    SET_BACK = 1 if _project.DATABASE == "postgresql" else 0
    STATEMENTS = []


    @event.listens_for(Engine, "before_cursor_execute")
    def _seen(connection, cursor, statement, parameters, context, executemany):
        STATEMENTS.append(" ".join(statement.split()).upper())


    def ran(prefix):
        return [s for s in STATEMENTS if s.startswith(prefix)]


    async def test_reads_through_db_session(db_session, async_client):
        STATEMENTS.clear()
        assert (await async_client.get("/items")).json()[0]["name"] == "seeded-a"


    def test_then_nothing_was_put_back():
        assert ran("DELETE") == ran("INSERT") == ran("SELECT SETVAL") == []


    async def test_inserts_through_db_session(db_session, async_client):
        STATEMENTS.clear()
        db_session.add(Item(name="rolled back"))
        await db_session.flush()


    def test_then_only_its_sequence_was_set_back():
        assert ran("DELETE") == []
        assert len(ran("INSERT")) == 1  # the test's own, rolled back
        assert len(ran("SELECT SETVAL")) == SET_BACK


    def test_commits_an_item_through_client(client):
        STATEMENTS.clear()
        assert client.post("/items", json={"name": "kept"}).status_code == 201


    def test_then_items_alone_was_put_back():
        assert ran("DELETE FROM ITEMS") != []
        assert ran("DELETE FROM USERS") == []
    """


@pytest.fixture(scope="module")
def seeded(
    database: str, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A project whose migrations seed two items, with the modules above."""
    answers = {"async_db": database, "migrations": "alembic", "auth": "bearer"}
    project = render(template, tmp_path_factory.mktemp(database) / "svc", answers)
    versions = project / "migrations" / "versions"
    head = "0002_users"  # the users table's revision, after the items table's
    assert (versions / "0002_create_users.py").exists()
    (versions / "0009_seed_items.py").write_text(
        textwrap.dedent(SEED_MIGRATION.format(head=head))
    )
    add_test_file(project, "test_seeded_start.py", SEEDED_START)
    add_test_file(project, "test_putting_back_costs.py", WHAT_PUTTING_BACK_COSTS)
    add_test_file(project, "reversed_order.py", REVERSED_ORDER_PLUGIN)
    return project, server_environment(project, answers, f"seeded_{database}")


def test_seeded_rows_and_sequences_are_as_migrated_at_every_test_start(
    seeded: tuple[Path, dict[str, str]],
) -> None:
    project, env = seeded
    for order in ([], ["-p", "tests.reversed_order"], ["-n", "2"]):
        flags = order if order == ["-n", "2"] else ["-p", "no:xdist", *order]
        result = run_suite(project, "tests/test_seeded_start.py", *flags, env=env)
        assert_suite_passes(result, at_least=7)


def test_a_test_that_leaked_nothing_pays_nothing_after_it(
    seeded: tuple[Path, dict[str, str]],
) -> None:
    project, env = seeded
    result = run_suite(
        project, "tests/test_putting_back_costs.py", "-p", "no:xdist", env=env
    )

    assert_suite_passes(result, at_least=6)
