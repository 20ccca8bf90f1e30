def test_greets_politely(polite_client) -> None:
    response = polite_client.get("/greet/Ada")

    assert response.json() == {"message": "Good day, Ada!", "visits": 1}


def test_counts_each_visit(polite_client) -> None:
    polite_client.get("/greet/Ada")

    assert polite_client.get("/greet/Ada").json()["visits"] == 2
