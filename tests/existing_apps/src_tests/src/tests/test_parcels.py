def test_a_parcel_added_is_listed(client):
    client.post("/parcels", json={"label": "books"})

    assert client.get("/parcels").json() == ["books"]


def test_each_test_starts_with_no_parcels(client):
    assert client.get("/parcels").json() == []


def test_scans_are_counted_in_redis(client, redis_client):
    client.post("/parcels/7/scans")
    client.post("/parcels/7/scans")

    assert client.get("/parcels/7/scans").json() == {"scans": 2}
    assert redis_client.get("scans:7") == "2"
