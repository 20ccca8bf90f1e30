def test_a_jar_stocked_is_on_the_shelf(api):
    jar = api.post("/jars", json={"name": "lentils", "count": 2}).json()

    assert jar in api.get("/jars").json()


def test_taking_from_a_jar_until_it_is_empty(api):
    jar = api.post("/jars", json={"name": "oats", "count": 1}).json()

    assert api.post(f"/jars/{jar['id']}/take").json()["count"] == 0
    assert api.post(f"/jars/{jar['id']}/take").status_code == 409


def test_a_restock_naming_an_unknown_jar_changes_nothing(api):
    jar = api.post("/jars", json={"name": "rice", "count": 1}).json()

    deliveries = [{"id": jar["id"], "add": 5}, {"id": 0, "add": 1}]

    response = api.post("/restock", json=deliveries)

    assert response.status_code == 404
    assert jar in api.get("/jars").json()


def test_a_jar_is_read_by_its_id(api):
    jar = api.post("/jars", json={"name": "flour", "count": 4}).json()

    assert api.get(f"/jars/{jar['id']}").json() == jar


def test_an_unknown_jar_is_404(api):
    assert api.get("/jars/0").status_code == 404
    assert api.post("/jars/0/take").status_code == 404
