def test_greets_politely(polite_client) -> None:
    response = polite_client.get("/greet/Ada")

    assert response.json() == {"message": "Good day, Ada!"}
