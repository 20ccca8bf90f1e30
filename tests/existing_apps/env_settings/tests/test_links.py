import uuid


def test_a_link_is_resolved_then_served_from_the_cache(client):
    code = uuid.uuid4().hex[:8]
    client.post("/links", json={"code": code, "target": "https://example.com/a"})

    first = client.get(f"/links/{code}").json()
    second = client.get(f"/links/{code}").json()

    assert (first["cached"], second["cached"]) == (False, True)
    assert second == {"target": "https://example.com/a", "cached": True, "visits": 2}


def test_an_unknown_link_is_404(client):
    assert client.get("/links/nowhere").status_code == 404


def test_visits_are_counted(client):
    code = uuid.uuid4().hex[:8]
    client.post(f"/links/{code}/visits")
    client.post(f"/links/{code}/visits")

    assert client.get(f"/links/{code}/visits").json() == {"visits": 2}
