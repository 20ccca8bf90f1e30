from todo.db import Task


async def test_a_task_added_is_read_back(client):
    created = (await client.post("/tasks", json={"title": "write tests"})).json()

    response = await client.get(f"/tasks/{created['id']}")

    assert response.json()["title"] == "write tests"


async def test_tasks_seeded_in_the_session_are_listed(client, db_session):
    db_session.add(Task(title="seeded"))
    await db_session.commit()

    assert (await client.get("/tasks")).json() == ["seeded"]


async def test_an_unknown_task_is_404(client):
    assert (await client.get("/tasks/41")).status_code == 404
