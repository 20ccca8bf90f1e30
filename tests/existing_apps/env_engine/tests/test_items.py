def test_an_item_added_is_read_back(client):
    created = client.post("/items", json={"name": "bolts"}).json()

    assert client.get(f"/items/{created['id']}").json()["name"] == "bolts"


def test_an_unknown_item_is_404(client):
    assert client.get("/items/0").status_code == 404


def test_the_feed_counts_what_it_adds(client):
    with client.websocket_connect("/ws/items") as feed:
        feed.send_json({"add": "nuts"})
        first = feed.receive_json()["count"]
        feed.send_json({"add": "washers"})

        assert feed.receive_json()["count"] == first + 1
