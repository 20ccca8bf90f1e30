"""The tests each team writes once the harness is in: adoption's acceptance.

For every layout under existing_apps/, what its team adds after adopting, by
what its app has, written in that team's own async style (anyio markers, the
session loop marker under strict pytest-asyncio or function loop scopes, no
marker where adopting gave the project session loop scopes) and under the
names it gets the harness's fixtures by (`harness_` beside its own):

- every app: a request through `client`, and `asyncio.gather` of 20 requests
  through `async_client`;
- a database (on real PostgreSQL): a write through the API read back in
  `db_session`, a row seeded in `db_session` read through the API, and 20
  writes at once without `db_session`, every row found in the test database
  and the tables empty again for the next test (the test runs twice);
- a WebSocket: a flow that awaits work between messages (the database's, where
  the app has one);
- Redis: the `cache` fixture shared with the app, on a real Redis, and
  requests without it counting in the tests' Redis too.

test_adopt.py runs them with and without `-n 2`. Where teams repeat one
scenario on their own entity, a function writes it from the names.
"""

from string import Template

# ── No database ───────────────────────────────────────────────────────────────

FLAT = """\
import asyncio


def test_ping_through_the_harness_client(client):
    assert client.get("/ping").json() == {"pong": "ok"}


async def test_twenty_pings_at_once(async_client):
    responses = await asyncio.gather(*(async_client.get("/ping") for _ in range(20)))

    assert [r.json() for r in responses] == [{"pong": "ok"}] * 20
"""

SRC_ROUTERS = """\
import asyncio

from httpx_ws import aconnect_ws


def test_an_unknown_item_is_404(client):
    assert client.get("/items/9").status_code == 404


async def test_twenty_item_reads_at_once(async_client):
    responses = await asyncio.gather(
        *(async_client.get(f"/items/{1 + n % 2}") for n in range(20))
    )

    assert [r.json()["name"] for r in responses] == ["kettle", "teapot"] * 10


async def test_the_echo_over_the_async_client(async_client):
    async with aconnect_ws("/ws/echo", async_client) as ws:
        await ws.send_text("quiet")

        assert await ws.receive_text() == "QUIET"
"""

# The greeter's factory opens a Redis client in its lifespan from
# GREETER_REDIS_URL (redis_url_env points it at the tests' Redis).
FACTORY = """\
import asyncio

import pytest


def test_the_harness_instance_greets_by_default(client):
    assert client.get("/greet/Bo").json() == {"message": "Hello, Bo!", "visits": 1}


@pytest.mark.anyio
async def test_visits_counted_in_the_tests_cache(cache, async_client):
    await cache.set("visits:Ada", 41)

    response = await async_client.get("/greet/Ada")

    assert response.json()["visits"] == 42
    assert await cache.get("visits:Ada") == "42"


@pytest.mark.anyio
@pytest.mark.parametrize("run", ["first", "second"])
async def test_twenty_greetings_at_once(async_client, run):
    responses = await asyncio.gather(
        *(async_client.get("/greet/guest") for _ in range(20))
    )

    assert {r.json()["message"] for r in responses} == {"Hello, guest!"}
    assert sorted(r.json()["visits"] for r in responses) == list(range(1, 21))
"""

PYTEST9_NATIVE = """\
import asyncio


def test_a_note_through_the_harness_client(client):
    created = client.post("/notes", json={"text": "call back"}).json()

    assert client.get(f"/notes/{created['id']}").json() == created


async def test_twenty_reads_of_a_note_at_once(async_client):
    created = (await async_client.post("/notes", json={"text": "shared"})).json()

    responses = await asyncio.gather(
        *(async_client.get(f"/notes/{created['id']}") for _ in range(20))
    )

    assert [r.json() for r in responses] == [created] * 20
"""

ANYIO_SUITE = """\
import asyncio

import pytest
from chat.main import MESSAGES
from httpx_ws import aconnect_ws

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def empty_room():
    MESSAGES.clear()


async def test_twenty_readers_at_once(async_client):
    await async_client.post("/messages", json={"text": "hello"})

    responses = await asyncio.gather(
        *(async_client.get("/messages") for _ in range(20))
    )

    assert [r.json() for r in responses] == [["hello"]] * 20


async def test_the_room_counts_what_is_posted_between_messages(async_client):
    async with aconnect_ws("/ws", async_client) as ws:
        await ws.send_text("first")
        assert await ws.receive_text() == "0:first"

        await async_client.post("/messages", json={"text": "posted meanwhile"})
        await ws.send_text("second")

        assert await ws.receive_text() == "1:second"
        await ws.send_text("bye")
"""

STRICT_SETUP_CFG = """\
import asyncio

import pytest


def test_an_unknown_item_through_the_harness_client(client):
    assert client.post("/reserve/teapot").status_code == 409


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_buyers_at_once_never_oversell(async_client):
    responses = await asyncio.gather(
        *(async_client.post("/reserve/kettle") for _ in range(20))
    )

    assert sorted(r.status_code for r in responses) == [200] * 5 + [409] * 15
"""

PYTEST_INI = """\
import asyncio


def test_status_through_the_harness_client(client):
    assert client.get("/status").json() == {"status": "up"}


async def test_twenty_status_checks_at_once(async_client):
    responses = await asyncio.gather(*(async_client.get("/status") for _ in range(20)))

    assert {r.status_code for r in responses} == {200}
    assert [r.json() for r in responses] == [{"status": "up"}] * 20
"""

# ── A database, Redis and a WebSocket: the ledger ─────────────────────────────


def servers_from_the_apps_configuration(variable_prefix: str) -> str:
    """An autouse fixture pointing the app's own configuration, read by its
    lifespan, at the tests' database and Redis: `<prefix>DATABASE_URL` and
    `<prefix>REDIS_URL`."""
    return Template("""\
@pytest.fixture(autouse=True)
def app_on_the_test_servers(monkeypatch, test_database_url, test_redis_url):
    # Requests without db_session or cache use the app's own configuration,
    # which its lifespan reads: the tests' database and Redis.
    monkeypatch.setenv("${prefix}DATABASE_URL", test_database_url)
    monkeypatch.setenv("${prefix}REDIS_URL", test_redis_url)
""").substitute(prefix=variable_prefix)


def rows_through_the_api_session_and_cache(
    model: str, column: str, path: str, *, marker: str = ""
) -> str:
    """Tests of an app whose POST `path` adds a `model` row (its `column` given)
    and counts it in the cache under `<path>:count`, and whose GET `path` lists
    the rows' `column`: each async test under `marker` (a decorator line, or
    none where the module's pytestmark marks them)."""
    source = Template("""\
${marker}async def test_posted_is_in_the_tests_session(db_session, async_client):
    await async_client.post("/${path}", json={"${column}": "posted"})

    assert list(await db_session.scalars(select(${model}.${column}))) == ["posted"]


${marker}async def test_rows_added_are_what_the_app_lists(db_session, async_client):
    db_session.add(${model}(${column}="seeded"))
    await db_session.flush()

    response = await async_client.get("/${path}")

    assert response.json() == ["seeded"]


${marker}async def test_counted_in_the_tests_cache(db_session, cache, async_client):
    await cache.set("${path}:count", 41)

    response = await async_client.post("/${path}", json={"${column}": "x"})

    assert response.json()["count"] == 42
    assert await cache.get("${path}:count") == "42"


async def ${column}s_in(db_engine):
    async with db_engine.connect() as connection:
        return sorted(await connection.scalars(select(${model}.${column})))


@pytest.mark.parametrize("run", ["first", "second"])
${marker}async def test_twenty_posted_at_once_all_land(db_engine, async_client, run):
    assert await ${column}s_in(db_engine) == []
    ${column}s = [f"{run} {n:02}" for n in range(20)]

    responses = await asyncio.gather(
        *(async_client.post("/${path}", json={"${column}": x}) for x in ${column}s)
    )

    assert sorted(r.json()["count"] for r in responses) == list(range(1, 21))
    assert await ${column}s_in(db_engine) == ${column}s
""")
    return source.substitute(
        marker=f"{marker}\n" if marker else "", model=model, column=column, path=path
    )


LEDGER = f"""\
import asyncio

import pytest
from httpx_ws import aconnect_ws
from ledger.models import Entry
from sqlalchemy import func, select

# The harness's async fixtures live on the session's event loop; this project's
# own tests keep the loop scope they had.
pytestmark = pytest.mark.asyncio(loop_scope="session")


{servers_from_the_apps_configuration("LEDGER_")}

{rows_through_the_api_session_and_cache("Entry", "text", "entries")}

async def test_the_till_records_between_the_tests_own_queries(
    db_session, async_client
):
    async with aconnect_ws("/till", async_client) as till:
        await till.send_text("coffee")
        assert await till.receive_json() == {{"recorded": "coffee", "entries": 1}}

        assert list(await db_session.scalars(select(Entry.text))) == ["coffee"]
        db_session.add(Entry(text="refund"))
        await db_session.flush()
        await till.send_text("cake")

        assert await till.receive_json() == {{"recorded": "cake", "entries": 3}}
    total = await db_session.scalar(select(func.count()).select_from(Entry))
    assert total == 3
"""

# ── A database the app's engine reaches at import ─────────────────────────────


# The todo team keeps its own `app`, `client` and `db_session`: the harness's
# come prefixed. Its own async fixtures run on function loops, so its tests
# with the harness name the session's loop.
def round_trips_through_prefixed_fixtures(model: str, column: str, path: str) -> str:
    """Tests, through the harness's `harness_`-prefixed fixtures, of an app whose
    POST `path` adds a `model` row (its `column` given, 201) and whose GET `path`
    lists the rows' `column`: written by the API and read in the session, seeded
    in the session and read by the API, and twenty at once, run twice."""
    return Template("""\
async def test_written_through_the_api_read_in_the_session(
    harness_db_session, harness_async_client
):
    await harness_async_client.post("/${path}", json={"${column}": "via api"})

    ${column}s = await harness_db_session.scalars(select(${model}.${column}))

    assert list(${column}s) == ["via api"]


async def test_seeded_in_the_session_read_through_the_api(
    harness_db_session, harness_async_client
):
    harness_db_session.add(${model}(${column}="seeded"))
    await harness_db_session.flush()

    response = await harness_async_client.get("/${path}")

    assert response.json() == ["seeded"]


async def ${column}s_in(engine):
    async with engine.connect() as connection:
        return sorted(await connection.scalars(select(${model}.${column})))


@pytest.mark.parametrize("run", ["first", "second"])
async def test_twenty_${path}_added_at_once_all_land(
    harness_db_engine, harness_async_client, run
):
    assert await ${column}s_in(harness_db_engine) == []
    ${column}s = [f"{run} {n:02}" for n in range(20)]

    responses = await asyncio.gather(
        *(
            harness_async_client.post("/${path}", json={"${column}": value})
            for value in ${column}s
        )
    )

    assert [r.status_code for r in responses] == [201] * 20
    assert await ${column}s_in(harness_db_engine) == ${column}s
""").substitute(model=model, column=column, path=path)


TODO = f"""\
import asyncio

import pytest
from sqlalchemy import select
from todo.db import Task

pytestmark = pytest.mark.asyncio(loop_scope="session")


{round_trips_through_prefixed_fixtures("Task", "title", "tasks")}"""

# A test that mixes the prefixed sync client with the shared session: the
# loop guard stops it, in the names the team uses.
TODO_WRONG_MIX = """\
def test_sync_client_with_the_shared_session(harness_client, harness_db_session):
    harness_client.get("/tasks")
"""

# Billing's tables live in a PostgreSQL schema; the project had no
# pytest-asyncio, so adopting gave it session loop scopes: no markers.
BILLING = """\
import asyncio

import pytest
from billing.models import Customer, Invoice
from sqlalchemy import func, select


async def test_written_through_the_api_read_in_the_session(db_session, async_client):
    await async_client.post("/invoices", json={"customer": "ada", "cents": 250})

    assert list(await db_session.scalars(select(Invoice.cents))) == [250]


async def test_seeded_in_the_session_read_through_the_api(db_session, async_client):
    customer = Customer(name="bob")
    db_session.add(customer)
    await db_session.flush()
    db_session.add_all([Invoice(customer_id=customer.id, cents=c) for c in (1, 2)])
    await db_session.flush()

    response = await async_client.get("/customers/bob/total")

    assert response.json() == {"cents": 3}


async def invoices_in(db_engine):
    async with db_engine.connect() as connection:
        query = select(func.count(), func.coalesce(func.sum(Invoice.cents), 0))
        return tuple((await connection.execute(query)).one())


@pytest.mark.parametrize("run", ["first", "second"])
async def test_twenty_invoices_at_once_all_land(db_engine, async_client, run):
    assert await invoices_in(db_engine) == (0, 0)

    responses = await asyncio.gather(
        *(
            async_client.post("/invoices", json={"customer": f"c{n}", "cents": n})
            for n in range(1, 21)
        )
    )

    assert [r.status_code for r in responses] == [201] * 20
    assert await invoices_in(db_engine) == (20, sum(range(1, 21)))
    response = await async_client.get("/customers/c20/total")
    assert response.json() == {"cents": 20}
"""

# ── Old pinned stacks (pytest 7, pytest-asyncio before 0.24) ──────────────────

# The depot's suite runs on pytest-asyncio 0.20 in strict mode, one session
# `event_loop` of its own: the team marks each async test as it always has.
MARKED = "@pytest.mark.asyncio"
DEPOT = f"""\
import asyncio

import pytest
from depot.models import Parcel
from sqlalchemy import select


{servers_from_the_apps_configuration("DEPOT_")}

def test_health_through_the_harness_client(client):
    assert client.get("/health").json() == {{"status": "ok"}}


{rows_through_the_api_session_and_cache("Parcel", "label", "parcels", marker=MARKED)}"""

# Tally's suite runs on pytest-asyncio 0.21 in auto mode, with a class-scoped
# `event_loop` in its test class: the team's new tests need no marker, and a
# class of them keeps its own loop for its own class-scoped fixtures.
TALLY = """\
import asyncio

import pytest
import pytest_asyncio


def test_an_unknown_poll_through_the_harness_client(client):
    assert client.get("/polls/none").json() == {"poll": "none", "votes": 0}


async def test_twenty_votes_at_once_are_all_counted(async_client):
    before = (await async_client.get("/polls/fair")).json()["votes"]

    responses = await asyncio.gather(
        *(async_client.post("/polls/fair/votes") for _ in range(20))
    )

    assert sorted(r.json()["votes"] for r in responses) == [
        before + n for n in range(1, 21)
    ]


class TestAPollWithTheHarness:
    @pytest.fixture(scope="class")
    def event_loop(self):
        loop = asyncio.get_event_loop_policy().new_event_loop()
        yield loop
        loop.close()

    @pytest_asyncio.fixture(scope="class")
    async def poll(self):
        await asyncio.sleep(0)
        return "picnic"

    async def test_votes_at_once_beside_a_class_fixture(self, poll, async_client):
        responses = await asyncio.gather(
            *(async_client.post(f"/polls/{poll}/votes") for _ in range(5))
        )

        assert sorted(r.json()["votes"] for r in responses) == [1, 2, 3, 4, 5]
"""

# The shelf's suite runs on anyio 3.6's pytest plugin with a function-scoped
# `anyio_backend` of its own: the team marks its tests anyio, as always.
SHELF = """\
import anyio
import pytest


def test_an_unknown_book_through_the_harness_client(client):
    assert client.get("/books/9").status_code == 404


@pytest.mark.anyio
async def test_twenty_reads_at_once(async_client):
    titles = []

    async def read():
        titles.append((await async_client.get("/books/1")).json()["title"])

    async with anyio.create_task_group() as readers:
        for _ in range(20):
            readers.start_soon(read)

    assert titles == ["Dune"] * 20
"""


# src_requirements: its requirements in src/requirements*.txt, the app run
# from src/.
CATALOG = """\
import asyncio


def test_a_product_through_the_harness_client(client):
    created = client.post("/products", json={"name": "tray", "price_cents": 900})

    assert client.get(f"/products/{created.json()['id']}").json()["name"] == "tray"


async def test_twenty_reads_at_once(async_client):
    responses = await asyncio.gather(
        *(async_client.get("/products/1") for _ in range(20))
    )

    assert {r.json()["name"] for r in responses} == {"kettle"}
"""

# pep735_groups: its test dependencies in a PEP 735 `test` group, auto mode.
JOURNAL = """\
import asyncio

import pytest


def test_an_entry_through_the_harness_client(client):
    client.post("/entries", json={"day": "2024-06-02", "text": "sun"})

    assert {"day": "2024-06-02", "text": "sun"} in client.get(
        "/entries/2024-06-02"
    ).json()


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_entries_at_once_are_all_kept(async_client):
    day = "2024-06-03"
    await asyncio.gather(
        *(
            async_client.post("/entries", json={"day": day, "text": str(n)})
            for n in range(20)
        )
    )

    listed = (await async_client.get(f"/entries/{day}")).json()
    assert sorted(int(entry["text"]) for entry in listed) == list(range(20))
"""

# poetry_dev_group: Poetry's dev group holds its test dependencies.
HELPDESK = """\
import asyncio


def test_a_ticket_through_the_harness_client(client):
    number = client.post("/tickets", json={"subject": "badge"}).json()["number"]

    assert client.get(f"/tickets/{number}").json()["subject"] == "badge"


async def test_twenty_tickets_opened_at_once_get_their_own_numbers(async_client):
    responses = await asyncio.gather(
        *(async_client.post("/tickets", json={"subject": str(n)}) for n in range(20))
    )

    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 20
"""

# ── Tests in src/tests, beside the project's own client ──────────────────────

# The depot team's tests are a package under src/, its conftest star-imports a
# `client` of its own that leaves its overrides on the app: the harness's come
# prefixed, and start from the overrides they expect. The project had no
# pytest-asyncio: session loop scopes, no markers.
SRC_TESTS = f"""\
import asyncio

import pytest
from depot.models import Parcel
from sqlalchemy import select


def test_a_parcel_through_the_harness_client(harness_client):
    harness_client.post("/parcels", json={{"label": "via client"}})

    assert harness_client.get("/parcels").json() == ["via client"]


{round_trips_through_prefixed_fixtures("Parcel", "label", "parcels")}

async def test_scans_counted_in_the_shared_cache(harness_cache, harness_async_client):
    await harness_cache.set("scans:3", "4")

    response = await harness_async_client.post("/parcels/3/scans")

    assert response.json() == {{"scans": 5}}
    assert await harness_cache.get("scans:3") == "5"
"""
